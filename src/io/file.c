/* Opening input files (see file.h). */
#include "io/file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"

static const char *kind_of(mode_t mode) {
  if (S_ISDIR(mode))
    return "is a directory";
  if (S_ISFIFO(mode))
    return "is a FIFO or pipe, not a regular file";
  if (S_ISCHR(mode) || S_ISBLK(mode))
    return "is a device, not a regular file";
  if (S_ISSOCK(mode))
    return "is a socket, not a regular file";
  return "not a regular file";
}

clrn_status clrn_file_open_regular_fd(const char *path, int *fd, uint64_t *size) {
  /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. */
  *fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (*fd < 0)
    return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: %s", path, strerror(errno));
  struct stat st;
  clrn_status status = CLRN_STATUS_SUCCESS;
  int flags;
  if (fstat(*fd, &st) != 0)
    status = clrn_fail(CLRN_STATUS_IO_ERROR, "%s: %s", path, strerror(errno));
  else if (!S_ISREG(st.st_mode))
    status = clrn_fail(CLRN_STATUS_IO_ERROR, "%s: %s", path, kind_of(st.st_mode));
  else if ((flags = fcntl(*fd, F_GETFL)) < 0 || fcntl(*fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
    status = clrn_fail(CLRN_STATUS_IO_ERROR, "%s: %s", path, strerror(errno));
  if (status != CLRN_STATUS_SUCCESS) {
    close(*fd);
    *fd = -1;
    return status;
  }
  *size = (uint64_t)st.st_size;
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_file_open_regular(const char *path, FILE **file, uint64_t *size) {
  *file = NULL;
  int fd;
  CLRN_TRY(clrn_file_open_regular_fd(path, &fd, size));
  *file = fdopen(fd, "rb");
  if (!*file) {
    clrn_status status = clrn_fail(CLRN_STATUS_IO_ERROR, "%s: %s", path, strerror(errno));
    close(fd);
    return status;
  }
  return CLRN_STATUS_SUCCESS;
}
