/* The libhdf5 side of the Keras .h5 reader (see h5.h, h5_parts.h): opens the
 * file, finds the layer-named weights (the root group or model_weights/), lists
 * every dataset of every layer group with its graph name, element type and
 * shape, and reads one as float32, transposing channels-last kernels. It runs
 * only in the reader process h5.c forks for a file, never in the caller's: a
 * crash in libhdf5 ends that process and nothing else. libhdf5's automatic error
 * printing is switched off, and external links, external storage and virtual
 * datasets are refused so that a file can only ever read itself. */
#include <hdf5.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/error.h"
#include "weights/h5_parts.h"

_Static_assert(sizeof(hid_t) == sizeof(int64_t), "hid_t is passed as int64_t");

/* libhdf5 prints its error stack by default, once per thread: not here. */
static void quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

typedef struct first_message {
  char text[200];
  bool set;
} first_message;

static herr_t take_first(unsigned n, const H5E_error2_t *e, void *data) {
  first_message *m = data;
  if (!m->set && e->desc && *e->desc) {
    snprintf(m->text, sizeof m->text, "%s", e->desc);
    m->set = true;
  }
  return 0;
}

/* One clrn error from what went wrong and libhdf5's innermost message. */
static clrn_status h5_fail(clrn_status status, const char *file, const char *format, ...) {
  char what[400];
  va_list args;
  va_start(args, format);
  vsnprintf(what, sizeof what, format, args);
  va_end(args);
  first_message m = {.set = false};
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, take_first, &m);
  H5Eclear2(H5E_DEFAULT);
  return clrn_fail(status, "%s: %s%s%s%s", file, what, m.set ? " (libhdf5: " : "",
                   m.set ? m.text : "", m.set ? ")" : "");
}

/* Paths may not leave the file: external links are not followed. */
static herr_t deny_external_link(const char *parent_file, const char *parent_group,
                                 const char *child_file, const char *child_object,
                                 unsigned *acc_flags, hid_t fapl, void *data) {
  return -1;
}

typedef struct string_list {
  char **items;
  size_t count, capacity;
} string_list;

static void strings_free(string_list *list) {
  for (size_t i = 0; i < list->count; i++)
    free(list->items[i]);
  free(list->items);
  memset(list, 0, sizeof *list);
}

/* Collects names (of layers or weights) as an iteration finds them; an error
 * stops the iteration and is kept. */
typedef struct collector {
  string_list list;
  size_t max;
  const char *file, *what;
  clrn_status status;
} collector;

/* Returns 0 to go on, 1 to stop (status set). */
static herr_t collect(collector *c, const char *name) {
  size_t n = strlen(name);
  if (c->list.count >= c->max)
    c->status =
        clrn_fail(CLRN_STATUS_UNSUPPORTED, "%s: more than %zu %s", c->file, c->max, c->what);
  else if (n == 0 || n > CLRN_H5_MAX_NAME)
    c->status = clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                          "%s: a %s name is empty or longer than %u "
                          "bytes",
                          c->file, c->what, CLRN_H5_MAX_NAME);
  else
    c->status = clrn_array_reserve((void **)&c->list.items, &c->list.capacity, c->list.count + 1,
                                   sizeof *c->list.items, 64, "names");
  if (c->status != CLRN_STATUS_SUCCESS)
    return 1;
  if (!(c->list.items[c->list.count] = strdup(name))) {
    c->status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "names");
    return 1;
  }
  c->list.count++;
  return 0;
}

/* H5Literate callback: the hard links of the weights' group (the layers). */
static herr_t take_layer(hid_t group, const char *name, const H5L_info_t *info, void *data) {
  return info->type == H5L_TYPE_HARD ? collect(data, name) : 0;
}

/* H5Ovisit callback (hard links only, each object once): the datasets of a layer. */
static herr_t take_weight(hid_t group, const char *name, const H5O_info_t *info, void *data) {
  return info->type == H5O_TYPE_DATASET ? collect(data, name) : 0;
}

/* The state of one open. */
typedef struct reader {
  clrn_h5 *h5;
  hid_t file;
  size_t capacity;
  hid_t links, groups, sets; /* access property lists that follow no external link */
  const char *prefix;
} reader;

