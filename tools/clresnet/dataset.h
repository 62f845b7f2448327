/* Dataset runs of `clresnet run`: inputs given as folders (walked recursively) and
 * @lists (dataset_inputs.c), decoded and preprocessed on a pool of threads a bounded
 * window of batches ahead of the device (dataset_pool.c), results streamed in input
 * order as text, JSON lines or CSV and read back for --resume (dataset_output.c,
 * dataset_resume.c), accuracy against a ground-truth file (dataset_truth.c), a
 * progress line (dataset_progress.c), and the loop joining them (dataset.c). */
#ifndef CLRN_TOOLS_DATASET_H
#define CLRN_TOOLS_DATASET_H

#include <stdio.h>

#include "checks.h"
#include "results.h"
#include "session.h"

/** The dataset options of `run`. */
typedef struct cli_dataset_args {
  const char *jsonl, *csv; /* --jsonl / --csv FILE: the streamed output (one at most) */
  const char *truth;       /* --truth FILE: ground truth for accuracy */
  bool resume;             /* --resume */
  long threads;            /* --decode-threads N (0: one per core) */
} cli_dataset_args;

/** Whether a run is a dataset run: an input is a folder or an @list, or a dataset
 * option was given. */
bool cli_dataset_wanted(const cli_dataset_args *a, char *const *inputs, int count);

/** A growing list of owned strings. */
typedef struct cli_paths {
  char **items;
  size_t count, capacity;
} cli_paths;

/** Appends a copy of text; false when out of memory. */
bool cli_paths_add(cli_paths *paths, const char *text);

/** Frees the strings and the list. */
void cli_paths_free(cli_paths *paths);

/** Expands the operands into inputs: a folder gives its photos and .npy files
 * (by extension, recursively, sorted by path), @FILE the entries of a list file
 * (one per line, relative to the list's folder; folders in it are walked too),
 * anything else itself. The list files read go to sources. Prints the error and
 * returns CLI_EXIT_FAILURE when a folder or list cannot be read, CLI_EXIT_USAGE
 * when nothing is left to classify. */
int cli_inputs_expand(char *const *operands, int count, cli_paths *inputs, cli_paths *sources);

/** What the records of an earlier run (--resume) say about one input. */
typedef struct cli_done {
  char *input;
  bool failed;
  int top[5]; /* classes as recorded, best first; -1 past those recorded */
} cli_done;

/** The records of an output file, sorted by input. */
typedef struct cli_done_set {
  cli_done *items;
  size_t count;
} cli_done_set;

/** Reads the records already in path (JSON lines, or CSV when csv) into done. A
 * missing or empty file gives none. A last line cut short (a run killed while
 * writing) is removed from the file. Prints the error and returns CLI_EXIT_FAILURE
 * when the file cannot be read or a record cannot be parsed. */
int cli_resume_read(const char *path, bool csv, cli_done_set *done);

/** The record of input, or NULL. */
const cli_done *cli_done_find(const cli_done_set *done, const char *input);

/** Frees the records. */
void cli_done_free(cli_done_set *done);

/** Where the records go: text on stdout, or a JSON-lines or CSV file. */
typedef enum { CLI_SINK_TEXT, CLI_SINK_JSONL, CLI_SINK_CSV } cli_sink_kind;

/** An open stream of records. */
typedef struct cli_sink {
  cli_sink_kind kind;
  const char *path; /* NULL for stdout */
  FILE *file;
  int *best; /* room for top indices */
} cli_sink;

/** Opens the sink: stdout for text; path truncated, or appended to when append,
 * for JSON lines and CSV (a CSV header is written when the file is empty). top is
 * how many classes each record shows. Prints the error and returns
 * CLI_EXIT_FAILURE on failure. */
int cli_sink_open(cli_sink *sink, cli_sink_kind kind, const char *path, bool append, int top);

/** Writes input i of r (r->names[i]) as one record, with error instead of its
 * classes when not NULL, and flushes it. Returns CLI_EXIT_FAILURE (printed) when
 * writing fails. */
int cli_sink_write(cli_sink *sink, const cli_results *r, int i, const char *error);

/** Closes the sink; CLI_EXIT_FAILURE (printed) when the last writes failed. */
int cli_sink_close(cli_sink *sink);

/** Ground truth: a class per file name, and the counts of a run against it. */
typedef struct cli_truth {
  struct cli_truth_entry *entries; /* sorted by name */
  size_t count;
  size_t scored, top1, top5, unknown, failed;
} cli_truth;

