/* Convolution choices and weight layouts (see conv2d_pack.h): variant choice from
 * the device profile's tuning values and the shape, and the weight and epilogue
 * layouts of each variant. */
#include "plan/conv2d_pack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "plan/conv_candidates.h"
#include "runtime/nvidia.h"
#include "runtime/tuning.h"

/* The tensor-core kernel's tile: 16 output channels by MMA_PIXELS pixels per warp
 * of 32 work-items (kernels/conv2d_mma.cl), MMA_WG work-items a group. */
enum { MMA_CHANNELS = 16, MMA_PIXELS = 32, MMA_WG = 128 };

const char *clrn_conv2d_variant_string(int variant) {
  switch (variant) {
  case CLRN_CONV_AUTO: return "auto";
  case CLRN_CONV_DIRECT: return "direct";
  case CLRN_CONV_BLOCKED: return "blocked";
  case CLRN_CONV_GEMM: return "gemm";
  case CLRN_CONV_IGEMM: return "igemm";
  case CLRN_CONV_WINOGRAD: return "winograd";
  case CLRN_CONV_GROUPED: return "grouped";
  case CLRN_CONV_MMA: return "mma";
  default: break;
  }
  return "unknown";
}

/* The kernel of a family ("conv2d_blocked", "conv2d_igemm") specialised for a
 * square window of this size (name_k1, _k3, _k7), else the general one. */
static const char *window_kernel(const clrn_conv_shape *s, const char *const names[4]) {
  if (s->kernel_h == s->kernel_w) {
    if (s->kernel_h == 1)
      return names[1];
    if (s->kernel_h == 3)
      return names[2];
    if (s->kernel_h == 7)
      return names[3];
  }
  return names[0];
}

static const char *const blocked_kernels[4] = {"conv2d_blocked", "conv2d_blocked_k1",
                                               "conv2d_blocked_k3", "conv2d_blocked_k7"};
static const char *const igemm_kernels[4] = {"conv2d_igemm", "conv2d_igemm_k1", "conv2d_igemm_k3",
                                             "conv2d_igemm_k7"};

void clrn_conv_tuning_read(const clrn_context *context, clrn_conv_tuning *t) {
  /* The values kernels/conv2d.cl is built with; the profile checked them against
   * the tuning table when the context was made. */
  t->vec = clrn_context_tuning_value(context, CLRN_TUNING_CONV_VEC);
  t->cout_block = clrn_context_tuning_value(context, CLRN_TUNING_CONV_COUT_BLOCK);
  t->pix_block = clrn_context_tuning_value(context, CLRN_TUNING_CONV_PIX_BLOCK);
  t->direct_wg = clrn_context_tuning_value(context, CLRN_TUNING_CONV_WG);
  t->blocked_wg = clrn_context_tuning_value(context, CLRN_TUNING_CONV_BLOCK_WG);
  t->auto_blocked = clrn_context_tuning_value(context, CLRN_TUNING_CONV_AUTO_BLOCKED);
  t->pixels_first = clrn_context_tuning_value(context, CLRN_TUNING_CONV_PIXELS_FIRST);
  t->gemm_mr = clrn_context_tuning_value(context, CLRN_TUNING_GEMM_MR);
  t->gemm_nr = clrn_context_tuning_value(context, CLRN_TUNING_GEMM_NR);
  t->gemm_nv = clrn_context_tuning_value(context, CLRN_TUNING_GEMM_NV);
  t->gemm_wg = clrn_context_tuning_value(context, CLRN_TUNING_GEMM_WG);
  t->auto_gemm = clrn_context_tuning_value(context, CLRN_TUNING_CONV_AUTO_GEMM);
  t->gemm_min_plane = clrn_context_tuning_value(context, CLRN_TUNING_GEMM_MIN_PLANE);
  t->subsample = clrn_context_tuning_value(context, CLRN_TUNING_CONV_SUBSAMPLE);
  t->igemm_bm = clrn_context_tuning_value(context, CLRN_TUNING_IGEMM_BM);
  t->igemm_bn = clrn_context_tuning_value(context, CLRN_TUNING_IGEMM_BN);
  t->igemm_bk = clrn_context_tuning_value(context, CLRN_TUNING_IGEMM_BK);
  t->igemm_tm = clrn_context_tuning_value(context, CLRN_TUNING_IGEMM_TM);
  t->igemm_tn = clrn_context_tuning_value(context, CLRN_TUNING_IGEMM_TN);
  t->auto_igemm = clrn_context_tuning_value(context, CLRN_TUNING_CONV_AUTO_IGEMM);
  t->wino_tile = clrn_context_tuning_value(context, CLRN_TUNING_WINO_TILE);
  t->wino_min_plane = clrn_context_tuning_value(context, CLRN_TUNING_WINO_MIN_PLANE);
  t->wino_mr = clrn_context_tuning_value(context, CLRN_TUNING_WINO_MR);
  t->wino_nr = clrn_context_tuning_value(context, CLRN_TUNING_WINO_NR);
  t->wino_wg = clrn_context_tuning_value(context, CLRN_TUNING_WINO_WG);
  t->wino_xform_wg = clrn_context_tuning_value(context, CLRN_TUNING_WINO_XFORM_WG);
  t->grouped_max_cout = clrn_context_tuning_value(context, CLRN_TUNING_GROUPED_MAX_COUT);
  t->tuned = *clrn_context_tuned(context);
  t->precision = CLRN_PRECISION_FP32;
  t->nv_compute = clrn_device_nv_compute(clrn_context_device(context));
}

