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
 *
 * Symbolic links are followed, never replaced: the temporary goes beside the file
 * at the end of the chain and is renamed over it. A chain that ends at one of this
 * process's descriptors (/dev/stdout -> /proc/self/fd/1, /dev/fd/N) writes to a
 * duplicate of that descriptor, and one that ends at a character device or a FIFO
 * opens it: those are written directly, with no temporary (temp comes back empty).
 * A regular file without write permission is refused, as fopen() would refuse it,
 * and so is one that the rename could not replace (another user's file in a sticky
 * folder), before anything is written.
 *
 * Every live temporary is also listed in a fixed table of TEMP_SLOTS names, which
 * clrn_atomic_remove_temporaries() walks with nothing but atomic loads and
 * unlink(): a program's SIGINT/SIGTERM handler can call it. A temporary is created
 * and listed with signals blocked, so no handler runs between the two. The library
 * installs no handler itself.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
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
#define PATH_SIZE 4096
#define MAX_LINKS 40
#define TEMP_SLOTS 32
#define TEMP_SIZE 4400
#define TEMP_SUFFIX_LENGTH 15 /* ".xxxxxxxxxx.tmp" */

/* ---- The table of live temporaries, for signal handlers. ---- */

enum { SLOT_FREE, SLOT_FILLING, SLOT_LIVE };

static struct {
  atomic_int state;
  char path[TEMP_SIZE];
} slots[TEMP_SLOTS];

/* Lists temp (silently unlisted when the table is full or the name too long). */
static void slot_add(const char *temp) {
  if (strlen(temp) >= TEMP_SIZE)
    return;
  for (int i = 0; i < TEMP_SLOTS; i++) {
    int expected = SLOT_FREE;
    if (atomic_compare_exchange_strong(&slots[i].state, &expected, SLOT_FILLING)) {
      strcpy(slots[i].path, temp);
      atomic_store(&slots[i].state, SLOT_LIVE);
      return;
    }
  }
}

static void slot_remove(const char *temp) {
  for (int i = 0; i < TEMP_SLOTS; i++)
    if (atomic_load(&slots[i].state) == SLOT_LIVE && strcmp(slots[i].path, temp) == 0) {
      atomic_store(&slots[i].state, SLOT_FREE);
      return;
    }
}

void clrn_atomic_remove_temporaries(void) {
  for (int i = 0; i < TEMP_SLOTS; i++)
    if (atomic_load(&slots[i].state) == SLOT_LIVE)
      unlink(slots[i].path);
}

/* ---- Where an output path leads. ---- */

typedef enum target_kind {
  TARGET_REPLACE, /* a regular file, or none yet: temporary + rename */
  TARGET_OPEN,    /* a character device or a FIFO: opened and written directly */
  TARGET_FD,      /* one of this process's descriptors: written through a duplicate */
} target_kind;

typedef struct target {
  target_kind kind;
  int fd;               /* TARGET_FD */
  char path[PATH_SIZE]; /* TARGET_REPLACE and TARGET_OPEN: the file at the end of the links */
} target;

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

/* The descriptor a path names when it is one of this process's descriptor links
 * (/dev/fd/N, /proc/self/fd/N, /proc/thread-self/fd/N, /proc/<our pid>/fd/N); -1
 * otherwise. */
static int descriptor_link(const char *path) {
  char own[48];
  snprintf(own, sizeof own, "/proc/%ld/fd/", (long)getpid());
  const char *prefixes[] = {"/dev/fd/", "/proc/self/fd/", "/proc/thread-self/fd/", own};
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
    size_t n = strlen(prefixes[i]);
    if (strncmp(path, prefixes[i], n) != 0 || !isdigit((unsigned char)path[n]))
      continue;
    char *end = NULL;
    errno = 0;
    long fd = strtol(path + n, &end, 10);
    return errno == 0 && *end == '\0' && fd <= INT_MAX ? (int)fd : -1;
  }
  return -1;
}

/* Where a link at path points: its text, relative to path's folder. */
static clrn_status follow_link(const char *original, char *path) {
  char text[PATH_SIZE];
  ssize_t n = readlink(path, text, sizeof text - 1);
  if (n < 0)
    return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: reading the link %s: %s", original, path,
                     strerror(errno));
  text[n] = '\0';
  char *slash = strrchr(path, '/');
  if (text[0] == '/' || !slash) {
    memcpy(path, text, (size_t)n + 1);
    return CLRN_STATUS_SUCCESS;
  }
  size_t dir = (size_t)(slash - path) + 1;
  if (dir + (size_t)n >= PATH_SIZE)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: link target too long", original);
  memcpy(path + dir, text, (size_t)n + 1);
  return CLRN_STATUS_SUCCESS;
}

