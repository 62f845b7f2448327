/* float32 .npy files: reading (from a file or from memory) with every size checked
 * before anything is allocated, and writing byte for byte what numpy 1.24's
 * np.save writes, through the atomic-output helpers.
 *
 * Layout: "\x93NUMPY", major, minor, then the header length as a little-endian
 * uint16 (format 1.0) or uint32 (2.0 and 3.0), the header text (npy_header.c),
 * then the raw data, which must be exactly product(shape) * 4 bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "clresnet/io.h"
#include "io/file.h"
#include "io/npy_header.h"

#define MAGIC "\x93NUMPY"
#define MAGIC_LENGTH 6
#define PREFIX_MAX 12
/* numpy writes headers of about 128 bytes; format 2.0 exists for structured dtypes
 * whose description outgrows 64 KiB, which this reader refuses anyway. */
#define HEADER_MAX 65536
#define ALIGN 64

static bool host_little_endian(void) {
  const uint32_t one = 1;
  unsigned char first;
  memcpy(&first, &one, 1);
  return first == 1;
}

/* Reverses the bytes of each float, turning little-endian data into native order
 * on a big-endian host (and back). */
static void swap_bytes(unsigned char *bytes, size_t count) {
  for (size_t i = 0; i < count; i++, bytes += 4) {
    unsigned char t = bytes[0];
    bytes[0] = bytes[3];
    bytes[3] = t;
    t = bytes[1];
    bytes[1] = bytes[2];
    bytes[2] = t;
  }
}

/* Checks the magic and version; gives where the header text starts and its length.
 * avail is how many bytes of the file p holds (at least PREFIX_MAX unless the
 * file is shorter). */
static clrn_status parse_prefix(const unsigned char *p, size_t avail, const char *name,
                                size_t *offset, size_t *length) {
  if (avail == 0)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: empty file (0 bytes)", name);
  if (memcmp(p, MAGIC, avail < MAGIC_LENGTH ? avail : MAGIC_LENGTH) != 0)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: not a .npy file (no \\x93NUMPY magic)", name);
  if (avail < 8)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: .npy file is cut short (%zu bytes)", name,
                     avail);
  int major = p[6], minor = p[7];
  if (major < 1 || major > 3 || minor != 0)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED, "%s: .npy format version %d.%d; need 1.0, 2.0 or 3.0",
                     name, major, minor);
  size_t need = major == 1 ? 10 : 12;
  if (avail < need)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: .npy file is cut short (%zu bytes)", name,
                     avail);
  uint32_t value = (uint32_t)p[8] | (uint32_t)p[9] << 8;
  if (major > 1)
    value |= (uint32_t)p[10] << 16 | (uint32_t)p[11] << 24;
  if (value > HEADER_MAX)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: .npy header length %lu is implausible (limit %d)", name,
                     (unsigned long)value, HEADER_MAX);
  *offset = need;
  *length = value;
  return CLRN_STATUS_SUCCESS;
}

static void format_shape(const clrn_npy_header *h, char *out, size_t size) {
  size_t n = (size_t)snprintf(out, size, "(");
  for (int i = 0; i < h->ndim && n < size; i++)
    n += (size_t)snprintf(out + n, size - n, i ? ", %lld" : "%lld", (long long)h->shape[i]);
  if (n < size)
    snprintf(out + n, size - n, h->ndim == 1 ? ",)" : ")");
}

/* product(shape), refused when it exceeds max_elements or addressable bytes. */
static clrn_status element_count(const clrn_npy_header *h, const char *name, size_t max_elements,
                                 size_t *count) {
  uint64_t n = 1;
  bool empty = false, overflow = false;
  for (int i = 0; i < h->ndim; i++)
    empty = empty || h->shape[i] == 0;
  for (int i = 0; i < h->ndim && !empty && !overflow; i++) {
    uint64_t d = (uint64_t)h->shape[i];
    if (n > (uint64_t)(SIZE_MAX / 4) / d)
      overflow = true;
    else
      n *= d;
  }
  char shape[256];
  format_shape(h, shape, sizeof shape);
  if (overflow)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED, "%s: .npy shape %s is too large to address", name,
                     shape);
  if (empty)
    n = 0;
  if (n > max_elements)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "%s: .npy shape %s holds %llu elements, more than the limit of %zu", name,
                     shape, (unsigned long long)n, max_elements);
  *count = (size_t)n;
  return CLRN_STATUS_SUCCESS;
}

