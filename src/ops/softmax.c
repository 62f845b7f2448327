/* Softmax over channels (kernels/softmax.cl), numerically stable. Positions with
 * one pixel and at least SOFTMAX_GROUP_MIN_C channels (the classifier's rows) are
 * reduced by a work-group of SOFTMAX_WG work-items each; everything else runs one
 * work-item per position, SOFTMAX_WG per group. */
#include "base/error.h"
#include "ops/op_launch.h"
#include "ops/ops_internal.h"
#include "runtime/tuning.h"

clrn_status clrn_softmax_launch(clrn_context *context, cl_command_queue queue,
                                const clrn_tensor *input, const clrn_tensor *output,
                                cl_uint num_wait, const cl_event *wait, cl_event *event) {
  cl_uint channels = (cl_uint)input->c;
  cl_uint hw = (cl_uint)input->h * (cl_uint)input->w;
  bool group = hw == 1 && channels >= (cl_uint)clrn_context_tuning_value(
                                          context, CLRN_TUNING_SOFTMAX_GROUP_MIN_C);
  const char *name = group ? "softmax_group_f32" : "softmax_f32";
  clrn_kernel *kernel = NULL;
  CLRN_TRY(clrn_kernel_get(context, "softmax", NULL, name, &kernel));
  size_t local[3] = {1, 1, 1};
  local[0] = clrn_op_local_size(context, kernel,
                                clrn_context_tuning_value(context, CLRN_TUNING_SOFTMAX_WG), group);
  size_t global[3] = {hw, (size_t)input->n, 1};
  if (group) {
    local[0] = clrn_op_pow2_at_least(channels, local[0]);
    global[0] = local[0];
    global[1] = hw;
    global[2] = (size_t)input->n;
    return clrn_op_launch(kernel, queue,
                          CLRN_OP_ARGS(CLRN_ARG(input->buffer), CLRN_ARG(output->buffer),
                                       CLRN_ARG(channels), CLRN_ARG(hw),
                                       CLRN_ARG_LOCAL(local[0] * sizeof(float))),
                          3, global, local, num_wait, wait, event);
  }
  local[0] = clrn_op_pow2_at_least(hw, local[0]);
  return clrn_op_launch(kernel, queue,
                        CLRN_OP_ARGS(CLRN_ARG(input->buffer), CLRN_ARG(output->buffer),
                                     CLRN_ARG(channels), CLRN_ARG(hw)),
                        2, global, local, num_wait, wait, event);
}

clrn_status clrn_softmax_enqueue(clrn_context *context, cl_command_queue queue,
                                 const clrn_tensor *input, const clrn_tensor *output,
                                 cl_uint num_wait, const cl_event *wait, cl_event *event) {
  static const char op[] = "clrn_softmax_enqueue";
  CLRN_TRY(clrn_op_check_same_io(op, context, queue, input, output, num_wait, wait));
  return clrn_softmax_launch(context, queue, input, output, num_wait, wait, event);
}
