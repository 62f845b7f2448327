/* Which network a weights file holds, from its tensors alone (no device):
 * ResNet-50, ResNeXt-50 32x4d and Wide ResNet-50-2 have the same blocks and are
 * told apart by layer1.0.conv2.weight, [width, width / groups, 3, 3]; likewise
 * the 101-layer ones. The files written here hold only the tensors inference
 * looks at (every block's conv1, layer1.0.conv2 and conv3, fc), so opening one
 * fails afterwards on the first missing tensor, and that message names the
 * architecture inference chose. A conv2 that fits no variant is refused naming
 * its shape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clresnet/clresnet.h"
#include "harness.h"

static char temp_dir[256];

typedef struct tensor {
  char name[48];
  int ndim;
  long shape[4];
} tensor;

/* Writes a safetensors file of zero-filled F32 tensors: the image is built in
 * memory (8-byte length, JSON header, data) and written at once. */
static void write_file(const char *path, const tensor *t, size_t count) {
  size_t data = 0;
  for (size_t i = 0; i < count; i++) {
    size_t elements = 1;
    for (int d = 0; d < t[i].ndim; d++)
      elements *= (size_t)t[i].shape[d];
    data += 4 * elements;
  }
  size_t capacity = 8 + 256 + count * 160 + data, used = 9, offset = 0;
  unsigned char *image = calloc(capacity, 1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(image);
  char *text = (char *)image;
  text[8] = '{';
  for (size_t i = 0; i < count; i++) {
    size_t elements = 1;
    char dims[64] = "";
    for (int d = 0; d < t[i].ndim; d++) {
      elements *= (size_t)t[i].shape[d];
      snprintf(dims + strlen(dims), sizeof dims - strlen(dims), "%s%ld", d ? "," : "",
               t[i].shape[d]);
    }
    used +=
        (size_t)snprintf(text + used, capacity - used,
                         "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%s],\"data_offsets\":[%zu,%zu]}",
                         i ? "," : "", t[i].name, dims, offset, offset + 4 * elements);
    offset += 4 * elements;
  }
  text[used++] = '}';
  for (int i = 0; i < 8; i++)
    image[i] = (unsigned char)((uint64_t)(used - 8) >> (8 * i));
  FILE *f = fopen(path, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  CU_ASSERT_EQUAL(fwrite(image, 1, used + data, f), used + data);
  CU_ASSERT_EQUAL(fclose(f), 0);
  free(image);
}

/* Opens a Bottleneck file with the given blocks and layer1.0.conv2 shape (no
 * conv2 when conv2_out is 0); returns the status, the message in error. */
static clrn_status open_with(const int blocks[4], long conv2_out, long conv2_in, char *error,
                             size_t size) {
  tensor t[48];
  size_t n = 0;
  for (int s = 0; s < 4; s++)
    for (int b = 0; b < blocks[s]; b++) {
      t[n] = (tensor){.ndim = 1, .shape = {1}};
      snprintf(t[n++].name, sizeof t[0].name, "layer%d.%d.conv1.weight", s + 1, b);
    }
  t[n++] = (tensor){"layer1.0.conv3.weight", 1, {1}};
  if (conv2_out)
    t[n++] = (tensor){"layer1.0.conv2.weight", 4, {conv2_out, conv2_in, 3, 3}};
  t[n++] = (tensor){"fc.weight", 2, {10, 1}};
  char path[512];
  snprintf(path, sizeof path, "%s/w.safetensors", temp_dir);
  write_file(path, t, n);
  clrn_weights *w = NULL;
  clrn_status status = clrn_weights_open(path, CLRN_ARCH_AUTO, &w);
  snprintf(error, size, "%s", status == CLRN_STATUS_SUCCESS ? "" : clrn_last_error());
  clrn_weights_close(w);
  return status;
}

static void test_chosen_by_conv2(void) {
  static const int fifty[4] = {3, 4, 6, 3}, hundred[4] = {3, 4, 23, 3};
  struct {
    const int *blocks;
    long out, in;
    const char *arch;
  } want[] = {
      {fifty, 64, 64, "resnet50"},
      {fifty, 128, 4, "resnext50_32x4d"},
      {fifty, 128, 128, "wide_resnet50_2"},
      {hundred, 64, 64, "resnet101"},
      {hundred, 256, 8, "resnext101_32x8d"},
      {hundred, 256, 4, "resnext101_64x4d"},
      {hundred, 128, 128, "wide_resnet101_2"},
      {fifty, 0, 0, "resnet50"}, /* no conv2: the plain one, whose check names it */
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    char error[1024], expects[64];
    CU_ASSERT_EQUAL(open_with(want[i].blocks, want[i].out, want[i].in, error, sizeof error),
                    CLRN_STATUS_MISMATCH);
    snprintf(expects, sizeof expects, "(%s expects it)", want[i].arch);
    if (!strstr(error, expects))
      fprintf(stderr, "\nwant %s: %s\n", want[i].arch, error);
    CU_ASSERT_PTR_NOT_NULL(strstr(error, expects));
  }
}

static void test_conv2_fits_none(void) {
  static const int fifty[4] = {3, 4, 6, 3};
  char error[1024];
  CU_ASSERT_EQUAL(open_with(fifty, 96, 3, error, sizeof error), CLRN_STATUS_MISMATCH);
  CU_ASSERT_PTR_NOT_NULL(strstr(error, "layer1.0.conv2.weight is [96, 3, 3, 3]"));
  /* ResNeXt-101 64x4d's conv2 in a 50-layer file. */
  CU_ASSERT_EQUAL(open_with(fifty, 256, 4, error, sizeof error), CLRN_STATUS_MISMATCH);
  CU_ASSERT_PTR_NOT_NULL(strstr(error, "fits the groups and width of none"));
}

int main(void) {
  clrn_test_temp_dir(temp_dir, sizeof temp_dir);
  clrn_test_add_suite("arch inference", NULL, NULL, "chosen by layer1.0.conv2",
                      test_chosen_by_conv2, "conv2 fits none", test_conv2_fits_none, NULL);
  int status = clrn_test_run();
  clrn_test_remove_dir(temp_dir);
  return status;
}
