/* The ResNet architectures as data: block type, blocks per stage, and the
 * Bottleneck's groups and width per group, exactly as torchvision's resnet18 ...
 * resnet152, resnext* and wide_resnet* constructors define them, plus Keras'
 * ResNet50 (keras.applications, ResNet v1). */
#ifndef CLRN_NN_ARCH_H
#define CLRN_NN_ARCH_H

#include <stdbool.h>

#include "clresnet/weights.h"

typedef enum clrn_block_kind {
  CLRN_BLOCK_BASIC,      /**< two 3x3 convolutions, expansion 1 */
  CLRN_BLOCK_BOTTLENECK, /**< 1x1, 3x3 (with the stride and the groups), 1x1; expansion 4 */
} clrn_block_kind;

typedef struct clrn_arch_spec {
  clrn_arch arch;
  const char *name;
  clrn_block_kind block;
  int expansion;
  int blocks[4];
  int groups;          /**< of a Bottleneck's 3x3 convolution (1 for the plain ResNets) */
  int width_per_group; /**< torchvision's base_width (64 for the plain ResNets) */
  bool keras_v1;       /**< Keras' ResNet v1: the stride on a Bottleneck's first 1x1 conv,
                            a bias on every conv, BatchNorm eps CLRN_KERAS_BATCHNORM_EPS */
} clrn_arch_spec;

/* Keras' BatchNormalization epsilon in keras.applications' ResNets. */
#define CLRN_KERAS_BATCHNORM_EPS 1.001e-5

/** The names clrn_arch_parse accepts, for messages. */
#define CLRN_ARCH_NAMES                                                                            \
  "resnet18, resnet34, resnet50, resnet101, resnet152, resnext50_32x4d, resnext101_32x8d, "        \
  "resnext101_64x4d, wide_resnet50_2, wide_resnet101_2 or keras_resnet50"

/** The spec of an architecture, or NULL for CLRN_ARCH_AUTO / unknown values. */
const clrn_arch_spec *clrn_arch_spec_of(clrn_arch arch);

/** All specs, in the order of the clrn_arch values. */
const clrn_arch_spec *clrn_arch_specs(size_t *count);

/** Channels of the inner (3x3) convolution of a Bottleneck with this many planes:
 * torchvision's int(planes * (base_width / 64.)) * groups. */
int clrn_arch_width(const clrn_arch_spec *spec, int planes);

#endif
