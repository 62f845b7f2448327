/* The safetensors reader without a device: a valid file read back field by field,
 * every validation rule refused with a message naming the file and the tensor,
 * the PyTorch checkpoint hint, opening files, and the F32/F16/BF16 conversions
 * checked exhaustively against plain-C decodings of the bit patterns. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "weights/safetensors.h"

#define NAME "mem.safetensors"

static char temp_dir[256];

static int setup(void) {
  clrn_test_temp_dir(temp_dir, sizeof temp_dir);
  return 0;
}

static int teardown(void) {
  clrn_test_remove_dir(temp_dir);
  return 0;
}

/* A file image: the 8-byte little-endian length of header, the header, then
 * data_size data bytes (copied from data, or the pattern 1, 2, 3, ... when NULL). */
static unsigned char *make_image(const char *header, const void *data, size_t data_size,
                                 size_t *size) {
  size_t n = strlen(header);
  *size = 8 + n + data_size;
  unsigned char *image = malloc(*size ? *size : 1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(image);
  for (int i = 0; i < 8; i++)
    image[i] = (unsigned char)((uint64_t)n >> (8 * i));
  memcpy(image + 8, header, n);
  for (size_t i = 0; i < data_size; i++)
    image[8 + n + i] = data ? ((const unsigned char *)data)[i] : (unsigned char)(i + 1);
  return image;
}

static void test_valid_file(void) {
  /* Header order differs from offset order; an I64 scalar, an empty F16 tensor
   * and an 8-dimensional one sit among the rest. */
  const char *header =
      "{\"__metadata__\":{\"format\":\"pt\",\"arch\":\"resnet18\"},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[8,32]},"
      "\"a\":{\"shape\":[],\"data_offsets\":[0,8],\"dtype\":\"I64\"},"
      "\"z\":{\"dtype\":\"F16\",\"shape\":[4,0],\"data_offsets\":[32,32],\"extra\":[1,{}]},"
      "\"h\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[32,36]},"
      "\"e\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1],\"data_offsets\":[36,40]}}   ";
  unsigned char data[40] = {0};
  float b_values[6] = {1.5f, -2.25f, 0.0f, 1e-3f, 65504.0f, -0.0f};
  memcpy(data + 8, b_values, sizeof b_values); /* the test host is little-endian */
  size_t size;
  unsigned char *image = make_image(header, data, sizeof data, &size);
  clrn_safetensors st;
  CLRN_ASSERT_OK(clrn_safetensors_parse(image, size, NAME, &st));
  CU_ASSERT_EQUAL_FATAL(st.count, 5);
  const char *order[5] = {"b", "a", "z", "h", "e"};
  for (int i = 0; i < 5; i++)
    CU_ASSERT_STRING_EQUAL(st.tensors[i].name, order[i]);
  const unsigned char *section = image + 8 + strlen(header);

  const clrn_st_tensor *b = clrn_safetensors_find(&st, "b");
  CU_ASSERT_PTR_EQUAL_FATAL(b, &st.tensors[0]);
  CU_ASSERT_EQUAL(b->dtype, CLRN_DTYPE_F32);
  CU_ASSERT_EQUAL(b->ndim, 2);
  CU_ASSERT_EQUAL(b->shape[0], 2);
  CU_ASSERT_EQUAL(b->shape[1], 3);
  CU_ASSERT_EQUAL(b->elements, 6);
  CU_ASSERT_EQUAL(b->bytes, 24);
  CU_ASSERT_PTR_EQUAL(b->data, section + 8);
  float out[6];
  CLRN_ASSERT_OK(clrn_safetensors_read_f32(NULL, b, out));
  CU_ASSERT(memcmp(out, b_values, sizeof out) == 0);

  const clrn_st_tensor *a = clrn_safetensors_find(&st, "a");
  CU_ASSERT_EQUAL(a->dtype, CLRN_DTYPE_I64);
  CU_ASSERT_EQUAL(a->ndim, 0);
  CU_ASSERT_EQUAL(a->elements, 1);
  CU_ASSERT_PTR_EQUAL(a->data, section);
  CU_ASSERT_EQUAL(clrn_safetensors_read_f32(NULL, a, out), CLRN_STATUS_UNSUPPORTED);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "'a'"));
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "I64"));

  const clrn_st_tensor *z = clrn_safetensors_find(&st, "z");
  CU_ASSERT_EQUAL(z->elements, 0);
  CU_ASSERT_EQUAL(z->bytes, 0);
  CLRN_ASSERT_OK(clrn_safetensors_read_f32(NULL, z, NULL));
  const clrn_st_tensor *e = clrn_safetensors_find(&st, "e");
  CU_ASSERT_EQUAL(e->ndim, CLRN_SAFETENSORS_MAX_DIMS);
  CU_ASSERT_PTR_NULL(clrn_safetensors_find(&st, "B"));
  CU_ASSERT_PTR_NULL(clrn_safetensors_find(&st, "__metadata__"));

  CU_ASSERT_EQUAL(st.metadata_count, 2);
  CU_ASSERT_STRING_EQUAL(clrn_safetensors_metadata(&st, "arch"), "resnet18");
  CU_ASSERT_STRING_EQUAL(clrn_safetensors_metadata(&st, "format"), "pt");
  CU_ASSERT_PTR_NULL(clrn_safetensors_metadata(&st, "seed"));
  CU_ASSERT(!st.has_fd);
  clrn_safetensors_close(&st);
  CU_ASSERT_PTR_NULL(st.tensors);
  CU_ASSERT_EQUAL(st.count, 0);
  clrn_safetensors_close(&st); /* twice is fine */
  free(image);
}

