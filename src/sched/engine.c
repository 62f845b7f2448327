/* clrn_engine: one network over several devices (see clresnet/engine.h).
 *
 * The plan (folded, packed host weights, per-layer choices, buffer slots) is
 * device-free and built once per distinct set of convolution tuning values
 * (clrn_conv_tuning, read from each device's profile): the only thing a plan
 * depends on besides the weights and the model options. Devices with equal values,
 * such as two devices of one kind, share one plan; each device's model only
 * uploads the plan's weights into its own op objects.
 *
 * A device whose shard fails (its queue reports an error, or CLRN_FAULT says so:
 * fault.h) is marked failed with a warning through the log callback naming it, is
 * not used again, and its shard is run again on the devices left; the results do
 * not depend on the split, so the run's output is the same. Only when no device is
 * left does the run fail. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "base/error.h"
#include "clresnet/engine.h"
#include "sched/calibrate.h"
#include "sched/fault.h"
#include "sched/model.h"

typedef struct device_slot {
  clrn_context *ctx;
  clrn_model *model;
  double speed;
  int shard;   /* images it ran in the last clrn_engine_run() */
  long runs;   /* shard runs it finished */
  bool failed; /* its queue reported an error: not used again */
} device_slot;

struct clrn_engine {
  device_slot *devices;
  size_t count;
  clrn_plan *plans; /* one per distinct tuning (capacity count: never moved) */
  size_t plan_count;
  clrn_engine_options options;
  int num_classes;
  clrn_fault fault; /* CLRN_FAULT */
};

/* One device's share of a run, executed on its own thread. */
typedef struct shard_job {
  clrn_model *model;
  bool inject; /* fail as CLRN_FAULT asks instead of running */
  const float *input;
  float *logits;
  float *probabilities;
  int batch;
  clrn_status status;
  char error[1024];
} shard_job;

void clrn_engine_options_default(clrn_engine_options *o) {
  memset(o, 0, sizeof *o);
  clrn_model_options_default(&o->model);
}

/* A device's share of the batch in [0, 1]. Speeds that are not finite and positive
 * (inf, nan, zero, negative: a damaged calibration file or a caller's mistake)
 * count as no speed; dividing by the largest speed first keeps the sum finite. */
static double share_of(const double *speeds, size_t count, size_t i) {
  double largest = 0.0, total = 0.0;
  for (size_t j = 0; j < count; j++)
    if (isfinite(speeds[j]) && speeds[j] > largest)
      largest = speeds[j];
  if (largest <= 0.0)
    return 1.0 / (double)count;
  for (size_t j = 0; j < count; j++)
    total += isfinite(speeds[j]) && speeds[j] > 0 ? speeds[j] / largest : 0.0;
  return isfinite(speeds[i]) && speeds[i] > 0 ? speeds[i] / largest / total : 0.0;
}

void clrn_engine_split(const double *speeds, size_t count, int batch, int *shards) {
  if (count == 0)
    return;
  if (batch < 0)
    batch = 0;
  int given = 0;
  for (size_t i = 0; i < count; i++) {
    double share = share_of(speeds, count, i);
    shards[i] = (int)fmin(floor(share * batch), (double)(batch - given));
    given += shards[i];
  }
  /* Largest remainder: hand out what is left one image at a time (fewer than count
   * images, since every floor drops less than one). */
  while (given < batch) {
    size_t best = 0;
    double best_rest = -1.0;
    for (size_t i = 0; i < count; i++) {
      double rest = share_of(speeds, count, i) * batch - shards[i];
      if (rest > best_rest) {
        best_rest = rest;
        best = i;
      }
    }
    shards[best]++;
    given++;
  }
}

/* The plan for a device with these tuning values: a plan already built for equal
 * values, else a new one. */
