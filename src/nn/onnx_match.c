/* Matches an ONNX graph's layers onto the graph clresnet builds for each torchvision
 * architecture (see onnx_match.h). The walk follows our graph in execution order:
 * the image input is the ONNX graph's input, and each of our nodes must be a not
 * yet matched layer of the same kind and parameters (kernel, stride, padding,
 * groups, channels) that reads the values our node's inputs were matched to; of
 * several such layers (a block's first convolution and its downsample read the
 * same value), the one followed by the same chain of kinds is taken. The match
 * holds when every node has its layer, no layer is left over and the logits are
 * the graph's output, so a wrong choice can only refuse a graph, never accept a
 * wrong one. */
#include "nn/onnx_match.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "nn/arch.h"
#include "nn/graph.h"
#include "nn/onnx_layers.h"
#include "weights/onnx_tensor.h"

#define CHAIN 3 /* kinds compared after a node to tell equal candidates apart */

typedef struct matcher {
  const clrn_onnx_net *net;
  const clrn_graph *g;
  int *value_map;    /* our value -> ONNX value, or -1 */
  int *layer_of;     /* our node -> layer */
  bool *used;        /* per layer */
  int *layer_reader; /* per ONNX value: its only reading layer, else < 0 */
  int *node_reader;  /* per value of ours: its only reading node, else < 0 */
  char why[400];     /* where the match failed */
} matcher;

/* only[v] = the one item (a node or a layer: count items of size bytes, with their
 * int inputs[2] at offset) reading value v; -1 when none does, -2 when several. */
static void find_single_readers(const void *items, size_t count, size_t size, size_t offset,
                                int *only, size_t values) {
  for (size_t v = 0; v < values; v++)
    only[v] = -1;
  for (size_t i = 0; i < count; i++) {
    const int *inputs = (const int *)((const char *)items + i * size + offset);
    for (int k = 0; k < 2; k++) {
      int v = inputs[k];
      if (v >= 0 && (size_t)v < values && only[v] != (int)i)
        only[v] = only[v] == -1 ? (int)i : -2;
    }
  }
}

/* Whether the chains of single readers after our node and after a layer have the
 * same kinds, for CHAIN steps or until both end. */
static bool same_chain(const matcher *m, int node, int layer) {
  for (int step = 0; step < CHAIN; step++) {
    node = m->node_reader[m->g->nodes[node].output];
    layer = m->layer_reader[m->net->layers[layer].output];
    if (node < 0 || layer < 0)
      return node < 0 && layer < 0;
    if (m->g->nodes[node].kind != m->net->layers[layer].kind)
      return false;
  }
  return true;
}

/* Whether layer l computes our node n from the values n's inputs were matched to. */
static bool fits(const matcher *m, const clrn_node *n, const clrn_onnx_layer *l) {
  int a = m->value_map[n->inputs[0]];
  if (l->kind != n->kind)
    return false;
  if (n->kind == CLRN_NODE_ADD) {
    int b = m->value_map[n->inputs[1]];
    return (l->inputs[0] == a && l->inputs[1] == b) || (l->inputs[0] == b && l->inputs[1] == a);
  }
  if (l->inputs[0] != a)
    return false;
  const clrn_value *in = &m->g->values[n->inputs[0]];
  switch (n->kind) {
  case CLRN_NODE_CONV:
    return l->kernel == n->kernel && l->stride == n->stride && l->pad == n->pad &&
           l->groups == n->groups && l->out_channels == n->out_channels &&
           l->in_channels == n->in_channels / n->groups;
  case CLRN_NODE_BATCHNORM: return l->out_channels == n->out_channels;
  case CLRN_NODE_MAXPOOL:
    return l->kernel == n->kernel && l->stride == n->stride && l->pad == n->pad;
  case CLRN_NODE_AVGPOOL: return l->kernel == 0 || (l->kernel == in->h && l->kernel == in->w);
  case CLRN_NODE_LINEAR:
    return l->out_channels == n->out_channels && l->in_channels == n->in_channels;
  default: return true;
  }
}

