/* Internal: the JPEG and PNG decoders behind clrn_image_decode() (jpeg.c, png.c)
 * and the pixel allocation they share (image.c). */
#ifndef CLRN_IO_CODEC_H
#define CLRN_IO_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "clresnet/io.h"

/** Decodes a JPEG as PIL's Image.open().convert("RGB") does; data starts FF D8 FF. */
clrn_status clrn_jpeg_decode(const unsigned char *data, size_t size, const char *name,
                             clrn_image *image);

/** Decodes a PNG as PIL's Image.open().convert("RGB") does; data starts with the
 * PNG signature. */
clrn_status clrn_png_decode(const unsigned char *data, size_t size, const char *name,
                            clrn_image *image);

/** Refuses width*height > CLRN_IMAGE_MAX_PIXELS (or a zero side), then allocates
 * width*height*3 bytes of pixels into image. Called once the header is read and
 * before anything else is allocated for the pixels. */
clrn_status clrn_image_alloc(clrn_image *image, uint64_t width, uint64_t height, const char *name);

#endif
