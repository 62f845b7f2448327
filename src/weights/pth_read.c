/* Reading one tensor of a checkpoint (see pth.h): the span of its storage that
 * it covers is read with pread() (a zip entry read whole has its CRC-32
 * checked), gathered into row-major order when its strides are not the
 * contiguous ones, and converted to float32 by the safetensors dtype code. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "weights/pth.h"

#define SHOWN 200

static bool is_contiguous(const clrn_pth_tensor *t) {
  int64_t expected = 1;
  for (int d = t->ndim - 1; d >= 0; d--) {
    if (t->shape[d] != 1 && t->stride[d] != expected)
      return false;
    expected *= t->shape[d];
  }
  return true;
}

/* Reads count elements of storage s from element first on into out. */
static clrn_status read_elements(const clrn_pth *pth, const clrn_pth_storage *s, uint64_t first,
                                 uint64_t count, void *out) {
  uint64_t esize = clrn_dtype_size(s->dtype);
  if (s->entry)
    return clrn_zip_read(&pth->source, s->entry, first * esize, count * esize, out);
  return clrn_source_read(&pth->source, s->offset + first * esize, count * esize, out,
                          "a storage's data");
}

/* Copies the elements of t, in row-major order, out of span (its storage from
 * element t->offset on) into out. */
static void gather(const clrn_pth_tensor *t, const unsigned char *span, size_t esize,
                   unsigned char *out) {
  int64_t index[CLRN_PTH_MAX_DIMS] = {0};
  uint64_t at = 0;
  for (uint64_t i = 0; i < t->elements; i++) {
    memcpy(out + i * esize, span + at * esize, esize);
    for (int d = t->ndim - 1; d >= 0; d--) {
      if (++index[d] < t->shape[d]) {
        at += (uint64_t)t->stride[d];
        break;
      }
      at -= (uint64_t)(t->shape[d] - 1) * (uint64_t)t->stride[d];
      index[d] = 0;
    }
  }
}

/* Reads the raw elements of t, row-major, into raw (elements * esize bytes). */
static clrn_status read_raw(const clrn_pth *pth, const clrn_pth_tensor *t, unsigned char *raw) {
  const clrn_pth_storage *s = &pth->storages[t->storage];
  if (is_contiguous(t))
    return read_elements(pth, s, t->offset, t->elements, raw);
  uint64_t last = 0; /* checked against the storage when the file was opened */
  for (int d = 0; d < t->ndim; d++)
    last += t->shape[d] > 1 ? (uint64_t)(t->shape[d] - 1) * (uint64_t)t->stride[d] : 0;
  size_t esize = clrn_dtype_size(t->dtype);
  unsigned char *span = malloc((size_t)(last + 1) * esize);
  if (!span)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: tensor %.*s", pth->source.name, SHOWN,
                     t->name);
  clrn_status status = read_elements(pth, s, t->offset, last + 1, span);
  if (status == CLRN_STATUS_SUCCESS)
    gather(t, span, esize, raw);
  free(span);
  return status;
}

clrn_status clrn_pth_read_f32(const clrn_pth *pth, const clrn_pth_tensor *t, float *out) {
  if (!pth || !t || (!out && t->elements))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_pth_read_f32: NULL argument");
  if (t->dtype != CLRN_DTYPE_F32 && t->dtype != CLRN_DTYPE_F16 && t->dtype != CLRN_DTYPE_BF16)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "%s: tensor %.*s is a torch.%s; only float32, float16 and bfloat16 convert "
                     "to float32",
                     pth->source.name, SHOWN, t->name, pth->storages[t->storage].type_name);
  if (!t->elements)
    return CLRN_STATUS_SUCCESS;
  /* The raw elements are read into the start of out, then converted in place
   * (the conversion runs from the last element down, so halves may share out). */
  size_t esize = clrn_dtype_size(t->dtype);
  CLRN_TRY(read_raw(pth, t, (unsigned char *)out));
  clrn_st_tensor view = {.name = t->name,
                         .dtype = t->dtype,
                         .elements = t->elements,
                         .data = (const unsigned char *)out,
                         .bytes = t->elements * esize};
  return clrn_safetensors_read_f32(NULL, &view, out);
}
