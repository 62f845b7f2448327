/* Photo decoding and preprocessing against PIL 9 and torchvision 0.14 themselves:
 * tests/io/reference.py (run with CLRN_PYTHON, Debian's /usr/bin/python3 by
 * default) writes what PIL's Image.open(p).convert("RGB") and torchvision's
 * Compose([Resize, CenterCrop, ToTensor, Normalize]) make of the photos in
 * CLRN_DATA_DIR and of generated images (every PNG colour type and bit depth,
 * interlaced, progressive / grey / CMYK JPEGs, tiny, very wide and tall images,
 * images smaller than the crop); the library must reproduce every byte and every
 * float exactly. No tolerance: both sides run the same integer resample and the
 * same single float32 operations, so any difference is a bug. Skipped (77) when
 * that Python lacks torchvision.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

static char work[256];
static int cases_run;
static double worst_diff;
static size_t floats_compared;

typedef struct reference_case {
  char name[128], image[1024];
  int width, height;
  clrn_preprocess preprocess;
} reference_case;

static bool parse_case(char *line, reference_case *c) {
  char *fields[12];
  int n = 0;
  for (char *field = strtok(line, "\t\n"); field && n < 12; field = strtok(NULL, "\t\n"))
    fields[n++] = field;
  if (n != 12)
    return false;
  snprintf(c->name, sizeof c->name, "%s", fields[0]);
  snprintf(c->image, sizeof c->image, "%s", fields[1]);
  c->width = atoi(fields[2]);
  c->height = atoi(fields[3]);
  c->preprocess.mode = CLRN_PREPROCESS_TORCHVISION;
  c->preprocess.resize = atoi(fields[4]);
  c->preprocess.crop = atoi(fields[5]);
  for (int i = 0; i < 3; i++) {
    /* torchvision gets Python doubles and makes a float32 tensor of them. */
    c->preprocess.mean[i] = (float)strtod(fields[6 + i], NULL);
    c->preprocess.std[i] = (float)strtod(fields[9 + i], NULL);
  }
  return true;
}

/* Distance in units in the last place between two finite floats. */
static int64_t ulp_distance(float a, float b) {
  int32_t ia, ib;
  memcpy(&ia, &a, 4);
  memcpy(&ib, &b, 4);
  int64_t la = ia < 0 ? (int64_t)INT32_MIN - ia : ia, lb = ib < 0 ? (int64_t)INT32_MIN - ib : ib;
  return la > lb ? la - lb : lb - la;
}

