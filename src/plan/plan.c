/* Builds the execution plan (see plan.h): fusion, the per-step algorithm choice,
 * host weights read, folded and packed, and the step order. Buffer slots and
 * memory needs are in memory.c. */
#include "plan/plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "weights/weights.h"

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

/* Weights per output channel of a convolution node: [in / groups][k][k]. */
static size_t conv_per_out(const clrn_node *n) {
  return (size_t)(n->in_channels / n->groups) * n->kernel * n->kernel;
}

/* Folds BatchNorm bn (>= 0) into the weight of node conv: w' = w * gamma/sqrt(var+eps)
 * per output channel, shift = beta + (bias - mean) * that, with bias the
 * convolution's own (NULL: none). */
static clrn_status fold_batchnorm(const clrn_weights *w, const clrn_graph *g, int conv, int bn,
                                  const float *bias, float *weight, float *vectors, float **shift) {
  const clrn_node *n = &g->nodes[conv];
  size_t per_out = conv_per_out(n);
  int c = n->out_channels;
  float *v[4] = {vectors, vectors + c, vectors + 2 * c, vectors + 3 * c};
  *shift = vectors + 4 * c;
  CLRN_TRY(read_batchnorm(w, g->nodes[bn].name, c, v));
  for (int o = 0; o < c; o++) {
    double scale = (double)v[0][o] / sqrt((double)v[3][o] + g->nodes[bn].eps);
    double before = (bias ? (double)bias[o] : 0.0) - (double)v[2][o];
    (*shift)[o] = (float)((double)v[1][o] + before * scale);
    for (size_t i = 0; i < per_out; i++)
      weight[(size_t)o * per_out + i] = (float)(weight[(size_t)o * per_out + i] * scale);
  }
  return CLRN_STATUS_SUCCESS;
}

/* Plans the convolution of node conv: its algorithm from the tuning values, its
 * weight (with bn >= 0 the BatchNorm folded in) packed for that algorithm. */
static clrn_status make_conv(const clrn_conv_tuning *tuning, const clrn_weights *w,
                             const clrn_graph *g, int conv, int bn, bool relu, clrn_step *step) {
  const clrn_node *n = &g->nodes[conv];
  size_t per_out = conv_per_out(n);
  size_t count = (size_t)n->out_channels * per_out;
  int c = n->out_channels;
  float *weight = malloc(count * sizeof *weight);
  float *vectors = malloc(6 * (size_t)c * sizeof *vectors); /* BatchNorm, shift, bias */
  clrn_status status = CLRN_STATUS_SUCCESS;
  if (!weight || !vectors) {
    status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "weights of %s", n->name);
    goto done;
  }
  CLRN_GOTO(read_tensor(w, n->name, "weight", 4, c, n->in_channels / n->groups, n->kernel,
                        n->kernel, weight),
            done, status);
  float *bias = NULL, *shift = NULL;
  if (n->bias) {
    bias = vectors + 5 * c;
    CLRN_GOTO(read_tensor(w, n->name, "bias", 1, c, 0, 0, 0, bias), done, status);
  }
  if (bn >= 0) {
    CLRN_GOTO(fold_batchnorm(w, g, conv, bn, bias, weight, vectors, &shift), done, status);
    bias = NULL; /* folded into the shift */
  }
  step->conv = (clrn_conv_shape){.in_channels = n->in_channels,
                                 .out_channels = n->out_channels,
                                 .kernel_h = n->kernel,
                                 .kernel_w = n->kernel,
                                 .stride_h = n->stride,
                                 .stride_w = n->stride,
                                 .pad_h = n->pad,
                                 .pad_w = n->pad,
                                 .groups = n->groups,
                                 .relu = relu};
  const clrn_value *out = &g->values[n->output];
  clrn_conv2d_configure(tuning, &step->conv, (long)out->h * out->w, CLRN_CONV_AUTO, &step->config);
  CLRN_GOTO(clrn_conv2d_pack(&step->conv, &step->config, weight, bias, NULL, shift, &step->packed),
            done, status);
  snprintf(step->kernel, sizeof step->kernel, "conv2d/%s",
           clrn_conv2d_variant_string(step->config.variant));
  clrn_conv2d_config_describe(&step->config, step->choice, sizeof step->choice);
done:
  if (status != CLRN_STATUS_SUCCESS)
    clrn_fail_prefix(status, "%s", n->name);
  free(weight);
  free(vectors);
  return status;
}

static clrn_status make_batchnorm(const clrn_weights *w, const clrn_node *n, clrn_step *step) {
  int c = n->out_channels;
  step->params = malloc(4 * (size_t)c * sizeof *step->params);
  if (!step->params)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "weights of %s", n->name);
  /* The op takes mean and var first; the state_dict order is weight, bias, mean, var. */
  float *v[4] = {step->params + 2 * c, step->params + 3 * c, step->params, step->params + c};
  step->eps = (float)n->eps;
  snprintf(step->kernel, sizeof step->kernel, "batchnorm");
  clrn_status status = read_batchnorm(w, n->name, c, v);
  return status == CLRN_STATUS_SUCCESS ? status : clrn_fail_prefix(status, "%s", n->name);
}

