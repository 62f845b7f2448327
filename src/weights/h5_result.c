/* The result of the Keras .h5 reader process (layout in h5_parts.h): the child
 * writes it with pwrite() into the shared memory file it inherited, the header
 * last; the parent reads it from a read-only mapping and trusts none of it. The
 * child ran libhdf5 on a hostile file, so its memory may be corrupt: every offset,
 * size, count, string, enum and shape is checked against the limits the child
 * itself enforces (h5.h), and a result that breaks one is refused as the file's
 * fault, never read past. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "weights/h5_parts.h"

static const char magic[8] = {'C', 'L', 'R', 'N', 'H', '5', 'R', 1};

typedef struct result_header {
  char magic[8];          /* magic once the result is complete */
  uint32_t status;        /* of the whole open (clrn_status) */
  uint32_t message_bytes; /* on failure: its message, at CLRN_H5_RESULT_DATA, no NUL */
  uint64_t count;         /* tensors in the table */
  uint64_t table;         /* offset of the table: it runs to the end */
  uint64_t size;          /* bytes of the whole result */
  uint8_t reserved[24];
} result_header;

typedef struct result_record {
  uint64_t data; /* offset of the floats when read_status is SUCCESS, else 0 */
  int64_t shape[CLRN_H5_MAX_DIMS];
  uint32_t dtype, layout, read_status;
  int32_t ndim;
  uint32_t name_bytes, path_bytes, error_bytes; /* with their NULs */
  uint32_t reserved;
} result_record;

_Static_assert(sizeof(result_header) == CLRN_H5_RESULT_DATA, "the header fills its 64 bytes");
_Static_assert(sizeof(result_record) % 8 == 0, "records stay 8-byte aligned");

/* Bytes of one string in the result, with its NUL: names are at most
 * 2 * CLRN_H5_MAX_NAME + 1 bytes long, paths 3 * CLRN_H5_MAX_NAME + 32. */
#define MAX_STRING CLRN_H5_MAX_MESSAGE

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

/* --- the child ------------------------------------------------------------- */

bool clrn_h5_result_put(int fd, const void *bytes, size_t n, uint64_t at) {
  const char *p = bytes;
  while (n) {
    ssize_t wrote = pwrite(fd, p, n, (off_t)at);
    if (wrote <= 0)
      return false; /* EINTR cannot happen: the child catches no signal */
    p += wrote;
    at += (uint64_t)wrote;
    n -= (size_t)wrote;
  }
  return true;
}

static size_t string_bytes(const char *s) {
  size_t n = s ? strlen(s) + 1 : 1;
  return n > MAX_STRING ? MAX_STRING : n;
}

/* Copies s (cut to its record's length, NUL-terminated) to out; bytes past it. */
static char *put_string(char *out, const char *s, size_t bytes) {
  if (bytes > 1)
    memcpy(out, s, bytes - 1);
  out[bytes - 1] = '\0';
  return out + bytes;
}

/* The table of h5 in memory: *bytes of records and strings. */
static clrn_status build_table(const clrn_h5 *h5, const uint64_t *offsets, char **table,
                               size_t *bytes) {
  size_t total = 0;
  for (size_t i = 0; i < h5->count; i++) {
    const clrn_h5_tensor *t = &h5->tensors[i];
    total += align8(sizeof(result_record) + string_bytes(t->name) + string_bytes(t->path) +
                    string_bytes(t->read_error));
  }
  char *out = calloc(1, total ? total : 1);
  if (!out)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: the weights' table", h5->name);
  char *at = out;
  for (size_t i = 0; i < h5->count; i++) {
    const clrn_h5_tensor *t = &h5->tensors[i];
    result_record r = {.data = t->read_status == CLRN_STATUS_SUCCESS ? offsets[i] : 0,
                       .dtype = (uint32_t)t->dtype,
                       .layout = (uint32_t)t->layout,
                       .read_status = (uint32_t)t->read_status,
                       .ndim = t->ndim,
                       .name_bytes = (uint32_t)string_bytes(t->name),
                       .path_bytes = (uint32_t)string_bytes(t->path),
                       .error_bytes = (uint32_t)string_bytes(t->read_error)};
    memcpy(r.shape, t->shape, sizeof r.shape);
    memcpy(at, &r, sizeof r);
    char *s = at + sizeof r;
    s = put_string(s, t->name, r.name_bytes);
    s = put_string(s, t->path, r.path_bytes);
    put_string(s, t->read_error ? t->read_error : "", r.error_bytes);
    at += align8(sizeof r + r.name_bytes + r.path_bytes + r.error_bytes);
  }
  *table = out;
  *bytes = total;
  return CLRN_STATUS_SUCCESS;
}

