/* libFuzzer entry point for the Keras .h5 reader (src/weights/h5.c) over libhdf5's
 * in-memory file driver. Any byte string must be either refused, leaving the result
 * zeroed, or accepted with every tensor findable by its name, of a float dtype and
 * at most 4 dimensions, and readable when small (a read may fail only with a clrn
 * status, never crash); every file, group, dataset and attribute the reader opened
 * must be closed again. The sanitizers catch the rest in our code; libhdf5 itself
 * is not instrumented. Built only with -DCLRN_FUZZ=ON (see tests.cmake). */
#include <hdf5.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weights/h5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);
const char *__lsan_default_options(void);

/* libhdf5 1.10 mallocs sizes it reads from the file (H5C_protect: a metadata
 * entry's length; 12 GB seen) before it refuses to read past the file's end, and
 * handles NULL cleanly. Such a request is never touched (clresnet itself refuses
 * that file in 0.25 s and 80 MB), but under ASan it is slow and trips libFuzzer's
 * malloc limit: here requests over 1 GiB get NULL, as on a small machine. The
 * reader's own allocations are bounded far below that (CLRN_H5_MAX_ELEMENTS). */
const char *__asan_default_options(void) {
  return "allocator_may_return_null=1:max_allocation_size_mb=1024";
}

/* libhdf5 1.10 loses some of its own allocations on the error paths of corrupted
 * files (not instrumented, so LSan sees only malloc <- libhdf5). The reader's own
 * hygiene is checked here instead: every object it opens is closed
 * (H5Fget_obj_count), and its own allocations stay under LSan; opening and closing
 * a valid or a corrupted file 2000 times leaves the RSS as it was. */
const char *__lsan_default_suppressions(void) { return "leak:libhdf5_serial.so\n"; }
const char *__lsan_default_options(void) { return "print_suppressions=0"; }

static void run(const uint8_t *data, size_t size) {
  clrn_h5 h5, zero;
  memset(&zero, 0, sizeof zero);
  if (clrn_h5_parse(data, size, "fuzz.h5", &h5) != CLRN_STATUS_SUCCESS) {
    if (memcmp(&h5, &zero, sizeof h5) != 0)
      abort();
    return;
  }
  for (size_t i = 0; i < h5.count; i++) {
    const clrn_h5_tensor *t = &h5.tensors[i];
    if (clrn_h5_find(&h5, t->name) != t || t->ndim < 1 || t->ndim > CLRN_H5_MAX_DIMS ||
        (t->dtype != CLRN_DTYPE_F32 && t->dtype != CLRN_DTYPE_F16 && t->dtype != CLRN_DTYPE_F64))
      abort();
    uint64_t elements = 1;
    for (int d = 0; d < t->ndim; d++)
      elements *= (uint64_t)t->shape[d];
    if (elements <= (1u << 16)) {
      float *out = malloc(elements ? elements * sizeof *out : 1);
      if (out)
        (void)clrn_h5_read_f32(&h5, t, out);
      free(out);
    }
  }
  clrn_h5_close(&h5);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  run(data, size);
  /* Every file, group, dataset and attribute the reader opened is closed again. */
  if (H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) != 0)
    abort();
  return 0;
}
