/* .npy reading and writing: every accepted header form, every refusal with its
 * status and message, bit-exact round trips (NaN payloads, infinities, -0,
 * denormals), and numpy itself (CLRN_PYTHON) reading our files and writing the
 * same bytes with np.save. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

static char dir[256];

static int setup(void) {
  clrn_test_temp_dir(dir, sizeof dir);
  return 0;
}

static int teardown(void) {
  clrn_test_remove_dir(dir);
  return 0;
}

/* Builds a .npy in memory: magic, version, header length, header text, then
 * data_bytes bytes of data (0x3f800000 = 1.0f repeated). Returns its size. */
static size_t build(unsigned char *out, int major, const char *header, size_t data_bytes) {
  size_t length = strlen(header), n = 0;
  memcpy(out, "\x93NUMPY", 6);
  out[6] = (unsigned char)major;
  out[7] = 0;
  n = 8;
  out[n++] = (unsigned char)(length & 0xff);
  out[n++] = (unsigned char)(length >> 8 & 0xff);
  if (major > 1) {
    out[n++] = (unsigned char)(length >> 16 & 0xff);
    out[n++] = (unsigned char)(length >> 24 & 0xff);
  }
  memcpy(out + n, header, length);
  n += length;
  static const unsigned char one[4] = {0x00, 0x00, 0x80, 0x3f};
  for (size_t i = 0; i < data_bytes; i++)
    out[n++] = one[i % 4];
  return n;
}

static unsigned char buffer[1 << 16];

/* Parses a header with the data its shape needs, expecting success. */
static void accept(int major, const char *header, int ndim, const int64_t *shape) {
  size_t count = 1;
  for (int i = 0; i < ndim; i++)
    count *= (size_t)shape[i];
  size_t size = build(buffer, major, header, count * 4);
  clrn_npy a;
  clrn_status status = clrn_npy_parse(buffer, size, "accept.npy", 1000, &a);
  if (status != CLRN_STATUS_SUCCESS)
    fprintf(stderr, "\nrefused %s: %s\n", header, clrn_last_error());
  CU_ASSERT_EQUAL_FATAL(status, CLRN_STATUS_SUCCESS);
  CU_ASSERT_EQUAL(a.ndim, ndim);
  for (int i = 0; i < ndim; i++)
    CU_ASSERT_EQUAL(a.shape[i], shape[i]);
  CU_ASSERT_PTR_NOT_NULL(a.data);
  for (size_t i = 0; i < count; i++)
    CU_ASSERT_EQUAL(a.data[i], 1.0f);
  clrn_npy_free(&a);
  CU_ASSERT_PTR_NULL(a.data);
}

/* Parses bytes, expecting the status and every needle in the one-line detail. */
static void refuse(const unsigned char *data, size_t size, clrn_status want, const char *needle1,
                   const char *needle2) {
  clrn_npy a;
  clrn_status status = clrn_npy_parse(data, size, "bad.npy", 1000, &a);
  const char *detail = clrn_last_error();
  if (status != want || !strstr(detail, "bad.npy") || (needle1 && !strstr(detail, needle1)) ||
      (needle2 && !strstr(detail, needle2)))
    fprintf(stderr, "\nwanted %s with '%s' '%s', got %s: %s\n", clrn_status_string(want),
            needle1 ? needle1 : "", needle2 ? needle2 : "", clrn_status_string(status), detail);
  CU_ASSERT_EQUAL(status, want);
  CU_ASSERT_PTR_NOT_NULL(strstr(detail, "bad.npy"));
  CU_ASSERT_PTR_NULL(strchr(detail, '\n'));
  if (needle1)
    CU_ASSERT_PTR_NOT_NULL(strstr(detail, needle1));
  if (needle2)
    CU_ASSERT_PTR_NOT_NULL(strstr(detail, needle2));
  CU_ASSERT_PTR_NULL(a.data);
}

static void refuse_header(const char *header, size_t data_bytes, clrn_status want,
                          const char *needle1, const char *needle2) {
  size_t size = build(buffer, 1, header, data_bytes);
  refuse(buffer, size, want, needle1, needle2);
}

