/* The tuner (clresnet/tune.h): plans the network once with the device profile's
 * values alone, collects its distinct convolution shapes (shape and output plane,
 * the tuning file's key), and for each times every candidate of
 * plan/conv_candidates.c as a lone op on the device, on seeded random weights and
 * inputs, at the batch asked. A candidate's time is the best of a few runs after
 * one untimed run (which also makes PoCL compile the kernel for its work-group
 * size); one that takes more than three times the best so far is not run again.
 * The winner and the profile's own choice are then timed again, alternating, so
 * that noise on a busy machine does not replace the profile's choice for nothing.
 * The fastest of each shape goes into the device's tuning file, merged with the
 * entries of other shapes a file of the same device, driver and profile holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "clresnet/tune.h"
#include "ops/conv2d_packed.h"
#include "ops/ops_internal.h"
#include "plan/conv_candidates.h"
#include "plan/plan.h"
#include "runtime/cache.h"

#define RUNS 3           /* timed runs of a candidate (the best counts) */
#define SLOW_FACTOR 3.0  /* a first run this much slower than the best ends a candidate */
#define CONFIRM_ROUNDS 2 /* alternate timings of the winner and the profile's choice */

void clrn_tune_options_default(clrn_tune_options *o) {
  memset(o, 0, sizeof *o);
  o->batch = 1;
  o->height = 224;
  o->width = 224;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One distinct convolution shape of the plan. */
typedef struct layer {
  const clrn_step *step;
  int in_h, in_w, out_h, out_w;
} layer;

/* What every timing of one shape shares: the context, the random host arrays (big
 * enough for any candidate) and the device tensors. */
typedef struct bench {
  clrn_context *context;
  cl_command_queue queue;
  const clrn_conv_tuning *tuning;
  int batch;
  float *weight;
  clrn_tensor input, output;
} bench;

static void fill_random(float *data, size_t count, uint64_t seed) {
  for (size_t i = 0; i < count; i++) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    data[i] = (float)((int)(seed >> 40) % 2001 - 1000) * 5e-5f;
  }
}

/* Milliseconds of one launch of conv (after clFinish), or < 0 on failure. */
static double time_launch(bench *b, clrn_conv2d *conv) {
  double start = now_seconds();
  clrn_status status =
      clrn_conv2d_launch(conv, b->queue, &b->input, NULL, &b->output, 0, NULL, NULL);
  cl_int err = status == CLRN_STATUS_SUCCESS ? clFinish(b->queue) : CL_SUCCESS;
  if (status != CLRN_STATUS_SUCCESS)
    return -1.0;
  if (err != CL_SUCCESS) {
    clrn_fail(CLRN_STATUS_OPENCL_ERROR, "clFinish: OpenCL error %d", (int)err);
    return -1.0;
  }
  return 1e3 * (now_seconds() - start);
}

/* Best milliseconds of candidate c on layer l; *ms < 0 when it was cut short. */
static clrn_status time_candidate(bench *b, const layer *l, const clrn_conv_candidate *c,
                                  double best, double *ms) {
  const clrn_conv_shape *shape = &l->step->conv;
  long plane = (long)l->out_h * l->out_w;
  clrn_conv2d_config config;
  clrn_conv_candidate_config(b->tuning, shape, plane, c, &config);
  clrn_conv2d_packed packed;
  CLRN_TRY(clrn_conv2d_pack(shape, &config, b->weight, NULL, NULL, NULL, &packed));
  clrn_conv2d_desc desc = {shape->in_channels,
                           shape->out_channels,
                           shape->kernel_h,
                           shape->kernel_w,
                           shape->stride_h,
                           shape->stride_w,
                           shape->pad_h,
                           shape->pad_w,
                           shape->groups,
                           shape->relu,
                           (clrn_conv2d_variant)config.variant};
  clrn_conv2d *conv = NULL;
  clrn_status status = clrn_conv2d_create_packed(b->context, &desc, &config, &packed, &conv);
  clrn_conv2d_packed_free(&packed);
  CLRN_TRY(status);
  *ms = -1.0;
  double first = time_launch(b, conv); /* compiles for this work-group size on PoCL */
  /* Hopeless even with its first launch's compile counted: one timed run is enough. */
  int runs = best > 0 && first > SLOW_FACTOR * best ? 1 : RUNS;
  for (int r = 0; first >= 0 && r < runs; r++) {
    double t = time_launch(b, conv);
    if (t < 0) {
      first = -1.0;
      break;
    }
    if (*ms < 0 || t < *ms)
      *ms = t;
    if (best > 0 && t > SLOW_FACTOR * best)
      break;
  }
  clrn_conv2d_release(conv);
  return first < 0 ? clrn_fail_prefix(CLRN_STATUS_OPENCL_ERROR, "timing a candidate")
                   : CLRN_STATUS_SUCCESS;
}

