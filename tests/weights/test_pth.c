/* The .pth reader on the valid files of tests/weights/pth_corpus (written by
 * make_pth_corpus.py as torch.save writes them): every tensor's name, dtype, shape
 * and values in both containers, in a training checkpoint and in a file of torch
 * 0.3 under Python 2, strided views and offsets into a shared storage, an image in
 * memory read like the file, a corrupted storage caught by its CRC-32, a file
 * truncated after it was opened (an error, not a crash), and refusals that leave
 * nothing behind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "weights/pth.h"

static const char *const valid_files[] = {"valid-zip.pth", "valid-zip64.pth", "valid-legacy.pth",
                                          "valid-checkpoint.pth", "valid-model-key-legacy.pth"};

static void corpus_path(const char *name, char *path, size_t size) {
  const char *dir = getenv("CLRN_CORPUS_DIR");
  CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
  snprintf(path, size, "%s/%s", dir, name);
}

static unsigned char *slurp(const char *name, size_t *size) {
  char path[1024];
  corpus_path(name, path, sizeof path);
  FILE *f = fopen(path, "rb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fseek(f, 0, SEEK_END);
  *size = (size_t)ftell(f);
  rewind(f);
  unsigned char *bytes = malloc(*size);
  CU_ASSERT_FATAL(bytes && fread(bytes, 1, *size, f) == *size);
  fclose(f);
  return bytes;
}

/* Reads tensor name (of n elements) and compares it with want, bit for bit. */
static void expect_values(const clrn_pth *pth, const char *name, clrn_dtype dtype, int ndim,
                          const int64_t *shape, const float *want, size_t n) {
  const clrn_pth_tensor *t = clrn_pth_find(pth, name);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  CU_ASSERT_EQUAL(t->dtype, dtype);
  CU_ASSERT_EQUAL_FATAL(t->ndim, ndim);
  for (int d = 0; d < ndim; d++)
    CU_ASSERT_EQUAL(t->shape[d], shape[d]);
  CU_ASSERT_EQUAL_FATAL(t->elements, n);
  float got[8];
  CLRN_ASSERT_OK(clrn_pth_read_f32(pth, t, got));
  if (memcmp(got, want, n * sizeof *got) != 0)
    fprintf(stderr, "\n%s: values differ (first %g, wanted %g)\n", name, got[0], want[0]);
  CU_ASSERT(memcmp(got, want, n * sizeof *got) == 0);
}

/* The tensors make_pth_corpus.py's sample() holds. */
static void expect_sample(const clrn_pth *pth) {
  CU_ASSERT_EQUAL(pth->count, 7);
  const float weight[] = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f};
  const float transposed[] = {-1.0f, 0.5f, -0.5f, 1.0f, 0.0f, 1.5f};
  const float half[] = {0.25f, -2.0f, 65504.0f}, brain[] = {1.0f, -0.5f, 3.0f};
  const float mean[] = {0.1f, 0.2f}, var[] = {1.5f, 2.5f};
  expect_values(pth, "conv1.weight", CLRN_DTYPE_F32, 2, (int64_t[]){2, 3}, weight, 6);
  expect_values(pth, "conv1.weight_t", CLRN_DTYPE_F32, 2, (int64_t[]){3, 2}, transposed, 6);
  expect_values(pth, "bn1.weight", CLRN_DTYPE_F16, 1, (int64_t[]){3}, half, 3);
  expect_values(pth, "bn1.bias", CLRN_DTYPE_BF16, 1, (int64_t[]){3}, brain, 3);
  expect_values(pth, "bn1.running_mean", CLRN_DTYPE_F32, 1, (int64_t[]){2}, mean, 2);
  expect_values(pth, "bn1.running_var", CLRN_DTYPE_F32, 1, (int64_t[]){2}, var, 2);
  const clrn_pth_tensor *n = clrn_pth_find(pth, "bn1.num_batches_tracked");
  CU_ASSERT_PTR_NOT_NULL_FATAL(n);
  CU_ASSERT(n->dtype == CLRN_DTYPE_I64 && n->ndim == 0 && n->elements == 1);
  float out;
  clrn_clear_error();
  CU_ASSERT_EQUAL(clrn_pth_read_f32(pth, n, &out), CLRN_STATUS_UNSUPPORTED);
  CU_ASSERT(strstr(clrn_last_error(), "LongStorage") != NULL);
  CU_ASSERT_PTR_NULL(clrn_pth_find(pth, "module.conv1.weight"));
}

static void test_valid_files(void) {
  for (size_t i = 0; i < sizeof valid_files / sizeof valid_files[0]; i++) {
    char path[1024];
    corpus_path(valid_files[i], path, sizeof path);
    clrn_pth pth;
    CLRN_ASSERT_OK(clrn_pth_open(path, &pth));
    CU_ASSERT_EQUAL(pth.legacy, strstr(path, "legacy") != NULL);
    expect_sample(&pth);
    clrn_pth_close(&pth);
    clrn_pth_close(&pth); /* twice is harmless */
  }
}