static clrn_status find_plan(clrn_engine *e, const clrn_conv_tuning *tuning,
                             const clrn_weights *weights, const clrn_plan **plan) {
  for (size_t i = 0; i < e->plan_count; i++)
    if (clrn_conv_tuning_equal(&e->plans[i].tuning, tuning)) {
      *plan = &e->plans[i];
      return CLRN_STATUS_SUCCESS;
    }
  const clrn_model_options *o = &e->options.model;
  CLRN_TRY(
      clrn_plan_build(tuning, weights, o->height, o->width, o->fuse, &e->plans[e->plan_count]));
  *plan = &e->plans[e->plan_count++];
  return CLRN_STATUS_SUCCESS;
}

static clrn_status add_device(clrn_engine *e, const clrn_device_info *device,
                              const clrn_weights *weights, device_slot *slot) {
  clrn_context_options co;
  clrn_context_options_default(&co);
  co.profiling = e->options.profiling;
  co.progress = e->options.progress;
  co.progress_user_data = e->options.progress_user_data;
  co.kernel_binaries = e->options.kernel_binaries;
  co.kernel_export = e->options.kernel_export;
  CLRN_TRY(clrn_context_create(device, &co, &slot->ctx));
  clrn_conv_tuning tuning;
  const clrn_plan *plan = NULL;
  clrn_status status = clrn_context_prepare(slot->ctx, NULL, 0);
  if (status == CLRN_STATUS_SUCCESS) {
    status = clrn_model_tuning(slot->ctx, &e->options.model, &tuning);
    if (status == CLRN_STATUS_SUCCESS)
      status = find_plan(e, &tuning, weights, &plan);
  }
  if (status == CLRN_STATUS_SUCCESS)
    status = clrn_model_create_from_plan(slot->ctx, plan, &e->options.model, &slot->model);
  if (status != CLRN_STATUS_SUCCESS)
    clrn_fail_prefix(status, "%s", device->name);
  return status;
}

clrn_status clrn_engine_create(const clrn_device_info *devices, size_t count,
                               const clrn_weights *weights, const clrn_engine_options *options,
                               clrn_engine **out) {
  if (!devices || count == 0 || !weights || !out)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_engine_create: no devices or weights");
  *out = NULL;
  clrn_engine *e = calloc(1, sizeof *e);
  if (!e || !(e->devices = calloc(count, sizeof *e->devices)) ||
      !(e->plans = calloc(count, sizeof *e->plans))) {
    if (e)
      free(e->devices);
    free(e);
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "engine");
  }
  e->count = count;
  if (options)
    e->options = *options;
  else
    clrn_engine_options_default(&e->options);
  e->options.speeds = NULL; /* copied below: the caller's array need not outlive the call */
  e->num_classes = clrn_weights_num_classes(weights);
  clrn_status status = clrn_fault_read(&e->fault);
  for (size_t i = 0; i < count && status == CLRN_STATUS_SUCCESS; i++)
    status = add_device(e, &devices[i], weights, &e->devices[i]);
  for (size_t i = 0; count > 1 && i < count && status == CLRN_STATUS_SUCCESS; i++) {
    if (options && options->speeds) {
      e->devices[i].speed = options->speeds[i];
      continue;
    }
    status = clrn_calibrate(e->devices[i].model, &e->options.model, e->options.recalibrate,
                            &e->devices[i].speed);
    if (status != CLRN_STATUS_SUCCESS)
      clrn_fail_prefix(status, "calibrating %s", devices[i].name);
  }
  if (status != CLRN_STATUS_SUCCESS) {
    clrn_engine_release(e);
    return status;
  }
  *out = e;
  return CLRN_STATUS_SUCCESS;
}

/* Each device's shard of a run of batch images (the split clrn_engine_run() makes):
 * none for a failed device, all for the only device left. */
static clrn_status engine_shards(const clrn_engine *e, int batch, int **shards) {
  double *speeds = malloc(e->count * sizeof *speeds);
  size_t *live = malloc(e->count * sizeof *live);
  int *split = malloc(e->count * sizeof *split);
  *shards = calloc(e->count, sizeof **shards);
  clrn_status status = CLRN_STATUS_SUCCESS;
  if (!speeds || !live || !split || !*shards) {
    free(*shards);
    *shards = NULL;
    status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "engine shards");
    goto done;
  }
  size_t count = 0;
  for (size_t i = 0; i < e->count; i++)
    if (!e->devices[i].failed) {
      speeds[count] = e->devices[i].speed;
      live[count++] = i;
    }
  if (count == 1)
    split[0] = batch;
  else if (count > 1)
    clrn_engine_split(speeds, count, batch, split);
  for (size_t k = 0; k < count; k++)
    (*shards)[live[k]] = split[k];
