/* The ResNet graph builder against torchvision's structure (no device needed):
 * layer counts, _make_layer's downsample rule, Bottleneck's stride placement,
 * output sizes and the multiply-add counts torchvision's models are known for. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clresnet/engine.h"
#include "harness.h"
#include "nn/graph.h"

static int count_kind(const clrn_graph *g, clrn_node_kind kind) {
  int n = 0;
  for (size_t i = 0; i < g->node_count; i++)
    n += g->nodes[i].kind == kind;
  return n;
}

static const clrn_node *find(const clrn_graph *g, const char *name) {
  for (size_t i = 0; i < g->node_count; i++)
    if (strcmp(g->nodes[i].name, name) == 0)
      return &g->nodes[i];
  return NULL;
}

static void test_structure(void) {
  /* convs = stem + blocks * convs per block + downsamples (torchvision's counts). */
  struct {
    clrn_arch arch;
    int convs, downsamples, adds;
  } want[] = {{CLRN_ARCH_RESNET18, 1 + 8 * 2 + 3, 3, 8},
              {CLRN_ARCH_RESNET34, 1 + 16 * 2 + 3, 3, 16},
              {CLRN_ARCH_RESNET50, 1 + 16 * 3 + 4, 4, 16},
              {CLRN_ARCH_RESNET101, 1 + 33 * 3 + 4, 4, 33},
              {CLRN_ARCH_RESNET152, 1 + 50 * 3 + 4, 4, 50},
              {CLRN_ARCH_RESNEXT50_32X4D, 1 + 16 * 3 + 4, 4, 16},
              {CLRN_ARCH_RESNEXT101_32X8D, 1 + 33 * 3 + 4, 4, 33},
              {CLRN_ARCH_RESNEXT101_64X4D, 1 + 33 * 3 + 4, 4, 33},
              {CLRN_ARCH_WIDE_RESNET50_2, 1 + 16 * 3 + 4, 4, 16},
              {CLRN_ARCH_WIDE_RESNET101_2, 1 + 33 * 3 + 4, 4, 33}};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    clrn_graph g;
    CLRN_ASSERT_OK(clrn_graph_build(want[i].arch, 1000, 224, 224, &g));
    CU_ASSERT_EQUAL(count_kind(&g, CLRN_NODE_CONV), want[i].convs);
    CU_ASSERT_EQUAL(count_kind(&g, CLRN_NODE_ADD), want[i].adds);
    int downsamples = 0;
    for (size_t k = 0; k < g.node_count; k++)
      downsamples += g.nodes[k].branch == 1 && g.nodes[k].kind == CLRN_NODE_CONV;
    CU_ASSERT_EQUAL(downsamples, want[i].downsamples);
    CU_ASSERT_EQUAL(count_kind(&g, CLRN_NODE_BATCHNORM), want[i].convs);
    const clrn_value *out = &g.values[g.output];
    CU_ASSERT(out->c == 1000 && out->h == 1 && out->w == 1);
    clrn_graph_free(&g);
  }
}

static void test_downsample_rule(void) {
  clrn_graph g;
  /* resnet18 layer1: stride 1 and 64 == 64 channels, so no downsample. */
  CLRN_ASSERT_OK(clrn_graph_build(CLRN_ARCH_RESNET18, 1000, 224, 224, &g));
  CU_ASSERT_PTR_NULL(find(&g, "layer1.0.downsample.0"));
  const clrn_node *d = find(&g, "layer2.0.downsample.0");
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  CU_ASSERT(d->kernel == 1 && d->stride == 2 && d->in_channels == 64 && d->out_channels == 128);
  CU_ASSERT_EQUAL(find(&g, "layer2.0.conv1")->stride, 2); /* BasicBlock: stride on conv1 */
  CU_ASSERT_PTR_NULL(find(&g, "layer2.1.downsample.0"));
  clrn_graph_free(&g);
  /* resnet50 layer1: 64 -> 256 channels, so a stride-1 downsample; stride on conv2. */
  CLRN_ASSERT_OK(clrn_graph_build(CLRN_ARCH_RESNET50, 1000, 224, 224, &g));
  d = find(&g, "layer1.0.downsample.0");
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  CU_ASSERT(d->stride == 1 && d->in_channels == 64 && d->out_channels == 256);
  CU_ASSERT_EQUAL(find(&g, "layer3.0.conv1")->stride, 1);
  CU_ASSERT_EQUAL(find(&g, "layer3.0.conv2")->stride, 2);
  CU_ASSERT_EQUAL(find(&g, "layer3.0.conv3")->out_channels, 1024);
  CU_ASSERT_EQUAL(find(&g, "fc")->in_channels, 2048);
  const clrn_node *pool = find(&g, "maxpool");
  CU_ASSERT(pool->kernel == 3 && pool->stride == 2 && pool->pad == 1);
  CU_ASSERT_EQUAL(g.values[pool->output].h, 56);
  CU_ASSERT_EQUAL(g.values[find(&g, "layer4.2.relu")->output].h, 7);
  clrn_graph_free(&g);
}

