/* An ONNX model file as a source of named tensors. The file (at most
 * CLRN_ONNX_MAX_MODEL bytes) is read whole, its nesting checked on the wire (no
 * more than CLRN_ONNX_MAX_DEPTH levels of graphs, nodes, attributes and types, so
 * a hostile file cannot exhaust the stack of protobuf-c's recursive decoder), and
 * decoded with protobuf-c from the message code generated from Debian's
 * onnx.proto; the decoded model is kept while the weights are open (about the
 * file's size). Which initializer is which torchvision tensor is decided a layer
 * up (nn/onnx_match.c), which registers each name here with the initializer that
 * holds it, or none for a zero bias the graph lacks, and a transposition for the
 * [in, out] weights of MatMul and Gemm with transB 0. Values are converted to
 * float32 by weights/onnx_tensor.c when read. */
#ifndef CLRN_WEIGHTS_ONNX_MODEL_H
#define CLRN_WEIGHTS_ONNX_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clresnet/status.h"
#include "weights/safetensors.h"

#define CLRN_ONNX_MAX_MODEL (1ull << 30) /* bytes of a model file read */
#define CLRN_ONNX_MAX_DEPTH 32           /* nested messages of the recursive kinds */

struct Onnx__ModelProto;
struct Onnx__TensorProto;

/* A tensor under a torchvision name. */
typedef struct clrn_onnx_entry {
  char name[72];
  const struct Onnx__TensorProto *tensor; /**< NULL: zeros */
  bool transpose;                         /**< stored [b, a], presented [a, b] */
  int ndim;
  int64_t shape[4]; /**< as presented */
} clrn_onnx_entry;

/* The epsilon of one BatchNormalization node, by its torchvision module name. */
typedef struct clrn_onnx_eps {
  char module[48];
  double eps;
} clrn_onnx_eps;

typedef struct clrn_onnx_model {
  struct Onnx__ModelProto *model;
  char *path;
  clrn_onnx_entry *entries; /**< sorted by name once clrn_onnx_finish() ran */
  size_t count, capacity;
  clrn_onnx_eps *eps;
  size_t eps_count, eps_capacity;
} clrn_onnx_model;

/** Whether a file starting with these n bytes looks like a serialized ModelProto:
 * ir_version (field 1, a one-byte varint) first, then another ModelProto field,
 * as every writer (onnx, torch.onnx) puts it; a safetensors header is not one. */
bool clrn_onnx_detect(const unsigned char *head, size_t n);

/** Reads and decodes a model file (CLRN_STATUS_IO_ERROR when it cannot be read,
 * CLRN_STATUS_INVALID_FORMAT when it is too large, nested too deep, not a valid
 * ModelProto or has no graph). On failure *model is left zeroed. */
clrn_status clrn_onnx_open(const char *path, clrn_onnx_model *model);

/** As clrn_onnx_open(), over size bytes in memory (copied as needed). */
clrn_status clrn_onnx_parse(const void *bytes, size_t size, const char *name,
                            clrn_onnx_model *model);

/** Frees everything, leaving *model zeroed. Safe on a zeroed struct and twice. */
void clrn_onnx_close(clrn_onnx_model *model);

/** Registers tensor (NULL: zeros) under name with the shape it is presented with
 * (ndim <= 4). A tensor must be of a float type and hold exactly that many
 * elements; transpose needs ndim 2. Fails naming the tensor otherwise. */
clrn_status clrn_onnx_add(clrn_onnx_model *model, const char *name,
                          const struct Onnx__TensorProto *tensor, bool transpose, int ndim,
                          const int64_t *shape);

/** Records the epsilon of the BatchNorm module. */
clrn_status clrn_onnx_add_eps(clrn_onnx_model *model, const char *module, double eps);

/** Sorts the names; fails on a name registered twice. */
clrn_status clrn_onnx_finish(clrn_onnx_model *model);

/** The entry called name, or NULL (after clrn_onnx_finish()). */
const clrn_onnx_entry *clrn_onnx_find(const clrn_onnx_model *model, const char *name);

/** The epsilon recorded for module; false when none was. */
bool clrn_onnx_find_eps(const clrn_onnx_model *model, const char *module, double *eps);

/** The element type of an entry's tensor (F32 for zeros; U8 for a non-float type). */
clrn_dtype clrn_onnx_entry_dtype(const clrn_onnx_entry *entry);

/** Writes an entry's values as float32 (product of its shape), transposed as
 * registered. */
clrn_status clrn_onnx_read_f32(const clrn_onnx_model *model, const clrn_onnx_entry *entry,
                               float *out);

#endif