done:
  free(speeds);
  free(live);
  free(split);
  return status;
}

static int run_shard(void *arg) {
  shard_job *job = arg;
  if (job->inject)
    job->status = clrn_fail(CLRN_STATUS_OPENCL_ERROR,
                            "the queue reported CL_OUT_OF_RESOURCES (injected by CLRN_FAULT)");
  else
    job->status =
        clrn_model_run(job->model, job->input, job->batch, job->logits, job->probabilities);
  if (job->status != CLRN_STATUS_SUCCESS)
    snprintf(job->error, sizeof job->error, "%s", clrn_last_error());
  return 0;
}

static clrn_status run_live(clrn_engine *e, const float *input, int batch, float *logits,
                            float *probabilities);

/* Device i's shard (job) failed: marks the device failed and says so. */
static void mark_failed(clrn_engine *e, size_t i, const shard_job *job) {
  device_slot *d = &e->devices[i];
  d->failed = true;
  d->shard -= job->batch;
  size_t left = 0;
  for (size_t k = 0; k < e->count; k++)
    left += !e->devices[k].failed;
  if (left > 0)
    clrn_log(CLRN_LOG_LEVEL_WARNING,
             "device %zu (%s) failed: %s; its %d image%s run again on the %zu device%s "
             "left, and it is not used again",
             i, clrn_context_device(d->ctx)->name, job->error, job->batch,
             job->batch > 1 ? "s" : "", left, left > 1 ? "s" : "");
}

/* Runs the shard of a failed device (marked already) on the devices left. */
static clrn_status rerun(clrn_engine *e, size_t i, shard_job *job) {
  size_t left = 0;
  for (size_t k = 0; k < e->count; k++)
    left += !e->devices[k].failed;
  if (e->count == 1)
    return clrn_fail(job->status, "%s", job->error);
  if (left == 0)
    return clrn_fail(job->status, "no device left: %s: %s",
                     clrn_context_device(e->devices[i].ctx)->name, job->error);
  return run_live(e, job->input, job->batch, job->logits, job->probabilities);
}

/* Runs batch images over the devices that have not failed, one host thread per
 * device with a shard (the calling thread when only one has), recovering from
 * the devices that fail. */
static clrn_status run_live(clrn_engine *e, const float *input, int batch, float *logits,
                            float *probabilities) {
  int *shards = NULL;
  CLRN_TRY(engine_shards(e, batch, &shards));
  shard_job *jobs = calloc(e->count, sizeof *jobs);
  thrd_t *threads = calloc(e->count, sizeof *threads);
  bool *started = calloc(e->count, sizeof *started);
  clrn_status status = CLRN_STATUS_SUCCESS;
  if (!jobs || !threads || !started) {
    status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "engine run");
    goto done;
  }
  const clrn_model_options *o = &e->options.model;
  size_t in_floats = 3 * (size_t)o->height * (size_t)o->width;
  size_t out_floats = (size_t)e->num_classes;
  size_t busy = 0;
  for (size_t i = 0; i < e->count; i++)
    busy += shards[i] > 0;
  int offset = 0;
  for (size_t i = 0; i < e->count; i++) {
    device_slot *d = &e->devices[i];
    jobs[i] = (shard_job){.model = d->model,
                          .inject = clrn_fault_due(&e->fault, i, d->runs),
                          .input = input + (size_t)offset * in_floats,
                          .logits = logits + (size_t)offset * out_floats,
                          .probabilities =
                              probabilities ? probabilities + (size_t)offset * out_floats : NULL,
                          .batch = shards[i]};
    offset += shards[i];
    if (shards[i] == 0)
      continue;
    d->shard += shards[i];
    if (busy == 1) {
      run_shard(&jobs[i]);
      continue;
    }
    if (thrd_create(&threads[i], run_shard, &jobs[i]) != thrd_success) {
      status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "cannot start a device thread");
      break;
    }
    started[i] = true;
  }
  for (size_t i = 0; i < e->count; i++)
    if (started[i])
      thrd_join(threads[i], NULL);
  /* Every thread has ended, and every failed device is marked, before any shard
   * runs again. */
  for (size_t i = 0; i < e->count && status == CLRN_STATUS_SUCCESS; i++) {
    if (shards[i] > 0 && jobs[i].status == CLRN_STATUS_SUCCESS)
      e->devices[i].runs++;
    else if (shards[i] > 0)
      mark_failed(e, i, &jobs[i]);
  }
  for (size_t i = 0; i < e->count && status == CLRN_STATUS_SUCCESS; i++)
    if (shards[i] > 0 && jobs[i].status != CLRN_STATUS_SUCCESS)
      status = rerun(e, i, &jobs[i]);
