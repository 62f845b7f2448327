/* Plain-C references for the ops of include/clresnet/ops.h (all but conv2d): the
 * simplest loops that follow PyTorch's definitions, with sums accumulated in double.
 * They are the judges of the OpenCL kernels. Tensors are NCHW, contiguous. Ops whose
 * float result is exact (relu, add, maxpool) produce float; the others produce
 * double, so a test can measure the kernel's own rounding error. */
#ifndef CLRN_TESTS_REF_OPS_H
#define CLRN_TESTS_REF_OPS_H

#include <stdbool.h>
#include <stddef.h>

/** y = (x - mean) / sqrt(var + eps) * weight + bias per channel; weight and bias
 * may be NULL (1 and 0). x holds n*c*hw floats. */
void ref_batchnorm(const float *x, int n, int c, int hw, const float *mean, const float *var,
                   const float *weight, const float *bias, float eps, double *y);

/** y = x < 0 ? +0 : x (NaN and -0 pass through, as torch.relu does). */
void ref_relu(const float *x, size_t count, float *y);

/** y = a + b in float (IEEE addition is correctly rounded), then ReLU if relu. */
void ref_add(const float *a, const float *b, size_t count, bool relu, float *y);

/** Output extent of one pooled dimension by PyTorch's rule, or 0 when the pooling
 * is invalid (pad over half the kernel, no window fits). */
int ref_pool_extent(int in, int kernel, int stride, int pad, bool ceil_mode);

/** ref_pool_extent with pad before the input and pad_end after it (ONNX's
 * asymmetric padding). */
int ref_pool_extent_ends(int in, int kernel, int stride, int pad, int pad_end, bool ceil_mode);

/** MaxPool2d: -inf padding, NaN propagates. Output oh x ow from ref_pool_extent. */
void ref_maxpool2d(const float *x, int n, int c, int h, int w, int kh, int kw, int sh, int sw,
                   int ph, int pw, bool ceil_mode, float *y);

/** ref_maxpool2d with ph_end, pw_end of padding after the input. */
void ref_maxpool2d_ends(const float *x, int n, int c, int h, int w, int kh, int kw, int sh, int sw,
                        int ph, int pw, int ph_end, int pw_end, bool ceil_mode, float *y);

/** AvgPool2d with PyTorch's divisor: the window clipped to the padded input when
 * count_include_pad, else the number of input elements in it. */
void ref_avgpool2d(const float *x, int n, int c, int h, int w, int kh, int kw, int sh, int sw,
                   int ph, int pw, bool ceil_mode, bool count_include_pad, double *y);

/** ref_avgpool2d with ph_end, pw_end of padding after the input. */
void ref_avgpool2d_ends(const float *x, int n, int c, int h, int w, int kh, int kw, int sh, int sw,
                        int ph, int pw, int ph_end, int pw_end, bool ceil_mode,
                        bool count_include_pad, double *y);

/** AdaptiveAvgPool2d to oh x ow: rows floor(i*h/oh) .. ceil((i+1)*h/oh). */
void ref_adaptive_avgpool2d(const float *x, int n, int c, int h, int w, int oh, int ow, double *y);

/** y[n][o] = sum_i x[n][i] * weight[o][i] + bias[o]; bias may be NULL. */
void ref_linear(const float *x, int n, int in, int out, const float *weight, const float *bias,
                double *y);

/** Softmax over c for every (n, pixel) of an n x c x hw tensor. */
void ref_softmax(const float *x, int n, int c, int hw, double *y);

#endif
