/* Runners for ONNX's window ops: Conv, MaxPool, AveragePool and GlobalAveragePool
 * over 2-D (NCHW) inputs, through clrn_conv2d_*, clrn_maxpool2d_enqueue,
 * clrn_avgpool2d_enqueue and clrn_adaptive_avgpool2d_enqueue. ONNX's padding
 * (explicit pads, auto_pad SAME_UPPER / SAME_LOWER / VALID) becomes the op API's
 * padding before the input plus, for pooling, the difference after it; what the op
 * API cannot express (asymmetric padding of a convolution, dilations, MaxPool's
 * Indices output, 1-D and 3-D inputs) is refused with the reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"

/* The window attributes of a node over the two spatial axes (h, w): padding
 * before (pad) and after (pad_end) the input. */
typedef struct window {
  int64_t kernel[2], stride[2], pad[2], pad_end[2];
} window;

/* Dimension i of a 4-D tensor, as the op API's int. */
static int nchw(const conf_tensor *t, int i) { return (int)t->shape[i]; }

/* Reads an INTS attribute of two values (one per spatial axis) into v, or fallback
 * when absent; refuses another count. */
static conf_outcome pair_attr(const Onnx__NodeProto *node, const char *name, int64_t fallback,
                              int64_t *v, conf_skip *skip) {
  size_t n = 0;
  const int64_t *ints = conf_attr_ints(node, name, &n);
  if (!ints) {
    v[0] = v[1] = fallback;
    return CONF_RAN;
  }
  if (n != 2)
    return conf_refuse(skip, "malformed attribute", "%s has %zu values, 2 expected", name, n);
  v[0] = ints[0];
  v[1] = ints[1];
  return CONF_RAN;
}

/* Refuses inputs other than 4-D (N, C, H, W). */
static conf_outcome require_2d(const conf_tensor *x, conf_skip *skip) {
  char s[128];
  if (x->ndim != 4)
    return conf_refuse(skip, "not 2-D", "%d-D input %s: the op API's tensors are NCHW", x->ndim,
                       conf_shape_string(x, s, sizeof s));
  if (!conf_fits_int(x))
    return conf_refuse(skip, "too large", "input %s", conf_shape_string(x, s, sizeof s));
  return CONF_RAN;
}

/* Fills w from the node: strides (default 1), dilations (only 1), and the padding
 * of auto_pad or pads. w->kernel must be set. in holds the input's H and W. */
static conf_outcome window_attrs(const Onnx__NodeProto *node, const int64_t *in, window *w,
                                 conf_skip *skip) {
  int64_t dilation[2] = {1, 1}, begin[2], end[2];
  conf_outcome o = pair_attr(node, "strides", 1, w->stride, skip);
  if (o == CONF_RAN)
    o = pair_attr(node, "dilations", 1, dilation, skip);
  if (o != CONF_RAN)
    return o;
  if (dilation[0] != 1 || dilation[1] != 1)
    return conf_refuse(skip, "dilations other than 1",
                       "dilations %lldx%lld: the op API's windows are dense",
                       (long long)dilation[0], (long long)dilation[1]);
  if (w->stride[0] < 1 || w->stride[1] < 1 || w->kernel[0] < 1 || w->kernel[1] < 1)
    return conf_refuse(skip, "malformed attribute", "kernel %lldx%lld, strides %lldx%lld",
                       (long long)w->kernel[0], (long long)w->kernel[1], (long long)w->stride[0],
                       (long long)w->stride[1]);
  bool upper = conf_attr_string_is(node, "auto_pad", "SAME_UPPER", "NOTSET");
  bool lower = conf_attr_string_is(node, "auto_pad", "SAME_LOWER", "NOTSET");
  if (upper || lower) {
    for (int i = 0; i < 2; i++) { /* ONNX: out = ceil(in / stride), the rest padded */
      int64_t out = (in[i] + w->stride[i] - 1) / w->stride[i];
      int64_t total = (out - 1) * w->stride[i] + w->kernel[i] - in[i];
      total = total > 0 ? total : 0;
      begin[i] = upper ? total / 2 : total - total / 2;
      end[i] = total - begin[i];
    }
  } else if (conf_attr_string_is(node, "auto_pad", "VALID", "NOTSET")) {
    begin[0] = begin[1] = end[0] = end[1] = 0;
  } else if (conf_attr_string_is(node, "auto_pad", "NOTSET", "NOTSET")) {
    size_t n = 0;
    const int64_t *pads = conf_attr_ints(node, "pads", &n);
    if (pads && n != 4)
      return conf_refuse(skip, "malformed attribute", "pads has %zu values, 4 expected", n);
    for (int i = 0; i < 2; i++) { /* [h_begin, w_begin, h_end, w_end] */
      begin[i] = pads ? pads[i] : 0;
      end[i] = pads ? pads[i + 2] : 0;
    }
  } else {
    return conf_refuse(skip, "malformed attribute", "unknown auto_pad");
  }
  for (int i = 0; i < 2; i++) {
    w->pad[i] = begin[i];
    w->pad_end[i] = end[i];
  }
  return CONF_RAN;
}

