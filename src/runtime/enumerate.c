/* Device discovery: every platform and device the ICD loader reports, with the
 * properties that selection, profiles and kernel build options need. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CL/cl_ext.h>

#include "base/error.h"
#include "clresnet/device.h"
#include "runtime/profile.h"

static clrn_status query_string(cl_device_id device, cl_device_info what, const char *what_name,
                                char *buffer, size_t size) {
  size_t needed = 0;
  cl_int err = clGetDeviceInfo(device, what, 0, NULL, &needed);
  if (err != CL_SUCCESS)
    return clrn_fail_cl(err, "clGetDeviceInfo(%s)", what_name);
  char *text = malloc(needed + 1);
  if (!text)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "device query %s", what_name);
  err = clGetDeviceInfo(device, what, needed, text, NULL);
  if (err != CL_SUCCESS) {
    free(text);
    return clrn_fail_cl(err, "clGetDeviceInfo(%s)", what_name);
  }
  text[needed] = '\0';
  snprintf(buffer, size, "%s", text);
  free(text);
  return CLRN_STATUS_SUCCESS;
}

static clrn_status query_value(cl_device_id device, cl_device_info what, const char *what_name,
                               void *value, size_t size) {
  cl_int err = clGetDeviceInfo(device, what, size, value, NULL);
  return err == CL_SUCCESS ? CLRN_STATUS_SUCCESS
                           : clrn_fail_cl(err, "clGetDeviceInfo(%s)", what_name);
}

#define QUERY_STRING(dev, what, field)                                                             \
  CLRN_TRY(query_string(dev, what, #what, info->field, sizeof info->field))
#define QUERY_VALUE(dev, what, var) CLRN_TRY(query_value(dev, what, #what, &(var), sizeof(var)))

static clrn_device_type type_of(cl_device_type type) {
  if (type & CL_DEVICE_TYPE_GPU)
    return CLRN_DEVICE_TYPE_GPU;
  if (type & CL_DEVICE_TYPE_CPU)
    return CLRN_DEVICE_TYPE_CPU;
  if (type & CL_DEVICE_TYPE_ACCELERATOR)
    return CLRN_DEVICE_TYPE_ACCELERATOR;
#ifdef CL_DEVICE_TYPE_CUSTOM
  if (type & CL_DEVICE_TYPE_CUSTOM)
    return CLRN_DEVICE_TYPE_CUSTOM;
#endif
  return CLRN_DEVICE_TYPE_OTHER;
}

static bool has_extension(const char *list, const char *name) {
  size_t length = strlen(name);
  for (const char *p = strstr(list, name); p; p = strstr(p + 1, name)) {
    bool starts = p == list || p[-1] == ' ';
    bool ends = p[length] == '\0' || p[length] == ' ';
    if (starts && ends)
      return true;
  }
  return false;
}

/* Parses "OpenCL C 1.2 ..." into major and minor; unknown text gives 1.0. */
static void parse_c_version(const char *text, unsigned *major, unsigned *minor) {
  unsigned a = 1, b = 0;
  const char *p = strstr(text, "OpenCL C ");
  if (p && sscanf(p + 9, "%u.%u", &a, &b) == 2) {
    *major = a;
    *minor = b;
  } else {
    *major = 1;
    *minor = 0;
  }
}

static clrn_status describe_device(cl_platform_id platform, cl_device_id device,
                                   clrn_device_info *info) {
  info->platform_id = platform;
  info->device_id = device;
  cl_int err = clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof info->platform_name,
                                 info->platform_name, NULL);
  if (err == CL_SUCCESS)
    err = clGetPlatformInfo(platform, CL_PLATFORM_VENDOR, sizeof info->platform_vendor,
                            info->platform_vendor, NULL);
  if (err == CL_SUCCESS)
    err = clGetPlatformInfo(platform, CL_PLATFORM_VERSION, sizeof info->platform_version,
                            info->platform_version, NULL);
  if (err != CL_SUCCESS)
    return clrn_fail_cl(err, "clGetPlatformInfo");

  cl_device_type type = 0;
  QUERY_VALUE(device, CL_DEVICE_TYPE, type);
  info->type = type_of(type);
  QUERY_STRING(device, CL_DEVICE_NAME, name);
  QUERY_STRING(device, CL_DEVICE_VENDOR, vendor);
  QUERY_STRING(device, CL_DRIVER_VERSION, driver_version);
  QUERY_STRING(device, CL_DEVICE_VERSION, device_version);
  QUERY_STRING(device, CL_DEVICE_OPENCL_C_VERSION, opencl_c_version);
  QUERY_STRING(device, CL_DEVICE_EXTENSIONS, extensions);
  parse_c_version(info->opencl_c_version, &info->opencl_c_major, &info->opencl_c_minor);

  cl_uint units = 0, clock = 0, vec_float = 0, vec_half = 0, native_float = 0;
  QUERY_VALUE(device, CL_DEVICE_MAX_COMPUTE_UNITS, units);
  QUERY_VALUE(device, CL_DEVICE_MAX_CLOCK_FREQUENCY, clock);
  QUERY_VALUE(device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, vec_float);
  QUERY_VALUE(device, CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT, native_float);
  /* Optional in OpenCL 1.0 devices: a failure leaves zero. */
  clGetDeviceInfo(device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_HALF, sizeof vec_half, &vec_half, NULL);
  info->compute_units = units;
  info->max_clock_mhz = clock;
  info->preferred_vector_width_float = vec_float;
  info->preferred_vector_width_half = vec_half;
  info->native_vector_width_float = native_float;

  cl_ulong global_mem = 0, max_alloc = 0, local_mem = 0;
  cl_device_local_mem_type local_type = CL_LOCAL;
  QUERY_VALUE(device, CL_DEVICE_GLOBAL_MEM_SIZE, global_mem);
  QUERY_VALUE(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, max_alloc);
  QUERY_VALUE(device, CL_DEVICE_LOCAL_MEM_SIZE, local_mem);
  QUERY_VALUE(device, CL_DEVICE_LOCAL_MEM_TYPE, local_type);
  info->global_mem_bytes = global_mem;
  info->max_alloc_bytes = max_alloc;
  info->local_mem_bytes = local_mem;
  info->local_mem_is_global = local_type == CL_GLOBAL;

  size_t wg = 0, items[3] = {0, 0, 0};
  cl_uint dims = 0;
  QUERY_VALUE(device, CL_DEVICE_MAX_WORK_GROUP_SIZE, wg);
  QUERY_VALUE(device, CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS, dims);
  if (dims >= 3)
    QUERY_VALUE(device, CL_DEVICE_MAX_WORK_ITEM_SIZES, items);
  info->max_work_group_size = wg;
  memcpy(info->max_work_item_sizes, items, sizeof items);

  cl_device_fp_config double_config = 0;
  clGetDeviceInfo(device, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof double_config, &double_config, NULL);
  info->fp16 = has_extension(info->extensions, "cl_khr_fp16");
  info->fp64 = has_extension(info->extensions, "cl_khr_fp64") || double_config != 0;
  cl_bool unified = CL_FALSE;
  clGetDeviceInfo(device, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified, &unified, NULL);
  info->host_unified_memory = unified == CL_TRUE;
  cl_bool compiler = CL_TRUE;
  clGetDeviceInfo(device, CL_DEVICE_COMPILER_AVAILABLE, sizeof compiler, &compiler, NULL);
  const char *pretend = getenv("CLRN_TEST_NO_COMPILER"); /* a test-only switch */
  info->compiler_available = compiler == CL_TRUE && !(pretend && strcmp(pretend, "1") == 0);

  clrn_profile_match_name(info, info->profile, sizeof info->profile);
  return CLRN_STATUS_SUCCESS;
}