/* Where a value comes from, for messages. */
static const char *producer(const matcher *m, int onnx_value) {
  for (size_t i = 0; i < m->net->count; i++)
    if (m->net->layers[i].output == onnx_value)
      return m->net->layers[i].name;
  return "the graph input";
}

static const char *kind_name(clrn_node_kind kind) {
  static const char *const names[] = {"Conv",    "BatchNormalization", "Relu", "Add",
                                      "MaxPool", "average pooling",    "Gemm"};
  return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

/* Matches every node of m->g in order; false with m->why set when one has no
 * layer, a layer is left over, or the output differs. */
static bool match(matcher *m, size_t *matched) {
  const clrn_graph *g = m->g;
  const clrn_onnx_net *net = m->net;
  for (size_t v = 0; v < g->value_count; v++)
    m->value_map[v] = -1;
  memset(m->used, 0, net->count * sizeof *m->used);
  m->value_map[g->input] = net->input;
  for (*matched = 0; *matched < g->node_count; (*matched)++) {
    const clrn_node *n = &g->nodes[*matched];
    int found = -1;
    for (size_t i = 0; i < net->count; i++) {
      if (m->used[i] || !fits(m, n, &net->layers[i]))
        continue;
      if (found < 0 ||
          (!same_chain(m, (int)*matched, found) && same_chain(m, (int)*matched, (int)i)))
        found = (int)i;
    }
    if (found < 0) {
      snprintf(m->why, sizeof m->why, "has no %s node matching its %s after '%.120s'",
               kind_name(n->kind), n->name, producer(m, m->value_map[n->inputs[0]]));
      return false;
    }
    m->used[found] = true;
    m->layer_of[*matched] = found;
    m->value_map[n->output] = net->layers[found].output;
  }
  for (size_t i = 0; i < net->count; i++)
    if (!m->used[i]) {
      snprintf(m->why, sizeof m->why, "has no counterpart for ONNX node '%.120s' (%.40s)",
               net->layers[i].name, net->layers[i].op);
      return false;
    }
  if (m->value_map[g->output] != net->output) {
    snprintf(m->why, sizeof m->why, "computes its logits elsewhere than the graph output");
    return false;
  }
  return true;
}

/* Registers the tensors of every matched node under its torchvision name. */
static clrn_status name_tensors(clrn_weights *w, const matcher *m) {
  clrn_onnx_model *model = &w->onnx;
  static const char *const bn_leaves[4] = {"weight", "bias", "running_mean", "running_var"};
  char name[96];
  for (size_t i = 0; i < m->g->node_count; i++) {
    const clrn_node *n = &m->g->nodes[i];
    const clrn_onnx_layer *l = &m->net->layers[m->layer_of[i]];
    int64_t o = n->out_channels;
    switch (n->kind) {
    case CLRN_NODE_CONV: {
      int64_t shape[4] = {o, n->in_channels / n->groups, n->kernel, n->kernel};
      snprintf(name, sizeof name, "%s.weight", n->name);
      CLRN_TRY(clrn_onnx_add(model, name, l->tensors[0], false, 4, shape));
      if (w->conv_bias) {
        snprintf(name, sizeof name, "%s.bias", n->name);
        CLRN_TRY(clrn_onnx_add(model, name, l->tensors[1], false, 1, &o));
      }
      break;
    }
    case CLRN_NODE_BATCHNORM:
      for (int k = 0; k < 4; k++) {
        snprintf(name, sizeof name, "%s.%s", n->name, bn_leaves[k]);
        CLRN_TRY(clrn_onnx_add(model, name, l->tensors[k], false, 1, &o));
      }
      CLRN_TRY(clrn_onnx_add_eps(model, n->name, l->eps));
      break;
    case CLRN_NODE_LINEAR: {
      int64_t shape[2] = {o, n->in_channels};
      snprintf(name, sizeof name, "%s.weight", n->name);
      CLRN_TRY(clrn_onnx_add(model, name, l->tensors[0], l->transpose, 2, shape));
      snprintf(name, sizeof name, "%s.bias", n->name);
      CLRN_TRY(clrn_onnx_add(model, name, l->tensors[1], false, 1, &o));
      break;
    }
    default: break;
    }
  }
  return clrn_onnx_finish(model);
}

/* Builds arch's graph in the form of net and tries to match it. */
static clrn_status try_arch(const clrn_arch_spec *spec, const clrn_onnx_net *net, int classes,
                            matcher *m, clrn_graph *g, bool *ok, size_t *matched) {
  *ok = false;
  *matched = 0;
  CLRN_TRY(clrn_graph_build(spec->arch, classes, net->height ? net->height : 224,
                            net->width ? net->width : 224, g));
  if (!net->batchnorms)
    clrn_graph_drop_batchnorm(g);
  m->g = g;
  m->value_map = malloc(g->value_count * sizeof *m->value_map);
  m->layer_of = malloc(g->node_count * sizeof *m->layer_of);
  m->node_reader = malloc(g->value_count * sizeof *m->node_reader);
  clrn_status status = CLRN_STATUS_SUCCESS;
  if (!m->value_map || !m->layer_of || !m->node_reader)
    status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "ONNX graph match");
  else {
    find_single_readers(g->nodes, g->node_count, sizeof *g->nodes, offsetof(clrn_node, inputs),
                        m->node_reader, g->value_count);
    *ok = match(m, matched);
  }
  free(m->node_reader);
  m->node_reader = NULL;
  if (!*ok) {
    free(m->value_map);
    free(m->layer_of);
    clrn_graph_free(g);
  }
  return status;
}

