/* Builds the execution plan (see plan.h): fusion, op creation with weights, and
 * the step order. Buffer slots are assigned in memory.c. */
#include "plan/plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "weights/weights.h"

#define BATCHNORM_EPS 1e-5 /* torchvision's nn.BatchNorm2d default */

/* The nodes that read each value (ResNet values have one or two readers). */
typedef struct readers {
  int count;
  int node[2];
} readers;

static readers *find_readers(const clrn_graph *g) {
  readers *r = calloc(g->value_count, sizeof *r);
  if (!r)
    return NULL;
  for (size_t i = 0; i < g->node_count; i++)
    for (int k = 0; k < 2; k++) {
      int v = g->nodes[i].inputs[k];
      if (v >= 0) {
        if (r[v].count < 2)
          r[v].node[r[v].count] = (int)i;
        r[v].count++;
      }
    }
  return r;
}

/* The single reader of a node's output when it is of the given kind, else -1. */
static int only_reader(const clrn_graph *g, const readers *r, int node, clrn_node_kind kind) {
  int v = g->nodes[node].output;
  if (r[v].count != 1 || g->nodes[r[v].node[0]].kind != kind)
    return -1;
  return r[v].node[0];
}

/* A planned step and the node index after which it runs (fused groups run at
 * their last node, so a residual computed in between is ready). */
typedef struct pending {
  clrn_step step;
  size_t at;
} pending;

static clrn_status read_tensor(const clrn_weights *w, const char *module, const char *leaf,
                               int ndim, int64_t a, int64_t b, int64_t c, int64_t d, float *out) {
  char name[96];
  snprintf(name, sizeof name, "%s.%s", module, leaf);
  int64_t shape[4] = {a, b, c, d};
  return clrn_weights_read(w, name, ndim, shape, out);
}

/* Reads a BatchNorm's four vectors (channels floats each) into bn[0..3]:
 * weight, bias, running_mean, running_var. */
static clrn_status read_batchnorm(const clrn_weights *w, const char *module, int channels,
                                  float *bn[4]) {
  static const char *leaves[4] = {"weight", "bias", "running_mean", "running_var"};
  for (int i = 0; i < 4; i++)
    CLRN_TRY(read_tensor(w, module, leaves[i], 1, channels, 0, 0, 0, bn[i]));
  return CLRN_STATUS_SUCCESS;
}

static clrn_conv2d_desc conv_desc(const clrn_node *n, bool relu) {
  clrn_conv2d_desc d = {.in_channels = n->in_channels,
                        .out_channels = n->out_channels,
                        .kernel_h = n->kernel,
                        .kernel_w = n->kernel,
                        .stride_h = n->stride,
                        .stride_w = n->stride,
                        .pad_h = n->pad,
                        .pad_w = n->pad,
                        .groups = 1,
                        .relu = relu,
                        .variant = CLRN_CONV2D_VARIANT_AUTO};
  return d;
}

/* Creates the convolution of node conv; with bn (>= 0) the BatchNorm is folded in:
 * w' = w * gamma/sqrt(var+eps) per output channel, shift = beta - mean * that. */
static clrn_status make_conv(clrn_context *ctx, const clrn_weights *w, const clrn_graph *g,
                             int conv, int bn, bool relu, clrn_step *step, size_t *bytes) {
  const clrn_node *n = &g->nodes[conv];
  size_t per_out = (size_t)n->in_channels * n->kernel * n->kernel;
  size_t count = (size_t)n->out_channels * per_out;
  int c = n->out_channels;
  float *weight = malloc(count * sizeof *weight);
  float *vectors = malloc(5 * (size_t)c * sizeof *vectors);
  clrn_status status = CLRN_STATUS_SUCCESS;
  if (!weight || !vectors) {
    status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "weights of %s", n->name);
    goto done;
  }
  CLRN_GOTO(read_tensor(w, n->name, "weight", 4, c, n->in_channels, n->kernel, n->kernel, weight),
            done, status);
  float *shift = NULL;
  if (bn >= 0) {
    float *v[4] = {vectors, vectors + c, vectors + 2 * c, vectors + 3 * c};
    shift = vectors + 4 * c;
    CLRN_GOTO(read_batchnorm(w, g->nodes[bn].name, c, v), done, status);
    for (int o = 0; o < c; o++) {
      double scale = (double)v[0][o] / sqrt((double)v[3][o] + BATCHNORM_EPS);
      shift[o] = (float)((double)v[1][o] - (double)v[2][o] * scale);
      for (size_t i = 0; i < per_out; i++)
        weight[(size_t)o * per_out + i] = (float)(weight[(size_t)o * per_out + i] * scale);
    }
  }
  clrn_conv2d_desc desc = conv_desc(n, relu);
  CLRN_GOTO(clrn_conv2d_create(ctx, &desc, weight, NULL, NULL, shift, &step->conv), done, status);
  snprintf(step->kernel, sizeof step->kernel, "conv2d/%s", clrn_conv2d_variant_name(step->conv));
  *bytes += (count + (shift ? (size_t)c : 0)) * sizeof(float);
