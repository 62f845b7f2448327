/* Float to binary16 conversion (see half.h). */
#include "base/half.h"

#include <string.h>

uint16_t clrn_half_from_float(float value) {
  uint32_t x;
  memcpy(&x, &value, sizeof x);
  uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
  uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) /* Inf or NaN (NaN keeps a quiet payload bit) */
    return (uint16_t)(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
  if (abs >= 0x477ff000u) /* rounds to 65536 or more: infinity */
    return (uint16_t)(sign | 0x7c00u);
  if (abs < 0x38800000u) { /* below 2^-14: a subnormal half (or zero) */
    if (abs < 0x33000000u) /* below half the smallest subnormal, 2^-25: zero */
      return sign;
    uint32_t exponent = abs >> 23, mantissa = (abs & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - exponent; /* 14..24: value = mantissa * 2^(exponent - 150) */
    uint32_t result = mantissa >> shift, rest = mantissa & ((1u << shift) - 1u);
    uint32_t halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (result & 1u)))
      result++;
    return (uint16_t)(sign | result);
  }
  /* Normal: rebias the exponent (127 -> 15), round the 13 dropped bits to even;
   * a carry into the exponent is the right result. */
  uint32_t result = (abs - 0x38000000u) >> 13, rest = abs & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (result & 1u)))
    result++;
  return (uint16_t)(sign | result);
}

void clrn_half_from_floats(const float *in, size_t count, uint16_t *out) {
  for (size_t i = 0; i < count; i++)
    out[i] = clrn_half_from_float(in[i]);
}