/* Headers that are valid although unusual. */
static void test_valid_edge_cases(void) {
  static const struct {
    const char *header;
    size_t data_size, count;
  } cases[] = {
      {"{}", 0, 0},
      {"{}      ", 0, 0},
      {" \t\r\n{}\n", 0, 0},
      {"{\"__metadata__\":null}", 0, 0},
      {"{\"__metadata__\":{}}", 0, 0},
      /* two empty tensors at the same offset do not overlap */
      {"{\"x\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]},"
       "\"y\":{\"dtype\":\"U8\",\"shape\":[0,5],\"data_offsets\":[0,0]}}",
       0, 2},
      /* every dtype, each element one size */
      {"{\"a\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[0,1]},"
       "\"b\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[1,2]},"
       "\"c\":{\"dtype\":\"F8_E5M2\",\"shape\":[1],\"data_offsets\":[2,3]},"
       "\"d\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[3,4]},"
       "\"e\":{\"dtype\":\"I16\",\"shape\":[1],\"data_offsets\":[4,6]},"
       "\"f\":{\"dtype\":\"U16\",\"shape\":[1],\"data_offsets\":[6,8]},"
       "\"g\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[8,12]},"
       "\"h\":{\"dtype\":\"U32\",\"shape\":[1],\"data_offsets\":[12,16]},"
       "\"i\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[16,24]},"
       "\"j\":{\"dtype\":\"U64\",\"shape\":[1],\"data_offsets\":[24,32]},"
       "\"k\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[32,33]}}",
       33, 11},
      /* a name with escapes and non-ASCII UTF-8 */
      {"{\"caf\xc3\xa9 \\\"q\\\" \\u00e9\\n\":{\"dtype\":\"U8\",\"shape\":[2],"
       "\"data_offsets\":[0,2]}}",
       2, 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t size;
    unsigned char *image = make_image(cases[i].header, NULL, cases[i].data_size, &size);
    clrn_safetensors st;
    clrn_status status = clrn_safetensors_parse(image, size, NAME, &st);
    if (status != CLRN_STATUS_SUCCESS)
      fprintf(stderr, "\ncase %zu: %s\n", i, clrn_last_error());
    CU_ASSERT_EQUAL(status, CLRN_STATUS_SUCCESS);
    CU_ASSERT_EQUAL(st.count, cases[i].count);
    clrn_safetensors_close(&st);
    free(image);
  }
}

static void expect_failure(const unsigned char *image, size_t size, clrn_status want,
                           const char *detail, const char *label) {
  clrn_safetensors st;
  memset(&st, 0xA5, sizeof st); /* the parser must zero it on failure */
  clrn_status status = clrn_safetensors_parse(image, size, NAME, &st);
  const char *message = clrn_last_error();
  bool ok = status == want && strstr(message, NAME) && (!detail || strstr(message, detail)) &&
            st.tensors == NULL && st.count == 0 && st.metadata == NULL;
  if (!ok)
    fprintf(stderr, "\n%s: got %s \"%s\", wanted %s with \"%s\"\n", label,
            clrn_status_string(status), message, clrn_status_string(want), detail ? detail : "");
  CU_ASSERT(ok);
  if (status == CLRN_STATUS_SUCCESS)
    clrn_safetensors_close(&st);
}

#define T(name, dtype, shape, begin, end)                                                          \
  "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":[" #begin "," #end   \
  "]}"

