/* Internal access to a clrn_weights: the named tensors of one file, and reading one
 * tensor as float32 by name. The weights come from a safetensors file, a PyTorch
 * checkpoint (.pth), an ONNX model or a Keras .h5 file (all told by their first
 * bytes; an ONNX model's tensors are named by nn/onnx_match.c) or from a seeded generator (for
 * benchmarks); either way a tensor is produced on request into the caller's
 * buffer, so the host never holds a second copy of the whole model. */
#ifndef CLRN_WEIGHTS_WEIGHTS_H
#define CLRN_WEIGHTS_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "clresnet/weights.h"
#include "weights/h5.h"
#include "weights/onnx_model.h"
#include "weights/pth.h"
#include "weights/safetensors.h"

/* Named tensors plus the architecture they were bound to (set by nn/weights_bind.c). */
struct clrn_weights {
  clrn_arch arch;
  int num_classes;
  bool random;
  uint64_t seed;
  clrn_safetensors file;
  clrn_pth pth; /* a PyTorch checkpoint when is_pth */
  bool is_pth;
  clrn_onnx_model onnx; /* an ONNX model when is_onnx */
  bool is_onnx;
  clrn_h5 h5; /* a Keras .h5 file when is_h5 */
  bool is_h5;
  /* How the network differs from torchvision's modules (nn builds the graph so):
   * BatchNorm folded into the convolutions (no BatchNorm tensors), and a bias on
   * every convolution. Both false for torchvision state_dicts. */
  bool batchnorm_folded;
  bool conv_bias;
  char path[1024];
};

/* A tensor's name, element type and shape, whichever format its file has. */
typedef struct clrn_tensor_info {
  const char *name;
  clrn_dtype dtype;
  int ndim;
  const int64_t *shape;
} clrn_tensor_info;

/** Number of tensors in the file (0 for random weights). */
size_t clrn_weights_count(const clrn_weights *weights);

/** The i-th tensor of the file (i < clrn_weights_count()). */
clrn_tensor_info clrn_weights_at(const clrn_weights *weights, size_t i);

/** Describes the tensor called name; false when the file has none. */
bool clrn_weights_find(const clrn_weights *weights, const char *name, clrn_tensor_info *info);

/** The epsilon of BatchNorm module when the file states one (ONNX); false when
 * the default applies. */
bool clrn_weights_batchnorm_eps(const clrn_weights *weights, const char *module, double *eps);

/** Opens a safetensors file, a PyTorch checkpoint, an ONNX model or a Keras .h5
 * file as named tensors (an ONNX model's names come later, from nn/onnx_match.c);
 * arch and num_classes stay unset. */
clrn_status clrn_weights_file_open(const char *path, clrn_weights **weights);

/** Seeded random weights: any requested tensor is generated from its name. */
clrn_status clrn_weights_new_random(uint64_t seed, clrn_weights **weights);

/** Writes tensor name, whose shape (ndim dims) the caller expects, into out as
 * float32 (product(shape) floats). Fails with CLRN_STATUS_INVALID_FORMAT, naming
 * the file and the tensor, when a value is NaN or infinite, or a running_var is
 * negative; with CLRN_STATUS_IO_ERROR when the file was truncated since it was
 * opened. */
clrn_status clrn_weights_read(const clrn_weights *weights, const char *name, int ndim,
                              const int64_t *shape, float *out);

#endif
