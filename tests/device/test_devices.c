/* Device enumeration and context creation on the machine's real devices. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static clrn_device_info *devices;
static size_t count;

static int setup(void) {
  return clrn_devices_enumerate(&devices, &count) == CLRN_STATUS_SUCCESS ? 0 : 1;
}

static int teardown(void) {
  clrn_devices_free(devices);
  return 0;
}

static void test_enumerate(void) {
  CU_ASSERT_FATAL(count > 0);
  for (size_t i = 0; i < count; i++) {
    const clrn_device_info *d = &devices[i];
    CU_ASSERT_EQUAL(d->index, i);
    CU_ASSERT(strlen(d->name) > 0);
    CU_ASSERT(strlen(d->platform_name) > 0);
    CU_ASSERT(d->compute_units > 0);
    CU_ASSERT(d->global_mem_bytes > 0);
    CU_ASSERT(d->max_alloc_bytes > 0 && d->max_alloc_bytes <= d->global_mem_bytes);
    CU_ASSERT(d->max_work_group_size > 0);
    CU_ASSERT(d->opencl_c_major >= 1);
    CU_ASSERT(strlen(d->profile) > 0 && strcmp(d->profile, "none") != 0);
    CU_ASSERT_PTR_NOT_NULL(d->device_id);
    /* Every device can be named by its index and by platform:device. */
    char spec[32];
    size_t chosen = 99, matched = 0;
    snprintf(spec, sizeof spec, "%u:%u", d->platform_index, d->device_index);
    CLRN_ASSERT_OK(clrn_devices_select(devices, count, spec, &chosen, 1, &matched));
    CU_ASSERT_EQUAL(chosen, i);
    CU_ASSERT_EQUAL(matched, 1);
  }
}

static void test_context(void) {
  clrn_context_options options;
  clrn_context_options_default(&options);
  options.queue_count = 3;
  options.profiling = true;
  clrn_context *context = NULL;
  CLRN_ASSERT_OK(clrn_context_create(&devices[0], &options, &context));
  CU_ASSERT_EQUAL(clrn_context_queue_count(context), 3);
  CU_ASSERT_PTR_NOT_NULL(clrn_context_queue(context, 2));
  CU_ASSERT_PTR_NULL(clrn_context_queue(context, 3));
  CU_ASSERT_PTR_NOT_NULL(clrn_context_cl(context));
  CU_ASSERT(clrn_context_profiling(context));
  CU_ASSERT_STRING_EQUAL(clrn_context_profile_name(context), devices[0].profile);
  CU_ASSERT_STRING_EQUAL(clrn_context_device(context)->name, devices[0].name);
  cl_mem buffer = NULL;
  CU_ASSERT_EQUAL(clrn_buffer_create(context, CL_MEM_READ_WRITE, 0, NULL, &buffer),
                  CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_EQUAL(clrn_buffer_create(context, CL_MEM_READ_WRITE,
                                     (size_t)devices[0].max_alloc_bytes + 1, NULL, &buffer),
                  CLRN_STATUS_OUT_OF_DEVICE_MEMORY);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "bytes"));
  float host[4] = {1, 2, 3, 4}, back[4] = {0};
  CLRN_ASSERT_OK(clrn_buffer_create(context, CL_MEM_READ_WRITE, sizeof host, host, &buffer));
  CU_ASSERT_EQUAL(clEnqueueReadBuffer(clrn_context_queue(context, 0), buffer, CL_TRUE, 0,
                                      sizeof back, back, 0, NULL, NULL),
                  CL_SUCCESS);
  CU_ASSERT(memcmp(host, back, sizeof host) == 0);
  clReleaseMemObject(buffer);
  clrn_context_release(context);

  options.queue_count = 0;
  CU_ASSERT_EQUAL(clrn_context_create(&devices[0], &options, &context),
                  CLRN_STATUS_INVALID_ARGUMENT);
}

/* The profile option runs any device with a named profile; an unknown name fails. */
static void test_profile_option(void) {
  clrn_context_options options;
  clrn_context_options_default(&options);
  options.profile = "oclgrind";
  clrn_context *context = NULL;
  CLRN_ASSERT_OK(clrn_context_create(&devices[0], &options, &context));
  CU_ASSERT_STRING_EQUAL(clrn_context_profile_name(context), "oclgrind");
  CU_ASSERT_EQUAL(clrn_context_tuning(context, "CONV_WG", -1), 16);
  CU_ASSERT_EQUAL(clrn_context_tuning(context, "NO_SUCH_KEY", -1), -1);
  clrn_context_release(context);
  options.profile = "no-such-profile";
  context = NULL;
  CU_ASSERT_EQUAL(clrn_context_create(&devices[0], &options, &context),
                  CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_PTR_NULL(context);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "unknown device profile \"no-such-profile\""));
}

int main(void) {
  clrn_device_info probe;
  clrn_test_require_device(&probe);
  clrn_test_add_suite("devices", setup, teardown, "enumerate", test_enumerate, "context",
                      test_context, "profile option", test_profile_option, NULL);
  return clrn_test_run();
}
