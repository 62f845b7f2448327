/* Class-name tables and top-k (clresnet/labels.h), the version macros against
 * clrn_version(), and what a weights file's metadata says about preprocessing and
 * class names (clrn_weights_preprocess(), clrn_weights_labels()), with hostile
 * values refused by key. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "clresnet/clresnet.h"
#include "harness.h"
#include "weights/weights.h"

static char dir[512];

static int setup(void) {
  clrn_test_temp_dir(dir, sizeof dir);
  return 0;
}

static int teardown(void) {
  clrn_test_remove_dir(dir);
  return 0;
}

static clrn_status parse(const char *text, clrn_labels **l) {
  return clrn_labels_parse(text, strlen(text), "names.txt", l);
}

static void test_parse(void) {
  clrn_labels *l = NULL;
  CU_ASSERT_EQUAL_FATAL(parse("cat\r\ndog\nbird", &l), CLRN_STATUS_SUCCESS);
  CU_ASSERT_EQUAL(clrn_labels_count(l), 3);
  CU_ASSERT_STRING_EQUAL(clrn_labels_name(l, 0), "cat");
  CU_ASSERT_STRING_EQUAL(clrn_labels_name(l, 1), "dog");
  CU_ASSERT_STRING_EQUAL(clrn_labels_name(l, 2), "bird");
  CU_ASSERT_PTR_NULL(clrn_labels_name(l, 3));
  CU_ASSERT_PTR_NULL(clrn_labels_name(l, -1));
  clrn_labels_free(l);
  CU_ASSERT_EQUAL_FATAL(parse("caf\xc3\xa9 au lait\nx\n", &l), CLRN_STATUS_SUCCESS);
  CU_ASSERT_EQUAL(clrn_labels_count(l), 2); /* one final newline ends the last line */
  clrn_labels_free(l);
  CU_ASSERT_PTR_NULL(clrn_labels_name(NULL, 0));
  CU_ASSERT_EQUAL(clrn_labels_count(NULL), 0);
}

static void test_refused(void) {
  const struct {
    const char *text, *detail;
  } cases[] = {
      {"", "no class names"},
      {"a\n\nb\n", "line 2: empty class name"},
      {"a\n\n", "line 2: empty class name"},
      {"a\nb\xff\n", "line 2: class name is not valid UTF-8"},
      {"a\tb\n", "line 1: class name holds control character U+0009"},
      {"a\x1b[31m\n", "U+001B"},
      {"x\n\xc2\x85\n", "U+0085"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    clrn_labels *l = (clrn_labels *)1;
    CU_ASSERT_EQUAL(parse(cases[i].text, &l), CLRN_STATUS_INVALID_FORMAT);
    CU_ASSERT_PTR_NULL(l);
    CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), cases[i].detail));
    CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "names.txt"));
  }
  char *long_name = malloc(CLRN_LABEL_MAX_BYTES + 2);
  memset(long_name, 'a', CLRN_LABEL_MAX_BYTES + 1);
  long_name[CLRN_LABEL_MAX_BYTES + 1] = '\0';
  clrn_labels *l = NULL;
  CU_ASSERT_EQUAL(parse(long_name, &l), CLRN_STATUS_INVALID_FORMAT);
  long_name[CLRN_LABEL_MAX_BYTES] = '\0';
  CU_ASSERT_EQUAL(parse(long_name, &l), CLRN_STATUS_SUCCESS);
  clrn_labels_free(l);
  free(long_name);
  const char *list[] = {"ok", ""};
  CU_ASSERT_EQUAL(clrn_labels_from_list(list, 2, "list", &l), CLRN_STATUS_INVALID_FORMAT);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "list: class 1: empty class name"));
  CU_ASSERT_EQUAL(clrn_labels_from_list(list, 1, "list", &l), CLRN_STATUS_SUCCESS);
  CU_ASSERT_STRING_EQUAL(clrn_labels_name(l, 0), "ok");
  clrn_labels_free(l);
}

static void test_load(void) {
  char path[600];
  snprintf(path, sizeof path, "%s/names.txt", dir);
  FILE *f = fopen(path, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs("zero\none\n", f);
  fclose(f);
  clrn_labels *l = NULL;
  CU_ASSERT_EQUAL_FATAL(clrn_labels_load(path, &l), CLRN_STATUS_SUCCESS);
  CU_ASSERT_EQUAL(clrn_labels_count(l), 2);
  CU_ASSERT_STRING_EQUAL(clrn_labels_name(l, 1), "one");
  clrn_labels_free(l);
  snprintf(path, sizeof path, "%s/missing.txt", dir);
  CU_ASSERT_EQUAL(clrn_labels_load(path, &l), CLRN_STATUS_IO_ERROR);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "missing.txt"));
  CU_ASSERT_EQUAL(clrn_labels_load(dir, &l), CLRN_STATUS_IO_ERROR); /* a folder */
}