/* A descriptor link must name an open descriptor that can be written. */
static clrn_status check_descriptor(const char *path, int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0)
    return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: descriptor %d is not open", path, fd);
  if ((flags & O_ACCMODE) == O_RDONLY)
    return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: descriptor %d is open for reading only", path, fd);
  return CLRN_STATUS_SUCCESS;
}

/* An existing regular file must be one we may write (the rename would ignore its
 * permissions; root is refused a file with no write bit at all) and may replace:
 * in a sticky folder, only the owner of the file or of the folder can. */
static clrn_status check_replaceable(const char *original, const char *path,
                                     const struct stat *st) {
  if ((st->st_mode & 0222) == 0 || access(path, W_OK) != 0)
    return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: is read-only (mode %04o); not replacing it",
                     original, (unsigned)(st->st_mode & 07777));
  char dir[PATH_SIZE];
  const char *base = NULL;
  CLRN_TRY(split_path(path, dir, sizeof dir, &base));
  struct stat folder;
  uid_t me = geteuid();
  if (me != 0 && stat(dir, &folder) == 0 && (folder.st_mode & S_ISVTX) && st->st_uid != me &&
      folder.st_uid != me)
    return clrn_fail(CLRN_STATUS_IO_ERROR,
                     "%s: belongs to another user in the sticky folder %s, so it cannot be "
                     "replaced",
                     original, dir);
  return CLRN_STATUS_SUCCESS;
}

/* Follows path's links to what an output there would write. */
static clrn_status resolve_target(const char *path, target *t) {
  memset(t, 0, sizeof *t);
  t->fd = -1;
  if (strlen(path) >= sizeof t->path)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: path too long", path);
  strcpy(t->path, path);
  char dir[PATH_SIZE];
  const char *base = NULL;
  CLRN_TRY(split_path(path, dir, sizeof dir, &base)); /* "out/", "..": a folder */
  for (int hop = 0; hop <= MAX_LINKS; hop++) {
    if ((t->fd = descriptor_link(t->path)) >= 0) {
      t->kind = TARGET_FD;
      return check_descriptor(path, t->fd);
    }
    struct stat st;
    if (lstat(t->path, &st) != 0) {
      if (errno != ENOENT && errno != ENOTDIR)
        return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: %s", path, strerror(errno));
      t->kind = TARGET_REPLACE; /* absent (or a dangling link's target): created, if its
                                   folder exists (the callers say when not) */
      return CLRN_STATUS_SUCCESS;
    }
    if (S_ISLNK(st.st_mode)) {
      CLRN_TRY(follow_link(path, t->path));
      continue;
    }
    if (S_ISDIR(st.st_mode))
      return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: is a directory", path);
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
      t->kind = TARGET_OPEN;
      return CLRN_STATUS_SUCCESS;
    }
    if (!S_ISREG(st.st_mode))
      return clrn_fail(CLRN_STATUS_IO_ERROR,
                       "%s: exists and is not a regular file, a character device or a FIFO", path);
    t->kind = TARGET_REPLACE;
    return check_replaceable(path, t->path, &st);
  }
  return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: more than %d symbolic links", path, MAX_LINKS);
}

/* ---- Writing. ---- */

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

/* Opens a non-regular target for writing in place. */
static clrn_status open_direct(const char *path, const target *t, FILE **file) {
  int fd = t->kind == TARGET_FD ? fcntl(t->fd, F_DUPFD_CLOEXEC, 0)
                                : open(t->path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: %s", path, strerror(errno));
  *file = fdopen(fd, "wb");
  if (!*file) {
    int error = errno;
    close(fd);
    return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: fdopen: %s", path, strerror(error));
  }
  return CLRN_STATUS_SUCCESS;
}

/* Creates temp (O_EXCL) and lists it, with signals held off so that a handler
 * never runs between the two; errno as open() left it. */
static int create_listed(const char *temp) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  int error = errno;
  if (fd >= 0)
    slot_add(temp);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = error;
  return fd;
}

