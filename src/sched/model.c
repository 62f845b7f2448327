/* clrn_model: a ResNet planned and ready to run on one device. Creation builds the
 * plan (or takes a shared one), instantiates its op objects (weights uploaded) and
 * the scheduler's buffers, halving the batch the buffers hold until they fit the
 * device (the policy: weights plus buffers for max_batch images, as
 * clrn_plan_memory_needs() counts them, must fit in the memory limit, by default
 * 80% of global memory, each buffer within the largest allocation, and the
 * allocation must succeed). */
#include "sched/model.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "runtime/nvidia.h"
#include "runtime/platform_lock.h"
#include "sched/exec.h"

#define MEMORY_SHARE 0.8

struct clrn_model {
  clrn_context *ctx;
  const clrn_plan *plan; /* shared, or owned */
  clrn_plan *owned;      /* the plan when the model built it itself */
  clrn_step_op *ops;
  clrn_exec *exec;
  clrn_model_options options;
  clrn_plan_memory needs;
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
static int fitting_batch(const clrn_context *ctx, const clrn_plan_memory *needs, int wanted,
                         size_t limit) {
  const clrn_device_info *d = clrn_context_device(ctx);
  double total = limit ? (double)limit : MEMORY_SHARE * (double)d->global_mem_bytes;
  int batch = wanted;
  while (batch > 1 &&
         ((double)clrn_plan_memory_bytes(needs, batch) > total ||
          (double)batch * (double)needs->largest_buffer_bytes > (double)d->max_alloc_bytes))
    batch /= 2;
  return batch;
}

static clrn_status check_options(const clrn_model_options *options) {
  if (options->max_batch < 1)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "max_batch %d must be at least 1",
                     options->max_batch);
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_model_tuning(const clrn_context *ctx, const clrn_model_options *options,
                              clrn_conv_tuning *tuning) {
  CLRN_TRY(clrn_precision_check(clrn_context_device(ctx), options->precision));
  clrn_conv_tuning_read(ctx, tuning);
  tuning->precision = options->precision;
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_model_create_from_plan(clrn_context *ctx, const clrn_plan *plan,
                                        const clrn_model_options *options, clrn_model **out) {
  *out = NULL;
  CLRN_TRY(check_options(options));
  /* The kernels are built with the profile's blocking: the plan must be packed for it. */
  clrn_conv_tuning tuning;
  CLRN_TRY(clrn_model_tuning(ctx, options, &tuning));
  if (!clrn_conv_tuning_equal(&tuning, &plan->tuning))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "%s: the plan was made for other convolution tuning values or precision than "
                     "profile %s's at %s",
                     clrn_context_device(ctx)->name, clrn_context_profile_name(ctx),
                     clrn_precision_string(options->precision));
  clrn_model *m = calloc(1, sizeof *m);
  if (!m)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "model");
  m->ctx = ctx;
  m->plan = plan;
  m->options = *options;
  clrn_plan_memory_needs(plan, &m->needs);
  clrn_status status = clrn_instance_create(ctx, plan, &m->ops);
  int batch = fitting_batch(ctx, &m->needs, options->max_batch, options->memory_limit);
  while (status == CLRN_STATUS_SUCCESS) {
    status = clrn_exec_create(ctx, plan, m->ops, batch, &m->exec);
    if (status != CLRN_STATUS_OUT_OF_DEVICE_MEMORY || batch == 1)
      break;
    clrn_log(CLRN_LOG_LEVEL_INFO, "buffers for a batch of %d do not fit %s; trying %d", batch,
             clrn_context_device(ctx)->name, batch / 2);
    batch /= 2;
    status = CLRN_STATUS_SUCCESS;
  }
  if (status != CLRN_STATUS_SUCCESS) {
    clrn_model_release(m);
    return status;
  }
  if (batch < options->max_batch)
    clrn_log(CLRN_LOG_LEVEL_INFO, "%s: running batches of at most %d (of %d asked) to fit memory",
             clrn_context_device(ctx)->name, batch, options->max_batch);
  m->max_batch = batch;
  if (options->warm_up && (status = clrn_model_warm_up(m, batch)) != CLRN_STATUS_SUCCESS) {
    clrn_model_release(m);
    return clrn_fail_prefix(status, "warm-up run");
  }
  *out = m;
  return CLRN_STATUS_SUCCESS;
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
  CLRN_TRY(check_options(options));
  clrn_conv_tuning tuning;
  clrn_status checked = clrn_model_tuning(ctx, options, &tuning);
  if (checked != CLRN_STATUS_SUCCESS)
    return clrn_fail_prefix(checked, "%s", clrn_context_device(ctx)->name);
  clrn_plan *plan = calloc(1, sizeof *plan);
  if (!plan)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "plan");
  clrn_status status =
      clrn_plan_build(&tuning, weights, options->height, options->width, options->fuse, plan);
  if (status == CLRN_STATUS_SUCCESS)
    status = clrn_model_create_from_plan(ctx, plan, options, out);
  if (status != CLRN_STATUS_SUCCESS) {
    clrn_plan_free(plan);
    free(plan);
    return status;
  }
  (*out)->owned = plan;
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_model_run(clrn_model *m, const float *input, int batch, float *logits,
                           float *probabilities) {
  if (!m || !input || !logits)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_model_run: NULL argument");
  if (batch < 1)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "batch %d must be at least 1", batch);
  /* Old PoCL CPU drivers crash when two threads of one device run one kernel at
   * once: see runtime/platform_lock.h. */
  clrn_platform_lock *lock = clrn_platform_lock_enter(clrn_context_device(m->ctx));
  clrn_status status = clrn_exec_run(m->exec, input, batch, logits, probabilities);
  clrn_platform_lock_leave(lock);
  return status;
}