/* Refuses padding that differs at the two ends of an axis, for ops without it. */
static conf_outcome require_symmetric(const window *w, const char *op, conf_skip *skip) {
  if (w->pad[0] == w->pad_end[0] && w->pad[1] == w->pad_end[1])
    return CONF_RAN;
  return conf_refuse(skip, "asymmetric padding",
                     "padding top %lld bottom %lld, left %lld right %lld: %s pads both ends of "
                     "an axis alike",
                     (long long)w->pad[0], (long long)w->pad_end[0], (long long)w->pad[1],
                     (long long)w->pad_end[1], op);
}

/* Runs one convolution variant; writes the output into out (already shaped). */
static conf_outcome run_conv_variant(clrn_context *context, clrn_conv2d_desc desc,
                                     clrn_conv2d_variant variant, const conf_case *c,
                                     conf_tensor *out) {
  const conf_tensor *x = &c->inputs[0];
  const float *bias = c->n_inputs > 2 ? c->inputs[2].data : NULL;
  desc.variant = variant;
  clrn_conv2d *conv = NULL;
  clrn_status status =
      clrn_conv2d_create(context, &desc, c->inputs[1].data, bias, NULL, NULL, &conv);
  if (status != CLRN_STATUS_SUCCESS)
    return conf_error("clrn_conv2d_create", status);
  int in[4] = {nchw(x, 0), nchw(x, 1), nchw(x, 2), nchw(x, 3)};
  int dims[4] = {nchw(out, 0), nchw(out, 1), nchw(out, 2), nchw(out, 3)};
  conf_op op = {.kind = CONF_OP_CONV, .conv = conv};
  conf_outcome outcome = conf_run_op(context, &op, x, in, out, dims);
  clrn_conv2d_release(conv);
  return outcome;
}

CONF_RUNNER(conf_run_conv) {
  const conf_tensor *x = &c->inputs[0], *wt = &c->inputs[1];
  conf_outcome o = require_2d(x, skip);
  if (o != CONF_RAN)
    return o;
  if (wt->ndim != 4)
    return conf_refuse(skip, "malformed attribute", "%d-D weight", wt->ndim);
  window w = {{wt->shape[2], wt->shape[3]}, {1, 1}, {0, 0}, {0, 0}};
  int64_t kernel[2] = {0, 0};
  o = pair_attr(c->node, "kernel_shape", 0, kernel, skip);
  if (o != CONF_RAN)
    return o;
  if (kernel[0] && (kernel[0] != w.kernel[0] || kernel[1] != w.kernel[1]))
    return conf_refuse(skip, "malformed attribute", "kernel_shape disagrees with the weight");
  o = window_attrs(c->node, x->shape + 2, &w, skip);
  if (o == CONF_RAN)
    o = require_symmetric(&w, "clrn_conv2d", skip);
  if (o != CONF_RAN)
    return o;
  int64_t groups = conf_attr_int(c->node, "group", 1);
  clrn_conv2d_desc desc = {(int)x->shape[1],
                           (int)wt->shape[0],
                           (int)w.kernel[0],
                           (int)w.kernel[1],
                           (int)w.stride[0],
                           (int)w.stride[1],
                           (int)w.pad[0],
                           (int)w.pad[1],
                           (int)groups,
                           false,
                           CLRN_CONV2D_VARIANT_AUTO};
  int oh = 0, ow = 0;
  clrn_status status = clrn_conv2d_output_size(&desc, (int)x->shape[2], (int)x->shape[3], &oh, &ow);
  if (status != CLRN_STATUS_SUCCESS)
    return conf_error("clrn_conv2d_output_size", status);
  int64_t shape[4] = {x->shape[0], wt->shape[0], oh, ow};
  conf_tensor_alloc(out, 4, shape);
  /* Every general-purpose kernel must give ONNX's answer (the GEMM kernel only takes
   * 1x1 unpadded convolutions, which no node test has); out keeps the last. */
  static const clrn_conv2d_variant variants[] = {CLRN_CONV2D_VARIANT_DIRECT,
                                                 CLRN_CONV2D_VARIANT_BLOCKED};
  static const char *const names[] = {"direct", "blocked"};
  for (size_t v = 0; v < 2 && o == CONF_RAN; v++) {
    char label[512];
    snprintf(label, sizeof label, "%s (%s kernel)", c->name, names[v]);
    o = run_conv_variant(context, desc, variants[v], c, out);
    if (o == CONF_RAN && !conf_compare(label, out, &c->outputs[0], CONF_RTOL, CONF_ATOL))
      o = CONF_ERROR;
  }
  return o;
}

