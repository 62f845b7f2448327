/* conv2d: the convolution op object. create validates the shape, picks a kernel
 * variant (kernels/conv2d.cl) and packs the weight in that variant's layout
 * (plan/conv2d_pack.c); create_packed, also used by the scheduler on a plan's
 * packed weights, uploads them and works out every argument that does not depend
 * on the input; enqueue checks the tensors, then the launcher sets all arguments
 * on the context's shared kernel (in the order of clrn_abi.h) and launches
 * without waiting.
 *
 * A padded convolution on the blocked variant, and every one on the grouped
 * variant, launches twice: conv2d_pad copies the input into a zero-padded scratch
 * buffer the object keeps (conv2d_pad.c), then the kernel reads it with no border
 * checks. So does an unpadded strided 1x1 one under CONV_SUBSAMPLE
 * (config.subsample): the copy takes every stride-th pixel, and the blocked or
 * GEMM kernel runs it with stride 1 on a quarter of the input, which stays in
 * the cache. The implicit-GEMM variant checks the border itself; its device checks
 * and grid are in conv2d_igemm.c. The Winograd variant launches three times
 * through a workspace of its own (conv2d_winograd.c). The first launch of a
 * convolution that takes several is kept for profiles (clrn_conv2d_first_event). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/half.h"
#include "clrn_abi.h"
#include "ops/conv2d_igemm.h"
#include "ops/conv2d_packed.h"
#include "ops/conv2d_pad.h"
#include "ops/conv2d_winograd.h"
#include "ops/op_launch.h"
#include "ops/ops_internal.h"
#include "runtime/nvidia.h"
#include "runtime/tuning.h"

_Static_assert(CLRN_CONV_AUTO == (int)CLRN_CONV2D_VARIANT_AUTO &&
                   CLRN_CONV_DIRECT == (int)CLRN_CONV2D_VARIANT_DIRECT &&
                   CLRN_CONV_BLOCKED == (int)CLRN_CONV2D_VARIANT_BLOCKED &&
                   CLRN_CONV_GEMM == (int)CLRN_CONV2D_VARIANT_GEMM &&
                   CLRN_CONV_IGEMM == (int)CLRN_CONV2D_VARIANT_IGEMM &&
                   CLRN_CONV_WINOGRAD == (int)CLRN_CONV2D_VARIANT_WINOGRAD &&
                   CLRN_CONV_GROUPED == (int)CLRN_CONV2D_VARIANT_GROUPED,
               "plan/conv2d_pack.h numbers the variants as clresnet/ops.h does");

struct clrn_conv2d {
  clrn_context *context;
  clrn_conv2d_desc desc; /* variant resolved: never AUTO */
  clrn_conv_shape shape; /* the same, as the plan records it */
  clrn_conv2d_config config;
  clrn_kernel *kernel; /* the context's */
  cl_mem weight, epilogue;
  int ints[CLRN_CONV2D_ARG_COUNT]; /* the int arguments that stay fixed */
  bool padded;                     /* the blocked kernel reads a padded copy of the input */
  clrn_conv2d_pad pad;             /* makes that copy */
  clrn_conv2d_wino wino;           /* the Winograd variant's kernels and workspace */
  cl_event first;                  /* the first launch of the last enqueue, if it took several */
  size_t local0;                   /* work-group size along dimension 0 */
  double weight_bytes;             /* size of the packed weight */
  size_t element;                  /* bytes of a stored element: 4, or 2 for half */
};

clrn_status clrn_conv2d_output_size(const clrn_conv2d_desc *desc, int in_h, int in_w, int *out_h,
                                    int *out_w) {
  if (!desc || !out_h || !out_w)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_conv2d_output_size: NULL argument");
  if (desc->kernel_h < 1 || desc->kernel_w < 1 || desc->stride_h < 1 || desc->stride_w < 1 ||
      desc->pad_h < 0 || desc->pad_w < 0)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "conv2d: kernel %dx%d, stride %dx%d, padding %dx%d: kernel and stride must "
                     "be >= 1 and padding >= 0",
                     desc->kernel_h, desc->kernel_w, desc->stride_h, desc->stride_w, desc->pad_h,
                     desc->pad_w);
  if (in_h < 1 || in_w < 1)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "conv2d: input size %dx%d", in_h, in_w);
  long long span_h = (long long)in_h + 2LL * desc->pad_h - desc->kernel_h;
  long long span_w = (long long)in_w + 2LL * desc->pad_w - desc->kernel_w;
  if (span_h < 0 || span_w < 0)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "conv2d: input %dx%d padded by %dx%d is smaller than the %dx%d kernel", in_h,
                     in_w, desc->pad_h, desc->pad_w, desc->kernel_h, desc->kernel_w);
  long long h = span_h / desc->stride_h + 1, w = span_w / desc->stride_w + 1;
  if (h > INT_MAX || w > INT_MAX)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "conv2d: output size overflows");
  *out_h = (int)h;
  *out_w = (int)w;
  return CLRN_STATUS_SUCCESS;
}

