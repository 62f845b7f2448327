/* The graph in the form a weights file has (see clrn_graph_build_for in graph.h):
 * torchvision's module graph, with the convolutions' own biases and without the
 * BatchNorm nodes that an exporter folded into them (torch.onnx in eval mode), and
 * the BatchNorm epsilons the file states. */
#include <stdlib.h>

#include "base/error.h"
#include "nn/graph.h"
#include "weights/weights.h"

void clrn_graph_drop_batchnorm(clrn_graph *g) {
  /* Every value a BatchNorm produces is replaced by its input, ... */
  size_t kept = 0;
  for (size_t i = 0; i < g->node_count; i++) {
    clrn_node n = g->nodes[i];
    if (n.kind != CLRN_NODE_BATCHNORM) {
      g->nodes[kept++] = n;
      continue;
    }
    for (size_t j = i + 1; j < g->node_count; j++)
      for (int k = 0; k < 2; k++)
        if (g->nodes[j].inputs[k] == n.output)
          g->nodes[j].inputs[k] = n.inputs[0];
    if (g->output == n.output)
      g->output = n.inputs[0];
  }
  g->node_count = kept;
  /* ... and the values left without a producer are removed, the others renumbered
   * in their order (new index <= old index, so the copy runs in place). */
  int *renumber = malloc(g->value_count * sizeof *renumber);
  if (!renumber)
    return; /* the orphan values stay: unread and unwritten, they cost nothing */
  for (size_t v = 0; v < g->value_count; v++)
    renumber[v] = -1;
  renumber[g->input] = 0;
  for (size_t i = 0; i < g->node_count; i++)
    renumber[g->nodes[i].output] = 0;
  size_t used = 0;
  for (size_t v = 0; v < g->value_count; v++)
    if (renumber[v] == 0) {
      g->values[used] = g->values[v];
      renumber[v] = (int)used++;
    }
  for (size_t i = 0; i < g->node_count; i++) {
    clrn_node *n = &g->nodes[i];
    n->output = renumber[n->output];
    for (int k = 0; k < 2; k++)
      if (n->inputs[k] >= 0)
        n->inputs[k] = renumber[n->inputs[k]];
  }
  g->input = renumber[g->input];
  g->output = renumber[g->output];
  g->value_count = used;
  free(renumber);
}

clrn_status clrn_graph_build_for(const clrn_weights *w, int height, int width, clrn_graph *g) {
  CLRN_TRY(clrn_graph_build(w->arch, w->num_classes, height, width, g));
  for (size_t i = 0; i < g->node_count; i++) {
    clrn_node *n = &g->nodes[i];
    if (n->kind == CLRN_NODE_CONV && w->conv_bias)
      n->bias = true;
    double eps;
    if (n->kind == CLRN_NODE_BATCHNORM && clrn_weights_batchnorm_eps(w, n->name, &eps))
      n->eps = eps;
  }
  if (w->batchnorm_folded)
    clrn_graph_drop_batchnorm(g);
  return CLRN_STATUS_SUCCESS;
}