bool clrn_conv_tuning_equal(const clrn_conv_tuning *a, const clrn_conv_tuning *b) {
  return a->vec == b->vec && a->cout_block == b->cout_block && a->pix_block == b->pix_block &&
         a->direct_wg == b->direct_wg && a->blocked_wg == b->blocked_wg &&
         a->auto_blocked == b->auto_blocked && a->pixels_first == b->pixels_first &&
         a->gemm_mr == b->gemm_mr && a->gemm_nr == b->gemm_nr && a->gemm_wg == b->gemm_wg &&
         a->gemm_nv == b->gemm_nv && a->auto_gemm == b->auto_gemm &&
         a->gemm_min_plane == b->gemm_min_plane && a->subsample == b->subsample &&
         a->igemm_bm == b->igemm_bm && a->igemm_bn == b->igemm_bn && a->igemm_bk == b->igemm_bk &&
         a->igemm_tm == b->igemm_tm && a->igemm_tn == b->igemm_tn &&
         a->auto_igemm == b->auto_igemm && a->wino_tile == b->wino_tile &&
         a->wino_min_plane == b->wino_min_plane && a->wino_mr == b->wino_mr &&
         a->wino_nr == b->wino_nr && a->wino_wg == b->wino_wg &&
         a->wino_xform_wg == b->wino_xform_wg && a->grouped_max_cout == b->grouped_max_cout &&
         clrn_tuned_equal(&a->tuned, &b->tuned) && a->precision == b->precision &&
         a->nv_compute == b->nv_compute;
}

size_t clrn_precision_storage_bytes(long precision) {
  return precision == CLRN_PRECISION_FP16 ? 2 : sizeof(float);
}

bool clrn_conv2d_variant_stores(int variant, long precision) {
  if (precision != CLRN_PRECISION_FP16)
    return true;
  switch (variant) {
  case CLRN_CONV_DIRECT:
  case CLRN_CONV_BLOCKED:
  case CLRN_CONV_GEMM:
  case CLRN_CONV_MMA: return true;
  default: return false; /* not converted to the prelude's storage macros */
  }
}

bool clrn_conv2d_mma_fits(const clrn_conv_tuning *t, const clrn_conv_shape *s) {
  return t->nv_compute >= CLRN_NV_MMA_MIN_COMPUTE && s->groups == 1;
}

/* An unpadded 1x1 convolution of one group, of any stride. */
static bool pointwise(const clrn_conv_shape *s) {
  return s->kernel_h == 1 && s->kernel_w == 1 && s->pad_h == 0 && s->pad_w == 0 && s->groups == 1;
}

bool clrn_conv2d_gemm_fits(const clrn_conv_shape *s) {
  return pointwise(s) && s->stride_h == 1 && s->stride_w == 1;
}

/* A strided pointwise convolution, which CONV_SUBSAMPLE runs as a stride-1 one on
 * a subsampled copy of its input. */