/* Creates the device tensors of layer l for b's batch, filled with random values. */
static clrn_status make_tensors(bench *b, const layer *l) {
  const clrn_conv_shape *s = &l->step->conv;
  b->input = (clrn_tensor){NULL, b->batch, s->in_channels, l->in_h, l->in_w};
  b->output = (clrn_tensor){NULL, b->batch, s->out_channels, l->out_h, l->out_w};
  size_t in = clrn_tensor_elements(&b->input), out = clrn_tensor_elements(&b->output);
  float *host = malloc((in > out ? in : out) * sizeof *host);
  if (!host)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "tuner input");
  fill_random(host, in > out ? in : out, 7);
  clrn_status status = clrn_buffer_create(b->context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                                          in * sizeof *host, host, &b->input.buffer);
  if (status == CLRN_STATUS_SUCCESS)
    status = clrn_buffer_create(b->context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                                out * sizeof *host, host, &b->output.buffer);
  free(host);
  return status;
}

static void free_tensors(bench *b) {
  if (b->input.buffer)
    clReleaseMemObject(b->input.buffer);
  if (b->output.buffer)
    clReleaseMemObject(b->output.buffer);
  b->input.buffer = b->output.buffer = NULL;
}

/* Times every candidate of layer l and stores the fastest in tuned. */
static clrn_status tune_layer(bench *b, const layer *l, bool quick, clrn_tuned_convs *tuned,
                              char *winner, size_t winner_size, double *best_ms,
                              double *profile_ms) {
  const clrn_conv_shape *shape = &l->step->conv;
  long plane = (long)l->out_h * l->out_w;
  clrn_conv_candidate candidates[CLRN_CONV_CANDIDATES_MAX];
  size_t count = clrn_conv_candidates(b->tuning, shape, plane, quick, candidates);
  size_t weights = (size_t)shape->out_channels * (size_t)(shape->in_channels / shape->groups) *
                   (size_t)shape->kernel_h * (size_t)shape->kernel_w;
  b->weight = malloc(weights * sizeof *b->weight);
  if (!b->weight)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "tuner weights");
  fill_random(b->weight, weights, 3);
  clrn_status status = make_tensors(b, l);
  size_t best = 0;
  *best_ms = *profile_ms = -1.0;
  for (size_t i = 0; status == CLRN_STATUS_SUCCESS && i < count; i++) {
    double ms;
    status = time_candidate(b, l, &candidates[i], *best_ms, &ms);
    if (status == CLRN_STATUS_SUCCESS && i == 0)
      *profile_ms = ms;
    if (status == CLRN_STATUS_SUCCESS && ms >= 0 && (*best_ms < 0 || ms < *best_ms)) {
      *best_ms = ms;
      best = i;
    }
  }
  /* On a busy machine one lucky run can crown a candidate: the winner and the
   * profile's choice are timed again, alternating, and the winner must stay ahead. */
  for (int r = 0; status == CLRN_STATUS_SUCCESS && best != 0 && r < CONFIRM_ROUNDS; r++) {
    double again[2];
    status = time_candidate(b, l, &candidates[0], -1.0, &again[0]);
    if (status == CLRN_STATUS_SUCCESS)
      status = time_candidate(b, l, &candidates[best], -1.0, &again[1]);
    if (status == CLRN_STATUS_SUCCESS) {
      *profile_ms = again[0] < *profile_ms ? again[0] : *profile_ms;
      *best_ms = again[1] < *best_ms ? again[1] : *best_ms;
    }
  }
  if (best != 0 && *profile_ms >= 0 && *profile_ms <= *best_ms) {
    best = 0;
    *best_ms = *profile_ms;
  }
  free_tensors(b);
  free(b->weight);
  b->weight = NULL;
  if (status != CLRN_STATUS_SUCCESS)
    return clrn_fail_prefix(status, "%s", l->step->name);
  clrn_tuned_conv entry;
  clrn_conv_candidate_entry(shape, plane, &candidates[best], &entry);
  if (!clrn_tuned_put(tuned, &entry))
    return clrn_fail(CLRN_STATUS_UNSUPPORTED, "the tuning file holds at most %d layer shapes",
                     CLRN_TUNED_MAX);
  clrn_conv_candidate_describe(&candidates[best], winner, winner_size);
  return CLRN_STATUS_SUCCESS;
}

