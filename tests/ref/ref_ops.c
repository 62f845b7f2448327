/* Plain-C references for the non-convolution ops (see ref_ops.h). Written for
 * obviousness, not speed: direct loops over PyTorch's definitions. */
#include "ref_ops.h"

#include <math.h>

void ref_batchnorm(const float *x, int n, int c, int hw, const float *mean, const float *var,
                   const float *weight, const float *bias, float eps, double *y) {
  for (int b = 0; b < n; b++)
    for (int ch = 0; ch < c; ch++) {
      double w = weight ? weight[ch] : 1.0, s = bias ? bias[ch] : 0.0;
      double denominator = sqrt((double)var[ch] + (double)eps);
      for (int p = 0; p < hw; p++) {
        size_t i = ((size_t)b * c + ch) * hw + p;
        y[i] = ((double)x[i] - mean[ch]) / denominator * w + s;
      }
    }
}

void ref_relu(const float *x, size_t count, float *y) {
  for (size_t i = 0; i < count; i++)
    y[i] = x[i] < 0.0f ? 0.0f : x[i];
}

void ref_add(const float *a, const float *b, size_t count, bool relu, float *y) {
  for (size_t i = 0; i < count; i++) {
    float sum = a[i] + b[i];
    y[i] = relu && sum < 0.0f ? 0.0f : sum;
  }
}

int ref_pool_extent(int in, int kernel, int stride, int pad, bool ceil_mode) {
  return ref_pool_extent_ends(in, kernel, stride, pad, pad, ceil_mode);
}

int ref_pool_extent_ends(int in, int kernel, int stride, int pad, int pad_end, bool ceil_mode) {
  if (kernel < 1 || stride < 1 || pad < 0 || pad_end < 0 || 2 * pad > kernel ||
      2 * pad_end > kernel)
    return 0;
  double span = (double)(in + pad + pad_end - kernel) / stride;
  int out = (int)(ceil_mode ? ceil(span) : floor(span)) + 1;
  /* ceil_mode: the last window must start inside the input or the left padding */
  if (ceil_mode && (out - 1) * stride >= in + pad)
    out--;
  return out >= 1 ? out : 0;
}

void ref_maxpool2d(const float *x, int n, int c, int h, int w, int kh, int kw, int sh, int sw,
                   int ph, int pw, bool ceil_mode, float *y) {
  ref_maxpool2d_ends(x, n, c, h, w, kh, kw, sh, sw, ph, pw, ph, pw, ceil_mode, y);
}

void ref_maxpool2d_ends(const float *x, int n, int c, int h, int w, int kh, int kw, int sh, int sw,
                        int ph, int pw, int ph_end, int pw_end, bool ceil_mode, float *y) {
  int oh = ref_pool_extent_ends(h, kh, sh, ph, ph_end, ceil_mode),
      ow = ref_pool_extent_ends(w, kw, sw, pw, pw_end, ceil_mode);
  for (int plane = 0; plane < n * c; plane++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++) {
        float best = -INFINITY;
        for (int ky = 0; ky < kh; ky++)
          for (int kx = 0; kx < kw; kx++) {
            int iy = oy * sh - ph + ky, ix = ox * sw - pw + kx;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w)
              continue; /* padding is -inf: never the maximum */
            float v = x[((size_t)plane * h + iy) * w + ix];
            if (v > best || isnan(v))
              best = v;
          }
        y[((size_t)plane * oh + oy) * ow + ox] = best;
      }
}

void ref_avgpool2d(const float *x, int n, int c, int h, int w, int kh, int kw, int sh, int sw,
                   int ph, int pw, bool ceil_mode, bool count_include_pad, double *y) {
  ref_avgpool2d_ends(x, n, c, h, w, kh, kw, sh, sw, ph, pw, ph, pw, ceil_mode, count_include_pad,
                     y);
}

void ref_avgpool2d_ends(const float *x, int n, int c, int h, int w, int kh, int kw, int sh, int sw,
                        int ph, int pw, int ph_end, int pw_end, bool ceil_mode,
                        bool count_include_pad, double *y) {
  int oh = ref_pool_extent_ends(h, kh, sh, ph, ph_end, ceil_mode),
      ow = ref_pool_extent_ends(w, kw, sw, pw, pw_end, ceil_mode);
  for (int plane = 0; plane < n * c; plane++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++) {
        double sum = 0.0;
        int inside = 0, padded = 0;
        for (int ky = 0; ky < kh; ky++)
          for (int kx = 0; kx < kw; kx++) {
            int iy = oy * sh - ph + ky, ix = ox * sw - pw + kx;
            /* count_include_pad counts the padding, not what ceil_mode hangs past it */
            if (iy < h + ph_end && ix < w + pw_end)
              padded++;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w)
              continue;
            sum += x[((size_t)plane * h + iy) * w + ix];
            inside++;
          }
        y[((size_t)plane * oh + oy) * ow + ox] = sum / (count_include_pad ? padded : inside);
      }
}

void ref_adaptive_avgpool2d(const float *x, int n, int c, int h, int w, int oh, int ow, double *y) {
  for (int plane = 0; plane < n * c; plane++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++) {
        int y0 = (int)floor((double)oy * h / oh), y1 = (int)ceil((double)(oy + 1) * h / oh);
        int x0 = (int)floor((double)ox * w / ow), x1 = (int)ceil((double)(ox + 1) * w / ow);
        double sum = 0.0;
        for (int iy = y0; iy < y1; iy++)
          for (int ix = x0; ix < x1; ix++)
            sum += x[((size_t)plane * h + iy) * w + ix];
        y[((size_t)plane * oh + oy) * ow + ox] = sum / ((y1 - y0) * (x1 - x0));
      }
}

void ref_linear(const float *x, int n, int in, int out, const float *weight, const float *bias,
                double *y) {
  for (int b = 0; b < n; b++)
    for (int o = 0; o < out; o++) {
      double sum = bias ? bias[o] : 0.0;
      for (int i = 0; i < in; i++)
        sum += (double)x[(size_t)b * in + i] * weight[(size_t)o * in + i];
      y[(size_t)b * out + o] = sum;
    }
}

void ref_softmax(const float *x, int n, int c, int hw, double *y) {
  for (int b = 0; b < n; b++)
    for (int p = 0; p < hw; p++) {
      const float *row = x + (size_t)b * c * hw + p;
      double *out = y + (size_t)b * c * hw + p;
      double m = -INFINITY, sum = 0.0;
      for (int ch = 0; ch < c; ch++)
        m = fmax(m, row[(size_t)ch * hw]);
      for (int ch = 0; ch < c; ch++)
        sum += exp(row[(size_t)ch * hw] - m);
      for (int ch = 0; ch < c; ch++)
        out[(size_t)ch * hw] = exp(row[(size_t)ch * hw] - m) / sum;
    }
}
