/* libFuzzer entry point for the Keras .h5 reader (src/weights/h5.c) over libhdf5's
 * in-memory file driver. Any byte string must be either refused, leaving the result
 * zeroed, or accepted with every tensor findable by its name, of a float dtype and
 * at most 4 dimensions, and readable when small (a read may fail only with a clrn
 * status, never crash); the sanitizers catch the rest in our code. libhdf5 itself
 * is not instrumented. Built only with -DCLRN_FUZZ=ON (see tests.cmake). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weights/h5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  clrn_h5 h5, zero;
  memset(&zero, 0, sizeof zero);
  if (clrn_h5_parse(data, size, "fuzz.h5", &h5) != CLRN_STATUS_SUCCESS) {
    if (memcmp(&h5, &zero, sizeof h5) != 0)
      abort();
    return 0;
  }
  for (size_t i = 0; i < h5.count; i++) {
    const clrn_h5_tensor *t = &h5.tensors[i];
    if (clrn_h5_find(&h5, t->name) != t || t->ndim < 1 || t->ndim > CLRN_H5_MAX_DIMS ||
        (t->dtype != CLRN_DTYPE_F32 && t->dtype != CLRN_DTYPE_F16 && t->dtype != CLRN_DTYPE_F64))
      abort();
    uint64_t elements = 1;
    for (int d = 0; d < t->ndim; d++)
      elements *= (uint64_t)t->shape[d];
    if (elements <= (1u << 16)) {
      float *out = malloc(elements ? elements * sizeof *out : 1);
      if (out)
        (void)clrn_h5_read_f32(&h5, t, out);
      free(out);
    }
  }
  clrn_h5_close(&h5);
  return 0;
}
