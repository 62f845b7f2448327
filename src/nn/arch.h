/* The ResNet architectures as data: block type and blocks per stage, exactly as
 * torchvision's resnet18 ... resnet152 constructors define them. */
#ifndef CLRN_NN_ARCH_H
#define CLRN_NN_ARCH_H

#include "clresnet/weights.h"

typedef enum clrn_block_kind {
  CLRN_BLOCK_BASIC,      /**< two 3x3 convolutions, expansion 1 */
  CLRN_BLOCK_BOTTLENECK, /**< 1x1, 3x3 (with the stride), 1x1; expansion 4 */
} clrn_block_kind;

typedef struct clrn_arch_spec {
  clrn_arch arch;
  const char *name;
  clrn_block_kind block;
  int expansion;
  int blocks[4];
} clrn_arch_spec;

/** The spec of an architecture, or NULL for CLRN_ARCH_AUTO / unknown values. */
const clrn_arch_spec *clrn_arch_spec_of(clrn_arch arch);

/** All five specs, in order resnet18 ... resnet152. */
const clrn_arch_spec *clrn_arch_specs(size_t *count);

#endif
