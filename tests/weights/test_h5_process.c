/* The Keras .h5 reader's child process (src/weights/h5.c): a Keras-layout file
 * written here with libhdf5 (a Conv2D kernel, a Dense kernel, float64 and float32
 * vectors of distinct values) reads back through clrn_h5_open() and
 * clrn_h5_parse() with every value in place and the kernels transposed; from 4
 * threads at once too (taking turns under AddressSanitizer, see open_many). A reader process that
 * crashes (SIGSEGV, even when the caller installed its own SIGSEGV handler), is killed or exits
 * without a result gives one clean error naming the file and leaves nothing behind; so does the
 * corpus file on which libhdf5 1.10 itself crashes (CLRN_CORPUS_DIR). The
 * parent's check of the child's result survives every byte of a real result
 * flipped and every truncation of it. */
#include <errno.h>
#include <hdf5.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <threads.h>
#include <unistd.h>

#include "harness.h"
#include "weights/h5_parts.h"

static char dir[512], file[600];

/* conv1_conv/kernel [3, 3, 2, 4], predictions/kernel [4, 3] and conv1_conv/bias
 * (float64) hold i + 0.25 at element i; conv1_bn/gamma (float32) 10 + i. */
static bool write_dataset(hid_t group, const char *name, hid_t type, int rank, const hsize_t *dims,
                          double base) {
  size_t n = 1;
  for (int i = 0; i < rank; i++)
    n *= (size_t)dims[i];
  double *values = malloc(n * sizeof *values);
  if (!values)
    return false;
  for (size_t i = 0; i < n; i++)
    values[i] = base + (double)i;
  hid_t links = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(links, 1);
  hid_t space = H5Screate_simple(rank, dims, NULL);
  hid_t set = H5Dcreate2(group, name, type, space, links, H5P_DEFAULT, H5P_DEFAULT);
  bool ok =
      set >= 0 && H5Dwrite(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) >= 0;
  if (set >= 0)
    H5Dclose(set);
  H5Sclose(space);
  H5Pclose(links);
  free(values);
  return ok;
}