clrn_status clrn_onnx_bind(clrn_weights *w, clrn_arch *arch) {
  clrn_onnx_net net;
  CLRN_TRY(clrn_onnx_net_read(w->onnx.model, w->path, &net));
  int classes = 1000;
  for (size_t i = 0; i < net.count; i++)
    if (net.layers[i].kind == CLRN_NODE_LINEAR)
      classes = net.layers[i].out_channels;
  matcher m = {.net = &net,
               .used = calloc(net.count ? net.count : 1, sizeof(bool)),
               .layer_reader = malloc((size_t)net.value_count * sizeof(int) + 1)};
  if (!m.used || !m.layer_reader) {
    free(m.used);
    free(m.layer_reader);
    clrn_onnx_net_free(&net);
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "ONNX graph match");
  }
  find_single_readers(net.layers, net.count, sizeof *net.layers, offsetof(clrn_onnx_layer, inputs),
                      m.layer_reader, (size_t)net.value_count);
  size_t count, best = 0;
  const clrn_arch_spec *specs = clrn_arch_specs(&count), *found = NULL;
  char why[600] = "has no layers";
  clrn_graph g;
  clrn_status status = CLRN_STATUS_SUCCESS;
  for (size_t i = 0; i < count && !found && status == CLRN_STATUS_SUCCESS; i++) {
    bool ok;
    size_t matched;
    status = try_arch(&specs[i], &net, classes, &m, &g, &ok, &matched);
    if (ok)
      found = &specs[i];
    else if (status == CLRN_STATUS_SUCCESS && (matched > best || i == 0)) {
      best = matched;
      snprintf(why, sizeof why, "%s, %s", specs[i].name, m.why);
    }
  }
  if (status == CLRN_STATUS_SUCCESS && !found)
    status = clrn_fail(CLRN_STATUS_MISMATCH,
                       "%s: the ONNX graph is not one of the torchvision ResNets (" CLRN_ARCH_NAMES
                       "); the closest, %s",
                       w->path, why);
  if (found) {
    w->batchnorm_folded = net.batchnorms == 0;
    w->conv_bias = net.conv_biases > 0;
    status = name_tensors(w, &m);
    *arch = found->arch;
    free(m.value_map);
    free(m.layer_of);
    clrn_graph_free(&g);
  }
  free(m.used);
  free(m.layer_reader);
  clrn_onnx_net_free(&net);
  return status;
}