bool clrn_h5_result_write(int fd, clrn_status status, const clrn_h5 *h5, const uint64_t *offsets,
                          uint64_t table) {
  result_header h = {.count = 0};
  char *bytes = NULL;
  size_t n = 0;
  if (status == CLRN_STATUS_SUCCESS) {
    status = build_table(h5, offsets, &bytes, &n);
    if (status == CLRN_STATUS_SUCCESS &&
        (table > CLRN_H5_MAX_RESULT || n > CLRN_H5_MAX_RESULT - table))
      status = clrn_fail(CLRN_STATUS_UNSUPPORTED, "%s: more than %llu bytes of weights and names",
                         h5->name, (unsigned long long)CLRN_H5_MAX_RESULT);
    if (status == CLRN_STATUS_SUCCESS && !clrn_h5_result_put(fd, bytes, n, table))
      status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY,
                         "%s: cannot hand %llu bytes of weights back from libhdf5's process",
                         h5->name, (unsigned long long)(table + n));
    free(bytes);
    h.count = h5->count;
    h.table = table;
    h.size = table + n;
  }
  if (status != CLRN_STATUS_SUCCESS) {
    /* A failure: the message replaces whatever was written; the file's end is
     * its end (a smaller file for the parent to check and map). */
    const char *message = clrn_last_error();
    size_t length = strlen(message);
    if (length > CLRN_H5_MAX_MESSAGE)
      length = CLRN_H5_MAX_MESSAGE;
    if (ftruncate(fd, 0) != 0 || !clrn_h5_result_put(fd, message, length, CLRN_H5_RESULT_DATA))
      return false;
    h = (result_header){.status = (uint32_t)status,
                        .message_bytes = (uint32_t)length,
                        .size = CLRN_H5_RESULT_DATA + length};
  }
  memcpy(h.magic, magic, sizeof magic);
  return clrn_h5_result_put(fd, &h, sizeof h, 0);
}

/* --- the parent ------------------------------------------------------------ */

static clrn_status malformed(const char *name, const char *what) {
  return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                   "%s: libhdf5's reader process handed back a malformed result (%s): the file "
                   "is corrupt",
                   name, what);
}

/* A copy of a message of the child's, control characters shown as '?'. */
static char *clean_copy(const char *text, size_t length) {
  char *out = malloc(length + 1);
  if (!out)
    return NULL;
  for (size_t i = 0; i < length; i++)
    out[i] = (unsigned char)text[i] < 0x20 || text[i] == 0x7f ? '?' : text[i];
  out[length] = '\0';
  return out;
}

/* Whether bytes at s hold one NUL-terminated string of bytes - 1 characters. */
static bool string_ok(const char *s, uint32_t bytes) {
  return bytes >= 1 && bytes <= MAX_STRING && memchr(s, '\0', bytes) == s + bytes - 1;
}

static bool status_ok(uint32_t status) { return status <= CLRN_STATUS_MISMATCH; }

/* Checks one record's fields; the number of its elements in *elements. */
static const char *check_record(const result_record *r, uint64_t *elements) {
  if (r->dtype != CLRN_DTYPE_F32 && r->dtype != CLRN_DTYPE_F16 && r->dtype != CLRN_DTYPE_F64)
    return "a weight's element type";
  if (r->ndim < 1 || r->ndim > CLRN_H5_MAX_DIMS)
    return "a weight's rank";
  if (r->layout != CLRN_H5_PLAIN && !(r->layout == CLRN_H5_CONV_HWIO && r->ndim == 4) &&
      !(r->layout == CLRN_H5_DENSE_IO && r->ndim == 2))
    return "a weight's layout";
  uint64_t n = 1;
  for (int i = 0; i < r->ndim; i++) {
    if (r->shape[i] < 0 || (uint64_t)r->shape[i] > CLRN_H5_MAX_ELEMENTS)
      return "a weight's shape";
    n *= (uint64_t)r->shape[i]; /* at most 2^28 * 2^28: no overflow */
    if (n > CLRN_H5_MAX_ELEMENTS)
      return "a weight's size";
  }
  for (int i = r->ndim; i < CLRN_H5_MAX_DIMS; i++)
    if (r->shape[i] != 0)
      return "a weight's shape";
  if (!status_ok(r->read_status) || (r->read_status == CLRN_STATUS_SUCCESS) != (r->data != 0) ||
      (r->read_status != CLRN_STATUS_SUCCESS && r->error_bytes < 2))
    return "a weight's read status";
  *elements = n;
  return NULL;
}