/* Every rule, one broken header at a time; detail is a part the message must hold. */
static void test_rejections(void) {
  static const struct {
    const char *header;
    size_t data_size;
    clrn_status status;
    const char *detail;
  } cases[] = {
      {"{\"a\":", 0, CLRN_STATUS_INVALID_FORMAT, "not valid JSON"},
      {"", 0, CLRN_STATUS_INVALID_FORMAT, "not valid JSON"},
      {"{} x", 0, CLRN_STATUS_INVALID_FORMAT, "after its JSON object"},
      {"{}{}", 0, CLRN_STATUS_INVALID_FORMAT, "after its JSON object"},
      {"[]", 0, CLRN_STATUS_INVALID_FORMAT, "not a JSON object"},
      {"\"{}\"", 0, CLRN_STATUS_INVALID_FORMAT, "not a JSON object"},
      {"\xef\xbb\xbf{}", 0, CLRN_STATUS_INVALID_FORMAT, "non-ASCII byte outside a string"},
      {"{\"\xff\":1}", 0, CLRN_STATUS_INVALID_FORMAT, "not valid UTF-8"},
      {"{\"\xc0\xaf\":1}", 0, CLRN_STATUS_INVALID_FORMAT, "not valid UTF-8"},     /* overlong */
      {"{\"\xed\xa0\x80\":1}", 0, CLRN_STATUS_INVALID_FORMAT, "not valid UTF-8"}, /* surrogate */
      {"{\"\xf4\x90\x80\x80\":1}", 0, CLRN_STATUS_INVALID_FORMAT, "not valid UTF-8"},
      {"{\"\xe2\x82\":1}", 0, CLRN_STATUS_INVALID_FORMAT, "not valid UTF-8"}, /* truncated */
      {"{\"a\x01\":1}", 0, CLRN_STATUS_INVALID_FORMAT, "control character"},
      {"{\x01}", 0, CLRN_STATUS_INVALID_FORMAT, "a control character outside a string"},
      {"{\"a\":\x0c[]}", 0, CLRN_STATUS_INVALID_FORMAT, "a control character outside a string"},
      {"{\"a\\u0000b\":1}", 0, CLRN_STATUS_INVALID_FORMAT, "\\u0000"},
      {"{\"__metadata__\":[]}", 0, CLRN_STATUS_INVALID_FORMAT, "__metadata__ is not an object"},
      {"{\"__metadata__\":{\"k\":1}}", 0, CLRN_STATUS_INVALID_FORMAT, "'k' is not a string"},
      {"{\"__metadata__\":{\"k\":\"v\",\"k\":\"w\"}}", 0, CLRN_STATUS_INVALID_FORMAT,
       "__metadata__ entry 'k' appears twice"},
      {"{\"__metadata__\":{},\"__metadata__\":{}}", 0, CLRN_STATUS_INVALID_FORMAT,
       "__metadata__ appears twice"},
      {"{\"w\":[]}", 0, CLRN_STATUS_INVALID_FORMAT, "'w': entry is not an object"},
      {"{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, CLRN_STATUS_INVALID_FORMAT,
       "'w': no \"dtype\""},
      {"{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, CLRN_STATUS_INVALID_FORMAT,
       "'w': no \"shape\""},
      {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, CLRN_STATUS_INVALID_FORMAT,
       "'w': no \"data_offsets\""},
      {"{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
       CLRN_STATUS_INVALID_FORMAT, "'w': \"dtype\" appears twice"},
      {"{" T("w", "F31", "[1]", 0, 4) "}", 4, CLRN_STATUS_INVALID_FORMAT, "unknown dtype F31"},
      {"{" T("w", "f32", "[1]", 0, 4) "}", 4, CLRN_STATUS_INVALID_FORMAT, "unknown dtype f32"},
      {"{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, CLRN_STATUS_INVALID_FORMAT,
       "'w': unknown dtype"},
      {"{" T("w", "F32", "7", 0, 4) "}", 4, CLRN_STATUS_INVALID_FORMAT, "'w': shape is not"},
      {"{" T("w", "F32", "[2.5]", 0, 10) "}", 10, CLRN_STATUS_INVALID_FORMAT,
       "entry 'w': header has a number that is not a non-negative integer"},
      {"{" T("w", "F32", "[2.0]", 0, 8) "}", 8, CLRN_STATUS_INVALID_FORMAT,
       "entry 'w': header has a number that is not a non-negative integer"},
      {"{" T("w", "F32", "[-1]", 0, 4) "}", 4, CLRN_STATUS_INVALID_FORMAT,
       "entry 'w': header has a number that is not a non-negative integer"},
      {"{" T("w", "F32", "[1e3]", 0, 4000) "}", 4000, CLRN_STATUS_INVALID_FORMAT,
       "entry 'w': header has a number that is not a non-negative integer"},
      {"{" T("w", "F32", "[01]", 0, 4) "}", 4, CLRN_STATUS_INVALID_FORMAT,
       "entry 'w': header has a number with a leading zero"},
      {"{" T("w", "F32", "[\"1\"]", 0, 4) "}", 4, CLRN_STATUS_INVALID_FORMAT,
       "'w': shape holds something other than an integer"},
      {"{" T("w", "F32", "[true]", 0, 4) "}", 4, CLRN_STATUS_INVALID_FORMAT,
       "'w': shape holds something other than an integer"},
      {"{" T("w", "U8", "[100000000000000000000000]", 0, 4) "}", 4, CLRN_STATUS_INVALID_FORMAT,
       "'w': shape holds something other than an integer"},
      {"{" T("w", "U8", "[9007199254740992]", 0, 4) "}", 4, CLRN_STATUS_INVALID_FORMAT,
       "'w': shape holds something other than an integer"},
      {"{" T("w", "F32", "[1,1,1,1,1,1,1,1,1]", 0, 4) "}", 4, CLRN_STATUS_UNSUPPORTED,
       "'w' has 9 dimensions"},
      {"{" T("w", "F32", "[4294967296,4294967296,0]", 0, 0) "}", 0, CLRN_STATUS_INVALID_FORMAT,
       "'w': the element count of its shape overflows"},
      {"{" T("w", "I64", "[2147483648,2147483648]", 0, 8) "}", 8, CLRN_STATUS_INVALID_FORMAT,
       "'w': its byte count overflows"},
      {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4,
       CLRN_STATUS_INVALID_FORMAT, "'w': data_offsets is not"},
      {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8,
       CLRN_STATUS_INVALID_FORMAT, "'w': data_offsets is not"},
      {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{}}}", 4,
       CLRN_STATUS_INVALID_FORMAT, "'w': data_offsets is not"},
      {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}}", 4,
       CLRN_STATUS_INVALID_FORMAT, "'w': data_offsets is not"},
      {"{" T("w", "F32", "[0]", 8, 4) "}", 8, CLRN_STATUS_INVALID_FORMAT,
       "'w': data_offsets is not"},
      {"{" T("w", "F32", "[2]", 0, 4) "}", 4, CLRN_STATUS_INVALID_FORMAT,
       "'w': 2 elements of F32 need 8 bytes but data_offsets [0, 4] hold 4"},
      {"{" T("w", "F32", "[2]", 0, 8) "}", 4, CLRN_STATUS_INVALID_FORMAT,
       "'w': data_offsets [0, 8] run past the data section (4 bytes)"},
      {"{" T("w", "F32", "[2]", 0, 8) "," T("v", "F32", "[2]", 4, 12) "}", 12,
       CLRN_STATUS_INVALID_FORMAT, "tensors 'w' and 'v' overlap"},
      {"{" T("w", "F32", "[2]", 0, 8) "," T("v", "F32", "[2]", 0, 8) "}", 8,
       CLRN_STATUS_INVALID_FORMAT, "overlap"},
      {"{" T("w", "F32", "[1]", 0, 4) "," T("v", "F32", "[1]", 8, 12) "}", 12,
       CLRN_STATUS_INVALID_FORMAT, "tensor 'v': the 4 bytes before it belong to no tensor"},
      {"{" T("w", "F32", "[1]", 4, 8) "}", 8, CLRN_STATUS_INVALID_FORMAT,
       "tensor 'w': the 4 bytes before it"},
      {"{" T("w", "F32", "[1]", 0, 4) "}", 8, CLRN_STATUS_INVALID_FORMAT,
       "the last 4 bytes of the data section belong to no tensor"},
      {"{}", 1, CLRN_STATUS_INVALID_FORMAT, "the last 1 bytes"},
      {"{" T("w", "F32", "[1]", 0, 4) "," T("w", "F32", "[1]", 4, 8) "}", 8,
       CLRN_STATUS_INVALID_FORMAT, "tensor 'w' appears twice"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t size;
    unsigned char *image = make_image(cases[i].header, NULL, cases[i].data_size, &size);
    char label[32];
    snprintf(label, sizeof label, "case %zu", i);
    expect_failure(image, size, cases[i].status, cases[i].detail, label);
    free(image);
  }
}

