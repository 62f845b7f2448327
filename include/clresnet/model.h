/* A ResNet ready to run on one device.
 *
 * A clrn_model is the network built on one clrn_context from clrn_weights (see
 * clresnet/weights.h): BatchNorm folded into the convolutions (unless fusion is
 * off), device buffers planned by liveness, kernels enqueued with event
 * dependencies.
 *
 * Threads: a clrn_model may be run by one thread at a time; two models, on the
 * same device or not, may run concurrently from different threads.
 */
#ifndef CLRESNET_MODEL_H
#define CLRESNET_MODEL_H

#include "clresnet/context.h"
#include "clresnet/weights.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How a model is built. Start from clrn_model_options_default(). */
typedef struct clrn_model_options {
  bool fuse;           /**< fold BatchNorm into convolutions and fuse ReLU/add (default true) */
  int max_batch;       /**< images per enqueue; buffers are sized for it (default 8) */
  int height;          /**< input height (default 224; at least 32) */
  int width;           /**< input width (default 224; at least 32) */
  size_t memory_limit; /**< device bytes the model may use (0: 80% of global memory) */
  /** run the model once on zeros at creation (see clrn_model_warm_up()) at its
   * maximum batch (default false) */
  bool warm_up;
  clrn_precision precision; /**< storage and arithmetic (default CLRN_PRECISION_FP32) */
} clrn_model_options;

/** Fills options with the defaults. */
CLRN_API void clrn_model_options_default(clrn_model_options *options);

typedef struct clrn_model clrn_model;

/** Builds the network on a context: uploads the weights, plans buffers and creates
 * the kernels. If the buffers for max_batch images do not fit, the model is built
 * for a smaller batch (see clrn_model_max_batch()): max_batch is halved until the
 * weights and buffers fit in memory_limit (default 80% of the device's global
 * memory) with every buffer under the device's largest allocation, and halved again
 * while an allocation fails. Larger runs are then split into batches that fit. */
CLRN_API clrn_status clrn_model_create(clrn_context *context, const clrn_weights *weights,
                                       const clrn_model_options *options, clrn_model **model);

/** Runs batch images (NCHW float32, preprocessed, batch*3*height*width floats) and
 * writes batch*num_classes logits; probabilities (softmax of the logits, same size)
 * may be NULL. Any batch size: batches larger than the model's maximum are run in
 * pieces, with the upload of each piece overlapping the compute of the previous. */
CLRN_API clrn_status clrn_model_run(clrn_model *model, const float *input, int batch, float *logits,
                                    float *probabilities);

/** Runs the model on zeros at every size a clrn_model_run() of batch images
 * launches (the first piece, and the last, smaller one when batch is run in pieces:
 * at most two runs), discarding the results. Drivers that compile or specialise
 * kernels at their first launch (PoCL compiles each kernel for its work-group size
 * then) do it here rather than in the first real run; a driver that caches its
 * compiled kernels (PoCL: POCL_CACHE_DIR, by default ~/.cache/pocl) makes a second
 * warm-up cost only the runs themselves. */
CLRN_API clrn_status clrn_model_warm_up(clrn_model *model, int batch);

/** The largest batch one enqueue runs (may be below the requested max_batch). */
CLRN_API int clrn_model_max_batch(const clrn_model *model);

/** Device memory of the model in bytes: weights plus every buffer (activations,
 * double-buffered input and outputs, padded-input workspaces), the same count the
 * memory policy of clrn_model_create() fits the batch by. */
CLRN_API size_t clrn_model_device_bytes(const clrn_model *model);

/** Number of output classes. */
CLRN_API int clrn_model_num_classes(const clrn_model *model);

/** The context the model runs on. */
CLRN_API clrn_context *clrn_model_context(const clrn_model *model);

/** One device command of the last clrn_model_run(), timed by OpenCL profiling. */
typedef struct clrn_trace_record {
  const char *name;   /**< "layer3.2.conv2", "input", "logits", "probabilities" */
  const char *kernel; /**< "conv2d/blocked", "batchnorm", ...; "upload" or "download" */
  const char *choice; /**< the algorithm and parameters the layer runs with, as its plan
                           chose them ("blocked oc16x6 v8 wg4 pf2"); "" without a choice */
  int queue;          /**< 0 main path, 1 downsample branch, 2 transfers */
  int chunk;          /**< which piece of the batch (0 when it fit in one) */
  int batch;          /**< images in that piece */
  double macs;        /**< multiply-adds of the command (0 for transfers and cheap ops) */
  size_t bytes;       /**< bytes moved (transfers) */
  char shape[48];     /**< output shape, "8x256x56x56" */
  uint64_t queued_ns, start_ns, end_ns; /**< device clock, nanoseconds */
} clrn_trace_record;

/** The commands of the last clrn_model_run(), in enqueue order. Needs a context
 * created with profiling on (otherwise *count is 0). Valid until the next run or
 * the model's release. */
CLRN_API clrn_status clrn_model_trace(const clrn_model *model, const clrn_trace_record **records,
                                      size_t *count);

/** Releases the model's device objects. NULL is ignored. */
CLRN_API void clrn_model_release(clrn_model *model);

#ifdef __cplusplus
}
#endif
#endif
