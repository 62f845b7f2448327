/* Atomic output files: a temporary file created beside the target, written, flushed
 * to disk and renamed over the target, so readers see either the old file or the
 * whole new one and a failure leaves neither a partial target nor a stray
 * temporary. Also the up-front check that an output path can be written at all.
 *
 * The temporary is made with open(O_CREAT | O_EXCL, 0666) under a fresh random
 * name, which is what mkstemp() does, except that mkstemp() forces mode 0600: the
 * kernel applies the umask to 0666 here, so the final file gets the permissions
 * fopen() would have given it. fsync() before rename() is what makes the rename
 * atomic across a crash on every file system (ext4's rename heuristics cover for
 * missing fsyncs, XFS and btrfs do not); for one output file per run it costs a few
 * milliseconds. The folder itself is not fsynced: after a crash the rename may be
 * lost, which leaves the old target, still a whole file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "clresnet/io.h"

#define TEMP_ATTEMPTS 64

/* Splits path into its folder ("." when it has none) and its last component. */
static clrn_status split_path(const char *path, char *dir, size_t dir_size, const char **base) {
  const char *slash = strrchr(path, '/');
  if (!slash) {
    snprintf(dir, dir_size, ".");
    *base = path;
  } else {
    size_t length = slash == path ? 1 : (size_t)(slash - path);
    if (length >= dir_size)
      return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: path too long", path);
    memcpy(dir, path, length);
    dir[length] = '\0';
    *base = slash + 1;
  }
  if (**base == '\0' || strcmp(*base, ".") == 0 || strcmp(*base, "..") == 0)
    return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: names a folder, not a file", path);
  return CLRN_STATUS_SUCCESS;
}

/* An existing target must be a regular file (or a link to one): renaming over a
 * folder fails late, and renaming over a device such as /dev/null would replace it. */
static clrn_status check_target(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0)
    return CLRN_STATUS_SUCCESS; /* absent (or a dangling link): it will be created */
  if (S_ISDIR(st.st_mode))
    return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: is a directory", path);
  if (!S_ISREG(st.st_mode))
    return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: exists and is not a regular file", path);
  return CLRN_STATUS_SUCCESS;
}

/* 64 bits that differ between calls, threads and processes: the name only needs
 * to be unlikely to collide, O_EXCL makes a collision harmless. */
static uint64_t temp_entropy(void) {
  static atomic_uint_fast64_t counter;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 40);
  x ^= atomic_fetch_add(&counter, 1) * 0x9e3779b97f4a7c15ull;
  x ^= (uint64_t)(uintptr_t)&ts;
  x ^= x >> 31; /* splitmix64 finaliser */
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

clrn_status clrn_atomic_open(const char *path, char *temp, size_t size, FILE **file) {
  if (!path || !*path || !temp || !file)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_atomic_open: NULL or empty argument");
  *file = NULL;
  if (size)
    temp[0] = '\0';
  char dir[4096];
  const char *base = NULL;
  CLRN_TRY(split_path(path, dir, sizeof dir, &base));
  CLRN_TRY(check_target(path));
  static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  for (int attempt = 0; attempt < TEMP_ATTEMPTS; attempt++) {
    uint64_t bits = temp_entropy();
    char suffix[11];
    for (int i = 0; i < 10; i++, bits /= 36)
      suffix[i] = digits[bits % 36];
    suffix[10] = '\0';
    int n = snprintf(temp, size, "%s/.%s.%s.tmp", dir, base, suffix);
    if (n < 0 || (size_t)n >= size)
      return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                       "%s: temporary name needs %d bytes, the buffer has %zu", path, n + 1, size);
    int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno == EEXIST)
      continue;
    if (fd < 0) {
      int error = errno;
      temp[0] = '\0';
      return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: cannot create a file in %s: %s", path, dir,
                       strerror(error));
    }
    *file = fdopen(fd, "wb");
    if (!*file) {
      int error = errno;
      close(fd);
      unlink(temp);
      temp[0] = '\0';
      return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: fdopen: %s", path, strerror(error));
    }
    return CLRN_STATUS_SUCCESS;
  }
  temp[0] = '\0';
  return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: no free temporary name after %d attempts", path,
                   TEMP_ATTEMPTS);
}

clrn_status clrn_atomic_commit(FILE *file, const char *temp, const char *path) {
  if (!file || !temp || !*temp || !path || !*path) {
    clrn_atomic_abort(file, temp);
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_atomic_commit: NULL or empty argument");
  }
  clrn_status status = CLRN_STATUS_SUCCESS;
  const char *what = NULL;
  int error = 0;
  if (fflush(file) != 0 || ferror(file)) {
    what = "write";
    error = errno;
  } else if (fsync(fileno(file)) != 0 && errno != EINVAL && errno != ENOTSUP) {
    what = "fsync"; /* EINVAL/ENOTSUP: a file system without fsync, nothing to wait for */
    error = errno;
  }
  int closed = fclose(file);
  if (!what && closed != 0) {
    what = "close";
    error = errno;
  }
  if (!what && rename(temp, path) != 0) {
    what = "rename";
    error = errno;
  }
  if (what) {
    status = clrn_fail(CLRN_STATUS_IO_ERROR, "%s: %s failed: %s", path, what,
                       error ? strerror(error) : "stream error");
    unlink(temp);
  }
  return status;
}

void clrn_atomic_abort(FILE *file, const char *temp) {
  if (file)
    fclose(file);
  if (temp && *temp)
    unlink(temp);
}

clrn_status clrn_output_check(const char *path) {
  if (!path || !*path)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_output_check: NULL or empty path");
  char dir[4096];
  const char *base = NULL;
  CLRN_TRY(split_path(path, dir, sizeof dir, &base));
  struct stat st;
  if (stat(dir, &st) != 0)
    return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: folder %s: %s", path, dir, strerror(errno));
  if (!S_ISDIR(st.st_mode))
    return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: %s is not a folder", path, dir);
  CLRN_TRY(check_target(path));
  /* access() answers for the real user and ignores read-only mounts: creating (and
   * removing) a file is the only sure test. */
  char temp[4200];
  FILE *file = NULL;
  CLRN_TRY(clrn_atomic_open(path, temp, sizeof temp, &file));
  clrn_atomic_abort(file, temp);
  return CLRN_STATUS_SUCCESS;
}
