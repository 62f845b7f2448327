/* One model across several devices: the logits of a batch split across the
 * devices named by CLRN_TEST_DEVICES must equal, within fp32 tolerance, those of
 * one device running the whole batch, and devices with the same tuning values
 * share one plan. Run by CTest in two setups: two PoCL
 * devices (POCL_DEVICES="pthread pthread") and two platforms (PoCL and Oclgrind
 * through OCL_ICD_VENDORS). Skips when fewer than two devices match.
 *
 * CLRN_TEST_SIZE (default 64) and CLRN_TEST_BATCH (default 5) keep the work small
 * for slow simulators. CLRN_TEST_REPEAT (default 1) runs the uneven split that many
 * times on one engine; with CLRN_TEST_EXACT=1 the logits must then equal the one
 * device's bit for bit (devices sharing one compiler, such as PoCL's basic and
 * pthread: the split must not change a single bit). Tolerance: as the network test, 1e-4 of the
 * largest logit; different devices compile the kernels with different compilers, so their float32
 * rounding differs slightly even though the math is the same. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sched/model.h"

#define TOLERANCE 1e-4

static clrn_device_info *devices;
static size_t device_count;
static clrn_weights *weights;
static int size, batch;
static float *input, *expected;
static size_t classes;

static int env_int(const char *name, int fallback) {
  const char *text = getenv(name);
  return text && atoi(text) > 0 ? atoi(text) : fallback;
}

static clrn_engine_options engine_options(void) {
  clrn_engine_options o;
  clrn_engine_options_default(&o);
  o.model.height = size;
  o.model.width = size;
  o.model.max_batch = batch;
  return o;
}

/* The engine builds one plan per distinct set of tuning values: devices with equal
 * values (two devices of one profile) share it, the others get their own. */
static void check_shared_plans(clrn_engine *engine, const clrn_device_info *list, size_t count) {
  const clrn_plan *first = clrn_model_plan(clrn_engine_model(engine, 0));
  for (size_t i = 1; i < count; i++) {
    const clrn_model *m = clrn_engine_model(engine, i);
    clrn_conv_tuning tuning;
    clrn_conv_tuning_read(clrn_model_context(m), &tuning);
    bool same = clrn_conv_tuning_equal(&tuning, &first->tuning);
    CU_ASSERT_EQUAL(clrn_model_plan(m) == first, same);
    if (strcmp(list[i].profile, list[0].profile) == 0)
      CU_ASSERT_PTR_EQUAL(clrn_model_plan(m), first);
    printf("\n  %s: %s plan", list[i].name, same ? "shares device 0's" : "has its own");
  }
}

/* The reference: device 0 alone runs the whole batch into expected. */
static int reference_run(void) {
  clrn_context *ctx = NULL;
  clrn_model *model = NULL;
  clrn_model_options mo = engine_options().model;
  clrn_status status = clrn_context_create(&devices[0], NULL, &ctx);
  if (status == CLRN_STATUS_SUCCESS)
    status = clrn_model_create(ctx, weights, &mo, &model);
  if (status == CLRN_STATUS_SUCCESS)
    status = clrn_model_run(model, input, batch, expected, NULL);
  if (status != CLRN_STATUS_SUCCESS)
    fprintf(stderr, "reference run: %s\n", clrn_last_error());
  clrn_model_release(model);
  clrn_context_release(ctx);
  return status == CLRN_STATUS_SUCCESS ? 0 : 1;
}

/* An engine over the given devices with the given speeds (NULL: calibrated). */
static clrn_engine *make_engine(const clrn_device_info *list, size_t count, const double *speeds) {
  clrn_engine_options o = engine_options();
  o.speeds = speeds;
  clrn_engine *engine = NULL;
  CLRN_ASSERT_OK(clrn_engine_create(list, count, weights, &o, &engine));
  return engine;
}

/* Device 0 twice as fast as the others: shards 2:1:..., still in input order. */
static size_t uneven_speeds(double speeds[8]) {
  size_t used = device_count < 8 ? device_count : 8;
  for (size_t i = 0; i < used; i++)
    speeds[i] = i == 0 ? 2.0 : 1.0;
  return used;
}

