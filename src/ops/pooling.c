/* Pooling ops (kernels/pooling.cl): MaxPool2d, AvgPool2d and AdaptiveAvgPool2d with
 * PyTorch's output-size, padding, ceil_mode and divisor rules. ONNX's asymmetric
 * padding (more or less of it after the input) only adds or removes outputs at
 * the end: the kernels, which clip windows to the input, take the padding before.
 *
 * Window kernels run one work-item per output element, POOL_WG per group along the
 * output pixels of a plane. Adaptive pooling to 1x1 (ResNet's head) is a reduction
 * per plane: one work-item per plane for planes under GAP_GROUP_MIN_HW pixels, else
 * one work-group of GAP_WG work-items per plane reducing in local memory. */
#include <limits.h>

#include "base/error.h"
#include "ops/op_launch.h"
#include "ops/ops_internal.h"
#include "runtime/tuning.h"

/* Floor division for a possibly negative numerator (PyTorch's div_rtn). */
static long long floor_div(long long a, long long b) {
  long long q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* One dimension of PyTorch's pooling_output_shape (dilation 1), with pad before
 * the input and pad_end after it. */
static long long output_extent(long long in, long long kernel, long long pad, long long pad_end,
                               long long stride, bool ceil_mode) {
  long long out = floor_div(in + pad + pad_end - kernel + (ceil_mode ? stride - 1 : 0), stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad)
    out--; /* the last window must start inside the input or the left padding */
  return out;
}

clrn_status clrn_pool2d_output_size(const clrn_pool2d_desc *desc, int in_h, int in_w, int *out_h,
                                    int *out_w) {
  static const char op[] = "clrn_pool2d_output_size";
  if (!desc || !out_h || !out_w)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: NULL argument", op);
  if (desc->kernel_h < 1 || desc->kernel_w < 1)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: kernel %dx%d must be positive", op,
                     desc->kernel_h, desc->kernel_w);
  if (desc->stride_h < 1 || desc->stride_w < 1)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: stride %dx%d must be positive", op,
                     desc->stride_h, desc->stride_w);
  if (desc->pad_h < 0 || desc->pad_w < 0 || desc->pad_h > desc->kernel_h / 2 ||
      desc->pad_w > desc->kernel_w / 2)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "%s: padding %dx%d must be at least 0 and at most half the kernel %dx%d", op,
                     desc->pad_h, desc->pad_w, desc->kernel_h, desc->kernel_w);
  long long bottom = (long long)desc->pad_h + desc->pad_bottom_extra;
  long long right = (long long)desc->pad_w + desc->pad_right_extra;
  if (bottom < 0 || right < 0 || bottom > desc->kernel_h / 2 || right > desc->kernel_w / 2)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "%s: padding after the input %lldx%lld must be at least 0 and at most half "
                     "the kernel %dx%d",
                     op, bottom, right, desc->kernel_h, desc->kernel_w);
  if (in_h < 1 || in_w < 1)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: input %dx%d must be positive", op, in_h,
                     in_w);
  long long oh =
      output_extent(in_h, desc->kernel_h, desc->pad_h, bottom, desc->stride_h, desc->ceil_mode);
  long long ow =
      output_extent(in_w, desc->kernel_w, desc->pad_w, right, desc->stride_w, desc->ceil_mode);
  if (oh < 1 || ow < 1)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "%s: input %dx%d with padding %dx%d is smaller than the kernel %dx%d", op,
                     in_h, in_w, desc->pad_h, desc->pad_w, desc->kernel_h, desc->kernel_w);
  /* Kernels compute (out-1)*stride + kernel and h*w in int. */
  if ((oh - 1) * desc->stride_h + desc->kernel_h > INT_MAX ||
      (ow - 1) * desc->stride_w + desc->kernel_w > INT_MAX)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: input %dx%d is too large", op, in_h, in_w);
  *out_h = (int)oh;
  *out_w = (int)ow;
  return CLRN_STATUS_SUCCESS;
}

/* Checks a pooling call's common arguments: input and output tensors, same n and c,
 * distinct buffers, planes of at most INT_MAX pixels (kernels index them in int). */
static clrn_status check_pool_call(const char *op, const clrn_context *context,
                                   cl_command_queue queue, const clrn_tensor *input,
                                   const clrn_tensor *output, cl_uint num_wait,
                                   const cl_event *wait) {
  CLRN_TRY(clrn_op_check_io(op, context, queue, input, output, num_wait, wait));
  if (output->n != input->n || output->c != input->c)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "%s: output shape %dx%dx%dx%d must keep the input's n=%d and c=%d", op,
                     output->n, output->c, output->h, output->w, input->n, input->c);
  CLRN_TRY(clrn_op_check_distinct(op, "input", input, "output", output));
  if ((long long)input->h * input->w > INT_MAX || (long long)output->h * output->w > INT_MAX)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: planes over %d pixels", op, INT_MAX);
  return CLRN_STATUS_SUCCESS;
}

