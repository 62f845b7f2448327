/* The inputs of a dataset run, from its operands: a folder is walked recursively and
 * gives its photos and .npy files, chosen by extension (.jpg, .jpeg, .png, .npy, in
 * any case; names starting with '.' are skipped, links to files followed, links to
 * folders not, so that no cycle can make the walk endless), sorted by path in byte
 * order (as `LC_ALL=C sort`); @FILE reads a list, one input per line, relative
 * paths taken from the list's own folder, blank lines and '#' comments skipped;
 * anything else is an input as given, whatever its name (the decoder looks at the
 * content). The inputs are held as paths only: a few dozen bytes each. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "dataset.h"
#include "escape.h"

bool cli_paths_add(cli_paths *p, const char *text) {
  if (!cli_reserve((void **)&p->items, &p->capacity, p->count + 1, sizeof *p->items, 64))
    return false;
  char *copy = strdup(text);
  if (!copy)
    return false;
  p->items[p->count++] = copy;
  return true;
}

void cli_paths_free(cli_paths *p) {
  for (size_t i = 0; i < p->count; i++)
    free(p->items[i]);
  free(p->items);
  memset(p, 0, sizeof *p);
}

bool cli_dataset_wanted(const cli_dataset_args *a, char *const *inputs, int count) {
  if (a->jsonl || a->csv || a->truth || a->resume || a->threads)
    return true;
  for (int i = 0; i < count; i++) {
    struct stat st;
    if (inputs[i][0] == '@' || (stat(inputs[i], &st) == 0 && S_ISDIR(st.st_mode)))
      return true;
  }
  return false;
}

static bool wanted_name(const char *name) {
  static const char *const extensions[] = {".jpg", ".jpeg", ".png", ".npy"};
  const char *dot = strrchr(name, '.');
  if (name[0] == '.' || !dot)
    return false;
  for (size_t i = 0; i < sizeof extensions / sizeof extensions[0]; i++)
    if (strcasecmp(dot, extensions[i]) == 0)
      return true;
  return false;
}

static int out_of_memory(void) {
  cli_error("out of memory listing the inputs");
  return CLI_EXIT_FAILURE;
}

/* Appends the wanted files under folder dir, in the order readdir gives. */
static int walk(const char *dir, cli_paths *found) {
  DIR *d = opendir(dir);
  if (!d) {
    cli_print_line(stderr, "clresnet: %s: cannot read the folder: %s", dir, strerror(errno));
    return CLI_EXIT_FAILURE;
  }
  int status = CLI_EXIT_OK;
  size_t length = strlen(dir);
  bool slash = length > 0 && dir[length - 1] == '/';
  for (struct dirent *e; status == CLI_EXIT_OK && (e = readdir(d));) {
    if (e->d_name[0] == '.')
      continue;
    char *path = malloc(length + strlen(e->d_name) + 2);
    if (!path) {
      status = out_of_memory();
      break;
    }
    sprintf(path, "%s%s%s", dir, slash ? "" : "/", e->d_name);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
      status = walk(path, found);
    else if (wanted_name(e->d_name) && stat(path, &st) == 0 && !S_ISDIR(st.st_mode) &&
             !cli_paths_add(found, path))
      status = out_of_memory();
    free(path);
  }
  closedir(d);
  return status;
}

static int by_path(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds an operand or a list entry: a folder's files sorted, else the path itself. */
static int add_input(const char *path, cli_paths *inputs) {
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
    return cli_paths_add(inputs, path) ? CLI_EXIT_OK : out_of_memory();
  size_t first = inputs->count;
  int status = walk(path, inputs);
  if (status == CLI_EXIT_OK && inputs->count > first) /* an empty folder adds nothing */
    qsort(inputs->items + first, inputs->count - first, sizeof *inputs->items, by_path);
  return status;
}

/* The entry of a list line: the line itself when absolute or when the list is in
 * the current folder, else the list's folder joined with it. */
static char *list_entry(const char *list, const char *line) {
  const char *slash = strrchr(list, '/');
  int folder = line[0] == '/' || !slash ? 0 : (int)(slash - list) + 1;
  char *path = malloc((size_t)folder + strlen(line) + 1);
  if (path)
    sprintf(path, "%.*s%s", folder, list, line);
  return path;
}

static int read_list(const char *list, cli_paths *inputs) {
  FILE *f = fopen(list, "r");
  if (!f) {
    cli_print_line(stderr, "clresnet: @%s: cannot read the list: %s", list, strerror(errno));
    return CLI_EXIT_FAILURE;
  }
  char *line = NULL;
  size_t size = 0;
  int status = CLI_EXIT_OK;
  for (ssize_t n; status == CLI_EXIT_OK && (n = getline(&line, &size, f)) >= 0;) {
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
      line[--n] = '\0';
    if (n == 0 || line[0] == '#')
      continue;
    char *path = list_entry(list, line);
    status = path ? add_input(path, inputs) : out_of_memory();
    free(path);
  }
  if (status == CLI_EXIT_OK && ferror(f)) {
    cli_print_line(stderr, "clresnet: @%s: cannot read the list: %s", list, strerror(errno));
    status = CLI_EXIT_FAILURE;
  }
  free(line);
  fclose(f);
  return status;
}

int cli_inputs_expand(char *const *operands, int count, cli_paths *inputs, cli_paths *sources) {
  for (int i = 0; i < count; i++) {
    const char *op = operands[i];
    int status;
    if (op[0] == '@' && !op[1])
      return cli_usage_error("run", "'@' names no list file: give @FILE");
    if (op[0] == '@')
      status = cli_paths_add(sources, op + 1) ? read_list(op + 1, inputs) : out_of_memory();
    else
      status = add_input(op, inputs);
    if (status != CLI_EXIT_OK)
      return status;
  }
  if (inputs->count == 0)
    return cli_usage_error("run", "no INPUT found: the folders and lists hold no .jpg, .jpeg, "
                                  ".png or .npy file");
  return CLI_EXIT_OK;
}
