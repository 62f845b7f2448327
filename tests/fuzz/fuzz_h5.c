/* libFuzzer entry point for the Keras .h5 reader (src/weights/h5.c) over libhdf5's
 * in-memory file driver. Any byte string must be either refused, leaving the result
 * zeroed, or accepted with every tensor findable by its name, of a float dtype and
 * at most 4 dimensions, and either readable or failing with the clrn status the
 * reader process recorded for it, never crashing.
 *
 * libhdf5 runs only in the reader process clrn_h5_parse() forks; a file that
 * crashes libhdf5 kills that child, and the parent refuses the file
 * (INVALID_FORMAT, "libhdf5 crashed reading it"): such inputs are ordinary
 * refusals here. This harness never calls libhdf5 itself. What it checks in the
 * parent: the refusal's status is one a bad file may give (IO_ERROR means the child
 * exited without a result: a sanitizer report from the reader's own code in the
 * child, which then also wrote its crash file); the result's deserialiser (under
 * the sanitizers); and that each parse leaves no descriptor and no child process
 * behind. The child's own coverage (the listing code in h5_hdf5.c) is
 * copied back through clrn_h5_reader_exit_hook, so libFuzzer is still guided by
 * it. The sanitizers catch the rest in our code; libhdf5 itself is not
 * instrumented, and a NULL dereference of our own in the child would read as a
 * libhdf5 crash (the child runs its crash signals with the default action).
 * Built only with -DCLRN_FUZZ=ON (see tests.cmake). */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "weights/h5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);
const char *__lsan_default_options(void);

/* libhdf5 1.10 mallocs sizes it reads from the file (H5C_protect: a metadata
 * entry's length; 12 GB seen) before it refuses to read past the file's end, and
 * handles NULL cleanly. Such a request is never touched (clresnet itself refuses
 * that file in 0.25 s and 80 MB), but under ASan it is slow and trips libFuzzer's
 * malloc limit: here requests over 1 GiB get NULL, as on a small machine (in the
 * reader process too: it inherits these options). The reader's own allocations
 * are bounded far below that (CLRN_H5_MAX_ELEMENTS). */
const char *__asan_default_options(void) {
  return "allocator_may_return_null=1:max_allocation_size_mb=1024";
}

/* The reader process ends with _exit(), so LSan never looks at it; libhdf5's own
 * leaks stay suppressed in case anything reaches it in this process. */
const char *__lsan_default_suppressions(void) { return "leak:libhdf5_serial.so\n"; }
const char *__lsan_default_options(void) { return "print_suppressions=0"; }

/* libFuzzer's inline 8-bit counters (-fsanitize=fuzzer; fuzz_counters.c finds
 * them). The reader process raises its copies of them; the hook copies them into
 * shared memory before the child exits, and the parent takes the larger count of
 * each. */
uint8_t *clrn_fuzz_counters(size_t *count);
static uint8_t *counters, *child_counters;
static size_t counter_count;

static void copy_counters(void) { memcpy(child_counters, counters, counter_count); }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  if ((counters = clrn_fuzz_counters(&counter_count))) {
    void *shared =
        mmap(NULL, counter_count, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared != MAP_FAILED) {
      child_counters = shared;
      clrn_h5_reader_exit_hook = copy_counters;
    }
  }
  return 0;
}

static void merge_counters(void) {
  if (!child_counters)
    return;
  for (size_t i = 0; i < counter_count; i++) {
    if (child_counters[i] > counters[i])
      counters[i] = child_counters[i];
    child_counters[i] = 0;
  }
}

/* The lowest free descriptor: it must not move across a parse. */
static int free_descriptor(void) {
  int fd = dup(0);
  if (fd >= 0)
    close(fd);
  return fd;
}

static void run(const uint8_t *data, size_t size) {
  clrn_h5 h5, zero;
  memset(&zero, 0, sizeof zero);
  clrn_status status = clrn_h5_parse(data, size, "fuzz.h5", &h5);
  merge_counters();
  if (status != CLRN_STATUS_SUCCESS) {
    if (memcmp(&h5, &zero, sizeof h5) != 0 ||
        (status != CLRN_STATUS_INVALID_FORMAT && status != CLRN_STATUS_UNSUPPORTED &&
         status != CLRN_STATUS_OUT_OF_HOST_MEMORY)) {
      fprintf(stderr, "fuzz_h5: %s: %s\n", clrn_status_string(status), clrn_last_error());
      abort();
    }
    return;
  }
  for (size_t i = 0; i < h5.count; i++) {
    const clrn_h5_tensor *t = &h5.tensors[i];
    if (clrn_h5_find(&h5, t->name) != t || t->ndim < 1 || t->ndim > CLRN_H5_MAX_DIMS ||
        (t->dtype != CLRN_DTYPE_F32 && t->dtype != CLRN_DTYPE_F16 && t->dtype != CLRN_DTYPE_F64) ||
        (t->read_status == CLRN_STATUS_SUCCESS) != (t->data != NULL))
      abort();
    uint64_t elements = 1;
    for (int d = 0; d < t->ndim; d++)
      elements *= (uint64_t)t->shape[d];
    if (elements <= (1u << 16)) {
      float *out = malloc(elements ? elements * sizeof *out : 1);
      if (out && clrn_h5_read_f32(&h5, t, out) != t->read_status)
        abort();
      free(out);
    }
  }
  clrn_h5_close(&h5);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int first_free = free_descriptor();
  run(data, size);
  /* No descriptor (the result's memory file) and no unreaped child left behind.
   * Compared per input: libFuzzer's symbolizer (llvm-symbolizer, started when it
   * first names a new function) keeps descriptors and a live child of its own. */
  if (free_descriptor() != first_free || waitpid(-1, NULL, WNOHANG) > 0)
    abort();
  return 0;
}
