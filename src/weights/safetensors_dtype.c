/* safetensors element types: names, sizes, and the exact conversion of F32, F16
 * and BF16 tensors to float32 (see safetensors.h). Bytes are read one by one as
 * little-endian, so the conversion neither needs aligned data nor depends on the
 * host's byte order. */
#include <string.h>

#include "base/error.h"
#include "weights/safetensors.h"

/* Longest part of a tensor name quoted in an error message. */
#define SHOWN 200

static const struct {
  const char *name;
  size_t size;
} dtype_table[] = {
    [CLRN_DTYPE_BOOL] = {"BOOL", 1},       [CLRN_DTYPE_U8] = {"U8", 1},
    [CLRN_DTYPE_I8] = {"I8", 1},           [CLRN_DTYPE_I16] = {"I16", 2},
    [CLRN_DTYPE_U16] = {"U16", 2},         [CLRN_DTYPE_F16] = {"F16", 2},
    [CLRN_DTYPE_BF16] = {"BF16", 2},       [CLRN_DTYPE_I32] = {"I32", 4},
    [CLRN_DTYPE_U32] = {"U32", 4},         [CLRN_DTYPE_F32] = {"F32", 4},
    [CLRN_DTYPE_F64] = {"F64", 8},         [CLRN_DTYPE_I64] = {"I64", 8},
    [CLRN_DTYPE_U64] = {"U64", 8},         [CLRN_DTYPE_F8_E4M3] = {"F8_E4M3", 1},
    [CLRN_DTYPE_F8_E5M2] = {"F8_E5M2", 1},
};
#define DTYPE_COUNT (sizeof dtype_table / sizeof dtype_table[0])

const char *clrn_dtype_name(clrn_dtype dtype) {
  return (size_t)dtype < DTYPE_COUNT ? dtype_table[dtype].name : "?";
}

size_t clrn_dtype_size(clrn_dtype dtype) {
  return (size_t)dtype < DTYPE_COUNT ? dtype_table[dtype].size : 0;
}

bool clrn_dtype_from_name(const char *name, clrn_dtype *dtype) {
  for (size_t i = 0; name && i < DTYPE_COUNT; i++)
    if (strcmp(name, dtype_table[i].name) == 0) {
      *dtype = (clrn_dtype)i;
      return true;
    }
  return false;
}

static float bits_to_float(uint32_t bits) {
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

/* IEEE binary16 to binary32, exactly. Subnormal halves become normal floats: the
 * mantissa is shifted up until its leading one reaches the implicit bit. */
static uint32_t half_to_float_bits(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1Fu;
  uint32_t mantissa = h & 0x3FFu;
  if (exponent == 0x1F) /* infinity, or NaN with its payload (the quiet bit included) */
    return sign | 0x7F800000u | mantissa << 13;
  if (exponent != 0)
    return sign | (exponent + 112) << 23 | mantissa << 13; /* rebias 15 -> 127 */
  if (mantissa == 0)
    return sign;
  uint32_t shift = 0;
  while (!(mantissa & 0x400u)) {
    mantissa <<= 1;
    shift++;
  }
  /* value = mantissa * 2^-24 = 1.f * 2^(-14 - shift): biased exponent 113 - shift */
  return sign | (113 - shift) << 23 | (mantissa & 0x3FFu) << 13;
}

void clrn_dtype_convert_f32(clrn_dtype dtype, const unsigned char *raw, uint64_t n, float *out) {
  switch (dtype) {
  case CLRN_DTYPE_F32:
    for (uint64_t i = n; i-- > 0;) {
      const unsigned char *p = raw + 4 * i;
      out[i] = bits_to_float((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                             (uint32_t)p[3] << 24);
    }
    break;
  case CLRN_DTYPE_F16:
    for (uint64_t i = n; i-- > 0;) {
      const unsigned char *p = raw + 2 * i;
      out[i] = bits_to_float(half_to_float_bits((uint16_t)(p[0] | p[1] << 8)));
    }
    break;
  default: /* BF16: the top half of a binary32 */
    for (uint64_t i = n; i-- > 0;) {
      const unsigned char *p = raw + 2 * i;
      out[i] = bits_to_float((uint32_t)p[0] << 16 | (uint32_t)p[1] << 24);
    }
    break;
  }
}

clrn_status clrn_safetensors_read_f32(const clrn_safetensors *file, const clrn_st_tensor *tensor,
                                      float *out) {
  if (!tensor || (!out && tensor->elements))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_safetensors_read_f32: NULL argument");
  if (tensor->dtype != CLRN_DTYPE_F32 && tensor->dtype != CLRN_DTYPE_F16 &&
      tensor->dtype != CLRN_DTYPE_BF16)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "tensor '%.*s' has dtype %s; only F32, F16 and BF16 convert to float32", SHOWN,
                     tensor->name ? tensor->name : "?", clrn_dtype_name(tensor->dtype));
  const unsigned char *raw = tensor->data;
  if (!raw && tensor->elements) { /* an opened file: read the bytes into out, convert in place */
    CLRN_TRY(clrn_safetensors_read_bytes(file, tensor, out));
    raw = (const unsigned char *)out;
  }
  clrn_dtype_convert_f32(tensor->dtype, raw, tensor->elements, out);
  return CLRN_STATUS_SUCCESS;
}