/* Checks the desc against the tensors' spatial sizes. */
static clrn_status check_window(const char *op, const clrn_pool2d_desc *desc,
                                const clrn_tensor *input, const clrn_tensor *output) {
  int oh = 0, ow = 0;
  if (!desc)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: NULL pooling desc", op);
  clrn_status status = clrn_pool2d_output_size(desc, input->h, input->w, &oh, &ow);
  if (status != CLRN_STATUS_SUCCESS)
    return clrn_fail_prefix(status, "%s", op);
  if (output->h != oh || output->w != ow)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "%s: output is %dx%d, pooling %dx%d input gives %dx%d", op, output->h,
                     output->w, input->h, input->w, oh, ow);
  return CLRN_STATUS_SUCCESS;
}

/* How a pooling kernel's NDRange is laid out. */
typedef enum launch_shape {
  SHAPE_WINDOW, /* (ow, oh, planes): one work-item per output, POOL_WG along a row */
  SHAPE_ROWS,   /* (oh, planes): one work-item per output row */
  SHAPE_PLANES, /* (planes): one work-item per plane, POOL_WG per group */
  SHAPE_GROUP,  /* (GAP_WG, planes): one work-group per plane, a power of two wide */
} launch_shape;

/* Launches a pooling kernel over output (planes = n*c): args are its arguments,
 * to which SHAPE_GROUP appends its local scratch; reduce is the number of pixels a
 * SHAPE_GROUP work-group sums (no wider group than that helps). */
static clrn_status launch(clrn_context *context, bool half, cl_command_queue queue,
                          const char *name, const clrn_op_arg *args, size_t arg_count,
                          launch_shape shape, size_t reduce, const clrn_tensor *output,
                          cl_uint num_wait, const cl_event *wait, cl_event *event) {
  clrn_kernel *kernel = NULL;
  CLRN_TRY(clrn_kernel_get(context, "pooling", clrn_op_defines(half), name, &kernel));
  size_t local[3] = {1, 1, 1};
  size_t planes = (size_t)output->n * (size_t)output->c;
  bool group = shape == SHAPE_GROUP;
  long want = group ? clrn_context_tuning_value(context, CLRN_TUNING_GAP_WG)
                    : clrn_context_tuning_value(context, CLRN_TUNING_POOL_WG);
  local[0] = clrn_op_local_size(context, kernel, want, group);
  clrn_op_arg all[16];
  for (size_t i = 0; i < arg_count; i++)
    all[i] = args[i];
  size_t global[3] = {planes, 1, 1};
  cl_uint dims = 1;
  if (shape == SHAPE_WINDOW) {
    /* narrow rows (7 wide in ResNet's last stage) would leave a wide group idle */
    local[0] = clrn_op_pow2_at_least((size_t)output->w, local[0]);
    global[0] = (size_t)output->w;
    global[1] = (size_t)output->h;
    global[2] = planes;
    dims = 3;
  } else if (shape == SHAPE_ROWS) {
    local[0] = clrn_op_pow2_at_least((size_t)output->h, local[0]);
    global[0] = (size_t)output->h;
    global[1] = planes;
    dims = 2;
  } else if (shape == SHAPE_PLANES) {
    local[0] = clrn_op_pow2_at_least(planes, local[0]);
  } else {
    local[0] = clrn_op_pow2_at_least(reduce, local[0]);
    all[arg_count++] = CLRN_ARG_LOCAL(local[0] * sizeof(float));
    global[0] = local[0];
    global[1] = planes;
    dims = 2;
  }
  return clrn_op_launch(kernel, queue, all, arg_count, dims, global, local, num_wait, wait, event);
}

/* A window pooling: maxpool2d_rows_f32's arguments, then count_include_pad for
 * avgpool2d_f32 (include_pad not NULL). */
static clrn_status launch_window(clrn_context *context, bool half, cl_command_queue queue,
                                 const char *name, launch_shape shape, const clrn_pool2d_desc *desc,
                                 const cl_int *include_pad, const clrn_tensor *input,
                                 const clrn_tensor *output, cl_uint num_wait, const cl_event *wait,
                                 cl_event *event) {
  const clrn_op_arg args[] = {CLRN_ARG(input->buffer),
                              CLRN_ARG(output->buffer),
                              CLRN_ARG(input->h),
                              CLRN_ARG(input->w),
                              CLRN_ARG(output->h),
                              CLRN_ARG(output->w),
                              CLRN_ARG(desc->kernel_h),
                              CLRN_ARG(desc->kernel_w),
                              CLRN_ARG(desc->stride_h),
                              CLRN_ARG(desc->stride_w),
                              CLRN_ARG(desc->pad_h),
                              CLRN_ARG(desc->pad_w),
                              {sizeof(cl_int), include_pad, true}};
  return launch(context, half, queue, name, args, include_pad ? 13 : 12, shape, 0, output, num_wait,
                wait, event);
}

