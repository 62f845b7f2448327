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
 * PIL 9's Image.open(path).convert("RGB") does, pixel for pixel:
 *  - grey is replicated to R, G and B; alpha is dropped (no compositing);
 *  - palettes are expanded (indices past the palette's end read PIL's grey ramp);
 *  - 16-bit RGB, RGBA and grey+alpha PNGs keep the high byte of each sample;
 *    16-bit grey PNGs become PIL mode "I" and convert by clipping: min(v, 255);
 *  - CMYK and YCCK JPEGs use Adobe's inverted convention and PIL's cmyk2rgb;
 *  - EXIF orientation, gamma and colour profiles are ignored, as PIL does here.
 * Refused, with a one-line detail that names the file: empty, truncated (a JPEG
 * whose data ends early, as PIL's "image file is truncated"), corrupt (bad PNG CRC
 * or zlib data, libjpeg errors) and unrecognised files, other formats (GIF, BMP,
 * WebP, TIFF: CLRN_STATUS_UNSUPPORTED) and images over CLRN_IMAGE_MAX_PIXELS
 * (CLRN_STATUS_UNSUPPORTED, checked from the header before pixels are allocated). */
CLRN_API clrn_status clrn_image_load(const char *path, clrn_image *image);

/** The same from memory; name is used in error messages. On failure *image is
 * left empty (no pixels to free). */
CLRN_API clrn_status clrn_image_decode(const void *data, size_t size, const char *name,
                                       clrn_image *image);

/** Frees an image's pixels and zeroes it. */
CLRN_API void clrn_image_free(clrn_image *image);

/** How photos become tensors (values never change; new ones are appended). */
typedef enum clrn_preprocess_mode {
  /** torchvision: Resize(resize) (shorter side, PIL's antialiased bilinear),
   * CenterCrop(crop), ToTensor() (v / 255), Normalize(mean, std); RGB. */
  CLRN_PREPROCESS_TORCHVISION = 0,
  /** Keras' 'caffe' (keras.applications.resnet50.preprocess_input on
   * keras.utils.load_img(path, target_size=(crop, crop))): resized straight to
   * crop x crop with PIL's NEAREST filter (load_img's default), channels in BGR
   * order, (v - mean) / std with v in 0..255 (std 1: no scaling); resize unused. */
  CLRN_PREPROCESS_CAFFE,
} clrn_preprocess_mode;

/** Preprocessing parameters. mean and std are per channel of the photo, in RGB
 * order, whatever order the mode writes the channels in. */
typedef struct clrn_preprocess {
  int resize; /**< Resize(resize): the shorter side becomes this, bilinear, antialiased */
  int crop;   /**< CenterCrop(crop) (the side of the output) */
  float mean[3];
  float std[3];
  clrn_preprocess_mode mode; /**< 0, CLRN_PREPROCESS_TORCHVISION, in a zeroed struct */
} clrn_preprocess;

/** The ImageNet standard: Resize(256), CenterCrop(224), ToTensor(),
 * Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)). */
CLRN_API void clrn_preprocess_default(clrn_preprocess *preprocess);

/** Keras' 'caffe' preprocessing of keras.applications' ResNet50: mode
 * CLRN_PREPROCESS_CAFFE, 224 x 224, mean (123.68, 116.779, 103.939) (RGB; Keras
 * lists it as BGR [103.939, 116.779, 123.68]), std (1, 1, 1). */
CLRN_API void clrn_preprocess_caffe(clrn_preprocess *preprocess);

/** Applies the preprocessing (mode CLRN_PREPROCESS_CAFFE: as Keras does, see
 * there) or exactly as torchvision 0.14 does on a PIL image and
 * writes 3*crop*crop floats, channel-major, into out: the resized size as
 * torchvision computes it (shorter side = resize, longer = int(resize*long/short)),
 * PIL's fixed-point antialiased bilinear resample (horizontal pass, then vertical,
 * each only when that side changes), CenterCrop with round-half-even offsets and
 * zero padding when the resized image is smaller than the crop, then
 * (v/255 - mean)/std in float32. Only the pixels inside the crop are computed, so
 * very elongated images cost no more than others. Needs a known mode, an image of 1 to
 * CLRN_IMAGE_MAX_PIXELS pixels, 1 <= resize <= 2^24, 1 <= crop <= 2^14, finite
 * means and finite, non-zero stds. */
CLRN_API clrn_status clrn_image_preprocess(const clrn_image *image,
                                           const clrn_preprocess *preprocess, float *out);

/** Most dimensions a clrn_npy array can have. */
#define CLRN_NPY_MAX_DIMS 8

