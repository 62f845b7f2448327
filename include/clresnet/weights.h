/* ResNet architectures and weights files.
 *
 * A clrn_weights is a safetensors file holding a torchvision ResNet state_dict,
 * opened and validated; its architecture and class count are inferred from the
 * tensors. The file stays open and each tensor is read from it when a model is
 * built (read, not mapped: a file truncated meanwhile gives an error, never
 * SIGBUS). Threads: a clrn_weights may be shared by threads once opened (it is
 * read-only).
 */
#ifndef CLRESNET_WEIGHTS_H
#define CLRESNET_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

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
} clrn_arch;

/** torchvision's name: "resnet18" ... "resnet152", "resnext50_32x4d",
 * "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2"
 * ("auto" for CLRN_ARCH_AUTO). */
CLRN_API const char *clrn_arch_name(clrn_arch arch);

/** Parses torchvision's name (case-insensitive, '-' for '_' too), and for the
 * plain ResNets also "50" or "ResNet-50"; INVALID_ARGUMENT lists the valid names. */
CLRN_API clrn_status clrn_arch_parse(const char *text, clrn_arch *arch);

/** Multiply-adds of one image through the network at height x width (convolutions
 * and the final linear layer), for GFLOP/s figures (FLOPs = 2 * MACs). */
CLRN_API double clrn_arch_macs(clrn_arch arch, int num_classes, int height, int width);

typedef struct clrn_weights clrn_weights;

/** Opens and validates a safetensors file of a torchvision ResNet state_dict.
 * arch AUTO infers the architecture from the tensor names and shapes; any other
 * value is checked against them. Every expected tensor must be present with its
 * shape and a float dtype (F32, F16, BF16); num_batches_tracked (I64) is accepted
 * and ignored; unexpected tensors are an error naming them. A FIFO or device is
 * refused (IO_ERROR) without blocking. Values are checked when a model reads them:
 * NaN, an infinity or a negative running_var fails the model's creation with
 * CLRN_STATUS_INVALID_FORMAT, naming the file and the tensor. Error details quote
 * names from the file as they are: escape them before printing to a terminal. */
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

/** Releases the weights (closes the file). NULL is ignored. */
CLRN_API void clrn_weights_close(clrn_weights *weights);

#ifdef __cplusplus
}
#endif
#endif