done:
  free(shards);
  free(jobs);
  free(threads);
  free(started);
  return status;
}

clrn_status clrn_engine_run(clrn_engine *e, const float *input, int batch, float *logits,
                            float *probabilities) {
  if (!e || !input || !logits)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_engine_run: NULL argument");
  if (batch < 1)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "batch %d must be at least 1", batch);
  for (size_t i = 0; i < e->count; i++)
    e->devices[i].shard = 0;
  return run_live(e, input, batch, logits, probabilities);
}

clrn_status clrn_engine_warm_up(clrn_engine *e, int batch, clrn_build_progress_fn progress,
                                void *user_data) {
  if (!e)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_engine_warm_up: NULL engine");
  if (batch < 1)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "batch %d must be at least 1", batch);
  int *shards = NULL;
  CLRN_TRY(engine_shards(e, batch, &shards));
  size_t total = 0, done = 0;
  int sizes[2];
  for (size_t i = 0; i < e->count; i++)
    total += (size_t)clrn_model_launch_sizes(e->devices[i].model, shards[i], sizes);
  clrn_status status = CLRN_STATUS_SUCCESS;
  if (progress && total > 0)
    progress(clrn_context_device(e->devices[0].ctx), 0, total, true, user_data);
  for (size_t i = 0; i < e->count && status == CLRN_STATUS_SUCCESS; i++) {
    clrn_model *m = e->devices[i].model;
    const clrn_device_info *device = clrn_context_device(e->devices[i].ctx);
    int count = clrn_model_launch_sizes(m, shards[i], sizes);
    for (int k = 0; k < count && status == CLRN_STATUS_SUCCESS; k++) {
      status = clrn_model_warm_up(m, sizes[k]);
      if (status != CLRN_STATUS_SUCCESS)
        clrn_fail_prefix(status, "%s: warm-up run of %d images", device->name, sizes[k]);
      else if (progress)
        progress(device, ++done, total, true, user_data);
    }
  }
  free(shards);
  return status;
}

size_t clrn_engine_device_count(const clrn_engine *e) { return e->count; }
clrn_model *clrn_engine_model(const clrn_engine *e, size_t i) { return e->devices[i].model; }
double clrn_engine_speed(const clrn_engine *e, size_t i) { return e->devices[i].speed; }
int clrn_engine_last_shard(const clrn_engine *e, size_t i) { return e->devices[i].shard; }
int clrn_engine_num_classes(const clrn_engine *e) { return e->num_classes; }

void clrn_engine_release(clrn_engine *e) {
  if (!e)
    return;
  for (size_t i = 0; i < e->count; i++) {
    clrn_model_release(e->devices[i].model);
    clrn_context_release(e->devices[i].ctx);
  }
  for (size_t i = 0; i < e->plan_count; i++)
    clrn_plan_free(&e->plans[i]);
  free(e->plans);
  free(e->devices);
  free(e);
}
