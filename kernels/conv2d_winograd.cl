/* Winograd convolution F(m x m, 3x3) for stride-1 3x3 convolutions of one group,
 * m = 4 (6x6 input tiles) or m = 6 (8x8 tiles), with the fused epilogue of
 * kernels/conv2d.cl: y = relu?((conv + bias) * scale + shift + residual).
 *
 * Three launches (src/ops/conv2d_winograd.c) through one workspace of floats:
 *   V [A*A][in_c][tpad] at offset 0 and M [A*A][kpad][tpad] at offset m_off,
 * A = m + 2, tiles numbered t = (n * tiles_h + ty) * tiles_w + tx over the whole
 * batch (tiles_h = ceil(out_h / m)), tpad = tiles rounded up to WINO_NR.
 *   conv2d_wino<m>_input: one work-item per (tile, input channel): the A x A input
 *     tile at (ty*m - pad_h, tx*m - pad_w), zero outside the input, transformed as
 *     B^T d B into V; tiles past the last (up to tpad) become zeros.
 *   conv2d_wino_gemm: for each of the A*A tile elements xi, M[xi] = U[xi] V[xi], U
 *     the transformed weight G g G^T packed by the host (plan/conv2d_pack.c) as
 *     [A*A][blocks][in_c][WINO_MR] (zero past out_c). A work-item computes
 *     WINO_MR output channels by WINO_NR tiles (one vector), like conv2d_gemm1x1:
 *     per input channel one vector load of V, WINO_MR broadcasts of U and
 *     WINO_MR vector FMAs into accumulators held in registers.
 *   conv2d_wino<m>_output: one work-item per (tile, output channel): A^T M A,
 *     then the epilogue ([3][kpad]: bias, scale, shift) and the store of the
 *     m x m outputs that lie inside the output plane.
 * The transforms are written as products with constant matrices in fully
 * unrolled loops: the compiler folds the coefficients, drops the zero ones and
 * turns +-1 into additions, and the kernels are straight-line code, which PoCL
 * vectorizes across work-items (docs/pocl-cpu.md). Sums start from -0.0f, which
 * the compiler drops exactly (x + -0 == x).
 *
 * Macros from the tuning table (src/runtime/tuning.c): WINO_MR (1..16) and
 * WINO_NR (4, 8 or 16). */

#if !defined(WINO_MR) || !defined(WINO_NR)
#error "conv2d_winograd.cl: WINO_MR and WINO_NR come from the host's tuning table"
#endif
#if WINO_MR < 1 || WINO_MR > 16
#error "conv2d_winograd.cl: WINO_MR must be 1..16"
#endif

#define WINO_CAT_(a, b) a##b
#define WINO_CAT(a, b) WINO_CAT_(a, b)
#if WINO_NR == 4 || WINO_NR == 8 || WINO_NR == 16
typedef WINO_CAT(float, WINO_NR) winovec;
#define WINO_LOAD(p) WINO_CAT(vload, WINO_NR)(0, p)
#define WINO_STORE(v, p) WINO_CAT(vstore, WINO_NR)(v, 0, p)
#else
#error "conv2d_winograd.cl: WINO_NR must be 4, 8 or 16"
#endif

/* F(4x4, 3x3) on the points 0, +-2/3, +-3/2 (and infinity) rather than Lavin and
 * Gray's 0, +-1, +-2: in fp32 about half the error (2.4x lower RMS on random
 * data, docs/pocl-cpu.md). Rows of B^T and columns of A^T are scaled to small
 * integers, exact in binary; the host's G takes the inverse scales. */
__constant float wino4_bt[6][6] = {
    {36, 0, -97, 0, 36, 0},  {0, -18, -27, 8, 12, 0}, {0, 18, -27, -8, 12, 0},
    {0, -12, -8, 27, 18, 0}, {0, 12, -8, -27, 18, 0}, {0, 36, 0, -97, 0, 36},
};
__constant float wino4_at[4][6] = {
    {1, 27, 27, 8, 8, 0},
    {0, 18, -18, 12, -12, 0},
    {0, 12, 12, 18, 18, 0},
    {0, 8, -8, 27, -27, 1},
};

