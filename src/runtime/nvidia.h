/* NVIDIA device queries for the tensor-core path: the compute capability from
 * cl_nv_device_attribute_query (tf32 and the tensor-core kernel need 8.0 or
 * later; precision.c refuses tf32 elsewhere), the test-only emulation switch and
 * the kernel's build options. Kernels never test vendor names: the host decides
 * here and passes -DCLRN_NV_MMA to kernels/conv2d_mma.cl only. */
#ifndef CLRN_RUNTIME_NVIDIA_H
#define CLRN_RUNTIME_NVIDIA_H

#include "clresnet/context.h"

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

/** The build options of kernels/conv2d_mma.cl for a device of compute capability
 * nv_compute, with half storage or not: "-DCLRN_NV_MMA=80" or
 * "-DCLRN_NV_MMA=80 -DCLRN_HALF_STORAGE" (and -DCLRN_MMA_EMULATE when emulated). */
const char *clrn_nv_mma_defines(long nv_compute, bool half, char *text, size_t size);

#endif
