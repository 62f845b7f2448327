/* ONNX model files as named tensors (see onnx_model.h): reading and checking the
 * file, the wire-level nesting check that runs before protobuf-c decodes it, and
 * the table of torchvision names the matcher fills. */
#include "weights/onnx_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/error.h"
#include "io/file.h"
#include "weights/onnx_tensor.h"

bool clrn_onnx_detect(const unsigned char *head, size_t n) {
  /* Field numbers and wire types of ModelProto's fields after ir_version:
   * producer_name 2, producer_version 3, domain 4, model_version 5 (varint),
   * doc_string 6, graph 7, opset_import 8, metadata_props 14, training_info 20
   * (two-byte tag), functions 25 (two-byte tag). */
  static const unsigned char next[] = {0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72, 0xa2, 0xca};
  if (n < 3 || head[0] != 0x08 || head[1] == 0 || head[1] > 0x7f)
    return false;
  if (n > 8 && head[8] == '{')
    return false; /* a safetensors header */
  return memchr(next, head[2], sizeof next) != NULL;
}

/* ---- the nesting check ---------------------------------------------------------- */

/* The message kinds through which ONNX messages nest without bound, and which of
 * their fields hold such a message. */
enum kind { MODEL, GRAPH, NODE, ATTRIBUTE, TRAINING, FUNCTION, VALUE_INFO, TYPE, TYPE_ELEM, NONE };

static enum kind child_kind(enum kind parent, uint64_t field) {
  switch (parent) {
  case MODEL: return field == 7 ? GRAPH : field == 20 ? TRAINING : field == 25 ? FUNCTION : NONE;
  case GRAPH: return field == 1 ? NODE : field >= 11 && field <= 13 ? VALUE_INFO : NONE;
  case NODE: return field == 5 ? ATTRIBUTE : NONE;
  case ATTRIBUTE:
    return field == 6 || field == 11 ? GRAPH : field == 14 || field == 15 ? TYPE : NONE;
  case TRAINING: return field == 1 || field == 2 ? GRAPH : NONE;
  case FUNCTION: return field == 7 ? NODE : NONE;
  case VALUE_INFO: return field == 2 ? TYPE : NONE;
  case TYPE: return field == 4 || field == 5 || field == 9 ? TYPE_ELEM : NONE;
  case TYPE_ELEM: return field == 1 || field == 2 ? TYPE : NONE; /* Sequence, Map, Optional */
  default: return NONE;
  }
}

static bool read_varint(const unsigned char *p, size_t size, size_t *at, uint64_t *value) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64 && *at < size; shift += 7) {
    unsigned char b = p[(*at)++];
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *value = v;
      return true;
    }
  }
  return false;
}

/* Walks one message of the given kind; false on a malformed wire format or
 * nesting deeper than CLRN_ONNX_MAX_DEPTH. */
static bool walk(const unsigned char *p, size_t size, enum kind kind, int depth) {
  if (depth > CLRN_ONNX_MAX_DEPTH)
    return false;
  size_t at = 0;
  while (at < size) {
    uint64_t tag, length;
    if (!read_varint(p, size, &at, &tag) || tag >> 3 == 0)
      return false;
    switch (tag & 7) {
    case 0:
      if (!read_varint(p, size, &at, &length))
        return false;
      break;
    case 1:
    case 5: {
      size_t width = (tag & 7) == 1 ? 8 : 4;
      if (size - at < width)
        return false;
      at += width;
      break;
    }
    case 2: {
      if (!read_varint(p, size, &at, &length) || length > size - at)
        return false;
      enum kind child = child_kind(kind, tag >> 3);
      if (child != NONE && !walk(p + at, (size_t)length, child, depth + 1))
        return false;
      at += (size_t)length;
      break;
    }
    default: return false; /* groups (3, 4) and the unused wire types */
    }
  }
  return true;
}

