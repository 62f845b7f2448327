/* conv2d internals: the launches of the Winograd variant (kernels/conv2d_winograd.cl):
 * input transform, batched GEMM and output transform with the fused epilogue, through
 * a workspace holding the transformed tiles (the convolution's own scratch, grown on
 * demand, or one the caller lends, as for the padded input of conv2d_pad.h). Used by
 * conv2d.c only, which checks every argument first. */
#ifndef CLRN_OPS_CONV2D_WINOGRAD_H
#define CLRN_OPS_CONV2D_WINOGRAD_H

#include "ops/conv2d_pad.h"
#include "plan/conv2d_pack.h"

/** The three kernels, their work-group sizes and the workspace. */
typedef struct clrn_conv2d_wino {
  clrn_kernel *input, *gemm, *output; /**< the context's kernels */
  size_t local_transform, local_gemm; /**< work-group sizes along dimension 0 */
  clrn_conv2d_pad scratch;            /**< the workspace (its kernel unused) */
} clrn_conv2d_wino;

/** Finds the kernels of config's tile for wino (zeroed by the caller). */
clrn_status clrn_conv2d_wino_init(clrn_conv2d_wino *wino, clrn_context *context,
                                  const clrn_conv2d_config *config);

/** Workspace bytes for n images of an out_h x out_w output. */
size_t clrn_conv2d_wino_workspace(const clrn_conv_shape *shape, const clrn_conv2d_config *config,
                                  int n, int out_h, int out_w);

/** Enqueues the three launches for input (pad_h x pad_w zero padding, the
 * shape's) into output, with weight and epilogue packed by
 * clrn_conv2d_winograd_pack and the epilogue flags (clrn_abi.h); *event (when not
 * NULL) receives the last launch's event, *first the first's (both the caller's
 * to release). */
clrn_status clrn_conv2d_wino_enqueue(clrn_conv2d_wino *wino, cl_command_queue queue,
                                     const clrn_conv_shape *shape, const clrn_conv2d_config *config,
                                     cl_mem weight, cl_mem epilogue, const clrn_tensor *input,
                                     const clrn_tensor *residual, const clrn_tensor *output,
                                     int flags, cl_uint num_wait, const cl_event *wait,
                                     cl_event *first, cl_event *event);

/** Releases the workspace and the recorded event. */
void clrn_conv2d_wino_release(clrn_conv2d_wino *wino);

#endif
