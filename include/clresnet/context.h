/* A clresnet context: one OpenCL device with its cl_context, in-order command
 * queues, merged device profile and the kernel programs built for it.
 *
 * Programs are built from the kernel sources embedded in the library (or read
 * from CLRN_KERNEL_DIR) with -D options from the device profile, and kept in an
 * on-disk binary cache (CLRN_CACHE_DIR, else $XDG_CACHE_HOME/clresnet, else
 * ~/.cache/clresnet; CLRN_CACHE_DIR=off disables it), so a second start of the
 * same program compiles nothing. The ops create each kernel object once per
 * context and keep it with the context's programs; the context owns them all.
 *
 * Threads: a context may be shared by several threads for building programs,
 * creating buffers and launching ops (each launch holds its cached kernel's lock
 * while it sets the arguments and enqueues); each command queue must be fed by
 * one thread at a time.
 */
#ifndef CLRESNET_CONTEXT_H
#define CLRESNET_CONTEXT_H

#include "clresnet/device.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clrn_context clrn_context;

/** Called once per program as clrn_context_prepare() goes: done of total programs
 * are ready, and compiled says whether this one had to be compiled (false: it came
 * from the binary cache or was already built). */
typedef void (*clrn_build_progress_fn)(const clrn_device_info *device, size_t done, size_t total,
                                       bool compiled, void *user_data);

/** The arithmetic a model runs with (clrn_model_options.precision, `--precision`). */
typedef enum clrn_precision {
  CLRN_PRECISION_FP32 = 0, /**< float32 storage and arithmetic (the default) */
  /** weights and activations stored as float16 (vload_half/vstore_half, every
   * device), float32 arithmetic; on NVIDIA devices of compute capability 8.0 or
   * later the convolutions run on tensor cores (fp16 inputs, fp32 sums) */
  CLRN_PRECISION_FP16 = 1,
  /** float32 storage, convolutions on tensor cores with TF32 inputs (10-bit
   * mantissa) and fp32 sums: NVIDIA compute capability 8.0 or later only; model
   * creation fails with CLRN_STATUS_UNSUPPORTED elsewhere */
  CLRN_PRECISION_TF32 = 2
} clrn_precision;

/** "fp32", "fp16" or "tf32" ("unknown" for other values). */
CLRN_API const char *clrn_precision_string(clrn_precision precision);

/** Succeeds when device can run models of precision; else fails with
 * CLRN_STATUS_UNSUPPORTED and a one-line reason (tf32 on a device without tensor
 * cores reached through PTX), or CLRN_STATUS_INVALID_ARGUMENT for an unknown value.
 * fp32 and fp16 run on every device. */
CLRN_API clrn_status clrn_precision_check(const clrn_device_info *device, clrn_precision precision);

/** How a context is made. Start from clrn_context_options_default(). */
typedef struct clrn_context_options {
  bool profiling;     /**< queues record OpenCL profiling timestamps */
  size_t queue_count; /**< in-order queues to create, 1..8 (default 3: main, branch, transfers) */
  clrn_build_progress_fn progress;
  void *progress_user_data;
  /** name of a devices/ profile to use instead of the device's match ("nvidia"),
   * or NULL: then CLRN_PROFILE when set, else the match. An unknown name fails. */
  const char *profile;
  /** folder of offline-compiled kernel binaries ("<program>-<hash>.bin", made by a
   * vendor's compiler from what kernel_export wrote), tried before compiling; the
   * only source of kernels for a device without a compiler. NULL: CLRN_KERNEL_BINARIES
   * when set, else none. Copied. */
  const char *kernel_binaries;
  /** folder that receives every kernel program the context builds, as source
   * ("<program>-<hash>.cl") and build options ("<program>-<hash>.options"), for a
   * vendor's offline compiler; NULL: none. Must exist. Copied. */
  const char *kernel_export;
} clrn_context_options;

/** Build statistics of a context since it was created. */
typedef struct clrn_build_stats {
  size_t compiled;        /**< programs compiled from source */
  size_t cache_hits;      /**< programs loaded from the binary cache */
  size_t cache_bad;       /**< cache entries found corrupt or rejected, then replaced */
  double compile_seconds; /**< wall time spent building programs, cached or not */
  size_t kernels;         /**< kernel objects created: one per program and kernel name */
} clrn_build_stats;

/** Fills options with the defaults: no profiling, 3 queues, no progress callback,
 * the device's own profile. */
CLRN_API void clrn_context_options_default(clrn_context_options *options);

/** Creates a context on one device of a list from clrn_devices_enumerate(). The
 * device info is copied. options may be NULL for the defaults. */
CLRN_API clrn_status clrn_context_create(const clrn_device_info *device,
                                         const clrn_context_options *options,
                                         clrn_context **context);

/** Waits for the context's queues, then releases everything it owns. NULL is ignored. */
CLRN_API void clrn_context_release(clrn_context *context);

/** The device this context runs on. */
CLRN_API const clrn_device_info *clrn_context_device(const clrn_context *context);

/** The underlying OpenCL context. Owned by the clresnet context. */
CLRN_API cl_context clrn_context_cl(const clrn_context *context);

/** In-order command queue number index (0 is the main queue), or NULL when out of range. */
CLRN_API cl_command_queue clrn_context_queue(const clrn_context *context, size_t index);

/** Number of queues the context has. */
CLRN_API size_t clrn_context_queue_count(const clrn_context *context);

/** Whether the queues record profiling timestamps. */
CLRN_API bool clrn_context_profiling(const clrn_context *context);

/** Returns the built program for an embedded kernel file ("conv2d" for
 * kernels/conv2d.cl), building it (or loading it from the cache) on first use,
 * with the device's and profile's options only (the ops may build other variants
 * of a program with extra defines). The program stays owned by the context:
 * do not release it. Kernels made from it with clCreateKernel are the caller's. A build failure
 * returns CLRN_STATUS_BUILD_FAILED with the full build log in clrn_last_error(). */
CLRN_API clrn_status clrn_context_program(clrn_context *context, const char *name,
                                          cl_program *program);

/** Builds the named programs (all embedded ones when names is NULL), reporting
 * progress through the options' callback. */
CLRN_API clrn_status clrn_context_prepare(clrn_context *context, const char *const *names,
                                          size_t count);

/** A tuning value of the context's profile (after CLRN_TUNE), or fallback when
 * key is not a tuning parameter. */
CLRN_API long clrn_context_tuning(const clrn_context *context, const char *key, long fallback);

/** Name of the device profile in use. */
CLRN_API const char *clrn_context_profile_name(const clrn_context *context);

/** Build statistics so far. */
CLRN_API void clrn_context_build_stats(const clrn_context *context, clrn_build_stats *stats);

/** Allocates a device buffer of bytes (>0), reporting failures with the size and
 * the device's limits. host_data, if not NULL, is copied in (CL_MEM_COPY_HOST_PTR). */
CLRN_API clrn_status clrn_buffer_create(clrn_context *context, cl_mem_flags flags, size_t bytes,
                                        const void *host_data, cl_mem *buffer);

/** Names of the embedded kernel programs ("conv2d", ...), NULL-terminated. */
CLRN_API const char *const *clrn_program_names(void);

#ifdef __cplusplus
}
#endif
#endif
