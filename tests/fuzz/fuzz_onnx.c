/* libFuzzer entry point for the ONNX importer: the wire-format check and protobuf-c
 * decoding (weights/onnx_model.c), the graph read as layers (nn/onnx_layers.c) and
 * the match onto the torchvision graphs (nn/onnx_match.c), as clrn_weights_open()
 * runs them, then every tensor the match named read as the plan reads it. Any byte
 * string must be refused with the model left zeroed, or bound with each named
 * tensor findable and readable; the sanitizers catch the rest (out of bounds,
 * overflow, leaks, stack exhaustion). Built only with -DCLRN_FUZZ=ON (see
 * tests/fuzz/tests.cmake). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn/onnx_match.h"
#include "weights/weights.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  clrn_weights *w = calloc(1, sizeof *w);
  if (!w)
    return 0;
  snprintf(w->path, sizeof w->path, "fuzz.onnx");
  clrn_onnx_model zero;
  memset(&zero, 0, sizeof zero);
  if (clrn_onnx_parse(data, size, "fuzz.onnx", &w->onnx) != CLRN_STATUS_SUCCESS) {
    if (memcmp(&w->onnx, &zero, sizeof zero) != 0)
      abort();
    free(w);
    return 0;
  }
  w->is_onnx = true;
  clrn_arch arch;
  if (clrn_onnx_bind(w, &arch) == CLRN_STATUS_SUCCESS) {
    for (size_t i = 0; i < clrn_weights_count(w); i++) {
      clrn_tensor_info t = clrn_weights_at(w, i);
      clrn_tensor_info found;
      if (!clrn_weights_find(w, t.name, &found) || found.ndim != t.ndim)
        abort();
      size_t elements = 1;
      for (int d = 0; d < t.ndim; d++)
        elements *= (size_t)t.shape[d];
      float *out = elements <= (1u << 22) ? malloc(elements ? elements * sizeof *out : 1) : NULL;
      if (out)
        (void)clrn_weights_read(w, t.name, t.ndim, t.shape, out);
      free(out);
    }
  }
  clrn_weights_close(w);
  return 0;
}
