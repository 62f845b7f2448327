/* Runners for ONNX's non-window ops through the op API: BatchNormalization
 * (inference) by clrn_batchnorm_*, Relu by clrn_relu_enqueue, Add by
 * clrn_add_enqueue, Softmax by clrn_softmax_enqueue, Gemm and MatMul by
 * clrn_linear_* (+ clrn_add_enqueue for a matrix bias), and Flatten, which is a view
 * in clresnet (no kernel runs: the case checks its shape rule).
 *
 * Tensors of any rank are viewed as NCHW: an elementwise op sees (1, 1, 1, count),
 * BatchNormalization (N, C, rest, 1), Softmax (before the axis, the axis, after it,
 * 1). Gemm and MatMul take B (and C) as the layer's parameters, as an importer does
 * with initializers: alpha is folded into the weight and beta into the bias. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"

/* Product of shape[from..to). */
static int64_t span(const conf_tensor *t, int from, int to) {
  int64_t p = 1;
  for (int i = from; i < to; i++)
    p *= t->shape[i];
  return p;
}

/* Refuses a tensor whose dims or count do not fit the op API's int fields. */
static conf_outcome require_int(const conf_tensor *x, conf_skip *skip) {
  char s[128];
  if (!conf_fits_int(x))
    return conf_refuse(skip, "too large", "input %s", conf_shape_string(x, s, sizeof s));
  return CONF_RAN;
}

/* Allocates out with x's shape. */
static void same_shape(const conf_tensor *x, conf_tensor *out) {
  conf_tensor_alloc(out, x->ndim, x->shape);
}

/* ---- BatchNormalization ------------------------------------------------------- */

CONF_RUNNER(conf_run_batchnorm) {
  const conf_tensor *x = &c->inputs[0];
  /* opset 14 on: training_mode (default 0); before 7: is_test (default 0, training) */
  bool training = conf_attr_int(c->node, "training_mode", 0) != 0 ||
                  (c->opset < 7 && conf_attr_int(c->node, "is_test", 0) == 0);
  if (training || c->n_outputs > 1)
    return conf_refuse(skip, "BatchNormalization training mode",
                       "training_mode=1 (statistics of the batch, %d outputs): inference only",
                       c->n_outputs);
  if (conf_attr_int(c->node, "spatial", 1) != 1)
    return conf_refuse(skip, "BatchNormalization spatial=0", "statistics per element");
  char s[128];
  if (x->ndim < 2 || c->n_inputs != 5)
    return conf_refuse(skip, "malformed attribute", "input %s with %d inputs",
                       conf_shape_string(x, s, sizeof s), c->n_inputs);
  conf_outcome o = require_int(x, skip);
  if (o != CONF_RAN)
    return o;
  int channels = (int)x->shape[1];
  for (int i = 1; i < 5; i++)
    if (c->inputs[i].count != (size_t)channels)
      return conf_refuse(skip, "malformed attribute", "input %d has %zu values for %d channels", i,
                         c->inputs[i].count, channels);
  clrn_batchnorm *bn = NULL;
  clrn_status status = clrn_batchnorm_create(
      context, channels, c->inputs[3].data, c->inputs[4].data, c->inputs[1].data, c->inputs[2].data,
      conf_attr_float(c->node, "epsilon", 1e-5f), &bn);
  if (status != CLRN_STATUS_SUCCESS)
    return conf_error("clrn_batchnorm_create", status);
  same_shape(x, out);
  int dims[4] = {(int)x->shape[0], channels, (int)span(x, 2, x->ndim), 1};
  conf_op op = {.kind = CONF_OP_BATCHNORM, .batchnorm = bn};
  o = conf_run_op(context, &op, x, dims, out, dims);
  clrn_batchnorm_release(bn);
  return o;
}

/* ---- Relu, Add, Softmax, Flatten --------------------------------------------- */

CONF_RUNNER(conf_run_relu) {
  const conf_tensor *x = &c->inputs[0];
  conf_outcome o = require_int(x, skip);
  if (o != CONF_RAN)
    return o;
  same_shape(x, out);
  int dims[4] = {1, 1, 1, (int)x->count};
  conf_op op = {.kind = CONF_OP_RELU};
  return conf_run_op(context, &op, x, dims, out, dims);
}

/* out = a + b elementwise on the device (count values each). */
static conf_outcome add_on_device(clrn_context *context, const float *a, const float *b,
                                  size_t count, float *out) {
  cl_mem da = ops_buffer(context, a, count), db = ops_buffer(context, b, count);
  cl_mem dst = ops_buffer(context, NULL, count);
  clrn_tensor ta = {da, 1, 1, 1, (int)count}, tb = {db, 1, 1, 1, (int)count};
  clrn_tensor to = {dst, 1, 1, 1, (int)count};
  cl_event event = NULL;
  clrn_status status = clrn_add_enqueue(context, clrn_context_queue(context, 0), &ta, &tb, &to,
                                        false, 0, NULL, &event);
  conf_outcome o = CONF_RAN;
  if (status == CLRN_STATUS_SUCCESS)
    ops_read(context, event, dst, out, count);
  else
    o = conf_error("clrn_add_enqueue", status);
  clReleaseMemObject(da);
  clReleaseMemObject(db);
  clReleaseMemObject(dst);
  return o;
}

