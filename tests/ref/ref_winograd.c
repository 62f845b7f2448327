/* Winograd error magnitudes (see ref_winograd.h).
 *
 * Bound. F(m x m, 3x3), A = m + 2, computes each output as
 *   y = sum_c A^T [ (G g_c G^T) . (B^T d_c B) ] A
 * where every step is a sum of products of an input or weight with exact
 * coefficients (B and A hold small integers for F(4x4,3x3) on the points 0,
 * +-2/3, +-3/2, and multiples of powers of 2 for F(6x6,3x3) on 0, +-1, +-2,
 * +-1/2; G is applied in double on the host and rounded once). Along the longest path an
 * input term passes through at most: A roundings in each of the two passes of
 * B^T d B (a product and A - 1 additions), 2 for the transformed weight (its
 * rounding to float plus the double computation, well below one more), 1 for the
 * product U V, in_channels - 1 additions over the channels and A in each of the
 * two passes of A^T M A: K = in_channels + 4 A + 2 (+1 spare). Any computation of
 * this form satisfies |fl(y) - y| <= gamma_K * Y, Y the same computation on the
 * absolute values of every coefficient, input and weight (Higham, 2nd ed., 3.1
 * and 3.5). With the epilogue's scale, ref_conv2d_tolerance(K, |s| Y, A) bounds
 * the whole output just as for the direct convolution. */
#include "ref_winograd.h"

#include <math.h>
#include <string.h>

/* Absolute values of B^T, G and A^T for F(4x4,3x3) and F(6x6,3x3). */
static const double bt4_abs[6][6] = {{36, 0, 97, 0, 36, 0}, {0, 18, 27, 8, 12, 0},
                                     {0, 18, 27, 8, 12, 0}, {0, 12, 8, 27, 18, 0},
                                     {0, 12, 8, 27, 18, 0}, {0, 36, 0, 97, 0, 36}};
static const double g4_abs[6][3] = {{1 / 36.0, 0, 0},
                                    {1 / 520.0, 1 / 780.0, 1 / 1170.0},
                                    {1 / 520.0, 1 / 780.0, 1 / 1170.0},
                                    {1 / 1170.0, 1 / 780.0, 1 / 520.0},
                                    {1 / 1170.0, 1 / 780.0, 1 / 520.0},
                                    {0, 0, 1 / 36.0}};
static const double at4_abs[4][6] = {
    {1, 27, 27, 8, 8, 0}, {0, 18, 18, 12, 12, 0}, {0, 12, 12, 18, 18, 0}, {0, 8, 8, 27, 27, 1}};
static const double bt6_abs[8][8] = {
    {1, 0, 5.25, 0, 5.25, 0, 1, 0},     {0, 1, 1, 4.25, 4.25, 1, 1, 0},
    {0, 1, 1, 4.25, 4.25, 1, 1, 0},     {0, 0.5, 0.25, 2.5, 1.25, 2, 1, 0},
    {0, 0.5, 0.25, 2.5, 1.25, 2, 1, 0}, {0, 2, 4, 2.5, 5, 0.5, 1, 0},
    {0, 2, 4, 2.5, 5, 0.5, 1, 0},       {0, 1, 0, 5.25, 0, 5.25, 0, 1}};
static const double g6_abs[8][3] = {{1, 0, 0},
                                    {2 / 9.0, 2 / 9.0, 2 / 9.0},
                                    {2 / 9.0, 2 / 9.0, 2 / 9.0},
                                    {1 / 90.0, 1 / 45.0, 2 / 45.0},
                                    {1 / 90.0, 1 / 45.0, 2 / 45.0},
                                    {32 / 45.0, 16 / 45.0, 8 / 45.0},
                                    {32 / 45.0, 16 / 45.0, 8 / 45.0},
                                    {0, 0, 1}};
static const double at6_abs[6][8] = {{1, 1, 1, 1, 1, 1, 1, 0},
                                     {0, 1, 1, 2, 2, 0.5, 0.5, 0},
                                     {0, 1, 1, 4, 4, 0.25, 0.25, 0},
                                     {0, 1, 1, 8, 8, 0.125, 0.125, 0},
                                     {0, 1, 1, 16, 16, 1 / 16.0, 1 / 16.0, 0},
                                     {0, 1, 1, 32, 32, 1 / 32.0, 1 / 32.0, 1}};

int ref_winograd_terms(const ref_conv2d_shape *s, int tile) {
  return s->in_channels + 4 * (tile + 2) + 3;
}

/* out (a x a) = L x L^T for L (a x k) and x (k x k), all row-major. */
static void sandwich(const double *l, int a, int k, const double *x, double *out) {
  double lx[8 * 8];
  for (int i = 0; i < a; i++)
    for (int j = 0; j < k; j++) {
      double sum = 0;
      for (int t = 0; t < k; t++)
        sum += l[i * k + t] * x[t * k + j];
      lx[i * k + j] = sum;
    }
  for (int i = 0; i < a; i++)
    for (int j = 0; j < a; j++) {
      double sum = 0;
      for (int t = 0; t < k; t++)
        sum += lx[i * k + t] * l[j * k + t];
      out[i * a + j] = sum;
    }
}

void ref_winograd_magnitude(const ref_conv2d_shape *s, int tile, const float *input,
                            const float *weight, const float *scale, double *mag) {
  const int a = tile + 2;
  const double *bt = tile == 4 ? &bt4_abs[0][0] : &bt6_abs[0][0];
  const double *g = tile == 4 ? &g4_abs[0][0] : &g6_abs[0][0];
  const double *at = tile == 4 ? &at4_abs[0][0] : &at6_abs[0][0];
  int oh_count, ow_count;
  ref_conv2d_out_size(s, &oh_count, &ow_count);
  size_t plane = (size_t)oh_count * ow_count;
  memset(mag, 0, (size_t)s->n * s->out_channels * plane * sizeof *mag);
  for (int n = 0; n < s->n; n++)
    for (int ty = 0; ty * tile < oh_count; ty++)
      for (int tx = 0; tx * tile < ow_count; tx++)
        for (int c = 0; c < s->in_channels; c++) {
          double d[64], v[64];
          for (int i = 0; i < a; i++)
            for (int j = 0; j < a; j++) {
              int y = ty * tile - s->pad_h + i, x = tx * tile - s->pad_w + j;
              bool inside = y >= 0 && y < s->in_h && x >= 0 && x < s->in_w;
              d[i * a + j] =
                  inside
                      ? fabs(input[(((size_t)n * s->in_channels + c) * s->in_h + y) * s->in_w + x])
                      : 0.0;
            }
          sandwich(bt, a, a, d, v);
          for (int k = 0; k < s->out_channels; k++) {
            double w[9], u[64], y[36];
            for (int t = 0; t < 9; t++)
              w[t] = fabs(weight[((size_t)k * s->in_channels + c) * 9 + t]);
            sandwich(g, a, 3, w, u);
            for (int t = 0; t < a * a; t++)
              u[t] *= v[t];
            sandwich(at, tile, a, u, y);
            double sc = scale ? fabs(scale[k]) : 1.0;
            for (int i = 0; i < tile && ty * tile + i < oh_count; i++)
              for (int j = 0; j < tile && tx * tile + j < ow_count; j++)
                mag[((size_t)n * s->out_channels + k) * plane + (size_t)(ty * tile + i) * ow_count +
                    tx * tile + j] += sc * y[i * tile + j];
          }
        }
}
