/* Device memory policy and batching: the policy that fits the batch and the
 * allocation count memory with one function (clrn_plan_memory_needs), so a model
 * holds exactly what that function says; a model whose buffers for max_batch do
 * not fit its memory limit is built for a smaller batch, stays within the limit,
 * and runs any batch in pieces (uploads overlapping compute) with exactly the results
 * of one model that holds the whole batch. Same kernels, device and data, and every
 * output element is computed in a fixed order whatever the batch, so the
 * comparison is bit for bit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sched/instance.h"
#include "sched/model.h"

#define SIZE 48
#define CLASSES 1000

static clrn_context *context;
static clrn_weights *weights;

static clrn_model *make_model(int max_batch, size_t limit) {
  clrn_model_options o;
  clrn_model_options_default(&o);
  o.height = SIZE;
  o.width = SIZE;
  o.max_batch = max_batch;
  o.memory_limit = limit;
  clrn_model *m = NULL;
  CLRN_ASSERT_OK(clrn_model_create(context, weights, &o, &m));
  return m;
}

static void test_limit(void) {
  clrn_model *full = make_model(8, 0);
  CU_ASSERT_EQUAL(clrn_model_max_batch(full), 8);
  size_t bytes = clrn_model_device_bytes(full);
  clrn_model_release(full);
  /* One byte short of what a batch of 8 needs: halved to 4, within the limit. */
  clrn_model *half = make_model(8, bytes - 1);
  CU_ASSERT_EQUAL(clrn_model_max_batch(half), 4);
  CU_ASSERT(clrn_model_device_bytes(half) <= bytes - 1);
  clrn_model_release(half);
  /* A limit below even one image still builds a model of batch 1. */
  clrn_model *tiny = make_model(8, 1);
  CU_ASSERT_EQUAL(clrn_model_max_batch(tiny), 1);
  clrn_model_release(tiny);
}

/* What a model allocates is what clrn_plan_memory_needs() counts for its batch,
 * the policy fits by the same count, and each convolution object's own workspace
 * need is what the plan reckons for it and within its queue's workspace. */
static void test_agreement(void) {
  clrn_model *m = make_model(8, 0);
  clrn_plan_memory needs;
  clrn_plan_memory_needs(clrn_model_plan(m), &needs);
  size_t bytes = clrn_plan_memory_bytes(&needs, 8);
  CU_ASSERT_EQUAL(clrn_model_device_bytes(m), bytes);
  clrn_model_release(m);
  /* A limit of exactly that keeps the batch; a byte less halves it, and the
   * smaller model again holds exactly its count. */
  m = make_model(8, bytes);
  CU_ASSERT_EQUAL(clrn_model_max_batch(m), 8);
  clrn_model_release(m);
  m = make_model(8, bytes - 1);
  CU_ASSERT_EQUAL(clrn_model_max_batch(m), 4);
  CU_ASSERT_EQUAL(clrn_model_device_bytes(m), clrn_plan_memory_bytes(&needs, 4));
  const clrn_plan *plan = clrn_model_plan(m);
  clrn_step_op *ops = NULL;
  CLRN_ASSERT_OK(clrn_instance_create(context, plan, &ops));
  size_t padded = 0;
  for (size_t i = 0; ops && i < plan->step_count; i++) {
    const clrn_step *s = &plan->steps[i];
    if (s->kind != CLRN_STEP_CONV)
      continue;
    const clrn_value *in = &plan->graph.values[s->inputs[0]];
    const clrn_value *out = &plan->graph.values[s->output];
    size_t need = clrn_conv2d_workspace_size(ops[i].conv, 1, in->h, in->w);
    CU_ASSERT_EQUAL(need, clrn_conv2d_padded_bytes(&s->conv, &s->config, out->h, out->w));
    CU_ASSERT(need <= needs.workspace_bytes[s->queue]);
    padded += need;
  }
  /* Padded convolutions exist when the device runs the blocked kernel. */
  CU_ASSERT_EQUAL(padded > 0, needs.workspace_bytes[0] > 0);
  clrn_instance_release(ops, plan->step_count);
  clrn_model_release(m);
}

static void test_pieces(void) {
  enum { BATCH = 11 };
  size_t n = (size_t)BATCH * 3 * SIZE * SIZE;
  float *input = malloc(n * sizeof *input);
  float *whole = malloc(BATCH * CLASSES * sizeof *whole);
  float *pieces = malloc(BATCH * CLASSES * sizeof *pieces);
  float *probs = malloc(BATCH * CLASSES * sizeof *probs);
  CU_ASSERT_FATAL(input && whole && pieces && probs);
  for (size_t i = 0; i < n; i++)
    input[i] = (float)((i * 2654435761u) % 4001) / 1000.0f - 2.0f;
  clrn_model *big = make_model(BATCH, 0), *small = make_model(3, 0);
  CLRN_ASSERT_OK(clrn_model_run(big, input, BATCH, whole, NULL));
  CLRN_ASSERT_OK(clrn_model_run(small, input, BATCH, pieces, probs)); /* 3 + 3 + 3 + 2 */
  CU_ASSERT(memcmp(whole, pieces, BATCH * CLASSES * sizeof *whole) == 0);
  /* The images differ, so their logits must too. */
  CU_ASSERT(memcmp(whole, whole + CLASSES, CLASSES * sizeof *whole) != 0);
  CU_ASSERT_EQUAL(clrn_model_run(small, input, 0, pieces, NULL), CLRN_STATUS_INVALID_ARGUMENT);
  clrn_model_release(big);
  clrn_model_release(small);
  free(input);
  free(whole);
  free(pieces);
  free(probs);
}

static int setup(void) {
  context = clrn_test_context(false);
  return clrn_weights_random(CLRN_ARCH_RESNET18, CLASSES, 5, &weights) == CLRN_STATUS_SUCCESS ? 0
                                                                                              : 1;
}

static int teardown(void) {
  clrn_weights_close(weights);
  clrn_context_release(context);
  return 0;
}

int main(void) {
  clrn_device_info probe;
  clrn_test_require_device(&probe);
  clrn_test_add_suite("memory", setup, teardown, "memory limit", test_limit,
                      "policy and allocation agree", test_agreement, "batches in pieces",
                      test_pieces, NULL);
  return clrn_test_run();
}
