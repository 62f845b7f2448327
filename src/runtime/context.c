/* clrn_context: one device's cl_context, in-order queues, profile, and the caches
 * of programs and kernel objects (runtime/kernel_cache.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <time.h>

#include "base/error.h"
#include "clresnet/context.h"
#include "runtime/embedded.h"
#include "runtime/kernel_cache.h"
#include "runtime/profile.h"
#include "runtime/program.h"
#include "runtime/tuning.h"
#include "runtime/tuning_file.h"

#define MAX_QUEUES 8

typedef struct program_slot {
  char name[64];
  char *defines; /* extra build options, "" for none */
  cl_program program;
} program_slot;

/* A cached kernel and its key (the program's slot and the kernel name). */
typedef struct kernel_slot {
  size_t program; /* index into programs */
  clrn_kernel kernel;
} kernel_slot;

struct clrn_context {
  clrn_device_info device;
  cl_context cl;
  cl_command_queue queues[MAX_QUEUES];
  size_t queue_count;
  bool profiling;
  clrn_profile *profile;
  clrn_context_options options;
  char *kernel_binaries, *kernel_export; /* copies of the options' folders, or NULL */
  clrn_program_paths paths;
  mtx_t mutex; /* guards programs, kernels and stats */
  program_slot *programs;
  size_t program_count;
  kernel_slot **kernels; /* each allocated alone, so a kernel never moves */
  size_t kernel_count;
  clrn_build_stats stats;
  clrn_tuned_convs tuned; /* the tuning file's per-layer choices (runtime/tuning_file.h) */
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

/* The tuning file of the device, unless CLRN_TUNING=off or CLRN_TUNE sets values. */
static void read_tuned(clrn_context *ctx) {
  const char *off = getenv("CLRN_TUNING"), *tune = getenv("CLRN_TUNE");
  char path[4200];
  if ((off && strcmp(off, "off") == 0) || (tune && *tune) ||
      !clrn_tuning_file_path(&ctx->device, path, sizeof path))
    return;
  char profile[256];
  clrn_tuning_profile_key(ctx, profile, sizeof profile);
  clrn_tuning_file_read(path, &ctx->device, profile, &ctx->tuned);
}

const clrn_tuned_convs *clrn_context_tuned(const clrn_context *ctx) { return &ctx->tuned; }

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
  const char *binaries = options->kernel_binaries;
  if (!binaries && getenv("CLRN_KERNEL_BINARIES") && *getenv("CLRN_KERNEL_BINARIES"))
    binaries = getenv("CLRN_KERNEL_BINARIES");
  ctx->kernel_binaries = binaries ? strdup(binaries) : NULL;
  ctx->kernel_export = options->kernel_export ? strdup(options->kernel_export) : NULL;
  ctx->paths = (clrn_program_paths){ctx->kernel_binaries, ctx->kernel_export};
  ctx->options.kernel_binaries = ctx->options.kernel_export = NULL;
  if ((binaries && !ctx->kernel_binaries) || (options->kernel_export && !ctx->kernel_export)) {
    free(ctx->kernel_binaries);
    free(ctx->kernel_export);
    free(ctx);
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "context");
  }
  if (mtx_init(&ctx->mutex, mtx_plain) != thrd_success) {
    free(ctx->kernel_binaries);
    free(ctx->kernel_export);
    free(ctx);
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "context mutex");
  }
  clrn_status status = CLRN_STATUS_SUCCESS;
  cl_int err = CL_SUCCESS;
  cl_context_properties properties[] = {CL_CONTEXT_PLATFORM,
                                        (cl_context_properties)device->platform_id, 0};
  CLRN_GOTO(clrn_profile_resolve(device, options->profile, &ctx->profile), fail, status);
  read_tuned(ctx);
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
  for (size_t i = 0; i < ctx->kernel_count; i++) {
    clReleaseKernel(ctx->kernels[i]->kernel.cl);
    mtx_destroy(&ctx->kernels[i]->kernel.lock);
    free(ctx->kernels[i]);
  }
  free(ctx->kernels);
  for (size_t i = 0; i < ctx->program_count; i++) {
    clReleaseProgram(ctx->programs[i].program);
    free(ctx->programs[i].defines);
  }
  free(ctx->programs);
  if (ctx->cl)
    clReleaseContext(ctx->cl);
  clrn_profile_free(ctx->profile);
  mtx_destroy(&ctx->mutex);
  free(ctx->kernel_binaries);
  free(ctx->kernel_export);
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

/* The slot of program (name, defines), or -1. Called with the mutex held. */
static long find_program(const clrn_context *ctx, const char *name, const char *defines) {
  for (size_t i = 0; i < ctx->program_count; i++)
    if (strcmp(ctx->programs[i].name, name) == 0 && strcmp(ctx->programs[i].defines, defines) == 0)
      return (long)i;
  return -1;
}

/* Finds or builds program (name, defines) with the mutex held; *slot is its
 * index and *compiled tells whether this call compiled it. Holding the mutex
 * during the build means two threads never build the same program. */