static void test_prefix_rejections(void) {
  unsigned char image[16] = {0};
  expect_failure(image, 0, CLRN_STATUS_INVALID_FORMAT, "0 bytes is too short", "empty");
  expect_failure(image, 7, CLRN_STATUS_INVALID_FORMAT, "7 bytes is too short", "7 bytes");
  /* header length 9 in a 16-byte file: one byte past the end */
  image[0] = 9;
  expect_failure(image, 16, CLRN_STATUS_INVALID_FORMAT, "header length 9 runs past the end",
                 "past the end");
  /* the largest header allowed, plus one; and a length that wraps when 8 is added */
  uint64_t lengths[2] = {CLRN_SAFETENSORS_MAX_HEADER + 1ull, UINT64_MAX};
  for (int k = 0; k < 2; k++) {
    for (int i = 0; i < 8; i++)
      image[i] = (unsigned char)(lengths[k] >> (8 * i));
    expect_failure(image, 16, CLRN_STATUS_INVALID_FORMAT, "exceeds the limit", "too long");
  }
}

static void test_pytorch_checkpoints(void) {
  static const struct {
    const char *bytes;
    size_t size;
  } files[] = {
      {"PK\x03\x04\x00\x00\x08\x08\x00\x00"
       "archive/data.pkl",
       26},                   /* torch.save's zip */
      {"\x80\x02}q\x00.", 6}, /* pickle protocol 2 */
      {"\x80\x02\x8a\x0al\xfc\x9c"
       "F\xf9 j\xa8P\x19.",
       16},                                                       /* legacy torch.save */
      {"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00}\x94.", 14}, /* protocol 4 */
      {"\x80\x05", 2},
  };
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char label[32];
    snprintf(label, sizeof label, "checkpoint %zu", i);
    expect_failure((const unsigned char *)files[i].bytes, files[i].size, CLRN_STATUS_INVALID_FORMAT,
                   NAME " is a PyTorch checkpoint, not safetensors; convert it with "
                        "clresnet-export --from-pth " NAME " -o WEIGHTS.safetensors "
                        "(tools/export_torchvision.py in a source tree)",
                   label);
  }
  /* A real safetensors file whose length bytes start like a pickle: 0x280 = 640. */
  char header[641];
  memset(header, ' ', 640);
  header[640] = '\0';
  const char *json = "{\"x\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]}}";
  memcpy(header, json, strlen(json));
  size_t size;
  unsigned char *image = make_image(header, NULL, 3, &size);
  CU_ASSERT(image[0] == 0x80 && image[1] == 0x02);
  clrn_safetensors st;
  CLRN_ASSERT_OK(clrn_safetensors_parse(image, size, NAME, &st));
  CU_ASSERT_EQUAL(st.count, 1);
  clrn_safetensors_close(&st);
  /* ... and one whose header is an object gone bad is still reported as safetensors. */
  header[1] = '[';
  free(image);
  image = make_image(header, NULL, 3, &size);
  expect_failure(image, size, CLRN_STATUS_INVALID_FORMAT, "not valid JSON", "pickle-like");
  free(image);
}