/* F(6x6, 3x3), points 0, +-1, +-2, +-1/2: every coefficient exact in binary. */
__constant float wino6_bt[8][8] = {
    {1, 0, -5.25f, 0, 5.25f, 0, -1, 0},        {0, 1, 1, -4.25f, -4.25f, 1, 1, 0},
    {0, -1, 1, 4.25f, -4.25f, -1, 1, 0},       {0, 0.5f, 0.25f, -2.5f, -1.25f, 2, 1, 0},
    {0, -0.5f, 0.25f, 2.5f, -1.25f, -2, 1, 0}, {0, 2, 4, -2.5f, -5, 0.5f, 1, 0},
    {0, -2, 4, 2.5f, -5, -0.5f, 1, 0},         {0, -1, 0, 5.25f, 0, -5.25f, 0, 1},
};
__constant float wino6_at[6][8] = {
    {1, 1, 1, 1, 1, 1, 1, 0},
    {0, 1, -1, 2, -2, 0.5f, -0.5f, 0},
    {0, 1, 1, 4, 4, 0.25f, 0.25f, 0},
    {0, 1, -1, 8, -8, 0.125f, -0.125f, 0},
    {0, 1, 1, 16, 16, 0.0625f, 0.0625f, 0},
    {0, 1, -1, 32, -32, 0.03125f, -0.03125f, 1},
};

/* out[r][c] = sum_k MAT[r][k] * in[k][c] for r < ROWS, c < COLS, k < INNER;
 * with TRANSPOSED, out[r][c] = sum_k in[r][k] * MAT[c][k]. */
#define WINO_LEFT(out, MAT, ROWS, INNER, COLS, in)                                                 \
  _Pragma("unroll") for (int r_ = 0; r_ < ROWS; r_++) {                                            \
    _Pragma("unroll") for (int c_ = 0; c_ < COLS; c_++) {                                          \
      float s_ = -0.0f;                                                                            \
      _Pragma("unroll") for (int k_ = 0; k_ < INNER; k_++) if (MAT[r_][k_] != 0.0f) s_ +=          \
          MAT[r_][k_] * in[k_][c_];                                                                \
      out[r_][c_] = s_;                                                                            \
    }                                                                                              \
  }
#define WINO_RIGHT(out, in, ROWS, INNER, MAT, COLS)                                                \
  _Pragma("unroll") for (int r_ = 0; r_ < ROWS; r_++) {                                            \
    _Pragma("unroll") for (int c_ = 0; c_ < COLS; c_++) {                                          \
      float s_ = -0.0f;                                                                            \
      _Pragma("unroll") for (int k_ = 0; k_ < INNER; k_++) if (MAT[c_][k_] != 0.0f) s_ +=          \
          in[r_][k_] * MAT[c_][k_];                                                                \
      out[r_][c_] = s_;                                                                            \
    }                                                                                              \
  }

/* The input transform of F(M x M, 3x3), A = M + 2, BT its B^T. work holds V. */
#define WINO_INPUT_KERNEL(NAME, M, A, BT)                                                          \
  __kernel void NAME(__global const float *restrict input, __global float *restrict work,          \
                     const int in_c, const int in_h, const int in_w, const int tiles_h,            \
                     const int tiles_w, const int tiles, const int tpad, const int pad_h,          \
                     const int pad_w) {                                                            \
    const int t = get_global_id(0), c = get_global_id(1);                                          \
    if (t >= tpad || c >= in_c)                                                                    \
      return;                                                                                      \
    float d[A][A];                                                                                 \
    const int per_image = tiles_h * tiles_w;                                                       \
    const int n = t / per_image, r = t - n * per_image;                                            \
    const int ty = r / tiles_w, tx = r - ty * tiles_w;                                             \
    const int y0 = ty * M - pad_h, x0 = tx * M - pad_w;                                            \
    __global const float *plane = input + ((size_t)n * in_c + c) * (size_t)in_h * in_w;            \
    const bool live = t < tiles;                                                                   \
    _Pragma("unroll") for (int i = 0; i < A; i++) {                                                \
      _Pragma("unroll") for (int j = 0; j < A; j++) {                                              \
        const int y = y0 + i, x = x0 + j;                                                          \
        const bool inside = live && y >= 0 && y < in_h && x >= 0 && x < in_w;                      \
        d[i][j] = inside ? plane[y * in_w + x] : 0.0f;                                             \
      }                                                                                            \
    }                                                                                              \
    float bd[A][A], v[A][A];                                                                       \
    WINO_LEFT(bd, BT, A, A, A, d)                                                                  \
    WINO_RIGHT(v, bd, A, A, BT, A)                                                                 \
    const size_t stride = (size_t)in_c * tpad;                                                     \
    __global float *dst = work + (size_t)c * tpad + t;                                             \
    _Pragma("unroll") for (int i = 0; i < A; i++) {                                                \
      _Pragma("unroll") for (int j = 0; j < A; j++) dst[(size_t)(i * A + j) * stride] = v[i][j];   \
    }                                                                                              \
  }