/* An access property list of class cls that refuses external links. */
static hid_t access_list(hid_t cls) {
  hid_t list = H5Pcreate(cls);
  if (list >= 0 && H5Pset_elink_cb(list, deny_external_link, NULL) < 0) {
    H5Pclose(list);
    list = H5I_INVALID_HID;
  }
  return list;
}

/* The element type of a weight: IEEE float32 or float64 little-endian, or
 * IEEE binary16 little-endian (fields checked, libhdf5 1.10 has no such type). */
static bool float_type(hid_t type, clrn_dtype *dtype) {
  if (H5Tget_class(type) != H5T_FLOAT || H5Tget_order(type) != H5T_ORDER_LE)
    return false;
  if (H5Tequal(type, H5T_IEEE_F32LE) > 0)
    *dtype = CLRN_DTYPE_F32;
  else if (H5Tequal(type, H5T_IEEE_F64LE) > 0)
    *dtype = CLRN_DTYPE_F64;
  else {
    size_t spos, epos, esize, mpos, msize;
    if (H5Tget_size(type) != 2 || H5Tget_precision(type) != 16 || H5Tget_offset(type) != 0 ||
        H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) < 0 || spos != 15 || epos != 10 ||
        esize != 5 || mpos != 0 || msize != 10 || H5Tget_ebias(type) != 15 ||
        H5Tget_norm(type) != H5T_NORM_IMPLIED)
      return false;
    *dtype = CLRN_DTYPE_F16;
  }
  return true;
}

/* Checks dataset set (the weight at path) and reads its element type and shape. */
static clrn_status describe(const char *file, hid_t set, const char *path, clrn_dtype *dtype,
                            int *ndim, int64_t *dims) {
  hid_t type = H5Dget_type(set), space = H5Dget_space(set), plist = H5Dget_create_plist(set);
  clrn_status status = CLRN_STATUS_SUCCESS;
  int rank = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
  if (type < 0 || space < 0 || plist < 0 || rank < 0)
    status = h5_fail(CLRN_STATUS_INVALID_FORMAT, file, "cannot describe dataset %s", path);
  else if (H5Pget_external_count(plist) != 0 || H5Pget_layout(plist) == H5D_VIRTUAL)
    status = clrn_fail(CLRN_STATUS_UNSUPPORTED,
                       "%s: dataset %s keeps its values in other files (external or virtual "
                       "storage), which is not read",
                       file, path);
  else if (!float_type(type, dtype))
    status =
        clrn_fail(CLRN_STATUS_UNSUPPORTED,
                  "%s: dataset %s is not little-endian float32, float16 or float64", file, path);
  else if (rank < 1 || rank > CLRN_H5_MAX_DIMS || H5Sget_simple_extent_type(space) != H5S_SIMPLE)
    status = clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: dataset %s has %d dimensions, not 1 to %d",
                       file, path, rank, CLRN_H5_MAX_DIMS);
  if (status == CLRN_STATUS_SUCCESS) {
    hsize_t d[CLRN_H5_MAX_DIMS];
    uint64_t elements = 1;
    if (H5Sget_simple_extent_dims(space, d, NULL) != rank)
      status = h5_fail(CLRN_STATUS_INVALID_FORMAT, file, "cannot read the shape of %s", path);
    for (int i = 0; status == CLRN_STATUS_SUCCESS && i < rank; i++) {
      if (d[i] > CLRN_H5_MAX_ELEMENTS || (d[i] && elements > CLRN_H5_MAX_ELEMENTS / d[i]))
        status = clrn_fail(CLRN_STATUS_UNSUPPORTED, "%s: dataset %s has more than %llu elements",
                           file, path, (unsigned long long)CLRN_H5_MAX_ELEMENTS);
      elements *= d[i];
      dims[i] = (int64_t)d[i];
    }
    *ndim = rank;
  }
  if (plist >= 0)
    H5Pclose(plist);
  if (space >= 0)
    H5Sclose(space);
  if (type >= 0)
    H5Tclose(type);
  return status;
}