/* Runs the batch through an engine over the given devices and compares. */
static void run_and_compare(const clrn_device_info *list, size_t count, const double *speeds,
                            bool expect_every_device_used) {
  clrn_engine *engine = make_engine(list, count, speeds);
  check_shared_plans(engine, list, count);
  size_t n = (size_t)batch * classes;
  float *logits = malloc(n * sizeof *logits);
  CU_ASSERT_PTR_NOT_NULL_FATAL(logits);
  CLRN_ASSERT_OK(clrn_engine_run(engine, input, batch, logits, NULL));
  int total = 0;
  for (size_t i = 0; i < count; i++) {
    int shard = clrn_engine_last_shard(engine, i);
    printf("\n  %s: %d images (speed %.3g)", list[i].name, shard, clrn_engine_speed(engine, i));
    total += shard;
    if (expect_every_device_used)
      CU_ASSERT(shard > 0);
  }
  CU_ASSERT_EQUAL(total, batch);
  double largest = 0.0, worst = 0.0;
  for (size_t i = 0; i < n; i++) {
    largest = fmax(largest, fabs(expected[i]));
    worst = fmax(worst, fabs((double)logits[i] - expected[i]));
  }
  printf("\n  max difference from one device: %.3g of max |logit| %.4g (tolerance %.0e)", worst,
         largest, TOLERANCE);
  CU_ASSERT(worst <= TOLERANCE * largest);
  free(logits);
  clrn_engine_release(engine);
}

static void test_even_split(void) {
  double speeds[8];
  for (size_t i = 0; i < device_count && i < 8; i++)
    speeds[i] = 1.0;
  run_and_compare(devices, device_count < 8 ? device_count : 8, speeds, true);
}

static void test_uneven_split(void) {
  double speeds[8];
  size_t used = uneven_speeds(speeds);
  run_and_compare(devices, used, speeds, false);
}

/* The uneven split run many times in a row on one engine. PoCL before 6.0 aborted
 * or crashed here when two of its CPU devices ran the same kernel with different
 * grid sizes at once (see src/runtime/platform_lock.h). */
static void test_repeated_uneven_split(void) {
  int repeats = env_int("CLRN_TEST_REPEAT", 1);
  bool exact = env_int("CLRN_TEST_EXACT", 0) == 1;
  double speeds[8];
  size_t used = uneven_speeds(speeds);
  clrn_engine *engine = make_engine(devices, used, speeds);
  size_t n = (size_t)batch * classes;
  float *logits = malloc(n * sizeof *logits);
  CU_ASSERT_PTR_NOT_NULL_FATAL(logits);
  float *first = malloc(n * sizeof *first);
  CU_ASSERT_PTR_NOT_NULL_FATAL(first);
  int differing = 0;
  for (int r = 0; r < repeats; r++) {
    memset(logits, 0, n * sizeof *logits);
    CLRN_ASSERT_OK(clrn_engine_run(engine, input, batch, logits, NULL));
    if (r == 0)
      memcpy(first, logits, n * sizeof *first);
    else if (memcmp(logits, first, n * sizeof *first) != 0)
      differing++;
  }
  /* The one-device reference only now: run first, its wider grids would hide the race. */
  CU_ASSERT_EQUAL_FATAL(reference_run(), 0);
  double largest = 0.0, worst = 0.0;
  for (size_t i = 0; i < n; i++) {
    largest = fmax(largest, fabs(expected[i]));
    worst = fmax(worst, fabs((double)first[i] - expected[i]));
  }
  if (exact ? memcmp(first, expected, n * sizeof *first) != 0 : worst > TOLERANCE * largest)
    differing++;
  free(first);
  printf("\n  %d runs, shards %d+%d, %d differing from the first or one device (%s)", repeats,
         clrn_engine_last_shard(engine, 0), clrn_engine_last_shard(engine, 1), differing,
         exact ? "bit for bit" : "within tolerance");
  CU_ASSERT(clrn_engine_last_shard(engine, 0) != clrn_engine_last_shard(engine, 1));
  CU_ASSERT_EQUAL(differing, 0);
  free(logits);
  clrn_engine_release(engine);
}

/* The span [first start, last end] of the device commands of m's last run. */
static void run_span(const clrn_model *m, uint64_t *from, uint64_t *to) {
  const clrn_trace_record *records = NULL;
  size_t count = 0;
  CLRN_ASSERT_OK(clrn_model_trace(m, &records, &count));
  CU_ASSERT_FATAL(count > 0);
  *from = UINT64_MAX;
  *to = 0;
  for (size_t i = 0; i < count; i++) {
    *from = records[i].start_ns < *from ? records[i].start_ns : *from;
    *to = records[i].end_ns > *to ? records[i].end_ns : *to;
  }
}

/* Two devices of one platform run their shards at the same time: in at least one
 * of five uneven runs, the spans of their commands on the device clock (the host's
 * for PoCL's CPU devices) intersect. With one process-wide lock for old PoCL's CPU
 * devices, which this suite's setups use, they never did. */
