/* conv2d internals: the padded copy of the input for the blocked kernel (see
 * conv2d_pad.h). */
#include "ops/conv2d_pad.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "ops/op_launch.h"

enum { PAD_WORK_GROUP = 64 }; /* conv2d_pad's work-group size, at most */

clrn_status clrn_conv2d_pad_init(clrn_conv2d_pad *pad, clrn_context *context) {
  return clrn_conv2d_pad_init_storage(pad, context, false);
}

clrn_status clrn_conv2d_pad_init_storage(clrn_conv2d_pad *pad, clrn_context *context, bool half) {
  pad->context = context;
  pad->element = half ? 2 : sizeof(float);
  CLRN_TRY(clrn_kernel_get(context, "conv2d", clrn_op_defines(half), "conv2d_pad", &pad->kernel));
  pad->local0 = clrn_op_local_size(context, pad->kernel, PAD_WORK_GROUP, true);
  return CLRN_STATUS_SUCCESS;
}

/* Makes the scratch buffer at least bytes long. A buffer it replaces is freed
 * by OpenCL once the launches that use it have finished. A new buffer starts as
 * zeros copied from the host: the kernels do not need that (conv2d_pad writes
 * all they read), but it happens only when the buffer grows, and it keeps
 * Oclgrind 21.10's uninitialized-value checker right. That checker keeps a freed
 * buffer's state and gives it to the next buffer of the same number unless the
 * host writes the new one (a device-side fill does not count), and then
 * reports what conv2d_pad wrote past the old size as uninitialized. */
clrn_status clrn_conv2d_pad_reserve(clrn_conv2d_pad *pad, size_t bytes) {
  if (pad->scratch && pad->bytes >= bytes)
    return CLRN_STATUS_SUCCESS;
  if (pad->lent)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "conv2d: the scratch needs %zu bytes, the lent workspace has %zu", bytes,
                     pad->bytes);
  if (pad->scratch)
    clReleaseMemObject(pad->scratch);
  pad->scratch = NULL;
  pad->bytes = 0;
  void *zeros = calloc(1, bytes);
  if (!zeros)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "conv2d: %zu bytes of scratch", bytes);
  clrn_status status =
      clrn_buffer_create(pad->context, CL_MEM_READ_WRITE, bytes, zeros, &pad->scratch);
  free(zeros);
  if (status == CLRN_STATUS_SUCCESS)
    pad->bytes = bytes;
  return status;
}

clrn_status clrn_conv2d_pad_enqueue(clrn_conv2d_pad *pad, cl_command_queue queue,
                                    const clrn_tensor *input, int pad_h, int pad_w, int padded_h,
                                    int padded_w, int step_h, int step_w, cl_uint num_wait,
                                    const cl_event *wait, cl_event *done) {
  size_t planes = (size_t)input->n * input->c;
  CLRN_TRY(clrn_conv2d_pad_reserve(pad, planes * padded_h * padded_w * pad->element));
  cl_event *all = NULL;
  CLRN_TRY(clrn_conv2d_pad_waits(pad, &num_wait, &wait, &all));
  size_t local[3] = {pad->local0, 1, 1};
  size_t global[3] = {(size_t)padded_w, (size_t)padded_h, planes};
  clrn_status status = clrn_op_launch(
      pad->kernel, queue,
      CLRN_OP_ARGS(CLRN_ARG(input->buffer), CLRN_ARG(pad->scratch), CLRN_ARG(input->h),
                   CLRN_ARG(input->w), CLRN_ARG(pad_h), CLRN_ARG(pad_w), CLRN_ARG(padded_h),
                   CLRN_ARG(padded_w), CLRN_ARG(step_h), CLRN_ARG(step_w)),
      3, global, local, num_wait, wait, done);
  free(all);
  return status;
}

clrn_status clrn_conv2d_pad_waits(const clrn_conv2d_pad *pad, cl_uint *num_wait,
                                  const cl_event **wait, cl_event **all) {
  *all = NULL;
  if (!pad->busy)
    return CLRN_STATUS_SUCCESS;
  *all = malloc((*num_wait + 1) * sizeof **all);
  if (!*all)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "conv2d: wait list");
  if (*num_wait)
    memcpy(*all, *wait, *num_wait * sizeof **all);
  (*all)[(*num_wait)++] = pad->busy;
  *wait = *all;
  return CLRN_STATUS_SUCCESS;
}

void clrn_conv2d_pad_lend(clrn_conv2d_pad *pad, cl_mem buffer, size_t bytes) {
  clRetainMemObject(buffer);
  if (pad->scratch)
    clReleaseMemObject(pad->scratch);
  pad->scratch = buffer;
  pad->bytes = bytes;
  pad->lent = true;
}

void clrn_conv2d_pad_used(clrn_conv2d_pad *pad, cl_event reader) {
  clRetainEvent(reader);
  if (pad->busy)
    clReleaseEvent(pad->busy);
  pad->busy = reader;
}

void clrn_conv2d_pad_release(clrn_conv2d_pad *pad) {
  if (pad->busy)
    clReleaseEvent(pad->busy);
  if (pad->scratch)
    clReleaseMemObject(pad->scratch);
  memset(pad, 0, sizeof *pad);
}
