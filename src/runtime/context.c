/* clrn_context: one device's cl_context, in-order queues, profile and programs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <time.h>

#include "base/error.h"
#include "clresnet/context.h"
#include "runtime/embedded.h"
#include "runtime/profile.h"
#include "runtime/program.h"
#include "runtime/tuning.h"

#define MAX_QUEUES 8

typedef struct program_slot {
  char name[64];
  cl_program program;
} program_slot;

struct clrn_context {
  clrn_device_info device;
  cl_context cl;
  cl_command_queue queues[MAX_QUEUES];
  size_t queue_count;
  bool profiling;
  clrn_profile *profile;
  clrn_context_options options;
  mtx_t mutex; /* guards programs and stats */
  program_slot *programs;
  size_t program_count;
  clrn_build_stats stats;
};

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void clrn_context_options_default(clrn_context_options *options) {
  memset(options, 0, sizeof *options);
  options->queue_count = 3;
}

static void CL_CALLBACK context_notify(const char *message, const void *info, size_t size,
                                       void *user) {
  (void)info;
  (void)size;
  (void)user;
  clrn_log(CLRN_LOG_LEVEL_WARNING, "OpenCL: %s", message);
}

clrn_status clrn_context_create(const clrn_device_info *device, const clrn_context_options *options,
                                clrn_context **out) {
  if (!device || !out)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_context_create: NULL argument");
  *out = NULL;
  clrn_context_options defaults;
  clrn_context_options_default(&defaults);
  if (!options)
    options = &defaults;
  if (options->queue_count < 1 || options->queue_count > MAX_QUEUES)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "queue_count %zu is outside 1..%d",
                     options->queue_count, MAX_QUEUES);
  clrn_context *ctx = calloc(1, sizeof *ctx);
  if (!ctx)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "context");
  ctx->device = *device;
  ctx->options = *options;
  ctx->profiling = options->profiling;
  if (mtx_init(&ctx->mutex, mtx_plain) != thrd_success) {
    free(ctx);
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "context mutex");
  }
  clrn_status status = CLRN_STATUS_SUCCESS;
  cl_int err = CL_SUCCESS;
  cl_context_properties properties[] = {CL_CONTEXT_PLATFORM,
                                        (cl_context_properties)device->platform_id, 0};
  CLRN_GOTO(clrn_profile_resolve(device, options->profile, &ctx->profile), fail, status);
  ctx->cl = clCreateContext(properties, 1, &device->device_id, context_notify, NULL, &err);
  CLRN_CL_GOTO(err, fail, status, "clCreateContext(%s)", device->name);
  for (size_t i = 0; i < options->queue_count; i++) {
    cl_command_queue_properties props = options->profiling ? CL_QUEUE_PROFILING_ENABLE : 0;
#ifdef CL_VERSION_2_0
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
    ctx->queues[i] = clCreateCommandQueue(ctx->cl, device->device_id, props, &err);
#ifdef CL_VERSION_2_0
#pragma GCC diagnostic pop
#endif
    CLRN_CL_GOTO(err, fail, status, "clCreateCommandQueue(%s)", device->name);
    ctx->queue_count = i + 1;
  }
  *out = ctx;
  return CLRN_STATUS_SUCCESS;
fail:
  clrn_context_release(ctx);
  return status;
}

void clrn_context_release(clrn_context *ctx) {
  if (!ctx)
    return;
  for (size_t i = 0; i < ctx->queue_count; i++)
    clFinish(ctx->queues[i]);
  for (size_t i = 0; i < ctx->queue_count; i++)
    clReleaseCommandQueue(ctx->queues[i]);
  for (size_t i = 0; i < ctx->program_count; i++)
    clReleaseProgram(ctx->programs[i].program);
  free(ctx->programs);
  if (ctx->cl)
    clReleaseContext(ctx->cl);
  clrn_profile_free(ctx->profile);
  mtx_destroy(&ctx->mutex);
  free(ctx);
}

const clrn_device_info *clrn_context_device(const clrn_context *ctx) { return &ctx->device; }
cl_context clrn_context_cl(const clrn_context *ctx) { return ctx->cl; }
size_t clrn_context_queue_count(const clrn_context *ctx) { return ctx->queue_count; }
bool clrn_context_profiling(const clrn_context *ctx) { return ctx->profiling; }

cl_command_queue clrn_context_queue(const clrn_context *ctx, size_t index) {
  return index < ctx->queue_count ? ctx->queues[index] : NULL;
}

long clrn_context_tuning(const clrn_context *ctx, const char *key, long fallback) {
  return clrn_profile_int(ctx->profile, key, fallback);
}

long clrn_context_tuning_value(const clrn_context *ctx, clrn_tuning_id id) {
  return clrn_profile_value(ctx->profile, id);
}

