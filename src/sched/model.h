/* clrn_model internals: a model made on a plan that several models share (the
 * engine builds one plan per distinct set of tuning values and gives it to every
 * device that has those values). */
#ifndef CLRN_SCHED_MODEL_H
#define CLRN_SCHED_MODEL_H

#include "clresnet/model.h"
#include "plan/plan.h"

/** Creates a model on context from plan, which stays the caller's and must outlive
 * the model; plan must have been built for context's tuning values (else
 * INVALID_ARGUMENT: the kernels are built with them) and for options' height,
 * width and fusion. Only the op objects (weights uploaded) and the buffers are
 * made here. */
clrn_status clrn_model_create_from_plan(clrn_context *context, const clrn_plan *plan,
                                        const clrn_model_options *options, clrn_model **model);

/** The tuning values a plan for context must be built with under options: the
 * profile's, the options' precision and the device's compute capability. Fails
 * with CLRN_STATUS_UNSUPPORTED (a one-line reason naming the device) when the
 * device cannot run that precision (tf32 off NVIDIA compute capability >= 8.0). */
clrn_status clrn_model_tuning(const clrn_context *context, const clrn_model_options *options,
                              clrn_conv_tuning *tuning);

/** The batch sizes a clrn_model_run() of batch images launches: writes one or two
 * sizes to sizes and returns how many (0 when batch < 1). */
int clrn_model_launch_sizes(const clrn_model *model, int batch, int sizes[2]);

/** The plan a model runs. */
const clrn_plan *clrn_model_plan(const clrn_model *model);

#endif
