/* libFuzzer entry point for the safetensors parser. Any byte string must be either
 * refused, leaving the result zeroed, or accepted with every tensor inside the
 * input and every float tensor convertible; the sanitizers catch the rest (out of
 * bounds, overflow, leaks). Built only with -DCLRN_FUZZ=ON (see tests.cmake). */
#include <stdint.h>
#include <stdlib.h>

#include "weights/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  clrn_safetensors st;
  if (clrn_safetensors_parse(data, size, "fuzz.safetensors", &st) != CLRN_STATUS_SUCCESS) {
    if (st.tensors || st.count || st.metadata || st.metadata_count)
      abort();
    return 0;
  }
  uint64_t covered = 0;
  for (size_t i = 0; i < st.count; i++) {
    const clrn_st_tensor *t = &st.tensors[i];
    if (t->data < data || t->bytes > size || t->data + t->bytes > data + size ||
        t->bytes != t->elements * clrn_dtype_size(t->dtype) ||
        clrn_safetensors_find(&st, t->name) != t)
      abort();
    covered += t->bytes;
    clrn_dtype d = t->dtype;
    if (d == CLRN_DTYPE_F32 || d == CLRN_DTYPE_F16 || d == CLRN_DTYPE_BF16) {
      float *out = malloc(t->elements ? t->elements * sizeof *out : 1);
      if (out && clrn_safetensors_read_f32(&st, t, out) != CLRN_STATUS_SUCCESS)
        abort();
      free(out);
    }
  }
  if (covered > size) /* the ranges tile the data section, so they cannot add up to more */
    abort();
  clrn_safetensors_close(&st);
  return 0;
}
