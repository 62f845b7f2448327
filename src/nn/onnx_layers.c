/* Reads an ONNX graph as layers (see onnx_layers.h): a table of the graph's value
 * names (open addressing) and one function per supported op type that checks the
 * node and appends its layer. */
#include "nn/onnx_layers.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/error.h"
#include "weights/onnx_tensor.h"

/* Opsets whose definitions of the supported ops are the ones read here. */
#define MIN_OPSET 9
#define MAX_OPSET 18

/* A named value: computed at run time (value >= 0) or a constant tensor. */
typedef struct slot {
  const char *name;
  int value;
  const Onnx__TensorProto *constant;
} slot;

typedef struct reader {
  const char *path;
  clrn_onnx_net *net;
  size_t capacity; /* of net->layers */
  slot *slots;
  size_t slot_mask;
  const Onnx__NodeProto *node; /* being read */
} reader;

static uint64_t hash(const char *s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
  return h;
}

/* The slot of name: the existing one, or the empty one where it would go. */
static slot *find_slot(reader *r, const char *name) {
  for (size_t i = hash(name) & r->slot_mask;; i = (i + 1) & r->slot_mask)
    if (!r->slots[i].name || strcmp(r->slots[i].name, name) == 0)
      return &r->slots[i];
}

static const char *node_name(const Onnx__NodeProto *n) {
  if (n->name && n->name[0])
    return n->name;
  return n->n_output && n->output[0] && n->output[0][0] ? n->output[0] : "(unnamed)";
}

/* Fails naming the node being read. */
#define NODE_FAIL(r, status, fmt, ...)                                                             \
  clrn_fail(status, "%s: ONNX node '%.200s' (%.64s): " fmt, (r)->path, node_name((r)->node),       \
            (r)->node->op_type, __VA_ARGS__)

/* Defines name (once: ONNX values have one producer) as a run-time value or a
 * constant. */
static clrn_status define(reader *r, const char *name, int value,
                          const Onnx__TensorProto *constant) {
  if (!name || !name[0])
    return CLRN_STATUS_SUCCESS; /* an optional output left out */
  slot *s = find_slot(r, name);
  if (s->name)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: ONNX value '%.200s' is defined twice",
                     r->path, name);
  *s = (slot){name, value, constant};
  return CLRN_STATUS_SUCCESS;
}

static int new_value(reader *r) { return r->net->value_count++; }

/* The run-time value read as input i. */
static clrn_status value_input(reader *r, size_t i, int *value) {
  const Onnx__NodeProto *n = r->node;
  if (i >= n->n_input || !n->input[i][0])
    return NODE_FAIL(r, CLRN_STATUS_INVALID_FORMAT, "input %zu is missing", i);
  slot *s = find_slot(r, n->input[i]);
  if (!s->name)
    return NODE_FAIL(r, CLRN_STATUS_INVALID_FORMAT,
                     "reads '%.200s', which no earlier node or graph input produces", n->input[i]);
  if (s->value < 0)
    return NODE_FAIL(r, CLRN_STATUS_UNSUPPORTED,
                     "input %zu ('%.200s') is a constant where clresnet needs a computed value", i,
                     n->input[i]);
  *value = s->value;
  return CLRN_STATUS_SUCCESS;
}

/* The constant read as input i (NULL when optional and absent), with its shape. */
static clrn_status constant_input(reader *r, size_t i, bool optional, const Onnx__TensorProto **t,
                                  int *ndim, int64_t *shape) {
  const Onnx__NodeProto *n = r->node;
  *t = NULL;
  if (i >= n->n_input || !n->input[i][0]) {
    if (optional)
      return CLRN_STATUS_SUCCESS;
    return NODE_FAIL(r, CLRN_STATUS_INVALID_FORMAT, "input %zu is missing", i);
  }
  slot *s = find_slot(r, n->input[i]);
  if (!s->name)
    return NODE_FAIL(r, CLRN_STATUS_INVALID_FORMAT,
                     "reads '%.200s', which no earlier node or initializer produces", n->input[i]);
  if (!s->constant)
    return NODE_FAIL(r, CLRN_STATUS_UNSUPPORTED,
                     "input %zu ('%.200s') is computed where clresnet needs an initializer", i,
                     n->input[i]);
  uint64_t elements;
  CLRN_TRY(clrn_onnx_tensor_shape(s->constant, ndim, shape, &elements));
  *t = s->constant;
  return CLRN_STATUS_SUCCESS;
}

