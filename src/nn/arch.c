/* ResNet architecture table, names, and the multiply-add count. */
#include "nn/arch.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "nn/graph.h"

static const clrn_arch_spec specs[] = {
    {CLRN_ARCH_RESNET18, "resnet18", CLRN_BLOCK_BASIC, 1, {2, 2, 2, 2}},
    {CLRN_ARCH_RESNET34, "resnet34", CLRN_BLOCK_BASIC, 1, {3, 4, 6, 3}},
    {CLRN_ARCH_RESNET50, "resnet50", CLRN_BLOCK_BOTTLENECK, 4, {3, 4, 6, 3}},
    {CLRN_ARCH_RESNET101, "resnet101", CLRN_BLOCK_BOTTLENECK, 4, {3, 4, 23, 3}},
    {CLRN_ARCH_RESNET152, "resnet152", CLRN_BLOCK_BOTTLENECK, 4, {3, 8, 36, 3}},
};

const clrn_arch_spec *clrn_arch_specs(size_t *count) {
  *count = sizeof specs / sizeof specs[0];
  return specs;
}

const clrn_arch_spec *clrn_arch_spec_of(clrn_arch arch) {
  for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
    if (specs[i].arch == arch)
      return &specs[i];
  return NULL;
}

const char *clrn_arch_name(clrn_arch arch) {
  const clrn_arch_spec *spec = clrn_arch_spec_of(arch);
  return spec ? spec->name : "auto";
}

clrn_status clrn_arch_parse(const char *text, clrn_arch *arch) {
  if (!text || !arch)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_arch_parse: NULL argument");
  /* Accept "resnet50", "ResNet-50", "resnet_50" and "50". */
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
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
      if (strcmp(specs[i].name + 6, digits) == 0) {
        *arch = specs[i].arch;
        return CLRN_STATUS_SUCCESS;
      }
  }
  return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                   "unknown architecture \"%s\" (expected resnet18, resnet34, resnet50, "
                   "resnet101 or resnet152)",
                   text);
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
