/* The tuning file without a device: write and read back, the notes for a corrupt,
 * truncated, other-driver or other-profile file (each then ignored whole), and the
 * way an entry comes back into a plan's choice (clrn_conv2d_configure) and the
 * candidate list the tuner times (one table of variants). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "plan/conv_candidates.h"
#include "runtime/tuning_file.h"

static char dir[256], path[512];
static char last_note[1024];
static int notes;

static void on_log(clrn_log_level level, const char *message, void *user_data) {
  (void)user_data;
  if (level <= CLRN_LOG_LEVEL_INFO) {
    notes++;
    snprintf(last_note, sizeof last_note, "%s", message);
  }
}

static int setup(void) {
  clrn_log_set_callback(on_log, CLRN_LOG_LEVEL_INFO, NULL);
  clrn_test_temp_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/tuning-test.txt", dir);
  return 0;
}

static int teardown(void) {
  clrn_test_remove_dir(dir);
  return 0;
}

static clrn_device_info device(const char *driver) {
  clrn_device_info d;
  memset(&d, 0, sizeof d);
  snprintf(d.name, sizeof d.name, "pthread-test-cpu");
  snprintf(d.driver_version, sizeof d.driver_version, "%s", driver);
  return d;
}

/* A table of two entries: a blocked layer with tile sizes, a gemm one without. */
static void two_entries(clrn_tuned_convs *t) {
  memset(t, 0, sizeof *t);
  clrn_tuned_conv a = {
      .key = {64, 64, 3, 3, 1, 1, 1, 1, 1, 3136}, .variant = "blocked", .count = 3};
  a.ids[0] = CLRN_TUNING_CONV_VEC, a.values[0] = 16;
  a.ids[1] = CLRN_TUNING_CONV_COUT_BLOCK, a.values[1] = 32;
  a.ids[2] = CLRN_TUNING_CONV_BLOCK_WG, a.values[2] = 16;
  clrn_tuned_conv b = {.key = {256, 64, 1, 1, 1, 1, 0, 0, 1, 3136}, .variant = "gemm"};
  CU_ASSERT(clrn_tuned_put(t, &a));
  CU_ASSERT(clrn_tuned_put(t, &b));
}