static void test_accepted_headers(void) {
  const int64_t s34[] = {3, 4}, s5[] = {5}, s0[] = {0, 3}, s1[] = {1, 1, 1, 1, 1, 1, 1, 2};
  accept(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }     \n", 2, s34);
  accept(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }\n", 2, s34);
  accept(3, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }\n", 2, s34);
  accept(1, "{\"shape\": (3,4),\"descr\":\"<f4\",\"fortran_order\":False}", 2, s34);
  accept(1, "{'fortran_order': False,\n 'shape': (\n3 ,\t4 , ) ,'descr': '<f4'}\r\n", 2, s34);
  accept(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", 1, s5);
  accept(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 0, NULL);
  accept(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", 2, s0);
  accept(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 2), }", 8, s1);
}

static void test_refused_headers(void) {
  const size_t d12 = 48; /* the data (3, 4) needs */
  refuse_header("{'descr': '>f4', 'fortran_order': False, 'shape': (3, 4), }", d12,
                CLRN_STATUS_UNSUPPORTED, "'>f4'", "need '<f4'");
  refuse_header("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }", 96,
                CLRN_STATUS_UNSUPPORTED, "'<f8'", "need '<f4'");
  refuse_header("{'descr': '|u1', 'fortran_order': False, 'shape': (3, 4), }", 12,
                CLRN_STATUS_UNSUPPORTED, "'|u1'", NULL);
  refuse_header("{'descr': 'float32', 'fortran_order': False, 'shape': (3, 4), }", d12,
                CLRN_STATUS_UNSUPPORTED, "'float32'", NULL);
  refuse_header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }", 12,
                CLRN_STATUS_UNSUPPORTED, "structured", "'<f4'");
  refuse_header("{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4), }", d12,
                CLRN_STATUS_UNSUPPORTED, "Fortran", NULL);
  refuse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3), }", 12,
                CLRN_STATUS_INVALID_FORMAT, "not a tuple", NULL);
  refuse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (-3, 4), }", d12,
                CLRN_STATUS_INVALID_FORMAT, "negative", NULL);
  refuse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (03, 4), }", d12,
                CLRN_STATUS_INVALID_FORMAT, "leading zeros", NULL);
  refuse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 4L), }", d12,
                CLRN_STATUS_INVALID_FORMAT, "offset", NULL);
  refuse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1_2,), }", d12,
                CLRN_STATUS_INVALID_FORMAT, NULL, NULL);
  refuse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3.0, 4), }", d12,
                CLRN_STATUS_INVALID_FORMAT, NULL, NULL);
  refuse_header("{'descr': '<f4', 'fortran_order': False, 'shape': [3, 4], }", d12,
                CLRN_STATUS_INVALID_FORMAT, "shape tuple", NULL);
  refuse_header("{'descr': '<f4', 'fortran_order': Falsey, 'shape': (3, 4), }", d12,
                CLRN_STATUS_INVALID_FORMAT, "True or False", NULL);
  refuse_header("{'descr': '<f4', 'fortran_order': 0, 'shape': (3, 4), }", d12,
                CLRN_STATUS_INVALID_FORMAT, "True or False", NULL);
  refuse_header("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3, 4)}", d12,
                CLRN_STATUS_INVALID_FORMAT, "repeats", "descr");
  refuse_header("{'descr': '<f4', 'shape': (3, 4), }", d12, CLRN_STATUS_INVALID_FORMAT, "lacks",
                "fortran_order");
  refuse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'x': 1}", d12,
                CLRN_STATUS_INVALID_FORMAT, "unexpected key 'x'", NULL);
  refuse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } x", d12,
                CLRN_STATUS_INVALID_FORMAT, "after '}'", NULL);
  refuse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), ", d12,
                CLRN_STATUS_INVALID_FORMAT, "the end", NULL);
  refuse_header("{'descr': '<f4, 'fortran_order': False, 'shape': (3, 4), }", d12,
                CLRN_STATUS_INVALID_FORMAT, NULL, NULL);
  refuse_header("{'descr': '<f4' 'fortran_order': False, 'shape': (3, 4), }", d12,
                CLRN_STATUS_INVALID_FORMAT, "',' or '}'", NULL);
  refuse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,, 4), }", d12,
                CLRN_STATUS_INVALID_FORMAT, NULL, NULL);
  refuse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (,), }", 0,
                CLRN_STATUS_INVALID_FORMAT, NULL, NULL);
  refuse_header("hello world", 0, CLRN_STATUS_INVALID_FORMAT, "expected '{'", NULL);
  refuse_header("", 0, CLRN_STATUS_INVALID_FORMAT, "the end", NULL);
  refuse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1)}", 4,
                CLRN_STATUS_UNSUPPORTED, "more than 8", NULL);
  refuse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", 4,
                CLRN_STATUS_INVALID_FORMAT, "too large", NULL);
  /* A NUL inside the header. */
  size_t size = build(buffer, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}  ", 4);
  buffer[10 + 56] = '\0';
  refuse(buffer, size, CLRN_STATUS_INVALID_FORMAT, "NUL", NULL);
}