static clrn_status check_desc(const clrn_conv2d_desc *d) {
  if (d->in_channels < 1 || d->out_channels < 1 || d->groups < 1)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "conv2d: %d input channels, %d output channels, %d groups: each must be >= 1",
                     d->in_channels, d->out_channels, d->groups);
  if (d->in_channels % d->groups || d->out_channels % d->groups)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "conv2d: %d groups do not divide %d input and %d output channels", d->groups,
                     d->in_channels, d->out_channels);
  if (d->kernel_h < 1 || d->kernel_w < 1 || d->stride_h < 1 || d->stride_w < 1 || d->pad_h < 0 ||
      d->pad_w < 0)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "conv2d: kernel %dx%d, stride %dx%d, padding %dx%d: kernel and stride must "
                     "be >= 1 and padding >= 0",
                     d->kernel_h, d->kernel_w, d->stride_h, d->stride_w, d->pad_h, d->pad_w);
  if (d->pad_h > INT_MAX / 4 || d->pad_w > INT_MAX / 4)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "conv2d: padding %dx%d is too large", d->pad_h,
                     d->pad_w);
  long long weights =
      (long long)d->out_channels * (d->in_channels / d->groups) * d->kernel_h * d->kernel_w;
  if (weights > INT_MAX / 64)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "conv2d: %lld weights are too many", weights);
  if ((int)d->variant < 0 || d->variant >= CLRN_CONV2D_VARIANT_COUNT)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "conv2d: unknown variant %d", (int)d->variant);
  return CLRN_STATUS_SUCCESS;
}

/* The plan's record of a convolution's shape. */
static void shape_of(const clrn_conv2d_desc *desc, clrn_conv_shape *shape) {
  *shape = (clrn_conv_shape){desc->in_channels, desc->out_channels, desc->kernel_h, desc->kernel_w,
                             desc->stride_h,    desc->stride_w,     desc->pad_h,    desc->pad_w,
                             desc->groups,      desc->relu};
}

/* Works out the int arguments that stay fixed for the object's life. */
static void set_fixed_args(clrn_conv2d *conv) {
  const clrn_conv2d_desc *d = &conv->desc;
  int *v = conv->ints;
  v[CLRN_CONV2D_ARG_in_c] = d->in_channels;
  v[CLRN_CONV2D_ARG_out_c] = d->out_channels;
  v[CLRN_CONV2D_ARG_cin_g] = d->in_channels / d->groups;
  v[CLRN_CONV2D_ARG_cout_g] = d->out_channels / d->groups;
  v[CLRN_CONV2D_ARG_blocks_g] = conv->config.blocks_g;
  v[CLRN_CONV2D_ARG_kernel_h] = d->kernel_h;
  v[CLRN_CONV2D_ARG_kernel_w] = d->kernel_w;
  /* A subsampled convolution reads a copy of every stride-th pixel: stride 1. */
  v[CLRN_CONV2D_ARG_stride_h] = conv->config.subsample ? 1 : d->stride_h;
  v[CLRN_CONV2D_ARG_stride_w] = conv->config.subsample ? 1 : d->stride_w;
  /* The blocked kernel reads an input padded beforehand. */
  v[CLRN_CONV2D_ARG_pad_h] = conv->padded ? 0 : d->pad_h;
  v[CLRN_CONV2D_ARG_pad_w] = conv->padded ? 0 : d->pad_w;
}

/* The defines a config's kernel needs beyond the context's profile: the tile sizes a
 * tuning file chose for this layer ("" when the profile's own serve). */
