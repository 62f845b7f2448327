/* Unit tests of src/weights/onnx_tensor.c (label unit, no device): TensorProto
 * shapes, float32 values from raw_data and from the typed fields, FLOAT16,
 * BFLOAT16 and DOUBLE converted, INT32/INT64, and the refusals: a stored count
 * that disagrees with the shape, external or segmented data, the wrong type, bad
 * dimensions, and .pb files that are truncated, missing or not files. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "weights/onnx_tensor.h"

/* Asserts that expr fails with status want and a message containing needle. */
#define ASSERT_FAILS(expr, want, needle)                                                           \
  do {                                                                                             \
    clrn_status status_ = (expr);                                                                  \
    CU_ASSERT_EQUAL(status_, want);                                                                \
    if (!strstr(clrn_last_error(), needle)) {                                                      \
      printf("\n%s:%d: message '%s' lacks '%s'\n", __FILE__, __LINE__, clrn_last_error(), needle); \
      CU_FAIL("message");                                                                          \
    }                                                                                              \
  } while (0)

/* A tensor called name of the given type and dims (values set by the caller). */
static Onnx__TensorProto make(int32_t type, int64_t *dims, size_t ndim) {
  Onnx__TensorProto t;
  onnx__tensor_proto__init(&t);
  t.name = "t";
  t.has_data_type = 1;
  t.data_type = type;
  t.dims = dims;
  t.n_dims = ndim;
  return t;
}

/* Makes raw_data (len bytes) the place t's values are read from. */
static void set_raw(Onnx__TensorProto *t, uint8_t *raw, size_t len) {
  t->has_raw_data = 1;
  t->raw_data.data = raw;
  t->raw_data.len = len;
}

static void test_shape(void) {
  int64_t dims[3] = {2, 3, 4}, shape[CLRN_ONNX_MAX_DIMS];
  int ndim = 0;
  uint64_t elements = 0;
  Onnx__TensorProto t = make(ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, dims, 3);
  CLRN_ASSERT_OK(clrn_onnx_tensor_shape(&t, &ndim, shape, &elements));
  CU_ASSERT_EQUAL(ndim, 3);
  CU_ASSERT_EQUAL(shape[2], 4);
  CU_ASSERT_EQUAL(elements, 24);
  t.n_dims = 0; /* a scalar */
  CLRN_ASSERT_OK(clrn_onnx_tensor_shape(&t, &ndim, shape, &elements));
  CU_ASSERT_EQUAL(ndim, 0);
  CU_ASSERT_EQUAL(elements, 1);
  int64_t zero[2] = {0, 5}; /* an empty tensor is a shape like any other */
  t.dims = zero;
  t.n_dims = 2;
  CLRN_ASSERT_OK(clrn_onnx_tensor_shape(&t, &ndim, shape, &elements));
  CU_ASSERT_EQUAL(elements, 0);
}

static void test_bad_dims(void) {
  int64_t shape[CLRN_ONNX_MAX_DIMS], negative[2] = {3, -1},
                                     huge[2] = {INT64_C(1) << 40, INT64_C(1) << 40};
  int64_t many[CLRN_ONNX_MAX_DIMS + 1] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  int ndim;
  uint64_t elements;
  Onnx__TensorProto t = make(ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, negative, 2);
  ASSERT_FAILS(clrn_onnx_tensor_shape(&t, &ndim, shape, &elements), CLRN_STATUS_INVALID_FORMAT,
               "bad dimension -1");
  t.dims = huge;
  ASSERT_FAILS(clrn_onnx_tensor_shape(&t, &ndim, shape, &elements), CLRN_STATUS_INVALID_FORMAT,
               "bad dimension");
  t.dims = many;
  t.n_dims = CLRN_ONNX_MAX_DIMS + 1;
  ASSERT_FAILS(clrn_onnx_tensor_shape(&t, &ndim, shape, &elements), CLRN_STATUS_INVALID_FORMAT,
               "9 dimensions");
  ASSERT_FAILS(clrn_onnx_tensor_shape(NULL, &ndim, shape, &elements), CLRN_STATUS_INVALID_ARGUMENT,
               "NULL");
}

