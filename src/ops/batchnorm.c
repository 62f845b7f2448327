/* Inference BatchNorm as a standalone op (kernels/batchnorm.cl): the unfused path of
 * the network, and the judge of the conv epilogue that folds BatchNorm away.
 *
 * create folds the statistics into a per-channel scale and shift in double precision
 * and uploads them once; enqueue launches one work-item per element, BN_WG of them
 * per group along the pixels of a plane. */
#include <math.h>
#include <stdlib.h>

#include "base/error.h"
#include "ops/op_launch.h"
#include "ops/ops_internal.h"
#include "runtime/tuning.h"

struct clrn_batchnorm {
  clrn_context *context;
  int channels;
  cl_mem scale, shift;
  clrn_kernel *kernel; /* the context's */
};

static const char kernel_name[] = "batchnorm_f32";

clrn_status clrn_batchnorm_create(clrn_context *context, int channels, const float *mean,
                                  const float *var, const float *weight, const float *bias,
                                  float eps, clrn_batchnorm **out) {
  static const char op[] = "clrn_batchnorm_create";
  if (!out)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: NULL result pointer", op);
  *out = NULL;
  if (!context || !mean || !var)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: NULL context, mean or var", op);
  if (channels < 1)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: %d channels", op, channels);
  if (!(eps >= 0.0f) || isinf(eps))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: eps %g is not a finite value >= 0", op,
                     (double)eps);
  clrn_status status = CLRN_STATUS_SUCCESS;
  float *folded = malloc(2 * (size_t)channels * sizeof *folded);
  clrn_batchnorm *bn = calloc(1, sizeof *bn);
  if (!folded || !bn) {
    status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: %d channels", op, channels);
    goto fail;
  }
  bn->context = context;
  bn->channels = channels;
  for (int c = 0; c < channels; c++) {
    double denominator = (double)var[c] + (double)eps;
    if (!(denominator > 0.0) || isinf(denominator)) {
      status = clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                         "%s: channel %d has var %g + eps %g, which is not positive and finite", op,
                         c, (double)var[c], (double)eps);
      goto fail;
    }
    double scale = (weight ? (double)weight[c] : 1.0) / sqrt(denominator);
    folded[c] = (float)scale;
    folded[channels + c] = (float)((bias ? (double)bias[c] : 0.0) - (double)mean[c] * scale);
  }
  size_t bytes = (size_t)channels * sizeof(float);
  CLRN_GOTO(clrn_buffer_create(context, CL_MEM_READ_ONLY, bytes, folded, &bn->scale), fail, status);
  CLRN_GOTO(clrn_buffer_create(context, CL_MEM_READ_ONLY, bytes, folded + channels, &bn->shift),
            fail, status);
  CLRN_GOTO(clrn_kernel_get(context, "batchnorm", NULL, kernel_name, &bn->kernel), fail, status);
  free(folded);
  *out = bn;
  return CLRN_STATUS_SUCCESS;
fail:
  free(folded);
  clrn_batchnorm_release(bn);
  return status;
}

clrn_status clrn_batchnorm_store_half(clrn_batchnorm *bn) {
  return clrn_kernel_get(bn->context, "batchnorm", clrn_op_defines(true), kernel_name, &bn->kernel);
}

clrn_status clrn_batchnorm_launch(clrn_batchnorm *bn, cl_command_queue queue,
                                  const clrn_tensor *input, const clrn_tensor *output,
                                  cl_uint num_wait, const cl_event *wait, cl_event *event) {
  cl_uint hw = (cl_uint)input->h * (cl_uint)input->w;
  cl_uint channels = (cl_uint)bn->channels;
  size_t local[2] = {1, 1};
  local[0] = clrn_op_local_size(bn->context, bn->kernel,
                                clrn_context_tuning_value(bn->context, CLRN_TUNING_BN_WG), false);
  /* Small planes (7x7 in ResNet's last stage) would leave most of a wide group idle. */
  local[0] = clrn_op_pow2_at_least(hw, local[0]);
  size_t global[2] = {hw, (size_t)input->n * (size_t)input->c};
  return clrn_op_launch(bn->kernel, queue,
                        CLRN_OP_ARGS(CLRN_ARG(input->buffer), CLRN_ARG(output->buffer),
                                     CLRN_ARG(bn->scale), CLRN_ARG(bn->shift), CLRN_ARG(hw),
                                     CLRN_ARG(channels)),
                        2, global, local, num_wait, wait, event);
}

clrn_status clrn_batchnorm_enqueue(clrn_batchnorm *bn, cl_command_queue queue,
                                   const clrn_tensor *input, const clrn_tensor *output,
                                   cl_uint num_wait, const cl_event *wait, cl_event *event) {
  static const char op[] = "clrn_batchnorm_enqueue";
  if (!bn)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: NULL batchnorm", op);
  CLRN_TRY(clrn_op_check_same_io(op, bn->context, queue, input, output, num_wait, wait));
  if (input->c != bn->channels)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: input has %d channels, the op has %d", op,
                     input->c, bn->channels);
  return clrn_batchnorm_launch(bn, queue, input, output, num_wait, wait, event);
}

void clrn_batchnorm_release(clrn_batchnorm *bn) {
  if (!bn)
    return;
  if (bn->scale)
    clReleaseMemObject(bn->scale);
  if (bn->shift)
    clReleaseMemObject(bn->shift);
  free(bn);
}
