/* The context's caches of programs and kernel objects, for the op launchers.
 *
 * A program is built once per context for each (program name, defines) pair:
 * defines are extra build options such as "-DCONV_OC=64 -DCONV_K=3", so a kernel
 * can be specialised for one layer's shape; they enter the on-disk cache key too
 * (runtime/program.h). A kernel object is created once per context for each
 * (program, defines, kernel name), here and nowhere else, together with what
 * launches need to know about it, so no launch queries OpenCL for it.
 *
 * A cached kernel is shared by every op of the context, on every thread: a
 * launcher holds its lock from the first clSetKernelArg to the enqueue
 * (clrn_kernel_lock), so two threads never interleave their arguments. Kernels
 * stay owned by the context: never release one. */
#ifndef CLRN_RUNTIME_KERNEL_CACHE_H
#define CLRN_RUNTIME_KERNEL_CACHE_H

#include <stdint.h>
#include <threads.h>

#include "clresnet/context.h"

/** A kernel object with what launches need. Owned by its context. */
typedef struct clrn_kernel {
  cl_kernel cl;           /**< the OpenCL kernel: never release it */
  char name[64];          /**< kernel name, for messages */
  size_t work_group_size; /**< CL_KERNEL_WORK_GROUP_SIZE on the context's device */
  mtx_t lock;             /**< held across setting arguments and the enqueue */
  /** The plain (numeric) arguments the kernel holds, as the launcher
   * (ops/op_launch.c) last set them: bit i of known says argument i is in
   * values[i] (its bytes, zero-padded) and sizes[i]. Read and written under
   * lock; arguments are set only through that launcher. */
  uint32_t known;
  uint64_t values[32];
  unsigned char sizes[32];
} clrn_kernel;

/** The program name ("conv2d") built with defines (NULL or "" for none), built
 * or loaded from the disk cache on first use. Owned by the context. */
clrn_status clrn_context_program_defines(clrn_context *context, const char *name,
                                         const char *defines, cl_program *program);

/** The kernel kernel_name of program (name, defines), created on first use.
 * Owned by the context. */
clrn_status clrn_kernel_get(clrn_context *context, const char *program, const char *defines,
                            const char *kernel_name, clrn_kernel **kernel);

/** Takes and gives back a kernel's launch lock. */
static inline void clrn_kernel_lock(clrn_kernel *kernel) { mtx_lock(&kernel->lock); }
static inline void clrn_kernel_unlock(clrn_kernel *kernel) { mtx_unlock(&kernel->lock); }

#endif
