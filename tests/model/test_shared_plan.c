/* One plan, several models: models instantiated on a context from a plan built
 * once (as the engine does for devices of one profile) run it with exactly the
 * logits of a model that built its own plan, the plan outlives nothing it
 * needs, and a plan made for other tuning values than the context's is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sched/model.h"

#define SIZE 40
#define BATCH 2
#define CLASSES 10

static clrn_context *context;
static clrn_weights *weights;

static clrn_model_options options(void) {
  clrn_model_options o;
  clrn_model_options_default(&o);
  o.height = SIZE;
  o.width = SIZE;
  o.max_batch = BATCH;
  return o;
}

static void test_shared(void) {
  clrn_model_options o = options();
  clrn_conv_tuning tuning;
  clrn_conv_tuning_read(context, &tuning);
  clrn_plan plan;
  CLRN_ASSERT_OK(clrn_plan_build(&tuning, weights, SIZE, SIZE, o.fuse, &plan));
  clrn_model *own = NULL, *a = NULL, *b = NULL;
  CLRN_ASSERT_OK(clrn_model_create(context, weights, &o, &own));
  CLRN_ASSERT_OK(clrn_model_create_from_plan(context, &plan, &o, &a));
  CLRN_ASSERT_OK(clrn_model_create_from_plan(context, &plan, &o, &b));
  CU_ASSERT_FATAL(own && a && b);
  CU_ASSERT_PTR_EQUAL(clrn_model_plan(a), &plan);
  CU_ASSERT_PTR_EQUAL(clrn_model_plan(b), &plan);
  CU_ASSERT_PTR_NOT_EQUAL(clrn_model_plan(own), &plan);
  size_t n = (size_t)BATCH * 3 * SIZE * SIZE;
  float *input = malloc(n * sizeof *input), logits[3][BATCH * CLASSES];
  CU_ASSERT_PTR_NOT_NULL_FATAL(input);
  for (size_t i = 0; i < n; i++)
    input[i] = (float)((i * 40503u) % 2001) / 1000.0f - 1.0f;
  CLRN_ASSERT_OK(clrn_model_run(own, input, BATCH, logits[0], NULL));
  clrn_model_release(own); /* frees its own plan, not the shared one */
  CLRN_ASSERT_OK(clrn_model_run(a, input, BATCH, logits[1], NULL));
  clrn_model_release(a);
  CLRN_ASSERT_OK(clrn_model_run(b, input, BATCH, logits[2], NULL));
  CU_ASSERT(memcmp(logits[0], logits[1], sizeof logits[0]) == 0);
  CU_ASSERT(memcmp(logits[0], logits[2], sizeof logits[0]) == 0);
  clrn_model_release(b);
  clrn_plan_free(&plan);
  free(input);
}

static void test_other_tuning_refused(void) {
  clrn_model_options o = options();
  clrn_conv_tuning tuning;
  clrn_conv_tuning_read(context, &tuning);
  tuning.cout_block = tuning.cout_block == 8 ? 16 : 8; /* packed for another blocking */
  clrn_plan plan;
  CLRN_ASSERT_OK(clrn_plan_build(&tuning, weights, SIZE, SIZE, o.fuse, &plan));
  clrn_model *m = NULL;
  CU_ASSERT_EQUAL(clrn_model_create_from_plan(context, &plan, &o, &m),
                  CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_PTR_NULL(m);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "tuning"));
  clrn_plan_free(&plan);
}

static int setup(void) {
  context = clrn_test_context(false);
  return !context ||
         clrn_weights_random(CLRN_ARCH_RESNET18, CLASSES, 3, &weights) != CLRN_STATUS_SUCCESS;
}

static int teardown(void) {
  clrn_weights_close(weights);
  clrn_context_release(context);
  return 0;
}

int main(void) {
  clrn_device_info probe;
  clrn_test_require_device(&probe);
  clrn_test_add_suite("shared plan", setup, teardown, "models on one plan", test_shared,
                      "a plan for other tuning refused", test_other_tuning_refused, NULL);
  return clrn_test_run();
}