/* Keras' leaf of a weight name: its last '/' part without ":0". */
static void leaf_of(const char *weight, char *leaf, size_t size) {
  const char *slash = strrchr(weight, '/');
  snprintf(leaf, size, "%s", slash ? slash + 1 : weight);
  char *colon = strrchr(leaf, ':');
  if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1))
    *colon = '\0';
}

/* Adds the weight `weight` of layer group `group` (named layer) to the table. */
static clrn_status add_weight(reader *r, hid_t group, const char *layer, const char *weight) {
  clrn_h5 *h5 = r->h5;
  char leaf[CLRN_H5_MAX_NAME + 1], graph[96], path[3 * CLRN_H5_MAX_NAME + 32];
  leaf_of(weight, leaf, sizeof leaf);
  clrn_h5_layout layout = CLRN_H5_PLAIN;
  bool mapped = clrn_h5_graph_name(layer, leaf, graph, sizeof graph, &layout);
  snprintf(path, sizeof path, "%s%s/%s", r->prefix, layer, weight);
  hid_t set = H5Dopen2(group, weight, r->sets);
  if (set < 0)
    return h5_fail(CLRN_STATUS_INVALID_FORMAT, h5->name, "cannot open the weight %s of layer %s",
                   weight, layer);
  clrn_dtype dtype;
  int ndim = 0;
  int64_t dims[CLRN_H5_MAX_DIMS] = {0};
  clrn_status status = describe(h5->name, set, path, &dtype, &ndim, dims);
  H5Dclose(set);
  CLRN_TRY(status);
  CLRN_TRY(clrn_array_reserve((void **)&h5->tensors, &r->capacity, h5->count + 1,
                              sizeof *h5->tensors, 256, "weights"));
  clrn_h5_tensor *t = &h5->tensors[h5->count];
  memset(t, 0, sizeof *t);
  if (mapped)
    t->name = strdup(graph);
  else if ((t->name = malloc(strlen(layer) + strlen(weight) + 2)))
    sprintf(t->name, "%s/%s", layer, weight);
  t->path = strdup(path);
  h5->count++;
  if (!t->name || !t->path)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "weight names");
  t->dtype = dtype;
  t->ndim = ndim;
  t->layout =
      (layout == CLRN_H5_CONV_HWIO && ndim == 4) || (layout == CLRN_H5_DENSE_IO && ndim == 2)
          ? layout
          : CLRN_H5_PLAIN;
  if (t->layout == CLRN_H5_CONV_HWIO) {
    int64_t s[4] = {dims[3], dims[2], dims[0], dims[1]};
    memcpy(t->shape, s, sizeof s);
  } else if (t->layout == CLRN_H5_DENSE_IO) {
    t->shape[0] = dims[1];
    t->shape[1] = dims[0];
  } else
    memcpy(t->shape, dims, sizeof dims);
  return CLRN_STATUS_SUCCESS;
}

/* Adds every dataset under the layer group called layer (a child of root);
 * groups that are not layers (no dataset) add nothing. */
static clrn_status add_layer(reader *r, hid_t root, const char *layer) {
  const char *file = r->h5->name;
  hid_t group = H5Gopen2(root, layer, r->groups);
  if (group < 0) {
    H5Eclear2(H5E_DEFAULT);
    return CLRN_STATUS_SUCCESS; /* a dataset or another object: not a layer */
  }
  collector weights = {{0}, CLRN_H5_MAX_WEIGHTS, file, "weights in a layer", CLRN_STATUS_SUCCESS};
  herr_t walked =
      H5Ovisit2(group, H5_INDEX_NAME, H5_ITER_INC, take_weight, &weights, H5O_INFO_BASIC);
  clrn_status status = weights.status;
  if (status == CLRN_STATUS_SUCCESS && walked < 0)
    status =
        h5_fail(CLRN_STATUS_INVALID_FORMAT, file, "cannot list the weights of layer %s", layer);
  for (size_t i = 0; status == CLRN_STATUS_SUCCESS && i < weights.list.count; i++)
    status = add_weight(r, group, layer, weights.list.items[i]);
  strings_free(&weights.list);
  H5Gclose(group);
  return status;
}

