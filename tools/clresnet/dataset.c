/* A dataset run of `clresnet run` (dataset.h): prepared before any work (inputs
 * expanded, outputs checked, --resume applied), then batches taken in input order
 * from the decoding pool, the inputs that decoded run on the engine while the pool
 * decodes the next ones, and every input's record streamed out, failed ones with
 * their error. The exit status is 1 when an input failed, and the run goes on. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "dataset.h"
#include "escape.h"

/* No output may be an input, a list, the ground truth or the weights. */
static int check_outputs(const cli_dataset *d, const char *weights) {
  size_t count = d->inputs.count + d->sources.count;
  char **checked = malloc((count + 1) * sizeof *checked);
  if (!checked)
    return cli_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "listing the inputs");
  memcpy(checked, d->inputs.items, d->inputs.count * sizeof *checked);
  if (d->sources.count)
    memcpy(checked + d->inputs.count, d->sources.items, d->sources.count * sizeof *checked);
  if (d->args.truth)
    checked[count++] = (char *)d->args.truth;
  const cli_output outputs[] = {{"--jsonl", d->args.jsonl}, {"--csv", d->args.csv}};
  int status = cli_outputs_check(outputs, 2, weights, checked, count);
  free(checked);
  return status;
}

int cli_dataset_prepare(cli_dataset *d, const cli_dataset_args *args, char *const *operands,
                        int count, const cli_session_args *common, const cli_output *plain,
                        size_t plain_count) {
  memset(d, 0, sizeof *d);
  d->args = *args;
  for (size_t i = 0; i < plain_count; i++)
    if (plain[i].path)
      return cli_usage_error("run",
                             "%s: not in a dataset run (folders, @lists, --jsonl, --csv, "
                             "--resume, --truth); stream the results with --jsonl FILE",
                             plain[i].flag);
  if (common->json)
    return cli_usage_error("run", "--json: a dataset run streams its records: give --jsonl FILE "
                                  "(--jsonl /dev/stdout to print them)");
  if (args->jsonl && args->csv)
    return cli_usage_error("run", "--jsonl and --csv: give one of them");
  const char *out = args->jsonl ? args->jsonl : args->csv;
  if (args->resume && !out)
    return cli_usage_error("run",
                           "--resume: give the output to resume, --jsonl FILE or --csv FILE");
  int status = cli_inputs_expand(operands, count, &d->inputs, &d->sources);
  if (status != CLI_EXIT_OK)
    return status;
  if ((status = check_outputs(d, common->weights)) != CLI_EXIT_OK || !args->resume)
    return status == CLI_EXIT_OK ? CLI_CONTINUE : status;
  if ((status = cli_resume_read(out, args->csv != NULL, &d->done)) != CLI_EXIT_OK)
    return status;
  size_t kept = 0;
  for (size_t i = 0; i < d->inputs.count; i++) {
    if (cli_done_find(&d->done, d->inputs.items[i])) {
      free(d->inputs.items[i]);
      d->skipped++;
    } else {
      d->inputs.items[kept++] = d->inputs.items[i];
    }
  }
  d->inputs.count = kept;
  return CLI_CONTINUE;
}

void cli_dataset_free(cli_dataset *d) {
  cli_paths_free(&d->inputs);
  cli_paths_free(&d->sources);
  cli_done_free(&d->done);
}

/* What the loop over batches needs. */
typedef struct loop {
  cli_dataset *d;
  cli_session *session;
  cli_sink sink;
  cli_truth truth;
  cli_progress progress;
  float *logits, *probs;
  char **names; /* the names of the inputs that decoded, in batch order */
  size_t image; /* floats per image */
  int top, classes;
  const clrn_labels *labels;
  size_t failed;
} loop;

/* Counts input toward the accuracy: row holds its probabilities, NULL when it failed. */
static void score(loop *l, const char *input, const float *row) {
  if (!l->d->args.truth)
    return;
  int best[5] = {-1, -1, -1, -1, -1};
  if (row)
    clrn_top_k(row, l->classes, l->classes < 5 ? l->classes : 5, best);
  cli_truth_count(&l->truth, input, row ? best : NULL);
}

/* Writes one record and counts it; error NULL for an input that ran (row: its
 * probabilities). */
static int record(loop *l, const cli_results *r, int i, const char *error, const float *row) {
  if (error) {
    cli_print_line(stderr, "clresnet: %s", error);
    l->failed++;
  }
  score(l, r->names[i], error ? NULL : row);
  return cli_sink_write(&l->sink, r, i, error);
}

/* Runs the inputs of b that decoded, moved to the front of its buffer, and writes
 * every record of b in input order. */
