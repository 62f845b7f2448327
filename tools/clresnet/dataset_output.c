/* The records of a dataset run, one per input in input order, each written whole
 * and flushed as soon as its batch is done: text on stdout (as `run` prints), JSON
 * lines (one object per line: {"input", "top": [...]} or {"input", "error"}) or CSV
 * (RFC 4180; a header, then input,error,class1,label1,probability1,logit1,...).
 * Files are written in place, not through a temporary renamed at the end, so that
 * what a run killed halfway has done stays there for --resume (dataset_resume.c
 * drops a last line cut short). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "escape.h"

/* A CSV field: quoted, with quotes doubled, when it holds a comma, quote or newline. */
static void put_field(FILE *f, const char *text) {
  if (!strpbrk(text, ",\"\r\n")) {
    fputs(text, f);
    return;
  }
  fputc('"', f);
  for (const char *c = text; *c; c++) {
    if (*c == '"')
      fputc('"', f);
    fputc(*c, f);
  }
  fputc('"', f);
}

static void put_header(FILE *f, int top) {
  fputs("input,error", f);
  for (int j = 1; j <= top; j++)
    fprintf(f, ",class%d,label%d,probability%d,logit%d", j, j, j, j);
  fputc('\n', f);
}

static void put_csv(cli_sink *s, const cli_results *r, int i, const char *error) {
  FILE *f = s->file;
  put_field(f, r->names[i] ? r->names[i] : "?");
  fputc(',', f);
  if (error) {
    put_field(f, error);
    for (int j = 0; j < r->top; j++)
      fputs(",,,,", f);
    fputc('\n', f);
    return;
  }
  const float *p = r->probs + (size_t)i * (size_t)r->classes;
  const float *l = r->logits + (size_t)i * (size_t)r->classes;
  int top = clrn_top_k(p, r->classes, r->top, s->best);
  for (int j = 0; j < top; j++) {
    int c = s->best[j];
    const char *label = clrn_labels_name(r->labels, c);
    fprintf(f, ",%d,", c);
    put_field(f, label ? label : "");
    fprintf(f, ",%.9g,%.9g", p[c], l[c]);
  }
  fputc('\n', f);
}

int cli_sink_open(cli_sink *s, cli_sink_kind kind, const char *path, bool append, int top) {
  memset(s, 0, sizeof *s);
  s->kind = kind;
  s->best = malloc((size_t)top * sizeof *s->best);
  if (!s->best) {
    cli_error("out of memory");
    return CLI_EXIT_FAILURE;
  }
  if (kind == CLI_SINK_TEXT) {
    s->file = stdout;
    return CLI_EXIT_OK;
  }
  s->path = path;
  s->file = fopen(path, append ? "a" : "w");
  if (!s->file) {
    cli_print_line(stderr, "clresnet: %s: cannot write: %s", path, strerror(errno));
    return CLI_EXIT_FAILURE;
  }
  if (kind == CLI_SINK_CSV && (fseek(s->file, 0, SEEK_END) != 0 || ftell(s->file) <= 0))
    put_header(s->file, top);
  return CLI_EXIT_OK;
}

int cli_sink_write(cli_sink *s, const cli_results *r, int i, const char *error) {
  bool ok = true;
  if (s->kind == CLI_SINK_TEXT) {
    cli_print_result_text(s->file, r, i, error, s->best);
  } else if (s->kind == CLI_SINK_CSV) {
    put_csv(s, r, i, error);
  } else {
    struct cJSON *record = cli_result_json(r, i, error, s->best);
    if (record)
      cli_json_round(record);
    ok = record && cli_put_json_line(s->file, record);
    cJSON_Delete(record);
    errno = ok ? errno : ENOMEM;
  }
  if (ok && fflush(s->file) == 0 && !ferror(s->file))
    return CLI_EXIT_OK;
  cli_print_line(stderr, "clresnet: %s: cannot write: %s", s->path ? s->path : "stdout",
                 strerror(errno));
  return CLI_EXIT_FAILURE;
}

int cli_sink_close(cli_sink *s) {
  int status = CLI_EXIT_OK;
  if (s->file && s->file != stdout && fclose(s->file) != 0) {
    cli_print_line(stderr, "clresnet: %s: cannot write: %s", s->path, strerror(errno));
    status = CLI_EXIT_FAILURE;
  }
  free(s->best);
  memset(s, 0, sizeof *s);
  return status;
}
