/* Builds the torchvision ResNet graph from an architecture spec (see graph.h), or
 * Keras' ResNet50 v1 under the same node names. */
#include "nn/graph.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/error.h"
#include "nn/arch.h"

#define MAX_IMAGE_SIDE 16384

typedef struct builder {
  clrn_graph *graph;
  size_t node_capacity, value_capacity;
  clrn_status status;
  bool conv_bias; /* every conv has a bias (Keras) */
  double bn_eps;  /* of every BatchNorm */
} builder;

static int add_value(builder *b, int c, int h, int w) {
  clrn_graph *g = b->graph;
  if (b->status != CLRN_STATUS_SUCCESS)
    return -1;
  b->status = clrn_array_reserve((void **)&g->values, &b->value_capacity, g->value_count + 1,
                                 sizeof *g->values, 64, "graph values");
  if (b->status != CLRN_STATUS_SUCCESS)
    return -1;
  g->values[g->value_count] = (clrn_value){c, h, w};
  return (int)g->value_count++;
}

/* Appends a node reading input (and residual for ADD) and returns its output value. */
static int add_node(builder *b, clrn_node node, int c, int h, int w) {
  clrn_graph *g = b->graph;
  if (b->status != CLRN_STATUS_SUCCESS)
    return -1;
  b->status = clrn_array_reserve((void **)&g->nodes, &b->node_capacity, g->node_count + 1,
                                 sizeof *g->nodes, 128, "graph nodes");
  if (b->status != CLRN_STATUS_SUCCESS)
    return -1;
  node.output = add_value(b, c, h, w);
  if (node.output < 0)
    return -1;
  g->nodes[g->node_count++] = node;
  return node.output;
}

static clrn_value shape(builder *b, int value) {
  return value >= 0 ? b->graph->values[value] : (clrn_value){0, 0, 0};
}

static int conv(builder *b, const char *name, int input, int out_channels, int kernel, int stride,
                int pad, int groups, int branch) {
  clrn_value in = shape(b, input);
  clrn_node node = {.kind = CLRN_NODE_CONV,
                    .inputs = {input, -1},
                    .branch = branch,
                    .in_channels = in.c,
                    .out_channels = out_channels,
                    .kernel = kernel,
                    .stride = stride,
                    .pad = pad,
                    .groups = groups,
                    .bias = b->conv_bias};
  snprintf(node.name, sizeof node.name, "%s", name);
  int h = (in.h + 2 * pad - kernel) / stride + 1;
  int w = (in.w + 2 * pad - kernel) / stride + 1;
  return add_node(b, node, out_channels, h, w);
}

static int same_shape(builder *b, clrn_node_kind kind, const char *name, int input, int branch) {
  clrn_value in = shape(b, input);
  clrn_node node = {.kind = kind,
                    .inputs = {input, -1},
                    .branch = branch,
                    .in_channels = in.c,
                    .out_channels = in.c,
                    .eps = kind == CLRN_NODE_BATCHNORM ? b->bn_eps : 0.0};
  snprintf(node.name, sizeof node.name, "%s", name);
  return add_node(b, node, in.c, in.h, in.w);
}

static int add(builder *b, const char *name, int input, int residual) {
  clrn_value in = shape(b, input);
  clrn_node node = {.kind = CLRN_NODE_ADD,
                    .inputs = {input, residual},
                    .in_channels = in.c,
                    .out_channels = in.c};
  snprintf(node.name, sizeof node.name, "%s", name);
  return add_node(b, node, in.c, in.h, in.w);
}

/* One BasicBlock or Bottleneck, torchvision's forward() order. Keras' v1
 * Bottleneck (keras.applications' block1) has the same layers with the stride on
 * its first 1x1 conv; its 'same' 3x3 conv at stride 1 pads 1 on every side. */
