/* 2-D convolution as an implicit GEMM with local-memory tiles, for GPUs, with the
 * fused epilogue of kernels/conv2d.cl: y = relu?((conv + bias) * scale + shift +
 * residual), float32 NCHW, any window, stride, padding and groups.
 *
 * Per group g the convolution is the product C (cout_g x pixels) = A (cout_g x K)
 * * B (K x pixels), K = cin_g * kh * kw, pixels = N * out_h * out_w across the
 * batch, B never stored: its element (k, p) is the input value under tap k of
 * pixel p's window, or 0 in the padding (the implicit im2col).
 *
 * A work-group computes an IGEMM_BM x IGEMM_BN tile of C (output channels x
 * pixels), walking K in steps of IGEMM_BK. Each step stages the A tile
 * (IGEMM_BK x IGEMM_BM, float4 loads of the packed weight) and the B tile
 * (IGEMM_BK x IGEMM_BN, gathered: neighbouring work-items take neighbouring
 * pixels, so the reads coalesce) in local memory, double-buffered: the global
 * loads of step t+1 are issued into registers before the multiply-adds of step t
 * and stored into the other buffer after them, one barrier per step. A
 * work-item holds an IGEMM_TM x IGEMM_TN register tile (IGEMM_TM output channels
 * by IGEMM_TN neighbouring pixels) and reads its operands from local memory as
 * vectors. The work-group has IGEMM_WG = (BM/TM) * (BN/TN) work-items, fixed at
 * build time (reqd_work_group_size), along dimension 0; dimension 0 of the grid
 * runs over pixel tiles, dimension 1 over the output-channel blocks of every
 * group.
 *
 * The weight is packed like the blocked variant's with a block of IGEMM_BM
 * channels (plan/conv2d_pack.c): [group][block][cin_g][kh][kw][IGEMM_BM], zero
 * past the group's last channel, so a K step of a block is IGEMM_BK * IGEMM_BM
 * contiguous floats; the epilogue [3][groups * blocks * IGEMM_BM]. Windows are
 * checked against the border here (no padded copy of the input). _k1, _k3 and
 * _k7 are the same code with the window size a constant (1x1 layers are the plain
 * GEMM then: k is the input channel); conv2d_igemm takes any size.
 *
 * Arguments: CLRN_CONV2D_ARGS (clrn_abi.h), like every conv2d kernel (flags
 * carries RESIDUAL and RELU), then the two tiles' local memory: 2 * IGEMM_BK *
 * IGEMM_BM and 2 * IGEMM_BK * IGEMM_BN floats. Macros from the tuning table (src/runtime/tuning.c,
 * which also checks the rules below): IGEMM_BM, IGEMM_BN (16..128), IGEMM_BK
 * (4..32), IGEMM_TM, IGEMM_TN (2, 4 or 8). OpenCL C 1.2, no extensions.
 */

#if !defined(IGEMM_BM) || !defined(IGEMM_BN) || !defined(IGEMM_BK) || !defined(IGEMM_TM) ||        \
    !defined(IGEMM_TN)
#error                                                                                             \
    "conv2d_igemm.cl: IGEMM_BM, IGEMM_BN, IGEMM_BK, IGEMM_TM and IGEMM_TN come from the tuning table"
#endif

#define IGEMM_COLS (IGEMM_BN / IGEMM_TN)              /* work-items along the pixels */
#define IGEMM_WG ((IGEMM_BM / IGEMM_TM) * IGEMM_COLS) /* work-group size */
#define IGEMM_B_ROWS (IGEMM_WG / IGEMM_BN)            /* K rows of the B tile stored per pass */
#define IGEMM_B_LOADS (IGEMM_BK / IGEMM_B_ROWS)       /* B values each work-item loads per step */
#define IGEMM_A_VECS (IGEMM_BK * IGEMM_BM / 4)        /* float4s of an A tile */
#define IGEMM_A_LOADS ((IGEMM_A_VECS + IGEMM_WG - 1) / IGEMM_WG)