/* ---- attributes ------------------------------------------------------------------ */

static const Onnx__AttributeProto *attribute(const Onnx__NodeProto *n, const char *name) {
  for (size_t i = 0; i < n->n_attribute; i++)
    if (n->attribute[i]->name && strcmp(n->attribute[i]->name, name) == 0)
      return n->attribute[i];
  return NULL;
}

/* Fails on an attribute not in the NULL-terminated list known. */
static clrn_status known_attributes(reader *r, const char *const *known) {
  for (size_t i = 0; i < r->node->n_attribute; i++) {
    const char *name = r->node->attribute[i]->name ? r->node->attribute[i]->name : "";
    bool found = false;
    for (const char *const *k = known; *k && !found; k++)
      found = strcmp(*k, name) == 0;
    if (!found)
      return NODE_FAIL(r, CLRN_STATUS_UNSUPPORTED, "attribute '%.64s' is not supported", name);
  }
  return CLRN_STATUS_SUCCESS;
}

/* The attribute called name when present, checked to be of type (NULL when absent). */
static clrn_status typed_attribute(reader *r, const char *name,
                                   Onnx__AttributeProto__AttributeType type,
                                   const Onnx__AttributeProto **out) {
  *out = attribute(r->node, name);
  if (*out && (*out)->type != type)
    return NODE_FAIL(r, CLRN_STATUS_INVALID_FORMAT, "attribute '%s' has the wrong type", name);
  return CLRN_STATUS_SUCCESS;
}

static clrn_status int_attribute(reader *r, const char *name, int64_t fallback, int64_t *out) {
  const Onnx__AttributeProto *a;
  CLRN_TRY(typed_attribute(r, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, &a));
  *out = a ? a->i : fallback;
  return CLRN_STATUS_SUCCESS;
}

static clrn_status float_attribute(reader *r, const char *name, double fallback, double *out) {
  const Onnx__AttributeProto *a;
  CLRN_TRY(typed_attribute(r, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT, &a));
  if (a && !isfinite(a->f))
    return NODE_FAIL(r, CLRN_STATUS_INVALID_FORMAT, "attribute '%s' is not finite", name);
  *out = a ? a->f : fallback;
  return CLRN_STATUS_SUCCESS;
}

/* A list of count integers that must all equal one value, written to *out
 * (fallback when absent). */
static clrn_status uniform_ints(reader *r, const char *name, size_t count, int64_t fallback,
                                int64_t *out) {
  const Onnx__AttributeProto *a = attribute(r->node, name);
  *out = fallback;
  if (!a)
    return CLRN_STATUS_SUCCESS;
  if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS || a->n_ints != count)
    return NODE_FAIL(r, CLRN_STATUS_UNSUPPORTED, "attribute '%s' is not a list of %zu integers",
                     name, count);
  for (size_t i = 1; i < count; i++)
    if (a->ints[i] != a->ints[0])
      return NODE_FAIL(r, CLRN_STATUS_UNSUPPORTED,
                       "attribute '%s' differs between dimensions, which is not supported", name);
  *out = a->ints[0];
  return CLRN_STATUS_SUCCESS;
}

/* auto_pad must be absent or NOTSET. */
static clrn_status no_auto_pad(reader *r) {
  const Onnx__AttributeProto *a = attribute(r->node, "auto_pad");
  if (!a)
    return CLRN_STATUS_SUCCESS;
  if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING)
    return NODE_FAIL(r, CLRN_STATUS_INVALID_FORMAT, "%s", "attribute 'auto_pad' is not a string");
  if (a->s.len == 6 && memcmp(a->s.data, "NOTSET", 6) == 0)
    return CLRN_STATUS_SUCCESS;
  return NODE_FAIL(r, CLRN_STATUS_UNSUPPORTED, "auto_pad '%.*s' is not supported (only NOTSET)",
                   (int)(a->s.len > 32 ? 32 : a->s.len), (const char *)a->s.data);
}

/* kernel_shape (square, 1..15), strides, pads (symmetric) and dilations (1) of a
 * convolution or pooling; kernel_shape absent (Conv) keeps *kernel. */
