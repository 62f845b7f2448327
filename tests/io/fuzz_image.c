/* libFuzzer entry point for photo decoding (and, for small images, preprocessing):
 * any bytes must give a status, never a crash, an out-of-bounds access, a leak or
 * undefined behaviour, and libjpeg/libpng must never print or exit. Built when
 * CLRN_FUZZ is ON (tests/io/tests.cmake); seeds in tests/io/corpus/image. */
#include <stddef.h>
#include <stdint.h>

#include "clresnet/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static float tensor[3 * 224 * 224];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  clrn_image image;
  if (clrn_image_decode(data, size, "fuzz.img", &image) != CLRN_STATUS_SUCCESS)
    return 0;
  /* Preprocessing reads every pixel the crop needs: a decoder that claimed more
   * pixels than it wrote shows up here under MSan/ASan. Large images are skipped
   * to keep executions fast. */
  if ((uint64_t)image.width * (uint64_t)image.height <= (1u << 20)) {
    clrn_preprocess preprocess;
    clrn_preprocess_default(&preprocess);
    clrn_image_preprocess(&image, &preprocess, tensor);
  }
  clrn_image_free(&image);
  return 0;
}