/** Reads a ground-truth file: per line a file name and a class index (0..classes-1),
 * separated by spaces, tabs or a comma; blank lines and lines starting with '#' are
 * skipped. Prints the error (with the line number) and returns CLI_EXIT_FAILURE
 * when it cannot be read or a line is malformed. */
int cli_truth_read(const char *path, int classes, cli_truth *truth);

/** Counts one input, matched by its file name (the part after the last '/'):
 * top holds its best five classes (-1 for none), or NULL when it failed. */
void cli_truth_count(cli_truth *truth, const char *input, const int *top);

/** Prints top-1 and top-5 accuracy on stdout. */
void cli_truth_print(const cli_truth *truth);

/** Frees the entries. */
void cli_truth_free(cli_truth *truth);

/** The progress line on stderr: on a terminal, rewritten in place; otherwise a
 * line every interval seconds; nothing when quiet. */
typedef struct cli_progress {
  size_t total, done, failed;
  double start, last, interval;
  bool tty, quiet, shown;
} cli_progress;

/** Starts the clock for total inputs. */
void cli_progress_start(cli_progress *p, size_t total);

/** Adds done inputs (failed of them failed) and shows the line when it is due. */
void cli_progress_add(cli_progress *p, size_t done, size_t failed);

/** Clears the line on a terminal, before other output goes there. */
void cli_progress_clear(cli_progress *p);

/** Ends the line on a terminal and prints the summary line (images, seconds,
 * images/s, failures). */
void cli_progress_end(cli_progress *p);

/** One batch of decoded inputs. */
typedef struct cli_batch {
  size_t first;  /* index of its first input */
  int count;     /* inputs in it */
  float *pixels; /* count images of 3 x crop x crop floats (a failed one is zero) */
  char **errors; /* count messages; NULL for the inputs that decoded */
} cli_batch;

/** The results of one batch: each input's error (NULL for one that ran) and the
 * logits and probabilities of the inputs that ran, in input order. */
typedef struct cli_batch_result {
  int count, ok;         /* inputs, of which ran */
  char **errors;         /* count entries */
  float *logits, *probs; /* ok x classes each */
} cli_batch_result;

typedef struct cli_pool cli_pool;

/** Starts threads decoding paths (photos, or .npy files holding one [3,crop,crop]
 * or [1,3,crop,crop] image) with pre, batch inputs a batch, at most window batches
 * ahead of the one being consumed. Prints the error and returns CLI_EXIT_FAILURE
 * when the memory or threads cannot be had. */
int cli_pool_start(char *const *paths, size_t count, int batch, int window, int threads,
                   const clrn_preprocess *pre, cli_pool **pool);

/** Waits for the next batch, in input order, and fills b; false when none is left.
 * b stays valid until cli_pool_release(). */
bool cli_pool_next(cli_pool *pool, cli_batch *b);

/** Gives the batch last returned back to the decoders. */
void cli_pool_release(cli_pool *pool);

/** Stops and joins the threads and frees everything (NULL is ignored). */
void cli_pool_stop(cli_pool *pool);

/** A dataset run being prepared: its inputs (after --resume), what was read, the
 * records it resumes. */
typedef struct cli_dataset {
  cli_dataset_args args;
  cli_paths inputs, sources;
  cli_done_set done;
  size_t skipped; /* inputs already in the output */
} cli_dataset;

/** Before any work (on rank 0 of an MPI job, which sends the result to the other
 * ranks: mpi_hooks.h): refuses options a dataset run does not take (-o, --save-input,
 * --json, --trace, both --jsonl and --csv, --resume without either), expands the
 * operands, checks the output files against every input, list, the truth file and
 * the weights (checks.h), and with --resume reads the output and drops the inputs
 * it holds. Returns CLI_CONTINUE or the exit status (printed). */
int cli_dataset_prepare(cli_dataset *d, const cli_dataset_args *args, char *const *operands,
                        int count, const cli_session_args *common, const cli_output *outputs,
                        size_t output_count);

/** Classifies the prepared inputs with the session's engine (started here for
 * pre->crop x pre->crop inputs), naming classes by labels (NULL: indices only),
 * streaming the records; returns the exit status: 1 when an input failed. In an
 * MPI job (mpi_hooks.h) each rank runs its batches and rank 0 writes every record. */
int cli_dataset_run(cli_dataset *d, cli_session *session, const cli_session_args *common, int top,
                    const clrn_preprocess *pre, const clrn_labels *labels);

/** Frees what cli_dataset_prepare() made. */
void cli_dataset_free(cli_dataset *d);

#endif