static void layer_defines(const clrn_context *context, const clrn_conv2d_config *c, char *out,
                          size_t size) {
  out[0] = '\0';
  if (c->variant == CLRN_CONV_BLOCKED &&
      (c->vec != clrn_context_tuning_value(context, CLRN_TUNING_CONV_VEC) ||
       c->cout_block != clrn_context_tuning_value(context, CLRN_TUNING_CONV_COUT_BLOCK) ||
       c->pix_block != clrn_context_tuning_value(context, CLRN_TUNING_CONV_PIX_BLOCK)))
    snprintf(out, size, "-DCONV_VEC=%d -DCONV_COUT_BLOCK=%d -DCONV_PIX_BLOCK=%d", c->vec,
             c->cout_block, c->pix_block);
  else if (c->variant == CLRN_CONV_GEMM &&
           (c->cout_block != clrn_context_tuning_value(context, CLRN_TUNING_GEMM_MR) ||
            c->vec != clrn_context_tuning_value(context, CLRN_TUNING_GEMM_NR) ||
            c->pix_block != c->vec * clrn_context_tuning_value(context, CLRN_TUNING_GEMM_NV)))
    snprintf(out, size, "-DGEMM_MR=%d -DGEMM_NR=%d -DGEMM_NV=%d", c->cout_block, c->vec,
             c->pix_block / c->vec);
}

/* Uploads the packed weight, as half when the convolution stores half. */
static clrn_status upload_weight(clrn_conv2d *conv, const clrn_conv2d_packed *packed) {
  size_t count = packed->weight_count;
  if (!conv->config.half)
    return clrn_buffer_create(conv->context, CL_MEM_READ_ONLY, count * sizeof(float),
                              packed->weight, &conv->weight);
  uint16_t *half = malloc(count * sizeof *half);
  if (!half)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "conv2d: %zu half weights", count);
  clrn_half_from_floats(packed->weight, count, half);
  clrn_status status = clrn_buffer_create(conv->context, CL_MEM_READ_ONLY, count * sizeof *half,
                                          half, &conv->weight);
  free(half);
  return status;
}

/* The convolution's kernel, built for its storage; the tensor-core variant only
 * on a device whose compute capability it needs. */
static clrn_status get_kernel(clrn_conv2d *conv) {
  const clrn_conv2d_config *c = &conv->config;
  if (c->variant != CLRN_CONV_MMA) {
    /* The layer's own tile sizes (a tuning file's), then the storage. */
    char defines[192];
    layer_defines(conv->context, c, defines, sizeof defines);
    const char *storage = clrn_op_defines(c->half);
    size_t used = strlen(defines);
    if (storage)
      snprintf(defines + used, sizeof defines - used, "%s%s", used ? " " : "", storage);
    return clrn_kernel_get(conv->context, c->program, defines, c->kernel_name, &conv->kernel);
  }
  const clrn_device_info *device = clrn_context_device(conv->context);
  long cc = clrn_device_nv_compute(device);
  if (cc < CLRN_NV_MMA_MIN_COMPUTE)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "conv2d: %s has no tensor cores reachable through PTX (NVIDIA compute "
                     "capability 8.0 or later): the mma variant cannot run there",
                     device->name);
  char defines[96];
  return clrn_kernel_get(conv->context, c->program,
                         clrn_nv_mma_defines(cc, c->half, defines, sizeof defines), c->kernel_name,
                         &conv->kernel);
}

