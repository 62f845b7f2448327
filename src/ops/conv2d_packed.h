/* conv2d internals: a convolution op object made from weights already packed for
 * its variant (plan/conv2d_pack.h). The scheduler instantiates a plan's
 * convolution steps with it on each device: upload only, no folding or packing.
 * Unchecked: the plan made desc, config and packed consistent. */
#ifndef CLRN_OPS_CONV2D_PACKED_H
#define CLRN_OPS_CONV2D_PACKED_H

#include "clresnet/ops.h"
#include "plan/conv2d_pack.h"

/** Creates a convolution of shape desc (its variant is config's) on context from
 * packed's arrays, which are copied to the device and may be freed afterwards. */
clrn_status clrn_conv2d_create_packed(clrn_context *context, const clrn_conv2d_desc *desc,
                                      const clrn_conv2d_config *config,
                                      const clrn_conv2d_packed *packed, clrn_conv2d **conv);

#endif
