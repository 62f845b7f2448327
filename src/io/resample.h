/* Internal: PIL's antialiased bilinear resize of 8-bit RGB (resample.c), computed
 * for a window of the output only. */
#ifndef CLRN_IO_RESAMPLE_H
#define CLRN_IO_RESAMPLE_H

#include <stdint.h>

#include "clresnet/io.h"

/** PIL's fixed-point weights carry this many fractional bits (32 - 8 - 2). */
#define CLRN_RESAMPLE_PRECISION_BITS 22

/** One axis of the resample, for output indices [first, first + count): input
 * bounds and fixed-point weights exactly as PIL's precompute_coeffs() followed by
 * normalize_coeffs_8bpc() compute them for those indices. */
typedef struct clrn_resample_axis {
  int count;        /**< output indices covered */
  int ksize;        /**< weights per output index (PIL's ksize) */
  int *bounds;      /**< per output index: first input index, number of inputs */
  int32_t *weights; /**< count * ksize weights; those past an index's inputs are 0 */
} clrn_resample_axis;

/** Computes an axis resampling in_size samples to out_size (both >= 1). */
clrn_status clrn_resample_axis_init(clrn_resample_axis *axis, int in_size, int out_size, int first,
                                    int count);

/** Frees an axis and zeroes it. */
void clrn_resample_axis_free(clrn_resample_axis *axis);

/** Writes the pixels [x0, x0 + w) x [y0, y0 + h) of PIL's
 * image.resize((out_width, out_height), Image.BILINEAR) into out (w*h*3 bytes,
 * RGB), bit for bit: the horizontal pass (only when the width changes) on 8-bit
 * intermediates, then the vertical pass (only when the height changes). */
clrn_status clrn_resample_window(const clrn_image *image, int out_width, int out_height, int x0,
                                 int y0, int w, int h, unsigned char *out);

#endif
