/* Fully connected layer y = x W^T + b: with LINEAR_OWN through clresnet's own
 * kernel (linear_rows_f32 in kernels/linear.cl: ~10x CLBlast's SGEMM on PoCL at
 * batch 8), else through CLBlast's SGEMM (row-major
 * C[N,out] = X[N,in] * W^T with W stored [out][in] as PyTorch keeps it), or its
 * SGEMV once per sample for batches up to LINEAR_GEMV_MAX_BATCH (default 1; 0 sends
 * every batch through SGEMM): a one-row GEMM wastes CLBlast's tiling (on PoCL, the
 * 2048 -> 1000 classifier takes ~19 ms through SGEMM and ~6 ms through SGEMV).
 *
 * The output is first filled with the bias broadcast (kernels/linear.cl; a layer
 * without bias gets a bias of zeros) and SGEMM adds to it with beta = 1: C never
 * holds garbage that beta = 0 would have to ignore. That first kernel takes the
 * caller's wait list; CLBlast's API takes none, but on the same in-order queue its
 * kernels start only after the fill has. The event returned is CLBlast's last
 * kernel's. (clEnqueueFillBuffer would do for zeros, but Oclgrind 21.10 does not
 * count it as initialising memory and reports every later read.)
 *
 * CLBlast compiles its kernels on the first call per device and context (seconds
 * on a CPU) and keeps them in its own cache; the last linear layer released clears
 * that cache, which would otherwise keep every released context alive (see
 * ops/clblast.h). */
#include <clblast_c.h>
#include <stdlib.h>

#include "base/error.h"
#include "ops/clblast.h"
#include "ops/op_launch.h"
#include "ops/ops_internal.h"
#include "runtime/tuning.h"

struct clrn_linear {
  clrn_context *context;
  int in_features, out_features;
  cl_mem weight, bias;      /* bias holds zeros when the layer has none */
  clrn_kernel *bias_kernel; /* the context's */
  clrn_kernel *own_kernel;  /* the context's: linear_rows_f32 */
  bool clblast_user;        /* counted by clrn_clblast_acquire() */
  bool half;                /* half input: own_kernel built for it, always the own path */
};

static const char bias_kernel_name[] = "linear_bias_f32";

clrn_status clrn_linear_create(clrn_context *context, int in_features, int out_features,
                               const float *weight, const float *bias, clrn_linear **out) {
  static const char op[] = "clrn_linear_create";
  if (!out)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: NULL result pointer", op);
  *out = NULL;
  if (!context || !weight)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: NULL context or weight", op);
  if (in_features < 1 || out_features < 1)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: %d -> %d features", op, in_features,
                     out_features);
  size_t weight_bytes = (size_t)in_features * (size_t)out_features * sizeof(float);
  size_t bias_bytes = (size_t)out_features * sizeof(float);
  clrn_status status = CLRN_STATUS_SUCCESS;
  float *zeros = bias ? NULL : calloc(1, bias_bytes);
  clrn_linear *linear = calloc(1, sizeof *linear);
  if (!linear || (!bias && !zeros)) {
    status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s", op);
    goto fail;
  }
  linear->context = context;
  linear->clblast_user = clrn_clblast_acquire();
  linear->in_features = in_features;
  linear->out_features = out_features;
  CLRN_GOTO(clrn_buffer_create(context, CL_MEM_READ_ONLY, weight_bytes, weight, &linear->weight),
            fail, status);
  CLRN_GOTO(
      clrn_buffer_create(context, CL_MEM_READ_ONLY, bias_bytes, bias ? bias : zeros, &linear->bias),
      fail, status);
  CLRN_GOTO(clrn_kernel_get(context, "linear", NULL, bias_kernel_name, &linear->bias_kernel), fail,
            status);
  CLRN_GOTO(clrn_kernel_get(context, "linear", NULL, "linear_rows_f32", &linear->own_kernel), fail,
            status);
  free(zeros);
  *out = linear;
  return CLRN_STATUS_SUCCESS;