static clrn_status locked_program(clrn_context *ctx, const char *name, const char *defines,
                                  size_t *slot, bool *compiled) {
  *compiled = false;
  if (strlen(name) >= sizeof ctx->programs[0].name)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "kernel program name too long");
  long found = find_program(ctx, name, defines);
  if (found >= 0) {
    *slot = (size_t)found;
    return CLRN_STATUS_SUCCESS;
  }
  program_slot *grown = realloc(ctx->programs, (ctx->program_count + 1) * sizeof *grown);
  if (!grown)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "program table");
  ctx->programs = grown;
  char *defines_copy = strdup(defines);
  if (!defines_copy)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "program defines");
  double start = now_seconds();
  clrn_program_origin origin;
  cl_program built = NULL;
  clrn_status status = clrn_program_build(&ctx->device, ctx->cl, ctx->profile, name, defines,
                                          &ctx->paths, &built, &origin);
  ctx->stats.compile_seconds += now_seconds() - start;
  if (origin.cache == CLRN_CACHE_RESULT_BAD)
    ctx->stats.cache_bad++;
  if (status != CLRN_STATUS_SUCCESS) {
    free(defines_copy);
    return status;
  }
  if (origin.compiled)
    ctx->stats.compiled++;
  else
    ctx->stats.cache_hits++;
  program_slot *p = &ctx->programs[ctx->program_count];
  snprintf(p->name, sizeof p->name, "%s", name);
  p->defines = defines_copy;
  p->program = built;
  *slot = ctx->program_count++;
  *compiled = origin.compiled;
  return CLRN_STATUS_SUCCESS;
}

/* Finds or builds a program, taking the mutex. */
static clrn_status get_program(clrn_context *ctx, const char *name, const char *defines,
                               cl_program *program, bool *compiled) {
  size_t slot = 0;
  mtx_lock(&ctx->mutex);
  clrn_status status = locked_program(ctx, name, defines ? defines : "", &slot, compiled);
  if (status == CLRN_STATUS_SUCCESS)
    *program = ctx->programs[slot].program;
  mtx_unlock(&ctx->mutex);
  return status;
}

clrn_status clrn_context_program(clrn_context *ctx, const char *name, cl_program *program) {
  if (!ctx || !name || !program)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_context_program: NULL argument");
  bool compiled;
  return get_program(ctx, name, "", program, &compiled);
}

clrn_status clrn_context_program_defines(clrn_context *ctx, const char *name, const char *defines,
                                         cl_program *program) {
  bool compiled;
  return get_program(ctx, name, defines, program, &compiled);
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
    CLRN_TRY(get_program(ctx, names[i], "", &program, &compiled));
    if (ctx->options.progress)
      ctx->options.progress(&ctx->device, i + 1, count, compiled, ctx->options.progress_user_data);
  }
  return CLRN_STATUS_SUCCESS;
}

/* Creates kernel_name of program slot and what launches need to know of it. */
static clrn_status new_kernel(clrn_context *ctx, size_t program, const char *kernel_name,
                              kernel_slot **out) {
  const program_slot *p = &ctx->programs[program];
  kernel_slot *slot = calloc(1, sizeof *slot);
  if (!slot)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "kernel %s", kernel_name);
  slot->program = program;
  snprintf(slot->kernel.name, sizeof slot->kernel.name, "%s", kernel_name);
  cl_int err = CL_SUCCESS;
  slot->kernel.cl = clCreateKernel(p->program, kernel_name, &err);
  if (err != CL_SUCCESS) {
    free(slot);
    return clrn_fail_cl(err, "clCreateKernel(%s in %s.cl)", kernel_name, p->name);
  }
  err = clGetKernelWorkGroupInfo(slot->kernel.cl, ctx->device.device_id, CL_KERNEL_WORK_GROUP_SIZE,
                                 sizeof slot->kernel.work_group_size, &slot->kernel.work_group_size,
                                 NULL);
  if (err != CL_SUCCESS || mtx_init(&slot->kernel.lock, mtx_plain) != thrd_success) {
    clReleaseKernel(slot->kernel.cl);
    free(slot);
    if (err != CL_SUCCESS)
      return clrn_fail_cl(err, "clGetKernelWorkGroupInfo(%s, CL_KERNEL_WORK_GROUP_SIZE)",
                          kernel_name);
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "kernel %s lock", kernel_name);
  }
  *out = slot;
  return CLRN_STATUS_SUCCESS;
}

/* Finds or creates a kernel with the mutex held. */
static clrn_status locked_kernel(clrn_context *ctx, const char *program, const char *defines,
                                 const char *kernel_name, clrn_kernel **kernel) {
  for (size_t i = 0; i < ctx->kernel_count; i++) {
    kernel_slot *k = ctx->kernels[i];
    const program_slot *p = &ctx->programs[k->program];
    if (strcmp(k->kernel.name, kernel_name) == 0 && strcmp(p->name, program) == 0 &&
        strcmp(p->defines, defines) == 0) {
      *kernel = &k->kernel;
      return CLRN_STATUS_SUCCESS;
    }
  }
  if (strlen(kernel_name) >= sizeof ctx->kernels[0]->kernel.name)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "kernel name too long");
  size_t slot = 0;
  bool compiled;
  CLRN_TRY(locked_program(ctx, program, defines, &slot, &compiled));
  kernel_slot **grown = realloc(ctx->kernels, (ctx->kernel_count + 1) * sizeof *grown);
  if (!grown)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "kernel table");
  ctx->kernels = grown;
  kernel_slot *created = NULL;
  CLRN_TRY(new_kernel(ctx, slot, kernel_name, &created));
  ctx->kernels[ctx->kernel_count++] = created;
  ctx->stats.kernels++;
  *kernel = &created->kernel;
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_kernel_get(clrn_context *ctx, const char *program, const char *defines,
                            const char *kernel_name, clrn_kernel **kernel) {
  mtx_lock(&ctx->mutex);
  clrn_status status = locked_kernel(ctx, program, defines ? defines : "", kernel_name, kernel);
  mtx_unlock(&ctx->mutex);
  return status;
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
