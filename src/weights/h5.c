/* The Keras .h5 reader's entry points (see h5.h): checks what libhdf5 would see
 * first, then runs every libhdf5 call for the file in a child process and takes
 * the table and the values from its result.
 *
 * Why a child process: libhdf5 1.10 crashes (SIGSEGV) on some hostile files, deep
 * inside its metadata cache (a NULL read in H5F__accum_read under H5HL_protect
 * and H5B2_open, found by fuzz_h5), and a pre-check per crash does not end the
 * list. The library must never take its caller down, so it forks: the child opens
 * the file (or the in-memory image the parent had), lists and checks the weights
 * exactly as before (h5_hdf5.c), reads every one as float32 in the graph's layout,
 * writes table and values into an anonymous shared memory file (memfd_create,
 * created before the fork) and _exit()s. The parent waits for it (waitpid), seals
 * the memory file against any change, maps it read-only and checks the result as
 * untrusted input (h5_result.c); a child killed by a signal is a file that crashed
 * libhdf5: CLRN_STATUS_INVALID_FORMAT, naming the signal. The parent never calls
 * libhdf5, so libhdf5's own state and locks are never shared across a fork.
 *
 * Why fork() and not a helper program: the reader stays one library with no
 * program to install, find and keep in version with it (the Python module and
 * static links included), the in-memory image of clrn_h5_parse() needs no
 * temporary file, and the child starts with libhdf5 already loaded.
 *
 * The caller may have other threads (PoCL's, Python's) holding locks at the
 * moment of the fork; the child has only the forking thread. So the child calls
 * nothing but libhdf5 (unused by the parent, its locks free), malloc (fork-safe
 * in glibc: fork(), not _Fork(), so that glibc's own fork handlers reset its
 * locks; other libraries' pthread_atfork handlers run as for any fork), its own
 * error slot (made before the fork by clrn_error_reserve(): no lock is taken),
 * pwrite() and _exit(). It prints nothing (libhdf5's error printing is off),
 * closes none of the parent's descriptors, flushes none of its stdio buffers and
 * runs none of its atexit handlers (_exit), and frees nothing: its exit returns
 * its memory at once. Its crash signals go back to the default action first, so
 * that a crash ends it with that signal instead of running the caller's crash
 * handlers (Python's faulthandler, a sanitizer's report) in a copy of the caller.
 * The memory file is close-on-exec and unnamed: nothing outside the process sees
 * it. Limits: a caller that uses the same libhdf5 in another thread at the moment
 * of the fork (h5py on Debian's libhdf5) may leave its lock held in the child,
 * which then waits for ever; a caller that reaps every child (SIGCHLD ignored, a
 * waitpid(-1) loop) leaves only the result to tell a finished child from a dead
 * one. Linux only (memfd_create, file seals). */
#define _GNU_SOURCE /* memfd_create() and file seals */
#include "weights/h5.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "io/file.h"
#include "weights/h5_parts.h"

void (*clrn_h5_reader_exit_hook)(void);

static const unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

bool clrn_h5_detect(const unsigned char *head, size_t n) {
  return n >= sizeof signature && memcmp(head, signature, sizeof signature) == 0;
}

int clrn_h5_compare_tensors(const void *a, const void *b) {
  return strcmp(((const clrn_h5_tensor *)a)->name, ((const clrn_h5_tensor *)b)->name);
}

/* A local heap's prefix (8-byte offsets and lengths): "HEAP", version 0, 3
 * reserved bytes, the data segment's size, the free list's offset, its address. */
#define HEAP_PREFIX 32

/* libhdf5 1.10 crashes (a memcpy to NULL under H5HL_protect) on a local heap whose
 * data segment overlaps its own prefix; such a heap, or one whose data lies past
 * the file's end, is refused first. Checks every prefix that starts in
 * [0, n) of bytes (which holds n + HEAP_PREFIX - 1 bytes when more follow), at
 * file offset base, of a file of size bytes. */
static clrn_status check_heaps(const char *name, const unsigned char *bytes, size_t n,
                               uint64_t base, uint64_t size, size_t available) {
  for (size_t i = 0; i < n && i + HEAP_PREFIX <= available; i++) {
    if (bytes[i] != 'H' || memcmp(bytes + i, "HEAP", 4) != 0 || bytes[i + 4] != 0)
      continue;
    uint64_t length = 0, address = 0, at = base + i;
    for (int k = 7; k >= 0; k--) {
      length = length << 8 | bytes[i + 8 + k];
      address = address << 8 | bytes[i + 24 + k];
    }
    if (address > size || length > size - address ||
        (address < at + HEAP_PREFIX && address + length > at))
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                       "%s: the local heap at offset %llu has its data (%llu bytes at %llu) "
                       "outside the file or over its own header",
                       name, (unsigned long long)at, (unsigned long long)length,
                       (unsigned long long)address);
  }
  return CLRN_STATUS_SUCCESS;
}