static bool subsamples(const clrn_conv_tuning *t, const clrn_conv_shape *s) {
  return t->subsample && pointwise(s) && (s->stride_h > 1 || s->stride_w > 1);
}

bool clrn_conv2d_winograd_fits(const clrn_conv_shape *s) {
  return s->kernel_h == 3 && s->kernel_w == 3 && s->stride_h == 1 && s->stride_w == 1 &&
         s->groups == 1;
}

/* The grouped kernel: 8 channels a work-item where the group has a multiple of
 * 8, else 4 (zero-padded), 16 pixels of a row; the 3x3 window with a square
 * stride of 1 or 2 has its own kernels. */
static void grouped_configure(const clrn_conv_tuning *t, const clrn_conv_shape *s,
                              clrn_conv2d_config *config) {
  int cout_g = s->out_channels / s->groups;
  bool k3 = s->kernel_h == 3 && s->kernel_w == 3 && s->stride_h == s->stride_w;
  bool wide = cout_g % 8 == 0;
  config->program = "conv2d_grouped";
  if (k3 && s->stride_w == 1)
    config->kernel_name = wide ? "conv2d_grouped_c8_k3s1" : "conv2d_grouped_c4_k3s1";
  else if (k3 && s->stride_w == 2)
    config->kernel_name = wide ? "conv2d_grouped_c8_k3s2" : "conv2d_grouped_c4_k3s2";
  else
    config->kernel_name = wide ? "conv2d_grouped_c8" : "conv2d_grouped_c4";
  config->vec = 16;
  config->cout_block = wide ? 8 : 4;
  config->pix_block = 16;
  config->blocks_g = (cout_g + config->cout_block - 1) / config->cout_block;
  config->work_group = (size_t)t->blocked_wg;
  config->pixels_first = 1;
}

