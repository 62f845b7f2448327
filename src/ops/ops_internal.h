/* The unchecked launchers behind the public op API (clresnet/ops.h), for the
 * scheduler (src/sched/exec.c), which builds every tensor from a plan it has
 * already checked. Each public enqueue function validates its arguments, then
 * calls the launcher here; a launcher trusts its caller and queries nothing from
 * OpenCL: same arguments, same meaning, but the context, queue, wait list and
 * tensors must be what the public function would accept (shapes that agree, live
 * buffers of the op's context, large enough).
 *
 * The scheduler also runs models whose activations are stored as half
 * (CLRN_PRECISION_FP16): the stateless launchers take half (true: every tensor
 * but the linear layer's output is half, the kernels built with -DCLRN_HALF_STORAGE), and
 * the op objects are switched to half storage once, after create. The public API
 * is float32 only and passes false. */
#ifndef CLRN_OPS_OPS_INTERNAL_H
#define CLRN_OPS_OPS_INTERNAL_H

#include "clresnet/ops.h"

/** clrn_conv2d_enqueue without the checks. */
clrn_status clrn_conv2d_launch(clrn_conv2d *conv, cl_command_queue queue, const clrn_tensor *input,
                               const clrn_tensor *residual, const clrn_tensor *output,
                               cl_uint num_wait, const cl_event *wait, cl_event *event);

/** The first command of the convolution's last enqueue when it took several (the
 * padding copy, Winograd's input transform), else NULL: profiles time the step from
 * its start. Owned by the convolution; valid until its next enqueue. */
cl_event clrn_conv2d_first_event(const clrn_conv2d *conv);

/** Makes a BatchNorm read and write half tensors (its scale and shift stay float). */
clrn_status clrn_batchnorm_store_half(clrn_batchnorm *batchnorm);

/** Makes a linear layer read a half input (through clresnet's own kernel, never
 * CLBlast; weight, bias and output stay float). */
clrn_status clrn_linear_store_half(clrn_linear *linear);

/** clrn_batchnorm_enqueue without the checks. */
clrn_status clrn_batchnorm_launch(clrn_batchnorm *batchnorm, cl_command_queue queue,
                                  const clrn_tensor *input, const clrn_tensor *output,
                                  cl_uint num_wait, const cl_event *wait, cl_event *event);

/** clrn_relu_enqueue without the checks. */
clrn_status clrn_relu_launch(clrn_context *context, bool half, cl_command_queue queue,
                             const clrn_tensor *input, const clrn_tensor *output, cl_uint num_wait,
                             const cl_event *wait, cl_event *event);

/** clrn_add_enqueue without the checks. */
clrn_status clrn_add_launch(clrn_context *context, bool half, cl_command_queue queue,
                            const clrn_tensor *a, const clrn_tensor *b, const clrn_tensor *output,
                            bool relu, cl_uint num_wait, const cl_event *wait, cl_event *event);

/** clrn_maxpool2d_enqueue without the checks. */
clrn_status clrn_maxpool2d_launch(clrn_context *context, bool half, cl_command_queue queue,
                                  const clrn_pool2d_desc *desc, const clrn_tensor *input,
                                  const clrn_tensor *output, cl_uint num_wait, const cl_event *wait,
                                  cl_event *event);

/** clrn_avgpool2d_enqueue without the checks. */
clrn_status clrn_avgpool2d_launch(clrn_context *context, bool half, cl_command_queue queue,
                                  const clrn_pool2d_desc *desc, const clrn_tensor *input,
                                  const clrn_tensor *output, cl_uint num_wait, const cl_event *wait,
                                  cl_event *event);

/** clrn_adaptive_avgpool2d_enqueue without the checks. */
clrn_status clrn_adaptive_avgpool2d_launch(clrn_context *context, bool half, cl_command_queue queue,
                                           const clrn_tensor *input, const clrn_tensor *output,
                                           cl_uint num_wait, const cl_event *wait, cl_event *event);

/** clrn_linear_enqueue without the checks. */
clrn_status clrn_linear_launch(clrn_linear *linear, cl_command_queue queue,
                               const clrn_tensor *input, const clrn_tensor *output,
                               cl_uint num_wait, const cl_event *wait, cl_event *event);

/** What a linear launch of batch rows runs: "linear_rows" (clresnet's kernel, with
 * LINEAR_OWN), "sgemv" (CLBlast, up to LINEAR_GEMV_MAX_BATCH rows) or "sgemm". */
const char *clrn_linear_kernel_name(const clrn_linear *linear, int batch);

/** clrn_softmax_enqueue without the checks. */
clrn_status clrn_softmax_launch(clrn_context *context, cl_command_queue queue,
                                const clrn_tensor *input, const clrn_tensor *output,
                                cl_uint num_wait, const cl_event *wait, cl_event *event);

#endif