static void write_text(const char *text) {
  FILE *f = fopen(path, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs(text, f);
  fclose(f);
}

static void test_round_trip(void) {
  clrn_device_info d = device("3.1+debian");
  clrn_tuned_convs *written = malloc(sizeof *written), *read = malloc(sizeof *read);
  CU_ASSERT_PTR_NOT_NULL_FATAL(written && read);
  two_entries(written);
  CU_ASSERT_EQUAL(clrn_tuning_file_write(path, &d, "pocl-cpu", 8, written), CLRN_STATUS_SUCCESS);
  notes = 0;
  clrn_tuning_file_read(path, &d, "pocl-cpu", read);
  CU_ASSERT_EQUAL(notes, 0);
  CU_ASSERT_EQUAL(read->count, 2);
  CU_ASSERT(clrn_tuned_equal(written, read));
  /* Putting an entry of a key already there replaces it. */
  clrn_tuned_conv again = written->entries[1];
  snprintf(again.variant, sizeof again.variant, "blocked");
  CU_ASSERT(clrn_tuned_put(read, &again));
  CU_ASSERT_EQUAL(read->count, 2);
  CU_ASSERT_STRING_EQUAL(clrn_tuned_find(read, again.key)->variant, "blocked");
  CU_ASSERT_FALSE(clrn_tuned_equal(written, read));
  free(written);
  free(read);
}

/* Reads text as the tuning file and expects it ignored with a note containing why. */
static void expect_ignored(const char *text, const char *driver, const char *profile,
                           const char *why) {
  write_text(text);
  clrn_device_info d = device(driver);
  clrn_tuned_convs *t = malloc(sizeof *t);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  t->count = 7;
  notes = 0;
  last_note[0] = '\0';
  clrn_tuning_file_read(path, &d, profile, t);
  CU_ASSERT_EQUAL(t->count, 0);
  CU_ASSERT_EQUAL(notes, 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(last_note, "ignored"));
  CU_ASSERT_PTR_NOT_NULL(strstr(last_note, why));
  if (!strstr(last_note, why))
    fprintf(stderr, "note: %s (wanted %s)\n", last_note, why);
  free(t);
}

#define HEAD                                                                                       \
  "clresnet-tuning 1\ndevice pthread-test-cpu\ndriver 3.1+debian\nprofile pocl-cpu\nbatch 8\n"
#define GOOD_CONV "conv 64 64 3 3 1 1 1 1 1 3136 blocked CONV_VEC=16 CONV_COUT_BLOCK=32\n"

static void test_foreign_and_corrupt(void) {
  expect_ignored(HEAD GOOD_CONV "end 1\n", "3.2", "pocl-cpu",
                 "another driver version (3.1+debian, now 3.2)");
  expect_ignored(HEAD GOOD_CONV "end 1\n", "3.1+debian", "nvidia", "another profile");
  expect_ignored(HEAD GOOD_CONV, "3.1+debian", "pocl-cpu", "truncated");
  expect_ignored(HEAD GOOD_CONV "end 2\n", "3.1+debian", "pocl-cpu", "end line");
  expect_ignored("garbage\n", "3.1+debian", "pocl-cpu", "does not start");
  expect_ignored(HEAD "conv 64 64 3 3 1 1 1 1 1 3136 blocked CONV_VEC=3\nend 1\n", "3.1+debian",
                 "pocl-cpu", "CONV_VEC=3");
  expect_ignored(HEAD "conv 64 64 3 3 blocked\nend 1\n", "3.1+debian", "pocl-cpu", "shape number");
  expect_ignored(HEAD "conv 64 64 3 3 1 1 1 1 1 3136 blocked NO_SUCH_KEY=1\nend 1\n", "3.1+debian",
                 "pocl-cpu", "NO_SUCH_KEY");
  expect_ignored(HEAD GOOD_CONV "end 1\nconv 1 1 1 1 1 1 0 0 1 1 direct\n", "3.1+debian",
                 "pocl-cpu", "follows the end");
  /* No file at all: empty, and no note. */
  remove(path);
  clrn_device_info d = device("3.1+debian");
  clrn_tuned_convs *t = malloc(sizeof *t);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  notes = 0;
  clrn_tuning_file_read(path, &d, "pocl-cpu", t);
  CU_ASSERT_EQUAL(t->count, 0);
  CU_ASSERT_EQUAL(notes, 0);
  free(t);
}

/* The profile values of a CPU (devices/pocl-cpu.json), without a tuning file. */
static void cpu_tuning(clrn_conv_tuning *t) {
  memset(t, 0, sizeof *t);
  *t = (clrn_conv_tuning){.vec = 8,
                          .cout_block = 16,
                          .pix_block = 6,
                          .direct_wg = 64,
                          .blocked_wg = 4,
                          .auto_blocked = 1,
                          .pixels_first = 2,
                          .gemm_mr = 8,
                          .gemm_nr = 16,
                          .gemm_wg = 4,
                          .auto_gemm = 1,
                          .gemm_min_plane = 100};
}

static void test_choice_in_plan(void) {
  clrn_conv_tuning *t = malloc(sizeof *t);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  cpu_tuning(t);
  clrn_conv_shape s3 = {64, 64, 3, 3, 1, 1, 1, 1, 1, true};
  clrn_conv2d_config c;
  clrn_conv2d_configure(t, &s3, 3136, CLRN_CONV_AUTO, &c);
  CU_ASSERT_EQUAL(c.variant, CLRN_CONV_BLOCKED);
  CU_ASSERT_EQUAL(c.vec, 8);
  CU_ASSERT_FALSE(c.tuned);
  two_entries(&t->tuned);
  clrn_conv2d_configure(t, &s3, 3136, CLRN_CONV_AUTO, &c);
  CU_ASSERT_EQUAL(c.variant, CLRN_CONV_BLOCKED);
  CU_ASSERT_EQUAL(c.vec, 16);
  CU_ASSERT_EQUAL(c.cout_block, 32);
  CU_ASSERT_EQUAL(c.pix_block, 6); /* not in the entry: the profile's */
  CU_ASSERT_EQUAL(c.work_group, 16);
  CU_ASSERT(c.tuned);
  char text[64];
  clrn_conv2d_config_describe(&c, text, sizeof text);
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "tuned"));
  /* Another plane, an explicit variant, an unknown plane: the profile decides. */
  clrn_conv2d_configure(t, &s3, 784, CLRN_CONV_AUTO, &c);
  CU_ASSERT_FALSE(c.tuned);
  clrn_conv2d_configure(t, &s3, 3136, CLRN_CONV_DIRECT, &c);
  CU_ASSERT_EQUAL(c.variant, CLRN_CONV_DIRECT);
  clrn_conv2d_configure(t, &s3, 0, CLRN_CONV_AUTO, &c);
  CU_ASSERT_FALSE(c.tuned);
  /* A 1x1 layer the profile runs on GEMM, stored as gemm with no values. */
  clrn_conv_shape s1 = {256, 64, 1, 1, 1, 1, 0, 0, 1, true};
  clrn_conv2d_configure(t, &s1, 3136, CLRN_CONV_AUTO, &c);
  CU_ASSERT_EQUAL(c.variant, CLRN_CONV_GEMM);
  CU_ASSERT(c.tuned);
  free(t);
}