static clrn_status window(reader *r, int *kernel, int *stride, int *pad) {
  int64_t k, s, p, d;
  CLRN_TRY(uniform_ints(r, "kernel_shape", 2, *kernel, &k));
  CLRN_TRY(uniform_ints(r, "strides", 2, 1, &s));
  CLRN_TRY(uniform_ints(r, "pads", 4, 0, &p));
  CLRN_TRY(uniform_ints(r, "dilations", 2, 1, &d));
  CLRN_TRY(no_auto_pad(r));
  if (k < 1 || k > 15 || (k != *kernel && *kernel > 0))
    return NODE_FAIL(r, CLRN_STATUS_UNSUPPORTED, "kernel %lld is not supported", (long long)k);
  if (s < 1 || s > 15 || p < 0 || p >= k || d != 1)
    return NODE_FAIL(r, CLRN_STATUS_UNSUPPORTED,
                     "stride %lld, padding %lld, dilation %lld are not supported", (long long)s,
                     (long long)p, (long long)d);
  *kernel = (int)k;
  *stride = (int)s;
  *pad = (int)p;
  return CLRN_STATUS_SUCCESS;
}

/* ---- layers ------------------------------------------------------------------------ */

static clrn_status append(reader *r, clrn_onnx_layer layer) {
  clrn_onnx_net *net = r->net;
  CLRN_TRY(clrn_array_reserve((void **)&net->layers, &r->capacity, net->count + 1,
                              sizeof *net->layers, 128, "ONNX layers"));
  layer.name = node_name(r->node);
  layer.op = r->node->op_type;
  layer.output = new_value(r);
  net->layers[net->count++] = layer;
  return define(r, r->node->output[0], layer.output, NULL);
}

static clrn_status read_conv(reader *r) {
  static const char *const known[] = {"kernel_shape", "strides",  "pads", "dilations",
                                      "group",        "auto_pad", NULL};
  CLRN_TRY(known_attributes(r, known));
  clrn_onnx_layer l = {.kind = CLRN_NODE_CONV, .inputs = {-1, -1}};
  int ndim, bdim;
  int64_t w[CLRN_ONNX_MAX_DIMS], b[CLRN_ONNX_MAX_DIMS], groups;
  CLRN_TRY(value_input(r, 0, &l.inputs[0]));
  CLRN_TRY(constant_input(r, 1, false, &l.tensors[0], &ndim, w));
  CLRN_TRY(constant_input(r, 2, true, &l.tensors[1], &bdim, b));
  if (ndim != 4 || w[2] != w[3] || w[0] < 1 || w[1] < 1 || w[0] > 1 << 16 || w[1] > 1 << 16)
    return NODE_FAIL(r, CLRN_STATUS_UNSUPPORTED, "%s", "the weight is not [out, in, k, k]");
  if (l.tensors[1] && (bdim != 1 || b[0] != w[0]))
    return NODE_FAIL(r, CLRN_STATUS_INVALID_FORMAT, "%s", "the bias is not [out]");
  CLRN_TRY(int_attribute(r, "group", 1, &groups));
  if (groups < 1 || groups > w[0] || w[0] % groups)
    return NODE_FAIL(r, CLRN_STATUS_UNSUPPORTED, "group %lld is not supported", (long long)groups);
  l.kernel = (int)w[2];
  CLRN_TRY(window(r, &l.kernel, &l.stride, &l.pad));
  l.groups = (int)groups;
  l.out_channels = (int)w[0];
  l.in_channels = (int)w[1];
  r->net->conv_biases += l.tensors[1] != NULL;
  return append(r, l);
}