/* check_heaps() over a whole file, 1 MiB at a time. */
static clrn_status check_file_heaps(const char *name, int fd, uint64_t size) {
  enum { CHUNK = 1 << 20 };
  unsigned char *buffer = malloc(CHUNK + HEAP_PREFIX);
  if (!buffer)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: heap check", name);
  clrn_status status = CLRN_STATUS_SUCCESS;
  for (uint64_t at = 0; status == CLRN_STATUS_SUCCESS && at < size; at += CHUNK) {
    size_t want = (size_t)(size - at < CHUNK + HEAP_PREFIX ? size - at : CHUNK + HEAP_PREFIX);
    ssize_t got = pread(fd, buffer, want, (off_t)at);
    if (got != (ssize_t)want)
      status = clrn_fail(CLRN_STATUS_IO_ERROR, "%s: cannot read at offset %llu", name,
                         (unsigned long long)at);
    else
      status = check_heaps(name, buffer, want < CHUNK ? want : CHUNK, at, size, want);
  }
  free(buffer);
  return status;
}

/* Checks what libhdf5 would see first: the signature and a superblock version it
 * knows (0 to 3), at offset 0, with the 8-byte offsets and lengths of every
 * file h5py and Keras write. */
static clrn_status check_head(const char *name, const unsigned char *head, size_t n) {
  if (!clrn_h5_detect(head, n))
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: not an HDF5 file (no signature at its start)",
                     name);
  if (n < 9)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: an HDF5 signature with no superblock after it", name);
  if (head[8] > 3)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED, "%s: HDF5 superblock version %u is not 0 to 3", name,
                     head[8]);
  size_t sizes = head[8] < 2 ? 13 : 9; /* sizes of offsets and of lengths */
  if (n < sizes + 2)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: the HDF5 superblock is cut short", name);
  if (head[sizes] != 8 || head[sizes + 1] != 8)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "%s: HDF5 with %u-byte offsets and %u-byte lengths (only 8 is read)", name,
                     head[sizes], head[sizes + 1]);
  return CLRN_STATUS_SUCCESS;
}

/* --- the reader process (the child) ---------------------------------------- */

/* The signals a crash ends a process with. */
static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};
#define CRASH_SIGNALS (sizeof crash_signals / sizeof crash_signals[0])

/* Crashes end the child with their signal, whatever handlers the caller set. */
static void default_crash_signals(void) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < CRASH_SIGNALS; i++) {
    sigaction(crash_signals[i], &action, NULL);
    sigaddset(&set, crash_signals[i]);
  }
  sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static uint64_t elements_of(const clrn_h5_tensor *t) {
  uint64_t n = 1;
  for (int i = 0; i < t->ndim; i++)
    n *= (uint64_t)t->shape[i];
  return n;
}

/* Reads every tensor of the open file and writes its floats into the result fd,
 * tensor i at offsets[i], 64-byte aligned from CLRN_H5_RESULT_DATA; *end is past
 * the last. A tensor libhdf5 cannot read keeps its status and message instead. */