static int run_batch(loop *l, cli_batch *b) {
  char *const *all = l->d->inputs.items + b->first;
  int ok = 0;
  for (int i = 0; i < b->count; i++) {
    if (b->errors[i])
      continue;
    if (ok != i)
      memcpy(b->pixels + (size_t)ok * l->image, b->pixels + (size_t)i * l->image,
             l->image * sizeof *b->pixels);
    l->names[ok++] = all[i];
  }
  clrn_status s = ok ? clrn_engine_run(l->session->engine, b->pixels, ok, l->logits, l->probs)
                     : CLRN_STATUS_SUCCESS;
  if (s != CLRN_STATUS_SUCCESS)
    return cli_fail(s, "inference");
  cli_results ran = {.names = l->names,
                     .count = ok,
                     .logits = l->logits,
                     .probs = l->probs,
                     .classes = l->classes,
                     .top = l->top,
                     .weights = l->session->weights,
                     .engine = l->session->engine,
                     .labels = l->labels};
  cli_results failed = ran;
  failed.names = all;
  failed.count = b->count;
  int status = CLI_EXIT_OK;
  size_t before = l->failed;
  if (l->sink.kind == CLI_SINK_TEXT && isatty(fileno(stdout)))
    cli_progress_clear(&l->progress); /* the records go where the progress line is */
  for (int i = 0, j = 0; i < b->count && status == CLI_EXIT_OK; i++) {
    if (b->errors[i]) {
      status = record(l, &failed, i, b->errors[i], NULL);
    } else {
      status =
          record(l, &ran, j, cli_result_error(&ran, j), l->probs + (size_t)j * (size_t)l->classes);
      j++;
    }
  }
  cli_progress_add(&l->progress, (size_t)b->count, l->failed - before);
  return status;
}

static int run_all(loop *l, const cli_session_args *common, const clrn_preprocess *pre) {
  cli_dataset *d = l->d;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  int threads = d->args.threads ? (int)d->args.threads : cores > 0 ? (int)cores : 1;
  int batch = (int)common->batch;
  int window = 2 + (threads + batch - 1) / batch;
  l->logits = malloc((size_t)batch * (size_t)l->classes * sizeof *l->logits);
  l->probs = malloc((size_t)batch * (size_t)l->classes * sizeof *l->probs);
  l->names = malloc((size_t)batch * sizeof *l->names);
  if (!l->logits || !l->probs || !l->names)
    return cli_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "the results");
  cli_pool *pool = NULL;
  int status = cli_pool_start(d->inputs.items, d->inputs.count, batch, window, threads, pre, &pool);
  cli_progress_start(&l->progress, d->inputs.count);
  cli_batch b;
  while (status == CLI_EXIT_OK && cli_pool_next(pool, &b)) {
    status = run_batch(l, &b);
    cli_pool_release(pool);
  }
  cli_pool_stop(pool);
  cli_progress_end(&l->progress);
  return status;
}

int cli_dataset_run(cli_dataset *d, cli_session *session, const cli_session_args *common, int top,
                    const clrn_preprocess *pre, const clrn_labels *labels) {
  loop l = {.d = d, .session = session, .top = top, .labels = labels};
  l.classes = clrn_weights_num_classes(session->weights);
  l.image = 3 * (size_t)pre->crop * (size_t)pre->crop;
  int status = CLI_EXIT_OK;
  if (d->args.truth)
    status = cli_truth_read(d->args.truth, l.classes, &l.truth);
  cli_session_args args = *common;
  if (d->inputs.count < (size_t)args.batch) /* buffers for the inputs there are, no more */
    args.batch = d->inputs.count ? (long)d->inputs.count : 1;
  if (status == CLI_EXIT_OK && d->skipped && cli_verbosity > 0)
    fprintf(stderr, "clresnet: resuming: %zu inputs already done, %zu to go\n", d->skipped,
            d->inputs.count);
  if (status == CLI_EXIT_OK && d->inputs.count)
    status = cli_session_start(session, &args, pre->crop, pre->crop, false);
  const char *out = d->args.jsonl ? d->args.jsonl : d->args.csv;
  cli_sink_kind kind = d->args.jsonl ? CLI_SINK_JSONL : d->args.csv ? CLI_SINK_CSV : CLI_SINK_TEXT;
  if (status == CLI_EXIT_OK &&
      (status = cli_sink_open(&l.sink, kind, out, d->args.resume, top)) == CLI_EXIT_OK) {
    if (d->inputs.count)
      status = run_all(&l, &args, pre);
    int closed = cli_sink_close(&l.sink);
    status = status == CLI_EXIT_OK ? closed : status;
  }
  for (size_t i = 0; status == CLI_EXIT_OK && d->args.truth && i < d->done.count; i++)
    cli_truth_count(&l.truth, d->done.items[i].input,
                    d->done.items[i].failed ? NULL : d->done.items[i].top);
  if (status == CLI_EXIT_OK && d->args.truth)
    cli_truth_print(&l.truth);
  if (status == CLI_EXIT_OK && cli_verbosity >= 2 && session->engine)
    cli_session_report(session);
  cli_truth_free(&l.truth);
  free(l.logits);
  free(l.probs);
  free(l.names);
  return status == CLI_EXIT_OK && l.failed ? CLI_EXIT_FAILURE : status;
}
