/* The neural-network ops clresnet builds ResNets from, usable on their own to
 * build other CNNs. Tensors are float32, NCHW, contiguous, in device buffers of
 * the op's context. Every enqueue function takes an in-order command queue of
 * that context, an OpenCL wait list and an optional event out-parameter, and
 * returns without waiting: chain ops through events (or the queue's order) and
 * wait once at the end.
 *
 * Ops that hold parameters (conv2d, batchnorm, linear) are objects: create
 * uploads the parameters once (in the layout the chosen kernel variant wants),
 * enqueue runs them, release frees them. An op object may be used by one thread
 * at a time; stateless ops may be called from any thread. Kernel objects are made
 * once per context and shared by its ops; a launch holds its kernel's lock while
 * it sets the arguments and enqueues.
 *
 * Output shapes are the caller's to allocate; enqueue functions check that every
 * tensor's shape agrees with the op and fail with CLRN_STATUS_INVALID_ARGUMENT
 * when not (the library's own scheduler, which sizes every tensor from a checked
 * plan, calls unchecked launchers behind these functions instead). An output must
 * not overlap an input unless the op says it may.
 */
#ifndef CLRESNET_OPS_H
#define CLRESNET_OPS_H

#include "clresnet/context.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A float32 NCHW tensor: n*c*h*w floats from the start of buffer. */
typedef struct clrn_tensor {
  cl_mem buffer;
  int n, c, h, w;
} clrn_tensor;

/** Number of elements of a tensor (n*c*h*w). */
CLRN_API size_t clrn_tensor_elements(const clrn_tensor *tensor);

/* ---- conv2d ---------------------------------------------------------------- */

/** Which kernel runs a convolution. AUTO lets the device profile and the shape
 * decide; the others force one (for tests and benchmarks). DIRECT is the
 * simplest correct kernel and runs everywhere. */
typedef enum clrn_conv2d_variant {
  CLRN_CONV2D_VARIANT_AUTO = 0,
  CLRN_CONV2D_VARIANT_DIRECT,   /**< one output element per work-item */
  CLRN_CONV2D_VARIANT_BLOCKED,  /**< register-blocked over output channels and pixels */
  CLRN_CONV2D_VARIANT_GEMM,     /**< 1x1 stride-1 unpadded ungrouped only: a GEMM micro-kernel */
  CLRN_CONV2D_VARIANT_IGEMM,    /**< implicit GEMM with local-memory tiles (GPUs); any shape */
  CLRN_CONV2D_VARIANT_WINOGRAD, /**< 3x3 stride-1 ungrouped only: Winograd F(4x4,3x3) or F(6x6,3x3)
                                 */
  CLRN_CONV2D_VARIANT_GROUPED, /**< vectors of pixels, a few channels of one group: grouped convs */
  CLRN_CONV2D_VARIANT_COUNT
} clrn_conv2d_variant;

/** Shape of a 2-D convolution (PyTorch's Conv2d semantics, dilation 1). */
typedef struct clrn_conv2d_desc {
  int in_channels, out_channels;
  int kernel_h, kernel_w;
  int stride_h, stride_w;
  int pad_h, pad_w;
  int groups; /**< 1 for ordinary convolution; must divide both channel counts */
  bool relu;  /**< apply ReLU last in the epilogue */
  clrn_conv2d_variant variant;
} clrn_conv2d_desc;

typedef struct clrn_conv2d clrn_conv2d;

/** Output height and width of a convolution, or INVALID_ARGUMENT when the input is
 * smaller than the kernel allows. */
CLRN_API clrn_status clrn_conv2d_output_size(const clrn_conv2d_desc *desc, int in_h, int in_w,
                                             int *out_h, int *out_w);

/** Creates a convolution with its fused epilogue
 *     y = relu?( (conv(x, weight) + bias) * scale + shift + residual )
 * weight is [out_channels][in_channels/groups][kernel_h][kernel_w] (PyTorch order);
 * bias, scale and shift hold out_channels floats each and may be NULL (0, 1, 0).
 * A folded BatchNorm is scale = gamma/sqrt(var+eps), shift = beta - mean*scale. */
CLRN_API clrn_status clrn_conv2d_create(clrn_context *context, const clrn_conv2d_desc *desc,
                                        const float *weight, const float *bias, const float *scale,
                                        const float *shift, clrn_conv2d **conv);

/** Enqueues the convolution. residual (may be NULL) has the output's shape and
 * may not alias the output. */
CLRN_API clrn_status clrn_conv2d_enqueue(clrn_conv2d *conv, cl_command_queue queue,
                                         const clrn_tensor *input, const clrn_tensor *residual,
                                         const clrn_tensor *output, cl_uint num_wait,
                                         const cl_event *wait, cl_event *event);

/** Device bytes of scratch the convolution uses for n images of in_h x in_w (the
 * blocked kernel reads a zero-padded copy of the input); 0 when it needs none. */
CLRN_API size_t clrn_conv2d_workspace_size(const clrn_conv2d *conv, int n, int in_h, int in_w);

/** Lends the convolution a scratch buffer of bytes (at least
 * clrn_conv2d_workspace_size() for the inputs it will get; it is retained until
 * the convolution is released). Without one, the convolution allocates and keeps
 * its own, grown as needed. Convolutions that share a workspace must be enqueued
 * on one in-order queue. */
CLRN_API clrn_status clrn_conv2d_set_workspace(clrn_conv2d *conv, cl_mem buffer, size_t bytes);

/** The variant this convolution runs ("direct", "blocked", ...). */
CLRN_API const char *clrn_conv2d_variant_name(const clrn_conv2d *conv);

/** Releases a convolution. NULL is ignored. */
CLRN_API void clrn_conv2d_release(clrn_conv2d *conv);