CONF_RUNNER(conf_run_pool) {
  const conf_tensor *x = &c->inputs[0];
  bool max = strcmp(c->node->op_type, "MaxPool") == 0;
  if (max && c->n_outputs > 1)
    return conf_refuse(skip, "MaxPool Indices output",
                       "the second output (argmax indices) is not computed by the op API");
  conf_outcome o = require_2d(x, skip);
  window w = {{0, 0}, {1, 1}, {0, 0}, {0, 0}};
  if (o == CONF_RAN)
    o = pair_attr(c->node, "kernel_shape", 0, w.kernel, skip);
  if (o == CONF_RAN)
    o = window_attrs(c->node, x->shape + 2, &w, skip);
  if (o != CONF_RAN)
    return o;
  clrn_pool2d_desc desc = {(int)w.kernel[0],
                           (int)w.kernel[1],
                           (int)w.stride[0],
                           (int)w.stride[1],
                           (int)w.pad[0],
                           (int)w.pad[1],
                           conf_attr_int(c->node, "ceil_mode", 0) != 0,
                           conf_attr_int(c->node, "count_include_pad", 0) != 0,
                           (int)(w.pad_end[0] - w.pad[0]),
                           (int)(w.pad_end[1] - w.pad[1])};
  if (!max && desc.count_include_pad && (desc.pad_bottom_extra || desc.pad_right_extra))
    return require_symmetric(&w, "clrn_avgpool2d_enqueue with count_include_pad", skip);
  int oh = 0, ow = 0;
  clrn_status status = clrn_pool2d_output_size(&desc, nchw(x, 2), nchw(x, 3), &oh, &ow);
  if (status != CLRN_STATUS_SUCCESS &&
      (2 * w.pad[0] > w.kernel[0] || 2 * w.pad[1] > w.kernel[1] || 2 * w.pad_end[0] > w.kernel[0] ||
       2 * w.pad_end[1] > w.kernel[1]))
    return conf_refuse(skip, "padding over half the kernel", "%s", clrn_last_error());
  if (status != CLRN_STATUS_SUCCESS)
    return conf_error("clrn_pool2d_output_size", status);
  int64_t shape[4] = {x->shape[0], x->shape[1], oh, ow};
  conf_tensor_alloc(out, 4, shape);
  conf_op op = {.kind = max ? CONF_OP_MAXPOOL : CONF_OP_AVGPOOL, .pool = &desc};
  int in[4] = {nchw(x, 0), nchw(x, 1), nchw(x, 2), nchw(x, 3)}, dims[4] = {in[0], in[1], oh, ow};
  return conf_run_op(context, &op, x, in, out, dims);
}

CONF_RUNNER(conf_run_global_avgpool) {
  const conf_tensor *x = &c->inputs[0];
  conf_outcome o = require_2d(x, skip);
  if (o != CONF_RAN)
    return o;
  int64_t shape[4] = {x->shape[0], x->shape[1], 1, 1};
  conf_tensor_alloc(out, 4, shape);
  int in[4] = {nchw(x, 0), nchw(x, 1), nchw(x, 2), nchw(x, 3)}, dims[4] = {in[0], in[1], 1, 1};
  conf_op op = {.kind = CONF_OP_GLOBAL_AVGPOOL};
  return conf_run_op(context, &op, x, in, out, dims);
}
