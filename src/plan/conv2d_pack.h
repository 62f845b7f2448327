/* Convolution choices and weight layouts, device-free: which kernel variant a
 * convolution runs with which blocking (from the device profile's tuning values
 * and the shape), and the host weight and epilogue arrays in the layout that
 * variant reads (see kernels/conv2d.cl). The plan does this once per run for every
 * convolution step; clrn_conv2d_create() does it for one convolution on raw
 * weights. Either way the op object only uploads the packed arrays. */
#ifndef CLRN_PLAN_CONV2D_PACK_H
#define CLRN_PLAN_CONV2D_PACK_H

#include <stdbool.h>
#include <stddef.h>

#include "clresnet/context.h"

/* Variant numbers: the values of clrn_conv2d_variant in clresnet/ops.h (a layer
 * above; conv2d.c checks that they agree). */
enum { CLRN_CONV_AUTO = 0, CLRN_CONV_DIRECT = 1, CLRN_CONV_BLOCKED = 2, CLRN_CONV_GEMM = 3 };
/* Internal variants the plan chooses but the public op API does not offer: the
 * tensor-core kernel of kernels/conv2d_mma.cl (NVIDIA, compute capability >= 8.0). */
enum { CLRN_CONV_MMA = 16 };

/** A convolution's shape as the plan records it: clrn_conv2d_desc without the variant. */
typedef struct clrn_conv_shape {
  int in_channels, out_channels;
  int kernel_h, kernel_w;
  int stride_h, stride_w;
  int pad_h, pad_w;
  int groups;
  bool relu; /**< ReLU last in the epilogue */
} clrn_conv_shape;

/** The convolution tuning values of a device profile: all a plan needs to know
 * about a device. Devices whose values are equal share one plan. */
typedef struct clrn_conv_tuning {
  long vec, cout_block, pix_block; /**< CONV_VEC, CONV_COUT_BLOCK, CONV_PIX_BLOCK */
  long direct_wg, blocked_wg;      /**< CONV_WG, CONV_BLOCK_WG */
  long auto_blocked;               /**< CONV_AUTO_BLOCKED */
  long pixels_first;               /**< CONV_PIXELS_FIRST */
  long gemm_mr, gemm_nr, gemm_wg;  /**< GEMM_MR, GEMM_NR, GEMM_WG */
  long auto_gemm;                  /**< CONV_AUTO_GEMM */
  long gemm_min_plane;             /**< GEMM_MIN_PLANE */
  /** Not profile values but part of what a plan depends on: the run's
   * clrn_precision (clrn_conv_tuning_read() sets CLRN_PRECISION_FP32; the model
   * sets its option) and the device's NVIDIA compute capability as major * 10 +
   * minor (0 for other devices; from cl_nv_device_attribute_query). */
  long precision;
  long nv_compute;
} clrn_conv_tuning;

/** The variant a convolution runs and how its kernel is launched: the choice a
 * plan records per convolution step. */
typedef struct clrn_conv2d_config {
  int variant;             /**< CLRN_CONV_DIRECT, CLRN_CONV_BLOCKED or CLRN_CONV_GEMM, never AUTO */
  const char *program;     /**< kernel program: "conv2d" or "conv2d_gemm" */
  const char *kernel_name; /**< kernel of that program */
  int vec, cout_block, pix_block; /**< blocked: CONV_VEC, CONV_COUT_BLOCK, CONV_PIX_BLOCK;
                                       gemm: GEMM_NR, GEMM_MR, GEMM_NR */
  int blocks_g;                   /**< output-channel blocks per group (blocked, gemm), else 0 */
  size_t work_group;              /**< wanted work-group size along dimension 0 */
  int pixels_first; /**< CONV_PIXELS_FIRST: 0 never, 1 always, 2 when the weight is bigger */
  bool half;        /**< weights and activations stored as half (CLRN_PRECISION_FP16) */
  bool tf32;        /**< MMA: TF32 tensor-core inputs (else f16 from half storage) */
} clrn_conv2d_config;

/** Host copies of the arrays a variant reads. */
typedef struct clrn_conv2d_packed {
  float *weight, *epilogue;
  size_t weight_count, epilogue_count;
} clrn_conv2d_packed;

/** Reads the convolution tuning values of a context's device profile (checked
 * against the tuning table when the context was made). */
void clrn_conv_tuning_read(const clrn_context *context, clrn_conv_tuning *tuning);

/** Whether two sets of tuning values are the same (then one plan serves both). */
bool clrn_conv_tuning_equal(const clrn_conv_tuning *a, const clrn_conv_tuning *b);

/** Bytes of one stored activation or convolution weight element: 2 for
 * CLRN_PRECISION_FP16, else 4 (sizeof(float)). */
size_t clrn_precision_storage_bytes(long precision);

/** Whether a variant's kernels can store their tensors as precision asks: every
 * variant stores float; half storage (FP16) only where its kernels were converted
 * to the prelude's storage macros (direct, blocked, gemm, mma); TF32 stores float.
 * Variants added without conversion are fp32-only, and the plan does not choose
 * them for an fp16 run. */
bool clrn_conv2d_variant_stores(int variant, long precision);

/** Whether the tensor-core variant (kernels/conv2d_mma.cl) can run this shape on
 * a device of that NVIDIA compute capability (tuning->nv_compute >= 80; any
 * kernel size, stride and padding, one group). */
bool clrn_conv2d_mma_fits(const clrn_conv_tuning *tuning, const clrn_conv_shape *shape);

/** Whether the GEMM variant can run a convolution of this shape: 1x1, stride 1,
 * no padding, one group. */
bool clrn_conv2d_gemm_fits(const clrn_conv_shape *shape);

/** Resolves variant (CLRN_CONV_AUTO: from CONV_AUTO_GEMM, GEMM_MIN_PLANE,
 * CONV_AUTO_BLOCKED, the shape and plane, the output's height x width where known,
 * else 0; GEMM on a shape it does not fit: blocked) and fills config with the
 * tuning values that variant is launched with. */
void clrn_conv2d_configure(const clrn_conv_tuning *tuning, const clrn_conv_shape *shape, long plane,
                           int variant, clrn_conv2d_config *config);

/** Builds the weight and epilogue arrays of config's variant from PyTorch's weight
 * layout and the optional bias, scale and shift (absent ones become 0, 1, 0). */
clrn_status clrn_conv2d_pack(const clrn_conv_shape *shape, const clrn_conv2d_config *config,
                             const float *weight, const float *bias, const float *scale,
                             const float *shift, clrn_conv2d_packed *packed);

/** Frees the arrays of packed (not packed itself). */
void clrn_conv2d_packed_free(clrn_conv2d_packed *packed);

/** "direct", "blocked", "gemm" (or "auto" for AUTO). */
const char *clrn_conv2d_variant_string(int variant);

/** Writes the variant and its parameters into text: "direct wg64",
 * "blocked oc16x6 v8 wg4 pf2" (output channels x pixels per work-item, vector
 * width, work-group size, CONV_PIXELS_FIRST), "gemm oc8x16 wg4 pf2". */
void clrn_conv2d_config_describe(const clrn_conv2d_config *config, char *text, size_t size);

/** Bytes of the zero-padded input copy the blocked variant reads, per image, for
 * an output of out_h x out_w (0 when the convolution reads its input directly). */
size_t clrn_conv2d_padded_bytes(const clrn_conv_shape *shape, const clrn_conv2d_config *config,
                                int out_h, int out_w);

#endif