static clrn_status read_values(int fd, int64_t file, clrn_h5 *h5, uint64_t *offsets,
                               uint64_t *end) {
  uint64_t total = 0;
  for (size_t i = 0; i < h5->count; i++)
    total += elements_of(&h5->tensors[i]); /* each at most 2^28: no overflow */
  if (total > CLRN_H5_MAX_TOTAL_ELEMENTS)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED, "%s: %llu values in all, more than %llu", h5->name,
                     (unsigned long long)total, (unsigned long long)CLRN_H5_MAX_TOTAL_ELEMENTS);
  uint64_t at = CLRN_H5_RESULT_DATA;
  float *buffer = NULL;
  size_t capacity = 0;
  clrn_status status = CLRN_STATUS_SUCCESS;
  for (size_t i = 0; status == CLRN_STATUS_SUCCESS && i < h5->count; i++) {
    clrn_h5_tensor *t = &h5->tensors[i];
    size_t n = (size_t)elements_of(t);
    if (n > capacity) {
      free(buffer);
      capacity = n;
      if (!(buffer = malloc(n * sizeof *buffer)))
        return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: dataset %s", h5->name, t->path);
    }
    float one;
    clrn_status read = clrn_h5_hdf5_read(file, h5->name, t, buffer ? buffer : &one);
    if (read != CLRN_STATUS_SUCCESS) {
      t->read_status = read;
      if (!(t->read_error = strdup(clrn_last_error())))
        status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: dataset %s", h5->name, t->path);
      continue;
    }
    if (!clrn_h5_result_put(fd, buffer, n * sizeof *buffer, at))
      status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY,
                         "%s: cannot hand %llu bytes of weights back from libhdf5's process",
                         h5->name, (unsigned long long)(at + n * sizeof *buffer));
    offsets[i] = at;
    at +=
        (n * sizeof *buffer + CLRN_H5_RESULT_DATA - 1) / CLRN_H5_RESULT_DATA * CLRN_H5_RESULT_DATA;
  }
  free(buffer);
  *end = at;
  return status;
}

/* The child of parent: lists and reads the file through libhdf5, writes the
 * result into fd and ends. It dies with the thread that forked it (killed while
 * waiting, say), so that no reader outlives its caller. Never returns. */
static void reader_process(pid_t parent, int fd, const char *name, const void *bytes, size_t size) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
    _exit(3);
  default_crash_signals();
  clrn_h5 h5;
  int64_t file = 0;
  uint64_t *offsets = NULL, table = CLRN_H5_RESULT_DATA;
  clrn_status status = clrn_h5_hdf5_open(name, bytes, size, &h5, &file);
  if (status == CLRN_STATUS_SUCCESS && !(offsets = calloc(h5.count, sizeof *offsets)))
    status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: the weights' table", name);
  if (status == CLRN_STATUS_SUCCESS)
    status = read_values(fd, file, &h5, offsets, &table);
  bool written = clrn_h5_result_write(fd, status, &h5, offsets, table);
  if (clrn_h5_reader_exit_hook)
    clrn_h5_reader_exit_hook();
  _exit(written ? 0 : 2);
}

/* --- the parent ------------------------------------------------------------- */

static const char *signal_name(int number) {
  switch (number) {
  case SIGSEGV: return "SIGSEGV";
  case SIGBUS: return "SIGBUS";
  case SIGILL: return "SIGILL";
  case SIGFPE: return "SIGFPE";
  case SIGABRT: return "SIGABRT";
  case SIGTRAP: return "SIGTRAP";
  case SIGSYS: return "SIGSYS";
  case SIGKILL: return "SIGKILL";
  case SIGTERM: return "SIGTERM";
  case SIGINT: return "SIGINT";
  case SIGHUP: return "SIGHUP";
  case SIGXCPU: return "SIGXCPU";
  }
  return "another signal";
}

/* The status of a child that ended without a result, or SUCCESS when it exited. */
static clrn_status child_ended(const char *name, int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    int number = WTERMSIG(wait_status);
    bool crash = false;
    for (size_t i = 0; i < CRASH_SIGNALS; i++)
      crash = crash || number == crash_signals[i];
    if (crash)
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                       "%s: libhdf5 crashed reading it (signal %d, %s): the file is corrupt", name,
                       number, signal_name(number));
    return clrn_fail(CLRN_STATUS_IO_ERROR,
                     "%s: libhdf5's reader process was killed (signal %d, %s)", name, number,
                     signal_name(number));
  }
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0)
    return clrn_fail(CLRN_STATUS_IO_ERROR,
                     "%s: libhdf5's reader process exited with status %d without a result", name,
                     WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1);
  return CLRN_STATUS_SUCCESS;
}

/* Seals the result file fd (nothing may change or shrink it after its check)
 * and maps it read-only; *image stays NULL when its size is out of bounds (the
 * check refuses it). */
static clrn_status map_result(const char *name, int fd, void **image, size_t *size) {
  struct stat st;
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0 ||
      fstat(fd, &st) != 0)
    return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: cannot seal libhdf5's result (%s)", name,
                     strerror(errno));
  *size = st.st_size < 0 ? 0 : (size_t)st.st_size;
  if (*size < CLRN_H5_RESULT_DATA || (uint64_t)*size > CLRN_H5_MAX_RESULT)
    return CLRN_STATUS_SUCCESS;
  void *mapped = mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (mapped == MAP_FAILED)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: cannot map libhdf5's result (%s)", name,
                     strerror(errno));
  *image = mapped;
  return CLRN_STATUS_SUCCESS;
}

