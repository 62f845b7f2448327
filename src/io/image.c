/* Photo decoding entry points: reading a file, recognising its format by its first
 * bytes (never by its name), handing it to the JPEG or PNG decoder, and the
 * decompression-bomb check every decoder applies before it allocates pixels.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "clresnet/io.h"
#include "io/codec.h"
#include "io/file.h"

/* Largest file read: a PNG at CLRN_IMAGE_MAX_PIXELS stored uncompressed as 16-bit
 * RGBA is about 1.4 GB. */
#define MAX_FILE_BYTES ((uint64_t)2 << 30)

static const unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

clrn_status clrn_image_alloc(clrn_image *image, uint64_t width, uint64_t height, const char *name) {
  if (width == 0 || height == 0)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: image has no pixels (%llu x %llu)", name,
                     (unsigned long long)width, (unsigned long long)height);
  if (width > CLRN_IMAGE_MAX_PIXELS || height > CLRN_IMAGE_MAX_PIXELS ||
      width * height > CLRN_IMAGE_MAX_PIXELS)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "%s: image is %llu x %llu pixels, more than the limit of %llu "
                     "(decompression bomb protection, as PIL)",
                     name, (unsigned long long)width, (unsigned long long)height,
                     CLRN_IMAGE_MAX_PIXELS);
  image->rgb = malloc((size_t)(width * height * 3));
  if (!image->rgb)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: %llu x %llu RGB pixels", name,
                     (unsigned long long)width, (unsigned long long)height);
  image->width = (int)width;
  image->height = (int)height;
  return CLRN_STATUS_SUCCESS;
}

/* Names formats that are images but not ones we decode, for a clearer refusal. */
static const char *other_format(const unsigned char *p, size_t size) {
  if (size >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
    return "GIF";
  if (size >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
    return "WebP";
  if (size >= 4 && (memcmp(p, "II*\0", 4) == 0 || memcmp(p, "MM\0*", 4) == 0))
    return "TIFF";
  if (size >= 26 && p[0] == 'B' && p[1] == 'M' && p[14] >= 12 && p[15] == 0 && p[16] == 0 &&
      p[17] == 0)
    return "BMP"; /* "BM", then a DIB header size of 12..255 bytes */
  if (size >= 12 && memcmp(p + 4, "ftyp", 4) == 0 &&
      (memcmp(p + 8, "heic", 4) == 0 || memcmp(p + 8, "avif", 4) == 0 ||
       memcmp(p + 8, "mif1", 4) == 0))
    return "HEIF/AVIF";
  return NULL;
}

clrn_status clrn_image_decode(const void *data, size_t size, const char *name, clrn_image *image) {
  if (image)
    memset(image, 0, sizeof *image);
  if ((!data && size) || !image)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_image_decode: NULL argument");
  if (!name)
    name = "<memory>";
  const unsigned char *p = data;
  if (size == 0)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: empty file (0 bytes)", name);
  if (size >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
    return clrn_jpeg_decode(p, size, name, image);
  if (size >= 8 && memcmp(p, png_signature, 8) == 0)
    return clrn_png_decode(p, size, name, image);
  if (size < 8 && memcmp(p, png_signature, size) == 0)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: PNG file is cut short (%zu bytes)", name,
                     size);
  const char *other = other_format(p, size);
  if (other)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED, "%s: %s images are not supported (only JPEG and PNG)",
                     name, other);
  return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                   "%s: not a JPEG or PNG image (unrecognised content, starts %02x %02x %02x %02x)",
                   name, p[0], size > 1 ? p[1] : 0, size > 2 ? p[2] : 0, size > 3 ? p[3] : 0);
}

clrn_status clrn_image_load(const char *path, clrn_image *image) {
  if (image)
    memset(image, 0, sizeof *image);
  if (!path || !image)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_image_load: NULL argument");
  unsigned char *data = NULL;
  FILE *file = NULL;
  uint64_t file_size = 0;
  clrn_status status = clrn_file_open_regular(path, &file, &file_size);
  if (status != CLRN_STATUS_SUCCESS)
    return status;
  if (file_size > MAX_FILE_BYTES) {
    status = clrn_fail(CLRN_STATUS_UNSUPPORTED, "%s: file is %llu bytes, more than %llu", path,
                       (unsigned long long)file_size, (unsigned long long)MAX_FILE_BYTES);
    goto done;
  }
  size_t size = (size_t)file_size;
  data = malloc(size ? size : 1);
  if (!data) {
    status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: %zu bytes", path, size);
    goto done;
  }
  if (fread(data, 1, size, file) != size) {
    status = clrn_fail(CLRN_STATUS_IO_ERROR, "%s: read failed", path);
    goto done;
  }
  status = clrn_image_decode(data, size, path, image);
done:
  free(data);
  fclose(file);
  return status;
}

void clrn_image_free(clrn_image *image) {
  if (!image)
    return;
  free(image->rgb);
  memset(image, 0, sizeof *image);
}
