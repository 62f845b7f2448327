/* Shared helpers of the op suites (see ops_test.h). */
#include "ops_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double ops_gamma(double k) { return k * OPS_U / (1.0 - k * OPS_U); }

bool ops_small(void) {
  const char *small = getenv("CLRN_TEST_SMALL");
  return small && *small && strcmp(small, "0") != 0;
}

clrn_context *ops_context(const char *tune) {
  if (tune)
    setenv("CLRN_TUNE", tune, 1);
  clrn_context *context = clrn_test_context(false);
  if (tune)
    unsetenv("CLRN_TUNE");
  printf("device: %s (%s), profile %s%s%s\n", clrn_context_device(context)->name,
         clrn_context_device(context)->platform_name, clrn_context_profile_name(context),
         tune ? ", CLRN_TUNE=" : "", tune ? tune : "");
  return context;
}

void ops_fill(float *x, size_t count, uint32_t seed, float lo, float hi) {
  uint32_t s = seed * 2654435761u + 1u;
  for (size_t i = 0; i < count; i++) {
    s ^= s << 13; /* xorshift32 */
    s ^= s >> 17;
    s ^= s << 5;
    x[i] = lo + (hi - lo) * (float)((s >> 8) * (1.0 / 16777216.0));
  }
}

void *ops_malloc(size_t bytes) {
  void *p = malloc(bytes ? bytes : 1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  return p;
}

cl_mem ops_buffer(clrn_context *context, const float *data, size_t count) {
  float *sentinel = NULL;
  if (!data) {
    sentinel = ops_malloc(count * sizeof *sentinel);
    for (size_t i = 0; i < count; i++)
      sentinel[i] = NAN;
    data = sentinel;
  }
  cl_mem buffer = NULL;
  CLRN_ASSERT_OK(
      clrn_buffer_create(context, CL_MEM_READ_WRITE, count * sizeof(float), data, &buffer));
  free(sentinel);
  return buffer;
}

clrn_tensor ops_tensor(cl_mem buffer, int n, int c, int h, int w) {
  clrn_tensor t = {buffer, n, c, h, w};
  return t;
}

void ops_read(clrn_context *context, cl_event event, cl_mem buffer, float *out, size_t count) {
  if (event) {
    CU_ASSERT_EQUAL_FATAL(clWaitForEvents(1, &event), CL_SUCCESS);
    clReleaseEvent(event);
  }
  cl_command_queue queue = clrn_context_queue(context, 0);
  CU_ASSERT_EQUAL_FATAL(
      clEnqueueReadBuffer(queue, buffer, CL_TRUE, 0, count * sizeof(float), out, 0, NULL, NULL),
      CL_SUCCESS);
}

/* Largest errors per op, for the summary. */
typedef struct tally {
  const char *op;
  double max_err, max_ratio;
  size_t values;
} tally;
static tally tallies[16];
static size_t tally_count;

static tally *tally_for(const char *op) {
  for (size_t i = 0; i < tally_count; i++)
    if (strcmp(tallies[i].op, op) == 0)
      return &tallies[i];
  if (tally_count == sizeof tallies / sizeof tallies[0])
    return &tallies[0];
  tallies[tally_count].op = op;
  return &tallies[tally_count++];
}

bool ops_check_exact(const char *op, const char *label, const float *got, const float *want,
                     size_t count) {
  tally *t = tally_for(op);
  size_t bad = 0;
  for (size_t i = 0; i < count; i++) {
    bool same = (isnan(got[i]) && isnan(want[i])) || memcmp(&got[i], &want[i], sizeof(float)) == 0;
    if (!same && bad++ < 5)
      fprintf(stderr, "\n%s %s: [%zu] got %a (%g), want %a (%g)", op, label, i, got[i],
              (double)got[i], want[i], (double)want[i]);
    if (!same && !isnan(got[i]) && !isnan(want[i]) && fabs((double)got[i] - want[i]) > t->max_err)
      t->max_err = fabs((double)got[i] - want[i]);
  }
  t->values += count;
  if (bad) {
    fprintf(stderr, "\n%s %s: %zu of %zu values differ\n", op, label, bad, count);
    t->max_ratio = INFINITY;
  }
  CU_ASSERT_EQUAL(bad, 0);
  return bad == 0;
}

bool ops_check_bound(const char *op, const char *label, const float *got, const double *want,
                     const double *tol, size_t count) {
  tally *t = tally_for(op);
  size_t bad = 0;
  for (size_t i = 0; i < count; i++) {
    double g = got[i], w = want[i], err = 0.0;
    bool ok;
    if (isnan(w) || isnan(g))
      ok = isnan(w) && isnan(g);
    else if (isinf(w) || isinf(g))
      ok = g == w;
    else {
      err = fabs(g - w);
      ok = err <= tol[i];
      if (err > t->max_err)
        t->max_err = err;
      if (tol[i] > 0 && err / tol[i] > t->max_ratio)
        t->max_ratio = err / tol[i];
    }
    if (!ok && bad++ < 5)
      fprintf(stderr, "\n%s %s: [%zu] got %.9g, want %.9g, error %.3g > tolerance %.3g", op, label,
              i, g, w, err, tol[i]);
  }
  t->values += count;
  if (bad)
    fprintf(stderr, "\n%s %s: %zu of %zu values out of bounds\n", op, label, bad, count);
  CU_ASSERT_EQUAL(bad, 0);
  return bad == 0;
}

void ops_print_tally(void) {
  printf("\nLargest errors against the plain-C reference:\n");
  for (size_t i = 0; i < tally_count; i++)
    printf("  %-28s %9zu values  max |error| %.3g  max error/tolerance %.3g\n", tallies[i].op,
           tallies[i].values, tallies[i].max_err, tallies[i].max_ratio);
}

static cl_int event_state(cl_event event) {
  cl_int state = CL_COMPLETE;
  CU_ASSERT_EQUAL(
      clGetEventInfo(event, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof state, &state, NULL),
      CL_SUCCESS);
  return state;
}

void ops_check_wait_list(clrn_context *context, ops_enqueue_fn fn, void *user) {
  cl_command_queue queue = clrn_context_queue(context, 0);
  cl_int err = CL_SUCCESS;
  cl_event gate = clCreateUserEvent(clrn_context_cl(context), &err);
  CU_ASSERT_EQUAL_FATAL(err, CL_SUCCESS);
  cl_event done = NULL;
  CLRN_ASSERT_OK(fn(user, queue, 1, &gate, &done));
  CU_ASSERT_PTR_NOT_NULL_FATAL(done);
  /* Submit it, so a driver that ignored the wait list would run it now. Oclgrind runs
   * its queue synchronously inside clFlush and would spin there forever on the
   * pending user event: the simulator is the one device not flushed here. */
  if (!strstr(clrn_context_device(context)->platform_name, "Oclgrind"))
    clFlush(queue);
  struct timespec pause = {0, 20 * 1000 * 1000};
  nanosleep(&pause, NULL);
  CU_ASSERT(event_state(done) > CL_COMPLETE); /* queued, submitted or running: not done */
  CU_ASSERT_EQUAL(clSetUserEventStatus(gate, CL_COMPLETE), CL_SUCCESS);
  CU_ASSERT_EQUAL(clWaitForEvents(1, &done), CL_SUCCESS);
  CU_ASSERT_EQUAL(event_state(done), CL_COMPLETE);
  clReleaseEvent(done);
  clReleaseEvent(gate);
  CLRN_ASSERT_OK(fn(user, queue, 0, NULL, NULL));
  CU_ASSERT_EQUAL(clFinish(queue), CL_SUCCESS);
}

static char log_text[16384];

static void log_record(clrn_log_level level, const char *message, void *user) {
  (void)level;
  (void)user;
  size_t used = strlen(log_text);
  snprintf(log_text + used, sizeof log_text - used, "%s\n", message);
}

void ops_log_start(void) {
  log_text[0] = '\0';
  clrn_log_set_callback(log_record, CLRN_LOG_LEVEL_DEBUG, NULL);
}

bool ops_log_stop(const char *kernel_name) {
  clrn_log_set_callback(NULL, CLRN_LOG_LEVEL_ERROR, NULL);
  char needle[128];
  snprintf(needle, sizeof needle, "enqueued %s:", kernel_name);
  return strstr(log_text, needle) != NULL;
}

void ops_contexts_open(clrn_context **contexts, const char *const *tunes, int count) {
  for (int v = 0; v < count; v++)
    contexts[v] = ops_context(tunes[v]);
}

void ops_contexts_release(clrn_context **contexts, int count) {
  for (int v = 0; v < count; v++)
    clrn_context_release(contexts[v]);
}