/* Creates a new temporary beside t->path. */
static clrn_status open_temp(const char *path, const target *t, char *temp, size_t size,
                             FILE **file) {
  char dir[PATH_SIZE];
  const char *base = NULL;
  CLRN_TRY(split_path(t->path, dir, sizeof dir, &base));
  static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  for (int attempt = 0; attempt < TEMP_ATTEMPTS; attempt++) {
    uint64_t bits = temp_entropy();
    char suffix[11];
    for (int i = 0; i < 10; i++, bits /= 36)
      suffix[i] = digits[bits % 36];
    suffix[10] = '\0';
    int n = snprintf(temp, size, "%s/.%s.%s.tmp", dir, base, suffix);
    if (n < 0 || (size_t)n >= size) {
      temp[0] = '\0';
      return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                       "%s: temporary name needs %d bytes, the buffer has %zu", path, n + 1, size);
    }
    int fd = create_listed(temp);
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
      slot_remove(temp);
      temp[0] = '\0';
      return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: fdopen: %s", path, strerror(error));
    }
    return CLRN_STATUS_SUCCESS;
  }
  temp[0] = '\0';
  return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: no free temporary name after %d attempts", path,
                   TEMP_ATTEMPTS);
}

clrn_status clrn_atomic_open(const char *path, char *temp, size_t size, FILE **file) {
  if (!path || !*path || !temp || !size || !file)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_atomic_open: NULL or empty argument");
  *file = NULL;
  temp[0] = '\0';
  target t;
  CLRN_TRY(resolve_target(path, &t));
  if (t.kind != TARGET_REPLACE)
    return open_direct(path, &t, file);
  return open_temp(path, &t, temp, size, file);
}

/* The file a temporary is renamed over: "<dir>/.<base>.<10 chars>.tmp" -> "<dir>/<base>". */
static bool temp_target(const char *temp, char *out, size_t size) {
  const char *slash = strrchr(temp, '/');
  size_t length = strlen(temp);
  if (!slash || slash[1] != '.' || length < (size_t)(slash - temp) + 2 + TEMP_SUFFIX_LENGTH + 1 ||
      strcmp(temp + length - 4, ".tmp") != 0 || length >= size)
    return false;
  size_t dir = (size_t)(slash - temp) + 1;
  memcpy(out, temp, dir);
  size_t base = length - dir - 1 - TEMP_SUFFIX_LENGTH;
  memcpy(out + dir, slash + 2, base);
  out[dir + base] = '\0';
  return true;
}

clrn_status clrn_atomic_commit(FILE *file, const char *temp, const char *path) {
  char destination[TEMP_SIZE];
  if (!file || !temp || !path || !*path ||
      (*temp && !temp_target(temp, destination, sizeof destination))) {
    clrn_atomic_abort(file, temp);
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "clrn_atomic_commit: NULL, empty or foreign argument");
  }
  bool direct = !*temp;
  const char *what = NULL;
  int error = 0;
  if (fflush(file) != 0 || ferror(file)) {
    what = "write";
    error = errno;
  } else if (!direct && fsync(fileno(file)) != 0 && errno != EINVAL && errno != ENOTSUP) {
    what = "fsync"; /* EINVAL/ENOTSUP: a file system without fsync, nothing to wait for */
    error = errno;
  }
  int closed = fclose(file);
  if (!what && closed != 0) {
    what = "close";
    error = errno;
  }
  if (!what && !direct && rename(temp, destination) != 0) {
    what = "rename";
    error = errno;
  }
  if (!direct) {
    if (what)
      unlink(temp);
    slot_remove(temp);
  }
  if (what)
    return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: %s failed: %s", path, what,
                     error ? strerror(error) : "stream error");
  return CLRN_STATUS_SUCCESS;
}

void clrn_atomic_abort(FILE *file, const char *temp) {
  if (file)
    fclose(file);
  if (temp && *temp) {
    unlink(temp);
    slot_remove(temp);
  }
}

clrn_status clrn_output_check(const char *path) {
  if (!path || !*path)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "the output file name is empty");
  target t;
  CLRN_TRY(resolve_target(path, &t));
  if (t.kind == TARGET_FD)
    return CLRN_STATUS_SUCCESS;
  if (t.kind == TARGET_OPEN) /* not opened here: a FIFO would wait for its reader */
    return access(t.path, W_OK) == 0
               ? CLRN_STATUS_SUCCESS
               : clrn_fail(CLRN_STATUS_IO_ERROR, "%s: %s", path, strerror(errno));
  char dir[PATH_SIZE];
  const char *base = NULL;
  CLRN_TRY(split_path(t.path, dir, sizeof dir, &base));
  struct stat st;
  if (stat(dir, &st) != 0)
    return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: folder %s: %s", path, dir, strerror(errno));
  if (!S_ISDIR(st.st_mode))
    return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: %s is not a folder", path, dir);
  /* access() answers for the real user and ignores read-only mounts: creating (and
   * removing) a file is the only sure test. */
  char temp[TEMP_SIZE];
  FILE *file = NULL;
  CLRN_TRY(open_temp(path, &t, temp, sizeof temp, &file));
  clrn_atomic_abort(file, temp);
  return CLRN_STATUS_SUCCESS;
}