/* ---- conversions: plain-C decodings of every bit pattern ------------------- */

/* binary16: sign, 5 exponent bits (bias 15), 10 mantissa bits. */
static double half_reference(unsigned h) {
  unsigned e = (h >> 10) & 31, m = h & 1023;
  double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(1024 + m, e - 25);
  return h & 0x8000 ? -v : v;
}

/* bfloat16: sign, 8 exponent bits (bias 127), 7 mantissa bits. */
static double bf16_reference(unsigned h) {
  unsigned e = (h >> 7) & 255, m = h & 127;
  double v = e == 0     ? ldexp(m, -133)
             : e == 255 ? (m ? NAN : INFINITY)
                        : ldexp(128 + m, (int)e - 134);
  return h & 0x8000 ? -v : v;
}

static uint32_t float_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

/* Converts all 65536 patterns of a 2-byte dtype (stored at an odd address, so
 * alignment is not assumed) and compares with the reference bit for bit; a NaN
 * must stay a NaN with its sign and the pattern's payload bits. */
static void check_all_halves(clrn_dtype dtype, double (*reference)(unsigned), int payload_shift) {
  unsigned char *bytes = malloc(2 * 65536 + 1);
  float *out = malloc(65536 * sizeof *out);
  CU_ASSERT_PTR_NOT_NULL_FATAL(bytes);
  CU_ASSERT_PTR_NOT_NULL_FATAL(out);
  for (unsigned h = 0; h < 65536; h++) {
    bytes[1 + 2 * h] = (unsigned char)(h & 255);
    bytes[2 + 2 * h] = (unsigned char)(h >> 8);
  }
  clrn_st_tensor t = {.name = "halves",
                      .dtype = dtype,
                      .ndim = 1,
                      .shape = {65536},
                      .elements = 65536,
                      .data = bytes + 1,
                      .bytes = 2 * 65536};
  CLRN_ASSERT_OK(clrn_safetensors_read_f32(NULL, &t, out));
  unsigned wrong = 0, subnormals = 0, nans = 0;
  for (unsigned h = 0; h < 65536; h++) {
    double want = reference(h);
    bool ok;
    if (isnan(want)) {
      nans++;
      uint32_t payload_mask = (1u << (23 - payload_shift)) - 1; /* below the exponent */
      ok = isnan(out[h]) && !signbit(out[h]) == !(h & 0x8000) &&
           ((float_bits(out[h]) >> payload_shift) & payload_mask) == (h & payload_mask);
    } else {
      ok = float_bits(out[h]) == float_bits((float)want); /* every value is exact in float */
      subnormals += want != 0 && fabs(want) < (dtype == CLRN_DTYPE_F16 ? 0x1p-14 : FLT_MIN);
    }
    if (!ok && wrong++ < 5)
      fprintf(stderr, "\n%s 0x%04x: got %a (0x%08x), want %a\n", clrn_dtype_name(dtype), h, out[h],
              float_bits(out[h]), want);
  }
  CU_ASSERT_EQUAL(wrong, 0);
  CU_ASSERT(subnormals >= 254 && nans >= 254); /* the hard cases were really there */
  free(bytes);
  free(out);
}

