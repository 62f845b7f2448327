/* Test harness shared by every CUnit suite: a main() helper that runs registered
 * suites and maps the result to an exit code CTest understands (77 = skipped),
 * and a helper that opens the test device or asks for a skip when there is none. */
#ifndef CLRN_TESTS_HARNESS_H
#define CLRN_TESTS_HARNESS_H

#include <CUnit/Basic.h>
#include <stdbool.h>

#include "clresnet/clresnet.h"

#define CLRN_TEST_SKIP 77

/** Runs every registered suite; returns 0 when all passed, 1 otherwise. */
int clrn_test_run(void);

/** Adds a suite with the given tests (NULL-terminated name/function pairs). */
void clrn_test_add_suite(const char *name, CU_InitializeFunc init, CU_CleanupFunc cleanup, ...);

/** Picks the device tests run on: CLRN_TEST_DEVICE (a device spec), else the
 * library default. Returns false (the caller exits with CLRN_TEST_SKIP) when the
 * machine has no OpenCL device. */
bool clrn_test_pick_device(clrn_device_info *device);

/** Picks the test device like clrn_test_pick_device(); when there is none, says so
 * and exits the process with CLRN_TEST_SKIP (for a suite's main()). */
void clrn_test_require_device(clrn_device_info *device);

/** Opens a context on the test device; exits the process with CLRN_TEST_SKIP when
 * there is no device, and fails loudly when there is one but it cannot be used. */
clrn_context *clrn_test_context(bool profiling);

/** Makes an empty temporary folder and writes its path into buffer. */
void clrn_test_temp_dir(char *buffer, size_t size);

/** Deletes a folder made by clrn_test_temp_dir() and everything in it. */
void clrn_test_remove_dir(const char *path);

/** Asserts success and shows the library's error detail when it is not. */
#define CLRN_ASSERT_OK(expr)                                                                       \
  do {                                                                                             \
    clrn_status clrn_assert_status_ = (expr);                                                      \
    if (clrn_assert_status_ != CLRN_STATUS_SUCCESS)                                                \
      fprintf(stderr, "\n%s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #expr,                        \
              clrn_status_string(clrn_assert_status_), clrn_last_error());                         \
    CU_ASSERT_EQUAL_FATAL(clrn_assert_status_, CLRN_STATUS_SUCCESS);                               \
  } while (0)

#endif