static void test_float_raw_and_typed(void) {
  int64_t dims[1] = {3};
  float typed[3] = {1.5f, -2.0f, 1e-30f}, out[3] = {0};
  Onnx__TensorProto t = make(ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, dims, 1);
  t.float_data = typed;
  t.n_float_data = 3;
  CLRN_ASSERT_OK(clrn_onnx_tensor_read_f32(&t, out, 3));
  CU_ASSERT_EQUAL(memcmp(out, typed, sizeof out), 0);
  /* raw_data is little-endian whatever the host: 1.0f, -0.5f, 3.0f */
  uint8_t raw[12] = {0, 0, 0x80, 0x3F, 0, 0, 0, 0xBF, 0, 0, 0x40, 0x40};
  t.float_data = NULL;
  t.n_float_data = 0;
  set_raw(&t, raw, sizeof raw);
  CLRN_ASSERT_OK(clrn_onnx_tensor_read_f32(&t, out, 3));
  CU_ASSERT_EQUAL(out[0], 1.0f);
  CU_ASSERT_EQUAL(out[1], -0.5f);
  CU_ASSERT_EQUAL(out[2], 3.0f);
}

static void test_count_mismatch(void) {
  int64_t dims[1] = {4};
  float typed[3] = {1, 2, 3}, out[4];
  Onnx__TensorProto t = make(ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, dims, 1);
  t.float_data = typed;
  t.n_float_data = 3;
  ASSERT_FAILS(clrn_onnx_tensor_read_f32(&t, out, 4), CLRN_STATUS_INVALID_FORMAT,
               "stores 3 values where its shape needs 4");
  uint8_t raw[13] = {0};
  t.float_data = NULL;
  t.n_float_data = 0;
  set_raw(&t, raw, sizeof raw); /* 3.25 floats */
  ASSERT_FAILS(clrn_onnx_tensor_read_f32(&t, out, 4), CLRN_STATUS_INVALID_FORMAT,
               "where its shape needs 4");
  int64_t ints[2] = {1, 2}, iout[4];
  Onnx__TensorProto i = make(ONNX__TENSOR_PROTO__DATA_TYPE__INT64, dims, 1);
  i.int64_data = ints;
  i.n_int64_data = 2;
  ASSERT_FAILS(clrn_onnx_tensor_read_i64(&i, iout, 4), CLRN_STATUS_INVALID_FORMAT,
               "stores 2 values");
}

static void test_half_and_double(void) {
  int64_t dims[1] = {3};
  float out[3];
  /* FLOAT16 raw: 1.0, -2.0, 0.5 */
  uint8_t half[6] = {0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38};
  Onnx__TensorProto t = make(ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16, dims, 1);
  set_raw(&t, half, sizeof half);
  CLRN_ASSERT_OK(clrn_onnx_tensor_read_f32(&t, out, 3));
  CU_ASSERT(out[0] == 1.0f && out[1] == -2.0f && out[2] == 0.5f);
  /* the same values as 16-bit patterns in int32_data */
  int32_t patterns[3] = {0x3C00, 0xC000, 0x3800};
  t.has_raw_data = 0;
  t.int32_data = patterns;
  t.n_int32_data = 3;
  memset(out, 0, sizeof out);
  CLRN_ASSERT_OK(clrn_onnx_tensor_read_f32(&t, out, 3));
  CU_ASSERT(out[0] == 1.0f && out[1] == -2.0f && out[2] == 0.5f);
  /* BFLOAT16: the top half of a float32 (1.0, -2.0, 0.5) */
  int32_t bf[3] = {0x3F80, 0xC000, 0x3F00};
  t.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16;
  t.int32_data = bf;
  CLRN_ASSERT_OK(clrn_onnx_tensor_read_f32(&t, out, 3));
  CU_ASSERT(out[0] == 1.0f && out[1] == -2.0f && out[2] == 0.5f);
  /* DOUBLE, typed and raw (0.25 = 0x3FD0000000000000, little-endian) */
  double doubles[3] = {0.1, -1e10, 3.0};
  Onnx__TensorProto d = make(ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE, dims, 1);
  d.double_data = doubles;
  d.n_double_data = 3;
  CLRN_ASSERT_OK(clrn_onnx_tensor_read_f32(&d, out, 3));
  CU_ASSERT(out[0] == 0.1f && out[1] == -1e10f && out[2] == 3.0f);
  uint8_t raw[24] = {0, 0, 0,    0,    0, 0, 0xD0, 0x3F, 0, 0, 0,    0,
                     0, 0, 0xF0, 0xBF, 0, 0, 0,    0,    0, 0, 0xF0, 0x7F};
  d.double_data = NULL;
  d.n_double_data = 0;
  set_raw(&d, raw, sizeof raw);
  CLRN_ASSERT_OK(clrn_onnx_tensor_read_f32(&d, out, 3));
  CU_ASSERT(out[0] == 0.25f && out[1] == -1.0f && isinf(out[2]) && out[2] > 0);
}

