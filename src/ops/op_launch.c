/* Argument checks, work-group sizing and launches of cached kernels shared by the
 * op launchers (see op_launch.h). */
#include <limits.h>
#include <string.h>

#include "base/error.h"
#include "ops/op_launch.h"

clrn_status clrn_op_check_call(const char *op, const clrn_context *context, cl_command_queue queue,
                               cl_uint num_wait, const cl_event *wait) {
  if (!context)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: NULL context", op);
  if (!queue)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: NULL command queue", op);
  if (num_wait > 0 && !wait)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: %u events to wait for but no list", op,
                     num_wait);
  cl_context owner = NULL;
  cl_int err = clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof owner, &owner, NULL);
  if (err != CL_SUCCESS)
    return clrn_fail_cl(err, "%s: clGetCommandQueueInfo(CL_QUEUE_CONTEXT)", op);
  if (owner != clrn_context_cl(context))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "%s: the command queue belongs to another OpenCL context", op);
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_op_check_tensor(const char *op, const char *what, const clrn_tensor *t) {
  if (!t)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: NULL %s tensor", op, what);
  if (!t->buffer)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: %s tensor has no buffer", op, what);
  if (t->n < 1 || t->c < 1 || t->h < 1 || t->w < 1)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "%s: %s shape %dx%dx%dx%d has a dimension below 1", op, what, t->n, t->c, t->h,
                     t->w);
  size_t elements = clrn_op_elements(t);
  if (elements > UINT_MAX || elements / (size_t)t->n / (size_t)t->c / (size_t)t->h != (size_t)t->w)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "%s: %s shape %dx%dx%dx%d has more than %u elements", op, what, t->n, t->c,
                     t->h, t->w, UINT_MAX);
  size_t bytes = 0;
  cl_int err = clGetMemObjectInfo(t->buffer, CL_MEM_SIZE, sizeof bytes, &bytes, NULL);
  if (err != CL_SUCCESS)
    return clrn_fail_cl(err, "%s: %s buffer: clGetMemObjectInfo(CL_MEM_SIZE)", op, what);
  if (bytes < elements * sizeof(float))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "%s: %s buffer holds %zu bytes, shape %dx%dx%dx%d needs %zu", op, what, bytes,
                     t->n, t->c, t->h, t->w, elements * sizeof(float));
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_op_check_owner(const char *op, const char *what, const clrn_context *context,
                                const clrn_tensor *t) {
  cl_context owner = NULL;
  cl_int err = clGetMemObjectInfo(t->buffer, CL_MEM_CONTEXT, sizeof owner, &owner, NULL);
  if (err != CL_SUCCESS)
    return clrn_fail_cl(err, "%s: %s buffer: clGetMemObjectInfo(CL_MEM_CONTEXT)", op, what);
  if (owner != clrn_context_cl(context))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "%s: %s tensor's buffer belongs to another OpenCL context", op, what);
  return CLRN_STATUS_SUCCESS;
}

size_t clrn_tensor_elements(const clrn_tensor *tensor) {
  if (!tensor || tensor->n <= 0 || tensor->c <= 0 || tensor->h <= 0 || tensor->w <= 0)
    return 0;
  return (size_t)tensor->n * (size_t)tensor->c * (size_t)tensor->h * (size_t)tensor->w;
}

clrn_status clrn_op_check_same_shape(const char *op, const char *what_a, const clrn_tensor *a,
                                     const char *what_b, const clrn_tensor *b) {
  if (a->n != b->n || a->c != b->c || a->h != b->h || a->w != b->w)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "%s: %s shape %dx%dx%dx%d differs from %s shape %dx%dx%dx%d", op, what_b, b->n,
                     b->c, b->h, b->w, what_a, a->n, a->c, a->h, a->w);
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_op_check_io(const char *op, const clrn_context *context, cl_command_queue queue,
                             const clrn_tensor *input, const clrn_tensor *output, cl_uint num_wait,
                             const cl_event *wait) {
  CLRN_TRY(clrn_op_check_call(op, context, queue, num_wait, wait));
  CLRN_TRY(clrn_op_check_tensor(op, "input", input));
  return clrn_op_check_tensor(op, "output", output);
}