static clrn_status read_batchnorm(reader *r) {
  static const char *const known[] = {"epsilon", "momentum", "training_mode", "spatial", NULL};
  CLRN_TRY(known_attributes(r, known));
  clrn_onnx_layer l = {.kind = CLRN_NODE_BATCHNORM, .inputs = {-1, -1}};
  CLRN_TRY(value_input(r, 0, &l.inputs[0]));
  int64_t channels = -1, training, spatial;
  for (int i = 0; i < 4; i++) {
    int ndim;
    int64_t shape[CLRN_ONNX_MAX_DIMS];
    CLRN_TRY(constant_input(r, 1 + (size_t)i, false, &l.tensors[i], &ndim, shape));
    if (ndim != 1 || shape[0] < 1 || (channels >= 0 && shape[0] != channels))
      return NODE_FAIL(r, CLRN_STATUS_INVALID_FORMAT, "%s",
                       "scale, B, mean and var are not vectors of one length");
    channels = shape[0];
  }
  CLRN_TRY(float_attribute(r, "epsilon", 1e-5, &l.eps));
  CLRN_TRY(int_attribute(r, "training_mode", 0, &training));
  CLRN_TRY(int_attribute(r, "spatial", 1, &spatial));
  if (l.eps < 0 || training != 0 || spatial != 1)
    return NODE_FAIL(r, CLRN_STATUS_UNSUPPORTED, "%s",
                     "only inference mode (training_mode 0, spatial 1, epsilon >= 0) is supported");
  l.out_channels = l.in_channels = (int)channels;
  r->net->batchnorms++;
  return append(r, l);
}

static clrn_status read_unary(reader *r, clrn_node_kind kind) {
  static const char *const none[] = {NULL};
  CLRN_TRY(known_attributes(r, none));
  clrn_onnx_layer l = {.kind = kind, .inputs = {-1, -1}};
  CLRN_TRY(value_input(r, 0, &l.inputs[0]));
  return append(r, l);
}

static clrn_status read_pool(reader *r, bool max) {
  static const char *const known_max[] = {"kernel_shape", "strides",       "pads",     "dilations",
                                          "ceil_mode",    "storage_order", "auto_pad", NULL};
  static const char *const known_avg[] = {"kernel_shape",      "strides",  "pads", "ceil_mode",
                                          "count_include_pad", "auto_pad", NULL};
  CLRN_TRY(known_attributes(r, max ? known_max : known_avg));
  clrn_onnx_layer l = {.kind = max ? CLRN_NODE_MAXPOOL : CLRN_NODE_AVGPOOL, .inputs = {-1, -1}};
  CLRN_TRY(value_input(r, 0, &l.inputs[0]));
  if (!attribute(r->node, "kernel_shape"))
    return NODE_FAIL(r, CLRN_STATUS_INVALID_FORMAT, "%s", "kernel_shape is missing");
  int64_t ceil, order;
  CLRN_TRY(int_attribute(r, "ceil_mode", 0, &ceil));
  CLRN_TRY(int_attribute(r, "storage_order", 0, &order));
  CLRN_TRY(window(r, &l.kernel, &l.stride, &l.pad));
  if (ceil != 0 || order != 0 || (!max && l.pad != 0))
    return NODE_FAIL(r, CLRN_STATUS_UNSUPPORTED, "%s",
                     "ceil_mode, storage_order or (AveragePool) padding is not supported");
  return append(r, l);
}

/* Add: the residual sum of two computed values, or a constant bias added to a
 * MatMul's result (which becomes that linear layer's bias). */
static clrn_status read_add(reader *r) {
  static const char *const none[] = {NULL};
  CLRN_TRY(known_attributes(r, none));
  const Onnx__NodeProto *n = r->node;
  if (n->n_input != 2)
    return NODE_FAIL(r, CLRN_STATUS_INVALID_FORMAT, "%s", "Add needs two inputs");
  slot *a = find_slot(r, n->input[0]), *b = find_slot(r, n->input[1]);
  if (!a->name || !b->name)
    return NODE_FAIL(r, CLRN_STATUS_INVALID_FORMAT, "%s",
                     "reads a value no earlier node or graph input produces");
  if (a->value >= 0 && b->value >= 0) {
    clrn_onnx_layer l = {.kind = CLRN_NODE_ADD, .inputs = {a->value, b->value}};
    return append(r, l);
  }
  slot *v = a->value >= 0 ? a : b, *c = a->value >= 0 ? b : a;
  clrn_onnx_layer *linear = NULL;
  for (size_t i = 0; v->value >= 0 && i < r->net->count; i++)
    if (r->net->layers[i].output == v->value && r->net->layers[i].kind == CLRN_NODE_LINEAR &&
        !r->net->layers[i].tensors[1])
      linear = &r->net->layers[i];
  int ndim;
  int64_t shape[CLRN_ONNX_MAX_DIMS];
  uint64_t elements;
  if (!linear || !c->constant ||
      clrn_onnx_tensor_shape(c->constant, &ndim, shape, &elements) != CLRN_STATUS_SUCCESS ||
      elements != (uint64_t)linear->out_channels || ndim < 1 || ndim > 2)
    return NODE_FAIL(r, CLRN_STATUS_UNSUPPORTED, "%s",
                     "only a residual sum, or a [features] bias after MatMul, is supported");
  linear->tensors[1] = c->constant;
  linear->output = new_value(r);
  return define(r, n->output[0], linear->output, NULL);
}

