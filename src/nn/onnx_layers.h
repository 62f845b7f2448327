/* An ONNX graph read as a network of the layers clresnet has (internal to
 * nn/onnx_*.c): each node of the graph, in its order, is checked (op type, domain,
 * attributes, which inputs are constants) and becomes a layer (Conv, BatchNorm,
 * Relu, Add, MaxPool, average pooling, a linear layer from Gemm or MatMul+Add) or
 * plumbing that produces no layer (Identity, Constant, Flatten, Reshape to
 * [batch, features]). Values are numbered; constants (initializers, Constant
 * nodes, Identity of a constant) are kept as the TensorProto that holds them. The
 * first node that is none of these is refused, named with its op type. */
#ifndef CLRN_NN_ONNX_LAYERS_H
#define CLRN_NN_ONNX_LAYERS_H

#include <stdbool.h>
#include <stddef.h>

#include "nn/graph.h"
#include "onnx.pb-c.h"

/* Bounds on what a graph may hold before it is even looked at. */
#define CLRN_ONNX_MAX_NODES 20000
#define CLRN_ONNX_MAX_INITIALIZERS 20000

typedef struct clrn_onnx_layer {
  clrn_node_kind kind;
  const char *name; /**< the node's name (or its first output's) */
  const char *op;   /**< the node's op type */
  int inputs[2];    /**< value numbers; inputs[1] -1 except for ADD */
  int output;
  int kernel, stride, pad, groups; /**< CONV, MAXPOOL; AVGPOOL kernel (0: global) */
  int out_channels, in_channels;   /**< CONV (in per group), BATCHNORM, LINEAR */
  /** CONV: weight, bias; BATCHNORM: scale, B, mean, var; LINEAR: weight, bias. */
  const Onnx__TensorProto *tensors[4];
  bool transpose; /**< LINEAR: weight stored [in, out] */
  double eps;     /**< BATCHNORM */
} clrn_onnx_layer;

typedef struct clrn_onnx_net {
  clrn_onnx_layer *layers;
  size_t count;
  int value_count;
  int input, output; /**< value numbers of the image and the logits */
  int height, width; /**< the input's spatial size when the graph fixes it, else 0 */
  int conv_biases;   /**< convolutions with a bias */
  int batchnorms;    /**< BatchNormalization nodes */
} clrn_onnx_net;

/** Reads model's graph as layers; path names the file in errors. */
clrn_status clrn_onnx_net_read(const Onnx__ModelProto *model, const char *path, clrn_onnx_net *net);

/** Frees the layers. */
void clrn_onnx_net_free(clrn_onnx_net *net);

#endif
