/* JPEG decoding through libjpeg(-turbo), set up the way PIL's JpegDecode.c sets it
 * up for Image.open(p).convert("RGB"), so both produce the same pixels from the
 * same library: default (islow) DCT and fancy upsampling; 1 component decoded as
 * grey (replicated), 3 as RGB (libjpeg converts YCbCr or Adobe RGB), 4 as CMYK
 * (libjpeg converts YCCK) then inverted ("CMYK;I": PIL always assumes Adobe's
 * convention) and turned into RGB with PIL's cmyk2rgb. EXIF orientation is ignored.
 *
 * libjpeg reports errors through error_exit, which must not return: ours records
 * the message and longjmps back. Warnings are silenced, except "premature end of
 * JPEG file": libjpeg would fill the rest grey, PIL raises "image file is
 * truncated", and so do we (anywhere before EOI, as PIL does even for a missing EOI).
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include <jerror.h>

#include "base/error.h"
#include "io/codec.h"

typedef struct jpeg_errors {
  struct jpeg_error_mgr pub; /* first, so libjpeg's pointer is also ours */
  jmp_buf jump;
  bool truncated;
  char message[JMSG_LENGTH_MAX];
} jpeg_errors;

static void on_error_exit(j_common_ptr cinfo) {
  jpeg_errors *errors = (jpeg_errors *)cinfo->err;
  cinfo->err->format_message(cinfo, errors->message);
  longjmp(errors->jump, 1);
}

/* Traces and warnings (level >= 0 and -1) are dropped, but a premature end of the
 * data is an error for us. */
static void on_emit_message(j_common_ptr cinfo, int level) {
  jpeg_errors *errors = (jpeg_errors *)cinfo->err;
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
    errors->truncated = true;
    longjmp(errors->jump, 1);
  }
}

static void on_output_message(j_common_ptr cinfo) { (void)cinfo; }

/* PIL's MULDIV255: a*b/255 rounded, exactly as Convert.c computes it. */
static int muldiv255(int a, int b) {
  int t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

static unsigned char clip8(int v) { return (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v); }

/* One decoded scanline (1, 3 or 4 components) to RGB. */
static void row_to_rgb(const unsigned char *in, int components, int width, unsigned char *out) {
  for (int x = 0; x < width; x++, out += 3) {
    if (components == 1) {
      out[0] = out[1] = out[2] = in[x];
    } else if (components == 3) {
      memcpy(out, in + 3 * x, 3);
    } else {
      /* PIL's "CMYK;I" unpacking inverts each sample, then cmyk2rgb computes
       * nk = 255 - k and each channel as nk - c*nk/255. */
      const unsigned char *p = in + 4 * x;
      int k = 255 - p[3], nk = 255 - k;
      for (int c = 0; c < 3; c++)
        out[c] = clip8(nk - muldiv255(255 - p[c], nk));
    }
  }
}

clrn_status clrn_jpeg_decode(const unsigned char *data, size_t size, const char *name,
                             clrn_image *image) {
  struct jpeg_decompress_struct cinfo;
  jpeg_errors errors;
  /* Written between setjmp() and a possible longjmp(), read after: volatile. */
  unsigned char *volatile row = NULL;
  volatile clrn_status status = CLRN_STATUS_SUCCESS;
  memset(&cinfo, 0, sizeof cinfo);
  cinfo.err = jpeg_std_error(&errors.pub);
  errors.pub.error_exit = on_error_exit;
  errors.pub.emit_message = on_emit_message;
  errors.pub.output_message = on_output_message;
  errors.truncated = false;
  errors.message[0] = '\0';
  if (setjmp(errors.jump)) {
    if (errors.truncated)
      status =
          clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                    "%s: image file is truncated (JPEG data ends before the image does)", name);
    else
      status = clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: corrupt JPEG: %s", name, errors.message);
    goto done;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_read_header(&cinfo, TRUE);
  int components = cinfo.num_components;
  if (components != 1 && components != 3 && components != 4) {
    status = clrn_fail(CLRN_STATUS_UNSUPPORTED, "%s: JPEG with %d components (need 1, 3 or 4)",
                       name, components);
    goto done;
  }
  status = clrn_image_alloc(image, cinfo.image_width, cinfo.image_height, name);
  if (status != CLRN_STATUS_SUCCESS)
    goto done;
  cinfo.out_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_start_decompress(&cinfo);
  if (cinfo.output_components != components || (int)cinfo.output_width != image->width ||
      (int)cinfo.output_height != image->height) {
    status = clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: JPEG output differs from its header", name);
    goto done;
  }
  row = malloc((size_t)image->width * (size_t)components);
  if (!row) {
    status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: JPEG row", name);
    goto done;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW rows[1] = {row};
    size_t y = cinfo.output_scanline;
    if (jpeg_read_scanlines(&cinfo, rows, 1) != 1) {
      status = clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: JPEG decoder returned no row", name);
      goto done;
    }
    row_to_rgb(row, components, image->width, image->rgb + y * (size_t)image->width * 3);
  }
  jpeg_finish_decompress(&cinfo); /* reads up to EOI: a missing EOI is a truncation */
done:
  jpeg_destroy_decompress(&cinfo);
  free(row);
  if (status != CLRN_STATUS_SUCCESS)
    clrn_image_free(image);
  return status;
}