CONF_RUNNER(conf_run_add) {
  const conf_tensor *a = &c->inputs[0], *b = &c->inputs[1];
  bool same = a->ndim == b->ndim;
  for (int i = 0; same && i < a->ndim; i++)
    same = a->shape[i] == b->shape[i];
  char sa[128], sb[128];
  if (!same)
    return conf_refuse(skip, "broadcasting", "%s + %s: clrn_add_enqueue takes equal shapes",
                       conf_shape_string(a, sa, sizeof sa), conf_shape_string(b, sb, sizeof sb));
  conf_outcome o = require_int(a, skip);
  if (o != CONF_RAN)
    return o;
  same_shape(a, out);
  return add_on_device(context, a->data, b->data, a->count, out->data);
}

/* A Softmax or Flatten axis in [0, rank] (rank + 1 values for Flatten, rank for
 * Softmax), negative ones counted from the end; -1 when out of range. */
static int axis_of(const conf_case *c, int64_t fallback, int limit) {
  int64_t axis = conf_attr_int(c->node, "axis", fallback);
  if (axis < 0)
    axis += c->inputs[0].ndim;
  return axis >= 0 && axis < limit ? (int)axis : -1;
}

CONF_RUNNER(conf_run_softmax) {
  const conf_tensor *x = &c->inputs[0];
  conf_outcome o = require_int(x, skip);
  if (o != CONF_RAN)
    return o;
  /* Opset 13 normalizes along one axis; earlier opsets over all axes from axis on
   * (the input coerced to 2-D), axis 1 by default. */
  bool one_axis = c->opset >= 13;
  int axis = axis_of(c, one_axis ? -1 : 1, x->ndim);
  if (axis < 0)
    return conf_refuse(skip, "malformed attribute", "axis out of range");
  int64_t inner = one_axis ? span(x, axis + 1, x->ndim) : 1;
  int64_t channels = one_axis ? x->shape[axis] : span(x, axis, x->ndim);
  same_shape(x, out);
  int dims[4] = {(int)span(x, 0, axis), (int)channels, (int)inner, 1};
  conf_op op = {.kind = CONF_OP_SOFTMAX};
  return conf_run_op(context, &op, x, dims, out, dims);
}

CONF_RUNNER(conf_run_flatten) {
  const conf_tensor *x = &c->inputs[0];
  conf_outcome o = require_int(x, skip);
  if (o != CONF_RAN)
    return o;
  int axis = axis_of(c, 1, x->ndim + 1);
  if (axis < 0)
    return conf_refuse(skip, "malformed attribute", "axis out of range");
  /* A view: the contiguous buffer read as [outer, inner]. It goes to the device and
   * back, as the tensor a following op would get. */
  int64_t shape[2] = {span(x, 0, axis), span(x, axis, x->ndim)};
  conf_tensor_alloc(out, 2, shape);
  cl_mem buffer = ops_buffer(context, x->data, x->count);
  ops_read(context, NULL, buffer, out->data, out->count);
  clReleaseMemObject(buffer);
  return CONF_RAN;
}

/* ---- Gemm and MatMul -------------------------------------------------------- */

/* out[m x n] = a[m x k] w^T + bias through a clrn_linear of weight w [n][k]. */
static conf_outcome linear(clrn_context *context, const float *a, int m, int k, const float *w,
                           int n, const float *bias, float *out) {
  clrn_linear *layer = NULL;
  clrn_status status = clrn_linear_create(context, k, n, w, bias, &layer);
  if (status != CLRN_STATUS_SUCCESS)
    return conf_error("clrn_linear_create", status);
  conf_tensor x = {.ndim = 2, .shape = {m, k}, .count = (size_t)m * (size_t)k, .data = (float *)a};
  conf_tensor y = {.ndim = 2, .shape = {m, n}, .count = (size_t)m * (size_t)n, .data = out};
  int in[4] = {m, k, 1, 1}, dims[4] = {m, n, 1, 1};
  conf_op op = {.kind = CONF_OP_LINEAR, .linear = layer};
  conf_outcome o = conf_run_op(context, &op, &x, in, &y, dims);
  clrn_linear_release(layer);
  return o;
}

