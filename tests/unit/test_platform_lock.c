/* Old PoCL's racy kernel cache (src/runtime/platform_lock.h): which devices have
 * it, the per-device -DCLRN_INSTANCE build define that keeps two devices' kernel
 * hashes apart, and run locks that are per device: a run on one device never waits
 * for another device's run, but two runs on one device take turns. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <threads.h>
#include <time.h>

#include "harness.h"
#include "runtime/platform_lock.h"
#include "runtime/profile.h"
#include "runtime/program.h"

static clrn_device_info device(clrn_device_type type, const char *platform_version,
                               unsigned index) {
  clrn_device_info d;
  memset(&d, 0, sizeof d);
  d.type = type;
  d.device_index = index;
  d.opencl_c_major = 1;
  d.opencl_c_minor = 2;
  d.device_id = (cl_device_id)(uintptr_t)(0x1000 + index);
  snprintf(d.name, sizeof d.name, "basic-skylake-avx512-Intel(R) Xeon(R) Processor");
  snprintf(d.vendor, sizeof d.vendor, "GenuineIntel");
  snprintf(d.platform_name, sizeof d.platform_name, "Portable Computing Language");
  snprintf(d.platform_version, sizeof d.platform_version, "%s", platform_version);
  return d;
}

#define POCL31 "OpenCL 3.0 PoCL 3.1+debian  Linux, None+Asserts, RELOC, LLVM 15.0.6"
#define POCL6 "OpenCL 3.0 PoCL 6.0  Linux, Release, RELOC, LLVM 18.1.8"

static void test_needed(void) {
  clrn_device_info old = device(CLRN_DEVICE_TYPE_CPU, POCL31, 1);
  clrn_device_info fixed = device(CLRN_DEVICE_TYPE_CPU, POCL6, 1);
  clrn_device_info gpu = device(CLRN_DEVICE_TYPE_GPU, POCL31, 1);
  clrn_device_info other = device(CLRN_DEVICE_TYPE_CPU, "OpenCL 3.0 Oclgrind 21.10", 1);
  CU_ASSERT(clrn_platform_lock_needed(&old));
  CU_ASSERT_FALSE(clrn_platform_lock_needed(&fixed));
  CU_ASSERT_FALSE(clrn_platform_lock_needed(&gpu));
  CU_ASSERT_FALSE(clrn_platform_lock_needed(&other));
  CU_ASSERT_EQUAL(clrn_platform_instance(&old), 1);
  CU_ASSERT_EQUAL(clrn_platform_instance(&fixed), 0);
  CU_ASSERT_EQUAL(clrn_platform_instance(&gpu), 0);
}

/* Build options of program "conv2d" for d into out. */
static void options_of(clrn_device_info d, char *out, size_t size) {
  clrn_profile *profile = NULL;
  CLRN_ASSERT_OK(clrn_profile_resolve(&d, NULL, &profile));
  CU_ASSERT_PTR_NOT_NULL_FATAL(profile);
  CU_ASSERT(clrn_program_options(&d, profile, "conv2d", out, size));
  clrn_profile_free(profile);
}

/* The second and later devices of an old PoCL build with their own instance
 * number (so their kernel hashes differ); the first device and fixed PoCL keep
 * the options (and binary cache keys) they had. */
static void test_instance_define(void) {
  char first[1024], second[1024], fixed[1024];
  options_of(device(CLRN_DEVICE_TYPE_CPU, POCL31, 0), first, sizeof first);
  options_of(device(CLRN_DEVICE_TYPE_CPU, POCL31, 1), second, sizeof second);
  options_of(device(CLRN_DEVICE_TYPE_CPU, POCL6, 1), fixed, sizeof fixed);
  CU_ASSERT_PTR_NULL(strstr(first, "CLRN_INSTANCE"));
  CU_ASSERT_PTR_NOT_NULL(strstr(second, " -DCLRN_INSTANCE=1"));
  CU_ASSERT_PTR_NULL(strstr(fixed, "CLRN_INSTANCE"));
  CU_ASSERT_STRING_NOT_EQUAL(first, second);
}

typedef struct locker {
  clrn_device_info device;
  atomic_int entered;
} locker;

static int enter_and_leave(void *arg) {
  locker *l = arg;
  clrn_platform_lock *lock = clrn_platform_lock_enter(&l->device);
  atomic_store(&l->entered, lock != NULL);
  clrn_platform_lock_leave(lock);
  return 0;
}

/* Whether l->entered becomes set within seconds. */
static bool entered_within(locker *l, double seconds) {
  struct timespec pause = {0, 10 * 1000 * 1000};
  for (int i = 0; i < seconds * 100 && !atomic_load(&l->entered); i++)
    thrd_sleep(&pause, NULL);
  return atomic_load(&l->entered);
}

static void test_per_device_locks(void) {
  clrn_device_info a = device(CLRN_DEVICE_TYPE_CPU, POCL31, 0);
  clrn_platform_lock *held = clrn_platform_lock_enter(&a);
  CU_ASSERT_PTR_NOT_NULL_FATAL(held);

  locker other = {.device = device(CLRN_DEVICE_TYPE_CPU, POCL31, 1)};
  thrd_t thread;
  CU_ASSERT_EQUAL_FATAL(thrd_create(&thread, enter_and_leave, &other), thrd_success);
  CU_ASSERT(entered_within(&other, 10.0)); /* another device: no waiting */
  thrd_join(thread, NULL);

  locker same = {.device = a};
  CU_ASSERT_EQUAL_FATAL(thrd_create(&thread, enter_and_leave, &same), thrd_success);
  CU_ASSERT_FALSE(entered_within(&same, 0.2)); /* the same device: waits */
  clrn_platform_lock_leave(held);
  thrd_join(thread, NULL);
  CU_ASSERT(atomic_load(&same.entered));

  clrn_device_info fixed = device(CLRN_DEVICE_TYPE_CPU, POCL6, 0);
  CU_ASSERT_PTR_NULL(clrn_platform_lock_enter(&fixed));
}

int main(void) {
  clrn_test_add_suite("platform_lock", NULL, NULL, "which devices", test_needed, "instance define",
                      test_instance_define, "per-device locks", test_per_device_locks, NULL);
  return clrn_test_run();
}