static void test_refused_layouts(void) {
  const char *h34 = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
  refuse_header(h34, 44, CLRN_STATUS_INVALID_FORMAT, "44 bytes", "needs 48");
  refuse_header(h34, 49, CLRN_STATUS_INVALID_FORMAT, "49 bytes", "needs 48");
  refuse_header(h34, 0, CLRN_STATUS_INVALID_FORMAT, "0 bytes", NULL);
  /* Above max_elements (1000 here): refused from the header, data never looked at. */
  refuse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }", 0,
                CLRN_STATUS_UNSUPPORTED, "10000000000 elements", "limit of 1000");
  refuse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, "
                "1099511627776), }",
                0, CLRN_STATUS_UNSUPPORTED, "too large", NULL);
  /* An overflowing product is still an empty array when a dimension is 0. */
  const int64_t empty[] = {0, 4611686018427387904LL, 4611686018427387904LL};
  accept(1,
         "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4611686018427387904, "
         "4611686018427387904), }",
         3, empty);
  /* Prefix problems. */
  size_t size = build(buffer, 1, h34, 48);
  refuse(buffer, 0, CLRN_STATUS_INVALID_FORMAT, "empty", NULL);
  refuse((const unsigned char *)"PK\3\4 zip", 10, CLRN_STATUS_INVALID_FORMAT, "not a .npy", NULL);
  refuse(buffer, 5, CLRN_STATUS_INVALID_FORMAT, "cut short", NULL);
  refuse(buffer, 9, CLRN_STATUS_INVALID_FORMAT, "cut short", NULL);
  refuse(buffer, 30, CLRN_STATUS_INVALID_FORMAT, "inside its", NULL);
  buffer[5] = 'Z';
  refuse(buffer, size, CLRN_STATUS_INVALID_FORMAT, "magic", NULL);
  size = build(buffer, 4, h34, 48);
  refuse(buffer, size, CLRN_STATUS_UNSUPPORTED, "version 4.0", NULL);
  size = build(buffer, 1, h34, 48);
  buffer[7] = 1;
  refuse(buffer, size, CLRN_STATUS_UNSUPPORTED, "version 1.1", NULL);
  size = build(buffer, 2, h34, 48);
  buffer[11] = 0x40; /* header length 1 GiB */
  refuse(buffer, size, CLRN_STATUS_INVALID_FORMAT, "implausible", NULL);
  CU_ASSERT_EQUAL(clrn_npy_parse(NULL, 10, "x", 10, NULL), CLRN_STATUS_INVALID_ARGUMENT);
}

/* Bit patterns a float round trip must keep exactly. */
static const uint32_t special_bits[] = {0x00000000, 0x80000000, 0x3f800000, 0x7f800000,
                                        0xff800000, 0x7fc00001, 0xffbfffff, 0x00000001,
                                        0x807fffff, 0x7f7fffff, 0x3eaaaaab, 0xc2f6e979};
#define SPECIALS (sizeof special_bits / sizeof special_bits[0])

