/* clrn_model: a ResNet planned and ready to run on one device. Creation builds the
 * plan (weights uploaded) and the scheduler's buffers, halving the batch the
 * buffers hold until they fit the device (the policy: activations for max_batch
 * images plus the weights must fit in the memory limit, by default 80% of global
 * memory, each buffer within the largest allocation, and the allocation must
 * succeed). */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "clresnet/model.h"
#include "plan/plan.h"
#include "runtime/platform_lock.h"
#include "sched/exec.h"

#define MEMORY_SHARE 0.8

struct clrn_model {
  clrn_context *ctx;
  clrn_plan plan;
  clrn_exec *exec;
  clrn_model_options options;
  int max_batch;
};

void clrn_model_options_default(clrn_model_options *o) {
  memset(o, 0, sizeof *o);
  o->fuse = true;
  o->max_batch = 8;
  o->height = 224;
  o->width = 224;
}

/* The largest batch, at most wanted, whose buffers fit the device by the policy. */
static int fitting_batch(const clrn_context *ctx, const clrn_plan *plan, int wanted, size_t limit) {
  const clrn_device_info *d = clrn_context_device(ctx);
  double total = limit ? (double)limit : MEMORY_SHARE * (double)d->global_mem_bytes;
  double budget = total - (double)plan->weight_bytes;
  size_t largest_slot = 0;
  for (size_t i = 0; i < plan->slot_count; i++)
    if (plan->slot_floats[i] > largest_slot)
      largest_slot = plan->slot_floats[i];
  size_t io = 2 * (clrn_plan_value_floats(plan, plan->graph.input) +
                   2 * clrn_plan_value_floats(plan, plan->graph.output));
  size_t workspace = 0; /* the padded-input scratch of the largest convolution */
  for (size_t i = 0; i < plan->step_count; i++) {
    const clrn_value *in = &plan->graph.values[plan->steps[i].inputs[0]];
    size_t need =
        plan->steps[i].conv ? clrn_conv2d_workspace_size(plan->steps[i].conv, 1, in->h, in->w) : 0;
    workspace = need > workspace ? need : workspace;
  }
  double per_image =
      (double)(clrn_plan_activation_bytes_per_image(plan) + io * sizeof(float) + workspace);
  int batch = wanted;
  while (batch > 1 &&
         ((double)batch * per_image > budget ||
          (double)batch * (double)largest_slot * sizeof(float) > (double)d->max_alloc_bytes))
    batch /= 2;
  return batch;
}

clrn_status clrn_model_create(clrn_context *ctx, const clrn_weights *weights,
                              const clrn_model_options *options, clrn_model **out) {
  if (!ctx || !weights || !out)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_model_create: NULL argument");
  *out = NULL;
  clrn_model_options defaults;
  clrn_model_options_default(&defaults);
  if (!options)
    options = &defaults;
  if (options->max_batch < 1)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "max_batch %d must be at least 1",
                     options->max_batch);
  clrn_model *m = calloc(1, sizeof *m);
  if (!m)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "model");
  m->ctx = ctx;
  m->options = *options;
  clrn_status status =
      clrn_plan_build(ctx, weights, options->height, options->width, options->fuse, &m->plan);
  if (status != CLRN_STATUS_SUCCESS) {
    free(m);
    return status;
  }
  int batch = fitting_batch(ctx, &m->plan, options->max_batch, options->memory_limit);
  for (;;) {
    status = clrn_exec_create(ctx, &m->plan, batch, &m->exec);
    if (status != CLRN_STATUS_OUT_OF_DEVICE_MEMORY || batch == 1)
      break;
    clrn_log(CLRN_LOG_LEVEL_INFO, "buffers for a batch of %d do not fit %s; trying %d", batch,
             clrn_context_device(ctx)->name, batch / 2);
    batch /= 2;
  }
  if (status != CLRN_STATUS_SUCCESS) {
    clrn_model_release(m);
    return status;
  }
  if (batch < options->max_batch)
    clrn_log(CLRN_LOG_LEVEL_INFO, "%s: running batches of at most %d (of %d asked) to fit memory",
             clrn_context_device(ctx)->name, batch, options->max_batch);
  m->max_batch = batch;
  *out = m;
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_model_run(clrn_model *m, const float *input, int batch, float *logits,
                           float *probabilities) {
  if (!m || !input || !logits)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_model_run: NULL argument");
  if (batch < 1)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "batch %d must be at least 1", batch);
  /* Old PoCL CPU drivers crash when two threads run one kernel at once: see
   * runtime/platform_lock.h. */
  bool locked = clrn_platform_lock_enter(clrn_context_device(m->ctx));
  clrn_status status = clrn_exec_run(m->exec, input, batch, logits, probabilities);
  clrn_platform_lock_leave(locked);
  return status;
}

int clrn_model_max_batch(const clrn_model *m) { return m->max_batch; }
int clrn_model_num_classes(const clrn_model *m) { return m->plan.graph.num_classes; }
clrn_context *clrn_model_context(const clrn_model *m) { return m->ctx; }

size_t clrn_model_device_bytes(const clrn_model *m) {
  return m->plan.weight_bytes + clrn_exec_buffer_bytes(m->exec);
}

clrn_status clrn_model_trace(const clrn_model *m, const clrn_trace_record **records,
                             size_t *count) {
  if (!m || !records || !count)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_model_trace: NULL argument");
  clrn_exec_trace(m->exec, records, count);
  return CLRN_STATUS_SUCCESS;
}

void clrn_model_release(clrn_model *m) {
  if (!m)
    return;
  clrn_exec_release(m->exec);
  clrn_plan_free(&m->plan);
  free(m);
}
