/* conv2d internals (see conv2d_pack.h): variant choice from the device profile
 * and the shape, and the weight and epilogue layouts of each variant. */
#include "ops/conv2d_pack.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "runtime/tuning.h"

const char *clrn_conv2d_variant_string(clrn_conv2d_variant variant) {
  switch (variant) {
  case CLRN_CONV2D_VARIANT_AUTO: return "auto";
  case CLRN_CONV2D_VARIANT_DIRECT: return "direct";
  case CLRN_CONV2D_VARIANT_BLOCKED: return "blocked";
  case CLRN_CONV2D_VARIANT_COUNT: break;
  }
  return "unknown";
}

/* The blocked kernel specialised for a square window of this size, if any. */
static const char *blocked_kernel(const clrn_conv2d_desc *d) {
  if (d->kernel_h == d->kernel_w) {
    if (d->kernel_h == 1)
      return "conv2d_blocked_k1";
    if (d->kernel_h == 3)
      return "conv2d_blocked_k3";
    if (d->kernel_h == 7)
      return "conv2d_blocked_k7";
  }
  return "conv2d_blocked";
}

clrn_status clrn_conv2d_configure(clrn_context *context, const clrn_conv2d_desc *desc,
                                  clrn_conv2d_config *config) {
  memset(config, 0, sizeof *config);
  /* The values kernels/conv2d.cl is built with; the profile checked them against
   * the tuning table when the context was made. */
  long vec = clrn_context_tuning_value(context, CLRN_TUNING_CONV_VEC);
  long cout_block = clrn_context_tuning_value(context, CLRN_TUNING_CONV_COUT_BLOCK);
  long pix_block = clrn_context_tuning_value(context, CLRN_TUNING_CONV_PIX_BLOCK);
  long direct_wg = clrn_context_tuning_value(context, CLRN_TUNING_CONV_WG);
  long blocked_wg = clrn_context_tuning_value(context, CLRN_TUNING_CONV_BLOCK_WG);
  long auto_blocked = clrn_context_tuning_value(context, CLRN_TUNING_CONV_AUTO_BLOCKED);
  long pixels_first = clrn_context_tuning_value(context, CLRN_TUNING_CONV_PIXELS_FIRST);
  int cout_g = desc->out_channels / desc->groups;
  clrn_conv2d_variant variant = desc->variant;
  if (variant == CLRN_CONV2D_VARIANT_AUTO)
    /* Blocked when the profile prefers it and at most half of a block's output
     * channels would be padding (depthwise and tiny layers stay direct). */
    variant = auto_blocked && 2L * cout_g >= cout_block ? CLRN_CONV2D_VARIANT_BLOCKED
                                                        : CLRN_CONV2D_VARIANT_DIRECT;
  config->variant = variant;
  if (variant == CLRN_CONV2D_VARIANT_DIRECT) {
    config->kernel_name = "conv2d_direct";
    config->work_group = (size_t)direct_wg;
  } else {
    config->kernel_name = blocked_kernel(desc);
    config->vec = (int)vec;
    config->cout_block = (int)cout_block;
    config->pix_block = (int)pix_block;
    config->blocks_g = (cout_g + config->cout_block - 1) / config->cout_block;
    config->work_group = (size_t)blocked_wg;
    config->pixels_first = (int)pixels_first;
  }
  return CLRN_STATUS_SUCCESS;
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

clrn_status clrn_conv2d_pack(const clrn_conv2d_desc *d, const clrn_conv2d_config *config,
                             const float *weight, const float *bias, const float *scale,
                             const float *shift, clrn_conv2d_packed *packed) {
  memset(packed, 0, sizeof *packed);
  size_t cin_g = (size_t)(d->in_channels / d->groups),
         cout_g = (size_t)(d->out_channels / d->groups);
  size_t taps = (size_t)d->kernel_h * d->kernel_w, per_channel = cin_g * taps;
  bool blocked = config->variant == CLRN_CONV2D_VARIANT_BLOCKED;
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
