/* A dataset run of `clresnet run` (dataset.h): prepared before any work (inputs
 * expanded, outputs checked, --resume applied), then batches taken in input order
 * from the decoding pool, the inputs that decoded run on the engine while the pool
 * decodes the next ones, and every input's record streamed out, failed ones with
 * their error. The exit status is 1 when an input failed, and the run goes on.
 * In an MPI job (mpi_hooks.h) batch k of the inputs runs on rank k modulo the ranks,
 * which sends its results to rank 0; rank 0 writes every record in input order. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "dataset.h"
#include "escape.h"
#include "mpi_hooks.h"

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

static int prepare(cli_dataset *d, const cli_dataset_args *args, char *const *operands, int count,
                   const cli_session_args *common, const cli_output *plain, size_t plain_count) {
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

int cli_dataset_prepare(cli_dataset *d, const cli_dataset_args *args, char *const *operands,
                        int count, const cli_session_args *common, const cli_output *plain,
                        size_t plain_count) {
  memset(d, 0, sizeof *d);
  d->args = *args;
  int status = cli_mpi_rank() == 0 ? prepare(d, args, operands, count, common, plain, plain_count)
                                   : CLI_CONTINUE;
  return cli_mpi_share(status, &d->inputs, &d->skipped, common->batch);
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

/* Runs the inputs of b that decoded, moved to the front of its buffer, into r. */
static int run_batch(loop *l, cli_batch *b, cli_batch_result *r) {
  int ok = 0;
  for (int i = 0; i < b->count; i++) {
    if (b->errors[i])
      continue;
    if (ok != i)
      memcpy(b->pixels + (size_t)ok * l->image, b->pixels + (size_t)i * l->image,
             l->image * sizeof *b->pixels);
    ok++;
  }
  clrn_status s = ok ? clrn_engine_run(l->session->engine, b->pixels, ok, l->logits, l->probs)
                     : CLRN_STATUS_SUCCESS;
  if (s != CLRN_STATUS_SUCCESS)
    return cli_fail(s, "inference");
  *r = (cli_batch_result){b->count, ok, b->errors, l->logits, l->probs};
  return CLI_EXIT_OK;
}

/* Writes the records of the batch of results r, whose first input is first. */
static int write_batch(loop *l, size_t first, const cli_batch_result *r) {
  char *const *all = l->d->inputs.items + first;
  for (int i = 0, j = 0; i < r->count; i++)
    if (!r->errors[i])
      l->names[j++] = all[i];
  cli_results ran = {.names = l->names,
                     .count = r->ok,
                     .logits = r->logits,
                     .probs = r->probs,
                     .classes = l->classes,
                     .top = l->top,
                     .weights = l->session->weights,
                     .engine = l->session->engine,
                     .labels = l->labels};
  cli_results failed = ran;
  failed.names = all;
  failed.count = r->count;
  int status = CLI_EXIT_OK;
  size_t before = l->failed;
  if (l->sink.kind == CLI_SINK_TEXT && isatty(fileno(stdout)))
    cli_progress_clear(&l->progress); /* the records go where the progress line is */
  for (int i = 0, j = 0; i < r->count && status == CLI_EXIT_OK; i++) {
    if (r->errors[i]) {
      status = record(l, &failed, i, r->errors[i], NULL);
    } else {
      status =
          record(l, &ran, j, cli_result_error(&ran, j), r->probs + (size_t)j * (size_t)l->classes);
      j++;
    }
  }
  cli_progress_add(&l->progress, (size_t)r->count, l->failed - before);
  return status;
}

/* Batch k of batch inputs: runs it here (rank 0 writes it, another rank sends it
 * to rank 0) when this rank owns it, else rank 0 receives it and writes it. */
static int do_batch(loop *l, cli_pool *pool, size_t k, int batch) {
  cli_batch_result r;
  int status = CLI_EXIT_OK;
  if (!cli_mpi_owns(k)) {
    if (cli_mpi_rank() != 0 || (status = cli_mpi_receive(k, l->classes, &r)) != CLI_EXIT_OK)
      return status;
    size_t left = l->d->inputs.count - k * (size_t)batch;
    int ran = 0;
    for (int i = 0; i < r.count; i++)
      ran += !r.errors[i];
    if ((size_t)r.count != (left < (size_t)batch ? left : (size_t)batch) || ran != r.ok) {
      cli_error("rank %zu sent %d results for batch %zu: not its inputs",
                k % (size_t)cli_mpi_size(), r.count, k);
      return CLI_EXIT_FAILURE;
    }
    return write_batch(l, k * (size_t)batch, &r);
  }
  cli_batch b;
  if (!cli_pool_next(pool, &b))
    return cli_fail(CLRN_STATUS_INVALID_ARGUMENT, "a batch is missing");
  if ((status = run_batch(l, &b, &r)) == CLI_EXIT_OK)
    status =
        cli_mpi_rank() == 0 ? write_batch(l, k * (size_t)batch, &r) : cli_mpi_send(&r, l->classes);
  cli_pool_release(pool);
  return status;
}

/* The inputs of this rank's batches: all of them outside MPI. */
static char **own_inputs(const cli_dataset *d, size_t batches, int batch, size_t *count) {
  char **mine = malloc((d->inputs.count ? d->inputs.count : 1) * sizeof *mine);
  *count = 0;
  for (size_t k = 0; mine && k < batches; k++)
    for (size_t i = k * (size_t)batch;
         cli_mpi_owns(k) && i < d->inputs.count && i < (k + 1) * (size_t)batch; i++)
      mine[(*count)++] = d->inputs.items[i];
  return mine;
}