done:
  if (status != CLRN_STATUS_SUCCESS)
    clrn_fail_prefix(status, "%s", n->name);
  free(weight);
  free(vectors);
  return status;
}

static clrn_status make_batchnorm(clrn_context *ctx, const clrn_weights *w, const clrn_node *n,
                                  clrn_step *step, size_t *bytes) {
  int c = n->out_channels;
  float *vectors = malloc(4 * (size_t)c * sizeof *vectors);
  if (!vectors)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "weights of %s", n->name);
  float *v[4] = {vectors, vectors + c, vectors + 2 * c, vectors + 3 * c};
  clrn_status status = read_batchnorm(w, n->name, c, v);
  if (status == CLRN_STATUS_SUCCESS)
    status = clrn_batchnorm_create(ctx, c, v[2], v[3], v[0], v[1], (float)BATCHNORM_EPS,
                                   &step->batchnorm);
  free(vectors);
  snprintf(step->kernel, sizeof step->kernel, "batchnorm");
  *bytes += 4 * (size_t)c * sizeof(float);
  return status == CLRN_STATUS_SUCCESS ? status : clrn_fail_prefix(status, "%s", n->name);
}

static clrn_status make_linear(clrn_context *ctx, const clrn_weights *w, const clrn_node *n,
                               clrn_step *step, size_t *bytes) {
  size_t count = (size_t)n->out_channels * n->in_channels;
  float *weight = malloc((count + (size_t)n->out_channels) * sizeof *weight);
  if (!weight)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "weights of %s", n->name);
  float *bias = weight + count;
  clrn_status status =
      read_tensor(w, n->name, "weight", 2, n->out_channels, n->in_channels, 0, 0, weight);
  if (status == CLRN_STATUS_SUCCESS)
    status = read_tensor(w, n->name, "bias", 1, n->out_channels, 0, 0, 0, bias);
  if (status == CLRN_STATUS_SUCCESS)
    status = clrn_linear_create(ctx, n->in_channels, n->out_channels, weight, bias, &step->linear);
  free(weight);
  snprintf(step->kernel, sizeof step->kernel, "sgemm");
  *bytes += (count + (size_t)n->out_channels) * sizeof(float);
  return status == CLRN_STATUS_SUCCESS ? status : clrn_fail_prefix(status, "%s", n->name);
}

static void init_step(clrn_step *s, clrn_step_kind kind, const clrn_node *n, int input,
                      int residual, int output) {
  memset(s, 0, sizeof *s);
  s->kind = kind;
  snprintf(s->name, sizeof s->name, "%s", n->name);
  s->inputs[0] = input;
  s->inputs[1] = residual;
  s->output = output;
  s->queue = n->branch;
}

/* Plans node i (not yet consumed) into p; marks the nodes it fuses as consumed. */
static clrn_status plan_node(clrn_context *ctx, const clrn_weights *w, const clrn_graph *g,
                             const readers *r, bool fuse, size_t i, bool *consumed, pending *p,
                             size_t *bytes) {
  const clrn_node *n = &g->nodes[i];
  int in = n->inputs[0];
  p->at = i;
  switch (n->kind) {
  case CLRN_NODE_CONV: {
    int bn = fuse ? only_reader(g, r, (int)i, CLRN_NODE_BATCHNORM) : -1;
    if (bn < 0) {
      init_step(&p->step, CLRN_STEP_CONV, n, in, -1, n->output);
      p->step.macs = clrn_graph_node_macs(g, n);
      return make_conv(ctx, w, g, (int)i, -1, false, &p->step, bytes);
    }
    /* conv -> bn [-> add(residual)] [-> relu], fused into one launch. */
    int last = bn, residual = -1;
    int add = only_reader(g, r, bn, CLRN_NODE_ADD);
    if (add >= 0 && g->nodes[add].inputs[0] == g->nodes[bn].output) {
      residual = g->nodes[add].inputs[1];
      last = add;
    }
    int relu = only_reader(g, r, last, CLRN_NODE_RELU);
    if (relu >= 0)
      last = relu;
    consumed[bn] = true;
    if (add >= 0 && residual >= 0)
      consumed[add] = true;
    if (relu >= 0)
      consumed[relu] = true;
    init_step(&p->step, CLRN_STEP_CONV, n, in, residual, g->nodes[last].output);
    p->step.macs = clrn_graph_node_macs(g, n);
    p->at = (size_t)last;
    return make_conv(ctx, w, g, (int)i, bn, relu >= 0, &p->step, bytes);
  }
  case CLRN_NODE_BATCHNORM:
    init_step(&p->step, CLRN_STEP_BATCHNORM, n, in, -1, n->output);
    return make_batchnorm(ctx, w, n, &p->step, bytes);
  case CLRN_NODE_RELU:
    init_step(&p->step, CLRN_STEP_RELU, n, in, -1, n->output);
    snprintf(p->step.kernel, sizeof p->step.kernel, "relu");
    return CLRN_STATUS_SUCCESS;
  case CLRN_NODE_ADD:
    init_step(&p->step, CLRN_STEP_ADD, n, in, n->inputs[1], n->output);
    snprintf(p->step.kernel, sizeof p->step.kernel, "add");
    return CLRN_STATUS_SUCCESS;
  case CLRN_NODE_MAXPOOL:
    init_step(&p->step, CLRN_STEP_MAXPOOL, n, in, -1, n->output);
    p->step.pool = (clrn_pool2d_desc){.kernel_h = n->kernel,
                                      .kernel_w = n->kernel,
                                      .stride_h = n->stride,
                                      .stride_w = n->stride,
                                      .pad_h = n->pad,
                                      .pad_w = n->pad};
    snprintf(p->step.kernel, sizeof p->step.kernel, "maxpool");
    return CLRN_STATUS_SUCCESS;
  case CLRN_NODE_AVGPOOL:
    init_step(&p->step, CLRN_STEP_AVGPOOL, n, in, -1, n->output);
    snprintf(p->step.kernel, sizeof p->step.kernel, "avgpool");
    return CLRN_STATUS_SUCCESS;
  case CLRN_NODE_LINEAR:
    init_step(&p->step, CLRN_STEP_LINEAR, n, in, -1, n->output);
    p->step.macs = clrn_graph_node_macs(g, n);
    return make_linear(ctx, w, n, &p->step, bytes);
  }
  return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "unknown node kind %d", (int)n->kind);
}

