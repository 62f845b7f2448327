/* Internal helpers shared by the op launchers in src/ops: argument and tensor
 * checks that fail with a clear CLRN_STATUS_INVALID_ARGUMENT (for the public,
 * checked API only), work-group sizes that respect the device's and the kernel's
 * limits, and launches of cached kernels (runtime/kernel_cache.h): arguments set
 * and the NDRange enqueued under the kernel's lock, global sizes rounded up to
 * the work-group size (every kernel bounds-checks its indices).
 */
#ifndef CLRN_OPS_OP_LAUNCH_H
#define CLRN_OPS_OP_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>

#include "clresnet/ops.h"
#include "runtime/kernel_cache.h"

/** n*c*h*w of a tensor whose dimensions are known to be positive. */
static inline size_t clrn_op_elements(const clrn_tensor *t) {
  return (size_t)t->n * (size_t)t->c * (size_t)t->h * (size_t)t->w;
}

/** Checks the queue and wait list of an enqueue call: a queue is given, it belongs
 * to the context's OpenCL context, and a non-empty wait list has its events. */
clrn_status clrn_op_check_call(const char *op, const clrn_context *context, cl_command_queue queue,
                               cl_uint num_wait, const cl_event *wait);

/** Checks a tensor argument: not NULL, positive dimensions, at most UINT_MAX
 * elements (kernels index with 32-bit unsigned integers) and a buffer of at
 * least n*c*h*w floats. what names the argument in the message ("input"). */
clrn_status clrn_op_check_tensor(const char *op, const char *what, const clrn_tensor *t);

/** Checks that a tensor's buffer belongs to the context's OpenCL context. */
clrn_status clrn_op_check_owner(const char *op, const char *what, const clrn_context *context,
                                const clrn_tensor *t);

/** Checks that two tensors have the same shape. */
clrn_status clrn_op_check_same_shape(const char *op, const char *what_a, const clrn_tensor *a,
                                     const char *what_b, const clrn_tensor *b);

/** The checks of an op from one tensor to another: clrn_op_check_call and
 * clrn_op_check_tensor of both. */
clrn_status clrn_op_check_io(const char *op, const clrn_context *context, cl_command_queue queue,
                             const clrn_tensor *input, const clrn_tensor *output, cl_uint num_wait,
                             const cl_event *wait);

/** clrn_op_check_io, and the same shape for both (ReLU, BatchNorm, softmax). */
clrn_status clrn_op_check_same_io(const char *op, const clrn_context *context,
                                  cl_command_queue queue, const clrn_tensor *input,
                                  const clrn_tensor *output, cl_uint num_wait,
                                  const cl_event *wait);

/** Fails when output uses the same buffer as input (ops that cannot run in place). */
clrn_status clrn_op_check_distinct(const char *op, const char *what_in, const clrn_tensor *in,
                                   const char *what_out, const clrn_tensor *out);

/** One kernel argument: its size and a pointer to its value (NULL for __local memory). */
typedef struct clrn_op_arg {
  size_t size;
  const void *value;
  bool plain; /**< a number (not an OpenCL object): the launch may skip setting it again */
} clrn_op_arg;

/** The argument holding the value of lvalue x (a number, or a cl_mem). */
#define CLRN_ARG(x) ((clrn_op_arg){sizeof(x), &(x), _Generic((x), cl_mem : false, default : true)})
/** A __local memory argument of bytes bytes. */
#define CLRN_ARG_LOCAL(bytes) ((clrn_op_arg){(bytes), NULL, false})

/** An argument list and its length, for clrn_op_launch:
 * clrn_op_launch(k, queue, CLRN_OP_ARGS(CLRN_ARG(a), CLRN_ARG(b)), dims, ...). */
#define CLRN_OP_ARGS(...)                                                                          \
  (const clrn_op_arg[]){__VA_ARGS__},                                                              \
      sizeof((const clrn_op_arg[]){__VA_ARGS__}) / sizeof(clrn_op_arg)

/** The work-group size to use along one dimension: want (a tuning value), clamped
 * to the kernel's CL_KERNEL_WORK_GROUP_SIZE on the device, the device's maximum
 * work-group size and its maximum along dimension 0, and, when pow2 is set,
 * lowered to a power of two (tree reductions need one). At least 1. */
size_t clrn_op_local_size(const clrn_context *context, const clrn_kernel *kernel, long want,
                          bool pow2);

/** Launches a cached kernel: sets its arguments 0..arg_count-1 from args and
 * enqueues an NDRange of dims dimensions, holding the kernel's lock throughout.
 * A plain argument whose value the kernel already holds from its last launch is
 * not set again (buffers always are: a released buffer's handle may come back
 * for another one).
 * global[d] is the number of work-items needed, rounded up here to a multiple of
 * local[d]. Passes the wait list and returns the event (when event is not NULL)
 * without waiting. Logs the kernel and its sizes at DEBUG level (which variant an
 * op chose shows there). */
clrn_status clrn_op_launch(clrn_kernel *kernel, cl_command_queue queue, const clrn_op_arg *args,
                           size_t arg_count, cl_uint dims, const size_t *global,
                           const size_t *local, cl_uint num_wait, const cl_event *wait,
                           cl_event *event);

/** The build defines of a kernel program whose tensors are stored as half
 * (kernels/prelude.h's storage macros), or NULL for float. */
static inline const char *clrn_op_defines(bool half) { return half ? "-DCLRN_HALF_STORAGE" : NULL; }

/** Smallest power of two at or above x (x >= 1), capped at cap. */
size_t clrn_op_pow2_at_least(size_t x, size_t cap);

#endif