/* ---- opening -------------------------------------------------------------------- */

clrn_status clrn_onnx_parse(const void *bytes, size_t size, const char *name, clrn_onnx_model *m) {
  memset(m, 0, sizeof *m);
  if (!bytes && size)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_onnx_parse: NULL bytes");
  if ((uint64_t)size > CLRN_ONNX_MAX_MODEL)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: %zu bytes, more than an ONNX model may have "
                     "here (%llu)",
                     name, size, (unsigned long long)CLRN_ONNX_MAX_MODEL);
  if (!walk(bytes, size, MODEL, 0))
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: not a valid ONNX model (malformed protobuf, truncated, or messages "
                     "nested more than %d deep)",
                     name, CLRN_ONNX_MAX_DEPTH);
  m->model = onnx__model_proto__unpack(NULL, size, bytes);
  if (!m->model)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: not a valid ONNX model (protobuf-c could not decode it)", name);
  m->path = strdup(name);
  if (!m->path) {
    clrn_onnx_close(m);
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s", name);
  }
  if (!m->model->graph) {
    clrn_onnx_close(m);
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: the ONNX model has no graph", name);
  }
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_onnx_open(const char *path, clrn_onnx_model *m) {
  memset(m, 0, sizeof *m);
  FILE *file = NULL;
  uint64_t size = 0;
  CLRN_TRY(clrn_file_open_regular(path, &file, &size));
  if (size > CLRN_ONNX_MAX_MODEL) {
    fclose(file);
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: %llu bytes, more than an ONNX model may have here (%llu)", path,
                     (unsigned long long)size, (unsigned long long)CLRN_ONNX_MAX_MODEL);
  }
  unsigned char *bytes = malloc(size ? (size_t)size : 1);
  if (!bytes) {
    fclose(file);
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: %llu bytes", path,
                     (unsigned long long)size);
  }
  size_t got = fread(bytes, 1, (size_t)size, file);
  fclose(file);
  clrn_status status =
      got == size ? clrn_onnx_parse(bytes, (size_t)size, path, m)
                  : clrn_fail(CLRN_STATUS_IO_ERROR, "%s: could not read the whole file", path);
  free(bytes);
  return status;
}

void clrn_onnx_close(clrn_onnx_model *m) {
  if (!m)
    return;
  if (m->model)
    onnx__model_proto__free_unpacked(m->model, NULL);
  free(m->path);
  free(m->entries);
  free(m->eps);
  memset(m, 0, sizeof *m);
}

/* ---- the name table ------------------------------------------------------------- */

static const char *path_of(const clrn_onnx_model *m) { return m->path ? m->path : "ONNX model"; }

clrn_status clrn_onnx_add(clrn_onnx_model *m, const char *name, const Onnx__TensorProto *tensor,
                          bool transpose, int ndim, const int64_t *shape) {
  if (ndim < 0 || ndim > 4 || strlen(name) >= sizeof m->entries->name || (transpose && ndim != 2))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_onnx_add: bad entry %.80s", name);
  uint64_t want = 1;
  for (int i = 0; i < ndim; i++)
    want *= (uint64_t)shape[i];
  if (tensor) {
    int tdims;
    int64_t tshape[CLRN_ONNX_MAX_DIMS];
    uint64_t have;
    CLRN_TRY(clrn_onnx_tensor_shape(tensor, &tdims, tshape, &have));
    if (have != want)
      return clrn_fail(CLRN_STATUS_MISMATCH,
                       "%s: initializer '%.200s' has %llu values where %s needs %llu", path_of(m),
                       tensor->name ? tensor->name : "", (unsigned long long)have, name,
                       (unsigned long long)want);
  }
  CLRN_TRY(clrn_array_reserve((void **)&m->entries, &m->capacity, m->count + 1, sizeof *m->entries,
                              256, "ONNX tensor names"));
  clrn_onnx_entry *e = &m->entries[m->count++];
  memset(e, 0, sizeof *e);
  snprintf(e->name, sizeof e->name, "%s", name);
  e->tensor = tensor;
  e->transpose = transpose;
  e->ndim = ndim;
  memcpy(e->shape, shape, (size_t)ndim * sizeof *shape);
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_onnx_add_eps(clrn_onnx_model *m, const char *module, double eps) {
  CLRN_TRY(clrn_array_reserve((void **)&m->eps, &m->eps_capacity, m->eps_count + 1, sizeof *m->eps,
                              64, "ONNX BatchNorm epsilons"));
  clrn_onnx_eps *e = &m->eps[m->eps_count++];
  snprintf(e->module, sizeof e->module, "%s", module);
  e->eps = eps;
  return CLRN_STATUS_SUCCESS;
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const clrn_onnx_entry *)a)->name, ((const clrn_onnx_entry *)b)->name);
}

