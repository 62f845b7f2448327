/* Opening weights files as a careless user or an attacker would present them: a
 * file truncated after it was opened (read, not mapped, so a clean error instead
 * of SIGBUS), a FIFO given as weights or input (refused at once instead of
 * hanging), and headers with very many tensors (lookups stay linear overall; the
 * count is capped at CLRN_SAFETENSORS_MAX_TENSORS). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clresnet/clresnet.h"
#include "harness.h"
#include "weights/safetensors.h"
#include "weights/weights.h"

static char temp_dir[256];

static int setup(void) {
  clrn_test_temp_dir(temp_dir, sizeof temp_dir);
  alarm(120); /* a hang (a FIFO opened for reading) fails the suite instead of stalling it */
  return 0;
}

static int teardown(void) {
  alarm(0);
  clrn_test_remove_dir(temp_dir);
  return 0;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Writes a safetensors file of count F32 tensors, tensor i named by format (with
 * i) and holding elements[i % 2] floats of value i. */
static void write_file(const char *path, size_t count, const char *format,
                       const size_t elements[2]) {
  size_t capacity = 64 + count * (strlen(format) + 80), used = 1, offset = 0;
  char *header = malloc(capacity);
  CU_ASSERT_PTR_NOT_NULL_FATAL(header);
  header[0] = '{';
  for (size_t i = 0; i < count; i++) {
    char name[128];
    snprintf(name, sizeof name, format, i);
    size_t bytes = 4 * elements[i % 2];
    used +=
        (size_t)snprintf(header + used, capacity - used,
                         "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%zu],\"data_offsets\":[%zu,%zu]}",
                         i ? "," : "", name, elements[i % 2], offset, offset + bytes);
    offset += bytes;
  }
  header[used++] = '}';
  FILE *f = fopen(path, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  unsigned char length[8];
  for (int i = 0; i < 8; i++)
    length[i] = (unsigned char)((uint64_t)used >> (8 * i));
  fwrite(length, 1, 8, f);
  fwrite(header, 1, used, f);
  for (size_t i = 0; i < count; i++)
    for (size_t k = 0; k < elements[i % 2]; k++) {
      float v = (float)i;
      fwrite(&v, 4, 1, f); /* the test host is little-endian */
    }
  CU_ASSERT_EQUAL(fclose(f), 0);
  free(header);
}

static void test_truncated_after_open(void) {
  char path[512];
  snprintf(path, sizeof path, "%s/truncated.safetensors", temp_dir);
  const size_t elements[2] = {4, 200000}; /* t0: 16 bytes, t1: 800 kB */
  write_file(path, 2, "t%zu", elements);
  clrn_safetensors st;
  clrn_weights *w = NULL;
  CLRN_ASSERT_OK(clrn_safetensors_open(path, &st));
  CLRN_ASSERT_OK(clrn_weights_file_open(path, &w));
  CU_ASSERT_EQUAL_FATAL(truncate(path, 100000), 0); /* as another process might */
  float *out = malloc(200000 * sizeof *out);
  CU_ASSERT_PTR_NOT_NULL_FATAL(out);
  const clrn_st_tensor *small = clrn_safetensors_find(&st, "t0");
  const clrn_st_tensor *big = clrn_safetensors_find(&st, "t1");
  CU_ASSERT_PTR_NOT_NULL_FATAL(big);
  CLRN_ASSERT_OK(clrn_safetensors_read_f32(&st, small, out)); /* still inside the file */
  CU_ASSERT_EQUAL(out[3], 0.0f);
  /* A mapped file would raise SIGBUS here; a read ends early and says so. */
  CU_ASSERT_EQUAL(clrn_safetensors_read_f32(&st, big, out), CLRN_STATUS_IO_ERROR);
  const char *message = clrn_last_error();
  CU_ASSERT_PTR_NOT_NULL(strstr(message, path));
  CU_ASSERT_PTR_NOT_NULL(strstr(message, "'t1'"));
  CU_ASSERT_PTR_NOT_NULL(strstr(message, "truncated"));
  int64_t shape[1] = {200000};
  CU_ASSERT_EQUAL(clrn_weights_read(w, "t1", 1, shape, out), CLRN_STATUS_IO_ERROR);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), path));
  free(out);
  clrn_weights_close(w);
  clrn_safetensors_close(&st);
}

