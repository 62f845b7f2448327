/* The shared test harness (see harness.h). */
#define _XOPEN_SOURCE 700
#include "harness.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void clrn_test_add_suite(const char *name, CU_InitializeFunc init, CU_CleanupFunc cleanup, ...) {
  if (CU_get_registry() == NULL && CU_initialize_registry() != CUE_SUCCESS) {
    fprintf(stderr, "CUnit: cannot initialize the registry\n");
    exit(1);
  }
  CU_pSuite suite = CU_add_suite(name, init, cleanup);
  if (!suite) {
    fprintf(stderr, "CUnit: cannot add suite %s\n", name);
    exit(1);
  }
  va_list args;
  va_start(args, cleanup);
  for (;;) {
    const char *test_name = va_arg(args, const char *);
    if (!test_name)
      break;
    CU_TestFunc function = va_arg(args, CU_TestFunc);
    if (!CU_add_test(suite, test_name, function)) {
      fprintf(stderr, "CUnit: cannot add test %s\n", test_name);
      exit(1);
    }
  }
  va_end(args);
}

int clrn_test_run(void) {
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failures = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
  CU_cleanup_registry();
  return failures == 0 ? 0 : 1;
}

bool clrn_test_pick_device(clrn_device_info *device) {
  clrn_device_info *devices = NULL;
  size_t count = 0;
  if (clrn_devices_enumerate(&devices, &count) != CLRN_STATUS_SUCCESS)
    return false;
  size_t chosen = 0, matched = 0;
  const char *spec = getenv("CLRN_TEST_DEVICE");
  clrn_status status = clrn_devices_select(devices, count, spec, &chosen, 1, &matched);
  if (status != CLRN_STATUS_SUCCESS) {
    fprintf(stderr, "test device: %s\n", clrn_last_error());
    clrn_devices_free(devices);
    exit(1);
  }
  *device = devices[chosen];
  clrn_devices_free(devices);
  return true;
}

void clrn_test_require_device(clrn_device_info *device) {
  if (!clrn_test_pick_device(device)) {
    fprintf(stderr, "no OpenCL device: skipping\n");
    exit(CLRN_TEST_SKIP);
  }
}

clrn_context *clrn_test_context(bool profiling) {
  clrn_device_info device;
  clrn_test_require_device(&device);
  clrn_context_options options;
  clrn_context_options_default(&options);
  options.profiling = profiling;
  clrn_context *context = NULL;
  if (clrn_context_create(&device, &options, &context) != CLRN_STATUS_SUCCESS) {
    fprintf(stderr, "cannot open a context on %s: %s\n", device.name, clrn_last_error());
    exit(1);
  }
  return context;
}

void clrn_test_temp_dir(char *buffer, size_t size) {
  const char *base = getenv("TMPDIR");
  snprintf(buffer, size, "%s/clrn-test-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(buffer)) {
    perror("mkdtemp");
    exit(1);
  }
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

void clrn_test_remove_dir(const char *path) { nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }
