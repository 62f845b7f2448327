/* The implicit-GEMM convolution's device checks and launch grid (see
 * conv2d_igemm.h and kernels/conv2d_igemm.cl). */
#include "ops/conv2d_igemm.h"

#include <limits.h>

#include "base/error.h"

void clrn_conv2d_igemm_local_bytes(const clrn_conv2d_config *c, size_t bytes[2]) {
  bytes[0] = 2 * (size_t)c->depth * (size_t)c->cout_block * sizeof(float);
  bytes[1] = 2 * (size_t)c->depth * (size_t)c->pix_block * sizeof(float);
}

clrn_status clrn_conv2d_igemm_check(const clrn_context *context, const clrn_kernel *kernel,
                                    const clrn_conv2d_config *config, size_t weight_count) {
  const clrn_device_info *device = clrn_context_device(context);
  size_t tiles[2];
  clrn_conv2d_igemm_local_bytes(config, tiles);
  size_t wg = config->work_group, bytes = tiles[0] + tiles[1];
  if (wg > kernel->work_group_size || wg > device->max_work_group_size ||
      wg > device->max_work_item_sizes[0])
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "conv2d: the implicit GEMM needs work-groups of %zu work-items "
                     "(IGEMM_BM/IGEMM_TM x IGEMM_BN/IGEMM_TN), %s allows %zu for %s: choose "
                     "smaller tiles",
                     wg, device->name, kernel->work_group_size, kernel->name);
  if (bytes > device->local_mem_bytes)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "conv2d: the implicit GEMM's tiles need %zu bytes of local memory "
                     "(2 x IGEMM_BK x (IGEMM_BM + IGEMM_BN) floats), %s has %llu: choose "
                     "smaller tiles",
                     bytes, device->name, (unsigned long long)device->local_mem_bytes);
  if (weight_count > INT_MAX)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "conv2d: the implicit GEMM's weight padded to blocks of IGEMM_BM=%d "
                     "channels has %zu floats, 2^31 or more",
                     config->cout_block, weight_count);
  return CLRN_STATUS_SUCCESS;
}

void clrn_conv2d_igemm_grid(const clrn_conv2d_config *config, int groups, int pixels,
                            size_t global[2], size_t local[2]) {
  size_t tile = (size_t)config->pix_block;
  local[0] = config->work_group;
  local[1] = 1;
  global[0] = ((size_t)pixels + tile - 1) / tile * config->work_group;
  global[1] = (size_t)groups * (size_t)config->blocks_g;
}