static int block(builder *b, const clrn_arch_spec *spec, int stage, int index, int input,
                 int planes, int stride) {
  char p[32], n[48];
  snprintf(p, sizeof p, "layer%d.%d", stage, index);
  int in_channels = shape(b, input).c;
  int out_channels = planes * spec->expansion;
  /* The main path: conv{i} -> bn{i} [-> relu{i}], every layer but the last with
   * a ReLU. BasicBlock: 3x3 (the stride), 3x3, planes wide. Bottleneck: 1x1,
   * 3x3 (the stride and the groups), both width wide, then 1x1 expanding to
   * out_channels. */
  typedef struct layer {
    int kernel;
    bool strided, expands;
  } layer;
  static const layer basic[] = {{3, true, false}, {3, false, false}};
  static const layer bottleneck[] = {{1, false, false}, {3, true, false}, {1, false, true}};
  static const layer bottleneck_v1[] = {{1, true, false}, {3, false, false}, {1, false, true}};
  bool bottle = spec->block == CLRN_BLOCK_BOTTLENECK;
  int width = bottle ? clrn_arch_width(spec, planes) : planes;
  const layer *layers = !bottle ? basic : spec->keras_v1 ? bottleneck_v1 : bottleneck;
  int count = bottle ? 3 : 2;
  int x = input;
  for (int i = 0; i < count; i++) {
    int kernel = layers[i].kernel;
    snprintf(n, sizeof n, "%s.conv%d", p, i + 1);
    int groups = bottle && kernel == 3 ? spec->groups : 1;
    x = conv(b, n, x, layers[i].expands ? out_channels : width, kernel,
             layers[i].strided ? stride : 1, kernel / 2, groups, 0);
    snprintf(n, sizeof n, "%s.bn%d", p, i + 1);
    x = same_shape(b, CLRN_NODE_BATCHNORM, n, x, 0);
    if (i + 1 < count) {
      snprintf(n, sizeof n, "%s.relu%d", p, i + 1);
      x = same_shape(b, CLRN_NODE_RELU, n, x, 0);
    }
  }
  int identity = input;
  if (index == 0 && (stride != 1 || in_channels != out_channels)) {
    snprintf(n, sizeof n, "%s.downsample.0", p);
    identity = conv(b, n, input, out_channels, 1, stride, 0, 1, 1);
    snprintf(n, sizeof n, "%s.downsample.1", p);
    identity = same_shape(b, CLRN_NODE_BATCHNORM, n, identity, 1);
  }
  snprintf(n, sizeof n, "%s.add", p);
  x = add(b, n, x, identity);
  snprintf(n, sizeof n, "%s.relu", p);
  return same_shape(b, CLRN_NODE_RELU, n, x, 0);
}

clrn_status clrn_graph_build(clrn_arch arch, int num_classes, int height, int width,
                             clrn_graph *graph) {
  memset(graph, 0, sizeof *graph);
  const clrn_arch_spec *spec = clrn_arch_spec_of(arch);
  if (!spec)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "unknown architecture %d", (int)arch);
  if (num_classes < 1)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "num_classes %d must be at least 1",
                     num_classes);
  if (height < 1 || width < 1 || height > MAX_IMAGE_SIDE || width > MAX_IMAGE_SIDE)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "input size %dx%d is outside 1..%d", height,
                     width, MAX_IMAGE_SIDE);
  graph->arch = arch;
  graph->num_classes = num_classes;
  builder b = {graph,
               0,
               0,
               CLRN_STATUS_SUCCESS,
               spec->keras_v1,
               spec->keras_v1 ? CLRN_KERAS_BATCHNORM_EPS : CLRN_BATCHNORM_EPS};
  int x = add_value(&b, 3, height, width);
  graph->input = x;
  x = conv(&b, "conv1", x, 64, 7, 2, 3, 1, 0);
  x = same_shape(&b, CLRN_NODE_BATCHNORM, "bn1", x, 0);
  x = same_shape(&b, CLRN_NODE_RELU, "relu", x, 0);
  clrn_value in = shape(&b, x);
  clrn_node pool = {.kind = CLRN_NODE_MAXPOOL,
                    .inputs = {x, -1},
                    .in_channels = in.c,
                    .out_channels = in.c,
                    .kernel = 3,
                    .stride = 2,
                    .pad = 1};
  snprintf(pool.name, sizeof pool.name, "maxpool");
  x = add_node(&b, pool, in.c, (in.h + 2 - 3) / 2 + 1, (in.w + 2 - 3) / 2 + 1);
  for (int stage = 0; stage < 4; stage++) {
    int planes = 64 << stage;
    for (int i = 0; i < spec->blocks[stage]; i++)
      x = block(&b, spec, stage + 1, i, x, planes, i == 0 && stage > 0 ? 2 : 1);
  }
  in = shape(&b, x);
  clrn_node avg = {
      .kind = CLRN_NODE_AVGPOOL, .inputs = {x, -1}, .in_channels = in.c, .out_channels = in.c};
  snprintf(avg.name, sizeof avg.name, "avgpool");
  x = add_node(&b, avg, in.c, 1, 1);
  clrn_node fc = {.kind = CLRN_NODE_LINEAR,
                  .inputs = {x, -1},
                  .in_channels = in.c,
                  .out_channels = num_classes};
  snprintf(fc.name, sizeof fc.name, "fc");
  x = add_node(&b, fc, num_classes, 1, 1);
  graph->output = x;
  if (b.status != CLRN_STATUS_SUCCESS)
    clrn_graph_free(graph);
  return b.status;
}

void clrn_graph_free(clrn_graph *graph) {
  free(graph->nodes);
  free(graph->values);
  memset(graph, 0, sizeof *graph);
}

double clrn_graph_node_macs(const clrn_graph *graph, const clrn_node *node) {
  const clrn_value *out = &graph->values[node->output];
  switch (node->kind) {
  case CLRN_NODE_CONV:
    return (double)out->c * out->h * out->w * (node->in_channels / node->groups) * node->kernel *
           node->kernel;
  case CLRN_NODE_LINEAR: return (double)node->in_channels * node->out_channels;
  default: return 0.0;
  }
}