static void test_fifo_refused(void) {
  char path[512];
  snprintf(path, sizeof path, "%s/fifo", temp_dir);
  CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0600), 0);
  /* Each of these waited forever for a writer (the alarm of setup() ends a hang). */
  clrn_safetensors st;
  CU_ASSERT_EQUAL(clrn_safetensors_open(path, &st), CLRN_STATUS_IO_ERROR);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "FIFO"));
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), path));
  clrn_weights *w = NULL;
  CU_ASSERT_EQUAL(clrn_weights_open(path, CLRN_ARCH_AUTO, &w), CLRN_STATUS_IO_ERROR);
  CU_ASSERT_PTR_NULL(w);
  clrn_npy array;
  CU_ASSERT_EQUAL(clrn_npy_read(path, 1000, &array), CLRN_STATUS_IO_ERROR);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "FIFO"));
  clrn_image image;
  CU_ASSERT_EQUAL(clrn_image_load(path, &image), CLRN_STATUS_IO_ERROR);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "FIFO"));
  /* Devices are refused as before. */
  CU_ASSERT_EQUAL(clrn_safetensors_open("/dev/zero", &st), CLRN_STATUS_IO_ERROR);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "device"));
}

/* 100000 blocks in stage 1: binding looks every one of them up by name. With a
 * linear search per lookup that took about N^2/2 string comparisons (15.8 s at
 * 80000 tensors); hashed, binding costs about what parsing does. */
static void test_many_tensors_linear(void) {
  char path[512];
  snprintf(path, sizeof path, "%s/many.safetensors", temp_dir);
  const size_t elements[2] = {1, 1};
  write_file(path, CLRN_SAFETENSORS_MAX_TENSORS, "layer1.%zu.conv1.weight", elements);
  double t0 = now();
  clrn_safetensors st;
  CLRN_ASSERT_OK(clrn_safetensors_open(path, &st));
  double parse = now() - t0;
  CU_ASSERT_EQUAL(st.count, CLRN_SAFETENSORS_MAX_TENSORS);
  size_t found = 0;
  for (size_t i = 0; i < st.count; i++)
    found += clrn_safetensors_find(&st, st.tensors[i].name) == &st.tensors[i];
  CU_ASSERT_EQUAL(found, st.count);
  CU_ASSERT_PTR_NULL(clrn_safetensors_find(&st, "layer1.100000.conv1.weight"));
  clrn_safetensors_close(&st);
  t0 = now();
  clrn_weights *w = NULL;
  CU_ASSERT_EQUAL(clrn_weights_open(path, CLRN_ARCH_AUTO, &w), CLRN_STATUS_MISMATCH);
  double bind = now() - t0;
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "[100000, 0, 0, 0]"));
  printf("\n  %u tensors: parsed in %.3f s, parsed and bound in %.3f s\n",
         CLRN_SAFETENSORS_MAX_TENSORS, parse, bind);
  CU_ASSERT(bind < 5 * parse + 1.0);
}

static void test_tensor_count_capped(void) {
  char path[512];
  snprintf(path, sizeof path, "%s/too-many.safetensors", temp_dir);
  const size_t elements[2] = {1, 1};
  write_file(path, CLRN_SAFETENSORS_MAX_TENSORS + 1, "t%zu", elements);
  clrn_safetensors st;
  CU_ASSERT_EQUAL(clrn_safetensors_open(path, &st), CLRN_STATUS_UNSUPPORTED);
  const char *message = clrn_last_error();
  CU_ASSERT_PTR_NOT_NULL(strstr(message, path));
  CU_ASSERT_PTR_NOT_NULL(strstr(message, "100001 tensors; at most 100000"));
  CU_ASSERT_PTR_NOT_NULL(strstr(message, "resnet152"));
  CU_ASSERT_EQUAL(st.count, 0);
}

int main(void) {
  clrn_test_add_suite("opening weights", setup, teardown, "truncated after open",
                      test_truncated_after_open, "FIFO refused", test_fifo_refused,
                      "many tensors, linear", test_many_tensors_linear, "tensor count capped",
                      test_tensor_count_capped, NULL);
  return clrn_test_run();
}
