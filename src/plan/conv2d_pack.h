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
#include "runtime/tuning_file.h"

/* Variant numbers: the values of clrn_conv2d_variant in clresnet/ops.h (a layer
 * above; conv2d.c checks that they agree). */
enum {
  CLRN_CONV_AUTO = 0,
  CLRN_CONV_DIRECT = 1,
  CLRN_CONV_BLOCKED = 2,
  CLRN_CONV_GEMM = 3,
  CLRN_CONV_IGEMM = 4,
  CLRN_CONV_WINOGRAD = 5,
  CLRN_CONV_GROUPED = 6
};
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
  long vec, cout_block, pix_block;   /**< CONV_VEC, CONV_COUT_BLOCK, CONV_PIX_BLOCK */
  long direct_wg, blocked_wg;        /**< CONV_WG, CONV_BLOCK_WG */
  long auto_blocked;                 /**< CONV_AUTO_BLOCKED */
  long pixels_first;                 /**< CONV_PIXELS_FIRST */
  long gemm_mr, gemm_nr, gemm_wg;    /**< GEMM_MR, GEMM_NR, GEMM_WG */
  long gemm_nv;                      /**< GEMM_NV (0 counts as 1) */
  long auto_gemm;                    /**< CONV_AUTO_GEMM */
  long gemm_min_plane;               /**< GEMM_MIN_PLANE */
  long subsample;                    /**< CONV_SUBSAMPLE */
  long igemm_bm, igemm_bn, igemm_bk; /**< IGEMM_BM, IGEMM_BN, IGEMM_BK */
  long igemm_tm, igemm_tn;           /**< IGEMM_TM, IGEMM_TN */
  long auto_igemm;                   /**< CONV_AUTO_IGEMM */
  long wino_tile, wino_min_plane;    /**< WINO_TILE, WINO_MIN_PLANE */
  long wino_mr, wino_nr, wino_wg;    /**< WINO_MR, WINO_NR, WINO_WG */
  long wino_xform_wg;                /**< WINO_XFORM_WG */
  long grouped_max_cout;             /**< GROUPED_MAX_COUT */
  clrn_tuned_convs tuned; /**< the tuning file's per-layer choices (plan/conv_candidates.h) */
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
  int variant; /**< CLRN_CONV_DIRECT, _BLOCKED, _GEMM, _IGEMM, _WINOGRAD or _GROUPED, never AUTO */
  const char *program;            /**< kernel program: "conv2d", "conv2d_gemm", "conv2d_igemm",
                                       "conv2d_winograd" or "conv2d_grouped" */
  const char *kernel_name;        /**< kernel of that program (winograd: its GEMM) */
  int vec, cout_block, pix_block; /**< blocked: CONV_VEC, CONV_COUT_BLOCK, CONV_PIX_BLOCK;
                                       gemm: GEMM_NR, GEMM_MR, GEMM_NV * GEMM_NR;
                                       igemm: 4, IGEMM_BM, IGEMM_BN;
                                       winograd: WINO_NR, WINO_MR, WINO_NR;
                                       grouped: 16, 4 or 8 channels, 16 pixels */
  int tile;                    /**< winograd: the output tile m of F(m x m, 3x3), 4 or 6; else 0 */
  size_t transform_work_group; /**< winograd: WINO_XFORM_WG, its transforms' work-group size */
  int blocks_g; /**< output-channel blocks per group (blocked, gemm, igemm, winograd, grouped),
                     else 0 */
  int depth, micro_m, micro_n; /**< igemm: IGEMM_BK, IGEMM_TM, IGEMM_TN (else 0) */
  size_t work_group; /**< wanted work-group size along dimension 0 (igemm: the exact one) */
  int pixels_first;  /**< CONV_PIXELS_FIRST: 0 never, 1 always, 2 when the weight is bigger */
  bool tuned;        /**< chosen by the tuning file rather than the profile alone */
  bool half;         /**< weights and activations stored as half (CLRN_PRECISION_FP16) */
  bool tf32;         /**< MMA: TF32 tensor-core inputs (else f16 from half storage) */
  bool subsample;    /**< an unpadded strided 1x1 convolution (blocked or gemm) that reads a
                          copy of every stride-th input pixel and runs with stride 1 */
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

/** Whether the Winograd variant can run a convolution of this shape: 3x3,
 * stride 1, one group (any padding). */
bool clrn_conv2d_winograd_fits(const clrn_conv_shape *shape);