static int run_all(loop *l, const cli_session_args *common, const clrn_preprocess *pre) {
  cli_dataset *d = l->d;
  long cores = sysconf(_SC_NPROCESSORS_ONLN) / cli_mpi_local_size();
  int threads = d->args.threads ? (int)d->args.threads : cores > 0 ? (int)cores : 1;
  int batch = (int)common->batch;
  int window = 2 + (threads + batch - 1) / batch;
  size_t batches = (d->inputs.count + (size_t)batch - 1) / (size_t)batch, count = 0;
  l->logits = malloc((size_t)batch * (size_t)l->classes * sizeof *l->logits);
  l->probs = malloc((size_t)batch * (size_t)l->classes * sizeof *l->probs);
  l->names = malloc((size_t)batch * sizeof *l->names);
  char **mine = own_inputs(d, batches, batch, &count);
  if (!l->logits || !l->probs || !l->names || !mine) {
    free(mine);
    return cli_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "the results");
  }
  cli_pool *pool = NULL;
  int status =
      count ? cli_pool_start(mine, count, batch, window, threads, pre, &pool) : CLI_EXIT_OK;
  cli_progress_start(&l->progress, d->inputs.count);
  l->progress.quiet |= cli_mpi_rank() != 0;
  for (size_t k = 0; k < batches && status == CLI_EXIT_OK; k++)
    status = do_batch(l, pool, k, batch);
  if (status == CLI_EXIT_OK)
    cli_mpi_done();
  cli_pool_stop(pool);
  cli_progress_end(&l->progress);
  if (cli_mpi_size() > 1 && cli_mpi_rank() == 0 && status == CLI_EXIT_OK && cli_verbosity > 0)
    fprintf(stderr, "clresnet: %d ranks: %zu images in %.1f s (%.1f images/s in all)\n",
            cli_mpi_size(), l->progress.done, cli_now() - l->progress.start,
            (double)l->progress.done / (cli_now() - l->progress.start));
  free(mine);
  return status;
}

/* After rank 0 stopped an MPI job's loop: what the output holds and how to go on. */
static void say_how_to_continue(const loop *l, const char *out) {
  if (cli_mpi_size() < 2 || cli_mpi_rank() != 0)
    return;
  size_t done = l->progress.done + l->d->skipped;
  if (out)
    cli_error("the job stops: %s holds the records of %zu of %zu inputs; run the same command "
              "with --resume to continue",
              out, done, l->d->inputs.count + l->d->skipped);
  else
    cli_error("the job stops after %zu of %zu inputs; give --jsonl FILE or --csv FILE to be "
              "able to continue a run with --resume",
              done, l->d->inputs.count + l->d->skipped);
}

int cli_dataset_run(cli_dataset *d, cli_session *session, const cli_session_args *common, int top,
                    const clrn_preprocess *pre, const clrn_labels *labels) {
  loop l = {.d = d, .session = session, .top = top, .labels = labels};
  l.classes = clrn_weights_num_classes(session->weights);
  l.image = 3 * (size_t)pre->crop * (size_t)pre->crop;
  int status = CLI_EXIT_OK;
  bool root = cli_mpi_rank() == 0;
  if (root && d->args.truth)
    status = cli_truth_read(d->args.truth, l.classes, &l.truth);
  cli_session_args args = *common;
  if (d->inputs.count < (size_t)args.batch) /* buffers for the inputs there are, no more */
    args.batch = d->inputs.count ? (long)d->inputs.count : 1;
  if (status == CLI_EXIT_OK && root && d->skipped && cli_verbosity > 0)
    fprintf(stderr, "clresnet: resuming: %zu inputs already done, %zu to go\n", d->skipped,
            d->inputs.count);
  bool owns = false; /* this rank runs a batch */
  for (size_t k = 0; k * (size_t)args.batch < d->inputs.count && !owns; k++)
    owns = cli_mpi_owns(k);
  if (status == CLI_EXIT_OK && owns)
    status = cli_session_start(session, &args, pre->crop, pre->crop, false);
  const char *out = d->args.jsonl ? d->args.jsonl : d->args.csv;
  cli_sink_kind kind = d->args.jsonl ? CLI_SINK_JSONL : d->args.csv ? CLI_SINK_CSV : CLI_SINK_TEXT;
  if (status == CLI_EXIT_OK && !root) {
    status = run_all(&l, &args, pre);
  } else if (status == CLI_EXIT_OK &&
             (status = cli_sink_open(&l.sink, kind, out, d->args.resume, top)) == CLI_EXIT_OK) {
    if (!d->inputs.count)
      cli_mpi_done(); /* nothing to run on any rank */
    else if ((status = run_all(&l, &args, pre)) != CLI_EXIT_OK)
      say_how_to_continue(&l, out);
    int closed = cli_sink_close(&l.sink);
    status = status == CLI_EXIT_OK ? closed : status;
  }
  for (size_t i = 0; status == CLI_EXIT_OK && root && d->args.truth && i < d->done.count; i++)
    cli_truth_count(&l.truth, d->done.items[i].input,
                    d->done.items[i].failed ? NULL : d->done.items[i].top);
  if (status == CLI_EXIT_OK && root && d->args.truth)
    cli_truth_print(&l.truth);
  if (status == CLI_EXIT_OK && cli_verbosity >= 2 && session->engine)
    cli_session_report(session);
  cli_truth_free(&l.truth);
  free(l.logits);
  free(l.probs);
  free(l.names);
  return status == CLI_EXIT_OK && l.failed ? CLI_EXIT_FAILURE : status;
}