/* The expected file size and the array's shape, from the prefix and header. */
static clrn_status check_layout(const clrn_npy_header *h, size_t data_offset, uint64_t size,
                                const char *name, size_t max_elements, size_t *count) {
  CLRN_TRY(element_count(h, name, max_elements, count));
  uint64_t need = (uint64_t)*count * 4;
  if (size - data_offset != need) {
    char shape[256];
    format_shape(h, shape, sizeof shape);
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: .npy data is %llu bytes; shape %s of float32 needs %llu", name,
                     (unsigned long long)(size - data_offset), shape, (unsigned long long)need);
  }
  return CLRN_STATUS_SUCCESS;
}

static clrn_status make_array(const clrn_npy_header *h, size_t count, const char *name,
                              clrn_npy *array) {
  array->data = malloc((count ? count : 1) * sizeof(float));
  if (!array->data)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: %zu floats", name, count);
  array->ndim = h->ndim;
  memcpy(array->shape, h->shape, sizeof h->shape);
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_npy_parse(const void *data, size_t size, const char *name, size_t max_elements,
                           clrn_npy *array) {
  if (array)
    memset(array, 0, sizeof *array);
  if ((!data && size) || !array)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_npy_parse: NULL argument");
  if (!name)
    name = "<memory>";
  const unsigned char *bytes = data;
  size_t offset = 0, length = 0, count = 0;
  CLRN_TRY(parse_prefix(bytes, size, name, &offset, &length));
  if (size - offset < length)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: .npy file is cut short inside its %zu-byte header", name, length);
  clrn_npy_header h;
  CLRN_TRY(clrn_npy_header_parse((const char *)bytes + offset, length, name, &h));
  CLRN_TRY(check_layout(&h, offset + length, size, name, max_elements, &count));
  CLRN_TRY(make_array(&h, count, name, array));
  if (count) {
    memcpy(array->data, bytes + offset + length, count * 4);
    if (!host_little_endian())
      swap_bytes((unsigned char *)array->data, count);
  }
  return CLRN_STATUS_SUCCESS;
}

/* clrn_npy_read, or with data false clrn_npy_read_header. */
static clrn_status read_file(const char *path, size_t max_elements, bool data, clrn_npy *array) {
  if (array)
    memset(array, 0, sizeof *array);
  if (!path || !array)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_npy_read: NULL argument");
  char *header = NULL;
  FILE *file = NULL;
  uint64_t size = 0;
  clrn_status status = clrn_file_open_regular(path, &file, &size);
  if (status != CLRN_STATUS_SUCCESS)
    return status;
  unsigned char prefix[PREFIX_MAX];
  size_t got = fread(prefix, 1, size < PREFIX_MAX ? (size_t)size : PREFIX_MAX, file);
  size_t offset = 0, length = 0, count = 0;
  CLRN_GOTO(parse_prefix(prefix, got, path, &offset, &length), done, status);
  if (size - offset < length) {
    status = clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                       "%s: .npy file is cut short inside its %zu-byte header", path, length);
    goto done;
  }
  header = malloc(length ? length : 1);
  if (!header) {
    status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: header", path);
    goto done;
  }
  if (fseek(file, (long)offset, SEEK_SET) != 0 || fread(header, 1, length, file) != length) {
    status = clrn_fail(CLRN_STATUS_IO_ERROR, "%s: reading the header failed", path);
    goto done;
  }
  clrn_npy_header h;
  CLRN_GOTO(clrn_npy_header_parse(header, length, path, &h), done, status);
  CLRN_GOTO(check_layout(&h, offset + length, size, path, max_elements, &count), done, status);
  if (!data) {
    array->ndim = h.ndim;
    memcpy(array->shape, h.shape, sizeof h.shape);
    goto done;
  }
  CLRN_GOTO(make_array(&h, count, path, array), done, status);
  if (fread(array->data, 4, count, file) != count) {
    status = clrn_fail(CLRN_STATUS_IO_ERROR, "%s: reading the data failed", path);
    goto done;
  }
  if (!host_little_endian())
    swap_bytes((unsigned char *)array->data, count);
done:
  free(header);
  fclose(file);
  if (status != CLRN_STATUS_SUCCESS)
    clrn_npy_free(array);
  return status;
}