/* ResNeXt and Wide ResNet: torchvision's width = int(planes * width_per_group / 64)
 * * groups on conv1 and conv2, the groups on conv2 only, conv3 and the downsample
 * as in ResNet-50. */
static void test_groups_and_width(void) {
  struct {
    clrn_arch arch;
    const char *conv;
    int in, out, groups;
  } want[] = {
      {CLRN_ARCH_RESNET50, "layer1.0.conv2", 64, 64, 1},
      {CLRN_ARCH_RESNEXT50_32X4D, "layer1.0.conv1", 64, 128, 1},
      {CLRN_ARCH_RESNEXT50_32X4D, "layer1.0.conv2", 128, 128, 32},
      {CLRN_ARCH_RESNEXT50_32X4D, "layer1.0.conv3", 128, 256, 1},
      {CLRN_ARCH_RESNEXT50_32X4D, "layer4.2.conv2", 1024, 1024, 32},
      {CLRN_ARCH_RESNEXT101_32X8D, "layer2.0.conv2", 512, 512, 32},
      {CLRN_ARCH_RESNEXT101_64X4D, "layer3.22.conv2", 1024, 1024, 64},
      {CLRN_ARCH_RESNEXT101_64X4D, "layer3.22.conv3", 1024, 1024, 1},
      {CLRN_ARCH_WIDE_RESNET50_2, "layer1.0.conv2", 128, 128, 1},
      {CLRN_ARCH_WIDE_RESNET101_2, "layer4.0.conv1", 1024, 1024, 1},
      {CLRN_ARCH_WIDE_RESNET101_2, "layer4.0.downsample.0", 1024, 2048, 1},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    clrn_graph g;
    CLRN_ASSERT_OK(clrn_graph_build(want[i].arch, 1000, 64, 80, &g));
    const clrn_node *n = find(&g, want[i].conv);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    if (n->in_channels != want[i].in || n->out_channels != want[i].out ||
        n->groups != want[i].groups)
      fprintf(stderr, "\n%s %s: %d -> %d, %d groups\n", clrn_arch_name(want[i].arch), n->name,
              n->in_channels, n->out_channels, n->groups);
    CU_ASSERT(n->in_channels == want[i].in && n->out_channels == want[i].out &&
              n->groups == want[i].groups);
    CU_ASSERT_EQUAL(find(&g, "fc")->in_channels, 2048);
    clrn_graph_free(&g);
  }
}

