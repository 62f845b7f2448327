/* NVIDIA device queries (see nvidia.h). */
#include "runtime/nvidia.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

/* From cl_nv_device_attribute_query (CL/cl_ext.h names them; defined here so the
 * build needs no vendor header). */
#define CLRN_CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV 0x4000
#define CLRN_CL_DEVICE_COMPUTE_CAPABILITY_MINOR_NV 0x4001

/* Whether the space-separated list holds name as a whole word. */
static bool has_extension(const char *list, const char *name) {
  size_t length = strlen(name);
  for (const char *p = strstr(list, name); p; p = strstr(p + 1, name))
    if ((p == list || p[-1] == ' ') && (p[length] == ' ' || p[length] == '\0'))
      return true;
  return false;
}

bool clrn_nv_mma_emulated(void) {
  const char *value = getenv("CLRN_TEST_MMA_EMULATE");
  return value && *value && strcmp(value, "0") != 0;
}

long clrn_device_nv_compute(const clrn_device_info *device) {
  if (clrn_nv_mma_emulated())
    return CLRN_NV_MMA_MIN_COMPUTE;
  if (!device->device_id || !has_extension(device->extensions, "cl_nv_device_attribute_query"))
    return 0;
  cl_uint major = 0, minor = 0;
  if (clGetDeviceInfo(device->device_id, CLRN_CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV, sizeof major,
                      &major, NULL) != CL_SUCCESS ||
      clGetDeviceInfo(device->device_id, CLRN_CL_DEVICE_COMPUTE_CAPABILITY_MINOR_NV, sizeof minor,
                      &minor, NULL) != CL_SUCCESS)
    return 0;
  return (long)major * 10 + (long)(minor < 10 ? minor : 9);
}

const char *clrn_nv_mma_defines(long nv_compute, bool half, char *text, size_t size) {
  snprintf(text, size, "-DCLRN_NV_MMA=%ld%s%s", nv_compute, half ? " -DCLRN_HALF_STORAGE" : "",
           clrn_nv_mma_emulated() ? " -DCLRN_MMA_EMULATE" : "");
  return text;
}