/** A float32 array read from a .npy file. */
typedef struct clrn_npy {
  int ndim; /**< 0 (a scalar) to CLRN_NPY_MAX_DIMS */
  int64_t shape[CLRN_NPY_MAX_DIMS];
  float *data; /**< product(shape) floats, C order; never NULL after a successful read */
} clrn_npy;

/** Reads a little-endian float32 ('<f4'), C-order .npy file (format 1.0, 2.0 or
 * 3.0). The header must be the dict literal numpy writes, with exactly the keys
 * 'descr', 'fortran_order' and 'shape' (any order, either quote style); the data
 * must be exactly product(shape)*4 bytes. Other dtypes ('>f4', '<f8', ...) and
 * Fortran order are refused with CLRN_STATUS_UNSUPPORTED and a detail saying what
 * was found and what is needed; malformed files with CLRN_STATUS_INVALID_FORMAT.
 * max_elements bounds the declared size before anything is allocated
 * (CLRN_STATUS_UNSUPPORTED when exceeded; SIZE_MAX for no bound but memory). On
 * failure *array is left empty. */
CLRN_API clrn_status clrn_npy_read(const char *path, size_t max_elements, clrn_npy *array);

/** Reads only the header of a .npy file, with the same checks as clrn_npy_read()
 * (the file size must match the shape), and fills array->ndim and array->shape;
 * array->data stays NULL. Lets a caller refuse an array by its shape before
 * reading its data. */
CLRN_API clrn_status clrn_npy_read_header(const char *path, clrn_npy *array);

/** Parses .npy bytes already in memory (same checks as clrn_npy_read). */
CLRN_API clrn_status clrn_npy_parse(const void *data, size_t size, const char *name,
                                    size_t max_elements, clrn_npy *array);

/** Frees an array's data and zeroes it. */
CLRN_API void clrn_npy_free(clrn_npy *array);

/** Writes a float32 .npy file (format 1.0, byte for byte what numpy 1.24's np.save
 * writes: header padded with spaces and a newline to a multiple of 64 bytes)
 * atomically: a temporary file in the same folder, renamed over path at the end.
 * ndim is 0 to CLRN_NPY_MAX_DIMS; data may be NULL when the shape holds no element. */
CLRN_API clrn_status clrn_npy_write(const char *path, const float *data, int ndim,
                                    const int64_t *shape);

/** Checks, before any work, that path can be written: its folder exists and a
 * file can be created in it (tried for real, so read-only mounts and ACLs count),
 * and path is not a directory, a read-only file or a file the final rename could
 * not replace (another user's, in a sticky folder). Symbolic links are followed; a
 * character device, a FIFO or one of this process's descriptors (/dev/stdout)
 * passes (they are written directly). Used to report an unwritable output before
 * inference starts. */
CLRN_API clrn_status clrn_output_check(const char *path);

/** Opens path for an atomic write. Symbolic links are followed to the file they
 * lead to. For a regular file (or none yet): a new, uniquely named temporary file
 * in that file's folder, created with mode 0666 less the umask, like fopen; its
 * name comes back in temp (size bytes), and it is listed for
 * clrn_atomic_remove_temporaries() until committed or aborted. For a character
 * device, a FIFO or one of this process's descriptors (/dev/stdout, /dev/fd/N):
 * the target itself, opened for writing (a duplicate of the descriptor), and temp
 * comes back empty. Finish with clrn_atomic_commit() or clrn_atomic_abort().
 * Refuses a directory, a read-only file and other file types, as
 * clrn_output_check() does. */
CLRN_API clrn_status clrn_atomic_open(const char *path, char *temp, size_t size, FILE **file);

/** Flushes and closes the file. For a temporary (temp not empty): fsyncs it first
 * and renames it over the file it was made for (so after a crash that file holds
 * either its old contents or all of the new ones); on failure the temporary is
 * removed and the file is untouched. A symbolic link at path stays a link: its
 * target is what gets replaced. path is used in messages. */
CLRN_API clrn_status clrn_atomic_commit(FILE *file, const char *temp, const char *path);

/** Closes the file and removes the temporary (if any). */
CLRN_API void clrn_atomic_abort(FILE *file, const char *temp);

/** Removes every temporary file of this process that clrn_atomic_open() made and
 * that is not yet committed or aborted. Async-signal-safe (atomic loads and
 * unlink() only), for a program's SIGINT/SIGTERM handler; the library installs no
 * signal handler itself. At most 32 temporaries at a time are listed. */
CLRN_API void clrn_atomic_remove_temporaries(void);

#ifdef __cplusplus
}
#endif
#endif