static void test_round_trip(void) {
  char path[512];
  snprintf(path, sizeof path, "%s/round.npy", dir);
  float data[SPECIALS];
  memcpy(data, special_bits, sizeof data);
  const int64_t shapes[][3] = {{12, 0, 0}, {3, 4, 0}, {2, 3, 2}};
  const int ndims[] = {1, 2, 3};
  for (int s = 0; s < 3; s++) {
    CLRN_ASSERT_OK(clrn_npy_write(path, data, ndims[s], shapes[s]));
    clrn_npy a;
    CLRN_ASSERT_OK(clrn_npy_read(path, SPECIALS, &a));
    CU_ASSERT_EQUAL(a.ndim, ndims[s]);
    for (int i = 0; i < ndims[s]; i++)
      CU_ASSERT_EQUAL(a.shape[i], shapes[s][i]);
    CU_ASSERT_EQUAL(memcmp(a.data, special_bits, sizeof special_bits), 0);
    clrn_npy header; /* the header alone: the same shape, no data */
    CLRN_ASSERT_OK(clrn_npy_read_header(path, &header));
    CU_ASSERT(header.ndim == a.ndim && !header.data);
    CU_ASSERT_EQUAL(memcmp(header.shape, a.shape, sizeof a.shape), 0);
    clrn_npy_free(&a);
    CU_ASSERT_EQUAL(clrn_npy_read(path, SPECIALS - 1, &a), CLRN_STATUS_UNSUPPORTED);
  }
  /* A scalar and an empty array. */
  CLRN_ASSERT_OK(clrn_npy_write(path, data, 0, NULL));
  clrn_npy a;
  CLRN_ASSERT_OK(clrn_npy_read(path, 1, &a));
  CU_ASSERT_EQUAL(a.ndim, 0);
  CU_ASSERT_EQUAL(memcmp(a.data, special_bits, 4), 0);
  clrn_npy_free(&a);
  const int64_t none[] = {4, 0};
  CLRN_ASSERT_OK(clrn_npy_write(path, NULL, 2, none));
  CLRN_ASSERT_OK(clrn_npy_read(path, 0, &a));
  CU_ASSERT_EQUAL(a.ndim, 2);
  CU_ASSERT_PTR_NOT_NULL(a.data);
  clrn_npy_free(&a);
  /* Every header is padded so the data starts on a multiple of 64. */
  FILE *f = fopen(path, "rb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  unsigned char head[10];
  CU_ASSERT_EQUAL(fread(head, 1, 10, f), 10);
  fclose(f);
  CU_ASSERT_EQUAL((10 + (head[8] | head[9] << 8)) % 64, 0);
}

static void test_read_errors(void) {
  clrn_npy a;
  char path[512];
  snprintf(path, sizeof path, "%s/missing.npy", dir);
  CU_ASSERT_EQUAL(clrn_npy_read(path, 10, &a), CLRN_STATUS_IO_ERROR);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), path));
  CU_ASSERT_EQUAL(clrn_npy_read(dir, 10, &a), CLRN_STATUS_IO_ERROR);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "directory"));
  /* The same refusals from a file as from memory (the reader streams the file). */
  snprintf(path, sizeof path, "%s/short.npy", dir);
  size_t size = build(buffer, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", 40);
  FILE *f = fopen(path, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fwrite(buffer, 1, size, f);
  fclose(f);
  CU_ASSERT_EQUAL(clrn_npy_read(path, 100, &a), CLRN_STATUS_INVALID_FORMAT);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "40 bytes"));
  CU_ASSERT_PTR_NULL(a.data);
  CU_ASSERT_EQUAL(clrn_npy_read_header(path, &a), CLRN_STATUS_INVALID_FORMAT);
  CU_ASSERT_EQUAL(a.ndim, 0);
  const int64_t bad[] = {-1};
  CU_ASSERT_EQUAL(clrn_npy_write(path, NULL, 1, bad), CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_EQUAL(clrn_npy_write(path, NULL, 9, bad), CLRN_STATUS_INVALID_ARGUMENT);
  const int64_t three[] = {3};
  CU_ASSERT_EQUAL(clrn_npy_write(path, NULL, 1, three), CLRN_STATUS_INVALID_ARGUMENT);
}