static int setup(void) {
  clrn_test_temp_dir(dir, sizeof dir);
  snprintf(file, sizeof file, "%s/values.h5", dir);
  hid_t f = H5Fcreate(file, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0)
    return 1;
  const hsize_t kernel[4] = {3, 3, 2, 4}, dense[2] = {4, 3}, vector[1] = {4};
  hid_t conv = H5Gcreate2(f, "conv1_conv", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hid_t bn = H5Gcreate2(f, "conv1_bn", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hid_t fc = H5Gcreate2(f, "predictions", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  bool ok = write_dataset(conv, "conv1_conv/kernel:0", H5T_IEEE_F32LE, 4, kernel, 0.25) &&
            write_dataset(conv, "conv1_conv/bias:0", H5T_IEEE_F64LE, 1, vector, 0.25) &&
            write_dataset(bn, "conv1_bn/gamma:0", H5T_IEEE_F32LE, 1, vector, 10) &&
            write_dataset(fc, "predictions/kernel:0", H5T_IEEE_F32LE, 2, dense, 0.25);
  H5Gclose(conv);
  H5Gclose(bn);
  H5Gclose(fc);
  H5Fclose(f);
  return ok ? 0 : 1;
}

static int teardown(void) {
  clrn_test_remove_dir(dir);
  return 0;
}

static const float *values_of(const clrn_h5 *h5, const char *name, int ndim, const int64_t *shape) {
  const clrn_h5_tensor *t = clrn_h5_find(h5, name);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  CU_ASSERT_EQUAL(t->ndim, ndim);
  for (int i = 0; i < ndim; i++)
    CU_ASSERT_EQUAL(t->shape[i], shape[i]);
  CU_ASSERT_EQUAL(t->read_status, CLRN_STATUS_SUCCESS);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t->data);
  return t->data;
}

/* Every value in place: [kh, kw, in, out] -> [out, in, kh, kw], [in, out] -> [out, in]. */
static void check_values(const clrn_h5 *h5) {
  CU_ASSERT_EQUAL(h5->count, 4);
  const float *w = values_of(h5, "conv1.weight", 4, (const int64_t[]){4, 2, 3, 3});
  for (int o = 0; o < 4; o++)
    for (int i = 0; i < 2; i++)
      for (int y = 0; y < 3; y++)
        for (int x = 0; x < 3; x++)
          CU_ASSERT_EQUAL(w[((o * 2 + i) * 3 + y) * 3 + x], ((y * 3 + x) * 2 + i) * 4 + o + 0.25f);
  const float *fc = values_of(h5, "fc.weight", 2, (const int64_t[]){3, 4});
  for (int o = 0; o < 3; o++)
    for (int i = 0; i < 4; i++)
      CU_ASSERT_EQUAL(fc[o * 4 + i], i * 3 + o + 0.25f);
  const float *bias = values_of(h5, "conv1.bias", 1, (const int64_t[]){4});
  const float *gamma = values_of(h5, "bn1.weight", 1, (const int64_t[]){4});
  CU_ASSERT_EQUAL(clrn_h5_find(h5, "conv1.bias")->dtype, CLRN_DTYPE_F64);
  float out[4];
  CLRN_ASSERT_OK(clrn_h5_read_f32(h5, clrn_h5_find(h5, "bn1.weight"), out));
  for (int i = 0; i < 4; i++) {
    CU_ASSERT_EQUAL(bias[i], i + 0.25f);
    CU_ASSERT_EQUAL(gamma[i], 10.0f + i);
    CU_ASSERT_EQUAL(out[i], 10.0f + i);
  }
}

/* No descriptor and no child process left behind. */
static int free_descriptor(void) {
  int fd = dup(0);
  if (fd >= 0)
    close(fd);
  return fd;
}

static void check_clean(int first_free) {
  CU_ASSERT_EQUAL(free_descriptor(), first_free);
  errno = 0;
  CU_ASSERT_EQUAL(waitpid(-1, NULL, WNOHANG), -1);
  CU_ASSERT_EQUAL(errno, ECHILD);
}

static void test_values(void) {
  int first_free = free_descriptor();
  clrn_h5 h5;
  CLRN_ASSERT_OK(clrn_h5_open(file, &h5));
  check_values(&h5);
  clrn_h5_close(&h5);
  clrn_h5_close(&h5);
  FILE *f = fopen(file, "rb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  static unsigned char bytes[1 << 16];
  size_t size = fread(bytes, 1, sizeof bytes, f);
  fclose(f);
  CU_ASSERT_FATAL(size > 0 && size < sizeof bytes);
  CLRN_ASSERT_OK(clrn_h5_parse(bytes, size, "memory.h5", &h5));
  check_values(&h5);
  clrn_h5_close(&h5);
  check_clean(first_free);
}

/* AddressSanitizer's allocator before LLVM 17 (gcc 12's libasan too) takes no
 * lock around fork(): a child forked while another thread is inside malloc spins
 * for ever on the allocator's lock (glibc's malloc, which the library relies on,
 * resets its locks in the child). Under ASan the threads take turns: the others
 * wait on a mutex, not in malloc, while one forks. */
#if defined(__SANITIZE_ADDRESS__)
#define TAKE_TURNS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TAKE_TURNS 1
#endif
#endif
#ifndef TAKE_TURNS
#define TAKE_TURNS 0
#endif
static mtx_t turn;

static int open_many(void *arg) {
  (void)arg;
  int failed = 0;
  for (int i = 0; i < 8 && !failed; i++) {
    if (TAKE_TURNS)
      mtx_lock(&turn);
    clrn_h5 h5;
    failed = clrn_h5_open(file, &h5) != CLRN_STATUS_SUCCESS || h5.count != 4;
    const clrn_h5_tensor *fc = failed ? NULL : clrn_h5_find(&h5, "fc.weight");
    failed = failed || !fc || fc->data[5] != 4.25f;
    clrn_h5_close(&h5);
    if (TAKE_TURNS)
      mtx_unlock(&turn);
  }
  return failed;
}

static void test_threads(void) {
  CU_ASSERT_EQUAL_FATAL(mtx_init(&turn, mtx_plain), thrd_success);
  thrd_t threads[4];
  for (int i = 0; i < 4; i++)
    CU_ASSERT_EQUAL_FATAL(thrd_create(&threads[i], open_many, NULL), thrd_success);
  for (int i = 0; i < 4; i++) {
    int result = 1;
    thrd_join(threads[i], &result);
    CU_ASSERT_EQUAL(result, 0);
  }
  mtx_destroy(&turn);
}

/* Opens file with the reader process ending through hook; wants status and a
 * message naming the file and holding want. */
static void expect_failure(void (*hook)(void), const char *path, clrn_status status,
                           const char *want) {
  int first_free = free_descriptor();
  clrn_h5 h5, zero;
  memset(&zero, 0, sizeof zero);
  clrn_h5_reader_exit_hook = hook;
  clrn_status got = clrn_h5_open(path, &h5);
  clrn_h5_reader_exit_hook = NULL;
  const char *message = clrn_last_error();
  bool ok = got == status && strstr(message, path) && strstr(message, want) &&
            !strchr(message, '\n') && memcmp(&h5, &zero, sizeof h5) == 0;
  if (!ok)
    fprintf(stderr, "\n%s: got %s \"%s\", wanted %s \"%s\"\n", path, clrn_status_string(got),
            message, clrn_status_string(status), want);
  CU_ASSERT(ok);
  check_clean(first_free);
}

static void crash(void) { raise(SIGSEGV); }
static void killed(void) { raise(SIGKILL); }
static void exit_3(void) { _exit(3); }

/* A caller's own crash handler (Python's faulthandler, say) must not run in the
 * child: this one would make a crash look like a clean exit. */
static void handler(int number) {
  (void)number;
  _exit(0);
}

static void test_child_ends(void) {
  expect_failure(crash, file, CLRN_STATUS_INVALID_FORMAT,
                 "libhdf5 crashed reading it (signal 11, SIGSEGV): the file is corrupt");
  expect_failure(killed, file, CLRN_STATUS_IO_ERROR, "killed (signal 9, SIGKILL)");
  expect_failure(exit_3, file, CLRN_STATUS_IO_ERROR, "exited with status 3 without a result");
  struct sigaction action, old;
  memset(&action, 0, sizeof action);
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  CU_ASSERT_FATAL(sigaction(SIGSEGV, &action, &old) == 0);
  expect_failure(crash, file, CLRN_STATUS_INVALID_FORMAT, "(signal 11, SIGSEGV)");
  sigaction(SIGSEGV, &old, NULL);
}

/* libhdf5 1.10.8 (Debian bookworm) itself crashes on this file: a NULL read in
 * H5F__accum_read under H5HL_protect, from H5Lexists. A libhdf5 that no longer
 * crashes on it refuses it some other way; then this test wants another file. */
static void test_libhdf5_crash(void) {
  const char *corpus = getenv("CLRN_CORPUS_DIR");
  CU_ASSERT_PTR_NOT_NULL_FATAL(corpus);
  char path[1024];
  snprintf(path, sizeof path, "%s/libhdf5-crash-local-heap.h5", corpus);
  expect_failure(NULL, path, CLRN_STATUS_INVALID_FORMAT,
                 "libhdf5 crashed reading it (signal 11, SIGSEGV): the file is corrupt");
}

/* The result checked as untrusted input: checks one mutation of it. */
static void check_mutation(const unsigned char *image, size_t size) {
  clrn_h5 h5, zero;
  memset(&h5, 0, sizeof h5);
  memset(&zero, 0, sizeof zero);
  clrn_status status = clrn_h5_result_read("x.h5", image, size, &h5);
  if (status != CLRN_STATUS_SUCCESS) {
    CU_ASSERT(memcmp(&h5, &zero, sizeof h5) == 0);
    CU_ASSERT(strstr(clrn_last_error(), "x.h5") != NULL);
    return;
  }
  for (size_t i = 0; i < h5.count; i++) {
    const clrn_h5_tensor *t = &h5.tensors[i];
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++)
      n *= (size_t)t->shape[d];
    CU_ASSERT(clrn_h5_find(&h5, t->name) == t);
    if (t->data)
      CU_ASSERT((const unsigned char *)t->data >= image &&
                (const unsigned char *)(t->data + n) <= image + size);
  }
  clrn_h5_close(&h5);
}

static void test_result_checked(void) {
  clrn_h5 h5;
  CLRN_ASSERT_OK(clrn_h5_open(file, &h5));
  size_t size = h5.image_size;
  unsigned char *copy = malloc(size);
  CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
  memcpy(copy, h5.image, size);
  clrn_h5_close(&h5);
  check_mutation(copy, size);
  for (size_t i = 0; i < size; i++)
    for (int bit = 0; bit < 8; bit += 3) {
      copy[i] ^= (unsigned char)(1u << bit);
      check_mutation(copy, size);
      copy[i] ^= (unsigned char)(1u << bit);
    }
  for (size_t n = 0; n < size; n++) {
    unsigned char *exact = malloc(n ? n : 1); /* ASan sees any read past n bytes */
    CU_ASSERT_PTR_NOT_NULL_FATAL(exact);
    memcpy(exact, copy, n);
    clrn_h5 h;
    memset(&h, 0, sizeof h);
    CU_ASSERT_EQUAL(clrn_h5_result_read("x.h5", exact, n, &h), CLRN_STATUS_INVALID_FORMAT);
    free(exact);
  }
  free(copy);
}

int main(void) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  clrn_test_add_suite("h5 reader process", setup, teardown, "values through the child", test_values,
                      "from 4 threads", test_threads, "a child that crashes, is killed or exits",
                      test_child_ends, "a file that crashes libhdf5", test_libhdf5_crash,
                      "the result checked as untrusted", test_result_checked, NULL);
  return clrn_test_run();
}
