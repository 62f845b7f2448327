/* Device speed calibration for splitting batches across devices: a short timed
 * run of a model, cached on disk beside the kernel cache (calibration.txt in the
 * cache folder: one "<images per second>\t<key>" line per device and model shape). */
#ifndef CLRN_SCHED_CALIBRATE_H
#define CLRN_SCHED_CALIBRATE_H

#include "clresnet/model.h"

/** Measures (or reads from the cache unless recalibrate) the images per second of
 * model on its device, for weights of arch at height x width. */
clrn_status clrn_calibrate(clrn_model *model, const clrn_model_options *options, bool recalibrate,
                           double *speed);

#endif
