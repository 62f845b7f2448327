/* Calibration cache: a speed in calibration.txt that is not a plain finite number
 * of images per second in range (inf, nan, 1e999, zero, negative, absurd, garbage)
 * must be discarded with a warning naming the file, and measured again; the file
 * rewritten afterwards keeps good lines of other devices and drops bad ones. Before
 * the fix, "inf" was taken as a speed and every multi-device run failed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sched/calibrate.h"

static char dir[512], path[600];
static clrn_context *ctx;
static clrn_weights *weights;
static clrn_model *model;
static clrn_model_options options;
static int discards;

static void count_discards(clrn_log_level level, const char *message, void *user_data) {
  (void)user_data;
  if (level == CLRN_LOG_LEVEL_WARNING && strstr(message, "calibration.txt: discarding"))
    discards++;
}

static void write_file(const char *text) {
  FILE *f = fopen(path, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs(text, f);
  fclose(f);
}

static char *read_file(void) {
  static char text[8192];
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
  if (f)
    fclose(f);
  text[n] = '\0';
  return text;
}

static void test_bad_speeds(void) {
  double speed = 0.0;
  CLRN_ASSERT_OK(clrn_calibrate(model, &options, true, &speed));
  char key[2048];
  const char *tab = strchr(read_file(), '\t');
  CU_ASSERT_PTR_NOT_NULL_FATAL(tab);
  snprintf(key, sizeof key, "%s", tab + 1);
  key[strcspn(key, "\n")] = '\0';
  const char *bad[] = {"inf",   "-inf",  "nan", "1e999", "-5", "0",
                       "1e300", "1e-30", "abc", "12x",   ""};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char text[4096];
    snprintf(text, sizeof text, "7.5\tother device|good\ninf\tother device|bad\n%s\t%s\n", bad[i],
             key);
    write_file(text);
    discards = 0;
    speed = 0.0;
    CLRN_ASSERT_OK(clrn_calibrate(model, &options, false, &speed));
    printf("\n  \"%s\": %d warning(s), measured again: %.3g images/s", bad[i], discards, speed);
    CU_ASSERT(isfinite(speed) && speed > 0 && speed < 1e9);
    CU_ASSERT_EQUAL(discards, 1);
    const char *after = read_file();
    CU_ASSERT_PTR_NOT_NULL(strstr(after, "7.5\tother device|good\n"));
    CU_ASSERT_PTR_NULL(strstr(after, "other device|bad"));
    /* The rewritten line is read back as it is, with no warning. */
    double again = 0.0;
    discards = 0;
    CLRN_ASSERT_OK(clrn_calibrate(model, &options, false, &again));
    CU_ASSERT_EQUAL(discards, 0);
    CU_ASSERT(fabs(again - speed) <= 1e-5 * speed);
  }
}

static int setup(void) {
  clrn_test_temp_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/calibration.txt", dir);
  setenv("CLRN_CACHE_DIR", dir, 1);
  clrn_log_set_callback(count_discards, CLRN_LOG_LEVEL_WARNING, NULL);
  ctx = clrn_test_context(false);
  clrn_model_options_default(&options);
  options.height = 32;
  options.width = 32;
  options.max_batch = 2;
  return clrn_weights_random(CLRN_ARCH_RESNET18, 10, 3, &weights) != CLRN_STATUS_SUCCESS ||
         clrn_model_create(ctx, weights, &options, &model) != CLRN_STATUS_SUCCESS;
}

static int teardown(void) {
  clrn_model_release(model);
  clrn_weights_close(weights);
  clrn_context_release(ctx);
  clrn_log_set_callback(NULL, CLRN_LOG_LEVEL_ERROR, NULL);
  clrn_test_remove_dir(dir);
  return 0;
}

int main(void) {
  clrn_test_add_suite("calibration", setup, teardown, "bad speeds in calibration.txt",
                      test_bad_speeds, NULL);
  return clrn_test_run();
}