fail:
  free(zeros);
  clrn_linear_release(linear);
  return status;
}

/* Fills the output with the bias rows, after the wait list. */
static clrn_status init_output(clrn_linear *linear, cl_command_queue queue,
                               const clrn_tensor *output, cl_uint num_wait, const cl_event *wait,
                               cl_event *event) {
  cl_uint out_features = (cl_uint)linear->out_features;
  size_t local[2] = {1, 1};
  local[0] =
      clrn_op_local_size(linear->context, linear->bias_kernel,
                         clrn_context_tuning_value(linear->context, CLRN_TUNING_ELTWISE_WG), false);
  local[0] = clrn_op_pow2_at_least(out_features, local[0]);
  size_t global[2] = {out_features, (size_t)output->n};
  return clrn_op_launch(
      linear->bias_kernel, queue,
      CLRN_OP_ARGS(CLRN_ARG(output->buffer), CLRN_ARG(linear->bias), CLRN_ARG(out_features)), 2,
      global, local, num_wait, wait, event);
}

clrn_status clrn_linear_enqueue(clrn_linear *linear, cl_command_queue queue,
                                const clrn_tensor *input, const clrn_tensor *output,
                                cl_uint num_wait, const cl_event *wait, cl_event *event) {
  static const char op[] = "clrn_linear_enqueue";
  if (!linear)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: NULL linear", op);
  CLRN_TRY(clrn_op_check_call(op, linear->context, queue, num_wait, wait));
  CLRN_TRY(clrn_op_check_tensor(op, "input", input));
  CLRN_TRY(clrn_op_check_tensor(op, "output", output));
  size_t features = (size_t)input->c * (size_t)input->h * (size_t)input->w;
  if (features != (size_t)linear->in_features)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "%s: input %dx%dx%dx%d has %zu features per sample, the layer takes %d", op,
                     input->n, input->c, input->h, input->w, features, linear->in_features);
  if (output->n != input->n || output->c != linear->out_features || output->h != 1 ||
      output->w != 1)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: output shape %dx%dx%dx%d must be %dx%dx1x1",
                     op, output->n, output->c, output->h, output->w, input->n,
                     linear->out_features);
  CLRN_TRY(clrn_op_check_distinct(op, "input", input, "output", output));
  return clrn_linear_launch(linear, queue, input, output, num_wait, wait, event);
}

/* The whole layer through linear_rows_f32: a work-item per output feature and
 * group of LINEAR_ROWS (4) samples. */