static void test_imagenet(void) {
  clrn_labels *l = NULL;
  CU_ASSERT_EQUAL_FATAL(clrn_labels_imagenet(&l), CLRN_STATUS_SUCCESS);
  CU_ASSERT_EQUAL(clrn_labels_count(l), 1000);
  CU_ASSERT_STRING_EQUAL(clrn_labels_name(l, 0), "tench, Tinca tinca");
  CU_ASSERT_STRING_EQUAL(clrn_labels_name(l, 207), "golden retriever");
  CU_ASSERT_STRING_EQUAL(clrn_labels_name(l, 999), "toilet tissue, toilet paper, bathroom tissue");
  clrn_labels_free(l);
}

static void test_top_k(void) {
  const float v[] = {0.1f, 0.5f, 0.5f, NAN, 0.9f, 0.5f, -1.0f};
  int best[8] = {0};
  CU_ASSERT_EQUAL(clrn_top_k(v, 7, 4, best), 4);
  const int want[] = {4, 1, 2, 5}; /* ties keep index order */
  for (int i = 0; i < 4; i++)
    CU_ASSERT_EQUAL(best[i], want[i]);
  CU_ASSERT_EQUAL(clrn_top_k(v, 7, 99, best), 7); /* clamped to n; NaN last */
  const int all[] = {4, 1, 2, 5, 0, 6, 3};
  for (int i = 0; i < 7; i++)
    CU_ASSERT_EQUAL(best[i], all[i]);
  const float same[] = {2.0f, 2.0f, 2.0f};
  CU_ASSERT_EQUAL(clrn_top_k(same, 3, 2, best), 2);
  CU_ASSERT_EQUAL(best[0], 0);
  CU_ASSERT_EQUAL(best[1], 1);
  CU_ASSERT_EQUAL(clrn_top_k(v, 0, 3, best), 0);
  CU_ASSERT_EQUAL(clrn_top_k(v, 7, 0, best), 0);
  CU_ASSERT_EQUAL(clrn_top_k(NULL, 7, 3, best), 0);
}

static void test_version(void) {
  char macros[64];
  snprintf(macros, sizeof macros, "%d.%d.%d", CLRN_VERSION_MAJOR, CLRN_VERSION_MINOR,
           CLRN_VERSION_PATCH);
  CU_ASSERT_STRING_EQUAL(macros, clrn_version());
  CU_ASSERT_EQUAL(CLRN_VERSION_NUMBER,
                  CLRN_VERSION_MAJOR * 10000 + CLRN_VERSION_MINOR * 100 + CLRN_VERSION_PATCH);
}

/* Writes a safetensors file holding one tensor and the metadata given (a JSON
 * object's members, already escaped) and opens it as weights of classes classes. */
static clrn_weights *weights_with(const char *members, int classes) {
  char path[600], header[20000];
  snprintf(path, sizeof path, "%s/meta.safetensors", dir);
  int n = snprintf(header, sizeof header,
                   "{\"__metadata__\":{%s},\"x\":{\"dtype\":\"F32\",\"shape\":[1],"
                   "\"data_offsets\":[0,4]}}",
                   members);
  while (n % 8)
    header[n++] = ' ';
  FILE *f = fopen(path, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  unsigned char size[8] = {0};
  for (int i = 0; i < 8; i++)
    size[i] = (unsigned char)((unsigned long long)n >> (8 * i));
  fwrite(size, 1, 8, f);
  fwrite(header, 1, (size_t)n, f);
  fwrite("\0\0\0\0", 1, 4, f);
  fclose(f);
  clrn_weights *w = NULL;
  CU_ASSERT_EQUAL_FATAL(clrn_weights_file_open(path, &w), CLRN_STATUS_SUCCESS);
  w->num_classes = classes;
  return w;
}

static void test_weights_preprocess(void) {
  clrn_preprocess p, classic;
  clrn_preprocess_default(&classic);
  clrn_weights *w = weights_with("\"source\":\"pth\"", 1000);
  CU_ASSERT_EQUAL(clrn_weights_preprocess(w, &p), CLRN_STATUS_SUCCESS);
  CU_ASSERT_EQUAL(memcmp(&p, &classic, sizeof p), 0); /* nothing stored: 256/224 */
  clrn_weights_close(w);
  w = weights_with("\"resize\":\"232\",\"crop\":\"224\",\"interpolation\":\"bilinear\","
                   "\"mean\":\"[0.5, 0.25, 0.125]\",\"std\":\"[1, 2e0, 0.229]\"",
                   1000);
  CU_ASSERT_EQUAL_FATAL(clrn_weights_preprocess(w, &p), CLRN_STATUS_SUCCESS);
  CU_ASSERT_EQUAL(p.resize, 232);
  CU_ASSERT_EQUAL(p.crop, 224);
  CU_ASSERT_EQUAL(p.mean[1], 0.25f);
  CU_ASSERT_EQUAL(p.std[1], 2.0f);
  CU_ASSERT_EQUAL(p.std[2], (float)0.229);
  clrn_weights_close(w);
  const struct {
    const char *members, *detail;
  } bad[] = {
      {"\"resize\":\"0\"", "\"resize\" is \"0\": needs a whole number in 1..16777216"},
      {"\"resize\":\"-5\"", "\"resize\""},
      {"\"resize\":\" 232\"", "\"resize\""},
      {"\"resize\":\"232x\"", "\"resize\""},
      {"\"resize\":\"0232\"", "\"resize\""},
      {"\"resize\":\"99999999999\"", "\"resize\""},
      {"\"crop\":\"16385\"", "\"crop\" is \"16385\": needs a whole number in 1..16384"},
      {"\"mean\":\"[0.5, 0.5]\"", "\"mean\""},
      {"\"mean\":\"[0.5, 0.5, \\\"x\\\"]\"", "\"mean\""},
      {"\"mean\":\"[0.5, 0.5, 1e999]\"", "\"mean\""},
      {"\"mean\":\"[0.5, 0.5, 1e39]\"", "\"mean\""}, /* finite double, infinite float */
      {"\"mean\":\"[0.5, 0.5, 0.5] x\"", "\"mean\""},
      {"\"std\":\"[0.5, 0, 0.5]\"", "\"std\" is \"[0.5, 0, 0.5]\": needs a JSON list of 3 "
                                    "finite, non-zero numbers"},
      {"\"std\":\"{}\"", "\"std\""},
      {"\"interpolation\":\"bicubic\"", "\"interpolation\" is \"bicubic\""},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    w = weights_with(bad[i].members, 1000);
    p.resize = -7;
    CU_ASSERT_NOT_EQUAL(clrn_weights_preprocess(w, &p), CLRN_STATUS_SUCCESS);
    CU_ASSERT_EQUAL(p.resize, -7); /* untouched on failure */
    if (!strstr(clrn_last_error(), bad[i].detail))
      printf("\n  case %zu: %s\n", i, clrn_last_error());
    CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), bad[i].detail));
    CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "meta.safetensors: metadata"));
    clrn_weights_close(w);
  }
}