void clrn_conv2d_configure(const clrn_conv_tuning *t, const clrn_conv_shape *shape, long plane,
                           int variant, clrn_conv2d_config *config) {
  memset(config, 0, sizeof *config);
  clrn_conv_tuning scratch;
  const clrn_conv_tuning *tuned = variant == CLRN_CONV_AUTO
                                      ? clrn_conv_tuned_lookup(t, shape, plane, &variant, &scratch)
                                      : NULL;
  if (tuned)
    t = tuned;
  config->tuned = tuned != NULL;
  int cout_g = shape->out_channels / shape->groups;
  /* Reduced precisions run on tensor cores where the device has them. */
  if (variant == CLRN_CONV_AUTO && t->precision != CLRN_PRECISION_FP32 &&
      clrn_conv2d_mma_fits(t, shape))
    variant = CLRN_CONV_MMA;
  if (variant == CLRN_CONV_MMA && !clrn_conv2d_mma_fits(t, shape))
    variant = CLRN_CONV_AUTO;
  /* Winograd first: where it fits it does a quarter of the multiplications or
   * fewer; on small planes the tiles past the border waste much of that. */
  if (variant == CLRN_CONV_AUTO && t->wino_tile && clrn_conv2d_winograd_fits(shape) &&
      (plane == 0 || plane >= t->wino_min_plane))
    variant = CLRN_CONV_WINOGRAD;
  if (variant == CLRN_CONV_WINOGRAD && !clrn_conv2d_winograd_fits(shape))
    variant = CLRN_CONV_BLOCKED;
  /* Small planes waste much of the GEMM kernel's last pixel tile. A subsampled
   * strided 1x1 convolution is a stride-1 one to the kernels. */
  bool subsampled = subsamples(t, shape);
  if (variant == CLRN_CONV_AUTO && t->auto_gemm && (clrn_conv2d_gemm_fits(shape) || subsampled) &&
      (plane == 0 || plane >= t->gemm_min_plane))
    variant = CLRN_CONV_GEMM;
  /* Groups too narrow to fill the blocked kernel's channel vectors: vectors of
   * pixels instead (kernels/conv2d_grouped.cl), unless at most a quarter of its
   * 4-channel block would be used (depthwise stays direct). */
  if (variant == CLRN_CONV_AUTO && shape->groups > 1 && cout_g >= 2 &&
      cout_g <= t->grouped_max_cout)
    variant = CLRN_CONV_GROUPED;
  if (variant == CLRN_CONV_GEMM && !clrn_conv2d_gemm_fits(shape) && !subsampled)
    variant = CLRN_CONV_BLOCKED;
  /* The implicit GEMM where at most half of its channel tile would be padding
   * (ResNeXt's narrow groups stay on the other kernels). */
  if (variant == CLRN_CONV_AUTO && t->auto_igemm && 2L * cout_g >= t->igemm_bm)
    variant = CLRN_CONV_IGEMM;
  if (variant == CLRN_CONV_AUTO)
    /* Blocked when the profile prefers it and at most half of a block's output
     * channels would be padding (depthwise and tiny layers stay direct). */
    variant =
        t->auto_blocked && 2L * cout_g >= t->cout_block ? CLRN_CONV_BLOCKED : CLRN_CONV_DIRECT;
  /* A variant whose kernels cannot store this precision is never chosen. */
  if (!clrn_conv2d_variant_stores(variant, t->precision))
    variant = CLRN_CONV_BLOCKED;
  config->variant = variant;
  config->subsample = subsampled && (variant == CLRN_CONV_BLOCKED || variant == CLRN_CONV_GEMM);
  config->program = "conv2d";
  config->pixels_first = (int)t->pixels_first;
  config->half = t->precision == CLRN_PRECISION_FP16;
  if (variant == CLRN_CONV_MMA) {
    /* PyTorch's weight layout; blocks_g counts 16-channel tiles, pix_block the
     * pixels of a warp's tile. */
    config->program = "conv2d_mma";
    config->kernel_name = "conv2d_mma";
    config->tf32 = !config->half;
    config->cout_block = MMA_CHANNELS;
    config->pix_block = MMA_PIXELS;
    config->blocks_g = (cout_g + MMA_CHANNELS - 1) / MMA_CHANNELS;
    config->work_group = MMA_WG;
  } else if (variant == CLRN_CONV_GEMM) {
    /* The blocked weight layout with a block of GEMM_MR channels and one tap. */
    config->program = "conv2d_gemm";
    config->kernel_name = "conv2d_gemm1x1";
    config->vec = (int)t->gemm_nr;
    config->cout_block = (int)t->gemm_mr;
    config->pix_block = (int)(t->gemm_nr * (t->gemm_nv > 1 ? t->gemm_nv : 1));
    config->blocks_g = (cout_g + config->cout_block - 1) / config->cout_block;
    config->work_group = (size_t)t->gemm_wg;
  } else if (variant == CLRN_CONV_IGEMM) {
    /* The blocked weight layout with a block of IGEMM_BM channels. */
    config->program = "conv2d_igemm";
    config->kernel_name = window_kernel(shape, igemm_kernels);
    config->vec = 4;
    config->cout_block = (int)t->igemm_bm;
    config->pix_block = (int)t->igemm_bn;
    config->depth = (int)t->igemm_bk;
    config->micro_m = (int)t->igemm_tm;
    config->micro_n = (int)t->igemm_tn;
    config->blocks_g = (cout_g + config->cout_block - 1) / config->cout_block;
    config->work_group = (size_t)((t->igemm_bm / t->igemm_tm) * (t->igemm_bn / t->igemm_tn));
  } else if (variant == CLRN_CONV_WINOGRAD) {
    config->program = "conv2d_winograd";
    config->kernel_name = "conv2d_wino_gemm";
    config->tile = t->wino_tile ? (int)t->wino_tile : 4;
    config->vec = (int)t->wino_nr;
    config->cout_block = (int)t->wino_mr;
    config->pix_block = (int)t->wino_nr;
    config->blocks_g = (cout_g + config->cout_block - 1) / config->cout_block;
    config->work_group = (size_t)t->wino_wg;
    config->transform_work_group = (size_t)t->wino_xform_wg;
  } else if (variant == CLRN_CONV_GROUPED) {
    grouped_configure(t, shape, config);
  } else if (variant == CLRN_CONV_DIRECT) {
    config->kernel_name = "conv2d_direct";
    config->work_group = (size_t)t->direct_wg;
  } else {
    config->kernel_name = window_kernel(shape, blocked_kernels);
    config->vec = (int)t->vec;
    config->cout_block = (int)t->cout_block;
    config->pix_block = (int)t->pix_block;
    config->blocks_g = (cout_g + config->cout_block - 1) / config->cout_block;
    config->work_group = (size_t)t->blocked_wg;
  }
}