clrn_status clrn_conv2d_create_packed(clrn_context *context, const clrn_conv2d_desc *desc,
                                      const clrn_conv2d_config *config,
                                      const clrn_conv2d_packed *packed, clrn_conv2d **out) {
  *out = NULL;
  clrn_conv2d *conv = calloc(1, sizeof *conv);
  if (!conv)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "conv2d object");
  conv->context = context;
  conv->desc = *desc;
  conv->config = *config;
  conv->desc.variant = conv->config.variant;
  conv->element = config->half ? 2 : sizeof(float);
  clrn_status status = CLRN_STATUS_SUCCESS;
  conv->weight_bytes = 4.0 * (double)packed->weight_count;
  CLRN_GOTO(upload_weight(conv, packed), fail, status);
  CLRN_GOTO(clrn_buffer_create(context, CL_MEM_READ_ONLY, packed->epilogue_count * sizeof(float),
                               packed->epilogue, &conv->epilogue),
            fail, status);
  CLRN_GOTO(get_kernel(conv), fail, status);
  conv->shape = (clrn_conv_shape){
      desc->in_channels, desc->out_channels, desc->kernel_h, desc->kernel_w, desc->stride_h,
      desc->stride_w,    desc->pad_h,        desc->pad_w,    desc->groups,   desc->relu};
  long long ph, pw;
  conv->padded = clrn_conv2d_padded_plane(&conv->shape, &conv->config, 1, 1, &ph, &pw);
  if (conv->padded)
    CLRN_GOTO(clrn_conv2d_pad_init_storage(&conv->pad, context, conv->config.half), fail, status);
  if (conv->config.variant == CLRN_CONV2D_VARIANT_WINOGRAD)
    CLRN_GOTO(clrn_conv2d_wino_init(&conv->wino, context, &conv->config), fail, status);
  set_fixed_args(conv);
  if (conv->config.variant == CLRN_CONV2D_VARIANT_IGEMM)
    CLRN_GOTO(clrn_conv2d_igemm_check(context, conv->kernel, &conv->config, packed->weight_count),
              fail, status);
  /* The emulated tensor-core kernel runs one warp a work-group (runtime/nvidia.h). */
  long want = conv->config.variant == CLRN_CONV_MMA && clrn_nv_mma_emulated()
                  ? 32
                  : (long)conv->config.work_group;
  conv->local0 = clrn_op_local_size(context, conv->kernel, want, true);
  *out = conv;
  return CLRN_STATUS_SUCCESS;
fail:
  clrn_conv2d_release(conv);
  return status;
}

clrn_status clrn_conv2d_create(clrn_context *context, const clrn_conv2d_desc *desc,
                               const float *weight, const float *bias, const float *scale,
                               const float *shift, clrn_conv2d **out) {
  if (out)
    *out = NULL;
  if (!context || !desc || !weight || !out)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_conv2d_create: NULL argument");
  CLRN_TRY(check_desc(desc));
  clrn_conv_shape shape;
  shape_of(desc, &shape);
  if (desc->variant == CLRN_CONV2D_VARIANT_GEMM && !clrn_conv2d_gemm_fits(&shape))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "conv2d: the gemm variant runs only 1x1 stride-1 unpadded convolutions of "
                     "one group");
  if (desc->variant == CLRN_CONV2D_VARIANT_WINOGRAD && !clrn_conv2d_winograd_fits(&shape))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "conv2d: the winograd variant runs only 3x3 stride-1 convolutions of one "
                     "group");
  clrn_conv_tuning tuning;
  clrn_conv_tuning_read(context, &tuning);
  clrn_conv2d_config config;
  clrn_conv2d_configure(&tuning, &shape, 0, (int)desc->variant, &config);
  clrn_conv2d_packed packed;
  CLRN_TRY(clrn_conv2d_pack(&shape, &config, weight, bias, scale, shift, &packed));
  clrn_status status = clrn_conv2d_create_packed(context, desc, &config, &packed, out);
  clrn_conv2d_packed_free(&packed);
  return status;
}

/* Checks one tensor argument: shape, buffer size, owning context, and fewer than
 * 2^31 elements (the conv2d kernels index with int). */
static clrn_status check_tensor(const clrn_conv2d *conv, const clrn_tensor *t, const char *what) {
  CLRN_TRY(clrn_op_check_tensor("conv2d", what, t));
  CLRN_TRY(clrn_op_check_owner("conv2d", what, conv->context, t));
  if (clrn_op_elements(t) > INT_MAX)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "conv2d: %s tensor %dx%dx%dx%d has 2^31 elements or more", what, t->n, t->c,
                     t->h, t->w);
  return CLRN_STATUS_SUCCESS;
}

/* Checks the tensors of one enqueue against the convolution. */
static clrn_status check_tensors(clrn_conv2d *conv, const clrn_tensor *input,
                                 const clrn_tensor *residual, const clrn_tensor *output) {
  const clrn_conv2d_desc *d = &conv->desc;
  CLRN_TRY(check_tensor(conv, input, "input"));
  CLRN_TRY(check_tensor(conv, output, "output"));
  if (input->c != d->in_channels)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "conv2d: input has %d channels, the convolution takes %d", input->c,
                     d->in_channels);
  int oh, ow;
  CLRN_TRY(clrn_conv2d_output_size(d, input->h, input->w, &oh, &ow));
  if (output->n != input->n || output->c != d->out_channels || output->h != oh || output->w != ow)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "conv2d: output is %dx%dx%dx%d, input %dx%dx%dx%d needs %dx%dx%dx%d",
                     output->n, output->c, output->h, output->w, input->n, input->c, input->h,
                     input->w, input->n, d->out_channels, oh, ow);
  if (output->buffer == input->buffer)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "conv2d: output and input share a buffer");
  if (residual) {
    CLRN_TRY(check_tensor(conv, residual, "residual"));
    if (residual->n != output->n || residual->c != output->c || residual->h != output->h ||
        residual->w != output->w)
      return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                       "conv2d: residual is %dx%dx%dx%d, the output %dx%dx%dx%d", residual->n,
                       residual->c, residual->h, residual->w, output->n, output->c, output->h,
                       output->w);
    if (residual->buffer == output->buffer)
      return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "conv2d: residual and output share a buffer");
  }
  return CLRN_STATUS_SUCCESS;
}