const char *clrn_context_profile_name(const clrn_context *ctx) {
  return clrn_profile_name(ctx->profile);
}

void clrn_context_build_stats(const clrn_context *ctx, clrn_build_stats *stats) {
  mtx_lock((mtx_t *)&ctx->mutex);
  *stats = ctx->stats;
  mtx_unlock((mtx_t *)&ctx->mutex);
}

/* Finds or builds a program; *compiled tells whether this call compiled it. The
 * mutex is held during the build so two threads never build the same program. */
static clrn_status get_program(clrn_context *ctx, const char *name, cl_program *program,
                               bool *compiled) {
  *compiled = false;
  if (strlen(name) >= sizeof ctx->programs[0].name)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "kernel program name too long");
  mtx_lock(&ctx->mutex);
  for (size_t i = 0; i < ctx->program_count; i++)
    if (strcmp(ctx->programs[i].name, name) == 0) {
      *program = ctx->programs[i].program;
      mtx_unlock(&ctx->mutex);
      return CLRN_STATUS_SUCCESS;
    }
  clrn_status status = CLRN_STATUS_SUCCESS;
  program_slot *grown = realloc(ctx->programs, (ctx->program_count + 1) * sizeof *grown);
  if (!grown) {
    mtx_unlock(&ctx->mutex);
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "program table");
  }
  ctx->programs = grown;
  double start = now_seconds();
  clrn_program_origin origin;
  cl_program built = NULL;
  status = clrn_program_build(&ctx->device, ctx->cl, ctx->profile, name, &built, &origin);
  ctx->stats.compile_seconds += now_seconds() - start;
  if (origin.cache == CLRN_CACHE_RESULT_BAD)
    ctx->stats.cache_bad++;
  if (status == CLRN_STATUS_SUCCESS) {
    if (origin.compiled)
      ctx->stats.compiled++;
    else
      ctx->stats.cache_hits++;
    program_slot *slot = &ctx->programs[ctx->program_count++];
    snprintf(slot->name, sizeof slot->name, "%s", name);
    slot->program = built;
    *program = built;
    *compiled = origin.compiled;
  }
  mtx_unlock(&ctx->mutex);
  return status;
}

clrn_status clrn_context_program(clrn_context *ctx, const char *name, cl_program *program) {
  if (!ctx || !name || !program)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_context_program: NULL argument");
  bool compiled;
  return get_program(ctx, name, program, &compiled);
}

clrn_status clrn_context_prepare(clrn_context *ctx, const char *const *names, size_t count) {
  if (!ctx)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_context_prepare: NULL context");
  if (!names) {
    names = clrn_embedded_kernels_stems;
    count = clrn_embedded_kernels_count;
  }
  for (size_t i = 0; i < count; i++) {
    cl_program program;
    bool compiled;
    CLRN_TRY(get_program(ctx, names[i], &program, &compiled));
    if (ctx->options.progress)
      ctx->options.progress(&ctx->device, i + 1, count, compiled, ctx->options.progress_user_data);
  }
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_context_kernel(clrn_context *ctx, const char *program_name,
                                const char *kernel_name, cl_kernel *kernel) {
  cl_program program;
  CLRN_TRY(clrn_context_program(ctx, program_name, &program));
  cl_int err = CL_SUCCESS;
  *kernel = clCreateKernel(program, kernel_name, &err);
  if (err != CL_SUCCESS)
    return clrn_fail_cl(err, "clCreateKernel(%s in %s.cl)", kernel_name, program_name);
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_buffer_create(clrn_context *ctx, cl_mem_flags flags, size_t bytes,
                               const void *host_data, cl_mem *buffer) {
  *buffer = NULL;
  if (bytes == 0)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "buffer of 0 bytes");
  if (bytes > ctx->device.max_alloc_bytes)
    return clrn_fail(CLRN_STATUS_OUT_OF_DEVICE_MEMORY,
                     "buffer of %zu bytes exceeds %s's largest allocation (%llu bytes)", bytes,
                     ctx->device.name, (unsigned long long)ctx->device.max_alloc_bytes);
  cl_int err = CL_SUCCESS;
  if (host_data)
    flags |= CL_MEM_COPY_HOST_PTR;
  *buffer = clCreateBuffer(ctx->cl, flags, bytes, (void *)host_data, &err);
  if (err != CL_SUCCESS)
    return clrn_fail_cl(err, "clCreateBuffer(%zu bytes on %s, %llu bytes of global memory)", bytes,
                        ctx->device.name, (unsigned long long)ctx->device.global_mem_bytes);
  return CLRN_STATUS_SUCCESS;
}

const char *const *clrn_program_names(void) { return clrn_embedded_kernels_stems; }