/* Fills h5's table from the records at [table, size) of image. */
static clrn_status read_table(const char *name, const char *image, uint64_t size,
                              const result_header *h, clrn_h5 *h5) {
  if (h->count < 1 || h->count > (uint64_t)CLRN_H5_MAX_LAYERS * CLRN_H5_MAX_WEIGHTS ||
      h->table < CLRN_H5_RESULT_DATA || h->table > size || h->table % 8)
    return malformed(name, "its table's place or length");
  h5->tensors = calloc((size_t)h->count, sizeof *h5->tensors);
  if (!h5->tensors)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: the weights' table", name);
  uint64_t at = h->table, total = 0;
  for (uint64_t i = 0; i < h->count; i++) {
    result_record r;
    if (size - at < sizeof r)
      return malformed(name, "its table is cut short");
    memcpy(&r, image + at, sizeof r);
    uint64_t elements = 0, strings = (uint64_t)r.name_bytes + r.path_bytes + r.error_bytes;
    const char *problem = check_record(&r, &elements);
    if (problem)
      return malformed(name, problem);
    if (strings > size - at - sizeof r)
      return malformed(name, "its table is cut short");
    const char *s = image + at + sizeof r;
    if (!string_ok(s, r.name_bytes) || r.name_bytes < 2 ||
        !string_ok(s + r.name_bytes, r.path_bytes) || r.path_bytes < 2 ||
        !string_ok(s + r.name_bytes + r.path_bytes, r.error_bytes))
      return malformed(name, "a weight's name");
    if (r.read_status == CLRN_STATUS_SUCCESS &&
        (r.data < CLRN_H5_RESULT_DATA || r.data % CLRN_H5_RESULT_DATA || r.data > h->table ||
         elements * sizeof(float) > h->table - r.data))
      return malformed(name, "a weight's values lie outside it");
    total += elements;
    if (total > CLRN_H5_MAX_TOTAL_ELEMENTS)
      return malformed(name, "more values than the limit");
    if (i && strcmp(h5->tensors[i - 1].name, s) >= 0)
      return malformed(name, "its weights are not sorted by name, or two share one");
    clrn_h5_tensor *t = &h5->tensors[i];
    h5->count++;
    t->name = strdup(s);
    t->path = strdup(s + r.name_bytes);
    if (r.read_status != CLRN_STATUS_SUCCESS)
      t->read_error = clean_copy(s + r.name_bytes + r.path_bytes, r.error_bytes - 1);
    if (!t->name || !t->path || (r.read_status != CLRN_STATUS_SUCCESS && !t->read_error))
      return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: weight names", name);
    t->dtype = (clrn_dtype)r.dtype;
    t->ndim = r.ndim;
    memcpy(t->shape, r.shape, sizeof t->shape);
    t->layout = (clrn_h5_layout)r.layout;
    t->read_status = (clrn_status)r.read_status;
    t->data = r.read_status == CLRN_STATUS_SUCCESS ? (const float *)(image + r.data) : NULL;
    at += align8(sizeof r + strings);
    if (at > size)
      return malformed(name, "its table is cut short");
  }
  if (at != size)
    return malformed(name, "bytes after its table");
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_h5_result_read(const char *name, const void *image, size_t size, clrn_h5 *h5) {
  result_header h;
  if (size < sizeof h)
    return malformed(name, "none at all");
  if (size > CLRN_H5_MAX_RESULT)
    return malformed(name, "longer than the limit");
  memcpy(&h, image, sizeof h);
  if (memcmp(h.magic, magic, sizeof magic) != 0)
    return malformed(name, "it ended before writing one");
  if (h.size != size)
    return malformed(name, "its length");
  if (h.status != CLRN_STATUS_SUCCESS) {
    if (!status_ok(h.status) || h.message_bytes > CLRN_H5_MAX_MESSAGE ||
        h.message_bytes != size - CLRN_H5_RESULT_DATA)
      return malformed(name, "its error");
    char *text = clean_copy((const char *)image + CLRN_H5_RESULT_DATA, h.message_bytes);
    if (!text)
      return clrn_fail((clrn_status)h.status, "%s: libhdf5 refused it", name);
    clrn_status status = h.message_bytes
                             ? clrn_fail((clrn_status)h.status, "%s", text)
                             : clrn_fail((clrn_status)h.status, "%s: libhdf5 refused it", name);
    free(text);
    return status;
  }
  clrn_status status = read_table(name, image, size, &h, h5);
  if (status != CLRN_STATUS_SUCCESS)
    clrn_h5_close(h5);
  return status;
}