clrn_status clrn_op_check_same_io(const char *op, const clrn_context *context,
                                  cl_command_queue queue, const clrn_tensor *input,
                                  const clrn_tensor *output, cl_uint num_wait,
                                  const cl_event *wait) {
  CLRN_TRY(clrn_op_check_io(op, context, queue, input, output, num_wait, wait));
  return clrn_op_check_same_shape(op, "input", input, "output", output);
}

clrn_status clrn_op_check_distinct(const char *op, const char *what_in, const clrn_tensor *in,
                                   const char *what_out, const clrn_tensor *out) {
  if (in->buffer == out->buffer)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: %s may not use the %s's buffer", op,
                     what_out, what_in);
  return CLRN_STATUS_SUCCESS;
}

size_t clrn_op_pow2_at_least(size_t x, size_t cap) {
  size_t p = 1;
  while (p < x && p < cap)
    p <<= 1;
  return p > cap ? cap : p;
}

size_t clrn_op_local_size(const clrn_context *context, const clrn_kernel *kernel, long want,
                          bool pow2) {
  const clrn_device_info *device = clrn_context_device(context);
  size_t size = want > 0 ? (size_t)want : 1;
  if (kernel->work_group_size > 0 && size > kernel->work_group_size)
    size = kernel->work_group_size;
  if (device->max_work_group_size > 0 && size > device->max_work_group_size)
    size = device->max_work_group_size;
  if (device->max_work_item_sizes[0] > 0 && size > device->max_work_item_sizes[0])
    size = device->max_work_item_sizes[0];
  if (pow2) {
    size_t p = 1;
    while (p * 2 <= size)
      p *= 2;
    size = p;
  }
  return size;
}

/* Sets the arguments and enqueues; the caller holds the kernel's lock. */
static clrn_status locked_launch(clrn_kernel *kernel, cl_command_queue queue,
                                 const clrn_op_arg *args, size_t arg_count, cl_uint dims,
                                 const size_t *global, const size_t *local, cl_uint num_wait,
                                 const cl_event *wait, cl_event *event) {
  for (size_t i = 0; i < arg_count; i++) {
    const clrn_op_arg *a = &args[i];
    uint32_t bit = i < 32 ? 1u << i : 0;
    uint64_t bits = 0;
    bool memo = bit && a->plain && a->value && a->size <= sizeof bits;
    if (memo) {
      memcpy(&bits, a->value, a->size);
      if ((kernel->known & bit) && kernel->sizes[i] == a->size && kernel->values[i] == bits)
        continue; /* the kernel holds this value already */
    }
    kernel->known &= ~bit;
    cl_int err = clSetKernelArg(kernel->cl, (cl_uint)i, a->size, a->value);
    if (err != CL_SUCCESS)
      return clrn_fail_cl(err, "clSetKernelArg(%s, argument %zu)", kernel->name, i);
    if (memo) {
      kernel->known |= bit;
      kernel->values[i] = bits;
      kernel->sizes[i] = (unsigned char)a->size;
    }
  }
  size_t rounded[3];
  for (cl_uint d = 0; d < dims && d < 3; d++)
    rounded[d] = (global[d] + local[d] - 1) / local[d] * local[d];
  cl_int err = clEnqueueNDRangeKernel(queue, kernel->cl, dims, NULL, rounded, local, num_wait,
                                      num_wait ? wait : NULL, event);
  if (err != CL_SUCCESS)
    return clrn_fail_cl(err, "clEnqueueNDRangeKernel(%s, global %zu x %zu, local %zu x %zu)",
                        kernel->name, rounded[0], dims > 1 ? rounded[1] : 1, local[0],
                        dims > 1 ? local[1] : 1);
  clrn_log(CLRN_LOG_LEVEL_DEBUG, "enqueued %s: global %zu x %zu, local %zu x %zu", kernel->name,
           rounded[0], dims > 1 ? rounded[1] : 1, local[0], dims > 1 ? local[1] : 1);
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_op_launch(clrn_kernel *kernel, cl_command_queue queue, const clrn_op_arg *args,
                           size_t arg_count, cl_uint dims, const size_t *global,
                           const size_t *local, cl_uint num_wait, const cl_event *wait,
                           cl_event *event) {
  clrn_kernel_lock(kernel);
  clrn_status status =
      locked_launch(kernel, queue, args, arg_count, dims, global, local, num_wait, wait, event);
  clrn_kernel_unlock(kernel);
  return status;
}