/* Gemm (transA 0, alpha and beta 1) or MatMul with a constant right operand. */
static clrn_status read_linear(reader *r, bool gemm) {
  static const char *const known[] = {"alpha", "beta", "transA", "transB", NULL};
  static const char *const none[] = {NULL};
  CLRN_TRY(known_attributes(r, gemm ? known : none));
  clrn_onnx_layer l = {.kind = CLRN_NODE_LINEAR, .inputs = {-1, -1}};
  int ndim, cdim = 0;
  int64_t w[CLRN_ONNX_MAX_DIMS], c[CLRN_ONNX_MAX_DIMS], trans_a = 0, trans_b = 0;
  double alpha = 1.0, beta = 1.0;
  CLRN_TRY(value_input(r, 0, &l.inputs[0]));
  CLRN_TRY(constant_input(r, 1, false, &l.tensors[0], &ndim, w));
  if (gemm) {
    CLRN_TRY(constant_input(r, 2, true, &l.tensors[1], &cdim, c));
    CLRN_TRY(int_attribute(r, "transA", 0, &trans_a));
    CLRN_TRY(int_attribute(r, "transB", 0, &trans_b));
    CLRN_TRY(float_attribute(r, "alpha", 1.0, &alpha));
    CLRN_TRY(float_attribute(r, "beta", 1.0, &beta));
  }
  if (ndim != 2 || w[0] < 1 || w[1] < 1 || w[0] > 1 << 20 || w[1] > 1 << 20)
    return NODE_FAIL(r, CLRN_STATUS_UNSUPPORTED, "%s", "the weight is not a matrix");
  if (trans_a != 0 || (trans_b != 0 && trans_b != 1) || alpha != 1.0 ||
      (l.tensors[1] && beta != 1.0))
    return NODE_FAIL(r, CLRN_STATUS_UNSUPPORTED, "%s",
                     "only transA 0, alpha 1 and beta 1 are supported");
  l.transpose = trans_b == 0;
  l.out_channels = (int)(l.transpose ? w[1] : w[0]);
  l.in_channels = (int)(l.transpose ? w[0] : w[1]);
  if (l.tensors[1] && !(cdim == 1 && c[0] == l.out_channels) &&
      !(cdim == 2 && c[0] == 1 && c[1] == l.out_channels))
    return NODE_FAIL(r, CLRN_STATUS_UNSUPPORTED, "%s", "C is not a [features] bias");
  return append(r, l);
}

/* Flatten (axis 1) and Reshape to [batch, features]: the same values, per image. */
static clrn_status read_flatten(reader *r, bool reshape) {
  static const char *const flatten[] = {"axis", NULL};
  static const char *const reshape_known[] = {"allowzero", NULL};
  CLRN_TRY(known_attributes(r, reshape ? reshape_known : flatten));
  int value;
  CLRN_TRY(value_input(r, 0, &value));
  if (!reshape) {
    int64_t axis;
    CLRN_TRY(int_attribute(r, "axis", 1, &axis));
    if (axis != 1)
      return NODE_FAIL(r, CLRN_STATUS_UNSUPPORTED, "axis %lld is not supported (only 1)",
                       (long long)axis);
    return define(r, r->node->output[0], value, NULL);
  }
  const Onnx__TensorProto *t;
  int ndim;
  int64_t shape[CLRN_ONNX_MAX_DIMS], to[2], allow_zero;
  CLRN_TRY(constant_input(r, 1, false, &t, &ndim, shape));
  CLRN_TRY(int_attribute(r, "allowzero", 0, &allow_zero));
  if (ndim != 1 || shape[0] != 2 || clrn_onnx_tensor_read_i64(t, to, 2) != CLRN_STATUS_SUCCESS ||
      to[0] < -1 || to[0] > 1 || (to[0] == 0 && allow_zero) || to[1] < -1 || to[1] == 0)
    return NODE_FAIL(r, CLRN_STATUS_UNSUPPORTED, "%s",
                     "only a reshape to [batch, features] is supported");
  return define(r, r->node->output[0], value, NULL);
}