static bool has_variant(const clrn_conv_candidate *c, size_t n, int variant) {
  for (size_t i = 0; i < n; i++)
    if (c[i].variant == variant)
      return true;
  return false;
}

static void test_candidates(void) {
  clrn_conv_tuning *t = malloc(sizeof *t);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  cpu_tuning(t);
  clrn_conv_candidate c[CLRN_CONV_CANDIDATES_MAX];
  clrn_conv_shape s1 = {256, 64, 1, 1, 1, 1, 0, 0, 1, false};
  size_t n = clrn_conv_candidates(t, &s1, 3136, false, c);
  CU_ASSERT_EQUAL(c[0].count, 0); /* the profile's own choice first */
  CU_ASSERT_EQUAL(c[0].variant, CLRN_CONV_GEMM);
  CU_ASSERT(has_variant(c, n, CLRN_CONV_DIRECT));
  CU_ASSERT(has_variant(c, n, CLRN_CONV_BLOCKED));
  size_t quick = clrn_conv_candidates(t, &s1, 3136, true, c);
  CU_ASSERT(quick >= 3 && quick < n);
  clrn_conv_shape s3 = {64, 64, 3, 3, 1, 1, 1, 1, 1, false};
  n = clrn_conv_candidates(t, &s3, 3136, false, c);
  CU_ASSERT_FALSE(has_variant(c, n, CLRN_CONV_GEMM)); /* gemm does not fit a 3x3 */
  /* No two candidates launch alike, and every candidate becomes an entry that maps
   * back to the same config. */
  for (size_t i = 0; i < n; i++) {
    clrn_conv2d_config want, got;
    clrn_conv_candidate_config(t, &s3, 3136, &c[i], &want);
    CU_ASSERT(want.cout_block % (want.vec ? want.vec : 1) == 0);
    clrn_tuned_conv e;
    clrn_conv_candidate_entry(&s3, 3136, &c[i], &e);
    t->tuned.count = 0;
    CU_ASSERT(clrn_tuned_put(&t->tuned, &e));
    clrn_conv2d_configure(t, &s3, 3136, CLRN_CONV_AUTO, &got);
    CU_ASSERT_EQUAL(got.variant, want.variant);
    CU_ASSERT_EQUAL(got.vec, want.vec);
    CU_ASSERT_EQUAL(got.cout_block, want.cout_block);
    CU_ASSERT_EQUAL(got.pix_block, want.pix_block);
    CU_ASSERT_EQUAL(got.work_group, want.work_group);
    t->tuned.count = 0;
  }
  CU_ASSERT_EQUAL(clrn_conv2d_variant_from_string("gemm"), CLRN_CONV_GEMM);
  CU_ASSERT_EQUAL(clrn_conv2d_variant_from_string("nonsense"), -1);
  free(t);
}

int main(void) {
  clrn_test_add_suite("tuning file", setup, teardown, "round trip", test_round_trip,
                      "corrupt and foreign files", test_foreign_and_corrupt, "choice in the plan",
                      test_choice_in_plan, "candidates", test_candidates, NULL);
  return clrn_test_run();
}