static void test_f16_all_patterns(void) { check_all_halves(CLRN_DTYPE_F16, half_reference, 13); }

static void test_bf16_all_patterns(void) { check_all_halves(CLRN_DTYPE_BF16, bf16_reference, 16); }

static void test_f32_bytes(void) {
  static const uint32_t patterns[] = {0x00000000, 0x80000000, 0x3FC00000, 0xC0100000,
                                      0x00000001, 0x807FFFFF, 0x7F7FFFFF, 0x7F800000,
                                      0xFF800000, 0x7FC00001, 0xFFA00000, 0x3EAAAAAB};
  enum { N = sizeof patterns / sizeof patterns[0] };
  unsigned char bytes[4 * N + 3];
  for (size_t i = 0; i < N; i++)
    for (int k = 0; k < 4; k++)
      bytes[3 + 4 * i + (size_t)k] = (unsigned char)(patterns[i] >> (8 * k)); /* little-endian */
  clrn_st_tensor t = {.name = "f32",
                      .dtype = CLRN_DTYPE_F32,
                      .ndim = 1,
                      .shape = {N},
                      .elements = N,
                      .data = bytes + 3,
                      .bytes = 4 * N};
  float out[N];
  CLRN_ASSERT_OK(clrn_safetensors_read_f32(NULL, &t, out));
  for (size_t i = 0; i < N; i++)
    CU_ASSERT_EQUAL(float_bits(out[i]), patterns[i]);
  static const clrn_dtype refused[] = {CLRN_DTYPE_F64, CLRN_DTYPE_I64, CLRN_DTYPE_U8,
                                       CLRN_DTYPE_BOOL, CLRN_DTYPE_F8_E4M3};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    t.dtype = refused[i];
    t.name = "layer1.0.bn1.num_batches_tracked";
    CU_ASSERT_EQUAL(clrn_safetensors_read_f32(NULL, &t, out), CLRN_STATUS_UNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "'layer1.0.bn1.num_batches_tracked'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), clrn_dtype_name(refused[i])));
  }
}

