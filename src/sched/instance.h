/* A plan's op objects on one device: every convolution, BatchNorm and linear step
 * of a (shared, device-free) plan made into an op object on a context from the
 * plan's host weights, which are uploaded as they are (no folding or packing). */
#ifndef CLRN_SCHED_INSTANCE_H
#define CLRN_SCHED_INSTANCE_H

#include "clresnet/ops.h"
#include "plan/plan.h"

/** The op object of one step (the one its kind needs; the others NULL). */
typedef struct clrn_step_op {
  clrn_conv2d *conv;
  clrn_batchnorm *batchnorm;
  clrn_linear *linear;
} clrn_step_op;

/** Creates plan->step_count op objects on context into *ops (free with
 * clrn_instance_release()). */
clrn_status clrn_instance_create(clrn_context *context, const clrn_plan *plan, clrn_step_op **ops);

/** Releases count op objects and the array. NULL is ignored. */
void clrn_instance_release(clrn_step_op *ops, size_t count);

/** The pooling window of a MAXPOOL step. */
clrn_pool2d_desc clrn_instance_pool(const clrn_step *step);

#endif
