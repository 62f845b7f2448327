/* Softmax over channels (kernels/softmax.cl), numerically stable. Positions with
 * one pixel and at least SOFTMAX_GROUP_MIN_C channels (the classifier's rows) are
 * reduced by a work-group of SOFTMAX_WG work-items each; everything else runs one
 * work-item per position, SOFTMAX_WG per group. */
#include "base/error.h"
#include "ops/op_launch.h"
#include "runtime/tuning.h"

clrn_status clrn_softmax_enqueue(clrn_context *context, cl_command_queue queue,
                                 const clrn_tensor *input, const clrn_tensor *output,
                                 cl_uint num_wait, const cl_event *wait, cl_event *event) {
  static const char op[] = "clrn_softmax_enqueue";
  CLRN_TRY(clrn_op_check_call(op, context, queue, num_wait, wait));
  CLRN_TRY(clrn_op_check_tensor(op, "input", input));
  CLRN_TRY(clrn_op_check_tensor(op, "output", output));
  CLRN_TRY(clrn_op_check_same_shape(op, "input", input, "output", output));
  cl_uint channels = (cl_uint)input->c;
  cl_uint hw = (cl_uint)input->h * (cl_uint)input->w;
  bool group = hw == 1 && channels >= (cl_uint)clrn_context_tuning_value(
                                          context, CLRN_TUNING_SOFTMAX_GROUP_MIN_C);
  const char *name = group ? "softmax_group_f32" : "softmax_f32";
  cl_kernel kernel = NULL;
  size_t local[3] = {1, 1, 1};
  clrn_status status = CLRN_STATUS_SUCCESS;
  CLRN_GOTO(clrn_context_kernel(context, "softmax", name, &kernel), done, status);
  CLRN_GOTO(clrn_op_local_size(context, kernel, name,
                               clrn_context_tuning_value(context, CLRN_TUNING_SOFTMAX_WG), group,
                               &local[0]),
            done, status);
  size_t global[3] = {hw, (size_t)input->n, 1};
  cl_uint dims = 2;
  if (group) {
    local[0] = clrn_op_pow2_at_least(channels, local[0]);
    global[0] = local[0];
    global[1] = hw;
    global[2] = (size_t)input->n;
    dims = 3;
    CLRN_GOTO(CLRN_OP_SET_ARGS(kernel, name, CLRN_ARG(input->buffer), CLRN_ARG(output->buffer),
                               CLRN_ARG(channels), CLRN_ARG(hw),
                               CLRN_ARG_LOCAL(local[0] * sizeof(float))),
              done, status);
  } else {
    local[0] = clrn_op_pow2_at_least(hw, local[0]);
    CLRN_GOTO(CLRN_OP_SET_ARGS(kernel, name, CLRN_ARG(input->buffer), CLRN_ARG(output->buffer),
                               CLRN_ARG(channels), CLRN_ARG(hw)),
              done, status);
  }
  CLRN_GOTO(clrn_op_enqueue(queue, kernel, name, dims, global, local, num_wait, wait, event), done,
            status);
done:
  if (kernel)
    clReleaseKernel(kernel);
  return status;
}
