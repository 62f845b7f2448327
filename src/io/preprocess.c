/* torchvision 0.14's ImageNet preprocessing on a PIL image, reproduced bit for bit:
 *   Resize(resize)     size from _compute_resized_output_size (shorter side =
 *                      resize, longer = int(resize * long / short)), nothing done
 *                      when that is the image's size, else PIL's BILINEAR resize
 *   CenterCrop(crop)   zero padding (left/top = (crop - size) // 2, right/bottom
 *                      = (crop - size + 1) // 2) when the image is smaller than
 *                      the crop, then offsets int(round((size - crop) / 2.0)) with
 *                      Python's round half to even
 *   ToTensor()         float32(v) / 255 in float32
 *   Normalize(m, s)    (x - float32(m)) / float32(s) in float32
 * Only the resized pixels that land inside the crop are computed (resample.c).
 * The float32 steps are single operations with no multiply-add to contract, and
 * each is stored to a float, which C11 requires to round away any excess
 * precision; they are tabulated per channel for the 256 possible bytes.
 *
 * Keras' 'caffe' mode (keras.utils.load_img(path, target_size=(crop, crop)), then
 * keras.applications.resnet50.preprocess_input) is reproduced bit for bit too:
 *   resize             PIL's Image.resize((crop, crop), NEAREST): ImagingScaleAffine,
 *                      source index int(scale * (i + 0.5)) with the position
 *                      accumulated in double as PIL does (scale = in / out), no
 *                      resize when the image already has that size
 *   img_to_array       float32(v)
 *   preprocess_input   channels reversed to BGR, float32(v) - float32(mean)
 *                      (std 1: the division is exact)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "clresnet/io.h"
#include "io/resample.h"

#define MAX_RESIZE (1 << 24)
#define MAX_CROP (1 << 14)

void clrn_preprocess_default(clrn_preprocess *preprocess) {
  if (!preprocess)
    return;
  preprocess->mode = CLRN_PREPROCESS_TORCHVISION;
  preprocess->resize = 256;
  preprocess->crop = 224;
  /* torchvision turns these Python floats (doubles) into a float32 tensor: the
   * double literals are rounded to float here the same way. */
  const double mean[3] = {0.485, 0.456, 0.406}, std[3] = {0.229, 0.224, 0.225};
  for (int c = 0; c < 3; c++) {
    preprocess->mean[c] = (float)mean[c];
    preprocess->std[c] = (float)std[c];
  }
}

void clrn_preprocess_caffe(clrn_preprocess *preprocess) {
  if (!preprocess)
    return;
  preprocess->mode = CLRN_PREPROCESS_CAFFE;
  preprocess->resize = 224;
  preprocess->crop = 224;
  /* Keras' BGR means [103.939, 116.779, 123.68], here in RGB order. */
  const double mean[3] = {123.68, 116.779, 103.939};
  for (int c = 0; c < 3; c++) {
    preprocess->mean[c] = (float)mean[c];
    preprocess->std[c] = 1.0f;
  }
}

/* Python's round(n / 2.0) for an integer n >= 0: halves go to the even neighbour. */
static int half_round_even(int n) {
  int q = n / 2;
  if (n % 2 == 0)
    return q;
  return q % 2 == 0 ? q : q + 1;
}

static clrn_status check_arguments(const clrn_image *image, const clrn_preprocess *p,
                                   const float *out) {
  if (!image || !p || !out || !image->rgb)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_image_preprocess: NULL argument");
  if (p->mode != CLRN_PREPROCESS_TORCHVISION && p->mode != CLRN_PREPROCESS_CAFFE)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_image_preprocess: unknown mode %d",
                     (int)p->mode);
  if (image->width < 1 || image->height < 1 ||
      (uint64_t)image->width * (uint64_t)image->height > CLRN_IMAGE_MAX_PIXELS)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "clrn_image_preprocess: image size %d x %d outside 1..%llu pixels",
                     image->width, image->height, CLRN_IMAGE_MAX_PIXELS);
  if (p->resize < 1 || p->resize > MAX_RESIZE || p->crop < 1 || p->crop > MAX_CROP)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "clrn_image_preprocess: resize %d (1..%d) or crop %d (1..%d) out of range",
                     p->resize, MAX_RESIZE, p->crop, MAX_CROP);
  for (int c = 0; c < 3; c++)
    if (!isfinite(p->mean[c]) || !isfinite(p->std[c]) || p->std[c] == 0.0f)
      return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                       "clrn_image_preprocess: channel %d needs a finite mean and a finite, "
                       "non-zero std (got %g, %g)",
                       c, (double)p->mean[c], (double)p->std[c]);
  return CLRN_STATUS_SUCCESS;
}

/* One axis of CenterCrop on a resized side of length size: the zero padding before
 * the image and the crop's offset in the padded side. */
static void center_crop_axis(int size, int crop, int *pad_before, int *offset) {
  int pad_after = 0;
  *pad_before = 0;
  if (crop > size) {
    *pad_before = (crop - size) / 2;
    pad_after = (crop - size + 1) / 2;
  }
  *offset = half_round_even(size + *pad_before + pad_after - crop);
}

