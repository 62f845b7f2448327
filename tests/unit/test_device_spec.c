/* The device selection spec parser, on hand-made device lists (no device needed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static clrn_device_info devices[4];

static void fill(clrn_device_info *d, size_t index, unsigned p, unsigned i, clrn_device_type type,
                 const char *name, const char *vendor, const char *platform) {
  memset(d, 0, sizeof *d);
  d->index = index;
  d->platform_index = p;
  d->device_index = i;
  d->type = type;
  snprintf(d->name, sizeof d->name, "%s", name);
  snprintf(d->vendor, sizeof d->vendor, "%s", vendor);
  snprintf(d->platform_name, sizeof d->platform_name, "%s", platform);
}

static int setup(void) {
  fill(&devices[0], 0, 0, 0, CLRN_DEVICE_TYPE_CPU, "pthread-haswell-AMD EPYC 7B13", "AuthenticAMD",
       "Portable Computing Language");
  fill(&devices[1], 1, 1, 0, CLRN_DEVICE_TYPE_GPU, "NVIDIA H100 80GB HBM3", "NVIDIA Corporation",
       "NVIDIA CUDA");
  fill(&devices[2], 2, 1, 1, CLRN_DEVICE_TYPE_GPU, "NVIDIA H100 80GB HBM3", "NVIDIA Corporation",
       "NVIDIA CUDA");
  fill(&devices[3], 3, 2, 0, CLRN_DEVICE_TYPE_ACCELERATOR, "Oclgrind Simulator", "Oclgrind",
       "Oclgrind");
  unsetenv("CLRN_DEVICE");
  return 0;
}

/* Selects spec and compares with the expected indices (terminated by -1). */
static void expect(const char *spec, const int *want) {
  size_t got[8], count = 0, n = 0;
  clrn_status status = clrn_devices_select(devices, 4, spec, got, 8, &count);
  if (status != CLRN_STATUS_SUCCESS)
    fprintf(stderr, "\nspec \"%s\": %s\n", spec ? spec : "(null)", clrn_last_error());
  CU_ASSERT_EQUAL_FATAL(status, CLRN_STATUS_SUCCESS);
  while (want[n] >= 0)
    n++;
  CU_ASSERT_EQUAL(count, n);
  for (size_t i = 0; i < n && i < count; i++)
    CU_ASSERT_EQUAL(got[i], (size_t)want[i]);
}

static void expect_error(const char *spec, clrn_status want) {
  size_t got[8], count = 99;
  clrn_status status = clrn_devices_select(devices, 4, spec, got, 8, &count);
  CU_ASSERT_EQUAL(status, want);
  CU_ASSERT_EQUAL(count, 0);
  /* The detail lists the devices there are, so the user can pick one. */
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "Oclgrind Simulator"));
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "pthread-haswell"));
}

static void test_index(void) {
  expect("0", (int[]){0, -1});
  expect("3", (int[]){3, -1});
  expect_error("4", CLRN_STATUS_NO_MATCHING_DEVICE);
  expect_error("99999999999999999999", CLRN_STATUS_NO_MATCHING_DEVICE);
}

static void test_platform_device(void) {
  expect("1:1", (int[]){2, -1});
  expect("2:0", (int[]){3, -1});
  expect_error("1:2", CLRN_STATUS_NO_MATCHING_DEVICE);
  expect_error("3:0", CLRN_STATUS_NO_MATCHING_DEVICE);
}

static void test_types(void) {
  expect("gpu", (int[]){1, 2, -1});
  expect("CPU", (int[]){0, -1});
  expect("accelerator", (int[]){3, -1});
  expect("all", (int[]){0, 1, 2, 3, -1});
  expect_error("custom", CLRN_STATUS_NO_MATCHING_DEVICE);
}

static void test_substrings(void) {
  expect("nvidia", (int[]){1, 2, -1});
  expect("PTHREAD", (int[]){0, -1});
  expect("portable computing", (int[]){0, -1}); /* platform name */
  expect("authenticamd", (int[]){0, -1});       /* vendor */
  expect("h100 80gb", (int[]){1, 2, -1});
  expect_error("radeon", CLRN_STATUS_NO_MATCHING_DEVICE);
}

static void test_lists(void) {
  expect("2,0", (int[]){2, 0, -1});
  expect("gpu,1", (int[]){1, 2, -1}); /* union, first mention order, no duplicates */
  expect(" 0 , 3 ", (int[]){0, 3, -1});
  expect("gpu,cpu", (int[]){1, 2, 0, -1});
  expect_error("0,,1", CLRN_STATUS_INVALID_ARGUMENT);
  expect_error("0,", CLRN_STATUS_INVALID_ARGUMENT);
  expect_error("0,radeon", CLRN_STATUS_NO_MATCHING_DEVICE);
}

static void test_default(void) {
  expect(NULL, (int[]){1, -1}); /* first GPU */
  expect("", (int[]){1, -1});
  setenv("CLRN_DEVICE", "cpu", 1);
  expect(NULL, (int[]){0, -1});
  expect("3", (int[]){3, -1}); /* a flag overrides the environment */
  setenv("CLRN_DEVICE", "nosuchdevice", 1);
  expect_error(NULL, CLRN_STATUS_NO_MATCHING_DEVICE);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "CLRN_DEVICE"));
  unsetenv("CLRN_DEVICE");
  /* Without a GPU the default is the first device. */
  size_t got = 99, count = 0;
  CLRN_ASSERT_OK(clrn_devices_select(&devices[3], 1, NULL, &got, 1, &count));
  CU_ASSERT_EQUAL(count, 1);
  CU_ASSERT_EQUAL(got, 0);
}

static void test_capacity_and_limits(void) {
  size_t got[1], count = 0;
  CLRN_ASSERT_OK(clrn_devices_select(devices, 4, "all", got, 1, &count));
  CU_ASSERT_EQUAL(count, 4); /* the full count, though only one index fits */
  CU_ASSERT_EQUAL(got[0], 0);
  char long_spec[2100];
  memset(long_spec, 'a', sizeof long_spec - 1);
  long_spec[sizeof long_spec - 1] = '\0';
  CU_ASSERT_EQUAL(clrn_devices_select(devices, 4, long_spec, got, 1, &count),
                  CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_EQUAL(clrn_devices_select(devices, 4, "0", got, 1, NULL), CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_EQUAL(clrn_devices_select(NULL, 0, "0", got, 1, &count),
                  CLRN_STATUS_NO_MATCHING_DEVICE);
}

int main(void) {
  clrn_test_add_suite("device_spec", setup, NULL, "index", test_index, "platform:device",
                      test_platform_device, "types", test_types, "substrings", test_substrings,
                      "lists", test_lists, "default", test_default, "capacity",
                      test_capacity_and_limits, NULL);
  return clrn_test_run();
}
