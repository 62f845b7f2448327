/* PNG decoding through libpng, converting to RGB the way PIL 9 does for
 * Image.open(p).convert("RGB") (PIL decodes PNG itself; its rules were checked one
 * by one against PIL 9.4, see tests/io/reference.py):
 *   grey 1/2/4/8-bit   scaled to 8 bits (x255, x85, x17), replicated
 *   grey 16-bit        PIL mode "I": convert() clips, so min(v, 255), replicated
 *   grey+alpha 8/16    grey (high byte for 16), alpha dropped
 *   RGB, RGBA 8/16     high byte for 16, alpha dropped (no compositing)
 *   palette 1/2/4/8    PLTE colours; indices past the palette read PIL's grey
 *                      ramp (i, i, i); tRNS ignored
 * Gamma, colour profiles, sBIT and tRNS are not applied, as in PIL.
 *
 * libpng's errors longjmp back here; its warnings are silenced. Stricter than PIL
 * on three corrupt cases: CRC errors in any chunk are refused (PIL checks the
 * chunks before the image data, not IDAT), so is a file cut inside its last IDAT
 * chunk even when every row is there, and a palette image without PLTE (PIL
 * shows its grey ramp). Chunks after the image data are not read, so a missing
 * IEND is accepted, as PIL accepts it.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "base/error.h"
#include "io/codec.h"

typedef struct png_source {
  const unsigned char *data;
  size_t size, offset;
  char message[200];
} png_source;

static void on_read(png_structp png, png_bytep out, size_t length) {
  png_source *source = png_get_io_ptr(png);
  if (length > source->size - source->offset)
    png_error(png, "file is truncated");
  memcpy(out, source->data + source->offset, length);
  source->offset += length;
}

static void on_error(png_structp png, png_const_charp message) {
  png_source *source = png_get_error_ptr(png);
  snprintf(source->message, sizeof source->message, "%s", message);
  for (char *p = source->message; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp message) {
  (void)png;
  (void)message;
}

typedef struct png_layout {
  int color_type, bit_depth; /* after the transforms asked for */
  unsigned char palette[256 * 3];
} png_layout;

/* PIL's palette: the PLTE entries, then the grey ramp it starts from. */
static void load_palette(png_structp png, png_infop info, unsigned char *palette) {
  for (int i = 0; i < 256; i++)
    palette[3 * i] = palette[3 * i + 1] = palette[3 * i + 2] = (unsigned char)i;
  png_colorp entries = NULL;
  int count = 0;
  if (png_get_PLTE(png, info, &entries, &count) == PNG_INFO_PLTE)
    for (int i = 0; i < count && i < 256; i++) {
      palette[3 * i] = entries[i].red;
      palette[3 * i + 1] = entries[i].green;
      palette[3 * i + 2] = entries[i].blue;
    }
}

/* One row, as libpng delivers it after the transforms, to RGB. */
static void row_to_rgb(const png_layout *layout, const unsigned char *in, int width,
                       unsigned char *out) {
  bool wide = layout->bit_depth == 16;
  int step = wide ? 2 : 1; /* bytes per sample; big-endian, so the high byte first */
  switch (layout->color_type) {
  case PNG_COLOR_TYPE_GRAY:
    for (int x = 0; x < width; x++, out += 3) {
      unsigned v = wide ? (unsigned)in[2 * x] << 8 | in[2 * x + 1] : in[x];
      out[0] = out[1] = out[2] = (unsigned char)(v > 255 ? 255 : v); /* PIL's I -> RGB */
    }
    break;
  case PNG_COLOR_TYPE_GRAY_ALPHA:
    for (int x = 0; x < width; x++, out += 3)
      out[0] = out[1] = out[2] = in[2 * step * x];
    break;
  case PNG_COLOR_TYPE_RGB:
  case PNG_COLOR_TYPE_RGB_ALPHA: {
    int pixel = (layout->color_type == PNG_COLOR_TYPE_RGB ? 3 : 4) * step;
    if (pixel == 3) {
      memcpy(out, in, (size_t)width * 3);
      break;
    }
    for (int x = 0; x < width; x++, out += 3, in += pixel) {
      out[0] = in[0];
      out[1] = in[step];
      out[2] = in[2 * step];
    }
    break;
  }
  default: /* palette, one index per byte */
    for (int x = 0; x < width; x++, out += 3)
      memcpy(out, layout->palette + 3 * in[x], 3);
    break;
  }
}

clrn_status clrn_png_decode(const unsigned char *data, size_t size, const char *name,
                            clrn_image *image) {
  png_source source = {data, size, 0, ""};
  png_layout layout;
  /* Written between setjmp() and a possible longjmp(), read after: volatile. */
  unsigned char *volatile buffer = NULL;
  png_bytep *volatile rows = NULL;
  volatile clrn_status status = CLRN_STATUS_SUCCESS;
  png_infop info = NULL;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &source, on_error, on_warning);
  if (!png || !(info = png_create_info_struct(png))) {
    status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: libpng structures", name);
    goto done;
  }
  if (setjmp(png_jmpbuf(png))) {
    status = clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: corrupt PNG: %s", name, source.message);
    goto done;
  }
  png_set_read_fn(png, &source, on_read);
  /* libpng's default 1,000,000-pixel side limit is not PIL's; the pixel count
   * limit below is. */
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
  png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
  png_read_info(png, info);
  png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
  status = clrn_image_alloc(image, width, height, name);
  if (status != CLRN_STATUS_SUCCESS)
    goto done;
  int color_type = png_get_color_type(png, info);
  if (png_get_bit_depth(png, info) < 8) {
    if (color_type == PNG_COLOR_TYPE_GRAY)
      png_set_expand_gray_1_2_4_to_8(png);
    else
      png_set_packing(png); /* palette: one index per byte */
  }
  if (color_type == PNG_COLOR_TYPE_PALETTE)
    load_palette(png, info, layout.palette);
  int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  layout.color_type = png_get_color_type(png, info);
  layout.bit_depth = png_get_bit_depth(png, info);
  size_t row_bytes = png_get_rowbytes(png, info);
  size_t stored_rows = passes > 1 ? height : 1; /* interlaced passes fill the whole image */
  buffer = malloc(row_bytes * stored_rows);
  rows = malloc(sizeof *rows * stored_rows);
  if (!buffer || !rows) {
    status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: PNG rows", name);
    goto done;
  }
  for (size_t y = 0; y < stored_rows; y++)
    rows[y] = buffer + y * row_bytes;
  if (passes > 1) {
    png_read_image(png, rows);
    for (size_t y = 0; y < height; y++)
      row_to_rgb(&layout, rows[y], (int)width, image->rgb + y * width * 3);
  } else {
    for (size_t y = 0; y < height; y++) {
      png_read_row(png, rows[0], NULL);
      row_to_rgb(&layout, rows[0], (int)width, image->rgb + y * width * 3);
    }
  }
done:
  png_destroy_read_struct(png ? (png_structpp)&png : NULL, info ? &info : NULL, NULL);
  free(buffer);
  free(rows);
  if (status != CLRN_STATUS_SUCCESS)
    clrn_image_free(image);
  return status;
}
