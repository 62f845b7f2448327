/* Internal access to a clrn_weights: reading one tensor as float32 by name. The
 * weights come from a mapped safetensors file or from a seeded generator (for
 * benchmarks); either way a tensor is produced on request into the caller's
 * buffer, so the host never holds a second copy of the whole model. */
#ifndef CLRN_MODEL_WEIGHTS_H
#define CLRN_MODEL_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "clresnet/model.h"

/** Writes tensor name, whose shape (ndim dims) the caller expects, into out as
 * float32 (product(shape) floats). */
clrn_status clrn_weights_read(const clrn_weights *weights, const char *name, int ndim,
                              const int64_t *shape, float *out);

#endif
