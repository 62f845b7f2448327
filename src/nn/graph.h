/* The ResNet graph exactly as torchvision builds it, before any fusion: stem
 * (conv 7x7/2, BN, ReLU, maxpool 3x3/2 pad 1), four stages of BasicBlocks or
 * Bottlenecks made by _make_layer's rule (a stage's first block gets a downsample,
 * 1x1 conv with the stage's stride then BN, when the stride is not 1 or the
 * channel count changes; Bottleneck puts the stride and the groups on its 3x3
 * conv, whose width is int(planes * width_per_group / 64) * groups), adaptive
 * average pooling to 1x1 and fc. Nodes are in execution order; values are the
 * tensors between them, with per-image shapes. Node names are the state_dict
 * module paths ("layer3.2.conv2"), so weights are found by name + ".weight".
 * Keras' ResNet50 (keras.applications, ResNet v1) gets the same graph and names
 * with three differences: the stride sits on a block's first 1x1 conv, every
 * conv has a bias, and BatchNorm's epsilon is 1.001e-5. Its ZeroPadding2D(3) +
 * valid 7x7/2 conv is conv1's pad 3; its ZeroPadding2D(1) + valid 3x3/2 max pool
 * equals the pad-1 max pool because the pool's input is post-ReLU (>= 0) and
 * every window holds a real pixel; the weights reader maps Keras' layer names
 * ("conv2_block1_1_conv") onto these. */
#ifndef CLRN_NN_GRAPH_H
#define CLRN_NN_GRAPH_H

#include <stddef.h>

#include <stdbool.h>

#include "clresnet/weights.h"

typedef enum clrn_node_kind {
  CLRN_NODE_CONV,
  CLRN_NODE_BATCHNORM,
  CLRN_NODE_RELU,
  CLRN_NODE_ADD, /**< inputs[0] + inputs[1] (the residual) */
  CLRN_NODE_MAXPOOL,
  CLRN_NODE_AVGPOOL, /**< adaptive average pooling to 1x1 */
  CLRN_NODE_LINEAR,
} clrn_node_kind;

/** Per-image shape of a value. */
typedef struct clrn_value {
  int c, h, w;
} clrn_value;

/* torchvision's nn.BatchNorm2d epsilon, the default of a graph's BatchNorm nodes. */
#define CLRN_BATCHNORM_EPS 1e-5

typedef struct clrn_node {
  clrn_node_kind kind;
  char name[48]; /**< module path: "conv1", "layer1.0.bn2", "layer2.0.downsample.0", "fc" */
  int inputs[2]; /**< value indices; inputs[1] is -1 except for ADD */
  int output;    /**< value index */
  int branch;    /**< 0 main path, 1 a block's downsample path */
  int in_channels, out_channels; /**< CONV, BATCHNORM (both = channels), LINEAR */
  int kernel, stride, pad;       /**< CONV and MAXPOOL (square) */
  int groups;                    /**< CONV: channel groups (weight [out, in / groups, k, k]) */
  bool bias;                     /**< CONV: has a "<name>.bias" tensor (Keras, folded ONNX) */
  double eps;                    /**< BATCHNORM: the epsilon added to the variance */
} clrn_node;

typedef struct clrn_graph {
  clrn_arch arch;
  int num_classes;
  clrn_node *nodes;
  size_t node_count;
  clrn_value *values;
  size_t value_count;
  int input;  /**< value index of the image, 3 x H x W */
  int output; /**< value index of the logits, num_classes x 1 x 1 */
} clrn_graph;

/** Builds the graph of arch for height x width images. */
clrn_status clrn_graph_build(clrn_arch arch, int num_classes, int height, int width,
                             clrn_graph *graph);

/** Builds the graph of weights' network (architecture and classes) for height x
 * width images, in the form the weights have (graph_form.c): with every
 * convolution biased when weights->conv_bias, without BatchNorm nodes when
 * weights->batchnorm_folded, and each BatchNorm's epsilon as the file states it. */
clrn_status clrn_graph_build_for(const clrn_weights *weights, int height, int width,
                                 clrn_graph *graph);

/** Removes every BatchNorm node (its readers read its input instead) and the
 * values only they produced; for networks whose BatchNorm was folded into the
 * convolutions' weights and biases. */
void clrn_graph_drop_batchnorm(clrn_graph *graph);

/** Frees the graph's arrays. */
void clrn_graph_free(clrn_graph *graph);

/** Multiply-adds of one image through node (convolutions and linear; 0 otherwise). */
double clrn_graph_node_macs(const clrn_graph *graph, const clrn_node *node);

#endif