/** Resolves variant (CLRN_CONV_AUTO: the tuning file's choice for the shape and a
 * known plane, else Winograd where WINO_TILE is set, the shape fits and the plane
 * reaches WINO_MIN_PLANE, else from CONV_AUTO_GEMM, GEMM_MIN_PLANE,
 * GROUPED_MAX_COUT, CONV_AUTO_IGEMM, CONV_AUTO_BLOCKED, the shape and plane, the
 * output's height x width where known, else 0; GEMM or Winograd on a shape it does
 * not fit: blocked; Winograd forced while WINO_TILE is 0: F(4x4,3x3)) and fills
 * config with the tuning values that variant is launched with. */
void clrn_conv2d_configure(const clrn_conv_tuning *tuning, const clrn_conv_shape *shape, long plane,
                           int variant, clrn_conv2d_config *config);

/** Builds the weight and epilogue arrays of config's variant from PyTorch's weight
 * layout and the optional bias, scale and shift (absent ones become 0, 1, 0). */
clrn_status clrn_conv2d_pack(const clrn_conv_shape *shape, const clrn_conv2d_config *config,
                             const float *weight, const float *bias, const float *scale,
                             const float *shift, clrn_conv2d_packed *packed);

/** clrn_conv2d_pack for the Winograd variant (conv2d_wino_pack.c): the weight
 * transformed as G g G^T in double, rounded once to float, packed as
 * [A*A][blocks][in_c][WINO_MR]; the epilogue [3][blocks * WINO_MR]. */
clrn_status clrn_conv2d_winograd_pack(const clrn_conv_shape *shape,
                                      const clrn_conv2d_config *config, const float *weight,
                                      const float *bias, const float *scale, const float *shift,
                                      clrn_conv2d_packed *packed);

/** Allocates packed's arrays, weights floats (zeroed) and an epilogue of 3 x channels,
 * and *channel, channels ints for clrn_conv2d_fill_epilogue (the caller frees it). On
 * failure frees all and fails with CLRN_STATUS_OUT_OF_HOST_MEMORY. */
clrn_status clrn_conv2d_packed_alloc(clrn_conv2d_packed *packed, size_t weights, size_t channels,
                                     int **channel);

/** Fills epilogue [3][count] with bias, scale and shift of output channel
 * channel[i], or 0, 1, 0 where absent or where i is padding (channel[i] < 0). */
void clrn_conv2d_fill_epilogue(float *epilogue, size_t count, const int *channel, const float *bias,
                               const float *scale, const float *shift);

/** Frees the arrays of packed (not packed itself). */
void clrn_conv2d_packed_free(clrn_conv2d_packed *packed);

/** "direct", "blocked", "gemm", "igemm", "winograd", "grouped" (or "auto" for AUTO). */
const char *clrn_conv2d_variant_string(int variant);

/** Writes the variant and its parameters into text: "direct wg64",
 * "blocked oc16x6 v8 wg4 pf2" (output channels x pixels per work-item, vector
 * width, work-group size, CONV_PIXELS_FIRST), "gemm oc8x16 wg4 pf2",
 * "igemm 64x32x16 t4x4 wg128" (IGEMM_BM x IGEMM_BN x IGEMM_BK, register tile
 * IGEMM_TM x IGEMM_TN, work-group size), "winograd F4 oc8x16 wg4 pf2"
 * (F(4x4,3x3), channels x tiles of its GEMM), "grouped oc4x16 wg4". */
void clrn_conv2d_config_describe(const clrn_conv2d_config *config, char *text, size_t size);

/** The zero-padded input planes (height, width) the blocked and grouped variants
 * read for an output of out_h x out_w: as far as the windows reach, and for the
 * grouped variant as far as its last 16-pixel row tile's vector loads reach; for
 * a subsampled 1x1 convolution (config->subsample) the output's plane.
 * Returns false (0 x 0) when the convolution reads its input directly. */
bool clrn_conv2d_padded_plane(const clrn_conv_shape *shape, const clrn_conv2d_config *config,
                              int out_h, int out_w, long long *padded_h, long long *padded_w);

/** Bytes of the zero-padded input copy the blocked and grouped variants read, or
 * of the transformed tiles Winograd keeps, per image, for an output of out_h x
 * out_w (0 when the convolution needs no workspace). Winograd's count rounds one
 * image's tiles up to its GEMM's vector, so batch times it is always enough. */
size_t clrn_conv2d_padded_bytes(const clrn_conv_shape *shape, const clrn_conv2d_config *config,
                                int out_h, int out_w);

/** Floats of Winograd's workspace for a batch of tiles: the transformed input
 * [A*A][in_c][tpad] then the GEMM's result [A*A][kpad][tpad], A = tile + 2, tpad
 * tiles rounded up to config's vector, kpad the output channels rounded up to
 * its block. */
size_t clrn_conv2d_winograd_floats(const clrn_conv_shape *shape, const clrn_conv2d_config *config,
                                   size_t tiles);

#endif
