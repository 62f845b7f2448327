/* OpenCL device discovery and selection.
 *
 * clrn_devices_enumerate() lists every device of every platform the ICD loader
 * knows, with the properties later code needs. clrn_devices_select() turns a
 * selection spec (the -d flag of every command) into indices of that list:
 *
 *   "0"            flat index in the list (as `clresnet devices` numbers them)
 *   "1:0"          platform index : device index within that platform
 *   "cpu", "gpu", "accelerator", "custom"   every device of that type
 *   "all"          every device
 *   anything else  every device whose name, vendor or platform name contains it,
 *                  ignoring case ("nvidia", "pthread")
 *   "a,b,..."      the union of the items, in order of first mention
 *
 * A NULL or empty spec means the default: the CLRN_DEVICE environment variable
 * when set, else the first GPU, else the first device.
 */
#ifndef CLRESNET_DEVICE_H
#define CLRESNET_DEVICE_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clresnet/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The OpenCL device type, as one value. */
typedef enum clrn_device_type {
  CLRN_DEVICE_TYPE_CPU,
  CLRN_DEVICE_TYPE_GPU,
  CLRN_DEVICE_TYPE_ACCELERATOR,
  CLRN_DEVICE_TYPE_CUSTOM,
  CLRN_DEVICE_TYPE_OTHER,
} clrn_device_type;

/** Everything clresnet knows about one device. Strings are NUL-terminated and
 * truncated to their buffers. */
typedef struct clrn_device_info {
  size_t index;            /**< position in the enumerated list */
  unsigned platform_index; /**< platform number, as the ICD loader orders them */
  unsigned device_index;   /**< device number within its platform */
  clrn_device_type type;
  char platform_name[128];
  char platform_vendor[128];
  char platform_version[128];
  char name[256];
  char vendor[128];
  char driver_version[128];
  char device_version[128];   /**< "OpenCL 3.0 ..." */
  char opencl_c_version[128]; /**< "OpenCL C 1.2 ..." */
  unsigned opencl_c_major, opencl_c_minor;
  unsigned compute_units;
  unsigned max_clock_mhz;
  uint64_t global_mem_bytes;
  uint64_t max_alloc_bytes;
  uint64_t local_mem_bytes;
  bool local_mem_is_global; /**< CL_GLOBAL: "local" memory is emulated in global memory */
  size_t max_work_group_size;
  size_t max_work_item_sizes[3];
  unsigned preferred_vector_width_float;
  unsigned preferred_vector_width_half;
  unsigned native_vector_width_float;
  bool fp16; /**< cl_khr_fp16 */
  bool fp64; /**< cl_khr_fp64 or a double config */
  bool host_unified_memory;
  /** CL_DEVICE_COMPILER_AVAILABLE: false on devices (FPGAs, some accelerators) whose
   * kernels come only as binaries (CLRN_KERNEL_BINARIES); tests pretend it false for
   * every device with CLRN_TEST_NO_COMPILER=1 */
  bool compiler_available;
  char extensions[8192]; /**< space-separated extension names */
  char profile[128];     /**< name of the devices/ profile that matched */
  cl_platform_id platform_id;
  cl_device_id device_id;
} clrn_device_info;

/** Lists every device of every OpenCL platform. On success *devices is an array of
 * *count entries to release with clrn_devices_free(). Fails with
 * CLRN_STATUS_NO_PLATFORM when the ICD loader finds no platform or no device. */
CLRN_API clrn_status clrn_devices_enumerate(clrn_device_info **devices, size_t *count);

/** Releases an array from clrn_devices_enumerate(). NULL is ignored. */
CLRN_API void clrn_devices_free(clrn_device_info *devices);

/** Resolves a selection spec (see the top of this header) against a device list.
 * Writes up to capacity indices into selected and the number matched into
 * *selected_count (which may exceed capacity). A spec that matches nothing, or a
 * malformed one, fails with a detail that lists the devices there are. The list
 * may be made by hand (tests); only the descriptive fields are read. */
CLRN_API clrn_status clrn_devices_select(const clrn_device_info *devices, size_t count,
                                         const char *spec, size_t *selected, size_t capacity,
                                         size_t *selected_count);

/** "cpu", "gpu", "accelerator", "custom" or "other". */
CLRN_API const char *clrn_device_type_name(clrn_device_type type);

#ifdef __cplusplus
}
#endif
#endif
