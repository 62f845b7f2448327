/* IEEE 754 binary16 ("half") on the host: float to half with round-to-nearest-even,
 * as the kernels' vstore_half does, so values the host converts (weights, the
 * network input of --precision fp16) round exactly like the ones the device
 * stores. Overflow gives infinity, NaN stays NaN. */
#ifndef CLRN_BASE_HALF_H
#define CLRN_BASE_HALF_H

#include <stddef.h>
#include <stdint.h>

/** The binary16 bits of value, rounded to nearest even. */
uint16_t clrn_half_from_float(float value);

/** Converts count floats into count halves (out may not overlap in). */
void clrn_half_from_floats(const float *in, size_t count, uint16_t *out);

#endif