static void release_step(clrn_step *step) {
  clrn_conv2d_release(step->conv);
  clrn_batchnorm_release(step->batchnorm);
  clrn_linear_release(step->linear);
  step->conv = NULL;
  step->batchnorm = NULL;
  step->linear = NULL;
}

static int by_position(const void *a, const void *b) {
  const pending *x = a, *y = b;
  return x->at < y->at ? -1 : x->at > y->at ? 1 : 0;
}

/* Appends the softmax step that turns the logits into probabilities. */
static clrn_status add_softmax(clrn_plan *plan) {
  clrn_graph *g = &plan->graph;
  clrn_value *grown = realloc(g->values, (g->value_count + 1) * sizeof *grown);
  if (!grown)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "plan");
  g->values = grown;
  g->values[g->value_count] = g->values[g->output];
  plan->probs_value = (int)g->value_count++;
  clrn_step *s = &plan->steps[plan->step_count++];
  memset(s, 0, sizeof *s);
  s->kind = CLRN_STEP_SOFTMAX;
  snprintf(s->name, sizeof s->name, "softmax");
  snprintf(s->kernel, sizeof s->kernel, "softmax");
  s->inputs[0] = g->output;
  s->inputs[1] = -1;
  s->output = plan->probs_value;
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_plan_build(clrn_context *ctx, const clrn_weights *weights, int height, int width,
                            bool fuse, clrn_plan *plan) {
  memset(plan, 0, sizeof *plan);
  CLRN_TRY(clrn_graph_build(clrn_weights_arch(weights), clrn_weights_num_classes(weights), height,
                            width, &plan->graph));
  const clrn_graph *g = &plan->graph;
  readers *r = find_readers(g);
  bool *consumed = calloc(g->node_count, sizeof *consumed);
  pending *list = calloc(g->node_count, sizeof *list);
  plan->steps = calloc(g->node_count + 1, sizeof *plan->steps);
  clrn_status status = CLRN_STATUS_SUCCESS;
  size_t count = 0;
  if (!r || !consumed || !list || !plan->steps) {
    status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "plan");
    goto done;
  }
  for (size_t i = 0; i < g->node_count; i++) {
    if (consumed[i])
      continue;
    consumed[i] = true;
    status = plan_node(ctx, weights, g, r, fuse, i, consumed, &list[count], &plan->weight_bytes);
    count++; /* a failed step may hold a partly made op: released below */
    if (status != CLRN_STATUS_SUCCESS)
      goto done;
  }
  qsort(list, count, sizeof *list, by_position);
  for (size_t i = 0; i < count; i++)
    plan->steps[plan->step_count++] = list[i].step;
  count = 0; /* the plan owns the steps now */
  CLRN_GOTO(add_softmax(plan), done, status);
  status = clrn_plan_assign_slots(plan);
done:
  if (status != CLRN_STATUS_SUCCESS) {
    for (size_t i = 0; i < count; i++)
      release_step(&list[i].step);
    clrn_plan_free(plan);
  }
  free(r);
  free(consumed);
  free(list);
  return status;
}

void clrn_plan_free(clrn_plan *plan) {
  for (size_t i = 0; plan->steps && i < plan->step_count; i++)
    release_step(&plan->steps[i]);
  free(plan->steps);
  free(plan->value_slot);
  free(plan->slot_floats);
  clrn_graph_free(&plan->graph);
  memset(plan, 0, sizeof *plan);
}

size_t clrn_plan_value_floats(const clrn_plan *plan, int value) {
  const clrn_value *v = &plan->graph.values[value];
  return (size_t)v->c * (size_t)v->h * (size_t)v->w;
}

size_t clrn_plan_activation_bytes_per_image(const clrn_plan *plan) {
  size_t total = 0;
  for (size_t i = 0; i < plan->slot_count; i++)
    total += plan->slot_floats[i] * sizeof(float);
  return total;
}
