/* UTF-8 decoding (see utf8.h). */
#include "base/utf8.h"

size_t clrn_utf8_sequence(const unsigned char *s, size_t size, uint32_t *code) {
  if (size == 0)
    return 0;
  unsigned char c = s[0];
  size_t follow;
  unsigned char lo = 0x80, hi = 0xBF; /* range of the first continuation byte */
  if (c < 0x80) {
    *code = c;
    return 1;
  } else if (c >= 0xC2 && c <= 0xDF) {
    follow = 1;
    *code = c & 0x1Fu;
  } else if (c >= 0xE0 && c <= 0xEF) {
    follow = 2;
    *code = c & 0x0Fu;
    lo = c == 0xE0 ? 0xA0 : 0x80;
    hi = c == 0xED ? 0x9F : 0xBF;
  } else if (c >= 0xF0 && c <= 0xF4) {
    follow = 3;
    *code = c & 0x07u;
    lo = c == 0xF0 ? 0x90 : 0x80;
    hi = c == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 0;
  }
  if (follow > size - 1 || s[1] < lo || s[1] > hi)
    return 0;
  for (size_t k = 1; k <= follow; k++) {
    if (k > 1 && (s[k] < 0x80 || s[k] > 0xBF))
      return 0;
    *code = *code << 6 | (s[k] & 0x3Fu);
  }
  return follow + 1;
}
