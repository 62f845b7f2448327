/* --resume: the records an earlier run left in its JSON-lines or CSV output, read
 * back so that their inputs are skipped (every record counts, those of failed
 * inputs too: delete a record to classify its input again) and their classes
 * still count toward the accuracy. A run killed while writing can leave its last
 * record cut short; that part is removed from the file before the run appends. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "dataset.h"
#include "escape.h"

static int by_input(const void *a, const void *b) {
  return strcmp(((const cli_done *)a)->input, ((const cli_done *)b)->input);
}

const cli_done *cli_done_find(const cli_done_set *d, const char *input) {
  cli_done key = {.input = (char *)input};
  return d->count ? bsearch(&key, d->items, d->count, sizeof key, by_input) : NULL;
}

void cli_done_free(cli_done_set *d) {
  for (size_t i = 0; i < d->count; i++)
    free(d->items[i].input);
  free(d->items);
  memset(d, 0, sizeof *d);
}

/* The end of the record starting at text (past its newline), or NULL when it is
 * cut short. A CSV record may hold newlines inside quotes. */
static const char *record_end(const char *text, const char *end, bool csv) {
  bool quoted = false;
  for (const char *c = text; c < end; c++) {
    if (csv && *c == '"')
      quoted = !quoted;
    else if (*c == '\n' && !quoted)
      return c + 1;
  }
  return NULL;
}

/* Splits a CSV record into its fields, in place (quotes removed); returns how many
 * (at most max). */
static int csv_fields(char *text, char **fields, int max) {
  int n = 0;
  char *out = text;
  for (char *c = text; n < max;) {
    fields[n++] = out;
    bool quoted = false;
    for (; *c && (quoted || (*c != ',' && *c != '\n' && *c != '\r')); c++) {
      if (*c == '"' && quoted && c[1] == '"')
        *out++ = *c++;
      else if (*c == '"')
        quoted = !quoted;
      else
        *out++ = *c;
    }
    char stop = *c;
    *out++ = '\0';
    if (stop != ',')
      break;
    c++;
  }
  return n;
}

static bool parse_csv(char *text, cli_done *d) {
  char *f[2 + 4 * 5];
  int n = csv_fields(text, f, 2 + 4 * 5);
  if (n < 2)
    return false;
  d->input = strdup(f[0]);
  d->failed = f[1][0] != '\0';
  for (int j = 0; j < 5; j++)
    d->top[j] = !d->failed && 2 + 4 * j < n && f[2 + 4 * j][0] ? atoi(f[2 + 4 * j]) : -1;
  return d->input != NULL;
}

static bool parse_jsonl(const char *text, cli_done *d) {
  cJSON *o = cJSON_Parse(text);
  const cJSON *input = cJSON_GetObjectItemCaseSensitive(o, "input");
  const cJSON *top = cJSON_GetObjectItemCaseSensitive(o, "top");
  bool ok = cJSON_IsString(input);
  if (ok) {
    d->input = strdup(input->valuestring);
    d->failed = cJSON_GetObjectItemCaseSensitive(o, "error") != NULL;
    for (int j = 0; j < 5; j++) {
      const cJSON *c = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(top, j), "class");
      d->top[j] = cJSON_IsNumber(c) ? c->valueint : -1;
    }
    ok = d->input != NULL;
  }
  cJSON_Delete(o);
  return ok;
}

/* Parses the records of text (size bytes, NUL-terminated); *kept is where the last
 * whole record ends. */
static int parse(const char *path, char *text, size_t size, bool csv, cli_done_set *d,
                 size_t *kept) {
  char *end = text + size;
  size_t line = 1, capacity = 0;
  for (char *at = text; at < end; line++) {
    char *next = (char *)record_end(at, end, csv);
    if (!next)
      break;
    next[-1] = '\0';
    *kept = (size_t)(next - text);
    bool header = csv && line == 1 && strncmp(at, "input,error", 11) == 0;
    if (header || at[0] == '\0' || at[0] == '\r') {
      at = next;
      continue;
    }
    if (!cli_reserve((void **)&d->items, &capacity, d->count + 1, sizeof *d->items, 256)) {
      cli_error("out of memory reading %s", path);
      return CLI_EXIT_FAILURE;
    }
    cli_done *r = &d->items[d->count];
    memset(r, 0, sizeof *r);
    if (!(csv ? parse_csv(at, r) : parse_jsonl(at, r))) {
      free(r->input);
      cli_print_line(stderr, "clresnet: --resume: %s: record %zu is not one clresnet writes", path,
                     line);
      return CLI_EXIT_FAILURE;
    }
    d->count++;
    at = next;
  }
  return CLI_EXIT_OK;
}

int cli_resume_read(const char *path, bool csv, cli_done_set *d) {
  memset(d, 0, sizeof *d);
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
    return CLI_EXIT_OK; /* nothing yet, or a terminal or pipe: nothing to skip */
  FILE *f = fopen(path, "rb");
  char *text = malloc((size_t)st.st_size + 1);
  size_t size = f && text ? fread(text, 1, (size_t)st.st_size, f) : 0;
  int status = CLI_EXIT_OK;
  if (!f || !text || ferror(f)) {
    cli_print_line(stderr, "clresnet: --resume: %s: cannot read: %s", path,
                   text ? strerror(errno) : "out of memory");
    status = CLI_EXIT_FAILURE;
  }
  if (f)
    fclose(f);
  size_t kept = 0;
  if (status == CLI_EXIT_OK) {
    text[size] = '\0';
    status = parse(path, text, size, csv, d, &kept);
  }
  if (status == CLI_EXIT_OK && kept < size && truncate(path, (off_t)kept) != 0) {
    cli_print_line(stderr, "clresnet: --resume: %s: cannot remove its last, cut record: %s", path,
                   strerror(errno));
    status = CLI_EXIT_FAILURE;
  }
  free(text);
  if (status == CLI_EXIT_OK)
    qsort(d->items, d->count, sizeof *d->items, by_input);
  else
    cli_done_free(d);
  return status;
}
