/* Inputs and outputs: photo decoding (JPEG, PNG), torchvision's standard ImageNet
 * preprocessing reproduced bit for bit, and float32 .npy tensors.
 *
 * Every reader validates before it allocates: image dimensions are checked against
 * CLRN_IMAGE_MAX_PIXELS (decompression bombs are refused), .npy headers against
 * their data length. Failures name the file. Writers go through a temporary file
 * in the target folder renamed at the end, so a failure leaves no partial file.
 */
#ifndef CLRESNET_IO_H
#define CLRESNET_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "clresnet/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest image accepted, in pixels: PIL's decompression-bomb error threshold
 * (2 x 89,478,485). Larger images are refused before any pixel is allocated. */
#define CLRN_IMAGE_MAX_PIXELS 178956970ull

/** A decoded 8-bit RGB image: width*height*3 bytes, row-major, RGB interleaved. */
typedef struct clrn_image {
  int width, height;
  unsigned char *rgb;
} clrn_image;

/** Decodes a JPEG or PNG file (recognised by content, not name) to 8-bit RGB, as
 * PIL's Image.open(path).convert("RGB") does: grey is replicated, alpha dropped,
 * 16-bit samples reduced to their high byte, palettes expanded. */
CLRN_API clrn_status clrn_image_load(const char *path, clrn_image *image);

/** The same from memory; name is used in error messages. */
CLRN_API clrn_status clrn_image_decode(const void *data, size_t size, const char *name,
                                       clrn_image *image);

/** Frees an image's pixels and zeroes it. */
CLRN_API void clrn_image_free(clrn_image *image);

/** torchvision's preprocessing parameters. */
typedef struct clrn_preprocess {
  int resize;   /**< Resize(resize): the shorter side becomes this, bilinear, antialiased */
  int crop;     /**< CenterCrop(crop) */
  float mean[3];
  float std[3];
} clrn_preprocess;

/** The ImageNet standard: Resize(256), CenterCrop(224), ToTensor(),
 * Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)). */
CLRN_API void clrn_preprocess_default(clrn_preprocess *preprocess);

/** Applies the preprocessing exactly as torchvision does on a PIL image (PIL's
 * fixed-point antialiased bilinear resample, round-half-even crop offsets, float32
 * normalisation) and writes 3*crop*crop floats, channel-major, into out. */
CLRN_API clrn_status clrn_image_preprocess(const clrn_image *image,
                                           const clrn_preprocess *preprocess, float *out);

/** A float32 array read from a .npy file. */
typedef struct clrn_npy {
  int ndim;
  int64_t shape[8];
  float *data; /**< product(shape) floats, C order */
} clrn_npy;

/** Reads a little-endian float32 ('<f4'), C-order .npy file (format 1.0, 2.0 or
 * 3.0). max_elements bounds the declared size before anything is allocated. */
CLRN_API clrn_status clrn_npy_read(const char *path, size_t max_elements, clrn_npy *array);

/** Parses .npy bytes already in memory (same checks as clrn_npy_read). */
CLRN_API clrn_status clrn_npy_parse(const void *data, size_t size, const char *name,
                                    size_t max_elements, clrn_npy *array);

/** Frees an array's data and zeroes it. */
CLRN_API void clrn_npy_free(clrn_npy *array);

/** Writes a float32 .npy file (format 1.0) atomically: a temporary file in the
 * same folder, renamed over path at the end. */
CLRN_API clrn_status clrn_npy_write(const char *path, const float *data, int ndim,
                                    const int64_t *shape);

/** Checks, before any work, that path can be created: its folder exists and is
 * writable. Used to report an unwritable output before inference starts. */
CLRN_API clrn_status clrn_output_check(const char *path);

/** Opens a temporary file beside path for an atomic write; returns its name in
 * temp (size bytes). Finish with clrn_atomic_commit() or clrn_atomic_abort(). */
CLRN_API clrn_status clrn_atomic_open(const char *path, char *temp, size_t size, FILE **file);

/** Closes the temporary file and renames it over path. On failure the temporary
 * file is removed and path is untouched. */
CLRN_API clrn_status clrn_atomic_commit(FILE *file, const char *temp, const char *path);

/** Closes and removes the temporary file. */
CLRN_API void clrn_atomic_abort(FILE *file, const char *temp);

#ifdef __cplusplus
}
#endif
#endif