static void test_integers(void) {
  int64_t dims[1] = {2}, out[2];
  /* INT64 raw: -2 and 2^40, little-endian */
  uint8_t raw64[16] = {0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0};
  Onnx__TensorProto t = make(ONNX__TENSOR_PROTO__DATA_TYPE__INT64, dims, 1);
  set_raw(&t, raw64, sizeof raw64);
  CLRN_ASSERT_OK(clrn_onnx_tensor_read_i64(&t, out, 2));
  CU_ASSERT(out[0] == -2 && out[1] == INT64_C(1) << 40);
  /* INT32 raw: -3 sign-extended, 7 */
  uint8_t raw32[8] = {0xFD, 0xFF, 0xFF, 0xFF, 7, 0, 0, 0};
  t.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT32;
  set_raw(&t, raw32, sizeof raw32);
  CLRN_ASSERT_OK(clrn_onnx_tensor_read_i64(&t, out, 2));
  CU_ASSERT(out[0] == -3 && out[1] == 7);
  int32_t typed[2] = {-9, 9};
  t.has_raw_data = 0;
  t.int32_data = typed;
  t.n_int32_data = 2;
  CLRN_ASSERT_OK(clrn_onnx_tensor_read_i64(&t, out, 2));
  CU_ASSERT(out[0] == -9 && out[1] == 9);
}

static void test_wrong_type(void) {
  int64_t dims[1] = {1}, iout[1];
  float out[1];
  Onnx__TensorProto t = make(ONNX__TENSOR_PROTO__DATA_TYPE__INT64, dims, 1);
  ASSERT_FAILS(clrn_onnx_tensor_read_f32(&t, out, 1), CLRN_STATUS_UNSUPPORTED,
               "has type INT64 (7), not a float type");
  t.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__UINT8;
  ASSERT_FAILS(clrn_onnx_tensor_read_f32(&t, out, 1), CLRN_STATUS_UNSUPPORTED, "UINT8");
  t.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  ASSERT_FAILS(clrn_onnx_tensor_read_i64(&t, iout, 1), CLRN_STATUS_UNSUPPORTED,
               "FLOAT (1), not an integer type");
  CU_ASSERT_STRING_EQUAL(clrn_onnx_type_name(12345), "?");
}

static void test_external_and_segment(void) {
  int64_t dims[1] = {1};
  float value = 1, out[1];
  Onnx__TensorProto t = make(ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, dims, 1);
  t.float_data = &value;
  t.n_float_data = 1;
  t.has_data_location = 1;
  t.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  ASSERT_FAILS(clrn_onnx_tensor_read_f32(&t, out, 1), CLRN_STATUS_UNSUPPORTED, "external file");
  t.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT;
  Onnx__StringStringEntryProto location, *entries[1] = {&location};
  onnx__string_string_entry_proto__init(&location);
  location.key = "location";
  location.value = "weights.bin";
  t.external_data = entries;
  t.n_external_data = 1; /* external_data without data_location set */
  ASSERT_FAILS(clrn_onnx_tensor_read_f32(&t, out, 1), CLRN_STATUS_UNSUPPORTED, "external file");
  t.external_data = NULL;
  t.n_external_data = 0;
  Onnx__TensorProto__Segment segment;
  onnx__tensor_proto__segment__init(&segment);
  t.segment = &segment;
  ASSERT_FAILS(clrn_onnx_tensor_read_f32(&t, out, 1), CLRN_STATUS_UNSUPPORTED, "segmented");
  t.segment = NULL;
  CLRN_ASSERT_OK(clrn_onnx_tensor_read_f32(&t, out, 1));
}