#if IGEMM_BM % 4 != 0 || IGEMM_BM % IGEMM_TM != 0 || IGEMM_BN % IGEMM_TN != 0
#error "conv2d_igemm.cl: IGEMM_BM must be a multiple of 4 and IGEMM_TM, IGEMM_BN of IGEMM_TN"
#endif
#if IGEMM_WG % IGEMM_BN != 0 || IGEMM_BK % IGEMM_B_ROWS != 0
#error "conv2d_igemm.cl: (BM/TM)*(BN/TN) must be a multiple of BN, and BK of (BM/TM)/TN"
#endif

#define IGEMM_CAT_(a, b) a##b
#define IGEMM_CAT(a, b) IGEMM_CAT_(a, b)
#if IGEMM_TM != 2 && IGEMM_TM != 4 && IGEMM_TM != 8
#error "conv2d_igemm.cl: IGEMM_TM must be 2, 4 or 8"
#endif
#if IGEMM_TN != 2 && IGEMM_TN != 4 && IGEMM_TN != 8
#error "conv2d_igemm.cl: IGEMM_TN must be 2, 4 or 8"
#endif
typedef IGEMM_CAT(float, IGEMM_TN) vecn;
#define VLOAD_M(i, p) IGEMM_CAT(vload, IGEMM_TM)(i, p)
#define VSTORE_M(v, i, p) IGEMM_CAT(vstore, IGEMM_TM)(v, i, p)
#define VLOAD_N(i, p) IGEMM_CAT(vload, IGEMM_TN)(i, p)
#define VSTORE_N(v, i, p) IGEMM_CAT(vstore, IGEMM_TN)(v, i, p)

/* Kernels mark the pointers restrict; the inline body takes them without
 * (inlined restrict parameters emit llvm.experimental.noalias.scope.decl, which
 * Oclgrind 21.10 cannot run; see kernels/conv2d.cl). */
#define IGEMM_IN_RESTRICT(name) __global const float *restrict name
#define IGEMM_OUT_RESTRICT(name) __global float *restrict name
#define IGEMM_IN(name) __global const float *name
#define IGEMM_OUT(name) __global float *name
#define IGEMM_INT(name) const int name
#define IGEMM_NAME(name) name
#define IGEMM_ARGS CLRN_CONV2D_ARGS(IGEMM_IN_RESTRICT, IGEMM_OUT_RESTRICT, IGEMM_INT)
#define IGEMM_PARAMS CLRN_CONV2D_ARGS(IGEMM_IN, IGEMM_OUT, IGEMM_INT)
#define IGEMM_NAMES CLRN_CONV2D_ARGS(IGEMM_NAME, IGEMM_NAME, IGEMM_NAME)

/* Where a work-item's pixel column of the B tile reads from. */
typedef struct igemm_column {
  __global const float *src; /* the image's first input channel of the group */
  int ih0, iw0;              /* the window's top left corner (may lie in the padding) */
  bool valid;                /* a pixel of the batch (the last tile runs past the end) */
} igemm_column;

/* Element (k, column) of B: input channel k / taps at tap k % taps of the window. */
CLRN_INLINE float igemm_b(const igemm_column *c, int k, int k_count, int taps, int kw_count,
                          int in_h, int in_w) {
  const int ci = k / taps, r = k - ci * taps; /* no %: see conv2d_direct */
  const int kh = r / kw_count, kw = r - kh * kw_count;
  const int ih = c->ih0 + kh, iw = c->iw0 + kw;
  const bool inside = c->valid && k < k_count && ih >= 0 && ih < in_h && iw >= 0 && iw < in_w;
  return inside ? c->src[(ci * in_h + ih) * in_w + iw] : 0.0f;
}

/* Float4 i of the A tile of K step k0 (zero past the last k). */
CLRN_INLINE float4 igemm_a(__global const float *w, int i, int k0, int k_count) {
  const int e = i * 4, k = k0 + e / IGEMM_BM;
  return i < IGEMM_A_VECS && k < k_count ? vload4(0, w + k0 * IGEMM_BM + e) : (float4)(0.0f);
}

