/* libFuzzer entry point for the .npy parser: any bytes must give a status, never a
 * crash, an out-of-bounds access, a leak or undefined behaviour. Built when
 * CLRN_FUZZ is ON (tests/io/tests.cmake); seeds in tests/io/corpus/npy. */
#include <stddef.h>
#include <stdint.h>

#include "clresnet/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  clrn_npy array;
  /* A bound well below the fuzzer's memory limit: big declared shapes must be
   * refused from the header, not allocated. */
  if (clrn_npy_parse(data, size, "fuzz.npy", (size_t)1 << 26, &array) == CLRN_STATUS_SUCCESS)
    clrn_npy_free(&array);
  return 0;
}
