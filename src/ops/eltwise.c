/* Elementwise ops: ReLU and the residual add with optional ReLU (kernels/eltwise.cl).
 * Stateless: the kernels come from the context's cache, whose launch lock lets any
 * thread call them. One work-item per element, ELTWISE_WG work-items per group. */
#include "base/error.h"
#include "ops/op_launch.h"
#include "ops/ops_internal.h"
#include "runtime/tuning.h"

/* Runs an eltwise kernel over n elements; args are its arguments. */
static clrn_status launch(clrn_context *context, bool half, cl_command_queue queue,
                          const char *name, const clrn_op_arg *args, size_t arg_count, size_t n,
                          cl_uint num_wait, const cl_event *wait, cl_event *event) {
  clrn_kernel *kernel = NULL;
  CLRN_TRY(clrn_kernel_get(context, "eltwise", clrn_op_defines(half), name, &kernel));
  size_t local = clrn_op_local_size(
      context, kernel, clrn_context_tuning_value(context, CLRN_TUNING_ELTWISE_WG), false);
  return clrn_op_launch(kernel, queue, args, arg_count, 1, &n, &local, num_wait, wait, event);
}

clrn_status clrn_relu_launch(clrn_context *context, bool half, cl_command_queue queue,
                             const clrn_tensor *input, const clrn_tensor *output, cl_uint num_wait,
                             const cl_event *wait, cl_event *event) {
  cl_uint n = (cl_uint)clrn_op_elements(input);
  const clrn_op_arg args[] = {CLRN_ARG(input->buffer), CLRN_ARG(output->buffer), CLRN_ARG(n)};
  return launch(context, half, queue, "relu_f32", args, 3, n, num_wait, wait, event);
}

clrn_status clrn_relu_enqueue(clrn_context *context, cl_command_queue queue,
                              const clrn_tensor *input, const clrn_tensor *output, cl_uint num_wait,
                              const cl_event *wait, cl_event *event) {
  static const char op[] = "clrn_relu_enqueue";
  CLRN_TRY(clrn_op_check_same_io(op, context, queue, input, output, num_wait, wait));
  return clrn_relu_launch(context, false, queue, input, output, num_wait, wait, event);
}

clrn_status clrn_add_launch(clrn_context *context, bool half, cl_command_queue queue,
                            const clrn_tensor *a, const clrn_tensor *b, const clrn_tensor *output,
                            bool relu, cl_uint num_wait, const cl_event *wait, cl_event *event) {
  cl_uint n = (cl_uint)clrn_op_elements(a);
  cl_int apply_relu = relu ? 1 : 0;
  const clrn_op_arg args[] = {CLRN_ARG(a->buffer), CLRN_ARG(b->buffer), CLRN_ARG(output->buffer),
                              CLRN_ARG(n), CLRN_ARG(apply_relu)};
  return launch(context, half, queue, "add_f32", args, 5, n, num_wait, wait, event);
}

clrn_status clrn_add_enqueue(clrn_context *context, cl_command_queue queue, const clrn_tensor *a,
                             const clrn_tensor *b, const clrn_tensor *output, bool relu,
                             cl_uint num_wait, const cl_event *wait, cl_event *event) {
  static const char op[] = "clrn_add_enqueue";
  CLRN_TRY(clrn_op_check_call(op, context, queue, num_wait, wait));
  CLRN_TRY(clrn_op_check_tensor(op, "a", a));
  CLRN_TRY(clrn_op_check_tensor(op, "b", b));
  CLRN_TRY(clrn_op_check_tensor(op, "output", output));
  CLRN_TRY(clrn_op_check_same_shape(op, "a", a, "b", b));
  CLRN_TRY(clrn_op_check_same_shape(op, "a", a, "output", output));
  return clrn_add_launch(context, false, queue, a, b, output, relu, num_wait, wait, event);
}
