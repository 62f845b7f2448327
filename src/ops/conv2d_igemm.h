/* conv2d internals for the implicit-GEMM variant (kernels/conv2d_igemm.cl): the
 * checks that the device can run its fixed work-group and local-memory tiles, and
 * its launch grid. conv2d.c calls them; the weight layout is plan/conv2d_pack.c's. */
#ifndef CLRN_OPS_CONV2D_IGEMM_H
#define CLRN_OPS_CONV2D_IGEMM_H

#include <stddef.h>

#include "plan/conv2d_pack.h"
#include "runtime/kernel_cache.h"

/** Checks that kernel (built from config's tile sizes) runs on context's device:
 * the work-group of config->work_group work-items the kernel requires, its two
 * double-buffered tiles in local memory, and a packed weight of weight_count
 * floats that int offsets reach. Fails with CLRN_STATUS_UNSUPPORTED and a message
 * naming the tuning values otherwise. */
clrn_status clrn_conv2d_igemm_check(const clrn_context *context, const clrn_kernel *kernel,
                                    const clrn_conv2d_config *config, size_t weight_count);

/** Bytes of the kernel's two __local arguments after CLRN_CONV2D_ARGS: the
 * double-buffered A tiles (2 x IGEMM_BK x IGEMM_BM floats) and B tiles
 * (2 x IGEMM_BK x IGEMM_BN). */
void clrn_conv2d_igemm_local_bytes(const clrn_conv2d_config *config, size_t bytes[2]);

/** The launch grid of a convolution with groups groups over pixels output pixels
 * (the batch's): dimension 0 one work-group per IGEMM_BN pixels, dimension 1 one
 * work-group row per output-channel block of every group. */
void clrn_conv2d_igemm_grid(const clrn_conv2d_config *config, int groups, int pixels,
                            size_t global[2], size_t local[2]);

#endif
