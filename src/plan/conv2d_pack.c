/* Convolution choices and weight layouts (see conv2d_pack.h): variant choice from
 * the device profile's tuning values and the shape, and the weight and epilogue
 * layouts of each variant. */
#include "plan/conv2d_pack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
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
  case CLRN_CONV_MMA: return "mma";
  default: break;
  }
  return "unknown";
}

/* The blocked kernel specialised for a square window of this size, if any. */
static const char *blocked_kernel(const clrn_conv_shape *s) {
  if (s->kernel_h == s->kernel_w) {
    if (s->kernel_h == 1)
      return "conv2d_blocked_k1";
    if (s->kernel_h == 3)
      return "conv2d_blocked_k3";
    if (s->kernel_h == 7)
      return "conv2d_blocked_k7";
  }
  return "conv2d_blocked";
}

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
  t->gemm_wg = clrn_context_tuning_value(context, CLRN_TUNING_GEMM_WG);
  t->auto_gemm = clrn_context_tuning_value(context, CLRN_TUNING_CONV_AUTO_GEMM);
  t->gemm_min_plane = clrn_context_tuning_value(context, CLRN_TUNING_GEMM_MIN_PLANE);
  t->precision = CLRN_PRECISION_FP32;
  t->nv_compute = clrn_device_nv_compute(clrn_context_device(context));
}

bool clrn_conv_tuning_equal(const clrn_conv_tuning *a, const clrn_conv_tuning *b) {
  return a->vec == b->vec && a->cout_block == b->cout_block && a->pix_block == b->pix_block &&
         a->direct_wg == b->direct_wg && a->blocked_wg == b->blocked_wg &&
         a->auto_blocked == b->auto_blocked && a->pixels_first == b->pixels_first &&
         a->gemm_mr == b->gemm_mr && a->gemm_nr == b->gemm_nr && a->gemm_wg == b->gemm_wg &&
         a->auto_gemm == b->auto_gemm && a->gemm_min_plane == b->gemm_min_plane &&
         a->precision == b->precision && a->nv_compute == b->nv_compute;
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

bool clrn_conv2d_gemm_fits(const clrn_conv_shape *s) {
  return s->kernel_h == 1 && s->kernel_w == 1 && s->stride_h == 1 && s->stride_w == 1 &&
         s->pad_h == 0 && s->pad_w == 0 && s->groups == 1;
}

void clrn_conv2d_configure(const clrn_conv_tuning *t, const clrn_conv_shape *shape, long plane,
                           int variant, clrn_conv2d_config *config) {
  memset(config, 0, sizeof *config);
  int cout_g = shape->out_channels / shape->groups;
  /* Reduced precisions run on tensor cores where the device has them. */
  if (variant == CLRN_CONV_AUTO && t->precision != CLRN_PRECISION_FP32 &&
      clrn_conv2d_mma_fits(t, shape))
    variant = CLRN_CONV_MMA;
  if (variant == CLRN_CONV_MMA && !clrn_conv2d_mma_fits(t, shape))
    variant = CLRN_CONV_AUTO;
  /* Small planes waste much of the GEMM kernel's last pixel tile. */
  if (variant == CLRN_CONV_AUTO && t->auto_gemm && clrn_conv2d_gemm_fits(shape) &&
      (plane == 0 || plane >= t->gemm_min_plane))
    variant = CLRN_CONV_GEMM;
  if (variant == CLRN_CONV_GEMM && !clrn_conv2d_gemm_fits(shape))
    variant = CLRN_CONV_BLOCKED;
  if (variant == CLRN_CONV_AUTO)
    /* Blocked when the profile prefers it and at most half of a block's output
     * channels would be padding (depthwise and tiny layers stay direct). */
    variant =
        t->auto_blocked && 2L * cout_g >= t->cout_block ? CLRN_CONV_BLOCKED : CLRN_CONV_DIRECT;
  /* A variant whose kernels cannot store this precision is never chosen. */
  if (!clrn_conv2d_variant_stores(variant, t->precision))
    variant = CLRN_CONV_BLOCKED;
  config->variant = variant;
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
    config->pix_block = (int)t->gemm_nr;
    config->blocks_g = (cout_g + config->cout_block - 1) / config->cout_block;
    config->work_group = (size_t)t->gemm_wg;
  } else if (variant == CLRN_CONV_DIRECT) {
    config->kernel_name = "conv2d_direct";
    config->work_group = (size_t)t->direct_wg;
  } else {
    config->kernel_name = blocked_kernel(shape);
    config->vec = (int)t->vec;
    config->cout_block = (int)t->cout_block;
    config->pix_block = (int)t->pix_block;
    config->blocks_g = (cout_g + config->cout_block - 1) / config->cout_block;
    config->work_group = (size_t)t->blocked_wg;
  }
}

