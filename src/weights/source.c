/* The byte source of the checkpoint readers (see source.h): bounds first, then
 * memcpy or a pread() loop that retries on EINTR and stops at end of file. */
#include "weights/source.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "io/file.h"

clrn_status clrn_source_open(const char *path, clrn_source *s) {
  memset(s, 0, sizeof *s);
  s->name = strdup(path);
  if (!s->name)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: file name", path);
  clrn_status status = clrn_file_open_regular(path, &s->file, &s->size);
  if (status != CLRN_STATUS_SUCCESS)
    clrn_source_close(s);
  return status;
}

clrn_status clrn_source_memory(const void *bytes, size_t size, const char *name, clrn_source *s) {
  memset(s, 0, sizeof *s);
  s->bytes = size ? bytes : (const unsigned char *)"";
  s->size = size;
  s->name = strdup(name);
  return s->name ? CLRN_STATUS_SUCCESS : clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "file name");
}

clrn_status clrn_source_read(const clrn_source *s, uint64_t offset, uint64_t n, void *out,
                             const char *what) {
  if (offset > s->size || n > s->size - offset)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: %s (%llu bytes at offset %llu) runs past the end of the file (%llu "
                     "bytes)",
                     s->name, what, (unsigned long long)n, (unsigned long long)offset,
                     (unsigned long long)s->size);
  if (s->bytes) {
    if (n)
      memcpy(out, s->bytes + offset, (size_t)n);
    return CLRN_STATUS_SUCCESS;
  }
  unsigned char *p = out;
  int fd = fileno(s->file);
  while (n > 0) {
    size_t chunk = n > (1u << 30) ? (1u << 30) : (size_t)n;
    ssize_t got = pread(fd, p, chunk, (off_t)offset);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: cannot read %s at offset %llu: %s", s->name, what,
                       (unsigned long long)offset,
                       got < 0 ? strerror(errno) : "the file is shorter than when it was opened");
    p += got;
    offset += (uint64_t)got;
    n -= (uint64_t)got;
  }
  return CLRN_STATUS_SUCCESS;
}

void clrn_source_close(clrn_source *s) {
  if (!s)
    return;
  if (s->file)
    fclose(s->file);
  free(s->name);
  memset(s, 0, sizeof *s);
}