/* Writes size bytes to path. */
static void write_file(const char *path, const void *bytes, size_t size) {
  FILE *f = fopen(path, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  CU_ASSERT_EQUAL(fwrite(bytes, 1, size, f), size);
  fclose(f);
}

static void test_load(void) {
  char dir[256], path[512];
  clrn_test_temp_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/tensor.pb", dir);
  int64_t dims[2] = {2, 2};
  float values[4] = {1, 2, 3, 4}, out[4];
  uint8_t raw[16] = {0, 0, 0x80, 0x3F, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40};
  Onnx__TensorProto t = make(ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, dims, 2);
  set_raw(&t, raw, sizeof raw); /* 1, 2, 3, 4 little-endian */
  size_t size = onnx__tensor_proto__get_packed_size(&t);
  uint8_t *packed = malloc(size);
  CU_ASSERT_PTR_NOT_NULL_FATAL(packed);
  onnx__tensor_proto__pack(&t, packed);
  write_file(path, packed, size);
  Onnx__TensorProto *loaded = NULL;
  CLRN_ASSERT_OK(clrn_onnx_tensor_load(path, &loaded));
  int ndim;
  int64_t shape[CLRN_ONNX_MAX_DIMS];
  uint64_t elements;
  CLRN_ASSERT_OK(clrn_onnx_tensor_shape(loaded, &ndim, shape, &elements));
  CU_ASSERT(ndim == 2 && elements == 4);
  CLRN_ASSERT_OK(clrn_onnx_tensor_read_f32(loaded, out, 4));
  CU_ASSERT_EQUAL(memcmp(out, values, sizeof out), 0);
  onnx__tensor_proto__free_unpacked(loaded, NULL);
  /* cut inside raw_data: protobuf-c must notice the length runs past the end */
  write_file(path, packed, size - 5);
  loaded = (Onnx__TensorProto *)1;
  ASSERT_FAILS(clrn_onnx_tensor_load(path, &loaded), CLRN_STATUS_INVALID_FORMAT,
               "not a valid ONNX TensorProto");
  CU_ASSERT_PTR_NULL(loaded);
  /* a field tag that is no wire type */
  write_file(path, "\xff\xff\xff", 3);
  ASSERT_FAILS(clrn_onnx_tensor_load(path, &loaded), CLRN_STATUS_INVALID_FORMAT,
               "not a valid ONNX TensorProto");
  free(packed);
  ASSERT_FAILS(clrn_onnx_tensor_load(dir, &loaded), CLRN_STATUS_IO_ERROR, dir);
  snprintf(path, sizeof path, "%s/missing.pb", dir);
  ASSERT_FAILS(clrn_onnx_tensor_load(path, &loaded), CLRN_STATUS_IO_ERROR, "missing.pb");
  ASSERT_FAILS(clrn_onnx_tensor_load(NULL, &loaded), CLRN_STATUS_INVALID_ARGUMENT, "NULL");
  clrn_test_remove_dir(dir);
}

/* A .pb of ONNX's own node tests, when libonnx-testdata is installed. */
static void test_load_node_test_file(void) {
  const char *path = "/usr/share/libonnx-testdata/data/node/test_relu/test_data_set_0/input_0.pb";
  struct stat st;
  if (stat(path, &st) != 0)
    return; /* not installed: nothing to read */
  Onnx__TensorProto *t = NULL;
  CLRN_ASSERT_OK(clrn_onnx_tensor_load(path, &t));
  int ndim;
  int64_t shape[CLRN_ONNX_MAX_DIMS];
  uint64_t elements;
  CLRN_ASSERT_OK(clrn_onnx_tensor_shape(t, &ndim, shape, &elements));
  CU_ASSERT(ndim == 3 && shape[0] == 3 && shape[1] == 4 && shape[2] == 5 && elements == 60);
  float values[60];
  CLRN_ASSERT_OK(clrn_onnx_tensor_read_f32(t, values, 60));
  for (int i = 0; i < 60; i++)
    CU_ASSERT(isfinite(values[i]));
  onnx__tensor_proto__free_unpacked(t, NULL);
}

int main(void) {
  clrn_test_add_suite("onnx_tensor", NULL, NULL, "shape", test_shape, "bad_dims", test_bad_dims,
                      "float_raw_and_typed", test_float_raw_and_typed, "count_mismatch",
                      test_count_mismatch, "half_and_double", test_half_and_double, "integers",
                      test_integers, "wrong_type", test_wrong_type, "external_and_segment",
                      test_external_and_segment, "load", test_load, "load_node_test_file",
                      test_load_node_test_file, NULL);
  return clrn_test_run();
}
