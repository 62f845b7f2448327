/* The Winograd variant's weight layout (see conv2d_pack.h and
 * kernels/conv2d_winograd.cl): each 3x3 filter g becomes the A x A matrix
 * G g G^T of F(m x m, 3x3), A = m + 2, computed in double and rounded once to
 * float, packed as [A*A][blocks][in_c][WINO_MR] so the batched GEMM reads each
 * block's weights front to back. Done once per plan, on the host. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "plan/conv2d_pack.h"

/* G of F(4x4,3x3) (points 0, +-2/3, +-3/2, with the inverse of the kernel's
 * integer scales of B^T and A^T) and of F(6x6,3x3) (0, +-1, +-2, +-1/2). */
static const double g4[6][3] = {
    {1.0 / 36, 0, 0},
    {-1.0 / 520, -1.0 / 780, -1.0 / 1170},
    {-1.0 / 520, 1.0 / 780, -1.0 / 1170},
    {1.0 / 1170, 1.0 / 780, 1.0 / 520},
    {1.0 / 1170, -1.0 / 780, 1.0 / 520},
    {0, 0, 1.0 / 36},
};
static const double g6[8][3] = {
    {1, 0, 0},
    {-2.0 / 9, -2.0 / 9, -2.0 / 9},
    {-2.0 / 9, 2.0 / 9, -2.0 / 9},
    {1.0 / 90, 1.0 / 45, 2.0 / 45},
    {1.0 / 90, -1.0 / 45, 2.0 / 45},
    {32.0 / 45, 16.0 / 45, 8.0 / 45},
    {32.0 / 45, -16.0 / 45, 8.0 / 45},
    {0, 0, 1},
};

size_t clrn_conv2d_winograd_floats(const clrn_conv_shape *s, const clrn_conv2d_config *config,
                                   size_t tiles) {
  size_t a = (size_t)config->tile + 2, nr = (size_t)config->pix_block;
  size_t tpad = (tiles + nr - 1) / nr * nr;
  size_t kpad = (size_t)config->blocks_g * (size_t)config->cout_block;
  return a * a * ((size_t)s->in_channels + kpad) * tpad;
}

/* u (A*A doubles) = G g G^T for the 3x3 filter g. */
static void transform(const double (*g_mat)[3], int a, const float *g, double *u) {
  double gg[8][3]; /* G g */
  for (int i = 0; i < a; i++)
    for (int j = 0; j < 3; j++) {
      double sum = 0;
      for (int k = 0; k < 3; k++)
        sum += g_mat[i][k] * g[k * 3 + j];
      gg[i][j] = sum;
    }
  for (int i = 0; i < a; i++)
    for (int j = 0; j < a; j++) {
      double sum = 0;
      for (int k = 0; k < 3; k++)
        sum += gg[i][k] * g_mat[j][k];
      u[i * a + j] = sum;
    }
}

clrn_status clrn_conv2d_winograd_pack(const clrn_conv_shape *d, const clrn_conv2d_config *config,
                                      const float *weight, const float *bias, const float *scale,
                                      const float *shift, clrn_conv2d_packed *packed) {
  memset(packed, 0, sizeof *packed);
  if (config->tile != 4 && config->tile != 6)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "conv2d: Winograd tile %d (4 or 6)",
                     config->tile);
  const double(*g_mat)[3] = config->tile == 4 ? g4 : g6;
  size_t a = (size_t)config->tile + 2, aa = a * a;
  size_t mr = (size_t)config->cout_block, blocks = (size_t)config->blocks_g;
  size_t cin = (size_t)d->in_channels, channels = blocks * mr;
  int *channel = NULL;
  CLRN_TRY(clrn_conv2d_packed_alloc(packed, aa * channels * cin, channels, &channel));
  for (size_t k = 0; k < channels; k++) {
    channel[k] = k < (size_t)d->out_channels ? (int)k : -1;
    if (channel[k] < 0)
      continue;
    size_t block = k / mr, lane = k % mr;
    for (size_t c = 0; c < cin; c++) {
      double u[64];
      transform(g_mat, (int)a, weight + (k * cin + c) * 9, u);
      for (size_t xi = 0; xi < aa; xi++)
        packed->weight[((xi * blocks + block) * cin + c) * mr + lane] = (float)u[xi];
    }
  }
  clrn_conv2d_fill_epilogue(packed->epilogue, channels, channel, bias, scale, shift);
  free(channel);
  return CLRN_STATUS_SUCCESS;
}
