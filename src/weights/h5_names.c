/* The naming layer of the Keras reader (see h5.h): keras.applications' ResNet
 * layer names onto the graph's (torchvision's module paths).
 *
 *   conv1_conv                 conv1              (Conv2D: kernel, bias)
 *   conv1_bn                   bn1                (BatchNormalization: gamma, beta,
 *                                                  moving_mean, moving_variance)
 *   convS_blockB_K_conv        layer{S-1}.{B-1}.conv{K}, K = 1..3
 *   convS_blockB_K_bn          layer{S-1}.{B-1}.bn{K}
 *   convS_blockB_0_conv / _bn  layer{S-1}.{B-1}.downsample.0 / .1 (the shortcut)
 *   predictions                fc                 (Dense: kernel, bias)
 *
 * with S = 2..5 and B >= 1, and the leaves kernel -> weight, bias -> bias,
 * gamma -> weight, beta -> bias, moving_mean -> running_mean, moving_variance ->
 * running_var. */
#include <stdio.h>
#include <string.h>

#include "weights/h5.h"

/* Reads a decimal number of 1 to 4 digits without a leading zero at *p. */
static bool number(const char **p, int *value) {
  const char *s = *p;
  int v = 0, digits = 0;
  while (*s >= '0' && *s <= '9' && digits < 5) {
    v = v * 10 + (*s - '0');
    s++;
    digits++;
  }
  if (digits == 0 || digits > 4 || (digits > 1 && **p == '0'))
    return false;
  *value = v;
  *p = s;
  return true;
}

static bool take(const char **p, const char *literal) {
  size_t n = strlen(literal);
  if (strncmp(*p, literal, n) != 0)
    return false;
  *p += n;
  return true;
}

/* The module path of a Conv2D ("_conv") or BatchNormalization ("_bn") layer;
 * *conv tells which. */
static bool module_of(const char *layer, char *module, size_t size, bool *conv) {
  const char *p = layer;
  if (strcmp(layer, "conv1_conv") == 0 || strcmp(layer, "conv1_bn") == 0) {
    *conv = layer[6] == 'c';
    snprintf(module, size, "%s", *conv ? "conv1" : "bn1");
    return true;
  }
  int stage, block, index;
  if (!take(&p, "conv") || !number(&p, &stage) || stage < 2 || stage > 5 || !take(&p, "_block") ||
      !number(&p, &block) || block < 1 || !take(&p, "_") || !number(&p, &index) || index > 3 ||
      !take(&p, "_"))
    return false;
  if (strcmp(p, "conv") == 0)
    *conv = true;
  else if (strcmp(p, "bn") == 0)
    *conv = false;
  else
    return false;
  if (index == 0)
    snprintf(module, size, "layer%d.%d.downsample.%d", stage - 1, block - 1, *conv ? 0 : 1);
  else
    snprintf(module, size, "layer%d.%d.%s%d", stage - 1, block - 1, *conv ? "conv" : "bn", index);
  return true;
}

bool clrn_h5_graph_name(const char *layer, const char *leaf, char *out, size_t size,
                        clrn_h5_layout *layout) {
  static const struct {
    bool conv;
    const char *keras, *graph;
  } leaves[] = {{true, "kernel", "weight"},
                {true, "bias", "bias"},
                {false, "gamma", "weight"},
                {false, "beta", "bias"},
                {false, "moving_mean", "running_mean"},
                {false, "moving_variance", "running_var"}};
  char module[48];
  bool conv = false, dense = strcmp(layer, "predictions") == 0;
  if (dense)
    snprintf(module, sizeof module, "fc");
  else if (!module_of(layer, module, sizeof module, &conv))
    return false;
  for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++)
    if (leaves[i].conv == (conv || dense) && strcmp(leaf, leaves[i].keras) == 0) {
      *layout = i > 0 ? CLRN_H5_PLAIN : dense ? CLRN_H5_DENSE_IO : CLRN_H5_CONV_HWIO;
      int n = snprintf(out, size, "%s.%s", module, leaves[i].graph);
      return n > 0 && (size_t)n < size;
    }
  return false;
}
