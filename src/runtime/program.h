/* Building one kernel program for one device: source lookup (embedded, or
 * CLRN_KERNEL_DIR; the kernel headers of kernels/, the ABI and the prelude, come
 * first in every program), build options from device features, the profile and
 * the caller's extra defines, and the binary cache around clBuildProgram. The
 * cache key holds the hash of the whole source and every option, defines
 * included. */
#ifndef CLRN_RUNTIME_PROGRAM_H
#define CLRN_RUNTIME_PROGRAM_H

#include "clresnet/device.h"
#include "runtime/cache.h"
#include "runtime/profile.h"

/** How a program came to be. */
typedef struct clrn_program_origin {
  bool compiled;           /**< built from source */
  clrn_cache_result cache; /**< what the cache lookup found */
} clrn_program_origin;

/** Builds program `name` ("conv2d") for device in context, with defines (extra
 * build options such as "-DCONV_OC=64 -DCONV_K=3"; NULL or "" for none) after
 * the device's and profile's. */
clrn_status clrn_program_build(const clrn_device_info *device, cl_context context,
                               const clrn_profile *profile, const char *name, const char *defines,
                               cl_program *program, clrn_program_origin *origin);

/** The build options of program name ("conv2d") for a device and profile: device
 * features, then the profile's kernel defines of that program's family (host-only
 * tuning values never appear). False when they do not fit in size bytes. */
bool clrn_program_options(const clrn_device_info *device, const clrn_profile *profile,
                          const char *name, char *out, size_t size);

#endif