/* torch 0.3 under Python 2: OrderedDict([[name, tensor]]), _rebuild_tensor. */
static void test_python2_legacy(void) {
  char path[1024];
  corpus_path("valid-py2-legacy.pth", path, sizeof path);
  clrn_pth pth;
  CLRN_ASSERT_OK(clrn_pth_open(path, &pth));
  CU_ASSERT_EQUAL(pth.count, 2);
  const float weight[] = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f};
  const float transposed[] = {-1.0f, 0.5f, -0.5f, 1.0f, 0.0f, 1.5f};
  expect_values(&pth, "conv1.weight", CLRN_DTYPE_F32, 2, (int64_t[]){2, 3}, weight, 6);
  expect_values(&pth, "conv1.weight_t", CLRN_DTYPE_F32, 2, (int64_t[]){3, 2}, transposed, 6);
  clrn_pth_close(&pth);
}

static void test_memory_image(void) {
  size_t size;
  unsigned char *bytes = slurp("valid-legacy.pth", &size);
  CU_ASSERT(clrn_pth_detect(bytes, size));
  CU_ASSERT_FALSE(clrn_pth_detect(bytes, 14)); /* the magic number is 15 bytes */
  clrn_pth pth;
  CLRN_ASSERT_OK(clrn_pth_parse(bytes, size, "legacy.pth", &pth));
  expect_sample(&pth);
  clrn_pth_close(&pth);
  free(bytes);
}

static void test_crc_catches_corruption(void) {
  size_t size;
  unsigned char *bytes = slurp("valid-zip.pth", &size);
  clrn_pth pth;
  CLRN_ASSERT_OK(clrn_pth_parse(bytes, size, "zip.pth", &pth));
  const clrn_pth_tensor *t = clrn_pth_find(&pth, "conv1.weight_t");
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  bytes[pth.storages[t->storage].offset + 5] ^= 0x40; /* inside storage "0" */
  float out[6];
  clrn_clear_error();
  CU_ASSERT_EQUAL(clrn_pth_read_f32(&pth, t, out), CLRN_STATUS_INVALID_FORMAT);
  CU_ASSERT(strstr(clrn_last_error(), "CRC-32") != NULL);
  clrn_pth_close(&pth);
  free(bytes);
}

static void test_truncated_after_open(void) {
  char dir[256], path[512];
  clrn_test_temp_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/w.pth", dir);
  size_t size;
  unsigned char *bytes = slurp("valid-legacy.pth", &size);
  FILE *f = fopen(path, "wb");
  CU_ASSERT_FATAL(f && fwrite(bytes, 1, size, f) == size);
  fclose(f);
  clrn_pth pth;
  CLRN_ASSERT_OK(clrn_pth_open(path, &pth));
  CU_ASSERT_EQUAL_FATAL(truncate(path, (off_t)(size - 40)), 0); /* into the last storages */
  float out[8];
  clrn_status worst = CLRN_STATUS_SUCCESS;
  for (size_t i = 0; i < pth.count; i++)
    if (pth.tensors[i].dtype != CLRN_DTYPE_I64) {
      clrn_status status = clrn_pth_read_f32(&pth, &pth.tensors[i], out);
      worst = status != CLRN_STATUS_SUCCESS ? status : worst;
    }
  CU_ASSERT_EQUAL(worst, CLRN_STATUS_IO_ERROR);
  CU_ASSERT(strstr(clrn_last_error(), "shorter than when it was opened") != NULL);
  clrn_pth_close(&pth);
  free(bytes);
  clrn_test_remove_dir(dir);
}

static void test_refusals_leave_nothing(void) {
  static const char *const bad[] = {"zip-truncated.pth",     "evil-global.pth",
                                    "legacy-trailing.pth",   "duplicate-name.pth",
                                    "storage-two-types.pth", "bad-stride.pth"};
  clrn_pth zero;
  memset(&zero, 0, sizeof zero);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char path[1024];
    corpus_path(bad[i], path, sizeof path);
    clrn_pth pth;
    CU_ASSERT_NOT_EQUAL(clrn_pth_open(path, &pth), CLRN_STATUS_SUCCESS);
    CU_ASSERT(memcmp(&pth, &zero, sizeof pth) == 0);
  }
  clrn_clear_error();
  char path[1024];
  corpus_path("evil-global.pth", path, sizeof path);
  clrn_pth pth;
  CU_ASSERT_EQUAL(clrn_pth_open(path, &pth), CLRN_STATUS_UNSUPPORTED);
  CU_ASSERT(strstr(clrn_last_error(), "os.system") != NULL);
}

int main(void) {
  clrn_test_add_suite("pth reader", NULL, NULL, "valid files", test_valid_files,
                      "python 2 legacy file", test_python2_legacy, "memory image",
                      test_memory_image, "CRC catches corruption", test_crc_catches_corruption,
                      "truncated after open", test_truncated_after_open, "refusals leave nothing",
                      test_refusals_leave_nothing, NULL);
  return clrn_test_run();
}