/* The output transform of F(M x M, 3x3) and the epilogue; AT is A^T. */
#define WINO_OUTPUT_KERNEL(NAME, M, A, AT)                                                         \
  __kernel void NAME(__global const float *restrict work, __global const float *restrict epilogue, \
                     __global const float *restrict residual, __global float *restrict output,     \
                     const int m_off, const int out_c, const int kpad, const int out_h,            \
                     const int out_w, const int tiles_h, const int tiles_w, const int tiles,       \
                     const int tpad, const int flags) {                                            \
    const int t = get_global_id(0), k = get_global_id(1);                                          \
    if (t >= tiles || k >= out_c)                                                                  \
      return;                                                                                      \
    float m[A][A];                                                                                 \
    const size_t stride = (size_t)kpad * tpad;                                                     \
    __global const float *src = work + m_off + (size_t)k * tpad + t;                               \
    _Pragma("unroll") for (int i = 0; i < A; i++) {                                                \
      _Pragma("unroll") for (int j = 0; j < A; j++) m[i][j] = src[(size_t)(i * A + j) * stride];   \
    }                                                                                              \
    float am[M][A], y[M][M];                                                                       \
    WINO_LEFT(am, AT, M, A, A, m)                                                                  \
    WINO_RIGHT(y, am, M, A, AT, M)                                                                 \
    const float bias = epilogue[k], scale = epilogue[kpad + k], shift = epilogue[2 * kpad + k];    \
    const int per_image = tiles_h * tiles_w;                                                       \
    const int n = t / per_image, r = t - n * per_image;                                            \
    const int ty = r / tiles_w, tx = r - ty * tiles_w;                                             \
    const size_t o_plane = ((size_t)n * out_c + k) * (size_t)out_h * out_w;                        \
    _Pragma("unroll") for (int i = 0; i < M; i++) {                                                \
      _Pragma("unroll") for (int j = 0; j < M; j++) {                                              \
        const int oy = ty * M + i, ox = tx * M + j;                                                \
        if (oy < out_h && ox < out_w) {                                                            \
          const size_t o = o_plane + (size_t)(oy * out_w + ox);                                    \
          float v = (y[i][j] + bias) * scale + shift;                                              \
          if (flags & CLRN_CONV2D_FLAG_RESIDUAL)                                                   \
            v += residual[o];                                                                      \
          if (flags & CLRN_CONV2D_FLAG_RELU)                                                       \
            v = v < 0.0f ? 0.0f : v; /* like torch.relu: NaN stays NaN */                          \
          output[o] = v;                                                                           \
        }                                                                                          \
      }                                                                                            \
    }                                                                                              \
  }

WINO_INPUT_KERNEL(conv2d_wino4_input, 4, 6, wino4_bt)
WINO_OUTPUT_KERNEL(conv2d_wino4_output, 4, 6, wino4_at)
WINO_INPUT_KERNEL(conv2d_wino6_input, 6, 8, wino6_bt)
WINO_OUTPUT_KERNEL(conv2d_wino6_output, 6, 8, wino6_at)

/* The batched GEMM: dimension 2 is xi; CLRN_CONV2D_FLAG_PIXELS_FIRST says whether
 * dimension 0 runs over tile vectors (else over channel blocks). */
__kernel void conv2d_wino_gemm(__global const float *restrict weight, __global float *work,
                               const int in_c, const int blocks, const int m_off, const int tpad,
                               const int flags) {
  const bool tiles_first = flags & CLRN_CONV2D_FLAG_PIXELS_FIRST;
  const int block = get_global_id(tiles_first ? 1 : 0);
  const int t0 = get_global_id(tiles_first ? 0 : 1) * WINO_NR;
  const int xi = get_global_id(2);
  if (block >= blocks || t0 >= tpad)
    return;
  __global const float *v = work + (size_t)xi * in_c * tpad + t0;
  __global const float *w = weight + ((size_t)xi * blocks + block) * (size_t)in_c * WINO_MR;
  winovec acc[WINO_MR];
#pragma unroll
  for (int r = 0; r < WINO_MR; r++)
    acc[r] = (winovec)(0.0f);
  for (int c = 0; c < in_c; c++) {
    const winovec x = WINO_LOAD(v);
#pragma unroll
    for (int r = 0; r < WINO_MR; r++)
      acc[r] = fma((winovec)(w[r]), x, acc[r]);
    v += tpad;
    w += WINO_MR;
  }
  const int kpad = blocks * WINO_MR;
  __global float *dst = work + m_off + ((size_t)xi * kpad + (size_t)block * WINO_MR) * tpad + t0;
#pragma unroll
  for (int r = 0; r < WINO_MR; r++)
    WINO_STORE(acc[r], dst + (size_t)r * tpad);
}
