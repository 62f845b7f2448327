/* The scheduler: runs a plan on its device with event dependencies instead of
 * waits. Each step goes to its in-order queue (0 main path, 1 a block's
 * downsample branch) with a wait list built from the hazards on its buffers:
 * the last writer of each input (read after write) and, for its output, the last
 * writer and every reader since (write after write, write after read). Events of
 * the step's own queue are left out (an in-order queue already orders them). No
 * clFinish between layers: the host waits once, for the downloads at the end.
 *
 * A batch larger than the buffers is cut into chunks; input, logits and
 * probabilities buffers are doubled so chunk k+1 uploads (on queue 2) while chunk
 * k computes, and chunk k downloads while k+1 computes. Each compute queue has one
 * workspace for the padded inputs of its convolutions, lent to each of them. */
#ifndef CLRN_SCHED_EXEC_H
#define CLRN_SCHED_EXEC_H

#include "clresnet/model.h"
#include "plan/plan.h"
#include "sched/instance.h"

typedef struct clrn_exec clrn_exec;

/** Allocates the buffers of plan for max_batch images on context, exactly as
 * clrn_plan_memory_needs() counts them (zero-filled, so allocation failures
 * surface here rather than at the first run), and lends the workspaces to ops, the
 * plan's op objects on context. plan and ops must outlive the scheduler. */
clrn_status clrn_exec_create(clrn_context *context, const clrn_plan *plan, const clrn_step_op *ops,
                             int max_batch, clrn_exec **exec);

/** Runs batch images from input into logits and probabilities (may be NULL). */
clrn_status clrn_exec_run(clrn_exec *exec, const float *input, int batch, float *logits,
                          float *probabilities);

/** Device bytes of the activation, I/O and workspace buffers. */
size_t clrn_exec_buffer_bytes(const clrn_exec *exec);

/** Trace records of the last run (empty without profiling). */
void clrn_exec_trace(const clrn_exec *exec, const clrn_trace_record **records, size_t *count);

/** Waits for the queues and frees everything. NULL is ignored. */
void clrn_exec_release(clrn_exec *exec);

#endif
