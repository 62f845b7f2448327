/* ResNet architecture table, names, and the multiply-add count. */
#include "nn/arch.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "nn/graph.h"

/* arch, name, block, expansion, blocks, groups, width per group, Keras v1 */
// clang-format off
static const clrn_arch_spec specs[] = {
    {CLRN_ARCH_RESNET18, "resnet18", CLRN_BLOCK_BASIC, 1, {2, 2, 2, 2}, 1, 64, false},
    {CLRN_ARCH_RESNET34, "resnet34", CLRN_BLOCK_BASIC, 1, {3, 4, 6, 3}, 1, 64, false},
    {CLRN_ARCH_RESNET50, "resnet50", CLRN_BLOCK_BOTTLENECK, 4, {3, 4, 6, 3}, 1, 64, false},
    {CLRN_ARCH_RESNET101, "resnet101", CLRN_BLOCK_BOTTLENECK, 4, {3, 4, 23, 3}, 1, 64, false},
    {CLRN_ARCH_RESNET152, "resnet152", CLRN_BLOCK_BOTTLENECK, 4, {3, 8, 36, 3}, 1, 64, false},
    {CLRN_ARCH_RESNEXT50_32X4D, "resnext50_32x4d", CLRN_BLOCK_BOTTLENECK, 4, {3, 4, 6, 3}, 32, 4, false},
    {CLRN_ARCH_RESNEXT101_32X8D, "resnext101_32x8d", CLRN_BLOCK_BOTTLENECK, 4, {3, 4, 23, 3}, 32, 8, false},
    {CLRN_ARCH_RESNEXT101_64X4D, "resnext101_64x4d", CLRN_BLOCK_BOTTLENECK, 4, {3, 4, 23, 3}, 64, 4, false},
    {CLRN_ARCH_WIDE_RESNET50_2, "wide_resnet50_2", CLRN_BLOCK_BOTTLENECK, 4, {3, 4, 6, 3}, 1, 128, false},
    {CLRN_ARCH_WIDE_RESNET101_2, "wide_resnet101_2", CLRN_BLOCK_BOTTLENECK, 4, {3, 4, 23, 3}, 1, 128, false},
    {CLRN_ARCH_KERAS_RESNET50, "keras_resnet50", CLRN_BLOCK_BOTTLENECK, 4, {3, 4, 6, 3}, 1, 64, true},
};
// clang-format on

#define SPEC_COUNT (sizeof specs / sizeof specs[0])

int clrn_arch_width(const clrn_arch_spec *spec, int planes) {
  return planes * spec->width_per_group / 64 * spec->groups;
}

const clrn_arch_spec *clrn_arch_specs(size_t *count) {
  *count = SPEC_COUNT;
  return specs;
}

const clrn_arch_spec *clrn_arch_spec_of(clrn_arch arch) {
  for (size_t i = 0; i < SPEC_COUNT; i++)
    if (specs[i].arch == arch)
      return &specs[i];
  return NULL;
}

const char *clrn_arch_name(clrn_arch arch) {
  const clrn_arch_spec *spec = clrn_arch_spec_of(arch);
  return spec ? spec->name : "auto";
}

/* Whether text is name, ignoring case and taking '-' for '_'. */
static bool same_name(const char *text, const char *name) {
  for (; *text && *name; text++, name++) {
    char c = *text == '-' ? '_' : (char)tolower((unsigned char)*text);
    if (c != *name)
      return false;
  }
  return *text == *name;
}

clrn_status clrn_arch_parse(const char *text, clrn_arch *arch) {
  if (!text || !arch)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_arch_parse: NULL argument");
  for (size_t i = 0; i < SPEC_COUNT; i++)
    if (same_name(text, specs[i].name)) {
      *arch = specs[i].arch;
      return CLRN_STATUS_SUCCESS;
    }
  /* The plain ResNets also as "ResNet-50", "resnet_50" and "50". */
  char digits[16];
  size_t n = 0;
  const char *p = text;
  if (strncasecmp(p, "resnet", 6) == 0) {
    p += 6;
    if (*p == '-' || *p == '_')
      p++;
  }
  for (; *p && n + 1 < sizeof digits; p++) {
    if (!isdigit((unsigned char)*p))
      break;
    digits[n++] = *p;
  }
  digits[n] = '\0';
  if (*p == '\0' && n > 0) {
    for (size_t i = 0; i < SPEC_COUNT; i++)
      if (strncmp(specs[i].name, "resnet", 6) == 0 && strcmp(specs[i].name + 6, digits) == 0) {
        *arch = specs[i].arch;
        return CLRN_STATUS_SUCCESS;
      }
  }
  return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                   "unknown architecture \"%s\" (expected " CLRN_ARCH_NAMES ")", text);
}

double clrn_arch_macs(clrn_arch arch, int num_classes, int height, int width) {
  clrn_graph graph;
  if (clrn_graph_build(arch, num_classes, height, width, &graph) != CLRN_STATUS_SUCCESS)
    return 0.0;
  double macs = 0.0;
  for (size_t i = 0; i < graph.node_count; i++)
    macs += clrn_graph_node_macs(&graph, &graph.nodes[i]);
  clrn_graph_free(&graph);
  return macs;
}
