/* Helpers shared by the op launchers (see ops_common.h), and clrn_tensor_elements. */
#include "ops/ops_common.h"

#include <limits.h>

size_t clrn_tensor_elements(const clrn_tensor *tensor) {
  if (!tensor || tensor->n <= 0 || tensor->c <= 0 || tensor->h <= 0 || tensor->w <= 0)
    return 0;
  return (size_t)tensor->n * (size_t)tensor->c * (size_t)tensor->h * (size_t)tensor->w;
}

clrn_status clrn_op_check_tensor(clrn_context *context, const clrn_tensor *t, const char *op,
                                 const char *what) {
  if (!t)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: %s tensor is NULL", op, what);
  if (!t->buffer)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: %s tensor has no buffer", op, what);
  if (t->n <= 0 || t->c <= 0 || t->h <= 0 || t->w <= 0)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: %s tensor has shape %dx%dx%dx%d", op, what,
                     t->n, t->c, t->h, t->w);
  size_t elements = clrn_tensor_elements(t);
  if ((size_t)t->n * t->c > INT_MAX / ((size_t)t->h * t->w))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "%s: %s tensor %dx%dx%dx%d has 2^31 elements or more", op, what, t->n, t->c,
                     t->h, t->w);
  size_t bytes = 0;
  cl_context owner = NULL;
  cl_int err = clGetMemObjectInfo(t->buffer, CL_MEM_SIZE, sizeof bytes, &bytes, NULL);
  if (err == CL_SUCCESS)
    err = clGetMemObjectInfo(t->buffer, CL_MEM_CONTEXT, sizeof owner, &owner, NULL);
  if (err != CL_SUCCESS)
    return clrn_fail_cl(err, "%s: %s tensor's buffer", op, what);
  if (owner != clrn_context_cl(context))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "%s: %s tensor's buffer belongs to another OpenCL context", op, what);
  if (bytes < elements * sizeof(float))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "%s: %s tensor %dx%dx%dx%d needs %zu bytes, its buffer has %zu", op, what,
                     t->n, t->c, t->h, t->w, elements * sizeof(float), bytes);
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_op_check_queue(clrn_context *context, cl_command_queue queue, cl_uint num_wait,
                                const cl_event *wait, const char *op) {
  if (!queue)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: NULL command queue", op);
  if (num_wait > 0 && !wait)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: %u events to wait for but no list", op,
                     num_wait);
  cl_context owner = NULL;
  cl_int err = clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof owner, &owner, NULL);
  if (err != CL_SUCCESS)
    return clrn_fail_cl(err, "%s: command queue", op);
  if (owner != clrn_context_cl(context))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "%s: the command queue belongs to another OpenCL context", op);
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_op_work_group_limit(clrn_context *context, cl_kernel kernel, size_t *limit) {
  const clrn_device_info *device = clrn_context_device(context);
  size_t kernel_limit = 0;
  cl_int err = clGetKernelWorkGroupInfo(kernel, device->device_id, CL_KERNEL_WORK_GROUP_SIZE,
                                        sizeof kernel_limit, &kernel_limit, NULL);
  if (err != CL_SUCCESS)
    return clrn_fail_cl(err, "clGetKernelWorkGroupInfo(CL_KERNEL_WORK_GROUP_SIZE)");
  size_t value = kernel_limit;
  if (device->max_work_group_size && device->max_work_group_size < value)
    value = device->max_work_group_size;
  if (device->max_work_item_sizes[0] && device->max_work_item_sizes[0] < value)
    value = device->max_work_item_sizes[0];
  *limit = value ? value : 1;
  return CLRN_STATUS_SUCCESS;
}

size_t clrn_op_pow2_floor(size_t value) {
  size_t p = 1;
  while (p <= value / 2)
    p *= 2;
  return p;
}

size_t clrn_op_round_up(size_t value, size_t step) { return (value + step - 1) / step * step; }