void clrn_conv2d_config_describe(const clrn_conv2d_config *c, char *text, size_t size) {
  if (c->variant == CLRN_CONV_BLOCKED)
    snprintf(text, size, "blocked oc%dx%d v%d wg%zu pf%d", c->cout_block, c->pix_block, c->vec,
             c->work_group, c->pixels_first);
  else if (c->variant == CLRN_CONV_GEMM)
    snprintf(text, size, "gemm oc%dx%d wg%zu pf%d", c->cout_block, c->pix_block, c->work_group,
             c->pixels_first);
  else if (c->variant == CLRN_CONV_MMA)
    snprintf(text, size, "mma %s oc%dx%d wg%zu", c->tf32 ? "tf32" : "f16", c->cout_block,
             c->pix_block, c->work_group);
  else
    snprintf(text, size, "%s wg%zu", clrn_conv2d_variant_string(c->variant), c->work_group);
  if (c->half && c->variant != CLRN_CONV_MMA) {
    size_t used = strlen(text);
    if (used < size)
      snprintf(text + used, size - used, " fp16");
  }
}

size_t clrn_conv2d_padded_bytes(const clrn_conv_shape *s, const clrn_conv2d_config *config,
                                int out_h, int out_w) {
  if (config->variant != CLRN_CONV_BLOCKED || (!s->pad_h && !s->pad_w) || out_h < 1 || out_w < 1)
    return 0;
  /* The planes reach as far as the windows do (see conv2d.c). */
  size_t h = (size_t)(out_h - 1) * (size_t)s->stride_h + (size_t)s->kernel_h;
  size_t w = (size_t)(out_w - 1) * (size_t)s->stride_w + (size_t)s->kernel_w;
  return (size_t)s->in_channels * h * w * (config->half ? 2 : sizeof(float));
}

void clrn_conv2d_packed_free(clrn_conv2d_packed *packed) {
  free(packed->weight);
  free(packed->epilogue);
  memset(packed, 0, sizeof *packed);
}

/* Fills epilogue [3][count] with bias, scale and shift of output channel
 * channel_of(i), or 0, 1, 0 where absent or where i is padding (channel < 0). */
static void fill_epilogue(float *epilogue, size_t count, const int *channel, const float *bias,
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
  size_t cin_g = (size_t)(d->in_channels / d->groups),
         cout_g = (size_t)(d->out_channels / d->groups);
  size_t taps = (size_t)d->kernel_h * d->kernel_w, per_channel = cin_g * taps;
  /* The GEMM variant reads the blocked layout (one tap, GEMM_MR channels a block). */
  bool blocked = config->variant == CLRN_CONV_BLOCKED || config->variant == CLRN_CONV_GEMM;
  size_t block = blocked ? (size_t)config->cout_block : 1;
  size_t channels =
      blocked ? (size_t)d->groups * config->blocks_g * block : (size_t)d->out_channels;
  packed->weight_count = channels * per_channel;
  packed->epilogue_count = 3 * channels;
  packed->weight = calloc(packed->weight_count, sizeof(float));
  packed->epilogue = malloc(packed->epilogue_count * sizeof(float));
  int *channel = malloc(channels * sizeof *channel);
  if (!packed->weight || !packed->epilogue || !channel) {
    free(channel);
    clrn_conv2d_packed_free(packed);
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "conv2d: %zu packed weights",
                     channels * per_channel);
  }
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
  fill_epilogue(packed->epilogue, channels, channel, bias, scale, shift);
  free(channel);
  return CLRN_STATUS_SUCCESS;
}
