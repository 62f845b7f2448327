/* conv2d internals: which kernel variant a convolution runs, with the device
 * profile's blocking for it, and the weight and epilogue arrays in the layout that
 * variant reads (see kernels/conv2d.cl). Used by conv2d.c only. */
#ifndef CLRN_OPS_CONV2D_PACK_H
#define CLRN_OPS_CONV2D_PACK_H

#include "clresnet/ops.h"

/** The variant a convolution runs and how its kernel is launched. */
typedef struct clrn_conv2d_config {
  clrn_conv2d_variant variant;    /**< DIRECT or BLOCKED, never AUTO */
  const char *kernel_name;        /**< kernel of kernels/conv2d.cl */
  int vec, cout_block, pix_block; /**< CONV_VEC, CONV_COUT_BLOCK, CONV_PIX_BLOCK (blocked) */
  int blocks_g;                   /**< output-channel blocks per group (blocked), else 0 */
  size_t work_group;              /**< wanted work-group size along dimension 0 */
  int pixels_first; /**< CONV_PIXELS_FIRST: 0 never, 1 always, 2 when the weight is bigger */
} clrn_conv2d_config;

/** Host copies of the arrays a variant reads. */
typedef struct clrn_conv2d_packed {
  float *weight, *epilogue;
  size_t weight_count, epilogue_count;
} clrn_conv2d_packed;

/** Resolves desc->variant (AUTO from the profile's CONV_AUTO_BLOCKED and the
 * shape) and reads the profile's CONV_* values (checked against the tuning
 * table when the context was made). */
clrn_status clrn_conv2d_configure(clrn_context *context, const clrn_conv2d_desc *desc,
                                  clrn_conv2d_config *config);

/** Builds the weight and epilogue arrays of config's variant from PyTorch's weight
 * layout and the optional bias, scale and shift (absent ones become 0, 1, 0). */
clrn_status clrn_conv2d_pack(const clrn_conv2d_desc *desc, const clrn_conv2d_config *config,
                             const float *weight, const float *bias, const float *scale,
                             const float *shift, clrn_conv2d_packed *packed);

/** Frees the arrays of packed (not packed itself). */
void clrn_conv2d_packed_free(clrn_conv2d_packed *packed);

/** "direct", "blocked" (or "auto" for AUTO). */
const char *clrn_conv2d_variant_string(clrn_conv2d_variant variant);

#endif