static void test_sizes(void) {
  clrn_graph g;
  /* Odd and small inputs: every spatial size follows floor((n + 2p - k) / s) + 1. */
  CLRN_ASSERT_OK(clrn_graph_build(CLRN_ARCH_RESNET50, 10, 97, 131, &g));
  const clrn_value *stem = &g.values[g.nodes[0].output];
  CU_ASSERT(stem->h == 49 && stem->w == 66);
  CU_ASSERT_EQUAL(g.values[find(&g, "layer4.2.relu")->output].h, 4);
  CU_ASSERT_EQUAL(g.values[find(&g, "layer4.2.relu")->output].w, 5);
  CU_ASSERT_EQUAL(g.values[g.output].c, 10);
  clrn_graph_free(&g);
  CLRN_ASSERT_OK(clrn_graph_build(CLRN_ARCH_RESNET18, 1000, 32, 32, &g));
  CU_ASSERT_EQUAL(g.values[find(&g, "layer4.1.relu")->output].h, 1);
  clrn_graph_free(&g);
  CU_ASSERT_EQUAL(clrn_graph_build(CLRN_ARCH_RESNET18, 1000, 0, 32, &g),
                  CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_EQUAL(clrn_graph_build(CLRN_ARCH_AUTO, 1000, 32, 32, &g), CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_EQUAL(clrn_graph_build(CLRN_ARCH_RESNET18, 0, 32, 32, &g),
                  CLRN_STATUS_INVALID_ARGUMENT);
}

static void test_macs(void) {
  /* Multiply-adds at 224x224, as torchvision's documentation lists them (GFLOPS
   * there are GMACs). */
  struct {
    clrn_arch arch;
    double gmacs;
  } want[] = {{CLRN_ARCH_RESNET18, 1.81},          {CLRN_ARCH_RESNET34, 3.66},
              {CLRN_ARCH_RESNET50, 4.09},          {CLRN_ARCH_RESNET101, 7.80},
              {CLRN_ARCH_RESNET152, 11.51},        {CLRN_ARCH_RESNEXT50_32X4D, 4.23},
              {CLRN_ARCH_RESNEXT101_32X8D, 16.41}, {CLRN_ARCH_RESNEXT101_64X4D, 15.46},
              {CLRN_ARCH_WIDE_RESNET50_2, 11.40},  {CLRN_ARCH_WIDE_RESNET101_2, 22.75}};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    double gmacs = clrn_arch_macs(want[i].arch, 1000, 224, 224) / 1e9;
    if (fabs(gmacs - want[i].gmacs) > 0.01 * want[i].gmacs)
      fprintf(stderr, "\n%s: %.3f GMAC, want %.2f\n", clrn_arch_name(want[i].arch), gmacs,
              want[i].gmacs);
    CU_ASSERT(fabs(gmacs - want[i].gmacs) <= 0.01 * want[i].gmacs);
  }
}

static void test_names(void) {
  /* torchvision's names, any case, '-' for '_', and the plain ResNets by depth. */
  static const struct {
    const char *text;
    clrn_arch arch;
  } good[] = {{"resnet50", CLRN_ARCH_RESNET50},
              {"ResNet-101", CLRN_ARCH_RESNET101},
              {"18", CLRN_ARCH_RESNET18},
              {"ResNeXt50-32x4d", CLRN_ARCH_RESNEXT50_32X4D},
              {"Wide-ResNet101-2", CLRN_ARCH_WIDE_RESNET101_2}};
  clrn_arch arch;
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    CLRN_ASSERT_OK(clrn_arch_parse(good[i].text, &arch));
    CU_ASSERT_EQUAL(arch, good[i].arch);
  }
  static const char *const bad[] = {"resnet51", "vgg16", "", "resnext50", "wide_resnet50_2x"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CU_ASSERT_EQUAL(clrn_arch_parse(bad[i], &arch), CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_STRING_EQUAL(clrn_arch_name(CLRN_ARCH_RESNET152), "resnet152");
  static const char *const names[] = {"resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d",
                                      "wide_resnet50_2", "wide_resnet101_2"};
  for (int i = 0; i < 5; i++) {
    CLRN_ASSERT_OK(clrn_arch_parse(names[i], &arch));
    CU_ASSERT_EQUAL(arch, CLRN_ARCH_RESNEXT50_32X4D + i);
    CU_ASSERT_STRING_EQUAL(clrn_arch_name(arch), names[i]);
  }
  /* The public values never move: new architectures were appended. */
  CU_ASSERT_EQUAL(CLRN_ARCH_RESNET152, 5);
  CU_ASSERT_EQUAL(CLRN_ARCH_WIDE_RESNET101_2, 10);
}

static void test_split(void) {
  int shards[3];
  clrn_engine_split((double[]){1.0, 1.0}, 2, 8, shards);
  CU_ASSERT(shards[0] == 4 && shards[1] == 4);
  clrn_engine_split((double[]){3.0, 1.0}, 2, 8, shards);
  CU_ASSERT(shards[0] == 6 && shards[1] == 2);
  clrn_engine_split((double[]){2.0, 1.0, 1.0}, 3, 5, shards);
  CU_ASSERT_EQUAL(shards[0] + shards[1] + shards[2], 5);
  CU_ASSERT(shards[0] >= 2);
  clrn_engine_split((double[]){100.0, 1.0}, 2, 1, shards);
  CU_ASSERT(shards[0] == 1 && shards[1] == 0);
  clrn_engine_split((double[]){0.0, 0.0}, 2, 3, shards);
  CU_ASSERT_EQUAL(shards[0] + shards[1], 3);
}

/* Speeds from a damaged calibration file or a careless caller: no shard may be
 * negative or the sum differ (inf once gave -2147483644 after a 21 s spin). */
static void test_split_bad_speeds(void) {
  int shards[3];
  clrn_engine_split((double[]){INFINITY, 1.0}, 2, 5, shards);
  CU_ASSERT(shards[0] == 0 && shards[1] == 5);
  clrn_engine_split((double[]){NAN, 2.0, 1.0}, 3, 6, shards);
  CU_ASSERT(shards[0] == 0 && shards[1] == 4 && shards[2] == 2);
  clrn_engine_split((double[]){-3.0, 1.0}, 2, 4, shards);
  CU_ASSERT(shards[0] == 0 && shards[1] == 4);
  clrn_engine_split((double[]){1e308, 1e308}, 2, 4, shards); /* the sum overflows */
  CU_ASSERT(shards[0] == 2 && shards[1] == 2);
  clrn_engine_split((double[]){INFINITY, -INFINITY, NAN}, 3, 3, shards);
  CU_ASSERT(shards[0] == 1 && shards[1] == 1 && shards[2] == 1);
  clrn_engine_split((double[]){1e-300, 0.0}, 2, 2, shards);
  CU_ASSERT(shards[0] == 2 && shards[1] == 0);
}

int main(void) {
  clrn_test_add_suite("graph", NULL, NULL, "structure", test_structure, "downsample rule",
                      test_downsample_rule, "groups and width", test_groups_and_width, "sizes",
                      test_sizes, "multiply-adds", test_macs, "architecture names", test_names,
                      "batch split", test_split, "batch split, bad speeds", test_split_bad_speeds,
                      NULL);
  return clrn_test_run();
}