/* Appends suffix to the text in text[size], as far as it fits. */
static void append(char *text, size_t size, const char *suffix) {
  size_t used = strlen(text);
  if (used < size)
    snprintf(text + used, size - used, "%s", suffix);
}

void clrn_conv2d_config_describe(const clrn_conv2d_config *c, char *text, size_t size) {
  if (c->variant == CLRN_CONV_BLOCKED)
    snprintf(text, size, "blocked oc%dx%d v%d wg%zu pf%d%s", c->cout_block, c->pix_block, c->vec,
             c->work_group, c->pixels_first, c->tuned ? " tuned" : "");
  else if (c->variant == CLRN_CONV_IGEMM)
    snprintf(text, size, "igemm %dx%dx%d t%dx%d wg%zu%s", c->cout_block, c->pix_block, c->depth,
             c->micro_m, c->micro_n, c->work_group, c->tuned ? " tuned" : "");
  else if (c->variant == CLRN_CONV_WINOGRAD)
    snprintf(text, size, "winograd F%d oc%dx%d wg%zu pf%d%s", c->tile, c->cout_block, c->pix_block,
             c->work_group, c->pixels_first, c->tuned ? " tuned" : "");
  else if (c->variant == CLRN_CONV_GROUPED)
    snprintf(text, size, "grouped oc%dx%d wg%zu%s", c->cout_block, c->pix_block, c->work_group,
             c->tuned ? " tuned" : "");
  else if (c->variant == CLRN_CONV_GEMM)
    snprintf(text, size, "gemm oc%dx%d wg%zu pf%d%s", c->cout_block, c->pix_block, c->work_group,
             c->pixels_first, c->tuned ? " tuned" : "");
  else if (c->variant == CLRN_CONV_MMA)
    snprintf(text, size, "mma %s oc%dx%d wg%zu", c->tf32 ? "tf32" : "f16", c->cout_block,
             c->pix_block, c->work_group);
  else
    snprintf(text, size, "%s wg%zu%s", clrn_conv2d_variant_string(c->variant), c->work_group,
             c->tuned ? " tuned" : "");
  if (c->subsample)
    append(text, size, " sub");
  if (c->half && c->variant != CLRN_CONV_MMA)
    append(text, size, " fp16");
}

bool clrn_conv2d_padded_plane(const clrn_conv_shape *s, const clrn_conv2d_config *config, int out_h,
                              int out_w, long long *padded_h, long long *padded_w) {
  *padded_h = *padded_w = 0;
  bool grouped = config->variant == CLRN_CONV_GROUPED;
  bool blocked = config->variant == CLRN_CONV_BLOCKED && (s->pad_h || s->pad_w);
  if ((!grouped && !blocked && !config->subsample) || out_h < 1 || out_w < 1)
    return false;
  if (config->subsample) { /* every stride-th pixel: the output's plane */
    *padded_h = out_h;
    *padded_w = out_w;
    return true;
  }
  /* The planes reach as far as the windows do; the grouped kernel's row tiles
   * load 16 pixels (stride 2: 32 inputs) from the start of each window. */
  long long w = out_w;
  if (grouped)
    w = (w + config->pix_block - 1) / config->pix_block * config->pix_block;
  *padded_h = (long long)(out_h - 1) * s->stride_h + s->kernel_h;
  *padded_w = (w - 1) * s->stride_w + s->kernel_w;
  if (grouped && s->stride_w == 2)
    (*padded_w)++; /* the odd lane after the last even one */
  return true;
}

size_t clrn_conv2d_padded_bytes(const clrn_conv_shape *s, const clrn_conv2d_config *config,
                                int out_h, int out_w) {
  if (out_h < 1 || out_w < 1)
    return 0;
  if (config->variant == CLRN_CONV_WINOGRAD) {
    size_t tiles = (size_t)((out_h + config->tile - 1) / config->tile) *
                   (size_t)((out_w + config->tile - 1) / config->tile);
    /* One image's tiles rounded up to the GEMM's vector: batch times that is at
     * least a batch's tiles rounded up. */
    return clrn_conv2d_winograd_floats(s, config, tiles) * sizeof(float);
  }
  long long h, w;
  if (!clrn_conv2d_padded_plane(s, config, out_h, out_w, &h, &w))
    return 0;
  return (size_t)s->in_channels * (size_t)h * (size_t)w * (config->half ? 2 : sizeof(float));
}