static clrn_status read_identity(reader *r) {
  static const char *const none[] = {NULL};
  CLRN_TRY(known_attributes(r, none));
  if (r->node->n_input != 1)
    return NODE_FAIL(r, CLRN_STATUS_INVALID_FORMAT, "%s", "Identity needs one input");
  slot *s = find_slot(r, r->node->input[0]);
  if (!s->name)
    return NODE_FAIL(r, CLRN_STATUS_INVALID_FORMAT,
                     "reads '%.200s', which no earlier node or initializer produces",
                     r->node->input[0]);
  return define(r, r->node->output[0], s->value, s->constant);
}

static clrn_status read_constant(reader *r) {
  const Onnx__AttributeProto *a = attribute(r->node, "value");
  if (r->node->n_attribute != 1 || !a || a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR ||
      !a->t)
    return NODE_FAIL(r, CLRN_STATUS_UNSUPPORTED, "%s", "only a 'value' tensor is supported");
  return define(r, r->node->output[0], -1, a->t);
}

/* ---- the graph ------------------------------------------------------------------ */

static clrn_status read_node(reader *r) {
  const Onnx__NodeProto *n = r->node;
  const char *op = n->op_type ? n->op_type : "";
  bool standard = !n->domain || !n->domain[0] || strcmp(n->domain, "ai.onnx") == 0;
  if (n->n_output < 1 || !n->output[0][0])
    return NODE_FAIL(r, CLRN_STATUS_INVALID_FORMAT, "%s", "the node has no output");
  if (!standard)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "%s: ONNX node '%.200s' (%.64s of domain %.64s) is not supported", r->path,
                     node_name(n), op, n->domain);
  if (strcmp(op, "Conv") == 0)
    return read_conv(r);
  if (strcmp(op, "BatchNormalization") == 0)
    return read_batchnorm(r);
  if (strcmp(op, "Relu") == 0)
    return read_unary(r, CLRN_NODE_RELU);
  if (strcmp(op, "GlobalAveragePool") == 0)
    return read_unary(r, CLRN_NODE_AVGPOOL);
  if (strcmp(op, "MaxPool") == 0 || strcmp(op, "AveragePool") == 0)
    return read_pool(r, op[0] == 'M');
  if (strcmp(op, "Add") == 0)
    return read_add(r);
  if (strcmp(op, "Gemm") == 0 || strcmp(op, "MatMul") == 0)
    return read_linear(r, op[0] == 'G');
  if (strcmp(op, "Flatten") == 0 || strcmp(op, "Reshape") == 0)
    return read_flatten(r, op[0] == 'R');
  if (strcmp(op, "Identity") == 0)
    return read_identity(r);
  if (strcmp(op, "Constant") == 0)
    return read_constant(r);
  return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                   "%s: ONNX node '%.200s' (%.64s) is not supported: a ResNet graph has only Conv, "
                   "BatchNormalization, Relu, MaxPool, Add, GlobalAveragePool or AveragePool, "
                   "Flatten or Reshape, Gemm or MatMul+Add (and Identity, Constant)",
                   r->path, node_name(n), op);
}

static clrn_status check_opset(const Onnx__ModelProto *m, const char *path) {
  for (size_t i = 0; i < m->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = m->opset_import[i];
    if (o->domain && o->domain[0] && strcmp(o->domain, "ai.onnx") != 0)
      continue;
    if (o->version < MIN_OPSET || o->version > MAX_OPSET)
      return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                       "%s: ONNX opset %lld is not supported (%d to %d are)", path,
                       (long long)o->version, MIN_OPSET, MAX_OPSET);
    return CLRN_STATUS_SUCCESS;
  }
  return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: the ONNX model imports no standard opset",
                   path);
}