static clrn_status platform_devices(cl_platform_id platform, cl_device_id **ids, cl_uint *count) {
  *ids = NULL;
  *count = 0;
  cl_int err = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, NULL, count);
  if (err == CL_DEVICE_NOT_FOUND || (err == CL_SUCCESS && *count == 0)) {
    *count = 0;
    return CLRN_STATUS_SUCCESS;
  }
  if (err != CL_SUCCESS)
    return clrn_fail_cl(err, "clGetDeviceIDs");
  *ids = calloc(*count, sizeof **ids);
  if (!*ids)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "device list");
  err = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, *count, *ids, NULL);
  if (err != CL_SUCCESS) {
    free(*ids);
    *ids = NULL;
    return clrn_fail_cl(err, "clGetDeviceIDs");
  }
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_devices_enumerate(clrn_device_info **devices, size_t *count) {
  if (!devices || !count)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_devices_enumerate: NULL output");
  *devices = NULL;
  *count = 0;
  cl_uint platform_count = 0;
  cl_int err = clGetPlatformIDs(0, NULL, &platform_count);
  if (err == CL_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && platform_count == 0))
    return clrn_fail(CLRN_STATUS_NO_PLATFORM,
                     "no OpenCL platform found (install a driver, for example PoCL for the CPU: "
                     "apt-get install pocl-opencl-icd)");
  if (err != CL_SUCCESS)
    return clrn_fail_cl(err, "clGetPlatformIDs");
  cl_platform_id *platforms = calloc(platform_count, sizeof *platforms);
  if (!platforms)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "platform list");
  clrn_status status = CLRN_STATUS_SUCCESS;
  clrn_device_info *list = NULL;
  size_t used = 0;
  cl_device_id *ids = NULL;
  CLRN_CL_GOTO(clGetPlatformIDs(platform_count, platforms, NULL), done, status, "clGetPlatformIDs");
  for (cl_uint p = 0; p < platform_count; p++) {
    cl_uint device_count = 0;
    CLRN_GOTO(platform_devices(platforms[p], &ids, &device_count), done, status);
    if (device_count > 0) {
      clrn_device_info *grown = realloc(list, (used + device_count) * sizeof *list);
      if (!grown) {
        status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "device list");
        goto done;
      }
      list = grown;
    }
    for (cl_uint d = 0; d < device_count; d++) {
      clrn_device_info *info = &list[used];
      memset(info, 0, sizeof *info);
      info->index = used;
      info->platform_index = p;
      info->device_index = d;
      CLRN_GOTO(describe_device(platforms[p], ids[d], info), done, status);
      used++;
    }
    free(ids);
    ids = NULL;
  }
  if (used == 0)
    status = clrn_fail(CLRN_STATUS_NO_PLATFORM,
                       "OpenCL platforms exist but report no device (install a driver, for "
                       "example PoCL for the CPU: apt-get install pocl-opencl-icd)");
done:
  free(ids);
  free(platforms);
  if (status != CLRN_STATUS_SUCCESS) {
    free(list);
    return status;
  }
  *devices = list;
  *count = used;
  return CLRN_STATUS_SUCCESS;
}

void clrn_devices_free(clrn_device_info *devices) { free(devices); }

const char *clrn_device_type_name(clrn_device_type type) {
  switch (type) {
  case CLRN_DEVICE_TYPE_CPU: return "cpu";
  case CLRN_DEVICE_TYPE_GPU: return "gpu";
  case CLRN_DEVICE_TYPE_ACCELERATOR: return "accelerator";
  case CLRN_DEVICE_TYPE_CUSTOM: return "custom";
  case CLRN_DEVICE_TYPE_OTHER: break;
  }
  return "other";
}