/* The padded planes' height and width for an output (plan/conv2d_pack.c). */
static void padded_size(const clrn_conv2d *conv, int out_h, int out_w, long long *ph,
                        long long *pw) {
  clrn_conv2d_padded_plane(&conv->shape, &conv->config, out_h, out_w, ph, pw);
}

size_t clrn_conv2d_workspace_size(const clrn_conv2d *conv, int n, int in_h, int in_w) {
  int out_h, out_w;
  if (!conv || n < 1 ||
      clrn_conv2d_output_size(&conv->desc, in_h, in_w, &out_h, &out_w) != CLRN_STATUS_SUCCESS)
    return 0;
  if (conv->config.variant == CLRN_CONV2D_VARIANT_WINOGRAD) {
    clrn_conv_shape shape;
    shape_of(&conv->desc, &shape);
    return clrn_conv2d_wino_workspace(&shape, &conv->config, n, out_h, out_w);
  }
  if (!conv->padded)
    return 0;
  long long ph, pw;
  padded_size(conv, out_h, out_w, &ph, &pw);
  return (size_t)n * (size_t)conv->desc.in_channels * (size_t)ph * (size_t)pw * conv->element;
}

clrn_status clrn_conv2d_set_workspace(clrn_conv2d *conv, cl_mem buffer, size_t bytes) {
  if (!conv || !buffer)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_conv2d_set_workspace: NULL argument");
  if (conv->padded)
    clrn_conv2d_pad_lend(&conv->pad, buffer, bytes);
  if (conv->config.variant == CLRN_CONV2D_VARIANT_WINOGRAD)
    clrn_conv2d_pad_lend(&conv->wino.scratch, buffer, bytes);
  return CLRN_STATUS_SUCCESS;
}

/* Enqueues the padded copy of input that the blocked kernel reads: its planes
 * are *padded_h x *padded_w, just as far as the windows reach. */
static clrn_status enqueue_pad(clrn_conv2d *conv, cl_command_queue queue, const clrn_tensor *input,
                               const clrn_tensor *output, cl_uint num_wait, const cl_event *wait,
                               cl_event *done, int *padded_h, int *padded_w) {
  const clrn_conv2d_desc *d = &conv->desc;
  long long ph, pw;
  padded_size(conv, output->h, output->w, &ph, &pw);
  long long planes = (long long)input->n * input->c;
  if (ph * pw > INT_MAX / planes)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "conv2d: the padded input %lldx%dx%lldx%lld has 2^31 elements or more",
                     (long long)input->n, input->c, ph, pw);
  *padded_h = (int)ph;
  *padded_w = (int)pw;
  int step_h = conv->config.subsample ? d->stride_h : 1;
  int step_w = conv->config.subsample ? d->stride_w : 1;
  return clrn_conv2d_pad_enqueue(&conv->pad, queue, input, d->pad_h, d->pad_w, *padded_h, *padded_w,
                                 step_h, step_w, num_wait, wait, done);
}

clrn_status clrn_conv2d_enqueue(clrn_conv2d *conv, cl_command_queue queue, const clrn_tensor *input,
                                const clrn_tensor *residual, const clrn_tensor *output,
                                cl_uint num_wait, const cl_event *wait, cl_event *event) {
  if (!conv)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_conv2d_enqueue: NULL convolution");
  CLRN_TRY(clrn_op_check_call("conv2d", conv->context, queue, num_wait, wait));
  CLRN_TRY(check_tensors(conv, input, residual, output));
  return clrn_conv2d_launch(conv, queue, input, residual, output, num_wait, wait, event);
}

