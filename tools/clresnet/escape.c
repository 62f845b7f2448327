/* Escaping text from files for the terminal and for JSON (see escape.h). Both
 * outputs scan UTF-8 the same way: a valid sequence is either printable (copied)
 * or a control (escaped); an invalid byte is escaped on its own. */
#include "escape.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"

/* The valid UTF-8 sequence at the start of the NUL-terminated s (see utf8.h). */
static size_t utf8_sequence(const unsigned char *s, uint32_t *code) {
  return clrn_utf8_sequence(s, strnlen((const char *)s, 4), code); /* 4: the longest */
}

/* A code point that must not reach a terminal raw. */
static bool is_control(uint32_t code) {
  return code < 0x20 || (code >= 0x7F && code <= 0x9F) || (code >= 0x202A && code <= 0x202E) ||
         (code >= 0x2066 && code <= 0x2069);
}

/* Writes text escaped; with lines, newlines and tabs pass, and every line after
 * the first is indented so that none can pass for a line of clresnet's own. */
static void put(FILE *f, const char *text, bool lines) {
  const unsigned char *s = (const unsigned char *)(text ? text : "(null)");
  while (*s) {
    uint32_t code;
    size_t n = utf8_sequence(s, &code);
    if (lines && (*s == '\n' || *s == '\t'))
      fputs(*s == '\n' ? "\n  " : "\t", f);
    else if (n == 0 || (n == 1 && is_control(code)))
      fprintf(f, "\\x%02x", *s);
    else if (is_control(code))
      fprintf(f, "\\u%04x", (unsigned)code);
    else
      fwrite(s, 1, n, f);
    s += n ? n : 1;
  }
}

void cli_put_escaped(FILE *f, const char *text) { put(f, text, false); }

void cli_put_escaped_lines(FILE *f, const char *text) { put(f, text, true); }

void cli_vprint_escaped(FILE *f, const char *fmt, va_list args) {
  va_list copy;
  va_copy(copy, args);
  int length = vsnprintf(NULL, 0, fmt, copy);
  va_end(copy);
  char *text = length >= 0 ? malloc((size_t)length + 1) : NULL;
  if (!text) {
    fputs("(out of memory formatting a message)", f);
    return;
  }
  vsnprintf(text, (size_t)length + 1, fmt, args);
  cli_put_escaped(f, text);
  free(text);
}

void cli_print_line(FILE *f, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  cli_vprint_escaped(f, fmt, args);
  va_end(args);
  fputc('\n', f);
}

static bool put_json(FILE *f, const cJSON *root, bool formatted) {
  char *text = formatted ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
  if (!text)
    return false;
  /* Outside strings cJSON writes only ASCII without controls, so every byte
   * handled here lies inside a string, where an escape means the same. */
  const unsigned char *s = (const unsigned char *)text;
  while (*s) {
    uint32_t code;
    size_t n = utf8_sequence(s, &code);
    if (n == 0)
      fputs("\\ufffd", f);
    else if (n > 1 && is_control(code))
      fprintf(f, "\\u%04x", (unsigned)code);
    else if (code == 0x7F)
      fputs("\\u007f", f);
    else
      fwrite(s, 1, n, f);
    s += n ? n : 1;
  }
  fputc('\n', f);
  free(text);
  return true;
}

bool cli_put_json(FILE *f, const cJSON *root) { return put_json(f, root, true); }

bool cli_put_json_line(FILE *f, const cJSON *root) { return put_json(f, root, false); }