static void test_dtype_table(void) {
  static const char *const names[] = {"BOOL", "U8",   "I8",  "I16",     "U16",
                                      "F16",  "BF16", "I32", "U32",     "F32",
                                      "F64",  "I64",  "U64", "F8_E4M3", "F8_E5M2"};
  static const size_t sizes[] = {1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 8, 8, 8, 1, 1};
  for (int i = 0; i < 15; i++) {
    clrn_dtype d;
    CU_ASSERT_STRING_EQUAL(clrn_dtype_name((clrn_dtype)i), names[i]);
    CU_ASSERT_EQUAL(clrn_dtype_size((clrn_dtype)i), sizes[i]);
    CU_ASSERT(clrn_dtype_from_name(names[i], &d) && d == (clrn_dtype)i);
  }
  clrn_dtype d;
  CU_ASSERT_FALSE(clrn_dtype_from_name("F3", &d));
  CU_ASSERT_FALSE(clrn_dtype_from_name("F322", &d));
  CU_ASSERT_STRING_EQUAL(clrn_dtype_name((clrn_dtype)99), "?");
  CU_ASSERT_EQUAL(clrn_dtype_size((clrn_dtype)99), 0);
}

/* ---- files ------------------------------------------------------------------- */

static void write_file(const char *path, const void *bytes, size_t size) {
  FILE *f = fopen(path, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  CU_ASSERT_EQUAL(fwrite(bytes, 1, size, f), size);
  fclose(f);
}

static void test_open(void) {
  char path[512];
  snprintf(path, sizeof path, "%s/ok.safetensors", temp_dir);
  size_t size;
  unsigned char *image =
      make_image("{" T("w", "BF16", "[2]", 0, 4) "}", "\x80\x3f\x00\xc0", 4, &size);
  write_file(path, image, size);
  free(image);
  clrn_safetensors st;
  CLRN_ASSERT_OK(clrn_safetensors_open(path, &st));
  CU_ASSERT(st.has_fd);
  CU_ASSERT_EQUAL(st.file_size, size);
  const clrn_st_tensor *w = clrn_safetensors_find(&st, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(w);
  CU_ASSERT_PTR_NULL(w->data); /* read on request, not mapped */
  CU_ASSERT_EQUAL(w->offset + w->bytes, size);
  float out[2];
  CLRN_ASSERT_OK(clrn_safetensors_read_f32(&st, w, out));
  CU_ASSERT_EQUAL(out[0], 1.0f);
  CU_ASSERT_EQUAL(out[1], -2.0f);
  clrn_safetensors_close(&st);
  CU_ASSERT(!st.has_fd);

  /* A file that fails names its path, whatever the reason. */
  snprintf(path, sizeof path, "%s/missing.safetensors", temp_dir);
  CU_ASSERT_EQUAL(clrn_safetensors_open(path, &st), CLRN_STATUS_IO_ERROR);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), path));
  CU_ASSERT_EQUAL(clrn_safetensors_open(temp_dir, &st), CLRN_STATUS_IO_ERROR);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), temp_dir));
  snprintf(path, sizeof path, "%s/empty.safetensors", temp_dir);
  write_file(path, "", 0);
  CU_ASSERT_EQUAL(clrn_safetensors_open(path, &st), CLRN_STATUS_INVALID_FORMAT);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), path));
  snprintf(path, sizeof path, "%s/model.pth", temp_dir);
  write_file(path, "PK\x03\x04\x00\x00\x08\x08\x00\x00\x00\x00", 12);
  CU_ASSERT_EQUAL(clrn_safetensors_open(path, &st), CLRN_STATUS_INVALID_FORMAT);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "--from-pth"));
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), path));
  CU_ASSERT(!st.has_fd);
  CU_ASSERT_EQUAL(st.count, 0);
}

