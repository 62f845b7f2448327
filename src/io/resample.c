/* PIL's Image.resize(size, Image.BILINEAR) for 8-bit RGB images, transcribed from
 * Pillow's src/libImaging/Resample.c (precompute_coeffs, normalize_coeffs_8bpc,
 * ImagingResampleHorizontal_8bpc / Vertical_8bpc, ImagingResampleInner) so that
 * every output byte is the one PIL produces.
 *
 * The filter is the triangle, its support widened by the downscale factor (the
 * antialiasing); weights are computed in double, normalised to sum 1, then turned
 * into fixed point with 22 fractional bits. Each output sample starts at half a
 * unit, accumulates pixel * weight in integers, and is clipped to 0..255 after
 * dropping the fraction. The horizontal pass runs first (only if the width
 * changes) and stores 8-bit results, then the vertical pass (only if the height
 * changes) reads them.
 *
 * Unlike PIL, only a window of the output is computed (torchvision's CenterCrop
 * keeps 224 x 224 of the resized image): every output sample depends only on its
 * own weights and its input pixels, so the window's bytes are those of PIL's full
 * image. The double arithmetic follows PIL's expression by expression, in
 * separate statements so no compiler fuses a multiply and an add into an FMA
 * (which PIL's x86-64 builds never do, having no FMA in their baseline).
 */
#include "io/resample.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

static double bilinear_filter(double x) {
  if (x < 0.0)
    x = -x;
  if (x < 1.0)
    return 1.0 - x;
  return 0.0;
}

void clrn_resample_axis_free(clrn_resample_axis *axis) {
  free(axis->bounds);
  free(axis->weights);
  memset(axis, 0, sizeof *axis);
}

clrn_status clrn_resample_axis_init(clrn_resample_axis *axis, int in_size, int out_size, int first,
                                    int count) {
  memset(axis, 0, sizeof *axis);
  if (in_size < 1 || out_size < 1 || first < 0 || count < 1 || count > out_size - first)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "resample axis %d -> %d [%d, +%d)", in_size,
                     out_size, first, count);
  /* PIL passes the box (0, 0, width, height) as floats: a side above 2^24 is
   * rounded there, and so it is here. */
  float in0 = 0.0f, in1 = (float)in_size;
  double scale = (double)(in1 - in0) / out_size;
  double filterscale = scale < 1.0 ? 1.0 : scale;
  double support = 1.0 * filterscale; /* the bilinear filter's support is 1 */
  int ksize = (int)ceil(support) * 2 + 1;
  double *k = malloc(sizeof *k * (size_t)ksize);
  axis->bounds = malloc(sizeof *axis->bounds * 2 * (size_t)count);
  axis->weights = calloc((size_t)count * (size_t)ksize, sizeof *axis->weights);
  if (!k || !axis->bounds || !axis->weights) {
    free(k);
    clrn_resample_axis_free(axis);
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "resample weights: %d x %d", count, ksize);
  }
  axis->count = count;
  axis->ksize = ksize;
  for (int i = 0; i < count; i++) {
    int xx = first + i;
    double offset = (xx + 0.5) * scale;
    double center = in0 + offset;
    double ww = 0.0;
    double ss = 1.0 / filterscale;
    int xmin = (int)(center - support + 0.5); /* "Round the value", as PIL does */
    if (xmin < 0)
      xmin = 0;
    int xmax = (int)(center + support + 0.5);
    if (xmax > in_size)
      xmax = in_size;
    xmax -= xmin;
    for (int x = 0; x < xmax; x++) {
      double distance = (x + xmin - center + 0.5) * ss;
      k[x] = bilinear_filter(distance);
      ww += k[x];
    }
    for (int x = 0; x < xmax; x++)
      if (ww != 0.0)
        k[x] /= ww;
    int32_t *fixed = axis->weights + (size_t)i * (size_t)ksize;
    for (int x = 0; x < xmax; x++) {
      double scaled = k[x] * (1 << CLRN_RESAMPLE_PRECISION_BITS);
      fixed[x] = (int32_t)(k[x] < 0 ? -0.5 + scaled : 0.5 + scaled);
    }
    axis->bounds[2 * i] = xmin;
    axis->bounds[2 * i + 1] = xmax;
  }
  free(k);
  return CLRN_STATUS_SUCCESS;
}

/* PIL's clip8: drop the fraction, clamp to 0..255. Sums stay far inside int64
 * (and inside PIL's int32: weights sum to about 2^22, pixels are at most 255). */
