/* Loading ONNX node test cases (model.onnx through protobuf-c, the .pb tensors
 * through src/weights/onnx_tensor.c), node attributes, device buffers and the
 * comparison with ONNX's expected outputs (see conformance.h). */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"
#include "harness.h"

conf_outcome conf_refuse(conf_skip *skip, const char *reason, const char *format, ...) {
  skip->reason = reason;
  va_list args;
  va_start(args, format);
  vsnprintf(skip->detail, sizeof skip->detail, format, args);
  va_end(args);
  return CONF_SKIPPED;
}

conf_outcome conf_error(const char *call, clrn_status status) {
  printf("    %s -> %s: %s\n", call, clrn_status_string(status), clrn_last_error());
  return CONF_ERROR;
}

/* ---- node attributes ---------------------------------------------------------- */

const Onnx__AttributeProto *conf_attr(const Onnx__NodeProto *node, const char *name) {
  for (size_t i = 0; i < node->n_attribute; i++)
    if (node->attribute[i]->name && strcmp(node->attribute[i]->name, name) == 0)
      return node->attribute[i];
  return NULL;
}

int64_t conf_attr_int(const Onnx__NodeProto *node, const char *name, int64_t fallback) {
  const Onnx__AttributeProto *a = conf_attr(node, name);
  return a ? a->i : fallback;
}

float conf_attr_float(const Onnx__NodeProto *node, const char *name, float fallback) {
  const Onnx__AttributeProto *a = conf_attr(node, name);
  return a ? a->f : fallback;
}

bool conf_attr_string_is(const Onnx__NodeProto *node, const char *name, const char *value,
                         const char *fallback_value) {
  const Onnx__AttributeProto *a = conf_attr(node, name);
  if (!a)
    return strcmp(fallback_value, value) == 0;
  return a->s.len == strlen(value) && memcmp(a->s.data, value, a->s.len) == 0;
}

const int64_t *conf_attr_ints(const Onnx__NodeProto *node, const char *name, size_t *count) {
  const Onnx__AttributeProto *a = conf_attr(node, name);
  *count = a ? a->n_ints : 0;
  return a ? a->ints : NULL;
}

/* ---- tensors ---------------------------------------------------------------- */