/* Finds the layer-named weights and lists them. */
static clrn_status list_weights(reader *r) {
  clrn_h5 *h5 = r->h5;
  hid_t file = r->file, root = file;
  htri_t nested = H5Lexists(file, "model_weights", r->links);
  if (nested < 0)
    return h5_fail(CLRN_STATUS_INVALID_FORMAT, h5->name, "cannot read the root group");
  if (nested) {
    root = H5Gopen2(file, "model_weights", r->groups);
    if (root < 0)
      return h5_fail(CLRN_STATUS_INVALID_FORMAT, h5->name, "model_weights is not a group");
    r->prefix = "model_weights/";
  }
  /* Keras 3's .weights.h5 keeps its layers under layers/, by class name. */
  bool keras3 = !nested && H5Lexists(file, "layers", r->links) > 0;
  H5Eclear2(H5E_DEFAULT);
  clrn_status status = CLRN_STATUS_SUCCESS;
  if (keras3)
    status = clrn_fail(CLRN_STATUS_UNSUPPORTED,
                       "%s: a Keras 3 .weights.h5 file (layers named by class, in creation "
                       "order) is not read; save the model with model.save(\"model.h5\") or "
                       "use keras.applications' .h5 file",
                       h5->name);
  /* No attribute is read (layer_names, weight_names): libhdf5 1.10 decodes a
   * hostile attribute message out of bounds and allocates whatever length a
   * variable-length string claims. The layers are the group's hard links, their
   * weights the datasets under them. */
  collector layers = {{0}, CLRN_H5_MAX_LAYERS, h5->name, "layers", CLRN_STATUS_SUCCESS};
  if (status == CLRN_STATUS_SUCCESS) {
    herr_t walked = H5Literate(root, H5_INDEX_NAME, H5_ITER_INC, NULL, take_layer, &layers);
    status = layers.status;
    if (status == CLRN_STATUS_SUCCESS && walked < 0)
      status = h5_fail(CLRN_STATUS_INVALID_FORMAT, h5->name, "cannot list the layers");
  }
  for (size_t i = 0; status == CLRN_STATUS_SUCCESS && i < layers.list.count; i++)
    status = add_layer(r, root, layers.list.items[i]);
  strings_free(&layers.list);
  if (root != file)
    H5Gclose(root);
  if (status == CLRN_STATUS_SUCCESS && !h5->count)
    status = clrn_fail(CLRN_STATUS_UNSUPPORTED,
                       "%s: an HDF5 file without Keras weights (no group %sholds a dataset)",
                       h5->name, nested ? "in model_weights/ " : "");
  if (status == CLRN_STATUS_SUCCESS && h5->count)
    qsort(h5->tensors, h5->count, sizeof *h5->tensors, clrn_h5_compare_tensors);
  for (size_t i = 1; status == CLRN_STATUS_SUCCESS && i < h5->count; i++)
    if (strcmp(h5->tensors[i - 1].name, h5->tensors[i].name) == 0)
      status = clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: two weights are called %s", h5->name,
                         h5->tensors[i].name);
  return status;
}

