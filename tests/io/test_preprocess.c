/* Preprocessing against a plain-C reference written the obvious way: PIL's whole
 * resize as Resample.c does it (all coefficients, horizontal pass over the rows
 * the vertical pass needs into an 8-bit image, then the vertical pass), then
 * torchvision's CenterCrop literally (pad into a bigger image, crop), ToTensor and
 * Normalize. The library computes only the crop window; results must agree to the
 * bit on random images of many shapes, including ones where only one side
 * changes. A few hand-worked values pin the reference itself down.
 * (tests/io/test_reference.c compares with PIL and torchvision themselves.)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "io/resample.h"

/* ---- the reference ---- */

typedef struct ref_image {
  int w, h;
  unsigned char *p; /* w*h*3 */
} ref_image;

static double ref_filter(double x) {
  x = x < 0 ? -x : x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

/* precompute_coeffs + normalize_coeffs_8bpc for a whole axis. */
static int ref_coeffs(int in_size, int out_size, int **bounds, int32_t **kk) {
  float in0 = 0, in1 = (float)in_size;
  double scale = (double)(in1 - in0) / out_size, filterscale = scale < 1.0 ? 1.0 : scale;
  double support = filterscale;
  int ksize = (int)ceil(support) * 2 + 1;
  double *k = calloc((size_t)out_size * ksize, sizeof *k);
  *bounds = calloc((size_t)out_size * 2, sizeof **bounds);
  *kk = calloc((size_t)out_size * ksize, sizeof **kk);
  for (int xx = 0; xx < out_size; xx++) {
    double offset = (xx + 0.5) * scale;
    double center = in0 + offset;
    double ww = 0.0, ss = 1.0 / filterscale;
    int xmin = (int)(center - support + 0.5);
    if (xmin < 0)
      xmin = 0;
    int xmax = (int)(center + support + 0.5);
    if (xmax > in_size)
      xmax = in_size;
    xmax -= xmin;
    double *row = k + (size_t)xx * ksize;
    for (int x = 0; x < xmax; x++) {
      double arg = (x + xmin - center + 0.5) * ss;
      row[x] = ref_filter(arg);
      ww += row[x];
    }
    for (int x = 0; x < xmax; x++)
      if (ww != 0.0)
        row[x] /= ww;
    (*bounds)[2 * xx] = xmin;
    (*bounds)[2 * xx + 1] = xmax;
  }
  for (size_t i = 0; i < (size_t)out_size * ksize; i++) {
    double scaled = k[i] * (1 << 22);
    (*kk)[i] = (int32_t)(k[i] < 0 ? -0.5 + scaled : 0.5 + scaled);
  }
  free(k);
  return ksize;
}

static unsigned char ref_clip8(int in) {
  if (in < 0)
    return 0;
  return (in >> 22) > 255 ? 255 : (unsigned char)(in >> 22);
}

/* ImagingResampleInner for an RGB image, BILINEAR, box = the whole image. */
static ref_image ref_resize(ref_image in, int xsize, int ysize) {
  int need_h = xsize != in.w, need_v = ysize != in.h;
  int *bv, *bh;
  int32_t *kv, *kh;
  int ksv = ref_coeffs(in.h, ysize, &bv, &kv);
  int first = bv[0], last = bv[ysize * 2 - 2] + bv[ysize * 2 - 1];
  ref_image cur = in, temp = {0, 0, NULL};
  if (need_h) {
    int ksh = ref_coeffs(in.w, xsize, &bh, &kh);
    for (int i = 0; i < ysize; i++)
      bv[i * 2] -= first;
    temp = (ref_image){xsize, last - first, malloc((size_t)xsize * (last - first) * 3)};
    for (int yy = 0; yy < temp.h; yy++)
      for (int xx = 0; xx < xsize; xx++)
        for (int c = 0; c < 3; c++) {
          int ss = 1 << 21;
          for (int x = 0; x < bh[2 * xx + 1]; x++)
            ss += in.p[((size_t)(yy + first) * in.w + x + bh[2 * xx]) * 3 + c] * kh[xx * ksh + x];
          temp.p[((size_t)yy * xsize + xx) * 3 + c] = ref_clip8(ss);
        }
    free(bh);
    free(kh);
    cur = temp;
  }
  ref_image out = {cur.w, cur.h, NULL};
  if (need_v) {
    out = (ref_image){cur.w, ysize, malloc((size_t)cur.w * ysize * 3)};
    for (int yy = 0; yy < ysize; yy++)
      for (int xx = 0; xx < cur.w; xx++)
        for (int c = 0; c < 3; c++) {
          int ss = 1 << 21;
          for (int y = 0; y < bv[2 * yy + 1]; y++)
            ss += cur.p[((size_t)(y + bv[2 * yy]) * cur.w + xx) * 3 + c] * kv[yy * ksv + y];
          out.p[((size_t)yy * cur.w + xx) * 3 + c] = ref_clip8(ss);
        }
  } else {
    out.p = malloc((size_t)cur.w * cur.h * 3);
    memcpy(out.p, cur.p, (size_t)cur.w * cur.h * 3);
  }
  free(temp.p);
  free(bv);
  free(kv);
  return out;
}

/* Resize(r), CenterCrop(c) (padding, then crop at round-half-even offsets),
 * ToTensor, Normalize. */
static void ref_preprocess(ref_image in, const clrn_preprocess *p, float *out) {
  int shorter = in.w <= in.h ? in.w : in.h, longer = in.w <= in.h ? in.h : in.w;
  int new_long = (int)((double)((int64_t)p->resize * longer) / shorter);
  int nw = in.w <= in.h ? p->resize : new_long, nh = in.w <= in.h ? new_long : p->resize;
  ref_image img = ref_resize(in, nw, nh);
  int c = p->crop;
  if (c > img.w || c > img.h) {
    int l = c > img.w ? (c - img.w) / 2 : 0, t = c > img.h ? (c - img.h) / 2 : 0;
    int r = c > img.w ? (c - img.w + 1) / 2 : 0, b = c > img.h ? (c - img.h + 1) / 2 : 0;
    ref_image padded = {img.w + l + r, img.h + t + b, NULL};
    padded.p = calloc((size_t)padded.w * padded.h * 3, 1);
    for (int y = 0; y < img.h; y++)
      memcpy(padded.p + ((size_t)(y + t) * padded.w + l) * 3, img.p + (size_t)y * img.w * 3,
             (size_t)img.w * 3);
    free(img.p);
    img = padded;
  }
  int top = (int)nearbyint((img.h - c) / 2.0), left = (int)nearbyint((img.w - c) / 2.0);
  for (int ch = 0; ch < 3; ch++)
    for (int y = 0; y < c; y++)
      for (int x = 0; x < c; x++) {
        unsigned char v = img.p[((size_t)(y + top) * img.w + x + left) * 3 + ch];
        float t = (float)v / 255.0f;
        float centred = t - p->mean[ch];
        out[((size_t)ch * c + y) * c + x] = centred / p->std[ch];
      }
  free(img.p);
}

/* ---- tests ---- */

static ref_image random_image(int w, int h, unsigned seed) {
  ref_image im = {w, h, malloc((size_t)w * h * 3)};
  for (size_t i = 0; i < (size_t)w * h * 3; i++) {
    seed = seed * 1103515245u + 12345u;
    /* Mostly smooth with noise and some saturated pixels. */
    int v = (int)((i / 3) % (size_t)w * 255 / (w > 1 ? w - 1 : 1)) + (int)(seed >> 24) % 61 - 30;
    if ((seed >> 8) % 50 == 0)
      v = (seed >> 16) & 1 ? 255 : 0;
    im.p[i] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
  }
  return im;
}

static void compare(int w, int h, const clrn_preprocess *p, unsigned seed) {
  ref_image in = random_image(w, h, seed);
  size_t n = (size_t)3 * p->crop * p->crop;
  float *want = malloc(n * sizeof *want), *got = malloc(n * sizeof *got);
  ref_preprocess(in, p, want);
  clrn_image image = {w, h, in.p};
  CLRN_ASSERT_OK(clrn_image_preprocess(&image, p, got));
  size_t differ = 0;
  for (size_t i = 0; i < n; i++)
    differ += memcmp(&want[i], &got[i], 4) != 0;
  if (differ)
    fprintf(stderr, "\n%dx%d resize %d crop %d: %zu of %zu floats differ\n", w, h, p->resize,
            p->crop, differ, n);
  CU_ASSERT_EQUAL(differ, 0);
  free(want);
  free(got);
  free(in.p);
}

static void test_matches_reference(void) {
  clrn_preprocess p;
  clrn_preprocess_default(&p);
  const int sizes[][2] = {{300, 200}, {200, 300}, {257, 256},  {256, 257}, {259, 256}, {256, 256},
                          {224, 224}, {1, 1},     {2, 3},      {7, 1},     {31, 17},   {300, 3},
                          {3, 300},   {640, 480}, {1023, 769}, {255, 255}, {513, 257}, {900, 9}};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    compare(sizes[i][0], sizes[i][1], &p, (unsigned)i);
  /* Other sizes and crops, padding included (resize < crop). */
  const int params[][2] = {{100, 224}, {200, 224}, {223, 224}, {33, 50}, {64, 64},
                           {300, 255}, {1, 1},     {1, 5},     {5, 1}};
  for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
    p.resize = params[i][0];
    p.crop = params[i][1];
    compare(97, 120, &p, 100 + (unsigned)i);
    compare(120, 97, &p, 200 + (unsigned)i);
    compare(3, 41, &p, 300 + (unsigned)i);
  }
}