void conf_tensor_alloc(conf_tensor *out, int ndim, const int64_t *shape) {
  memset(out, 0, sizeof *out);
  out->type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  out->ndim = ndim;
  out->count = 1;
  for (int i = 0; i < ndim; i++) {
    out->shape[i] = shape[i];
    out->count *= (size_t)shape[i];
  }
  out->data = malloc(out->count ? out->count * sizeof(float) : 1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(out->data);
}

const char *conf_shape_string(const conf_tensor *t, char *buffer, size_t size) {
  size_t used = (size_t)snprintf(buffer, size, "[");
  for (int i = 0; i < t->ndim && used < size; i++)
    used += (size_t)snprintf(buffer + used, size - used, "%s%lld", i ? "," : "",
                             (long long)t->shape[i]);
  if (used < size)
    snprintf(buffer + used, size - used, "]");
  return buffer;
}

bool conf_fits_int(const conf_tensor *t) {
  if (t->count > (size_t)INT32_MAX)
    return false;
  for (int i = 0; i < t->ndim; i++)
    if (t->shape[i] > INT32_MAX)
      return false;
  return true;
}

static clrn_status enqueue(clrn_context *context, const conf_op *op, cl_command_queue queue,
                           const clrn_tensor *in, const clrn_tensor *out, cl_event *event) {
  switch (op->kind) {
  case CONF_OP_CONV: return clrn_conv2d_enqueue(op->conv, queue, in, NULL, out, 0, NULL, event);
  case CONF_OP_MAXPOOL:
    return clrn_maxpool2d_enqueue(context, queue, op->pool, in, out, 0, NULL, event);
  case CONF_OP_AVGPOOL:
    return clrn_avgpool2d_enqueue(context, queue, op->pool, in, out, 0, NULL, event);
  case CONF_OP_GLOBAL_AVGPOOL:
    return clrn_adaptive_avgpool2d_enqueue(context, queue, in, out, 0, NULL, event);
  case CONF_OP_BATCHNORM:
    return clrn_batchnorm_enqueue(op->batchnorm, queue, in, out, 0, NULL, event);
  case CONF_OP_RELU: return clrn_relu_enqueue(context, queue, in, out, 0, NULL, event);
  case CONF_OP_SOFTMAX: return clrn_softmax_enqueue(context, queue, in, out, 0, NULL, event);
  case CONF_OP_LINEAR: return clrn_linear_enqueue(op->linear, queue, in, out, 0, NULL, event);
  }
  return CLRN_STATUS_INVALID_ARGUMENT;
}

conf_outcome conf_run_op(clrn_context *context, const conf_op *op, const conf_tensor *x,
                         const int *in, conf_tensor *out, const int *out_nchw) {
  static const char *const names[] = {"clrn_conv2d_enqueue",    "clrn_maxpool2d_enqueue",
                                      "clrn_avgpool2d_enqueue", "clrn_adaptive_avgpool2d_enqueue",
                                      "clrn_batchnorm_enqueue", "clrn_relu_enqueue",
                                      "clrn_softmax_enqueue",   "clrn_linear_enqueue"};
  cl_mem src = ops_buffer(context, x->data, x->count), dst = ops_buffer(context, NULL, out->count);
  clrn_tensor ti = {src, in[0], in[1], in[2], in[3]};
  clrn_tensor to = {dst, out_nchw[0], out_nchw[1], out_nchw[2], out_nchw[3]};
  cl_event event = NULL;
  clrn_status status = enqueue(context, op, clrn_context_queue(context, 0), &ti, &to, &event);
  conf_outcome outcome = CONF_RAN;
  if (status == CLRN_STATUS_SUCCESS)
    ops_read(context, event, dst, out->data, out->count);
  else
    outcome = conf_error(names[op->kind], status);
  clReleaseMemObject(src);
  clReleaseMemObject(dst);
  return outcome;
}

/* ---- cases ------------------------------------------------------------------ */

Onnx__ModelProto *conf_model_load(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/model.onnx", dir);
  FILE *file = fopen(path, "rb");
  if (!file) {
    printf("    cannot open %s\n", path);
    return NULL;
  }
  unsigned char *bytes = NULL;
  size_t size = 0, room = 0, got;
  do {
    if (size == room) {
      room = room ? 2 * room : 65536;
      unsigned char *grown = realloc(bytes, room);
      CU_ASSERT_PTR_NOT_NULL_FATAL(grown);
      bytes = grown;
    }
    got = fread(bytes + size, 1, room - size, file);
    size += got;
  } while (got > 0);
  fclose(file);
  Onnx__ModelProto *model = onnx__model_proto__unpack(NULL, size, bytes);
  free(bytes);
  if (!model)
    printf("    %s is not a valid ONNX model\n", path);
  return model;
}

/* The place of the value called name among the graph's inputs (or outputs), or -1. */
static int value_index(Onnx__ValueInfoProto **values, size_t count, const char *name) {
  for (size_t i = 0; i < count; i++)
    if (values[i]->name && strcmp(values[i]->name, name) == 0)
      return (int)i;
  return -1;
}

/* Fills t from proto; refuses a non-float input. */
static conf_outcome read_tensor(const Onnx__TensorProto *proto, const char *what, bool input,
                                conf_tensor *t, conf_skip *skip) {
  uint64_t elements = 0;
  t->type = proto->data_type;
  clrn_status status = clrn_onnx_tensor_shape(proto, &t->ndim, t->shape, &elements);
  if (status != CLRN_STATUS_SUCCESS)
    return conf_error("clrn_onnx_tensor_shape", status);
  if (t->type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
    return input ? conf_refuse(skip, "not float32", "%s is %s", what, clrn_onnx_type_name(t->type))
                 : CONF_RAN;
  t->count = (size_t)elements;
  t->data = malloc(t->count ? t->count * sizeof(float) : 1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t->data);
  status = clrn_onnx_tensor_read_f32(proto, t->data, elements);
  return status == CLRN_STATUS_SUCCESS ? CONF_RAN : conf_error("clrn_onnx_tensor_read_f32", status);
}

/* Reads <set_dir>/<prefix>_<k>.pb into t; refuses a non-float input. */
static conf_outcome load_tensor(const char *set_dir, const char *prefix, int k, bool input,
                                conf_tensor *t, conf_skip *skip) {
  char path[8192], what[64];
  snprintf(path, sizeof path, "%s/%s_%d.pb", set_dir, prefix, k);
  snprintf(what, sizeof what, "%s %d", prefix, k);
  Onnx__TensorProto *proto = NULL;
  clrn_status status = clrn_onnx_tensor_load(path, &proto);
  if (status != CLRN_STATUS_SUCCESS)
    return conf_error("clrn_onnx_tensor_load", status);
  conf_outcome outcome = read_tensor(proto, what, input, t, skip);
  onnx__tensor_proto__free_unpacked(proto, NULL);
  return outcome;
}

/* The graph's initializer called name (older tests keep weights there), or NULL. */
static const Onnx__TensorProto *initializer(const Onnx__GraphProto *graph, const char *name) {
  for (size_t i = 0; i < graph->n_initializer; i++)
    if (graph->initializer[i]->name && strcmp(graph->initializer[i]->name, name) == 0)
      return graph->initializer[i];
  return NULL;
}

conf_outcome conf_case_load(const char *set_dir, const Onnx__GraphProto *graph, conf_case *c,
                            conf_skip *skip) {
  const Onnx__NodeProto *node = graph->node[0];
  c->node = node;
  if (node->n_input > CONF_MAX_IO || node->n_output > CONF_MAX_IO) {
    printf("    node has %zu inputs and %zu outputs\n", node->n_input, node->n_output);
    return CONF_ERROR;
  }
  c->n_inputs = (int)node->n_input;
  c->n_outputs = (int)node->n_output;
  for (size_t j = 0; j < node->n_input; j++) {
    if (!node->input[j][0])
      continue; /* an optional input left out */
    const Onnx__TensorProto *init = initializer(graph, node->input[j]);
    if (init) {
      conf_outcome outcome = read_tensor(init, node->input[j], true, &c->inputs[j], skip);
      if (outcome != CONF_RAN)
        return outcome;
      continue;
    }
    int k = value_index(graph->input, graph->n_input, node->input[j]);
    if (k < 0) {
      printf("    node input '%s' is not a graph input\n", node->input[j]);
      return CONF_ERROR;
    }
    conf_outcome outcome = load_tensor(set_dir, "input", k, true, &c->inputs[j], skip);
    if (outcome != CONF_RAN)
      return outcome;
  }
  for (size_t j = 0; j < node->n_output; j++) {
    int k = value_index(graph->output, graph->n_output, node->output[j]);
    if (k < 0) {
      printf("    node output '%s' is not a graph output\n", node->output[j]);
      return CONF_ERROR;
    }
    conf_outcome outcome = load_tensor(set_dir, "output", k, false, &c->outputs[j], skip);
    if (outcome != CONF_RAN)
      return outcome;
  }
  return CONF_RAN;
}

void conf_case_free(conf_case *c) {
  for (int i = 0; i < CONF_MAX_IO; i++) {
    free(c->inputs[i].data);
    free(c->outputs[i].data);
  }
  memset(c->inputs, 0, sizeof c->inputs);
  memset(c->outputs, 0, sizeof c->outputs);
}

double conf_worst_ratio;
char conf_worst_case[256];

bool conf_compare(const char *name, const conf_tensor *got, const conf_tensor *want, double rtol,
                  double atol) {
  char a[128], b[128];
  bool same = got->ndim == want->ndim;
  for (int i = 0; same && i < got->ndim; i++)
    same = got->shape[i] == want->shape[i];
  if (!same) {
    printf("    %s: output shape %s, ONNX expects %s\n", name, conf_shape_string(got, a, sizeof a),
           conf_shape_string(want, b, sizeof b));
    return false;
  }
  size_t bad = 0;
  for (size_t i = 0; i < want->count; i++) {
    double g = got->data[i], w = want->data[i], bound = atol + rtol * fabs(w);
    bool ok = isnan(w) ? isnan(g) : isinf(w) ? g == w : fabs(g - w) <= bound;
    if (ok && isfinite(w) && fabs(g - w) / bound > conf_worst_ratio) {
      conf_worst_ratio = fabs(g - w) / bound;
      snprintf(conf_worst_case, sizeof conf_worst_case, "%s", name);
    }
    if (!ok && bad++ < 5)
      printf("    %s: element %zu is %.9g, ONNX expects %.9g\n", name, i, g, w);
  }
  if (bad)
    printf("    %s: %zu of %zu elements differ beyond rtol %g, atol %g\n", name, bad, want->count,
           rtol, atol);
  return bad == 0;
}
