/* An engine over two devices survives one that fails (issue 14, item 4): with
 * CLRN_FAULT=device:1:after:1, device 1's second shard fails; the run still gives
 * the logits of a clean engine bit for bit, the log callback gets one warning that
 * names device 1, and device 1 runs nothing afterwards. On one device there is no
 * one to take over: the run fails with the injected error. A malformed CLRN_FAULT
 * is refused when the engine is made. CTest runs it with POCL_DEVICES="pthread
 * pthread"; it skips with fewer than two devices. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sched/model.h"

#define SIZE 32
#define BATCH 4
#define RUNS 4

static clrn_device_info *all, devices[2];
static size_t all_count;
static clrn_weights *weights;
static float *input;
static int warnings;
static char warning[1024];

static void on_log(clrn_log_level level, const char *message, void *user_data) {
  (void)user_data;
  if (level == CLRN_LOG_LEVEL_WARNING && strstr(message, "failed")) {
    warnings++;
    snprintf(warning, sizeof warning, "%s", message);
  }
}

static int setup(void) {
  size_t chosen[2], count = 0;
  if (clrn_devices_enumerate(&all, &all_count) != CLRN_STATUS_SUCCESS ||
      clrn_devices_select(all, all_count, "all", chosen, 2, &count) != CLRN_STATUS_SUCCESS ||
      count < 2) {
    printf("fewer than two devices: skipped\n");
    exit(77);
  }
  devices[0] = all[chosen[0]];
  devices[1] = all[chosen[1]];
  if (clrn_weights_random(CLRN_ARCH_RESNET18, 10, 5, &weights) != CLRN_STATUS_SUCCESS)
    return 1;
  size_t n = (size_t)RUNS * BATCH * 3 * SIZE * SIZE;
  input = malloc(n * sizeof *input);
  for (size_t i = 0; input && i < n; i++)
    input[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
  clrn_log_set_callback(on_log, CLRN_LOG_LEVEL_WARNING, NULL);
  return input ? 0 : 1;
}

static int teardown(void) {
  clrn_log_set_callback(NULL, CLRN_LOG_LEVEL_ERROR, NULL);
  unsetenv("CLRN_FAULT");
  free(input);
  clrn_weights_close(weights);
  clrn_devices_free(all);
  return 0;
}

/* An engine over count devices split evenly, made with CLRN_FAULT set to fault. */
static clrn_status make(size_t count, const char *fault, clrn_engine **engine) {
  static const double even[2] = {1.0, 1.0};
  clrn_engine_options o;
  clrn_engine_options_default(&o);
  o.model.height = SIZE;
  o.model.width = SIZE;
  o.model.max_batch = BATCH;
  o.speeds = even;
  setenv("CLRN_FAULT", fault, 1);
  clrn_status status = clrn_engine_create(devices, count, weights, &o, engine);
  unsetenv("CLRN_FAULT");
  return status;
}

/* RUNS runs of BATCH images through an engine into logits (10 classes each). */
static clrn_status run_all(clrn_engine *engine, float *logits) {
  clrn_status status = CLRN_STATUS_SUCCESS;
  for (int r = 0; r < RUNS && status == CLRN_STATUS_SUCCESS; r++)
    status = clrn_engine_run(engine, input + (size_t)r * BATCH * 3 * SIZE * SIZE, BATCH,
                             logits + (size_t)r * BATCH * 10, NULL);
  return status;
}

static void test_device_fails(void) {
  float clean[RUNS * BATCH * 10], survived[RUNS * BATCH * 10];
  clrn_engine *engine = NULL;
  CLRN_ASSERT_OK(make(2, "", &engine));
  CLRN_ASSERT_OK(run_all(engine, clean));
  clrn_engine_release(engine);
  warnings = 0;
  CLRN_ASSERT_OK(make(2, "device:1:after:1", &engine));
  CLRN_ASSERT_OK(run_all(engine, survived));
  CU_ASSERT_EQUAL(memcmp(clean, survived, sizeof clean), 0);
  CU_ASSERT_EQUAL(warnings, 1);
  printf("\n  warning: %s", warning);
  CU_ASSERT_PTR_NOT_NULL(strstr(warning, "device 1 ("));
  CU_ASSERT_PTR_NOT_NULL(strstr(warning, devices[1].name));
  CU_ASSERT_EQUAL(clrn_engine_last_shard(engine, 0), BATCH);
  CU_ASSERT_EQUAL(clrn_engine_last_shard(engine, 1), 0);
  clrn_engine_release(engine);
}

static void test_only_device_fails(void) {
  float logits[RUNS * BATCH * 10];
  clrn_engine *engine = NULL;
  CLRN_ASSERT_OK(make(1, "device:0:after:2", &engine));
  CU_ASSERT_EQUAL(run_all(engine, logits), CLRN_STATUS_OPENCL_ERROR);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "injected by CLRN_FAULT"));
  clrn_engine_release(engine);
}

static void test_malformed_fault(void) {
  static const char *const bad[] = {"device:1", "device:x:after:1", "device:1:after:-1",
                                    "device:1:after:2:", "gpu:1:after:2"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    clrn_engine *engine = NULL;
    CU_ASSERT_EQUAL(make(2, bad[i], &engine), CLRN_STATUS_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NULL(engine);
    CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "is not device:N:after:K"));
  }
}

int main(void) {
  clrn_test_add_suite("engine fault", setup, teardown, "a device fails", test_device_fails,
                      "the only device fails", test_only_device_fails, "malformed CLRN_FAULT",
                      test_malformed_fault, NULL);
  return clrn_test_run();
}
