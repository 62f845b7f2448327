/* Plain-C reference convolution, the judge of every conv2d kernel.
 *
 * A direct six-loop convolution with PyTorch's Conv2d semantics (dilation 1,
 * zero padding, groups) and clresnet's fused epilogue
 *     y = relu?((conv + bias) * scale + shift + residual),
 * accumulated in double. Besides the result it returns, for every output, the
 * magnitude sum S = |scale| * sum |w * x| over the terms of its dot product, which
 * bounds the rounding error any fp32 summation order can make (see
 * ref_conv2d_tolerance()). Slow on purpose: simple enough to check by eye. */
#ifndef CLRN_TESTS_REF_CONV2D_H
#define CLRN_TESTS_REF_CONV2D_H

#include <stdbool.h>
#include <stddef.h>

/** Shape of a reference convolution. */
typedef struct ref_conv2d_shape {
  int n, in_channels, in_h, in_w;
  int out_channels, kernel_h, kernel_w;
  int stride_h, stride_w, pad_h, pad_w;
  int groups;
  bool relu;
} ref_conv2d_shape;

/** Output height and width (PyTorch: floor((in + 2 pad - k) / stride) + 1). */
void ref_conv2d_out_size(const ref_conv2d_shape *shape, int *out_h, int *out_w);

/** Computes the convolution of input [n][in_channels][in_h][in_w] with weight
 * [out_channels][in_channels/groups][kernel_h][kernel_w]. bias, scale, shift
 * ([out_channels]) and residual (output-shaped) may be NULL (0, 1, 0, 0). Writes the
 * result into out and, when mag is not NULL, the magnitudes into mag, both
 * [n][out_channels][out_h][out_w] doubles. A second record, eps_terms, when not
 * NULL, receives per output the magnitude A that bounds the epilogue's rounding:
 * (|conv| + |bias|) * |scale| + |shift| + |residual|. */
void ref_conv2d(const ref_conv2d_shape *shape, const float *input, const float *weight,
                const float *bias, const float *scale, const float *shift, const float *residual,
                double *out, double *mag, double *epilogue_mag);

/** Number of products summed for each output: (in_channels/groups)*kernel_h*kernel_w. */
int ref_conv2d_terms(const ref_conv2d_shape *shape);

/** The largest error an fp32 kernel may make on one output (see ref_conv2d.c for
 * the derivation): gamma_K * mag + 5u * (epilogue_mag + gamma_K * mag), with
 * u = 2^-24 and gamma_K = K u / (1 - K u) for K = ref_conv2d_terms(). */
double ref_conv2d_tolerance(int terms, double mag, double epilogue_mag);

#endif