/* Refuses A and B that do not multiply (multiplies false) or do not fit ints. */
static conf_outcome check_product(const conf_tensor *a, const conf_tensor *b, bool multiplies,
                                  conf_skip *skip) {
  if (!multiplies)
    return conf_refuse(skip, "malformed attribute", "A and B do not multiply");
  conf_outcome o = require_int(a, skip);
  return o == CONF_RAN ? require_int(b, skip) : o;
}

/* w[n][k] = scale * b^T for b [k][n], or scale * b when b is already [n][k]. */
static float *weight_of(const float *b, int k, int n, bool transposed, float scale) {
  float *w = malloc((size_t)n * (size_t)k * sizeof *w);
  CU_ASSERT_PTR_NOT_NULL_FATAL(w);
  for (int j = 0; j < n; j++)
    for (int i = 0; i < k; i++)
      w[(size_t)j * k + i] = scale * (transposed ? b[(size_t)j * k + i] : b[(size_t)i * n + j]);
  return w;
}

CONF_RUNNER(conf_run_gemm) {
  const conf_tensor *a = &c->inputs[0], *b = &c->inputs[1];
  const conf_tensor *bias = c->n_inputs > 2 && c->inputs[2].data ? &c->inputs[2] : NULL;
  char s[128];
  if (conf_attr_int(c->node, "transA", 0))
    return conf_refuse(skip, "Gemm transA=1",
                       "A %s transposed: clrn_linear reads its input as [batch][features]",
                       conf_shape_string(a, s, sizeof s));
  bool trans_b = conf_attr_int(c->node, "transB", 0) != 0;
  conf_outcome o = check_product(
      a, b, a->ndim == 2 && b->ndim == 2 && a->shape[1] == b->shape[trans_b ? 1 : 0], skip);
  if (o != CONF_RAN)
    return o;
  int m = (int)a->shape[0], k = (int)a->shape[1], n = (int)b->shape[trans_b ? 0 : 1];
  float alpha = conf_attr_float(c->node, "alpha", 1.0f),
        beta = conf_attr_float(c->node, "beta", 1.0f);
  /* C broadcast along the rows is the layer's bias; a full [M, N] C is added after. */
  bool matrix = bias && bias->ndim == 2 && bias->shape[0] == m && m > 1;
  bool row = bias && !matrix && (bias->count == (size_t)n || bias->count == 1) &&
             (bias->ndim < 2 || bias->shape[0] == 1);
  if (bias && !matrix && !row)
    return conf_refuse(skip, "broadcasting", "C %s is neither a row nor [M, N]",
                       conf_shape_string(bias, s, sizeof s));
  int64_t shape[2] = {m, n};
  conf_tensor_alloc(out, 2, shape);
  float *w = weight_of(b->data, k, n, trans_b, alpha);
  float *folded = malloc((size_t)(matrix ? m * n : n) * sizeof *folded);
  CU_ASSERT_PTR_NOT_NULL_FATAL(folded);
  for (size_t i = 0; bias && i < (size_t)(matrix ? m * n : n); i++)
    folded[i] = beta * bias->data[bias->count == 1 ? 0 : i];
  o = linear(context, a->data, m, k, w, n, row ? folded : NULL, out->data);
  if (o == CONF_RAN && matrix)
    o = add_on_device(context, out->data, folded, out->count, out->data);
  free(w);
  free(folded);
  return o;
}

CONF_RUNNER(conf_run_matmul) {
  const conf_tensor *a = &c->inputs[0], *b = &c->inputs[1];
  char sa[128], sb[128];
  bool same_batch = a->ndim == b->ndim && a->ndim >= 2;
  for (int i = 0; same_batch && i < a->ndim - 2; i++)
    same_batch = a->shape[i] == b->shape[i];
  if (!same_batch)
    return conf_refuse(skip, "broadcasting", "%s x %s: batches must match and be at least 2-D",
                       conf_shape_string(a, sa, sizeof sa), conf_shape_string(b, sb, sizeof sb));
  int r = a->ndim;
  conf_outcome o = check_product(a, b, a->shape[r - 1] == b->shape[r - 2], skip);
  if (o != CONF_RAN)
    return o;
  int m = (int)a->shape[r - 2], k = (int)a->shape[r - 1], n = (int)b->shape[r - 1];
  int64_t shape[CLRN_ONNX_MAX_DIMS];
  memcpy(shape, a->shape, sizeof shape);
  shape[r - 1] = n;
  conf_tensor_alloc(out, r, shape);
  /* One layer per matrix of the batch, B's matrix its weight. */
  int64_t batches = span(a, 0, r - 2);
  for (int64_t i = 0; i < batches && o == CONF_RAN; i++) {
    float *w = weight_of(b->data + i * k * n, k, n, false, 1.0f);
    o = linear(context, a->data + i * m * k, m, k, w, n, NULL, out->data + i * m * n);
    free(w);
  }
  return o;
}
