/* NVIDIA device queries for the tensor-core path: the compute capability from
 * cl_nv_device_attribute_query, and whether a device can run a precision mode
 * (TF32 needs tensor cores reached through inline PTX: NVIDIA, compute
 * capability 8.0 or later). Kernels never test vendor names: the host decides
 * here and passes -DCLRN_NV_MMA to kernels/conv2d_mma.cl only. */
#ifndef CLRN_RUNTIME_NVIDIA_H
#define CLRN_RUNTIME_NVIDIA_H

#include "clresnet/device.h"
#include "clresnet/model.h"

/** The lowest compute capability (major * 10 + minor) whose tensor cores run
 * mma.sync.aligned.m16n8k8 with TF32 inputs: 8.0 (Ampere). */
#define CLRN_NV_MMA_MIN_COMPUTE 80

/** The device's NVIDIA compute capability as major * 10 + minor (86 for 8.6), or 0
 * when it does not report one (no cl_nv_device_attribute_query: every other
 * vendor, PoCL included). Under clrn_nv_mma_emulated(): CLRN_NV_MMA_MIN_COMPUTE
 * for every device. */
long clrn_device_nv_compute(const clrn_device_info *device);

/** Whether the test-only switch CLRN_TEST_MMA_EMULATE is set (to anything but ""
 * or "0"): then every device counts as compute capability 8.0 and the tensor-core
 * kernel is built with -DCLRN_MMA_EMULATE, which does each mma.sync by the PTX
 * ISA's definition in local memory, one warp a work-group (slow; for checking
 * that kernel and the tf32/fp16 paths against references on PoCL). Never for real
 * runs. */
bool clrn_nv_mma_emulated(void);

/** Succeeds when device can run models of precision; else fails with
 * CLRN_STATUS_UNSUPPORTED and a one-line reason (TF32 on a device without
 * tensor cores reached by PTX; the caller names the device). FP32 and FP16 run everywhere. */
clrn_status clrn_precision_check(const clrn_device_info *device, clrn_precision precision);

/** The build options of kernels/conv2d_mma.cl for a device of compute capability
 * nv_compute, with half storage or not: "-DCLRN_NV_MMA=80" or
 * "-DCLRN_NV_MMA=80 -DCLRN_HALF_STORAGE" (and -DCLRN_MMA_EMULATE when emulated). */
const char *clrn_nv_mma_defines(long nv_compute, bool half, char *text, size_t size);

#endif