static unsigned char clip8(int64_t sum) {
  if (sum < 0)
    return 0;
  sum >>= CLRN_RESAMPLE_PRECISION_BITS;
  return (unsigned char)(sum > 255 ? 255 : sum);
}

/* The horizontal pass for one row: w output pixels, three channels at a time. */
static void horizontal_row(const clrn_resample_axis *axis, const unsigned char *in, int w,
                           unsigned char *out) {
  for (int i = 0; i < w; i++) {
    const int32_t *k = axis->weights + (size_t)i * (size_t)axis->ksize;
    const unsigned char *p = in + (size_t)axis->bounds[2 * i] * 3;
    int64_t s0 = 1 << (CLRN_RESAMPLE_PRECISION_BITS - 1), s1 = s0, s2 = s0;
    for (int x = 0; x < axis->bounds[2 * i + 1]; x++, p += 3) {
      s0 += (int64_t)p[0] * k[x];
      s1 += (int64_t)p[1] * k[x];
      s2 += (int64_t)p[2] * k[x];
    }
    out[3 * i] = clip8(s0);
    out[3 * i + 1] = clip8(s1);
    out[3 * i + 2] = clip8(s2);
  }
}

/* The vertical pass for one output row: n input rows, stride bytes apart, summed
 * row after row into acc (integer sums: the order does not change them). */
static void vertical_row(const unsigned char *rows, size_t stride, const int32_t *k, int n,
                         size_t bytes, int64_t *acc, unsigned char *out) {
  for (size_t i = 0; i < bytes; i++)
    acc[i] = 1 << (CLRN_RESAMPLE_PRECISION_BITS - 1);
  for (int y = 0; y < n; y++) {
    const unsigned char *row = rows + (size_t)y * stride;
    int64_t weight = k[y];
    for (size_t i = 0; i < bytes; i++)
      acc[i] += row[i] * weight;
  }
  for (size_t i = 0; i < bytes; i++)
    out[i] = clip8(acc[i]);
}

clrn_status clrn_resample_window(const clrn_image *image, int out_width, int out_height, int x0,
                                 int y0, int w, int h, unsigned char *out) {
  if (!image || !image->rgb || !out || w < 1 || h < 1 || x0 < 0 || y0 < 0 || w > out_width - x0 ||
      h > out_height - y0)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "resample window [%d, +%d) x [%d, +%d) of %dx%d",
                     x0, w, y0, h, out_width, out_height);
  bool horizontal = out_width != image->width, vertical = out_height != image->height;
  clrn_status status = CLRN_STATUS_SUCCESS;
  clrn_resample_axis across = {0}, down = {0};
  unsigned char *temp = NULL;
  int64_t *acc = NULL;
  /* Input rows the window needs: all of the vertical weights' rows, or the
   * window's own rows when the height does not change. */
  int row_first = y0, row_count = h;
  if (vertical) {
    CLRN_GOTO(clrn_resample_axis_init(&down, image->height, out_height, y0, h), done, status);
    row_first = down.bounds[0];
    row_count = down.bounds[2 * (h - 1)] + down.bounds[2 * (h - 1) + 1] - row_first;
  }
  size_t in_stride = (size_t)image->width * 3;
  const unsigned char *rows = image->rgb + (size_t)row_first * in_stride + (size_t)x0 * 3;
  size_t stride = in_stride;
  if (horizontal) {
    CLRN_GOTO(clrn_resample_axis_init(&across, image->width, out_width, x0, w), done, status);
    temp = malloc((size_t)row_count * (size_t)w * 3);
    if (!temp) {
      status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "resample rows: %d x %d", row_count, w);
      goto done;
    }
    for (int r = 0; r < row_count; r++)
      horizontal_row(&across, image->rgb + (size_t)(row_first + r) * in_stride, w,
                     temp + (size_t)r * (size_t)w * 3);
    rows = temp;
    stride = (size_t)w * 3;
  }
  if (vertical) {
    acc = malloc(sizeof *acc * (size_t)w * 3);
    if (!acc) {
      status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "resample row: %d pixels", w);
      goto done;
    }
  }
  for (int j = 0; j < h; j++) {
    unsigned char *o = out + (size_t)j * (size_t)w * 3;
    if (vertical)
      vertical_row(rows + (size_t)(down.bounds[2 * j] - row_first) * stride, stride,
                   down.weights + (size_t)j * (size_t)down.ksize, down.bounds[2 * j + 1],
                   (size_t)w * 3, acc, o);
    else
      memcpy(o, rows + (size_t)j * stride, (size_t)w * 3);
  }
done:
  clrn_resample_axis_free(&across);
  clrn_resample_axis_free(&down);
  free(temp);
  free(acc);
  return status;
}
