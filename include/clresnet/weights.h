/* ResNet architectures and weights files.
 *
 * A clrn_weights is a safetensors file or a PyTorch checkpoint (.pth) holding a
 * torchvision ResNet state_dict, an ONNX model of such a network, or a Keras .h5
 * file of keras.applications' ResNet50, opened and validated; its architecture and
 * class count are inferred from the tensors (from the graph for ONNX). The file
 * stays open and each tensor is read from it when a model is built (read, not
 * mapped: a file truncated meanwhile gives an error, never SIGBUS); an ONNX model
 * (at most 1 GiB) is read and decoded whole when opened and kept in memory until
 * closed. Threads: a clrn_weights may be shared by threads once
 * opened (it is read-only).
 */
#ifndef CLRESNET_WEIGHTS_H
#define CLRESNET_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "clresnet/io.h"
#include "clresnet/labels.h"
#include "clresnet/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The networks of torchvision's resnet.py (values never change; new ones are
 * appended). */
typedef enum clrn_arch {
  CLRN_ARCH_AUTO = 0, /**< infer from the weights */
  CLRN_ARCH_RESNET18,
  CLRN_ARCH_RESNET34,
  CLRN_ARCH_RESNET50,
  CLRN_ARCH_RESNET101,
  CLRN_ARCH_RESNET152,
  CLRN_ARCH_RESNEXT50_32X4D,  /**< 32 groups of 4 channels per group (at 64 planes) */
  CLRN_ARCH_RESNEXT101_32X8D, /**< 32 groups of 8 */
  CLRN_ARCH_RESNEXT101_64X4D, /**< 64 groups of 4 */
  CLRN_ARCH_WIDE_RESNET50_2,  /**< ResNet-50 with bottlenecks twice as wide */
  CLRN_ARCH_WIDE_RESNET101_2, /**< ResNet-101 with bottlenecks twice as wide */
  CLRN_ARCH_KERAS_RESNET50,   /**< keras.applications.ResNet50 (ResNet v1: the stride on a
                                 block's first 1x1 conv, conv biases, BatchNorm eps 1.001e-5) */
} clrn_arch;

/** torchvision's name: "resnet18" ... "resnet152", "resnext50_32x4d",
 * "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2",
 * and "keras_resnet50" for Keras' ResNet50 ("auto" for CLRN_ARCH_AUTO). */
CLRN_API const char *clrn_arch_name(clrn_arch arch);

/** Parses torchvision's name (case-insensitive, '-' for '_' too), and for the
 * plain ResNets also "50" or "ResNet-50"; INVALID_ARGUMENT lists the valid names. */
CLRN_API clrn_status clrn_arch_parse(const char *text, clrn_arch *arch);

/** Multiply-adds of one image through the network at height x width (convolutions
 * and the final linear layer), for GFLOP/s figures (FLOPs = 2 * MACs). */
CLRN_API double clrn_arch_macs(clrn_arch arch, int num_classes, int height, int width);

typedef struct clrn_weights clrn_weights;

/** Opens and validates a safetensors file or a PyTorch checkpoint (.pth: torch.save's
 * zip or legacy format, told by its first bytes; a state_dict or a checkpoint dict
 * holding one under "state_dict" or "model", "module." prefixes taken off; its
 * pickle is never executed) of a torchvision ResNet state_dict, or an ONNX model
 * of a torchvision ResNet (also told by its first bytes), whose graph must match
 * the architecture's node for node (BatchNorm kept or folded into biased
 * convolutions) and whose initializers then take torchvision's tensor names; an
 * unsupported node is refused (CLRN_STATUS_UNSUPPORTED) naming it.
 * arch AUTO infers the architecture from the tensor names and shapes; any other
 * value is checked against them. Every expected tensor must be present with its
 * shape and a float dtype (F32, F16, BF16); num_batches_tracked (I64) is accepted
 * and ignored; unexpected tensors are an error naming them. A FIFO or device is
 * refused (IO_ERROR) without blocking. Values are checked when a model reads them:
 * NaN, an infinity or a negative running_var fails the model's creation with
 * CLRN_STATUS_INVALID_FORMAT, naming the file and the tensor. Error details quote
 * names from the file as they are: escape them before printing to a terminal.
 * A Keras .h5 file (told by its HDF5 signature; read through libhdf5, in the layout
 * of keras.applications' files or of model.save("x.h5")) holds Keras' ResNet50
 * (CLRN_ARCH_KERAS_RESNET50): its layer names are mapped onto torchvision's
 * ("conv2_block1_1_conv" is "layer1.0.conv1") and its channels-last kernels
 * transposed when read; Keras 3's .weights.h5 is refused (UNSUPPORTED). */
CLRN_API clrn_status clrn_weights_open(const char *path, clrn_arch arch, clrn_weights **weights);

/** Makes seeded random weights in memory (for benchmarks without a weights file):
 * Kaiming-style convolution weights and non-trivial BatchNorm statistics. */
CLRN_API clrn_status clrn_weights_random(clrn_arch arch, int num_classes, uint64_t seed,
                                         clrn_weights **weights);

/** The weights' architecture. */
CLRN_API clrn_arch clrn_weights_arch(const clrn_weights *weights);

/** Number of output classes (fc.weight's first dimension). */
CLRN_API int clrn_weights_num_classes(const clrn_weights *weights);

/** A value of the file's "__metadata__", or NULL. tools/export_torchvision.py
 * writes "arch", "num_classes", "dtype", "source" ("seed" for seeded random
 * weights, "pretrained" or "pth"), "seed", and "fallback" when it wrote random
 * weights because the pretrained ones could not be downloaded. Weights from
 * clrn_weights_random() answer "generated" for "source". */
CLRN_API const char *clrn_weights_metadata(const clrn_weights *weights, const char *key);

/** The preprocessing the weights were trained with: torchvision's classic ImageNet
 * transform (clrn_preprocess_default(): resize 256, crop 224), or for
 * CLRN_ARCH_KERAS_RESNET50 Keras' 'caffe' (clrn_preprocess_caffe()), overridden by the
 * metadata keys tools/export_torchvision.py stores from torchvision's
 * weights.transforms(): "resize" and "crop" (whole numbers), "mean" and "std" (JSON
 * lists of 3 numbers), "interpolation" (only "bilinear" is supported:
 * CLRN_STATUS_UNSUPPORTED otherwise). A malformed value is
 * CLRN_STATUS_INVALID_FORMAT naming the file and the key; *preprocess is then
 * untouched. IMAGENET1K_V2 weights give resize 232. */
CLRN_API clrn_status clrn_weights_preprocess(const clrn_weights *weights,
                                             clrn_preprocess *preprocess);

/** The class names of the weights: the metadata's "categories" (a JSON list of
 * exactly num_classes names, each checked as clrn_labels_from_list() does), else the
 * built-in ImageNet names when the model has 1000 classes, else none: *labels =
 * NULL with CLRN_STATUS_SUCCESS (show class indices). Free with clrn_labels_free(). */
CLRN_API clrn_status clrn_weights_labels(const clrn_weights *weights, clrn_labels **labels);

/** Releases the weights (closes the file). NULL is ignored. */
CLRN_API void clrn_weights_close(clrn_weights *weights);

#ifdef __cplusplus
}
#endif
#endif
