/* --truth FILE (alias --ground-truth): the ImageNet validation ground truth as a file
 * name and a class index per line ("ILSVRC2012_val_00000001.JPEG 65"), matched to
 * the inputs by file name, and the top-1 and top-5 accuracy of a run against it.
 * Inputs without an entry are counted apart; failed inputs count as misses. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "escape.h"

struct cli_truth_entry {
  char *name;
  int label;
};

static int by_name(const void *a, const void *b) {
  return strcmp(((const struct cli_truth_entry *)a)->name,
                ((const struct cli_truth_entry *)b)->name);
}

void cli_truth_free(cli_truth *t) {
  for (size_t i = 0; i < t->count; i++)
    free(t->entries[i].name);
  free(t->entries);
  memset(t, 0, sizeof *t);
}

/* Parses "NAME CLASS" (or NAME,CLASS) into *e; false when malformed. */
static bool parse_line(char *line, int classes, struct cli_truth_entry *e) {
  char *end = line + strlen(line);
  while (end > line && strchr(" \t\r\n", end[-1]))
    *--end = '\0';
  char *split = end;
  while (split > line && !strchr(" \t,", split[-1]))
    split--;
  long label;
  if (split == line || !cli_parse_int(split, 0, classes - 1, &label))
    return false;
  char *name_end = split;
  while (name_end > line && strchr(" \t,", name_end[-1]))
    name_end--;
  if (name_end == line)
    return false;
  *name_end = '\0';
  e->name = strdup(line);
  e->label = (int)label;
  return e->name != NULL;
}

int cli_truth_read(const char *path, int classes, cli_truth *t) {
  memset(t, 0, sizeof *t);
  FILE *f = fopen(path, "r");
  if (!f) {
    cli_print_line(stderr, "clresnet: --truth %s: cannot read: %s", path, strerror(errno));
    return CLI_EXIT_FAILURE;
  }
  char *line = NULL;
  size_t size = 0, capacity = 0, number = 0;
  int status = CLI_EXIT_OK;
  for (ssize_t n; status == CLI_EXIT_OK && (n = getline(&line, &size, f)) >= 0;) {
    number++;
    if (line[strspn(line, " \t\r\n")] == '\0' || line[0] == '#')
      continue;
    if (!cli_reserve((void **)&t->entries, &capacity, t->count + 1, sizeof *t->entries, 1024)) {
      cli_error("--truth %s: out of memory", path);
      status = CLI_EXIT_FAILURE;
      break;
    }
    if (parse_line(line, classes, &t->entries[t->count]))
      t->count++;
    else {
      cli_print_line(stderr,
                     "clresnet: --truth %s: line %zu is not a file name and a class index in "
                     "0..%d",
                     path, number, classes - 1);
      status = CLI_EXIT_FAILURE;
    }
  }
  free(line);
  fclose(f);
  if (status == CLI_EXIT_OK)
    qsort(t->entries, t->count, sizeof *t->entries, by_name);
  else
    cli_truth_free(t);
  return status;
}

void cli_truth_count(cli_truth *t, const char *input, const int *top) {
  const char *slash = strrchr(input, '/');
  struct cli_truth_entry key = {(char *)(slash ? slash + 1 : input), 0};
  const struct cli_truth_entry *e =
      t->count ? bsearch(&key, t->entries, t->count, sizeof key, by_name) : NULL;
  if (!e) {
    t->unknown++;
    return;
  }
  t->scored++;
  if (!top) {
    t->failed++;
    return;
  }
  t->top1 += top[0] == e->label;
  for (int j = 0; j < 5; j++)
    if (top[j] == e->label) {
      t->top5++;
      break;
    }
}

void cli_truth_print(const cli_truth *t) {
  double n = t->scored ? (double)t->scored : 1.0;
  printf("accuracy over %zu inputs with ground truth: top-1 %.2f%% (%zu), top-5 %.2f%% (%zu)",
         t->scored, 100.0 * (double)t->top1 / n, t->top1, 100.0 * (double)t->top5 / n, t->top5);
  if (t->failed)
    printf(", %zu failed (counted as misses)", t->failed);
  if (t->unknown)
    printf("; %zu inputs not in the ground truth", t->unknown);
  printf("\n");
}
