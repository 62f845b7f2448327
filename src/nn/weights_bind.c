/* Binding weights to an architecture: clrn_weights_open infers the ResNet from
 * which tensors a file holds (and the shape of the first grouped convolution;
 * a Keras .h5 file, whose names the reader maps onto the graph's, holds Keras'
 * ResNet50 v1) and
 * checks every tensor torchvision's state_dict has for it (name, dtype, shape),
 * refusing extra ones; clrn_weights_random checks the architecture it is asked for. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/error.h"
#include "nn/arch.h"
#include "nn/graph.h"
#include "nn/onnx_match.h"
#include "weights/weights.h"

/* An expected tensor: its name and shape (ndim 0 for a scalar). */
typedef struct expected_tensor {
  char name[72];
  int ndim;
  int64_t shape[4];
  bool integer; /* num_batches_tracked: I64, optional, ignored */
} expected_tensor;

typedef struct expected_list {
  expected_tensor *items;
  size_t count, capacity;
} expected_list;

static clrn_status expect(expected_list *list, const char *module, const char *leaf, int ndim,
                          int64_t a, int64_t b, int64_t c, int64_t d, bool integer) {
  CLRN_TRY(clrn_array_reserve((void **)&list->items, &list->capacity, list->count + 1,
                              sizeof *list->items, 256, "tensor list"));
  expected_tensor *t = &list->items[list->count++];
  snprintf(t->name, sizeof t->name, "%s.%s", module, leaf);
  t->ndim = ndim;
  int64_t dims[4] = {a, b, c, d};
  memcpy(t->shape, dims, sizeof dims);
  t->integer = integer;
  return CLRN_STATUS_SUCCESS;
}

/* Every tensor torchvision's state_dict has for this graph. */
static clrn_status expected_tensors(const clrn_graph *g, expected_list *list) {
  for (size_t i = 0; i < g->node_count; i++) {
    const clrn_node *n = &g->nodes[i];
    int64_t c = n->out_channels;
    switch (n->kind) {
    case CLRN_NODE_CONV:
      CLRN_TRY(expect(list, n->name, "weight", 4, c, n->in_channels / n->groups, n->kernel,
                      n->kernel, false));
      if (n->bias)
        CLRN_TRY(expect(list, n->name, "bias", 1, c, 0, 0, 0, false));
      break;
    case CLRN_NODE_BATCHNORM:
      CLRN_TRY(expect(list, n->name, "weight", 1, c, 0, 0, 0, false));
      CLRN_TRY(expect(list, n->name, "bias", 1, c, 0, 0, 0, false));
      CLRN_TRY(expect(list, n->name, "running_mean", 1, c, 0, 0, 0, false));
      CLRN_TRY(expect(list, n->name, "running_var", 1, c, 0, 0, 0, false));
      CLRN_TRY(expect(list, n->name, "num_batches_tracked", 0, 0, 0, 0, 0, true));
      break;
    case CLRN_NODE_LINEAR:
      CLRN_TRY(expect(list, n->name, "weight", 2, c, n->in_channels, 0, 0, false));
      CLRN_TRY(expect(list, n->name, "bias", 1, c, 0, 0, 0, false));
      break;
    default: break;
    }
  }
  return CLRN_STATUS_SUCCESS;
}

static bool has(const clrn_weights *w, const char *name) {
  clrn_tensor_info info;
  return clrn_weights_find(w, name, &info);
}

static bool is_float(clrn_dtype dtype) {
  return dtype == CLRN_DTYPE_F32 || dtype == CLRN_DTYPE_F16 || dtype == CLRN_DTYPE_BF16;
}

static void format_shape(const int64_t *shape, int ndim, char *out, size_t size) {
  int used = snprintf(out, size, "[");
  for (int i = 0; i < ndim && used > 0 && (size_t)used < size; i++)
    used += snprintf(out + used, size - (size_t)used, "%s%lld", i ? ", " : "", (long long)shape[i]);
  if (used > 0 && (size_t)used < size)
    snprintf(out + used, size - (size_t)used, "]");
}

/* Whether a Bottleneck file's first 3x3 weight, layer1.0.conv2.weight
 * [width, width / groups, 3, 3] at 64 planes, fits spec's groups and width. */
