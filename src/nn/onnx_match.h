/* Binding an ONNX model to a torchvision architecture (nn/onnx_match.c). */
#ifndef CLRN_NN_ONNX_MATCH_H
#define CLRN_NN_ONNX_MATCH_H

#include "weights/weights.h"

/** For an ONNX model opened as weights (weights->is_onnx): reads its graph as
 * layers (nn/onnx_layers.h), finds the torchvision ResNet whose graph it is node for
 * node (in the form the file has: BatchNorm kept, or folded into biased
 * convolutions as torch.onnx exports in eval mode), registers the initializers
 * under torchvision's state_dict names (zero biases where a convolution or the
 * linear layer has none; MatMul weights transposed) with each BatchNorm's epsilon,
 * and sets weights->batchnorm_folded and weights->conv_bias. The architecture goes
 * to *arch. An unsupported node is refused naming it (op type and name); a graph
 * of supported nodes that is no ResNet, naming the closest architecture and where
 * it departs from it. */
clrn_status clrn_onnx_bind(clrn_weights *weights, clrn_arch *arch);

#endif