/* Residual and ReLU, the last two steps of the epilogue, on output index o. */
CLRN_INLINE float igemm_finish(float t, __global const float *residual, int o, int flags) {
  if (flags & CLRN_CONV2D_FLAG_RESIDUAL)
    t += residual[o];
  if (flags & CLRN_CONV2D_FLAG_RELU)
    t = t < 0.0f ? 0.0f : t; /* like torch.relu: NaN stays NaN */
  return t;
}

/* The body of every kernel; a_tile and b_tile are the local arrays
 * [2][IGEMM_BK][IGEMM_BM] and [2][IGEMM_BK][IGEMM_BN]. kh_count and kw_count are
 * constants in the specialised kernels (forced inline). */
CLRN_INLINE void conv_igemm(IGEMM_PARAMS, __local float *a_tile, __local float *b_tile,
                            const int kh_count, const int kw_count) {
  const int lid = (int)get_local_id(0);
  const int p0 = (int)get_group_id(0) * IGEMM_BN, block = (int)get_group_id(1);
  const int g = block / blocks_g, m0 = (block - g * blocks_g) * IGEMM_BM;
  const int taps = kh_count * kw_count, k_count = cin_g * taps;
  const int out_plane = out_h * out_w;
  const int steps = (k_count + IGEMM_BK - 1) / IGEMM_BK;
  __global const float *w = weight + block * k_count * IGEMM_BM;

  /* The B column this work-item loads, and its first K row. */
  const int row0 = lid / IGEMM_BN, col = lid - row0 * IGEMM_BN;
  igemm_column column;
  {
    const int p = min(p0 + col, pixels - 1);
    const int n = p / out_plane, r = p - n * out_plane, oh = r / out_w, ow = r - oh * out_w;
    column.src = input + (n * in_c + g * cin_g) * in_h * in_w;
    column.ih0 = oh * stride_h - pad_h;
    column.iw0 = ow * stride_w - pad_w;
    column.valid = p0 + col < pixels;
  }

  /* The register tile: row i holds output channel m0 + ty * TM + i for the TN
   * pixels p0 + tx * TN ... */
  const int tx = lid - (lid / IGEMM_COLS) * IGEMM_COLS, ty = lid / IGEMM_COLS;
  vecn acc[IGEMM_TM];
#pragma unroll
  for (int i = 0; i < IGEMM_TM; i++)
    acc[i] = (vecn)(0.0f);

  /* Step 0 into buffer 0. */
  float4 a_next[IGEMM_A_LOADS];
  float b_next[IGEMM_B_LOADS];
#pragma unroll
  for (int j = 0; j < IGEMM_A_LOADS; j++) {
    const int i = lid + j * IGEMM_WG;
    if (i < IGEMM_A_VECS)
      vstore4(igemm_a(w, i, 0, k_count), (size_t)i, a_tile);
  }
#pragma unroll
  for (int j = 0; j < IGEMM_B_LOADS; j++) {
    const int kk = row0 + j * IGEMM_B_ROWS;
    b_tile[kk * IGEMM_BN + col] = igemm_b(&column, kk, k_count, taps, kw_count, in_h, in_w);
  }
  barrier(CLK_LOCAL_MEM_FENCE);

  for (int t = 0; t < steps; t++) {
    const int k0 = (t + 1) * IGEMM_BK;
    const bool more = t + 1 < steps; /* the same for the whole work-group */
    /* Step t+1's global loads, in flight during step t's multiply-adds. */
    if (more) {
#pragma unroll
      for (int j = 0; j < IGEMM_A_LOADS; j++)
        a_next[j] = igemm_a(w, lid + j * IGEMM_WG, k0, k_count);
#pragma unroll
      for (int j = 0; j < IGEMM_B_LOADS; j++)
        b_next[j] =
            igemm_b(&column, k0 + row0 + j * IGEMM_B_ROWS, k_count, taps, kw_count, in_h, in_w);
    }
    const int buf = t & 1;
    __local const float *as = a_tile + buf * (IGEMM_BK * IGEMM_BM) + ty * IGEMM_TM;
    __local const float *bs = b_tile + buf * (IGEMM_BK * IGEMM_BN) + tx * IGEMM_TN;
#pragma unroll
    for (int kk = 0; kk < IGEMM_BK; kk++) {
      float a[IGEMM_TM];
      VSTORE_M(VLOAD_M(0, as + kk * IGEMM_BM), 0, a);
      const vecn b = VLOAD_N(0, bs + kk * IGEMM_BN);
#pragma unroll
      for (int i = 0; i < IGEMM_TM; i++)
        acc[i] = fma((vecn)(a[i]), b, acc[i]);
    }
    /* The other buffer was last read in step t-1, before the barrier that ended it. */
    if (more) {
      __local float *an = a_tile + (1 - buf) * (IGEMM_BK * IGEMM_BM);
      __local float *bn = b_tile + (1 - buf) * (IGEMM_BK * IGEMM_BN);
#pragma unroll
      for (int j = 0; j < IGEMM_A_LOADS; j++) {
        const int i = lid + j * IGEMM_WG;
        if (i < IGEMM_A_VECS)
          vstore4(a_next[j], (size_t)i, an);
      }
#pragma unroll
      for (int j = 0; j < IGEMM_B_LOADS; j++)
        bn[(row0 + j * IGEMM_B_ROWS) * IGEMM_BN + col] = b_next[j];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }

  /* Epilogue: bias, scale and shift of the TM channels as vectors, then the
   * residual and ReLU per element. */
  int o_base[IGEMM_TN];
  bool pixel_ok[IGEMM_TN];
#pragma unroll
  for (int j = 0; j < IGEMM_TN; j++) {
    const int p = p0 + tx * IGEMM_TN + j;
    const int n = p / out_plane;
    pixel_ok[j] = p < pixels;
    o_base[j] = n * out_c * out_plane + (p - n * out_plane);
  }
  const int e = block * IGEMM_BM + ty * IGEMM_TM, e_count = (in_c / cin_g) * blocks_g * IGEMM_BM;
  float bias[IGEMM_TM], scale[IGEMM_TM], shift[IGEMM_TM];
  VSTORE_M(VLOAD_M(0, epilogue + e), 0, bias);
  VSTORE_M(VLOAD_M(0, epilogue + e_count + e), 0, scale);
  VSTORE_M(VLOAD_M(0, epilogue + 2 * e_count + e), 0, shift);
#pragma unroll
  for (int i = 0; i < IGEMM_TM; i++) {
    const int m = m0 + ty * IGEMM_TM + i;
    if (m >= cout_g)
      continue; /* not break: the loop must unroll, acc stays in registers */
    const int co_plane = (g * cout_g + m) * out_plane;
    float y[IGEMM_TN];
    VSTORE_N((acc[i] + (vecn)(bias[i])) * (vecn)(scale[i]) + (vecn)(shift[i]), 0, y);
#pragma unroll
    for (int j = 0; j < IGEMM_TN; j++)
      if (pixel_ok[j]) {
        const int o = o_base[j] + co_plane;
        output[o] = igemm_finish(y[j], residual, o, flags);
      }
  }
}

/* The tiles come as __local arguments (the host sizes them): Oclgrind adds up the
 * __local arrays of every kernel of a program against the device's limit. */
#define IGEMM_KERNEL(NAME, KH, KW)                                                                 \
  __kernel __attribute__((reqd_work_group_size(IGEMM_WG, 1, 1))) void NAME(                        \
      IGEMM_ARGS, __local float *a_tile, __local float *b_tile) {                                  \
    conv_igemm(IGEMM_NAMES, a_tile, b_tile, KH, KW);                                               \
  }
IGEMM_KERNEL(conv2d_igemm, kernel_h, kernel_w)
IGEMM_KERNEL(conv2d_igemm_k1, 1, 1)
IGEMM_KERNEL(conv2d_igemm_k3, 3, 3)
IGEMM_KERNEL(conv2d_igemm_k7, 7, 7)