static bool conv2_fits(const clrn_tensor_info *conv2, const clrn_arch_spec *spec) {
  int width = clrn_arch_width(spec, 64);
  return conv2->ndim == 4 && conv2->shape[0] == width && conv2->shape[1] == width / spec->groups;
}

/* Infers the architecture from which layerS.B.* blocks exist, whether blocks
 * have a conv3 (Bottleneck) and, for Bottlenecks, the groups and width that
 * layer1.0.conv2's shape shows (ResNet-50, ResNeXt-50 and Wide ResNet-50 have
 * the same blocks). */
static clrn_status infer_arch(const clrn_weights *w, clrn_arch *arch) {
  int blocks[4] = {0, 0, 0, 0};
  char name[64];
  for (int s = 0; s < 4; s++)
    for (;; blocks[s]++) {
      snprintf(name, sizeof name, "layer%d.%d.conv1.weight", s + 1, blocks[s]);
      if (!has(w, name))
        break;
    }
  bool bottleneck = has(w, "layer1.0.conv3.weight");
  clrn_tensor_info info,
      *conv2 = clrn_weights_find(w, "layer1.0.conv2.weight", &info) ? &info : NULL;
  size_t count;
  const clrn_arch_spec *specs = clrn_arch_specs(&count);
  bool same_blocks = false, keras = w->is_h5; /* Keras files hold Keras' ResNets only */
  for (size_t i = 0; i < count; i++)
    if (specs[i].keras_v1 == keras && memcmp(specs[i].blocks, blocks, sizeof blocks) == 0 &&
        (specs[i].block == CLRN_BLOCK_BOTTLENECK) == bottleneck) {
      same_blocks = true;
      /* Without conv2 the plain ResNet (first in the table) is taken and its
       * check names the missing tensor. */
      if (!bottleneck || !conv2 || conv2_fits(conv2, &specs[i])) {
        *arch = specs[i].arch;
        return CLRN_STATUS_SUCCESS;
      }
    }
  if (same_blocks) {
    char got[96];
    format_shape(conv2->shape, conv2->ndim, got, sizeof got);
    return clrn_fail(CLRN_STATUS_MISMATCH,
                     "%s: layer1.0.conv2.weight is %s, which fits the groups and width of none "
                     "of the torchvision ResNets with blocks [%d, %d, %d, %d]",
                     w->path, got, blocks[0], blocks[1], blocks[2], blocks[3]);
  }
  if (keras)
    return clrn_fail(CLRN_STATUS_MISMATCH,
                     "%s: not keras.applications' ResNet50: its convN_blockM layers make "
                     "blocks [%d, %d, %d, %d]%s per stage, not Bottlenecks [3, 4, 6, 3]",
                     w->path, blocks[0], blocks[1], blocks[2], blocks[3],
                     bottleneck ? "" : " without a third conv");
  return clrn_fail(CLRN_STATUS_MISMATCH,
                   "%s: not a torchvision ResNet: found %s blocks [%d, %d, %d, %d] per stage, "
                   "which matches none of " CLRN_ARCH_NAMES,
                   w->path, bottleneck ? "Bottleneck" : "BasicBlock", blocks[0], blocks[1],
                   blocks[2], blocks[3]);
}

static clrn_status check_tensor(const clrn_weights *w, const expected_tensor *e) {
  clrn_tensor_info info, *t = clrn_weights_find(w, e->name, &info) ? &info : NULL;
  if (!t) {
    if (e->integer)
      return CLRN_STATUS_SUCCESS; /* num_batches_tracked is optional */
    return clrn_fail(CLRN_STATUS_MISMATCH, "%s: tensor %s is missing (%s expects it)", w->path,
                     e->name, clrn_arch_name(w->arch));
  }
  if (e->integer)
    return CLRN_STATUS_SUCCESS; /* accepted and ignored, whatever its dtype */
  if (!is_float(t->dtype))
    return clrn_fail(CLRN_STATUS_MISMATCH, "%s: tensor %s has dtype %s; expected F32, F16 or BF16",
                     w->path, e->name, clrn_dtype_name(t->dtype));
  bool same = t->ndim == e->ndim;
  for (int i = 0; same && i < e->ndim; i++)
    same = t->shape[i] == e->shape[i];
  if (!same) {
    char got[96], want[96];
    format_shape(t->shape, t->ndim, got, sizeof got);
    format_shape(e->shape, e->ndim, want, sizeof want);
    return clrn_fail(CLRN_STATUS_MISMATCH, "%s: tensor %s has shape %s; %s expects %s", w->path,
                     e->name, got, clrn_arch_name(w->arch), want);
  }
  return CLRN_STATUS_SUCCESS;
}

