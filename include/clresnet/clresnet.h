/* clresnet: the whole public API. Include this one header.
 *
 *   status.h   status codes, error details, log callback
 *   device.h   device discovery and the selection spec
 *   context.h  one device's context, queues, kernel programs and binary cache
 *   ops.h      the CNN ops (conv2d with fused epilogue, batchnorm, pooling, ...)
 *   io.h       photo decoding, torchvision preprocessing, .npy files
 *   labels.h   class-name tables, top-k
 *   version.h  CLRN_VERSION_MAJOR / _MINOR / _PATCH
 *   model.h    ResNet architectures, weights files, a network on one device
 *   engine.h   one network across several devices, batches split by speed
 */
#ifndef CLRESNET_CLRESNET_H
#define CLRESNET_CLRESNET_H

#include "clresnet/context.h"
#include "clresnet/device.h"
#include "clresnet/engine.h"
#include "clresnet/io.h"
#include "clresnet/labels.h"
#include "clresnet/model.h"
#include "clresnet/ops.h"
#include "clresnet/status.h"
#include "clresnet/tune.h"
#include "clresnet/version.h"
#include "clresnet/weights.h"

#endif
