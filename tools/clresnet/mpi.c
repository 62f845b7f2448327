/* `clresnet run` over the ranks of an MPI job (see mpi_hooks.h): start and end, the
 * inputs sent from rank 0, device choice by node-local rank, and one message per
 * batch from a rank to rank 0: a header of five int32 (kind, count, ran, classes,
 * text bytes), the text (each input's error, "" for one that ran; or, for a
 * failed rank, the message), then the logits and the probabilities of the inputs
 * that ran. Built only with CLRN_WITH_MPI. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpi_hooks.h"

#define TAG_BATCH 14
#define HEADER_INTS 5

enum { KIND_RESULT, KIND_FAILED };

static struct {
  bool started;
  int rank, size, local_rank, local_size;
  size_t owed; /* batches this rank still sends to rank 0 */
  bool shared; /* rank 0's inputs reached every rank: the work began */
  bool done;
  char *message;         /* the last message received */
  char **errors;         /* its errors */
  float *logits, *probs; /* its results */
  size_t errors_capacity, logits_capacity, probs_capacity;
} job = {.size = 1, .local_size = 1};

static int env_int(const char *name, int fallback) {
  const char *text = getenv(name);
  return text && *text ? atoi(text) : fallback;
}

int cli_mpi_start(int *argc, char ***argv) {
  if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK") && !getenv("PMI_RANK"))
    return CLI_EXIT_OK;
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    cli_error("MPI_Init failed");
    return CLI_EXIT_FAILURE;
  }
  job.started = true;
  /* Whole lines: mpirun forwards each write, and the ranks' lines would mix. */
  setvbuf(stderr, NULL, _IOLBF, BUFSIZ);
  MPI_Comm_rank(MPI_COMM_WORLD, &job.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &job.size);
  job.local_rank = env_int("OMPI_COMM_WORLD_LOCAL_RANK", 0);
  job.local_size = env_int("OMPI_COMM_WORLD_LOCAL_SIZE", 1);
  if (job.local_rank < 0 || job.local_size < 1) {
    job.local_rank = 0;
    job.local_size = 1;
  }
  return CLI_EXIT_OK;
}

int cli_mpi_rank(void) { return job.rank; }
int cli_mpi_size(void) { return job.size; }
int cli_mpi_local_size(void) { return job.local_size; }

void cli_mpi_devices(cli_devices *d, bool spec_given) {
  if (!job.started || spec_given || d->count == 0 || d->all_count == 0)
    return;
  size_t gpus = 0;
  for (size_t i = 0; i < d->all_count; i++)
    gpus += d->all[i].type == CLRN_DEVICE_TYPE_GPU;
  size_t n = gpus ? gpus : d->all_count, want = (size_t)job.local_rank % n;
  for (size_t i = 0, k = 0; i < d->all_count; i++) {
    if (gpus && d->all[i].type != CLRN_DEVICE_TYPE_GPU)
      continue;
    if (k++ == want) {
      d->chosen[0] = d->all[i];
      d->count = 1;
      return;
    }
  }
}