/* The distinct convolution shapes of plan (first occurrence of each key). */
static size_t collect_layers(const clrn_plan *plan, layer *layers, size_t capacity) {
  size_t n = 0;
  for (size_t i = 0; i < plan->step_count && n < capacity; i++) {
    const clrn_step *s = &plan->steps[i];
    if (s->kind != CLRN_STEP_CONV)
      continue;
    const clrn_value *in = &plan->graph.values[s->inputs[0]];
    const clrn_value *out = &plan->graph.values[s->output];
    layer l = {s, in->h, in->w, out->h, out->w};
    long key[CLRN_TUNED_KEY], other[CLRN_TUNED_KEY];
    clrn_conv_tuned_key(&s->conv, (long)out->h * out->w, key);
    bool seen = false;
    for (size_t j = 0; j < n && !seen; j++) {
      clrn_conv_tuned_key(&layers[j].step->conv, (long)layers[j].out_h * layers[j].out_w, other);
      seen = memcmp(key, other, sizeof key) == 0;
    }
    if (!seen)
      layers[n++] = l;
  }
  return n;
}

/* Tunes every layer of plan into tuned, reporting progress. */
static clrn_status tune_layers(bench *b, const clrn_plan *plan, const clrn_tune_options *o,
                               clrn_tuned_convs *tuned) {
  layer layers[CLRN_TUNED_MAX];
  size_t count = collect_layers(plan, layers, CLRN_TUNED_MAX);
  if (o->max_shapes > 0 && count > o->max_shapes)
    count = o->max_shapes;
  for (size_t i = 0; i < count; i++) {
    char winner[160], text[160];
    double best_ms = -1.0, profile_ms = -1.0;
    CLRN_TRY(
        tune_layer(b, &layers[i], o->quick, tuned, winner, sizeof winner, &best_ms, &profile_ms));
    const clrn_conv_shape *s = &layers[i].step->conv;
    snprintf(text, sizeof text, "%s %d->%d %dx%d/%d %dx%d", layers[i].step->name, s->in_channels,
             s->out_channels, s->kernel_h, s->kernel_w, s->stride_h, layers[i].out_h,
             layers[i].out_w);
    if (o->progress)
      o->progress(i + 1, count, text, winner, best_ms, profile_ms, o->progress_user_data);
  }
  return CLRN_STATUS_SUCCESS;
}

static clrn_status check_options(const clrn_tune_options *o) {
  if (o->batch < 1 || o->batch > 4096)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "tune: batch %d is outside 1..4096", o->batch);
  if (o->height < 1 || o->height > 4096 || o->width < 1 || o->width > 4096)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "tune: input %dx%d is outside 1..4096",
                     o->height, o->width);
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_tune(const clrn_device_info *device, const clrn_weights *weights,
                      const clrn_tune_options *options, char *path, size_t size) {
  if (!device || !weights || !options || !path || size == 0)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_tune: NULL argument");
  CLRN_TRY(check_options(options));
  char folder[4096];
  if (!clrn_cache_folder(folder, sizeof folder, true) || !clrn_tuning_file_path(device, path, size))
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "tune: the cache folder is disabled or may not be used (CLRN_CACHE_DIR), "
                     "so there is nowhere to keep the tuning file");
  clrn_context *context = NULL;
  CLRN_TRY(clrn_context_create(device, NULL, &context));
  clrn_conv_tuning *tuning = malloc(sizeof *tuning);
  clrn_tuned_convs *tuned = malloc(sizeof *tuned);
  clrn_plan plan;
  memset(&plan, 0, sizeof plan);
  clrn_status status = CLRN_STATUS_SUCCESS;
  if (!tuning || !tuned) {
    status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "tuner");
    goto done;
  }
  /* Keeps the entries of other shapes from the file, when it is this device's. */
  *tuned = *clrn_context_tuned(context);
  clrn_conv_tuning_read(context, tuning);
  tuning->tuned.count = 0; /* candidates are measured against the profile alone */
  CLRN_GOTO(clrn_plan_build(tuning, weights, options->height, options->width, true, &plan), done,
            status);
  bench b = {.context = context,
             .queue = clrn_context_queue(context, 0),
             .tuning = tuning,
             .batch = options->batch};
  CLRN_GOTO(tune_layers(&b, &plan, options, tuned), done, status);
  char profile[256];
  clrn_tuning_profile_key(context, profile, sizeof profile);
  status = clrn_tuning_file_write(path, device, profile, options->batch, tuned);
done:
  clrn_plan_free(&plan);
  free(tuning);
  free(tuned);
  clrn_context_release(context);
  return status;
}
