/* The .npy header: the Python dict literal numpy writes after the magic and the
 * header length, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (3, 224, 224), }
 *
 * The parser accepts exactly the Python syntax numpy's reader would accept for
 * such a dict (either quote style, any key order, optional trailing commas, any
 * whitespace) and nothing else: the three keys once each, a string descr, a bool
 * fortran_order and a tuple of decimal integers for shape ("(3)" is an int, not a
 * tuple, as in Python). It then requires '<f4' and C order, naming what it found.
 */
#include "io/npy_header.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"

typedef struct cursor {
  const char *text;
  size_t length, at;
  const char *name;
} cursor;

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void skip_space(cursor *c) {
  while (c->at < c->length && is_space(c->text[c->at]))
    c->at++;
}

/* The next character, or 0 at the end (a NUL inside the header is refused before). */
static char peek(const cursor *c) { return c->at < c->length ? c->text[c->at] : '\0'; }

static clrn_status syntax(const cursor *c, const char *expected) {
  char found[16];
  if (c->at >= c->length)
    snprintf(found, sizeof found, "the end");
  else if (c->text[c->at] >= 0x20 && c->text[c->at] < 0x7f)
    snprintf(found, sizeof found, "'%c'", c->text[c->at]);
  else
    snprintf(found, sizeof found, "byte 0x%02x", (unsigned char)c->text[c->at]);
  return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                   "%s: malformed .npy header: expected %s at offset %zu, found %s", c->name,
                   expected, c->at, found);
}

/* A quoted string without escapes (numpy never writes any) into out. */
static clrn_status parse_string(cursor *c, char *out, size_t size) {
  char quote = peek(c);
  if (quote != '\'' && quote != '"')
    return syntax(c, "a quoted string");
  size_t start = ++c->at;
  while (c->at < c->length && c->text[c->at] != quote) {
    char ch = c->text[c->at];
    if (ch == '\\' || ch == '\n' || (unsigned char)ch < 0x20 || (unsigned char)ch >= 0x7f)
      return syntax(c, "a plain string character");
    c->at++;
  }
  if (c->at >= c->length)
    return syntax(c, "a closing quote");
  size_t length = c->at - start;
  c->at++;
  if (length >= size)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: .npy header string '%.*s' is too long",
                     c->name, (int)(length > 40 ? 40 : length), c->text + start);
  memcpy(out, c->text + start, length);
  out[length] = '\0';
  return CLRN_STATUS_SUCCESS;
}