static void test_null_arguments(void) {
  clrn_safetensors st;
  CU_ASSERT_EQUAL(clrn_safetensors_parse(NULL, 8, NAME, &st), CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_EQUAL(clrn_safetensors_parse("x", 1, NAME, NULL), CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_EQUAL(clrn_safetensors_open(NULL, &st), CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_EQUAL(clrn_safetensors_open("x", NULL), CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_EQUAL(clrn_safetensors_read_f32(NULL, NULL, NULL), CLRN_STATUS_INVALID_ARGUMENT);
  clrn_safetensors_close(NULL);
  memset(&st, 0, sizeof st);
  clrn_safetensors_close(&st);
  CU_ASSERT_PTR_NULL(clrn_safetensors_find(&st, "x"));
  CU_ASSERT_PTR_NULL(clrn_safetensors_find(NULL, "x"));
  CU_ASSERT_PTR_NULL(clrn_safetensors_metadata(NULL, "x"));
  /* A NULL name still gives a message that says where the bytes came from. */
  CU_ASSERT_EQUAL(clrn_safetensors_parse("", 0, NULL, &st), CLRN_STATUS_INVALID_FORMAT);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "in memory"));
}

int main(void) {
  clrn_test_add_suite("safetensors", setup, teardown, "valid file", test_valid_file,
                      "valid edge cases", test_valid_edge_cases, "rejections", test_rejections,
                      "prefix rejections", test_prefix_rejections, "PyTorch checkpoints",
                      test_pytorch_checkpoints, "F16 all patterns", test_f16_all_patterns,
                      "BF16 all patterns", test_bf16_all_patterns, "F32 bytes", test_f32_bytes,
                      "dtype table", test_dtype_table, "open", test_open, "NULL arguments",
                      test_null_arguments, NULL);
  return clrn_test_run();
}