int clrn_model_launch_sizes(const clrn_model *m, int batch, int sizes[2]) {
  if (batch < 1)
    return 0;
  sizes[0] = batch < m->max_batch ? batch : m->max_batch;
  int rest = batch % m->max_batch;
  if (batch <= m->max_batch || rest == 0)
    return 1;
  sizes[1] = rest;
  return 2;
}

clrn_status clrn_model_warm_up(clrn_model *m, int batch) {
  if (!m)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_model_warm_up: NULL model");
  if (batch < 1)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "batch %d must be at least 1", batch);
  int sizes[2];
  int count = clrn_model_launch_sizes(m, batch, sizes);
  const clrn_graph *g = &m->plan->graph;
  size_t images = (size_t)sizes[0];
  float *input =
      calloc(images * 3 * (size_t)m->options.height * (size_t)m->options.width, sizeof *input);
  float *logits = malloc(images * (size_t)g->num_classes * sizeof *logits);
  clrn_status status = input && logits ? CLRN_STATUS_SUCCESS
                                       : clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "warm-up input");
  for (int i = 0; i < count && status == CLRN_STATUS_SUCCESS; i++)
    status = clrn_model_run(m, input, sizes[i], logits, NULL);
  free(input);
  free(logits);
  return status;
}

int clrn_model_max_batch(const clrn_model *m) { return m->max_batch; }
int clrn_model_num_classes(const clrn_model *m) { return m->plan->graph.num_classes; }
clrn_context *clrn_model_context(const clrn_model *m) { return m->ctx; }
const clrn_plan *clrn_model_plan(const clrn_model *m) { return m->plan; }

size_t clrn_model_device_bytes(const clrn_model *m) {
  return m->needs.weight_bytes + clrn_exec_buffer_bytes(m->exec);
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
  clrn_instance_release(m->ops, m->plan->step_count);
  if (m->owned) {
    clrn_plan_free(m->owned);
    free(m->owned);
  }
  free(m);
}
