/* Table columns for the program's text output: a value padded to its column's
 * width, or cut and marked with "…" so a cut name never passes for a whole one. */
#include <string.h>

#include "cli.h"

/* Bytes of the UTF-8 character that starts at text (1 for a stray byte). */
static size_t char_bytes(const char *text) {
  size_t n = 1;
  while (text[n] && ((unsigned char)text[n] & 0xC0) == 0x80)
    n++;
  return n;
}

void cli_column(const char *text, size_t width, char *out, size_t size) {
  static const char ellipsis[] = "\xE2\x80\xA6"; /* U+2026 "…" */
  size_t chars = 0, used = 0;
  for (const char *c = text; *c; c += char_bytes(c))
    chars++;
  size_t keep = chars <= width ? chars : width > 0 ? width - 1 : 0;
  const char *c = text;
  for (size_t i = 0; i < keep; i++) {
    size_t n = char_bytes(c);
    if (used + n >= size)
      break;
    memcpy(out + used, c, n);
    used += n;
    c += n;
  }
  if (chars > width && width > 0 && used + sizeof ellipsis <= size) {
    memcpy(out + used, ellipsis, sizeof ellipsis - 1);
    used += sizeof ellipsis - 1;
  }
  for (size_t i = chars < width ? chars : width; i < width && used + 1 < size; i++)
    out[used++] = ' ';
  if (size > 0)
    out[used < size ? used : size - 1] = '\0';
}