/* Reads a whole small file. */
static size_t slurp(const char *path, unsigned char *out, size_t size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return 0;
  size_t n = fread(out, 1, size, f);
  fclose(f);
  return n;
}

/* numpy reads what we write, and np.save of what it read is the same bytes. */
static void test_numpy_agrees(void) {
  const char *python = getenv("CLRN_PYTHON");
  if (!python || system(NULL) == 0) {
    printf("(no CLRN_PYTHON: numpy comparison not run) ");
    return;
  }
  char check[600];
  snprintf(check, sizeof check, "'%s' -c 'import numpy' 2>/dev/null", python);
  int rc = system(check);
  if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
    printf("(%s has no numpy: comparison not run) ", python);
    return;
  }
  float data[24];
  for (int i = 0; i < 24; i++)
    data[i] = (float)i * 0.37f - 3.0f;
  memcpy(data, special_bits, sizeof special_bits);
  const int64_t shapes[][4] = {{24}, {2, 3, 4}, {1, 2, 3, 4}, {4, 6}, {0}, {7, 0}};
  const int ndims[] = {1, 3, 4, 2, 1, 2, 0};
  for (int s = 0; s < 7; s++) {
    char ours[512], theirs[512], command[2048];
    snprintf(ours, sizeof ours, "%s/ours%d.npy", dir, s);
    snprintf(theirs, sizeof theirs, "%s/theirs%d.npy", dir, s);
    CLRN_ASSERT_OK(clrn_npy_write(ours, data, ndims[s], s < 6 ? shapes[s] : NULL));
    snprintf(command, sizeof command,
             "'%s' -c 'import sys, numpy as np; a = np.load(sys.argv[1]); "
             "assert a.dtype == np.float32 and a.flags.c_contiguous; np.save(sys.argv[2], a)' "
             "'%s' '%s'",
             python, ours, theirs);
    rc = system(command);
    CU_ASSERT(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
    static unsigned char a[4096], b[4096];
    size_t na = slurp(ours, a, sizeof a), nb = slurp(theirs, b, sizeof b);
    CU_ASSERT(na > 0);
    CU_ASSERT_EQUAL(na, nb);
    CU_ASSERT(na == nb && memcmp(a, b, na) == 0);
    clrn_npy back;
    CLRN_ASSERT_OK(clrn_npy_read(theirs, 100, &back));
    CU_ASSERT_EQUAL(back.ndim, ndims[s]);
    clrn_npy_free(&back);
  }
  /* Formats 2.0 and 3.0 as numpy writes them. */
  char path[512], command[2048];
  for (int version = 2; version <= 3; version++) {
    snprintf(path, sizeof path, "%s/v%d.npy", dir, version);
    snprintf(command, sizeof command,
             "'%s' -c 'import sys, numpy as np; from numpy.lib import format as f; "
             "a = np.arange(6, dtype=\"<f4\").reshape(2, 3); o = open(sys.argv[1], \"wb\"); "
             "f.write_array(o, a, version=(%d, 0)); o.close()' '%s'",
             python, version, path);
    rc = system(command);
    CU_ASSERT(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
    clrn_npy back;
    CLRN_ASSERT_OK(clrn_npy_read(path, 6, &back));
    CU_ASSERT(back.ndim == 2 && back.shape[0] == 2 && back.shape[1] == 3);
    for (int i = 0; i < 6; i++)
      CU_ASSERT_EQUAL(back.data[i], (float)i);
    clrn_npy_free(&back);
  }
}

int main(void) {
  clrn_test_add_suite("npy", setup, teardown, "accepted headers", test_accepted_headers,
                      "refused headers", test_refused_headers, "refused layouts",
                      test_refused_layouts, "round trip", test_round_trip, "read errors",
                      test_read_errors, "numpy agrees", test_numpy_agrees, NULL);
  return clrn_test_run();
}