/* ---- batchnorm (inference) -------------------------------------------------- */

typedef struct clrn_batchnorm clrn_batchnorm;

/** Creates an inference BatchNorm over channels:
 *     y = (x - mean) / sqrt(var + eps) * weight + bias
 * weight and bias may be NULL (1 and 0: affine=False). */
CLRN_API clrn_status clrn_batchnorm_create(clrn_context *context, int channels, const float *mean,
                                           const float *var, const float *weight, const float *bias,
                                           float eps, clrn_batchnorm **batchnorm);

/** Enqueues the BatchNorm. output may be the same tensor as input. */
CLRN_API clrn_status clrn_batchnorm_enqueue(clrn_batchnorm *batchnorm, cl_command_queue queue,
                                            const clrn_tensor *input, const clrn_tensor *output,
                                            cl_uint num_wait, const cl_event *wait,
                                            cl_event *event);

/** Releases a BatchNorm. NULL is ignored. */
CLRN_API void clrn_batchnorm_release(clrn_batchnorm *batchnorm);

/* ---- elementwise ------------------------------------------------------------ */

/** output = max(input, 0). output may be the same tensor as input. */
CLRN_API clrn_status clrn_relu_enqueue(clrn_context *context, cl_command_queue queue,
                                       const clrn_tensor *input, const clrn_tensor *output,
                                       cl_uint num_wait, const cl_event *wait, cl_event *event);

/** output = a + b, then ReLU when relu is true. output may be a or b. */
CLRN_API clrn_status clrn_add_enqueue(clrn_context *context, cl_command_queue queue,
                                      const clrn_tensor *a, const clrn_tensor *b,
                                      const clrn_tensor *output, bool relu, cl_uint num_wait,
                                      const cl_event *wait, cl_event *event);

/* ---- pooling ---------------------------------------------------------------- */

/** Window of a max or average pooling (PyTorch's MaxPool2d/AvgPool2d semantics:
 * padding pads with -inf for max and zeros for average; with ceil_mode a window
 * may start in the padding only if it starts inside the input or left padding). */
typedef struct clrn_pool2d_desc {
  int kernel_h, kernel_w;
  int stride_h, stride_w;
  int pad_h, pad_w; /**< at most half the kernel, as PyTorch requires */
  bool ceil_mode;
  bool count_include_pad; /**< average pooling: divide by the full window */
  /** Padding after the input (bottom rows, right columns) minus pad_h and pad_w:
   * ONNX's asymmetric pads and auto_pad SAME_UPPER / SAME_LOWER. 0 (PyTorch) pads
   * both ends alike; the padding after must also be at least 0 and at most half
   * the kernel. Average pooling with count_include_pad takes only 0. */
  int pad_bottom_extra, pad_right_extra;
} clrn_pool2d_desc;

/** Output height and width of a pooling, or INVALID_ARGUMENT. */
CLRN_API clrn_status clrn_pool2d_output_size(const clrn_pool2d_desc *desc, int in_h, int in_w,
                                             int *out_h, int *out_w);

/** Max pooling. */
CLRN_API clrn_status clrn_maxpool2d_enqueue(clrn_context *context, cl_command_queue queue,
                                            const clrn_pool2d_desc *desc, const clrn_tensor *input,
                                            const clrn_tensor *output, cl_uint num_wait,
                                            const cl_event *wait, cl_event *event);

/** Average pooling. */
CLRN_API clrn_status clrn_avgpool2d_enqueue(clrn_context *context, cl_command_queue queue,
                                            const clrn_pool2d_desc *desc, const clrn_tensor *input,
                                            const clrn_tensor *output, cl_uint num_wait,
                                            const cl_event *wait, cl_event *event);

/** Adaptive average pooling to output's h x w (PyTorch's AdaptiveAvgPool2d: the
 * window of output i spans floor(i*H/oh) .. ceil((i+1)*H/oh)). ResNet uses 1x1. */
CLRN_API clrn_status clrn_adaptive_avgpool2d_enqueue(clrn_context *context, cl_command_queue queue,
                                                     const clrn_tensor *input,
                                                     const clrn_tensor *output, cl_uint num_wait,
                                                     const cl_event *wait, cl_event *event);

/* ---- linear ----------------------------------------------------------------- */

typedef struct clrn_linear clrn_linear;

/** Creates a fully connected layer y = x W^T + b, run by CLBlast: SGEMM, or SGEMV
 * for batches of at most the profile's LINEAR_GEMV_MAX_BATCH (default 1), which is
 * much faster there on some devices. weight is [out_features][in_features]; bias
 * (out_features floats) may be NULL. */
CLRN_API clrn_status clrn_linear_create(clrn_context *context, int in_features, int out_features,
                                        const float *weight, const float *bias,
                                        clrn_linear **linear);

/** Enqueues the layer: input has c*h*w == in_features (flattened per sample),
 * output has c == out_features and h == w == 1. */
CLRN_API clrn_status clrn_linear_enqueue(clrn_linear *linear, cl_command_queue queue,
                                         const clrn_tensor *input, const clrn_tensor *output,
                                         cl_uint num_wait, const cl_event *wait, cl_event *event);

/** Releases a linear layer. NULL is ignored. */
CLRN_API void clrn_linear_release(clrn_linear *linear);

/* ---- softmax ---------------------------------------------------------------- */

/** Softmax over the channel dimension for every (n, h, w), computed stably
 * (the maximum is subtracted first). output may be the same tensor as input. */
CLRN_API clrn_status clrn_softmax_enqueue(clrn_context *context, cl_command_queue queue,
                                          const clrn_tensor *input, const clrn_tensor *output,
                                          cl_uint num_wait, const cl_event *wait, cl_event *event);

#ifdef __cplusplus
}
#endif
#endif
