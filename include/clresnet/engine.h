/* An engine runs one ResNet across one or more devices, of one vendor or several.
 * Each device gets its own context, queues, compiled programs, weights and buffers
 * (devices of different platforms cannot share a cl_mem). A batch is split into
 * per-device shards in proportion to each device's measured speed, the shards run
 * concurrently (one host thread per device), and the results are gathered in
 * input order: they do not depend on the split.
 *
 * A device whose shard fails (its queue reports an error) is dropped for good with a
 * warning through the log callback naming it, and its shard runs again on the
 * devices left; a run fails only when no device is left. CLRN_FAULT=device:N:after:K
 * makes device N fail after K runs, for tests.
 *
 * Speeds are measured on first use with a short run and cached in the kernel
 * cache folder (file calibration.txt), keyed by device, driver and model shape.
 */
#ifndef CLRESNET_ENGINE_H
#define CLRESNET_ENGINE_H

#include "clresnet/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How an engine is made. Start from clrn_engine_options_default(). */
typedef struct clrn_engine_options {
  clrn_model_options model;        /**< per-device model options */
  bool profiling;                  /**< record OpenCL profiling timestamps (for traces) */
  bool recalibrate;                /**< measure device speeds even when cached */
  const double *speeds;            /**< if not NULL: one relative speed per device, used instead
                                        of calibration (e.g. {1, 1} for an even split) */
  clrn_build_progress_fn progress; /**< kernel compilation progress, per device */
  void *progress_user_data;
  /** offline-compiled kernel binaries (see clrn_context_options.kernel_binaries);
   * NULL: CLRN_KERNEL_BINARIES when set */
  const char *kernel_binaries;
  /** write every kernel program built, source and options, into this existing
   * folder (see clrn_context_options.kernel_export); NULL: none */
  const char *kernel_export;
} clrn_engine_options;

/** Fills options with the defaults (model defaults, no profiling). */
CLRN_API void clrn_engine_options_default(clrn_engine_options *options);

typedef struct clrn_engine clrn_engine;

/** Builds the model on each of count devices. With more than one device the
 * speeds are calibrated (or read from the cache) here. */
CLRN_API clrn_status clrn_engine_create(const clrn_device_info *devices, size_t count,
                                        const clrn_weights *weights,
                                        const clrn_engine_options *options, clrn_engine **engine);

/** Runs batch images (NCHW float32) and writes batch*num_classes logits and, if not
 * NULL, probabilities, in input order. A failing device's shard is rerun on the
 * others (see above); an error means no device was left, or a single device failed. */
CLRN_API clrn_status clrn_engine_run(clrn_engine *engine, const float *input, int batch,
                                     float *logits, float *probabilities);

/** Warms the engine up for runs of batch images: on each device, runs its model on
 * zeros at every size that device launches in a clrn_engine_run() of batch images
 * (its shard of the split, and the shard's last piece when the shard is larger than
 * the model's maximum batch; see clrn_model_warm_up()), so kernels that the driver
 * compiles at their first launch are compiled now. progress, if not NULL, is called
 * once with done 0 before the first run, then after each warm-up run with done of
 * total runs over all devices (compiled is true). Cheap when the driver's own kernel cache is warm:
 * then it costs the runs. */
CLRN_API clrn_status clrn_engine_warm_up(clrn_engine *engine, int batch,
                                         clrn_build_progress_fn progress, void *user_data);

/** Number of devices. */
CLRN_API size_t clrn_engine_device_count(const clrn_engine *engine);

/** The model on device i (its context tells the device). */
CLRN_API clrn_model *clrn_engine_model(const clrn_engine *engine, size_t i);

/** Device i's measured speed in images per second (0 with a single device, which
 * is not calibrated). */
CLRN_API double clrn_engine_speed(const clrn_engine *engine, size_t i);

/** Images device i ran in the last clrn_engine_run(). */
CLRN_API int clrn_engine_last_shard(const clrn_engine *engine, size_t i);

/** Number of output classes. */
CLRN_API int clrn_engine_num_classes(const clrn_engine *engine);

/** Releases every device's model and context. NULL is ignored. */
CLRN_API void clrn_engine_release(clrn_engine *engine);

/** Splits batch images over count devices in proportion to speeds (largest
 * remainder; every device with a positive speed may get images). A speed that is
 * not finite and positive (inf, NaN, zero, negative) gets none; equal shares when
 * no speed is usable. Writes count shard sizes, each in [0, batch], summing to batch. */
CLRN_API void clrn_engine_split(const double *speeds, size_t count, int batch, int *shards);

#ifdef __cplusplus
}
#endif
#endif