/* Launches the convolution kernel on source (the input, or its padded copy of
 * in_h x in_w planes). */
static clrn_status launch(clrn_conv2d *conv, cl_command_queue queue, const clrn_tensor *input,
                          cl_mem source, int in_h, int in_w, const clrn_tensor *residual,
                          const clrn_tensor *output, cl_uint num_wait, const cl_event *wait,
                          cl_event *event) {
  int v[CLRN_CONV2D_ARG_COUNT];
  memcpy(v, conv->ints, sizeof v);
  int pixels = output->n * output->h * output->w; /* < 2^31: output was checked */
  v[CLRN_CONV2D_ARG_in_h] = in_h;
  v[CLRN_CONV2D_ARG_in_w] = in_w;
  v[CLRN_CONV2D_ARG_out_h] = output->h;
  v[CLRN_CONV2D_ARG_out_w] = output->w;
  v[CLRN_CONV2D_ARG_pixels] = pixels;
  v[CLRN_CONV2D_ARG_flags] =
      (residual ? CLRN_CONV2D_FLAG_RESIDUAL : 0) | (conv->desc.relu ? CLRN_CONV2D_FLAG_RELU : 0);
  size_t global[3], local[3] = {conv->local0, 1, 1};
  cl_uint dims;
  if (conv->config.variant == CLRN_CONV2D_VARIANT_IGEMM) {
    dims = 2;
    clrn_conv2d_igemm_grid(&conv->config, conv->desc.groups, pixels, global, local);
  } else if (conv->config.variant == CLRN_CONV_MMA) {
    /* A warp (32 work-items of dimension 0) per tile of 16 channels by pix_block
     * pixels of the whole batch (kernels/conv2d_mma.cl). */
    dims = 2;
    size_t tiles = ((size_t)pixels + (size_t)conv->config.pix_block - 1) / conv->config.pix_block;
    global[0] = tiles * 32;
    global[1] = (size_t)conv->config.blocks_g;
  } else if (conv->config.variant == CLRN_CONV2D_VARIANT_DIRECT) {
    dims = 3;
    global[0] = (size_t)output->h * output->w;
    global[1] = (size_t)output->c;
    global[2] = (size_t)output->n;
  } else if (conv->config.variant == CLRN_CONV2D_VARIANT_GROUPED) {
    /* Row tiles of 16 pixels, then the channel blocks of every group. */
    dims = 2;
    size_t pix = (size_t)conv->config.pix_block;
    global[0] = (size_t)output->n * output->h * ((output->w + pix - 1) / pix);
    global[1] = (size_t)conv->desc.groups * conv->config.blocks_g;
  } else {
    /* Pixel blocks first when the profile says so (GPUs), or when the weight
     * outweighs the input, so the bigger operand streams through the cache
     * fewest times (see kernels/conv2d.cl). The GEMM kernel's pixel tiles stay
     * within one image. */
    dims = 2;
    size_t blocks = (size_t)conv->desc.groups * conv->config.blocks_g;
    size_t pix = (size_t)conv->config.pix_block, plane = (size_t)output->h * output->w;
    size_t pixel_blocks = conv->config.variant == CLRN_CONV2D_VARIANT_GEMM
                              ? (size_t)output->n * ((plane + pix - 1) / pix)
                              : ((size_t)pixels + pix - 1) / pix;
    double input_bytes = 4.0 * input->n * input->c * in_h * in_w;
    int order = conv->config.pixels_first;
    if (order == 1 || (order == 2 && conv->weight_bytes > input_bytes)) {
      v[CLRN_CONV2D_ARG_flags] |= CLRN_CONV2D_FLAG_PIXELS_FIRST;
      global[0] = pixel_blocks;
      global[1] = blocks;
    } else {
      global[0] = blocks;
      global[1] = pixel_blocks;
    }
  }
  clrn_op_arg args[CLRN_CONV2D_ARG_COUNT + 2]; /* igemm: its two tiles after the rest */
  size_t arg_count = CLRN_CONV2D_ARG_COUNT, tiles[2];
  for (int i = 0; i < CLRN_CONV2D_ARG_COUNT; i++)
    args[i] = CLRN_ARG(v[i]);
  args[CLRN_CONV2D_ARG_input] = CLRN_ARG(source);
  args[CLRN_CONV2D_ARG_weight] = CLRN_ARG(conv->weight);
  args[CLRN_CONV2D_ARG_epilogue] = CLRN_ARG(conv->epilogue);
  args[CLRN_CONV2D_ARG_residual] =
      (clrn_op_arg){sizeof(cl_mem), residual ? &residual->buffer : NULL, false};
  args[CLRN_CONV2D_ARG_output] = CLRN_ARG(output->buffer);
  if (conv->config.variant == CLRN_CONV2D_VARIANT_IGEMM) {
    clrn_conv2d_igemm_local_bytes(&conv->config, tiles);
    args[arg_count++] = CLRN_ARG_LOCAL(tiles[0]);
    args[arg_count++] = CLRN_ARG_LOCAL(tiles[1]);
  }
  clrn_status status = clrn_op_launch(conv->kernel, queue, args, arg_count, dims, global, local,
                                      num_wait, wait, event);
  if (status != CLRN_STATUS_SUCCESS)
    clrn_fail_prefix(status, "conv2d %dx%dx%dx%d -> %dx%dx%dx%d", input->n, input->c, input->h,
                     input->w, output->n, output->c, output->h, output->w);
  return status;
}

