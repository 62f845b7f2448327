/* The error bound of a Winograd convolution F(m x m, 3x3), for judging the
 * winograd conv2d variant against the plain-C reference (ref_conv2d.h).
 *
 * The direct bound of ref_conv2d_tolerance() does not hold for Winograd: its
 * transforms add and subtract multiples of the inputs, so the rounding error is
 * bounded by the same computation done on absolute values (see ref_winograd.c).
 * This file computes that magnitude per output; ref_conv2d_tolerance() then
 * takes it with ref_winograd_terms() in place of the direct sum. */
#ifndef CLRN_TESTS_REF_WINOGRAD_H
#define CLRN_TESTS_REF_WINOGRAD_H

#include "ref_conv2d.h"

/** Roundings on the longest path of F(tile x tile, 3x3) with in_channels inputs:
 * the K of gamma_K in the bound. */
int ref_winograd_terms(const ref_conv2d_shape *shape, int tile);

/** Writes, per output of the 3x3 stride-1 one-group convolution shape with
 * tile 4 or 6, |scale| * sum over channels of |A^T| (|G| |g| |G^T| . |B^T| |d| |B|) |A|
 * at the output's place in its tile, d the input tile (zeros outside the input),
 * into mag ([n][out_channels][out_h][out_w]). scale may be NULL (1). */
void ref_winograd_magnitude(const ref_conv2d_shape *shape, int tile, const float *input,
                            const float *weight, const float *scale, double *mag);

#endif