clrn_status clrn_h5_hdf5_open(const char *name, const void *bytes, size_t size, clrn_h5 *h5,
                              int64_t *file_id) {
  memset(h5, 0, sizeof *h5);
  *file_id = 0;
  quiet();
  h5->name = strdup(name);
  if (!h5->name)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "file name");
  reader r = {h5,
              H5I_INVALID_HID,
              0,
              access_list(H5P_LINK_ACCESS),
              access_list(H5P_GROUP_ACCESS),
              access_list(H5P_DATASET_ACCESS),
              ""};
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  clrn_status status = CLRN_STATUS_SUCCESS;
  if (fapl < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0 ||
      H5Pset_file_locking(fapl, false, true) < 0 ||
      (bytes && (H5Pset_fapl_core(fapl, 1 << 16, false) < 0 ||
                 H5Pset_file_image(fapl, (void *)bytes, size) < 0)))
    status = h5_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, name, "cannot set up libhdf5");
  if (status == CLRN_STATUS_SUCCESS) {
    r.file = H5Fopen(name, H5F_ACC_RDONLY, fapl);
    if (r.file < 0)
      status = h5_fail(CLRN_STATUS_INVALID_FORMAT, name, "not a readable HDF5 file");
  }
  if (fapl >= 0)
    H5Pclose(fapl);
  if (status == CLRN_STATUS_SUCCESS && (r.links < 0 || r.groups < 0 || r.sets < 0))
    status = h5_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, name, "cannot set up libhdf5");
  if (status == CLRN_STATUS_SUCCESS)
    status = list_weights(&r);
  hid_t lists[3] = {r.links, r.groups, r.sets};
  for (int i = 0; i < 3; i++)
    if (lists[i] >= 0)
      H5Pclose(lists[i]);
  if (status != CLRN_STATUS_SUCCESS) {
    if (r.file >= 0)
      clrn_h5_hdf5_close(r.file);
    clrn_h5_close(h5);
  } else
    *file_id = r.file;
  return status;
}

void clrn_h5_hdf5_close(int64_t file) {
  if (file <= 0)
    return;
  quiet();
  H5Fclose((hid_t)file);
  H5Eclear2(H5E_DEFAULT);
}

/* Moves src, in the file's layout, into out in the graph's. */
static void transpose(const clrn_h5_tensor *t, const float *src, float *out) {
  if (t->layout == CLRN_H5_DENSE_IO) {
    size_t o = (size_t)t->shape[0], in = (size_t)t->shape[1];
    for (size_t i = 0; i < in; i++)
      for (size_t j = 0; j < o; j++)
        out[j * in + i] = src[i * o + j];
    return;
  }
  /* [kh, kw, in, out] -> [out, in, kh, kw] */
  size_t o = (size_t)t->shape[0], in = (size_t)t->shape[1];
  size_t kh = (size_t)t->shape[2], kw = (size_t)t->shape[3];
  for (size_t y = 0; y < kh; y++)
    for (size_t x = 0; x < kw; x++)
      for (size_t i = 0; i < in; i++)
        for (size_t j = 0; j < o; j++)
          out[((j * in + i) * kh + y) * kw + x] = src[((y * kw + x) * in + i) * o + j];
}

clrn_status clrn_h5_hdf5_read(int64_t file, const char *name, const clrn_h5_tensor *t, float *out) {
  size_t elements = 1;
  for (int i = 0; i < t->ndim; i++)
    elements *= (size_t)t->shape[i];
  quiet();
  hid_t access = access_list(H5P_DATASET_ACCESS);
  if (access < 0)
    return h5_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, name, "cannot set up libhdf5");
  hid_t set = H5Dopen2((hid_t)file, t->path, access);
  H5Pclose(access);
  if (set < 0)
    return h5_fail(CLRN_STATUS_IO_ERROR, name, "cannot open dataset %s", t->path);
  clrn_dtype dtype;
  int ndim = 0;
  int64_t dims[CLRN_H5_MAX_DIMS] = {0};
  clrn_status status = describe(name, set, t->path, &dtype, &ndim, dims);
  size_t count = 1;
  for (int i = 0; i < ndim; i++)
    count *= (size_t)dims[i];
  if (status == CLRN_STATUS_SUCCESS && (ndim != t->ndim || count != elements))
    status = clrn_fail(CLRN_STATUS_IO_ERROR, "%s: dataset %s changed since the file was opened",
                       name, t->path);
  float *buffer = status == CLRN_STATUS_SUCCESS && t->layout != CLRN_H5_PLAIN
                      ? malloc(elements ? elements * sizeof *buffer : 1)
                      : out;
  if (!buffer)
    status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: dataset %s", name, t->path);
  if (status == CLRN_STATUS_SUCCESS &&
      H5Dread(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer) < 0)
    status = h5_fail(CLRN_STATUS_IO_ERROR, name, "cannot read dataset %s", t->path);
  if (status == CLRN_STATUS_SUCCESS && buffer != out)
    transpose(t, buffer, out);
  if (buffer != out)
    free(buffer);
  H5Dclose(set);
  return status;
}