/* Keeps first (taken over) as the first launch of the last enqueue. */
static void keep_first(clrn_conv2d *conv, cl_event first) {
  if (conv->first)
    clReleaseEvent(conv->first);
  conv->first = first;
}

cl_event clrn_conv2d_first_event(const clrn_conv2d *conv) { return conv->first; }

clrn_status clrn_conv2d_launch(clrn_conv2d *conv, cl_command_queue queue, const clrn_tensor *input,
                               const clrn_tensor *residual, const clrn_tensor *output,
                               cl_uint num_wait, const cl_event *wait, cl_event *event) {
  keep_first(conv, NULL);
  if (conv->config.variant == CLRN_CONV2D_VARIANT_WINOGRAD) {
    clrn_conv_shape shape;
    shape_of(&conv->desc, &shape);
    int flags =
        (residual ? CLRN_CONV2D_FLAG_RESIDUAL : 0) | (conv->desc.relu ? CLRN_CONV2D_FLAG_RELU : 0);
    cl_event first = NULL;
    clrn_status status = clrn_conv2d_wino_enqueue(&conv->wino, queue, &shape, &conv->config,
                                                  conv->weight, conv->epilogue, input, residual,
                                                  output, flags, num_wait, wait, &first, event);
    keep_first(conv, first);
    if (status != CLRN_STATUS_SUCCESS)
      clrn_fail_prefix(status, "conv2d %dx%dx%dx%d -> %dx%dx%dx%d", input->n, input->c, input->h,
                       input->w, output->n, output->c, output->h, output->w);
    return status;
  }
  if (!conv->padded)
    return launch(conv, queue, input, input->buffer, input->h, input->w, residual, output, num_wait,
                  wait, event);
  cl_event padded_event = NULL, launched = NULL;
  int in_h = input->h, in_w = input->w;
  clrn_status status =
      enqueue_pad(conv, queue, input, output, num_wait, wait, &padded_event, &in_h, &in_w);
  /* the queue is in order; the event makes the dependency explicit. A padded
   * launch's event is kept: the next padding must wait for it. */
  if (status == CLRN_STATUS_SUCCESS)
    status = launch(conv, queue, input, conv->pad.scratch, in_h, in_w, residual, output, 1,
                    &padded_event, &launched);
  if (status == CLRN_STATUS_SUCCESS) {
    clrn_conv2d_pad_used(&conv->pad, launched);
    keep_first(conv, padded_event);
    padded_event = NULL;
    if (event) {
      *event = launched;
      launched = NULL;
    }
  }
  if (launched)
    clReleaseEvent(launched);
  if (padded_event)
    clReleaseEvent(padded_event);
  return status;
}

const char *clrn_conv2d_variant_name(const clrn_conv2d *conv) {
  return conv ? clrn_conv2d_variant_string(conv->config.variant) : "none";
}

void clrn_conv2d_release(clrn_conv2d *conv) {
  if (!conv)
    return;
  if (conv->weight)
    clReleaseMemObject(conv->weight);
  if (conv->epilogue)
    clReleaseMemObject(conv->epilogue);
  clrn_conv2d_pad_release(&conv->pad);
  clrn_conv2d_wino_release(&conv->wino);
  keep_first(conv, NULL);
  free(conv);
}
