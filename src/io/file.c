/* Opening input files (see file.h). */
#include "io/file.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"

clrn_status clrn_file_open_regular(const char *path, FILE **file, uint64_t *size) {
  *file = fopen(path, "rb");
  if (!*file)
    return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: %s", path, strerror(errno));
  struct stat st;
  clrn_status status = CLRN_STATUS_SUCCESS;
  if (fstat(fileno(*file), &st) != 0)
    status = clrn_fail(CLRN_STATUS_IO_ERROR, "%s: %s", path, strerror(errno));
  else if (!S_ISREG(st.st_mode))
    status = clrn_fail(CLRN_STATUS_IO_ERROR, "%s: %s", path,
                       S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
  if (status != CLRN_STATUS_SUCCESS) {
    fclose(*file);
    *file = NULL;
    return status;
  }
  *size = (uint64_t)st.st_size;
  return CLRN_STATUS_SUCCESS;
}
