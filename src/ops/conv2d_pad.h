/* conv2d internals: the zero-padded copy of a convolution's input that the
 * blocked kernel reads, so that its inner loop needs no border checks.
 *
 * The copy lives in a scratch buffer owned by the convolution, grown on demand
 * and kept between enqueues, or in a workspace the caller lends (shared by the
 * convolutions of a model, clrn_conv2d_set_workspace()). The padding launch waits for the last
 * launch that read the scratch (besides the caller's wait list), so enqueues of one convolution on
 * different queues cannot overwrite a scratch still being read; on one in-order queue that wait
 * costs nothing. Used by conv2d.c only. */
#ifndef CLRN_OPS_CONV2D_PAD_H
#define CLRN_OPS_CONV2D_PAD_H

#include "clresnet/ops.h"
#include "runtime/kernel_cache.h"

/** The padding kernel, its scratch buffer and the last launch that read it. */
typedef struct clrn_conv2d_pad {
  clrn_context *context;
  clrn_kernel *kernel; /**< conv2d_pad of kernels/conv2d.cl (the context's) */
  size_t local0;       /**< its work-group size along dimension 0 */
  cl_mem scratch;      /**< the padded input (NULL until the first enqueue) */
  size_t bytes;        /**< size of scratch */
  cl_event busy;       /**< the last launch that read scratch, or NULL */
  bool lent;           /**< scratch is a workspace lent by the caller: never grown */
  size_t element;      /**< bytes per element: 4, or 2 for half storage */
} clrn_conv2d_pad;

/** Finds the padding kernel for pad (zeroed by the caller). */
clrn_status clrn_conv2d_pad_init(clrn_conv2d_pad *pad, clrn_context *context);

/** clrn_conv2d_pad_init for tensors stored as half (half true: the kernel built
 * with -DCLRN_HALF_STORAGE, 2-byte elements) or float. */
clrn_status clrn_conv2d_pad_init_storage(clrn_conv2d_pad *pad, clrn_context *context, bool half);

/** Enqueues the copy of input, pad_h rows and pad_w columns of zeros before it,
 * into the scratch buffer as planes of padded_h x padded_w (zeros after the input
 * where those are larger), after the wait list and the scratch's last reader.
 * step_h and step_w (1: every row and column) subsample the input: the copy's
 * pixel (y, x) is the input's (y * step_h - pad_h, x * step_w - pad_w).
 * *done receives the copy's event. */
clrn_status clrn_conv2d_pad_enqueue(clrn_conv2d_pad *pad, cl_command_queue queue,
                                    const clrn_tensor *input, int pad_h, int pad_w, int padded_h,
                                    int padded_w, int step_h, int step_w, cl_uint num_wait,
                                    const cl_event *wait, cl_event *done);

/** Makes the scratch at least bytes long (growing the convolution's own; a lent
 * workspace that is too small fails). For users of the scratch other than the
 * padding launch (conv2d_winograd.c), which set pad->context only. */
clrn_status clrn_conv2d_pad_reserve(clrn_conv2d_pad *pad, size_t bytes);

/** The wait list of a launch that writes the scratch: wait and the scratch's last
 * reader. *all receives a list to free (or NULL); *num_wait and *wait are updated. */
clrn_status clrn_conv2d_pad_waits(const clrn_conv2d_pad *pad, cl_uint *num_wait,
                                  const cl_event **wait, cl_event **all);

/** Uses buffer (bytes long, retained here) as the scratch from now on instead of
 * one of the convolution's own. */
void clrn_conv2d_pad_lend(clrn_conv2d_pad *pad, cl_mem buffer, size_t bytes);

/** Records reader (retained) as the last launch that reads the scratch. */
void clrn_conv2d_pad_used(clrn_conv2d_pad *pad, cl_event reader);

/** Releases the scratch buffer and the recorded event. */
void clrn_conv2d_pad_release(clrn_conv2d_pad *pad);

#endif
