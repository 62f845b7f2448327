/* Class-name tables and top-k (clresnet/labels.h). A table is one block of
 * NUL-terminated names plus an array of pointers into it; every name is checked
 * (non-empty, valid UTF-8, no control characters, bounded length) as it comes in,
 * because names come from files and end up on terminals. The ImageNet table is
 * data/imagenet_classes.txt, embedded into the library at build time. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/utf8.h"
#include "clresnet/labels.h"
#include "io/file.h"
#include "runtime/embedded.h"

/* data/imagenet_classes.txt (CMakeLists.txt embeds it). */
extern const clrn_embedded_file clrn_embedded_data[];

struct clrn_labels {
  size_t count;
  char **names; /* count pointers into text */
  char *text;
};

/* Checks one name of length bytes, the where-th ("line" 1-based, "class" 0-based). */
static clrn_status check_name(const char *s, size_t length, const char *name, const char *where,
                              size_t at) {
  if (length == 0)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: %s %zu: empty class name", name, where, at);
  if (length > CLRN_LABEL_MAX_BYTES)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: %s %zu: class name of %zu bytes, more than %d", name, where, at, length,
                     CLRN_LABEL_MAX_BYTES);
  const unsigned char *u = (const unsigned char *)s;
  for (size_t i = 0; i < length;) {
    uint32_t code = 0;
    size_t n = clrn_utf8_sequence(u + i, length - i, &code);
    if (n == 0)
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: %s %zu: class name is not valid UTF-8",
                       name, where, at);
    if (code < 0x20 || (code >= 0x7f && code < 0xa0))
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                       "%s: %s %zu: class name holds control character U+%04X", name, where, at,
                       (unsigned)code);
    i += n;
  }
  return CLRN_STATUS_SUCCESS;
}

static clrn_status labels_alloc(size_t count, size_t bytes, const char *name, clrn_labels **out) {
  if (count > CLRN_LABELS_MAX)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: %zu class names, more than %d", name, count,
                     CLRN_LABELS_MAX);
  clrn_labels *l = calloc(1, sizeof *l);
  if (l) {
    l->names = calloc(count ? count : 1, sizeof *l->names);
    l->text = malloc(bytes ? bytes : 1);
  }
  if (!l || !l->names || !l->text) {
    clrn_labels_free(l);
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: class names", name);
  }
  *out = l;
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_labels_parse(const char *text, size_t size, const char *name,
                              clrn_labels **labels) {
  if (!labels || (!text && size) || !name)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_labels_parse: NULL argument");
  *labels = NULL;
  size_t count = 0; /* lines: a final "\n" ends the last one rather than starting another */
  for (size_t i = 0; i < size; i++)
    count += text[i] == '\n';
  if (size && text[size - 1] != '\n')
    count++;
  if (count == 0)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: no class names (the file is empty)", name);
  clrn_labels *l;
  CLRN_TRY(labels_alloc(count, size + 1, name, &l));
  memcpy(l->text, text, size);
  l->text[size] = '\0';
  char *line = l->text, *end = l->text + size;
  for (size_t i = 0; i < count; i++) {
    char *newline = memchr(line, '\n', (size_t)(end - line));
    char *stop = newline ? newline : end;
    if (stop > line && stop[-1] == '\r')
      stop--;
    *stop = '\0';
    clrn_status s = check_name(line, (size_t)(stop - line), name, "line", i + 1);
    if (s != CLRN_STATUS_SUCCESS) {
      clrn_labels_free(l);
      return s;
    }
    l->names[l->count++] = line;
    line = newline ? newline + 1 : end;
  }
  *labels = l;
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_labels_load(const char *path, clrn_labels **labels) {
  if (!path || !labels)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_labels_load: NULL argument");
  *labels = NULL;
  int fd;
  uint64_t size;
  CLRN_TRY(clrn_file_open_regular_fd(path, &fd, &size));
  if (size > CLRN_LABELS_MAX_FILE) {
    close(fd);
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: %llu bytes, more than a labels file may "
                     "have (%u)",
                     path, (unsigned long long)size, CLRN_LABELS_MAX_FILE);
  }
  char *text = malloc(size ? (size_t)size : 1);
  size_t got = 0;
  while (text && got < size) {
    ssize_t n = read(fd, text + got, (size_t)size - got);
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  close(fd);
  clrn_status s;
  if (!text)
    s = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: reading class names", path);
  else if (got != size)
    s = clrn_fail(CLRN_STATUS_IO_ERROR, "%s: could not read the whole file", path);
  else
    s = clrn_labels_parse(text, got, path, labels);
  free(text);
  return s;
}

clrn_status clrn_labels_from_list(const char *const *names, size_t count, const char *name,
                                  clrn_labels **labels) {
  if (!labels || (!names && count) || !name)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_labels_from_list: NULL argument");
  *labels = NULL;
  size_t bytes = 0;
  for (size_t i = 0; i < count && i <= CLRN_LABELS_MAX; i++) {
    if (!names[i])
      return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: name %zu is NULL", name, i);
    size_t length = strlen(names[i]);
    CLRN_TRY(check_name(names[i], length, name, "class", i));
    bytes += length + 1;
  }
  clrn_labels *l = NULL;
  CLRN_TRY(labels_alloc(count, bytes, name, &l));
  char *at = l->text;
  for (size_t i = 0; i < count; i++) {
    size_t length = strlen(names[i]) + 1;
    memcpy(at, names[i], length);
    l->names[l->count++] = at;
    at += length;
  }
  *labels = l;
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_labels_imagenet(clrn_labels **labels) {
  const clrn_embedded_file *f = &clrn_embedded_data[0];
  return clrn_labels_parse((const char *)f->data, f->size, "imagenet_classes.txt", labels);
}

size_t clrn_labels_count(const clrn_labels *labels) { return labels ? labels->count : 0; }

const char *clrn_labels_name(const clrn_labels *labels, long index) {
  if (!labels || index < 0 || (unsigned long)index >= labels->count)
    return NULL;
  return labels->names[index];
}

void clrn_labels_free(clrn_labels *labels) {
  if (!labels)
    return;
  free(labels->names);
  free(labels->text);
  free(labels);
}

/* Whether a ranks before b: larger first, NaN last, ties by index (a < b here). */
static bool before(float a, float b) { return !isnan(a) && (isnan(b) || a > b); }

int clrn_top_k(const float *values, int n, int k, int *indices) {
  if (!values || !indices || n < 1 || k < 1)
    return 0;
  if (k > n)
    k = n;
  int filled = 0;
  for (int i = 0; i < n; i++) {
    /* Insert i after every kept index that ranks before it or ties with it. */
    int j = filled;
    while (j > 0 && before(values[i], values[indices[j - 1]]))
      j--;
    if (j >= k)
      continue;
    int last = filled < k ? filled : k - 1;
    memmove(indices + j + 1, indices + j, (size_t)(last - j) * sizeof *indices);
    indices[j] = i;
    if (filled < k)
      filled++;
  }
  return filled;
}