static void check_decode(const reference_case *c, const clrn_image *image) {
  CU_ASSERT_EQUAL(image->width, c->width);
  CU_ASSERT_EQUAL(image->height, c->height);
  char path[1200];
  snprintf(path, sizeof path, "%s/%s.rgb", work, c->name);
  FILE *f = fopen(path, "rb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  size_t bytes = (size_t)c->width * (size_t)c->height * 3;
  unsigned char *expected = malloc(bytes);
  CU_ASSERT_PTR_NOT_NULL_FATAL(expected);
  CU_ASSERT_EQUAL(fread(expected, 1, bytes, f), bytes);
  fclose(f);
  if (image->width == c->width && image->height == c->height) {
    size_t differ = 0, first = 0;
    for (size_t i = 0; i < bytes; i++)
      if (image->rgb[i] != expected[i] && differ++ == 0)
        first = i;
    if (differ)
      fprintf(stderr, "\n%s: %zu of %zu bytes differ from PIL, first at %zu (%d vs %d)\n", c->name,
              differ, bytes, first, image->rgb[first], expected[first]);
    CU_ASSERT_EQUAL(differ, 0);
  }
  free(expected);
}

static void check_preprocess(const reference_case *c, const clrn_image *image) {
  char path[1200];
  snprintf(path, sizeof path, "%s/%s.npy", work, c->name);
  clrn_npy expected;
  CLRN_ASSERT_OK(clrn_npy_read(path, SIZE_MAX, &expected));
  int crop = c->preprocess.crop;
  CU_ASSERT_EQUAL_FATAL(expected.ndim, 3);
  CU_ASSERT_FATAL(expected.shape[0] == 3 && expected.shape[1] == crop && expected.shape[2] == crop);
  size_t count = (size_t)3 * crop * crop;
  float *out = malloc(count * sizeof *out);
  CU_ASSERT_PTR_NOT_NULL_FATAL(out);
  CLRN_ASSERT_OK(clrn_image_preprocess(image, &c->preprocess, out));
  size_t differ = 0;
  double max_diff = 0;
  int64_t max_ulp = 0;
  for (size_t i = 0; i < count; i++) {
    if (memcmp(&out[i], &expected.data[i], 4) == 0)
      continue;
    differ++;
    double d = fabs((double)out[i] - (double)expected.data[i]);
    max_diff = d > max_diff ? d : max_diff;
    int64_t u = ulp_distance(out[i], expected.data[i]);
    max_ulp = u > max_ulp ? u : max_ulp;
  }
  printf("\n  %-24s %5dx%-5d resize %3d crop %3d: %zu of %zu floats differ, max |diff| %g "
         "(%lld ulp)",
         c->name, c->width, c->height, c->preprocess.resize, crop, differ, count, max_diff,
         (long long)max_ulp);
  CU_ASSERT_EQUAL(differ, 0);
  worst_diff = max_diff > worst_diff ? max_diff : worst_diff;
  floats_compared += count;
  free(out);
  clrn_npy_free(&expected);
}

static void test_against_torchvision(void) {
  char path[512], line[2048];
  snprintf(path, sizeof path, "%s/manifest.txt", work);
  FILE *manifest = fopen(path, "r");
  CU_ASSERT_PTR_NOT_NULL_FATAL(manifest);
  while (fgets(line, sizeof line, manifest)) {
    reference_case c;
    CU_ASSERT_FATAL(parse_case(line, &c));
    clrn_image image;
    clrn_status status = clrn_image_load(c.image, &image);
    if (status != CLRN_STATUS_SUCCESS)
      fprintf(stderr, "\n%s: %s\n", c.name, clrn_last_error());
    CU_ASSERT_EQUAL(status, CLRN_STATUS_SUCCESS);
    if (status != CLRN_STATUS_SUCCESS)
      continue;
    check_decode(&c, &image);
    check_preprocess(&c, &image);
    clrn_image_free(&image);
    cases_run++;
  }
  fclose(manifest);
  printf("\n  %d cases, %zu floats: max |diff| against torchvision %g\n", cases_run,
         floats_compared, worst_diff);
  CU_ASSERT(cases_run >= 40); /* 3 photos + the generated cases */
}

int main(void) {
  const char *python = getenv("CLRN_PYTHON"), *io_dir = getenv("CLRN_IO_DIR");
  const char *photos = getenv("CLRN_DATA_DIR");
  if (!python || !io_dir || !photos) {
    fprintf(stderr, "CLRN_PYTHON, CLRN_IO_DIR and CLRN_DATA_DIR must be set "
                    "(CTest sets them)\n");
    return 1;
  }
  clrn_test_temp_dir(work, sizeof work);
  char command[4096];
  snprintf(command, sizeof command, "'%s' '%s/reference.py' '%s' '%s'", python, io_dir, work,
           photos);
  int rc = system(command);
  int code = rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  if (code != 0) {
    clrn_test_remove_dir(work);
    if (code == CLRN_TEST_SKIP) {
      fprintf(stderr, "%s has no torchvision: skipping the comparison with torchvision\n", python);
      return CLRN_TEST_SKIP;
    }
    fprintf(stderr, "reference script failed (%d): %s\n", code, command);
    return 1;
  }
  clrn_test_add_suite("io reference", NULL, NULL, "decode and preprocess as PIL + torchvision",
                      test_against_torchvision, NULL);
  int result = clrn_test_run();
  clrn_test_remove_dir(work);
  return result;
}