void clrn_conv2d_packed_free(clrn_conv2d_packed *packed) {
  free(packed->weight);
  free(packed->epilogue);
  memset(packed, 0, sizeof *packed);
}

clrn_status clrn_conv2d_packed_alloc(clrn_conv2d_packed *packed, size_t weights, size_t channels,
                                     int **channel) {
  packed->weight_count = weights;
  packed->epilogue_count = 3 * channels;
  packed->weight = calloc(weights, sizeof(float));
  packed->epilogue = malloc(packed->epilogue_count * sizeof(float));
  *channel = malloc(channels * sizeof **channel);
  if (packed->weight && packed->epilogue && *channel)
    return CLRN_STATUS_SUCCESS;
  free(*channel);
  *channel = NULL;
  clrn_conv2d_packed_free(packed);
  return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "conv2d: %zu packed weights", weights);
}

void clrn_conv2d_fill_epilogue(float *epilogue, size_t count, const int *channel, const float *bias,
                               const float *scale, const float *shift) {
  for (size_t i = 0; i < count; i++) {
    int c = channel[i];
    epilogue[i] = c >= 0 && bias ? bias[c] : 0.0f;
    epilogue[count + i] = c >= 0 && scale ? scale[c] : 1.0f;
    epilogue[2 * count + i] = c >= 0 && shift ? shift[c] : 0.0f;
  }
}

clrn_status clrn_conv2d_pack(const clrn_conv_shape *d, const clrn_conv2d_config *config,
                             const float *weight, const float *bias, const float *scale,
                             const float *shift, clrn_conv2d_packed *packed) {
  memset(packed, 0, sizeof *packed);
  if (config->variant == CLRN_CONV_WINOGRAD)
    return clrn_conv2d_winograd_pack(d, config, weight, bias, scale, shift, packed);
  size_t cin_g = (size_t)(d->in_channels / d->groups),
         cout_g = (size_t)(d->out_channels / d->groups);
  size_t taps = (size_t)d->kernel_h * d->kernel_w, per_channel = cin_g * taps;
  /* The GEMM variant reads the blocked layout (one tap, GEMM_MR channels a block),
   * the implicit GEMM (IGEMM_BM channels a block) and the grouped one (4 or 8
   * channels a block) too. */
  bool blocked = config->variant == CLRN_CONV_BLOCKED || config->variant == CLRN_CONV_GEMM ||
                 config->variant == CLRN_CONV_IGEMM || config->variant == CLRN_CONV_GROUPED;
  size_t block = blocked ? (size_t)config->cout_block : 1;
  size_t channels =
      blocked ? (size_t)d->groups * config->blocks_g * block : (size_t)d->out_channels;
  int *channel = NULL;
  CLRN_TRY(clrn_conv2d_packed_alloc(packed, channels * per_channel, channels, &channel));
  if (!blocked) {
    memcpy(packed->weight, weight, packed->weight_count * sizeof(float));
    for (size_t c = 0; c < channels; c++)
      channel[c] = (int)c;
  } else {
    /* [group][block][cin_g][tap][lane], lane j of block b of group g holding
     * output channel g*cout_g + b*block + j (zero past the group's end). */
    for (size_t slot = 0; slot < channels; slot++) {
      size_t g = slot / (config->blocks_g * block), within = slot % (config->blocks_g * block);
      channel[slot] = within < cout_g ? (int)(g * cout_g + within) : -1;
      if (channel[slot] < 0)
        continue;
      size_t b = within / block, lane = within % block;
      float *dst = packed->weight + ((g * config->blocks_g + b) * per_channel) * block + lane;
      const float *src = weight + (size_t)channel[slot] * per_channel;
      for (size_t k = 0; k < per_channel; k++)
        dst[k * block] = src[k];
    }
  }
  clrn_conv2d_fill_epilogue(packed->epilogue, channels, channel, bias, scale, shift);
  free(channel);
  return CLRN_STATUS_SUCCESS;
}