clrn_status clrn_npy_read(const char *path, size_t max_elements, clrn_npy *array) {
  return read_file(path, max_elements, true, array);
}

clrn_status clrn_npy_read_header(const char *path, clrn_npy *array) {
  return read_file(path, SIZE_MAX, false, array);
}

void clrn_npy_free(clrn_npy *array) {
  if (!array)
    return;
  free(array->data);
  memset(array, 0, sizeof *array);
}

/* Writes count floats little-endian, converting in small blocks on big-endian hosts. */
static bool write_floats(FILE *file, const float *data, size_t count) {
  if (count == 0)
    return true; /* data may be NULL, which fwrite() must not see */
  if (host_little_endian())
    return fwrite(data, 4, count, file) == count;
  unsigned char block[4096];
  for (size_t done = 0; done < count;) {
    size_t n = count - done < sizeof block / 4 ? count - done : sizeof block / 4;
    memcpy(block, data + done, n * 4);
    swap_bytes(block, n);
    if (fwrite(block, 4, n, file) != n)
      return false;
    done += n;
  }
  return true;
}

clrn_status clrn_npy_write(const char *path, const float *data, int ndim, const int64_t *shape) {
  if (!path || ndim < 0 || ndim > CLRN_NPY_MAX_DIMS || (ndim > 0 && !shape))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "clrn_npy_write: NULL path or shape, or ndim %d outside 0..%d", ndim,
                     CLRN_NPY_MAX_DIMS);
  clrn_npy_header h = {.ndim = ndim};
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0)
      return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: negative dimension %lld", path,
                       (long long)shape[i]);
    h.shape[i] = shape[i];
  }
  size_t count = 0;
  CLRN_TRY(element_count(&h, path, SIZE_MAX, &count));
  if (count && !data)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: NULL data for %zu elements", path, count);
  char text[CLRN_NPY_FORMAT_SIZE];
  clrn_npy_header_format(text, ndim, shape);
  /* numpy's _wrap_header: the header text, then spaces and one newline so that the
   * data starts on a multiple of 64; a full 64 spaces when already aligned. */
  size_t text_length = strlen(text) + 1;
  size_t pad = ALIGN - (10 + text_length) % ALIGN;
  size_t header_length = text_length + pad;
  unsigned char prefix[10];
  memcpy(prefix, MAGIC, MAGIC_LENGTH);
  prefix[6] = 1;
  prefix[7] = 0;
  prefix[8] = (unsigned char)(header_length & 0xff);
  prefix[9] = (unsigned char)(header_length >> 8);
  char temp[4300];
  FILE *file = NULL;
  CLRN_TRY(clrn_atomic_open(path, temp, sizeof temp, &file));
  bool ok = fwrite(prefix, 1, sizeof prefix, file) == sizeof prefix && fputs(text, file) >= 0;
  for (size_t i = 0; ok && i < pad; i++)
    ok = fputc(' ', file) != EOF;
  ok = ok && fputc('\n', file) != EOF && write_floats(file, data, count);
  if (!ok) {
    int error = errno;
    clrn_atomic_abort(file, temp);
    return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: write failed: %s", path, strerror(error));
  }
  return clrn_atomic_commit(file, temp, path);
}