/* The image input: [N, 3, H, W] of float, H and W recorded when fixed. */
static clrn_status read_input(reader *r, const Onnx__ValueInfoProto *v) {
  clrn_onnx_net *net = r->net;
  const Onnx__TypeProto *type = v->type;
  const Onnx__TypeProto__Tensor *t =
      type && type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ? type->tensor_type : NULL;
  if (type && (!t || t->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT))
    return clrn_fail(CLRN_STATUS_UNSUPPORTED, "%s: ONNX input '%.200s' is not a float tensor",
                     r->path, v->name);
  const Onnx__TensorShapeProto *s = t ? t->shape : NULL;
  if (s) {
    bool fixed[4];
    int64_t d[4];
    for (size_t i = 0; i < s->n_dim && i < 4; i++) {
      fixed[i] = s->dim[i]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d[i] = fixed[i] ? s->dim[i]->dim_value : 0;
    }
    if (s->n_dim != 4 || (fixed[1] && d[1] != 3))
      return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                       "%s: ONNX input '%.200s' is not an [N, 3, H, W] image batch", r->path,
                       v->name);
    if (fixed[2] && fixed[3] && d[2] >= 1 && d[3] >= 1 && d[2] <= 16384 && d[3] <= 16384) {
      net->height = (int)d[2];
      net->width = (int)d[3];
    }
  }
  net->input = new_value(r);
  return define(r, v->name, net->input, NULL);
}

static clrn_status read_graph(reader *r, const Onnx__GraphProto *g) {
  clrn_onnx_net *net = r->net;
  if (g->n_sparse_initializer)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED, "%s: sparse initializers are not supported", r->path);
  for (size_t i = 0; i < g->n_initializer; i++) {
    if (!g->initializer[i]->name || !g->initializer[i]->name[0])
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: an ONNX initializer has no name", r->path);
    CLRN_TRY(define(r, g->initializer[i]->name, -1, g->initializer[i]));
  }
  net->input = -1;
  for (size_t i = 0; i < g->n_input; i++) {
    if (!g->input[i]->name || !g->input[i]->name[0])
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: an ONNX graph input has no name", r->path);
    slot *s = find_slot(r, g->input[i]->name);
    if (s->name && s->constant)
      continue; /* an initializer also listed as an input (older exporters) */
    if (net->input >= 0)
      return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                       "%s: the ONNX graph has more than one input ('%.200s' too)", r->path,
                       g->input[i]->name);
    CLRN_TRY(read_input(r, g->input[i]));
  }
  if (net->input < 0)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: the ONNX graph has no image input", r->path);
  for (size_t i = 0; i < g->n_node; i++) {
    r->node = g->node[i];
    CLRN_TRY(read_node(r));
  }
  if (g->n_output != 1 || !g->output[0]->name)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED, "%s: the ONNX graph has %zu outputs (one expected)",
                     r->path, g->n_output);
  slot *out = find_slot(r, g->output[0]->name);
  if (!out->name || out->value < 0 || out->value == net->input)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: the ONNX graph output '%.200s' is not computed by its nodes", r->path,
                     g->output[0]->name);
  net->output = out->value;
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_onnx_net_read(const Onnx__ModelProto *model, const char *path,
                               clrn_onnx_net *net) {
  memset(net, 0, sizeof *net);
  CLRN_TRY(check_opset(model, path));
  const Onnx__GraphProto *g = model->graph;
  if (g->n_node > CLRN_ONNX_MAX_NODES || g->n_initializer > CLRN_ONNX_MAX_INITIALIZERS)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "%s: the ONNX graph has %zu nodes and %zu initializers (at most %d of each)",
                     path, g->n_node, g->n_initializer, CLRN_ONNX_MAX_NODES);
  size_t names = g->n_initializer + g->n_input + 1;
  for (size_t i = 0; i < g->n_node; i++) {
    if (g->node[i]->n_output > 8 || g->node[i]->n_input > 8)
      return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                       "%s: ONNX node '%.200s' (%.64s) has %zu inputs and %zu outputs (at most 8)",
                       path, node_name(g->node[i]), g->node[i]->op_type, g->node[i]->n_input,
                       g->node[i]->n_output);
    names += g->node[i]->n_output;
  }
  size_t capacity = 64;
  while (capacity < 2 * names)
    capacity *= 2;
  reader r = {
      .path = path, .net = net, .slots = calloc(capacity, sizeof(slot)), .slot_mask = capacity - 1};
  if (!r.slots)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: ONNX value names", path);
  clrn_status status = read_graph(&r, g);
  free(r.slots);
  if (status != CLRN_STATUS_SUCCESS)
    clrn_onnx_net_free(net);
  return status;
}

void clrn_onnx_net_free(clrn_onnx_net *net) {
  free(net->layers);
  memset(net, 0, sizeof *net);
}