static void test_shards_overlap(void) {
  if (devices[0].platform_id != devices[1].platform_id) {
    printf("\n  devices of two platforms may not share a clock: not checked");
    return;
  }
  double speeds[8];
  clrn_engine_options o = engine_options();
  o.speeds = speeds;
  o.profiling = true;
  clrn_engine *engine = NULL;
  CLRN_ASSERT_OK(clrn_engine_create(devices, uneven_speeds(speeds), weights, &o, &engine));
  CU_ASSERT_PTR_NOT_NULL_FATAL(engine);
  float *logits = malloc((size_t)batch * classes * sizeof *logits);
  CU_ASSERT_PTR_NOT_NULL_FATAL(logits);
  int overlapping = 0;
  for (int r = 0; r < 5 && !overlapping; r++) {
    CLRN_ASSERT_OK(clrn_engine_run(engine, input, batch, logits, NULL));
    uint64_t from[2], to[2];
    for (size_t i = 0; i < 2; i++)
      run_span(clrn_engine_model(engine, i), &from[i], &to[i]);
    overlapping += from[0] < to[1] && from[1] < to[0];
    uint64_t base = from[0] < from[1] ? from[0] : from[1];
    printf("\n  run %d: device 0 at %.1f-%.1f ms, device 1 at %.1f-%.1f ms", r,
           (double)(from[0] - base) / 1e6, (double)(to[0] - base) / 1e6,
           (double)(from[1] - base) / 1e6, (double)(to[1] - base) / 1e6);
  }
  CU_ASSERT(overlapping > 0);
  free(logits);
  clrn_engine_release(engine);
}

static void test_calibrated_split(void) {
  run_and_compare(devices, device_count < 8 ? device_count : 8, NULL, false);
}

static void test_one_device_engine(void) { run_and_compare(devices, 1, NULL, true); }

static int setup(void) {
  clrn_device_info *all = NULL;
  size_t all_count = 0;
  if (clrn_devices_enumerate(&all, &all_count) != CLRN_STATUS_SUCCESS)
    return 1;
  const char *spec = getenv("CLRN_TEST_DEVICES");
  size_t chosen[16], count = 0;
  if (clrn_devices_select(all, all_count, spec ? spec : "all", chosen, 16, &count) !=
      CLRN_STATUS_SUCCESS) {
    fprintf(stderr, "%s\n", clrn_last_error());
    clrn_devices_free(all);
    return 1;
  }
  device_count = count < 16 ? count : 16;
  devices = malloc(device_count * sizeof *devices);
  for (size_t i = 0; i < device_count; i++)
    devices[i] = all[chosen[i]];
  clrn_devices_free(all);
  size = env_int("CLRN_TEST_SIZE", 64);
  batch = env_int("CLRN_TEST_BATCH", 5);
  if (clrn_weights_random(CLRN_ARCH_RESNET18, 1000, 7, &weights) != CLRN_STATUS_SUCCESS)
    return 1;
  classes = 1000;
  size_t in = (size_t)batch * 3 * (size_t)size * (size_t)size;
  input = malloc(in * sizeof *input);
  expected = malloc((size_t)batch * classes * sizeof *expected);
  for (size_t i = 0; input && i < in; i++)
    input[i] = (float)sin(0.37 * (double)i) * 1.5f;
  return getenv("CLRN_TEST_REPEAT") ? 0 : reference_run();
}

static int teardown(void) {
  clrn_weights_close(weights);
  free(devices);
  free(input);
  free(expected);
  return 0;
}

int main(void) {
  clrn_device_info *all = NULL;
  size_t all_count = 0, chosen[16], count = 0;
  const char *spec = getenv("CLRN_TEST_DEVICES");
  if (clrn_devices_enumerate(&all, &all_count) != CLRN_STATUS_SUCCESS ||
      clrn_devices_select(all, all_count, spec ? spec : "all", chosen, 16, &count) !=
          CLRN_STATUS_SUCCESS ||
      count < 2) {
    fprintf(stderr, "fewer than two devices match \"%s\": skipping\n", spec ? spec : "all");
    clrn_devices_free(all);
    return CLRN_TEST_SKIP;
  }
  clrn_devices_free(all);
  if (getenv("CLRN_TEST_REPEAT")) {
    clrn_test_add_suite("multidevice", setup, teardown, "uneven split, repeated",
                        test_repeated_uneven_split, "shards overlap in time", test_shards_overlap,
                        NULL);
    return clrn_test_run();
  }
  clrn_test_add_suite("multidevice", setup, teardown, "one device through the engine",
                      test_one_device_engine, "even split", test_even_split, "uneven split",
                      test_uneven_split, "calibrated split", test_calibrated_split, NULL);
  return clrn_test_run();
}
