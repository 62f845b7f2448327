/* Plain-C reference convolution (see ref_conv2d.h).
 *
 * Error bound used by the tests. Each output is a dot product of K = Cin/groups *
 * kh * kw products, then the epilogue t1 = c + b, t2 = t1 * s, t3 = t2 + h,
 * t4 = t3 + r, relu. In fp32 with unit roundoff u = 2^-24:
 *  - any evaluation order of a K-term dot product, with or without fma, has
 *    |c_fp32 - c| <= gamma_K * sum |w x|, gamma_K = K u / (1 - K u)
 *    (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., eq. 3.5);
 *    scaled by |s| this is gamma_K * S with S = |s| sum |w x| (what mag holds);
 *  - the four epilogue operations each round once (or fewer when fused), so
 *    they add at most ((1+u)^4 - 1) * A' <= 4.0001 u A', where A' bounds the
 *    magnitude of every intermediate: A' = (|c| + gamma_K sum|wx| + |b|)|s| + |h| + |r|
 *    <= A + gamma_K S with A = (|c| + |b|)|s| + |h| + |r| (what epilogue_mag holds);
 *  - relu is 1-Lipschitz and adds nothing; the reference itself, in double, is
 *    accurate to ~K 2^-53 relative, far below u.
 * Hence |y_fp32 - y| <= gamma_K S + 5 u (A + gamma_K S), 5u covering 4.0001u with
 * room for the double reference's own rounding. */
#include "ref_conv2d.h"

#include <math.h>

void ref_conv2d_out_size(const ref_conv2d_shape *s, int *out_h, int *out_w) {
  *out_h = (s->in_h + 2 * s->pad_h - s->kernel_h) / s->stride_h + 1;
  *out_w = (s->in_w + 2 * s->pad_w - s->kernel_w) / s->stride_w + 1;
}

int ref_conv2d_terms(const ref_conv2d_shape *s) {
  return s->in_channels / s->groups * s->kernel_h * s->kernel_w;
}

void ref_conv2d(const ref_conv2d_shape *s, const float *input, const float *weight,
                const float *bias, const float *scale, const float *shift, const float *residual,
                double *out, double *mag, double *epilogue_mag) {
  int oh_count, ow_count;
  ref_conv2d_out_size(s, &oh_count, &ow_count);
  int cin_g = s->in_channels / s->groups, cout_g = s->out_channels / s->groups;
  for (int n = 0; n < s->n; n++)
    for (int co = 0; co < s->out_channels; co++) {
      int g = co / cout_g;
      for (int oh = 0; oh < oh_count; oh++)
        for (int ow = 0; ow < ow_count; ow++) {
          double sum = 0, abs_sum = 0;
          for (int ci = 0; ci < cin_g; ci++)
            for (int kh = 0; kh < s->kernel_h; kh++)
              for (int kw = 0; kw < s->kernel_w; kw++) {
                int ih = oh * s->stride_h - s->pad_h + kh;
                int iw = ow * s->stride_w - s->pad_w + kw;
                if (ih < 0 || ih >= s->in_h || iw < 0 || iw >= s->in_w)
                  continue; /* zero padding */
                size_t in_index =
                    (((size_t)n * s->in_channels + (size_t)g * cin_g + ci) * s->in_h + ih) *
                        s->in_w +
                    iw;
                size_t w_index = (((size_t)co * cin_g + ci) * s->kernel_h + kh) * s->kernel_w + kw;
                double product = (double)weight[w_index] * (double)input[in_index];
                sum += product;
                abs_sum += fabs(product);
              }
          size_t o = (((size_t)n * s->out_channels + co) * oh_count + oh) * ow_count + ow;
          double b = bias ? bias[co] : 0.0, sc = scale ? scale[co] : 1.0;
          double h = shift ? shift[co] : 0.0, r = residual ? residual[o] : 0.0;
          double y = (sum + b) * sc + h + r;
          out[o] = s->relu && y < 0 ? 0.0 : y;
          if (mag)
            mag[o] = fabs(sc) * abs_sum;
          if (epilogue_mag)
            epilogue_mag[o] = (fabs(sum) + fabs(b)) * fabs(sc) + fabs(h) + fabs(r);
        }
    }
}

double ref_conv2d_tolerance(int terms, double mag, double epilogue_mag) {
  const double u = ldexp(1.0, -24);
  double gamma = terms * u / (1.0 - terms * u);
  return gamma * mag + 5.0 * u * (epilogue_mag + gamma * mag);
}
