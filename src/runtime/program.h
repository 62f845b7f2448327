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
  bool offline;            /**< loaded from the offline binaries folder */
  clrn_cache_result cache; /**< what the cache lookup found */
} clrn_program_origin;

/** Folders beside the compiler and the binary cache (NULL: not used). Each
 * program a context builds is named by its stem, "<program>-<16 hex digits>", the
 * hex digits a hash of its whole source and build options. */
typedef struct clrn_program_paths {
  /** offline-compiled binaries, "<stem>.bin" (a vendor's compiler made them from
   * what export_dir received): tried first; the only source of programs for a
   * device without a compiler */
  const char *binaries;
  /** every program built is also written here as "<stem>.cl" (the whole source,
   * headers included) and "<stem>.options" (its build options), for a vendor's
   * offline compiler */
  const char *export_dir;
} clrn_program_paths;

/** Builds program `name` ("conv2d") for device in context, with defines (extra
 * build options such as "-DCONV_OC=64 -DCONV_K=3"; NULL or "" for none) after
 * the device's and profile's. paths may be NULL. A device without a compiler
 * (clrn_device_info.compiler_available) takes the program from paths->binaries or
 * the binary cache, and fails naming the binary it needs when neither has it. */
clrn_status clrn_program_build(const clrn_device_info *device, cl_context context,
                               const clrn_profile *profile, const char *name, const char *defines,
                               const clrn_program_paths *paths, cl_program *program,
                               clrn_program_origin *origin);

/** The build options of program name ("conv2d") for a device and profile: device
 * features (and, on old PoCL CPU devices, -DCLRN_INSTANCE: runtime/platform_lock.h), then the
 * profile's kernel defines of that program's family (host-only tuning values never appear). False
 * when they do not fit in size bytes. */
bool clrn_program_options(const clrn_device_info *device, const clrn_profile *profile,
                          const char *name, char *out, size_t size);

#endif
