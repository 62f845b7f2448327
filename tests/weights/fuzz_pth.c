/* libFuzzer entry point for the .pth reader (zip and legacy containers, the pickle
 * machine). Any byte string must be either refused, leaving the result zeroed, or
 * accepted with every tensor findable by name, inside its storage and readable
 * when it is a small float tensor; the sanitizers catch the rest (out of bounds,
 * overflow, leaks). Because a zip entry whose bytes change fails its CRC-32, the
 * pickle machine is also run straight on the pickles found in the input (at each
 * protocol 2 header), so mutations reach it. Built only with -DCLRN_FUZZ=ON (see
 * tests.cmake). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weights/pth_parts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs the pickle machine at up to 8 places where a protocol 2 pickle starts. */
static void run_pickles(const uint8_t *data, size_t size) {
  int runs = 0;
  for (size_t at = 0; at + 1 < size && runs < 8; at++) {
    if (data[at] != 0x80 || data[at + 1] != 2)
      continue;
    runs++;
    clrn_pickle p;
    size_t used = 0;
    bool ran_out = false;
    if (clrn_pickle_run(data + at, size - at, "fuzz.pkl", at, &clrn_pth_rules, &p, &used,
                        &ran_out) != CLRN_STATUS_SUCCESS) {
      if (p.values || p.count)
        abort();
      continue;
    }
    if (used > size - at || p.root >= p.count)
      abort();
    clrn_pickle_free(&p);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  run_pickles(data, size);
  clrn_pth pth, zero;
  memset(&zero, 0, sizeof zero);
  if (clrn_pth_parse(data, size, "fuzz.pth", &pth) != CLRN_STATUS_SUCCESS) {
    if (memcmp(&pth, &zero, sizeof pth) != 0)
      abort();
    return 0;
  }
  for (size_t i = 0; i < pth.count; i++) {
    const clrn_pth_tensor *t = &pth.tensors[i];
    const clrn_pth_storage *s = &pth.storages[t->storage];
    if (clrn_pth_find(&pth, t->name) != t || t->storage >= pth.storage_count || !s->located ||
        s->offset > size || s->elements * clrn_dtype_size(s->dtype) > size - s->offset)
      abort();
    clrn_dtype d = t->dtype;
    if ((d == CLRN_DTYPE_F32 || d == CLRN_DTYPE_F16 || d == CLRN_DTYPE_BF16) &&
        t->elements <= (1u << 20)) {
      float *out = malloc(t->elements ? t->elements * sizeof *out : 1);
      clrn_status status = out ? clrn_pth_read_f32(&pth, t, out) : CLRN_STATUS_SUCCESS;
      /* A read fails only on a storage whose CRC-32 does not match. */
      if (status != CLRN_STATUS_SUCCESS && status != CLRN_STATUS_INVALID_FORMAT)
        abort();
      free(out);
    }
  }
  clrn_pth_close(&pth);
  return 0;
}