static int compare_expected(const void *a, const void *b) {
  return strcmp(((const expected_tensor *)a)->name, ((const expected_tensor *)b)->name);
}

static clrn_status check_all(const clrn_weights *w) {
  clrn_graph graph;
  CLRN_TRY(clrn_graph_build_for(w, 224, 224, &graph));
  expected_list list = {0};
  clrn_status status = expected_tensors(&graph, &list);
  for (size_t i = 0; status == CLRN_STATUS_SUCCESS && i < list.count; i++)
    status = check_tensor(w, &list.items[i]);
  /* Anything in the file that the architecture does not have is an error too
   * (looked up in the sorted list: n log n, whatever the file holds). */
  if (status == CLRN_STATUS_SUCCESS && list.count)
    qsort(list.items, list.count, sizeof *list.items, compare_expected);
  for (size_t i = 0; status == CLRN_STATUS_SUCCESS && i < clrn_weights_count(w); i++) {
    const char *name = clrn_weights_at(w, i).name;
    expected_tensor key;
    snprintf(key.name, sizeof key.name, "%s", name);
    bool known = strlen(name) < sizeof key.name &&
                 bsearch(&key, list.items, list.count, sizeof *list.items, compare_expected);
    if (!known)
      status = clrn_fail(CLRN_STATUS_MISMATCH, "%s: unexpected tensor %s (not part of %s)", w->path,
                         name, clrn_arch_name(w->arch));
  }
  free(list.items);
  clrn_graph_free(&graph);
  return status;
}

clrn_status clrn_weights_open(const char *path, clrn_arch arch, clrn_weights **out) {
  if (!path || !out)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_weights_open: NULL argument");
  *out = NULL;
  clrn_weights *w = NULL;
  CLRN_TRY(clrn_weights_file_open(path, &w));
  clrn_status status = CLRN_STATUS_SUCCESS;
  clrn_arch inferred = CLRN_ARCH_AUTO;
  if (status == CLRN_STATUS_SUCCESS)
    status = w->is_onnx ? clrn_onnx_bind(w, &inferred) : infer_arch(w, &inferred);
  if (status == CLRN_STATUS_SUCCESS && arch != CLRN_ARCH_AUTO && arch != inferred)
    status = clrn_fail(CLRN_STATUS_MISMATCH, "%s holds %s weights, not %s", path,
                       clrn_arch_name(inferred), clrn_arch_name(arch));
  if (status == CLRN_STATUS_SUCCESS) {
    w->arch = inferred;
    clrn_tensor_info info, *fc = clrn_weights_find(w, "fc.weight", &info) ? &info : NULL;
    if (!fc || fc->ndim != 2 || fc->shape[0] < 1 || fc->shape[0] > 1000000)
      status = clrn_fail(CLRN_STATUS_MISMATCH,
                         "%s: fc.weight is missing or not [classes, features]", path);
    else
      w->num_classes = (int)fc->shape[0];
  }
  if (status == CLRN_STATUS_SUCCESS)
    status = check_all(w);
  if (status != CLRN_STATUS_SUCCESS) {
    clrn_weights_close(w);
    return status;
  }
  *out = w;
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_weights_random(clrn_arch arch, int num_classes, uint64_t seed,
                                clrn_weights **out) {
  if (!out)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_weights_random: NULL argument");
  *out = NULL;
  if (!clrn_arch_spec_of(arch))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "random weights need an architecture");
  if (num_classes < 1)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "num_classes %d must be at least 1",
                     num_classes);
  clrn_weights *w = NULL;
  CLRN_TRY(clrn_weights_new_random(seed, &w));
  w->arch = arch;
  w->num_classes = num_classes;
  *out = w;
  return CLRN_STATUS_SUCCESS;
}
