/* Building one kernel program for one device: source lookup (embedded, or
 * CLRN_KERNEL_DIR), build options from device features and the profile, and the
 * binary cache around clBuildProgram. */
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

/** Builds program `name` ("conv2d") for device in context. */
clrn_status clrn_program_build(const clrn_device_info *device, cl_context context,
                               const clrn_profile *profile, const char *name, cl_program *program,
                               clrn_program_origin *origin);

/** The build options of program name ("conv2d") for a device and profile: device
 * features, then the profile's kernel defines of that program's family (host-only
 * tuning values never appear). False when they do not fit in size bytes. */
bool clrn_program_options(const clrn_device_info *device, const clrn_profile *profile,
                          const char *name, char *out, size_t size);

#endif