/* Directly: a window of a resize where only one side changes, or neither. */
static void test_one_side_changes(void) {
  ref_image in = random_image(150, 90, 7);
  clrn_image image = {in.w, in.h, in.p};
  const int outs[][2] = {{150, 40}, {150, 300}, {60, 90}, {400, 90}, {150, 90}, {37, 211}};
  for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
    int ow = outs[i][0], oh = outs[i][1];
    ref_image full = ref_resize(in, ow, oh);
    int x0 = ow / 5, y0 = oh / 3, w = ow - x0 - ow / 7, h = oh - y0 - 1;
    unsigned char *got = malloc((size_t)w * h * 3);
    CLRN_ASSERT_OK(clrn_resample_window(&image, ow, oh, x0, y0, w, h, got));
    size_t differ = 0;
    for (int y = 0; y < h; y++)
      differ += memcmp(got + (size_t)y * w * 3, full.p + ((size_t)(y + y0) * ow + x0) * 3,
                       (size_t)w * 3) != 0;
    CU_ASSERT_EQUAL(differ, 0);
    free(got);
    free(full.p);
  }
  free(in.p);
}

/* Values worked out by hand from PIL's formulas. */
static void test_hand_worked(void) {
  /* 2x1 -> 1x1: scale 2, support 2, centre 1; weights (1 - 0.25, 1 - 0.25)
   * normalised to 1/2 each = 2^21; (2^21 + 0 + 255 * 2^21) >> 22 = 128. */
  unsigned char two[6] = {0, 0, 0, 255, 255, 255}, out[3];
  clrn_image image = {2, 1, two};
  CLRN_ASSERT_OK(clrn_resample_window(&image, 1, 1, 0, 0, 1, 1, out));
  CU_ASSERT(out[0] == 128 && out[1] == 128 && out[2] == 128);
  /* 1x1 -> 3x1 upscale: every output is the one pixel. */
  unsigned char one[3] = {10, 20, 30}, three[9];
  clrn_image single = {1, 1, one};
  CLRN_ASSERT_OK(clrn_resample_window(&single, 3, 1, 0, 0, 3, 1, three));
  for (int i = 0; i < 3; i++)
    CU_ASSERT(three[3 * i] == 10 && three[3 * i + 1] == 20 && three[3 * i + 2] == 30);
  /* 3x1 [0, 90, 255] -> 1x1: scale 3, centre 1.5, inputs 0..2 at filter
   * arguments -1/3, 0, 1/3 -> weights 2/3, 1, 2/3, normalised by their sum 7/3
   * to 2/7, 3/7, 2/7. 90*3/7 + 255*2/7 = 111.43 -> 111. */
  unsigned char row[9] = {0, 0, 0, 90, 90, 90, 255, 255, 255};
  clrn_image three_px = {3, 1, row};
  CLRN_ASSERT_OK(clrn_resample_window(&three_px, 1, 1, 0, 0, 1, 1, out));
  CU_ASSERT_EQUAL(out[0], 111);

  /* Normalisation constants and padding: a 1x1 image, resize 1, crop 3 pads a
   * black border around the pixel; black is (0 - mean) / std in float32. */
  clrn_preprocess p;
  clrn_preprocess_default(&p);
  CU_ASSERT_EQUAL(p.resize, 256);
  CU_ASSERT_EQUAL(p.crop, 224);
  CU_ASSERT_EQUAL(p.mean[0], (float)0.485);
  CU_ASSERT_EQUAL(p.std[2], (float)0.225);
  p.resize = 1;
  p.crop = 3;
  float t[27];
  CLRN_ASSERT_OK(clrn_image_preprocess(&single, &p, t));
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 9; i++) {
      float v = i == 4 ? (float)one[c] / 255.0f : 0.0f;
      float centred = v - p.mean[c];
      CU_ASSERT_EQUAL(t[c * 9 + i], centred / p.std[c]);
    }
}