/* PIL's nearest-neighbour source indices of one axis (ImagingScaleAffine): the
 * centre of output i maps to scale * (i + 0.5), accumulated in double; an index
 * that lands outside the image is -1 (PIL leaves that pixel 0). */
static void nearest_axis(int in_size, int out_size, int *index) {
  double scale = (double)(float)in_size / out_size; /* PIL's box holds floats */
  double at = scale * 0.5;
  for (int i = 0; i < out_size; i++) {
    int k = at < 0.0 ? -1 : (int)at;
    index[i] = k < in_size ? k : -1;
    at += scale;
  }
}

/* Keras' 'caffe': nearest resize to crop x crop, BGR, (v - mean) / std. */
static clrn_status preprocess_caffe(const clrn_image *image, const clrn_preprocess *p, float *out) {
  const int side = p->crop;
  int *xs = malloc(2 * (size_t)side * sizeof *xs);
  if (!xs)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "resize to %d x %d", side, side);
  int *ys = xs + side;
  nearest_axis(image->width, side, xs);
  nearest_axis(image->height, side, ys);
  float table[3][256];
  for (int c = 0; c < 3; c++)
    for (int v = 0; v < 256; v++) {
      float centred = (float)v - p->mean[c];
      table[c][v] = centred / p->std[c];
    }
  size_t plane = (size_t)side * (size_t)side;
  for (int i = 0; i < side; i++)
    for (int j = 0; j < side; j++) {
      const unsigned char *px = NULL;
      if (ys[i] >= 0 && xs[j] >= 0)
        px = image->rgb + ((size_t)ys[i] * (size_t)image->width + (size_t)xs[j]) * 3;
      for (int c = 0; c < 3; c++) /* output channel c is BGR's: the photo's 2 - c */
        out[c * plane + (size_t)i * side + j] = table[2 - c][px ? px[2 - c] : 0];
    }
  free(xs);
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_image_preprocess(const clrn_image *image, const clrn_preprocess *preprocess,
                                  float *out) {
  CLRN_TRY(check_arguments(image, preprocess, out));
  if (preprocess->mode == CLRN_PREPROCESS_CAFFE)
    return preprocess_caffe(image, preprocess, out);
  const int crop = preprocess->crop;
  /* _compute_resized_output_size. resize * long < 2^24 * 2^28 is exact in a
   * double, so the division is correctly rounded like Python's int / int. */
  int w = image->width, h = image->height;
  int64_t shorter = w <= h ? w : h, longer = w <= h ? h : w;
  double ratio = (double)(preprocess->resize * longer) / (double)shorter;
  if (ratio >= 2147483648.0)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "resizing a %d x %d image to shorter side %d gives a longer side of %.0f "
                     "pixels, beyond what PIL can hold",
                     w, h, preprocess->resize, ratio);
  int new_long = (int)ratio; /* Python's int(): truncation */
  int new_w = w <= h ? preprocess->resize : new_long;
  int new_h = w <= h ? new_long : preprocess->resize;

  int pad_left, pad_top, left, top;
  center_crop_axis(new_w, crop, &pad_left, &left);
  center_crop_axis(new_h, crop, &pad_top, &top);
  /* The crop in the resized image's coordinates, clipped to it. */
  int x0 = left - pad_left, y0 = top - pad_top;
  int wx0 = x0 > 0 ? x0 : 0, wy0 = y0 > 0 ? y0 : 0;
  int wx1 = x0 + crop < new_w ? x0 + crop : new_w, wy1 = y0 + crop < new_h ? y0 + crop : new_h;
  int ww = wx1 - wx0, wh = wy1 - wy0;

  float table[3][256];
  for (int c = 0; c < 3; c++)
    for (int v = 0; v < 256; v++) {
      float x = (float)v / 255.0f;
      float centred = x - preprocess->mean[c];
      table[c][v] = centred / preprocess->std[c];
    }

  unsigned char *pixels = malloc((size_t)ww * (size_t)wh * 3);
  if (!pixels)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "crop window %d x %d", ww, wh);
  clrn_status status = clrn_resample_window(image, new_w, new_h, wx0, wy0, ww, wh, pixels);
  if (status == CLRN_STATUS_SUCCESS) {
    size_t plane = (size_t)crop * (size_t)crop;
    for (int i = 0; i < crop; i++) {
      int y = y0 + i;
      for (int j = 0; j < crop; j++) {
        int x = x0 + j;
        const unsigned char *p = NULL;
        if (y >= wy0 && y < wy1 && x >= wx0 && x < wx1)
          p = pixels + ((size_t)(y - wy0) * (size_t)ww + (size_t)(x - wx0)) * 3;
        for (int c = 0; c < 3; c++)
          out[c * plane + (size_t)i * crop + j] = table[c][p ? p[c] : 0];
      }
    }
  }
  free(pixels);
  return status;
}
