/* The tuner behind `clresnet tune`: on one device, times every candidate algorithm
 * and tile size (plan/conv_candidates.c) for each distinct convolution shape of a
 * network and stores the fastest in the device's tuning file in the cache folder,
 * keyed by device name and driver version. Contexts made later for that device read
 * the file, so models, engines, `run` and `bench` use the choices without being asked
 * (CLRN_TUNING=off ignores the file). */
#ifndef CLRESNET_TUNE_H
#define CLRESNET_TUNE_H

#include "clresnet/device.h"
#include "clresnet/weights.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Called after each convolution shape: shapes done of total, the layer's name and
 * shape ("layer1.0.conv2 64->64 3x3/1 56x56"), the winner ("blocked CONV_VEC=16 ...")
 * and its time against the profile's own choice, in milliseconds per batch. */
typedef void (*clrn_tune_progress_fn)(size_t done, size_t total, const char *layer,
                                      const char *winner, double winner_ms, double profile_ms,
                                      void *user_data);

/** How the tuner runs. Start from clrn_tune_options_default(). */
typedef struct clrn_tune_options {
  int batch;                      /**< images per batch the layers are timed with (default 1) */
  int height, width;              /**< input size (default 224 x 224) */
  bool quick;                     /**< one value per parameter (a smoke run, not a real tuning) */
  size_t max_shapes;              /**< tune at most this many shapes, 0 for all (tests) */
  clrn_tune_progress_fn progress; /**< may be NULL */
  void *progress_user_data;
} clrn_tune_options;

/** Fills options with the defaults. */
CLRN_API void clrn_tune_options_default(clrn_tune_options *options);

/** Tunes the network of weights on device and writes the device's tuning file
 * (entries of other shapes already in a file of this device, driver and profile are
 * kept). On success the file's path is written into path (size bytes). Fails when
 * the cache folder is disabled or may not be used. */
CLRN_API clrn_status clrn_tune(const clrn_device_info *device, const clrn_weights *weights,
                               const clrn_tune_options *options, char *path, size_t size);

#ifdef __cplusplus
}
#endif

#endif