static clrn_status make_linear(const clrn_weights *w, const clrn_node *n, clrn_step *step) {
  size_t count = (size_t)n->out_channels * n->in_channels;
  step->params = malloc((count + (size_t)n->out_channels) * sizeof *step->params);
  if (!step->params)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "weights of %s", n->name);
  clrn_status status =
      read_tensor(w, n->name, "weight", 2, n->out_channels, n->in_channels, 0, 0, step->params);
  if (status == CLRN_STATUS_SUCCESS)
    status = read_tensor(w, n->name, "bias", 1, n->out_channels, 0, 0, 0, step->params + count);
  snprintf(step->kernel, sizeof step->kernel, "linear");
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
  s->channels[0] = n->in_channels;
  s->channels[1] = n->out_channels;
}

/* Plans node i (not yet consumed) into p; marks the nodes it fuses as consumed. */
static clrn_status plan_node(const clrn_conv_tuning *tuning, const clrn_weights *w,
                             const clrn_graph *g, const readers *r, bool fuse, size_t i,
                             bool *consumed, pending *p) {
  const clrn_node *n = &g->nodes[i];
  int in = n->inputs[0];
  p->at = i;
  switch (n->kind) {
  case CLRN_NODE_CONV: {
    int bn = fuse ? only_reader(g, r, (int)i, CLRN_NODE_BATCHNORM) : -1;
    if (bn < 0 && !(fuse && n->bias)) {
      init_step(&p->step, CLRN_STEP_CONV, n, in, -1, n->output);
      p->step.macs = clrn_graph_node_macs(g, n);
      return make_conv(tuning, w, g, (int)i, -1, false, &p->step);
    }
    /* conv [-> bn] [-> add(residual)] [-> relu], fused into one launch (a conv
     * without BatchNorm has its own bias: BatchNorm folded by an exporter). */
    int last = bn >= 0 ? bn : (int)i, residual = -1;
    int add = only_reader(g, r, last, CLRN_NODE_ADD);
    if (add >= 0 && g->nodes[add].inputs[0] == g->nodes[last].output) {
      residual = g->nodes[add].inputs[1];
      last = add;
    }
    int relu = only_reader(g, r, last, CLRN_NODE_RELU);
    if (relu >= 0)
      last = relu;
    if (bn >= 0)
      consumed[bn] = true;
    if (add >= 0 && residual >= 0)
      consumed[add] = true;
    if (relu >= 0)
      consumed[relu] = true;
    init_step(&p->step, CLRN_STEP_CONV, n, in, residual, g->nodes[last].output);
    p->step.macs = clrn_graph_node_macs(g, n);
    p->at = (size_t)last;
    return make_conv(tuning, w, g, (int)i, bn, relu >= 0, &p->step);
  }
  case CLRN_NODE_BATCHNORM:
    init_step(&p->step, CLRN_STEP_BATCHNORM, n, in, -1, n->output);
    return make_batchnorm(w, n, &p->step);
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
    p->step.window[0] = n->kernel;
    p->step.window[1] = n->stride;
    p->step.window[2] = n->pad;
    snprintf(p->step.kernel, sizeof p->step.kernel, "maxpool");
    return CLRN_STATUS_SUCCESS;
  case CLRN_NODE_AVGPOOL:
    init_step(&p->step, CLRN_STEP_AVGPOOL, n, in, -1, n->output);
    snprintf(p->step.kernel, sizeof p->step.kernel, "avgpool");
    return CLRN_STATUS_SUCCESS;
  case CLRN_NODE_LINEAR:
    init_step(&p->step, CLRN_STEP_LINEAR, n, in, -1, n->output);
    p->step.macs = clrn_graph_node_macs(g, n);
    return make_linear(w, n, &p->step);
  }
  return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "unknown node kind %d", (int)n->kind);
}

static void release_step(clrn_step *step) {
  clrn_conv2d_packed_free(&step->packed);
  free(step->params);
  step->params = NULL;
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

clrn_status clrn_plan_build(const clrn_conv_tuning *tuning, const clrn_weights *weights, int height,
                            int width, bool fuse, clrn_plan *plan) {
  memset(plan, 0, sizeof *plan);
  plan->tuning = *tuning;
  CLRN_TRY(clrn_graph_build_for(weights, height, width, &plan->graph));
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
    status = plan_node(tuning, weights, g, r, fuse, i, consumed, &list[count]);
    count++; /* a failed step may hold some weights: freed below */
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