/* Rank 0 sends the inputs as one block of NUL-ended paths. */
static int share_paths(cli_paths *inputs) {
  uint64_t sizes[2] = {inputs->count, 0};
  for (size_t i = 0; job.rank == 0 && i < inputs->count; i++)
    sizes[1] += strlen(inputs->items[i]) + 1;
  MPI_Bcast(sizes, 2, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  char *block = malloc(sizes[1] ? sizes[1] : 1);
  int ok = block != NULL;
  MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (!ok) {
    free(block);
    cli_error("out of memory sharing the inputs");
    return CLI_EXIT_FAILURE;
  }
  char *p = block;
  for (size_t i = 0; job.rank == 0 && i < inputs->count; i++)
    p = stpcpy(p, inputs->items[i]) + 1;
  for (uint64_t at = 0; at < sizes[1]; at += INT32_MAX) /* MPI counts are int */
    MPI_Bcast(block + at, (int)(sizes[1] - at < INT32_MAX ? sizes[1] - at : INT32_MAX), MPI_CHAR, 0,
              MPI_COMM_WORLD);
  int status = CLI_EXIT_OK;
  for (size_t i = 0, at = 0; job.rank != 0 && i < sizes[0] && status == CLI_EXIT_OK; i++) {
    if (!cli_paths_add(inputs, block + at))
      status = CLI_EXIT_FAILURE;
    at += strlen(block + at) + 1;
  }
  free(block);
  if (status != CLI_EXIT_OK)
    cli_error("out of memory sharing the inputs");
  return status;
}

int cli_mpi_share(int status, cli_paths *inputs, size_t *skipped, long batch) {
  if (!job.started)
    return status;
  int shared = status;
  MPI_Bcast(&shared, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (shared != CLI_CONTINUE) {
    job.done = true; /* nothing started: every rank ends on its own */
    return shared;
  }
  job.shared = true;
  uint64_t count = *skipped;
  MPI_Bcast(&count, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  *skipped = (size_t)count;
  if (share_paths(inputs) != CLI_EXIT_OK) {
    job.done = true;
    return CLI_EXIT_FAILURE;
  }
  size_t b = inputs->count < (size_t)batch ? (inputs->count ? inputs->count : 1) : (size_t)batch;
  size_t batches = (inputs->count + b - 1) / b;
  for (size_t k = 0; k < batches; k++)
    job.owed += job.rank != 0 && cli_mpi_owns(k);
  return CLI_CONTINUE;
}

bool cli_mpi_owns(size_t k) { return k % (size_t)job.size == (size_t)job.rank; }

/* Sends one message of kind to rank 0. */
static int send_message(int kind, int count, int ran, int classes, const char *text,
                        size_t text_bytes, const float *logits, const float *probs) {
  size_t floats = (size_t)ran * (size_t)classes;
  size_t bytes = HEADER_INTS * sizeof(int32_t) + text_bytes + 2 * floats * sizeof(float);
  unsigned char *message = bytes <= INT32_MAX ? malloc(bytes) : NULL;
  if (!message) {
    cli_error("out of memory sending results to rank 0");
    return CLI_EXIT_FAILURE;
  }
  int32_t header[HEADER_INTS] = {kind, count, ran, classes, (int32_t)text_bytes};
  unsigned char *p = message;
  memcpy(p, header, sizeof header);
  p += sizeof header;
  memcpy(p, text, text_bytes);
  p += text_bytes;
  if (floats) {
    memcpy(p, logits, floats * sizeof(float));
    memcpy(p + floats * sizeof(float), probs, floats * sizeof(float));
  }
  int sent = MPI_Send(message, (int)bytes, MPI_BYTE, 0, TAG_BATCH, MPI_COMM_WORLD);
  free(message);
  if (sent != MPI_SUCCESS) {
    cli_error("cannot send results to rank 0");
    return CLI_EXIT_FAILURE;
  }
  if (job.owed)
    job.owed--;
  return CLI_EXIT_OK;
}

int cli_mpi_send(const cli_batch_result *r, int classes) {
  size_t bytes = 0;
  for (int i = 0; i < r->count; i++)
    bytes += (r->errors[i] ? strlen(r->errors[i]) : 0) + 1;
  char *text = malloc(bytes ? bytes : 1), *p = text;
  if (!text) {
    cli_error("out of memory sending results to rank 0");
    return CLI_EXIT_FAILURE;
  }
  for (int i = 0; i < r->count; i++)
    p = stpcpy(p, r->errors[i] ? r->errors[i] : "") + 1;
  int status = bytes > INT32_MAX ? CLI_EXIT_FAILURE
                                 : send_message(KIND_RESULT, r->count, r->ok, classes, text, bytes,
                                                r->logits, r->probs);
  free(text);
  return status;
}

/* Makes room in the receive buffers. */
static bool reserve(int count, size_t floats) {
  return cli_reserve((void **)&job.errors, &job.errors_capacity, (size_t)count, sizeof *job.errors,
                     16) &&
         cli_reserve((void **)&job.logits, &job.logits_capacity, floats, sizeof *job.logits,
                     1024) &&
         cli_reserve((void **)&job.probs, &job.probs_capacity, floats, sizeof *job.probs, 1024);
}

int cli_mpi_receive(size_t k, int classes, cli_batch_result *r) {
  int from = (int)(k % (size_t)job.size), bytes = 0;
  MPI_Status probe;
  MPI_Probe(from, TAG_BATCH, MPI_COMM_WORLD, &probe);
  MPI_Get_count(&probe, MPI_BYTE, &bytes);
  free(job.message);
  job.message = malloc(bytes > 0 ? (size_t)bytes + 1 : 1);
  if (!job.message) {
    cli_error("out of memory receiving results from rank %d", from);
    return CLI_EXIT_FAILURE;
  }
  MPI_Recv(job.message, bytes, MPI_BYTE, from, TAG_BATCH, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  int32_t h[HEADER_INTS] = {0};
  if ((size_t)bytes >= sizeof h)
    memcpy(h, job.message, sizeof h);
  size_t floats = h[2] > 0 && h[3] > 0 ? (size_t)h[2] * (size_t)h[3] : 0;
  size_t expected = sizeof h + (size_t)(h[4] > 0 ? h[4] : 0) + 2 * floats * sizeof(float);
  char *text = job.message + sizeof h;
  bool result = h[0] == KIND_RESULT && h[1] >= 1 && h[2] >= 0 && h[2] <= h[1] && h[3] == classes;
  bool failed = h[0] == KIND_FAILED && h[2] == 0;
  if ((size_t)bytes < sizeof h || h[4] < 1 || (!result && !failed) || expected != (size_t)bytes ||
      text[h[4] - 1]) {
    cli_error("rank %d sent a malformed message (%d bytes)", from, bytes);
    return CLI_EXIT_FAILURE;
  }
  if (failed) {
    cli_error("rank %d of %d %s", from, job.size, text);
    return CLI_EXIT_FAILURE;
  }
  if (!reserve(h[1], floats ? floats : 1)) {
    cli_error("out of memory receiving results from rank %d", from);
    return CLI_EXIT_FAILURE;
  }
  for (int i = 0; i < h[1]; i++) {
    job.errors[i] = *text ? text : NULL;
    text += strlen(text) + 1;
    if (text > job.message + sizeof h + h[4]) {
      cli_error("rank %d sent a malformed message (%d bytes)", from, bytes);
      return CLI_EXIT_FAILURE;
    }
  }
  const char *data = job.message + sizeof h + h[4]; /* the floats follow the text */
  memcpy(job.logits, data, floats * sizeof(float));
  memcpy(job.probs, data + floats * sizeof(float), floats * sizeof(float));
  *r = (cli_batch_result){
      .count = h[1], .ok = h[2], .errors = job.errors, .logits = job.logits, .probs = job.probs};
  return CLI_EXIT_OK;
}

void cli_mpi_done(void) { job.done = true; }

int cli_mpi_finish(int status) {
  if (!job.started)
    return status;
  if (!job.done && job.rank != 0 && job.owed) {
    char host[256] = "?", text[512];
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    snprintf(text, sizeof text,
             "(host %s, pid %ld) stopped with exit status %d; its error is above", host,
             (long)getpid(), status);
    send_message(KIND_FAILED, 0, 0, 0, text, strlen(text) + 1, NULL, NULL);
  }
  if (job.shared && !job.done && job.rank == 0 && job.size > 1) {
    cli_error("ending the MPI job: rank 0 stopped with exit status %d", status);
    fflush(NULL);
    MPI_Abort(MPI_COMM_WORLD, status ? status : 1);
  }
  free(job.message);
  free(job.errors);
  free(job.logits);
  free(job.probs);
  MPI_Finalize();
  return status;
}