/* Runs the reader process on the file name (bytes: its in-memory image) and
 * fills h5 from its result. */
static clrn_status run_reader(const char *name, const void *bytes, size_t size, clrn_h5 *h5) {
  memset(h5, 0, sizeof *h5);
  if (!clrn_error_reserve())
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: error slot", name);
  int fd = memfd_create("clresnet-h5", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return clrn_fail(CLRN_STATUS_IO_ERROR,
                     "%s: cannot make the memory file for libhdf5's reader process (%s)", name,
                     strerror(errno));
  pid_t parent = getpid(), child = fork();
  if (child == 0)
    reader_process(parent, fd, name, bytes, size);
  if (child < 0) {
    int error = errno;
    close(fd);
    return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: cannot start libhdf5's reader process (%s)", name,
                     strerror(error));
  }
  int wait_status = 0;
  pid_t waited;
  do
    waited = waitpid(child, &wait_status, 0);
  while (waited < 0 && errno == EINTR);
  /* When the child was reaped by someone else (SIGCHLD ignored, a waitpid(-1)
   * elsewhere), its result alone tells: complete only with its header. */
  clrn_status status = waited == child ? child_ended(name, wait_status) : CLRN_STATUS_SUCCESS;
  void *image = NULL;
  size_t image_size = 0;
  if (status == CLRN_STATUS_SUCCESS)
    status = map_result(name, fd, &image, &image_size);
  close(fd);
  if (status == CLRN_STATUS_SUCCESS)
    status = clrn_h5_result_read(name, image, image_size, h5);
  if (status == CLRN_STATUS_SUCCESS && !(h5->name = strdup(name))) {
    clrn_h5_close(h5);
    status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "file name");
  }
  if (status != CLRN_STATUS_SUCCESS) {
    if (image)
      munmap(image, image_size);
    return status;
  }
  h5->image = image;
  h5->image_size = image_size;
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_h5_open(const char *path, clrn_h5 *h5) {
  memset(h5, 0, sizeof *h5);
  int fd = -1;
  uint64_t size = 0;
  CLRN_TRY(clrn_file_open_regular_fd(path, &fd, &size));
  unsigned char head[16];
  ssize_t got = pread(fd, head, sizeof head, 0);
  clrn_status status = check_head(path, head, got > 0 ? (size_t)got : 0);
  if (status == CLRN_STATUS_SUCCESS)
    status = check_file_heaps(path, fd, size);
  close(fd);
  CLRN_TRY(status);
  return run_reader(path, NULL, 0, h5);
}

clrn_status clrn_h5_parse(const void *bytes, size_t size, const char *name, clrn_h5 *h5) {
  memset(h5, 0, sizeof *h5);
  CLRN_TRY(check_head(name, bytes, size));
  CLRN_TRY(check_heaps(name, bytes, size, 0, size, size));
  return run_reader(name, bytes, size, h5);
}

void clrn_h5_close(clrn_h5 *h5) {
  if (!h5)
    return;
  for (size_t i = 0; i < h5->count; i++) {
    free(h5->tensors[i].name);
    free(h5->tensors[i].path);
    free(h5->tensors[i].read_error);
  }
  free(h5->tensors);
  free(h5->name);
  if (h5->image)
    munmap(h5->image, h5->image_size);
  memset(h5, 0, sizeof *h5);
}

const clrn_h5_tensor *clrn_h5_find(const clrn_h5 *h5, const char *name) {
  if (!h5->count)
    return NULL;
  clrn_h5_tensor key = {.name = (char *)name};
  return bsearch(&key, h5->tensors, h5->count, sizeof *h5->tensors, clrn_h5_compare_tensors);
}

clrn_status clrn_h5_read_f32(const clrn_h5 *h5, const clrn_h5_tensor *t, float *out) {
  if (!t)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: no such weight", h5->name);
  if (t->read_status != CLRN_STATUS_SUCCESS || !t->data)
    return clrn_fail(t->read_status != CLRN_STATUS_SUCCESS ? t->read_status : CLRN_STATUS_IO_ERROR,
                     "%s", t->read_error ? t->read_error : "libhdf5 could not read it");
  size_t elements = 1;
  for (int i = 0; i < t->ndim; i++)
    elements *= (size_t)t->shape[i];
  if (elements)
    memcpy(out, t->data, elements * sizeof *out);
  return CLRN_STATUS_SUCCESS;
}
