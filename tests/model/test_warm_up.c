/* The first run is not the slow one: with fresh kernel caches (clresnet's and
 * PoCL's, both set here before the platform loads), every program builds without a
 * warning in its build log, and after a warm-up (the model option, or
 * clrn_engine_warm_up() for a run in pieces) the first real run compiles nothing
 * more: on PoCL, no new compiled kernel (.so) appears in POCL_CACHE_DIR. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define SIZE 40
#define CLASSES 10

static char clrn_cache[4096], pocl_cache[4096];
static clrn_context *context;
static clrn_weights *weights;
static size_t build_logs, build_warnings;

static void on_log(clrn_log_level level, const char *message, void *user_data) {
  (void)level;
  (void)user_data;
  if (!strstr(message, "build log of kernels/"))
    return;
  build_logs++;
  if (strstr(message, "warning")) {
    build_warnings++;
    fprintf(stderr, "%s\n", message);
  }
}

static size_t so_files;
static int count_so(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  size_t n = strlen(path);
  if (type == FTW_F && n > 3 && strcmp(path + n - 3, ".so") == 0)
    so_files++;
  return 0;
}

/* Compiled kernels in PoCL's cache folder. */
static size_t pocl_kernels(void) {
  so_files = 0;
  nftw(pocl_cache, count_so, 16, FTW_PHYS);
  return so_files;
}

static bool is_pocl(void) {
  return strstr(clrn_context_device(context)->platform_name, "Portable Computing Language") != NULL;
}

static clrn_model_options options(int max_batch, bool fuse, bool warm_up) {
  clrn_model_options o;
  clrn_model_options_default(&o);
  o.height = SIZE;
  o.width = SIZE;
  o.max_batch = max_batch;
  o.fuse = fuse;
  o.warm_up = warm_up;
  return o;
}

static void test_build_logs_clean(void) {
  CLRN_ASSERT_OK(clrn_context_prepare(context, NULL, 0));
  for (int fuse = 0; fuse < 2; fuse++) { /* the variants both kinds of plans use */
    clrn_model_options o = options(1, fuse, false);
    clrn_model *m = NULL;
    CLRN_ASSERT_OK(clrn_model_create(context, weights, &o, &m));
    clrn_model_release(m);
  }
  clrn_build_stats stats;
  clrn_context_build_stats(context, &stats);
  CU_ASSERT(stats.compiled > 0); /* fresh cache: the logs were really produced */
  CU_ASSERT_EQUAL(build_warnings, 0);
}

static void test_first_run_compiles_nothing(void) {
  clrn_model_options o = options(2, true, true);
  clrn_model *m = NULL;
  CLRN_ASSERT_OK(clrn_model_create(context, weights, &o, &m));
  size_t n = (size_t)2 * 3 * SIZE * SIZE;
  float *input = calloc(n, sizeof *input), logits[2 * CLASSES];
  CU_ASSERT_PTR_NOT_NULL_FATAL(input);
  for (size_t i = 0; i < n; i++)
    input[i] = (float)(i % 7) - 3.0f;
  size_t before = pocl_kernels();
  CLRN_ASSERT_OK(clrn_model_run(m, input, 2, logits, NULL));
  if (is_pocl()) {
    CU_ASSERT(before > 0);
    CU_ASSERT_EQUAL(pocl_kernels(), before);
  }
  clrn_model_release(m);
  free(input);
}

static size_t warm_calls, warm_runs, warm_total;
static void on_warm_up(const clrn_device_info *device, size_t done, size_t total, bool compiled,
                       void *user_data) {
  (void)device;
  (void)compiled;
  (void)user_data;
  CU_ASSERT_EQUAL(done, warm_calls); /* 0 first, then one more after each run */
  warm_calls++;
  warm_runs = done;
  warm_total = total;
}

static void test_engine_pieces(void) {
  clrn_device_info device = *clrn_context_device(context);
  clrn_engine_options eo;
  clrn_engine_options_default(&eo);
  eo.model = options(4, true, false);
  clrn_engine *engine = NULL;
  CLRN_ASSERT_OK(clrn_engine_create(&device, 1, weights, &eo, &engine));
  /* 6 images in batches of up to 4: pieces of 4 and 2, two warm-up runs. */
  CLRN_ASSERT_OK(clrn_engine_warm_up(engine, 6, on_warm_up, NULL));
  CU_ASSERT_EQUAL(warm_calls, 3);
  CU_ASSERT_EQUAL(warm_runs, 2);
  CU_ASSERT_EQUAL(warm_total, 2);
  size_t n = (size_t)6 * 3 * SIZE * SIZE;
  float *input = calloc(n, sizeof *input), logits[6 * CLASSES];
  CU_ASSERT_PTR_NOT_NULL_FATAL(input);
  size_t before = pocl_kernels();
  CLRN_ASSERT_OK(clrn_engine_run(engine, input, 6, logits, NULL));
  if (is_pocl())
    CU_ASSERT_EQUAL(pocl_kernels(), before);
  CU_ASSERT_EQUAL(clrn_engine_warm_up(engine, 0, NULL, NULL), CLRN_STATUS_INVALID_ARGUMENT);
  clrn_engine_release(engine);
  free(input);
}

static int setup(void) {
  context = clrn_test_context(false);
  return !context ||
         clrn_weights_random(CLRN_ARCH_RESNET18, CLASSES, 5, &weights) != CLRN_STATUS_SUCCESS;
}

static int teardown(void) {
  clrn_weights_close(weights);
  clrn_context_release(context);
  return 0;
}

int main(void) {
  /* Fresh caches, before anything loads the OpenCL platform. */
  clrn_test_temp_dir(clrn_cache, sizeof clrn_cache);
  clrn_test_temp_dir(pocl_cache, sizeof pocl_cache);
  setenv("CLRN_CACHE_DIR", clrn_cache, 1);
  setenv("POCL_CACHE_DIR", pocl_cache, 1);
  unsetenv("POCL_KERNEL_CACHE");
  clrn_log_set_callback(on_log, CLRN_LOG_LEVEL_INFO, NULL);
  clrn_device_info probe;
  clrn_test_require_device(&probe);
  clrn_test_add_suite("warm-up", setup, teardown, "build logs without warnings",
                      test_build_logs_clean, "first run compiles nothing",
                      test_first_run_compiles_nothing, "engine run in pieces", test_engine_pieces,
                      NULL);
  int result = clrn_test_run();
  clrn_test_remove_dir(clrn_cache);
  clrn_test_remove_dir(pocl_cache);
  return result;
}