clrn_status clrn_maxpool2d_launch(clrn_context *context, bool half, cl_command_queue queue,
                                  const clrn_pool2d_desc *desc, const clrn_tensor *input,
                                  const clrn_tensor *output, cl_uint num_wait, const cl_event *wait,
                                  cl_event *event) {
  /* A work-item per output row: ResNet's 3x3 stride-2 window with constants. */
  bool k3s2 =
      desc->kernel_h == 3 && desc->kernel_w == 3 && desc->stride_h == 2 && desc->stride_w == 2;
  return launch_window(context, half, queue,
                       k3s2 ? "maxpool2d_rows_k3s2_f32" : "maxpool2d_rows_f32", SHAPE_ROWS, desc,
                       NULL, input, output, num_wait, wait, event);
}

clrn_status clrn_avgpool2d_launch(clrn_context *context, bool half, cl_command_queue queue,
                                  const clrn_pool2d_desc *desc, const clrn_tensor *input,
                                  const clrn_tensor *output, cl_uint num_wait, const cl_event *wait,
                                  cl_event *event) {
  cl_int include_pad = desc->count_include_pad ? 1 : 0;
  return launch_window(context, half, queue, "avgpool2d_f32", SHAPE_WINDOW, desc, &include_pad,
                       input, output, num_wait, wait, event);
}

clrn_status clrn_adaptive_avgpool2d_launch(clrn_context *context, bool half, cl_command_queue queue,
                                           const clrn_tensor *input, const clrn_tensor *output,
                                           cl_uint num_wait, const cl_event *wait,
                                           cl_event *event) {
  if (output->h == 1 && output->w == 1) {
    cl_uint hw = (cl_uint)input->h * (cl_uint)input->w;
    cl_uint plane_count = (cl_uint)input->n * (cl_uint)input->c;
    if (hw >= (cl_uint)clrn_context_tuning_value(context, CLRN_TUNING_GAP_GROUP_MIN_HW)) {
      const clrn_op_arg args[] = {CLRN_ARG(input->buffer), CLRN_ARG(output->buffer), CLRN_ARG(hw)};
      return launch(context, half, queue, "global_avgpool_group_f32", args, 3, SHAPE_GROUP, hw,
                    output, num_wait, wait, event);
    }
    const clrn_op_arg args[] = {CLRN_ARG(input->buffer), CLRN_ARG(output->buffer), CLRN_ARG(hw),
                                CLRN_ARG(plane_count)};
    return launch(context, half, queue, "global_avgpool_f32", args, 4, SHAPE_PLANES, 0, output,
                  num_wait, wait, event);
  }
  const clrn_op_arg args[] = {CLRN_ARG(input->buffer), CLRN_ARG(output->buffer),
                              CLRN_ARG(input->h),      CLRN_ARG(input->w),
                              CLRN_ARG(output->h),     CLRN_ARG(output->w)};
  return launch(context, half, queue, "adaptive_avgpool2d_f32", args, 6, SHAPE_WINDOW, 0, output,
                num_wait, wait, event);
}

clrn_status clrn_maxpool2d_enqueue(clrn_context *context, cl_command_queue queue,
                                   const clrn_pool2d_desc *desc, const clrn_tensor *input,
                                   const clrn_tensor *output, cl_uint num_wait,
                                   const cl_event *wait, cl_event *event) {
  static const char op[] = "clrn_maxpool2d_enqueue";
  CLRN_TRY(check_pool_call(op, context, queue, input, output, num_wait, wait));
  CLRN_TRY(check_window(op, desc, input, output));
  return clrn_maxpool2d_launch(context, false, queue, desc, input, output, num_wait, wait, event);
}

clrn_status clrn_avgpool2d_enqueue(clrn_context *context, cl_command_queue queue,
                                   const clrn_pool2d_desc *desc, const clrn_tensor *input,
                                   const clrn_tensor *output, cl_uint num_wait,
                                   const cl_event *wait, cl_event *event) {
  static const char op[] = "clrn_avgpool2d_enqueue";
  CLRN_TRY(check_pool_call(op, context, queue, input, output, num_wait, wait));
  CLRN_TRY(check_window(op, desc, input, output));
  /* The kernel clips count_include_pad's window at pad_h and pad_w after the input. */
  if (desc->count_include_pad && (desc->pad_bottom_extra || desc->pad_right_extra))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "%s: count_include_pad with asymmetric padding is not supported", op);
  return clrn_avgpool2d_launch(context, false, queue, desc, input, output, num_wait, wait, event);
}

clrn_status clrn_adaptive_avgpool2d_enqueue(clrn_context *context, cl_command_queue queue,
                                            const clrn_tensor *input, const clrn_tensor *output,
                                            cl_uint num_wait, const cl_event *wait,
                                            cl_event *event) {
  static const char op[] = "clrn_adaptive_avgpool2d_enqueue";
  CLRN_TRY(check_pool_call(op, context, queue, input, output, num_wait, wait));
  /* The kernel computes (o+1)*in for the window ends. */
  if ((long long)(output->h + 1) * input->h > INT_MAX ||
      (long long)(output->w + 1) * input->w > INT_MAX)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: %dx%d to %dx%d is too large", op, input->h,
                     input->w, output->h, output->w);
  return clrn_adaptive_avgpool2d_launch(context, false, queue, input, output, num_wait, wait,
                                        event);
}
