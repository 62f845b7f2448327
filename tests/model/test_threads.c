/* Threads: two models running at the same time from two threads, on one shared
 * context (so on the same device and queues) and on two contexts of the same
 * device, must give exactly the results each gives alone. The kernels, device and
 * data are the same and every output element is computed in a fixed order, so
 * the comparison is bit for bit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "harness.h"

#define SIZE 64
#define BATCH 3
#define ROUNDS 3
#define CLASSES 1000

typedef struct job {
  clrn_model *model;
  const float *input;
  const float *expected;
  int mismatches;
  clrn_status status;
} job;

static clrn_weights *weights_a, *weights_b;
static float *input;

static int worker(void *arg) {
  job *j = arg;
  float *logits = malloc(BATCH * CLASSES * sizeof *logits);
  if (!logits) {
    j->status = CLRN_STATUS_OUT_OF_HOST_MEMORY;
    return 0;
  }
  for (int r = 0; r < ROUNDS && j->status == CLRN_STATUS_SUCCESS; r++) {
    j->status = clrn_model_run(j->model, j->input, BATCH, logits, NULL);
    if (j->status == CLRN_STATUS_SUCCESS &&
        memcmp(logits, j->expected, BATCH * CLASSES * sizeof *logits) != 0)
      j->mismatches++;
  }
  free(logits);
  return 0;
}

static clrn_model *make_model(clrn_context *ctx, clrn_weights *w, bool fuse) {
  clrn_model_options o;
  clrn_model_options_default(&o);
  o.height = SIZE;
  o.width = SIZE;
  o.max_batch = BATCH;
  o.fuse = fuse;
  clrn_model *m = NULL;
  CLRN_ASSERT_OK(clrn_model_create(ctx, w, &o, &m));
  return m;
}

/* Runs a and b alone for the reference, then together on two threads. */
static void run_pair(clrn_model *a, clrn_model *b) {
  float *expected_a = malloc(BATCH * CLASSES * sizeof(float));
  float *expected_b = malloc(BATCH * CLASSES * sizeof(float));
  CU_ASSERT_FATAL(expected_a && expected_b);
  CLRN_ASSERT_OK(clrn_model_run(a, input, BATCH, expected_a, NULL));
  CLRN_ASSERT_OK(clrn_model_run(b, input, BATCH, expected_b, NULL));
  CU_ASSERT(memcmp(expected_a, expected_b, BATCH * CLASSES * sizeof(float)) != 0);
  job jobs[2] = {{a, input, expected_a, 0, CLRN_STATUS_SUCCESS},
                 {b, input, expected_b, 0, CLRN_STATUS_SUCCESS}};
  thrd_t threads[2];
  for (int i = 0; i < 2; i++)
    CU_ASSERT_EQUAL_FATAL(thrd_create(&threads[i], worker, &jobs[i]), thrd_success);
  for (int i = 0; i < 2; i++) {
    thrd_join(threads[i], NULL);
    CU_ASSERT_EQUAL(jobs[i].status, CLRN_STATUS_SUCCESS);
    CU_ASSERT_EQUAL(jobs[i].mismatches, 0);
  }
  free(expected_a);
  free(expected_b);
}

static void test_shared_context(void) {
  clrn_context *ctx = clrn_test_context(false);
  clrn_model *a = make_model(ctx, weights_a, true);
  clrn_model *b = make_model(ctx, weights_b, false);
  run_pair(a, b);
  clrn_model_release(a);
  clrn_model_release(b);
  clrn_context_release(ctx);
}

static void test_two_contexts(void) {
  clrn_context *ctx_a = clrn_test_context(false), *ctx_b = clrn_test_context(false);
  clrn_model *a = make_model(ctx_a, weights_a, true);
  clrn_model *b = make_model(ctx_b, weights_b, true);
  run_pair(a, b);
  clrn_model_release(a);
  clrn_model_release(b);
  clrn_context_release(ctx_a);
  clrn_context_release(ctx_b);
}

static int setup(void) {
  if (clrn_weights_random(CLRN_ARCH_RESNET18, CLASSES, 1, &weights_a) != CLRN_STATUS_SUCCESS ||
      clrn_weights_random(CLRN_ARCH_RESNET18, CLASSES, 2, &weights_b) != CLRN_STATUS_SUCCESS)
    return 1;
  size_t n = (size_t)BATCH * 3 * SIZE * SIZE;
  input = malloc(n * sizeof *input);
  for (size_t i = 0; input && i < n; i++)
    input[i] = (float)((i * 7919) % 255) / 64.0f - 2.0f;
  return input ? 0 : 1;
}

static int teardown(void) {
  clrn_weights_close(weights_a);
  clrn_weights_close(weights_b);
  free(input);
  return 0;
}

int main(void) {
  clrn_device_info probe;
  clrn_test_require_device(&probe);
  clrn_test_add_suite("threads", setup, teardown, "two models, one context", test_shared_context,
                      "two models, two contexts", test_two_contexts, NULL);
  return clrn_test_run();
}