static bool take_word(cursor *c, const char *word) {
  size_t n = strlen(word);
  if (c->length - c->at < n || memcmp(c->text + c->at, word, n) != 0)
    return false;
  char next = c->at + n < c->length ? c->text[c->at + n] : '\0';
  if ((next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z') ||
      (next >= '0' && next <= '9') || next == '_')
    return false; /* "Falsey" is a name, not False */
  c->at += n;
  return true;
}

/* A non-negative decimal integer as Python writes it: no sign, no leading zeros,
 * no underscores, no suffix. */
static clrn_status parse_dim(cursor *c, int64_t *value) {
  if (peek(c) == '-')
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: .npy shape has a negative dimension",
                     c->name);
  if (peek(c) < '0' || peek(c) > '9')
    return syntax(c, "a dimension (a non-negative integer)");
  size_t start = c->at;
  int64_t v = 0;
  while (peek(c) >= '0' && peek(c) <= '9') {
    int digit = peek(c) - '0';
    if (v > (INT64_MAX - digit) / 10)
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: .npy shape dimension is too large",
                       c->name);
    v = v * 10 + digit;
    c->at++;
  }
  if (c->at - start > 1 && c->text[start] == '0')
    return syntax(c, "a dimension without leading zeros");
  char next = peek(c);
  if ((next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z') || next == '_' || next == '.')
    return syntax(c, "',' or ')' after a dimension");
  *value = v;
  return CLRN_STATUS_SUCCESS;
}

/* "()", "(n,)", "(a, b)", "(a, b,)": a tuple. "(n)" is a parenthesised int. */
static clrn_status parse_shape(cursor *c, clrn_npy_header *header) {
  if (peek(c) != '(')
    return syntax(c, "a shape tuple '('");
  c->at++;
  skip_space(c);
  int count = 0;
  bool comma = false;
  while (peek(c) != ')') {
    if (count == CLRN_NPY_MAX_DIMS)
      return clrn_fail(CLRN_STATUS_UNSUPPORTED, "%s: .npy shape has more than %d dimensions",
                       c->name, CLRN_NPY_MAX_DIMS);
    CLRN_TRY(parse_dim(c, &header->shape[count++]));
    skip_space(c);
    comma = false;
    if (peek(c) == ',') {
      comma = true;
      c->at++;
      skip_space(c);
    } else if (peek(c) != ')') {
      return syntax(c, "',' or ')' in the shape");
    }
  }
  if (count == 1 && !comma)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: .npy shape (%lld) is an integer, not a tuple (needs a comma)", c->name,
                     (long long)header->shape[0]);
  c->at++;
  header->ndim = count;
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_npy_header_parse(const char *text, size_t length, const char *name,
                                  clrn_npy_header *header) {
  memset(header, 0, sizeof *header);
  if (memchr(text, '\0', length))
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: .npy header contains a NUL byte", name);
  cursor c = {text, length, 0, name};
  bool seen_descr = false, seen_order = false, seen_shape = false;
  skip_space(&c);
  if (peek(&c) != '{')
    return syntax(&c, "'{'");
  c.at++;
  skip_space(&c);
  while (peek(&c) != '}') {
    char key[32];
    CLRN_TRY(parse_string(&c, key, sizeof key));
    skip_space(&c);
    if (peek(&c) != ':')
      return syntax(&c, "':'");
    c.at++;
    skip_space(&c);
    bool *seen = NULL;
    if (strcmp(key, "descr") == 0) {
      seen = &seen_descr;
      if (peek(&c) != '\'' && peek(&c) != '"')
        return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                         "%s: .npy dtype is not a simple type (structured or sub-array); "
                         "need '<f4' (little-endian float32)",
                         name);
      CLRN_TRY(parse_string(&c, header->descr, sizeof header->descr));
    } else if (strcmp(key, "fortran_order") == 0) {
      seen = &seen_order;
      if (take_word(&c, "True"))
        header->fortran_order = true;
      else if (!take_word(&c, "False"))
        return syntax(&c, "True or False");
    } else if (strcmp(key, "shape") == 0) {
      seen = &seen_shape;
      CLRN_TRY(parse_shape(&c, header));
    } else {
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: .npy header has an unexpected key '%s'",
                       name, key);
    }
    if (*seen)
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: .npy header repeats the key '%s'", name,
                       key);
    *seen = true;
    skip_space(&c);
    if (peek(&c) == ',') {
      c.at++;
      skip_space(&c);
    } else if (peek(&c) != '}') {
      return syntax(&c, "',' or '}'");
    }
  }
  c.at++;
  skip_space(&c);
  if (c.at != c.length)
    return syntax(&c, "only whitespace after '}'");
  if (!seen_descr || !seen_order || !seen_shape)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: .npy header lacks the key '%s'", name,
                     !seen_descr   ? "descr"
                     : !seen_order ? "fortran_order"
                                   : "shape");
  if (strcmp(header->descr, "<f4") != 0)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "%s: .npy dtype is '%s'; need '<f4' (little-endian float32)", name,
                     header->descr);
  if (header->fortran_order)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "%s: .npy array is in Fortran order; need C order (fortran_order False)",
                     name);
  return CLRN_STATUS_SUCCESS;
}

void clrn_npy_header_format(char out[CLRN_NPY_FORMAT_SIZE], int ndim, const int64_t *shape) {
  /* numpy 1.24's _write_array_header: keys sorted, repr() values, ", " after each.
   * The buffer holds the longest case: 8 dimensions of 19 digits and 21 spaces. */
  size_t n = (size_t)snprintf(out, CLRN_NPY_FORMAT_SIZE,
                              "{'descr': '<f4', 'fortran_order': False, 'shape': (");
  for (int i = 0; i < ndim; i++)
    n += (size_t)snprintf(out + n, CLRN_NPY_FORMAT_SIZE - n, i ? ", %lld" : "%lld",
                          (long long)shape[i]);
  n += (size_t)snprintf(out + n, CLRN_NPY_FORMAT_SIZE - n, "%s), }", ndim == 1 ? "," : "");
  if (ndim > 0) {
    /* Room for the first axis to grow in place: 21 characters less its digits. */
    int digits = snprintf(NULL, 0, "%lld", (long long)shape[0]);
    for (int i = digits; i < 21; i++)
      out[n++] = ' ';
    out[n] = '\0';
  }
}