clrn_status clrn_onnx_finish(clrn_onnx_model *m) {
  if (m->count)
    qsort(m->entries, m->count, sizeof *m->entries, by_name);
  for (size_t i = 1; i < m->count; i++)
    if (strcmp(m->entries[i - 1].name, m->entries[i].name) == 0)
      return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: tensor %s named twice", path_of(m),
                       m->entries[i].name);
  return CLRN_STATUS_SUCCESS;
}

const clrn_onnx_entry *clrn_onnx_find(const clrn_onnx_model *m, const char *name) {
  clrn_onnx_entry key;
  if (!m->count || strlen(name) >= sizeof key.name)
    return NULL;
  snprintf(key.name, sizeof key.name, "%s", name);
  return bsearch(&key, m->entries, m->count, sizeof *m->entries, by_name);
}

bool clrn_onnx_find_eps(const clrn_onnx_model *m, const char *module, double *eps) {
  for (size_t i = 0; i < m->eps_count; i++)
    if (strcmp(m->eps[i].module, module) == 0) {
      *eps = m->eps[i].eps;
      return true;
    }
  return false;
}

clrn_dtype clrn_onnx_entry_dtype(const clrn_onnx_entry *e) {
  if (!e->tensor)
    return CLRN_DTYPE_F32;
  switch (e->tensor->data_type) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return CLRN_DTYPE_F32;
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: return CLRN_DTYPE_F16;
  case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16: return CLRN_DTYPE_BF16;
  case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: return CLRN_DTYPE_F64;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return CLRN_DTYPE_I64;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return CLRN_DTYPE_I32;
  default: return CLRN_DTYPE_U8;
  }
}

clrn_status clrn_onnx_read_f32(const clrn_onnx_model *m, const clrn_onnx_entry *e, float *out) {
  size_t n = 1;
  for (int i = 0; i < e->ndim; i++)
    n *= (size_t)e->shape[i];
  if (!e->tensor) {
    memset(out, 0, n * sizeof *out);
    return CLRN_STATUS_SUCCESS;
  }
  if (!e->transpose) {
    clrn_status status = clrn_onnx_tensor_read_f32(e->tensor, out, n);
    return status == CLRN_STATUS_SUCCESS ? status : clrn_fail_prefix(status, "%s", path_of(m));
  }
  float *stored = malloc(n ? n * sizeof *stored : 1);
  if (!stored)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: %s", path_of(m), e->name);
  clrn_status status = clrn_onnx_tensor_read_f32(e->tensor, stored, n);
  size_t rows = (size_t)e->shape[0], cols = (size_t)e->shape[1]; /* stored [cols, rows] */
  for (size_t r = 0; status == CLRN_STATUS_SUCCESS && r < rows; r++)
    for (size_t c = 0; c < cols; c++)
      out[r * cols + c] = stored[c * rows + r];
  free(stored);
  return status == CLRN_STATUS_SUCCESS ? status : clrn_fail_prefix(status, "%s", path_of(m));
}