static clrn_status launch_own(clrn_linear *linear, cl_command_queue queue, const clrn_tensor *input,
                              const clrn_tensor *output, cl_uint num_wait, const cl_event *wait,
                              cl_event *event) {
  cl_int in_features = linear->in_features, out_features = linear->out_features, rows = input->n;
  size_t local[2] = {1, 1};
  local[0] =
      clrn_op_local_size(linear->context, linear->own_kernel,
                         clrn_context_tuning_value(linear->context, CLRN_TUNING_ELTWISE_WG), false);
  local[0] = clrn_op_pow2_at_least((size_t)out_features, local[0]);
  size_t global[2] = {(size_t)out_features, ((size_t)rows + 3) / 4};
  CLRN_TRY(
      clrn_op_launch(linear->own_kernel, queue,
                     CLRN_OP_ARGS(CLRN_ARG(input->buffer), CLRN_ARG(linear->weight),
                                  CLRN_ARG(linear->bias), CLRN_ARG(output->buffer),
                                  CLRN_ARG(in_features), CLRN_ARG(out_features), CLRN_ARG(rows)),
                     2, global, local, num_wait, wait, event));
  clrn_log(CLRN_LOG_LEVEL_DEBUG, "enqueued linear_rows_f32: %d x (%d -> %d)", rows, in_features,
           out_features);
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_linear_store_half(clrn_linear *linear) {
  CLRN_TRY(clrn_kernel_get(linear->context, "linear", clrn_op_defines(true), "linear_rows_f32",
                           &linear->own_kernel));
  linear->half = true;
  return CLRN_STATUS_SUCCESS;
}

/* Which path a launch of batch rows takes: the one decision behind both the
 * launch and the name the trace shows. */
typedef enum linear_path { PATH_OWN, PATH_GEMV, PATH_GEMM } linear_path;

static linear_path path_of(const clrn_linear *linear, long batch) {
  /* CLBlast compiles its kernels from source: a device without a compiler (kernels
   * from offline binaries) takes our own kernel, as does a half input. */
  if (linear->half || clrn_context_tuning_value(linear->context, CLRN_TUNING_LINEAR_OWN) ||
      !clrn_context_device(linear->context)->compiler_available)
    return PATH_OWN;
  long gemv_max = clrn_context_tuning_value(linear->context, CLRN_TUNING_LINEAR_GEMV_MAX_BATCH);
  return batch <= gemv_max ? PATH_GEMV : PATH_GEMM;
}

const char *clrn_linear_kernel_name(const clrn_linear *linear, int batch) {
  static const char *const names[] = {"linear_rows", "sgemv", "sgemm"};
  return names[path_of(linear, batch)];
}

/* The CLBlast calls of one launch, after the bias fill. */
static clrn_status blas(clrn_linear *linear, cl_command_queue queue, const clrn_tensor *input,
                        const clrn_tensor *output, linear_path path, cl_event *event) {
  const size_t m = (size_t)input->n, n = (size_t)linear->out_features,
               k = (size_t)linear->in_features;
  if (path == PATH_GEMV) {
    /* y_i = W x_i + y_i per sample: at batch 1 CLBlast's GEMV reads W once, at the
     * memory's speed, where its GEMM tiles a matrix of one row */
    for (size_t i = 0; i < m; i++) {
      CLBlastStatusCode code =
          CLBlastSgemv(CLBlastLayoutRowMajor, CLBlastTransposeNo, n, k, 1.0f, linear->weight, 0, k,
                       input->buffer, i * k, 1, 1.0f, output->buffer, i * n, 1, &queue,
                       i + 1 == m ? event : NULL);
      if (code != CLBlastSuccess)
        return clrn_clblast_fail(code, "clrn_linear_enqueue: CLBlastSgemv");
    }
    clrn_log(CLRN_LOG_LEVEL_DEBUG, "enqueued CLBlastSgemv: %zu x (%zu -> %zu)", m, k, n);
    return CLRN_STATUS_SUCCESS;
  }
  CLBlastStatusCode code = CLBlastSgemm(
      CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeYes, m, n, k, 1.0f, input->buffer,
      0, k, linear->weight, 0, k, 1.0f, output->buffer, 0, n, &queue, event);
  if (code != CLBlastSuccess)
    return clrn_clblast_fail(code, "clrn_linear_enqueue: CLBlastSgemm");
  clrn_log(CLRN_LOG_LEVEL_DEBUG, "enqueued CLBlastSgemm: %zu x (%zu -> %zu)", m, k, n);
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_linear_launch(clrn_linear *linear, cl_command_queue queue,
                               const clrn_tensor *input, const clrn_tensor *output,
                               cl_uint num_wait, const cl_event *wait, cl_event *event) {
  linear_path path = path_of(linear, input->n);
  if (path == PATH_OWN)
    return launch_own(linear, queue, input, output, num_wait, wait, event);
  CLRN_TRY(init_output(linear, queue, output, num_wait, wait, NULL));
  /* CLBlast's calls take turns (ops/clblast.h); its kernels then run as usual. */
  bool entered = clrn_clblast_enter();
  clrn_status status = blas(linear, queue, input, output, path, event);
  clrn_clblast_leave(entered);
  return status;
}

void clrn_linear_release(clrn_linear *linear) {
  if (!linear)
    return;
  if (linear->weight)
    clReleaseMemObject(linear->weight);
  if (linear->bias)
    clReleaseMemObject(linear->bias);
  clrn_clblast_release(linear->clblast_user);
  free(linear);
}