/* Crop offsets: (257 - 224) / 2 = 16.5 rounds to 16, (259 - 224) / 2 = 17.5 to
 * 18 (Python's round half to even); 256 on the short side means no resize. */
static void test_crop_offsets(void) {
  clrn_preprocess p;
  clrn_preprocess_default(&p);
  const int heights[] = {257, 259};
  const int tops[] = {16, 18};
  for (int k = 0; k < 2; k++) {
    ref_image in = random_image(256, heights[k], 11);
    clrn_image image = {256, heights[k], in.p};
    float *t = malloc(sizeof *t * 3 * 224 * 224);
    CLRN_ASSERT_OK(clrn_image_preprocess(&image, &p, t));
    bool same = true;
    for (int y = 0; y < 224; y++)
      for (int x = 0; x < 224; x++) {
        float v = (float)in.p[((size_t)(y + tops[k]) * 256 + x + 16) * 3] / 255.0f;
        float centred = v - p.mean[0];
        same = same && t[y * 224 + x] == centred / p.std[0];
      }
    CU_ASSERT(same);
    free(t);
    free(in.p);
  }
}

static void test_arguments(void) {
  unsigned char px[3] = {1, 2, 3};
  clrn_image image = {1, 1, px};
  clrn_preprocess p;
  clrn_preprocess_default(&p);
  float out[3 * 224 * 224];
  CU_ASSERT_EQUAL(clrn_image_preprocess(NULL, &p, out), CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_EQUAL(clrn_image_preprocess(&image, NULL, out), CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_EQUAL(clrn_image_preprocess(&image, &p, NULL), CLRN_STATUS_INVALID_ARGUMENT);
  p.std[1] = 0;
  CU_ASSERT_EQUAL(clrn_image_preprocess(&image, &p, out), CLRN_STATUS_INVALID_ARGUMENT);
  clrn_preprocess_default(&p);
  p.mean[2] = NAN;
  CU_ASSERT_EQUAL(clrn_image_preprocess(&image, &p, out), CLRN_STATUS_INVALID_ARGUMENT);
  clrn_preprocess_default(&p);
  p.crop = 0;
  CU_ASSERT_EQUAL(clrn_image_preprocess(&image, &p, out), CLRN_STATUS_INVALID_ARGUMENT);
  clrn_preprocess_default(&p);
  p.resize = -1;
  CU_ASSERT_EQUAL(clrn_image_preprocess(&image, &p, out), CLRN_STATUS_INVALID_ARGUMENT);
  clrn_preprocess_default(&p);
  clrn_image wide = {1 << 27, 1, px}; /* never read: refused from its size */
  CU_ASSERT_EQUAL(clrn_image_preprocess(&wide, &p, out), CLRN_STATUS_UNSUPPORTED);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "longer side"));
  clrn_image empty = {0, 5, px};
  CU_ASSERT_EQUAL(clrn_image_preprocess(&empty, &p, out), CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_EQUAL(clrn_resample_window(&image, 4, 4, 2, 0, 3, 1, px), CLRN_STATUS_INVALID_ARGUMENT);
}

int main(void) {
  clrn_test_add_suite("preprocess", NULL, NULL, "matches the plain-C reference",
                      test_matches_reference, "only one side changes", test_one_side_changes,
                      "hand-worked values", test_hand_worked, "crop offsets", test_crop_offsets,
                      "arguments", test_arguments, NULL);
  return clrn_test_run();
}
