/* The precision modes (clresnet/context.h): their names and which devices can run
 * them (tf32 needs NVIDIA tensor cores, runtime/nvidia.h). */
#include "base/error.h"
#include "runtime/nvidia.h"

const char *clrn_precision_string(clrn_precision precision) {
  switch (precision) {
  case CLRN_PRECISION_FP32: return "fp32";
  case CLRN_PRECISION_FP16: return "fp16";
  case CLRN_PRECISION_TF32: return "tf32";
  }
  return "unknown";
}

clrn_status clrn_precision_check(const clrn_device_info *device, clrn_precision precision) {
  if (precision == CLRN_PRECISION_FP32 || precision == CLRN_PRECISION_FP16)
    return CLRN_STATUS_SUCCESS;
  if (precision != CLRN_PRECISION_TF32)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "unknown precision %d", (int)precision);
  long cc = clrn_device_nv_compute(device);
  if (cc >= CLRN_NV_MMA_MIN_COMPUTE)
    return CLRN_STATUS_SUCCESS;
  if (cc > 0)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "precision tf32 needs tensor cores of compute capability 8.0 or later; this "
                     "device has %ld.%ld; use fp32 or fp16 here",
                     cc / 10, cc % 10);
  return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                   "precision tf32 runs only on NVIDIA GPUs of compute capability 8.0 or later "
                   "(tensor cores through inline PTX), and this device (vendor %s) reports no "
                   "compute capability; use fp32 or fp16 here",
                   device->vendor);
}