static void test_weights_labels(void) {
  clrn_labels *l = NULL;
  clrn_weights *w = weights_with("\"categories\":\"[\\\"x\\\", \\\"y\\\", \\\"z\\\"]\"", 3);
  CU_ASSERT_EQUAL_FATAL(clrn_weights_labels(w, &l), CLRN_STATUS_SUCCESS);
  CU_ASSERT_EQUAL(clrn_labels_count(l), 3);
  CU_ASSERT_STRING_EQUAL(clrn_labels_name(l, 2), "z");
  clrn_labels_free(l);
  clrn_weights_close(w);
  w = weights_with("\"source\":\"pth\"", 3); /* no names, not ImageNet: indices */
  l = (clrn_labels *)1;
  CU_ASSERT_EQUAL(clrn_weights_labels(w, &l), CLRN_STATUS_SUCCESS);
  CU_ASSERT_PTR_NULL(l);
  clrn_weights_close(w);
  w = weights_with("\"source\":\"pth\"", 1000); /* 1000 classes: ImageNet's names */
  CU_ASSERT_EQUAL(clrn_weights_labels(w, &l), CLRN_STATUS_SUCCESS);
  CU_ASSERT_STRING_EQUAL(clrn_labels_name(l, 0), "tench, Tinca tinca");
  clrn_labels_free(l);
  clrn_weights_close(w);
  const struct {
    const char *members, *detail;
    int classes;
  } bad[] = {
      {"\"categories\":\"[\\\"x\\\", \\\"y\\\"]\"", "2 names but the model has 3 classes", 3},
      {"\"categories\":\"x\"", "needs a JSON list of strings", 3},
      {"\"categories\":\"[\\\"x\\\", 1, \\\"z\\\"]\"", "item 1 is not a string", 3},
      {"\"categories\":\"[\\\"x\\\", \\\"\\\", \\\"z\\\"]\"", "class 1: empty class name", 3},
      {"\"categories\":\"[\\\"x\\\", \\\"\\\\u001b[2J\\\", \\\"z\\\"]\"", "U+001B", 3},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    w = weights_with(bad[i].members, bad[i].classes);
    CU_ASSERT_NOT_EQUAL(clrn_weights_labels(w, &l), CLRN_STATUS_SUCCESS);
    CU_ASSERT_PTR_NULL(l);
    if (!strstr(clrn_last_error(), bad[i].detail))
      printf("\n  case %zu: %s\n", i, clrn_last_error());
    CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), bad[i].detail));
    CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "metadata \"categories\""));
    clrn_weights_close(w);
  }
}

int main(void) {
  clrn_test_add_suite("labels", setup, teardown, "parse", test_parse, "refused names", test_refused,
                      "load", test_load, "imagenet", test_imagenet, "top-k", test_top_k,
                      "version macros", test_version, "weights preprocessing",
                      test_weights_preprocess, "weights labels", test_weights_labels, NULL);
  return clrn_test_run();
}
