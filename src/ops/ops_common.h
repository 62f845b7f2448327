/* Helpers shared by the op launchers of src/ops: checking a tensor argument
 * against the op's context, and work-group limits for a launch. Small on purpose. */
#ifndef CLRN_OPS_COMMON_H
#define CLRN_OPS_COMMON_H

#include "clresnet/ops.h"
#include "core/error.h"

/** Checks that tensor is usable by an op running in context: not NULL, a buffer
 * of that context at least n*c*h*w floats long, every dimension >= 1 and fewer
 * than 2^31 elements (kernels index with int). Fails with INVALID_ARGUMENT
 * naming op and what ("conv2d", "input"). */
clrn_status clrn_op_check_tensor(clrn_context *context, const clrn_tensor *tensor, const char *op,
                                 const char *what);

/** Checks that queue belongs to context (INVALID_ARGUMENT otherwise) and that the
 * wait list is consistent (num_wait > 0 needs wait). */
clrn_status clrn_op_check_queue(clrn_context *context, cl_command_queue queue, cl_uint num_wait,
                                const cl_event *wait, const char *op);

/** The largest work-group size kernel may use on the context's device: the
 * minimum of CL_KERNEL_WORK_GROUP_SIZE, the device's max_work_group_size and its
 * max_work_item_sizes[0]. */
clrn_status clrn_op_work_group_limit(clrn_context *context, cl_kernel kernel, size_t *limit);

/** The largest power of two <= value (value >= 1). */
size_t clrn_op_pow2_floor(size_t value);

/** value rounded up to a multiple of step (step >= 1). */
size_t clrn_op_round_up(size_t value, size_t step);

#endif
