/* 1x1 stride-1 convolution (no padding, one group) as a GEMM micro-kernel, with
 * the fused epilogue of kernels/conv2d.cl: for each image n of an NCHW batch,
 * out[n] (out_c x plane) = W (out_c x in_c) * in[n] (in_c x plane), then
 * y = relu?((y + bias) * scale + shift + residual).
 *
 * conv2d_gemm1x1: a work-item computes a GEMM_MR x (GEMM_NV * GEMM_NR) tile:
 * GEMM_MR output channels by GEMM_NV * GEMM_NR neighbouring pixels of one image,
 * the pixels as GEMM_NV vectors (float4/8/16), so each step over the input
 * channels is GEMM_NV vector loads of the input row, GEMM_MR broadcasts of
 * contiguous weights and GEMM_MR * GEMM_NV vector FMAs into accumulators held in
 * registers. Several vectors a row (GEMM_NV > 1) make each work-item write and
 * read runs of several cache lines per output and residual row, which the CPU's
 * prefetchers follow; with one, the work-items that share a pixel tile touch one
 * line in each of hundreds of rows, and the 56x56 layers of ResNet-50 wait on
 * memory. The host packs the weight as
 * [block][in_c][GEMM_MR] (zero past out_c: the blocked layout of plan/conv2d_pack.c
 * with a block of GEMM_MR channels and one tap), the epilogue as [3][blocks *
 * GEMM_MR]. A tile that runs past the end of the plane reads clamped indices and
 * stores only its valid pixels. One dimension runs over channel blocks, the other
 * over the pixel tiles of the whole batch; CLRN_CONV2D_FLAG_PIXELS_FIRST says which
 * is dimension 0 (work-items of dimension 0 run one after another on PoCL, so they
 * share the other operand in the cache).
 *
 * Arguments: CLRN_CONV2D_ARGS (clrn_abi.h), like every conv2d kernel; it reads
 * in_c, out_c, out_h, out_w (the plane: the input's size), blocks_g (channel blocks),
 * pixels (N * plane) and flags. Macros from the tuning table (src/runtime/tuning.c):
 * GEMM_MR (1..16), GEMM_NR (4, 8 or 16) and GEMM_NV (1..4; 1 when absent). Input,
 * weight, residual and output are CLRN_ACT (float, or half with CLRN_HALF_STORAGE:
 * prelude.h); arithmetic is float.
 */

#if !defined(GEMM_MR) || !defined(GEMM_NR)
#error "conv2d_gemm.cl: GEMM_MR and GEMM_NR come from the host's tuning table"
#endif
#if GEMM_MR < 1 || GEMM_MR > 16
#error "conv2d_gemm.cl: GEMM_MR must be 1..16"
#endif

#ifndef GEMM_NV
#define GEMM_NV 1
#endif
#if GEMM_NV < 1 || GEMM_NV > 4
#error "conv2d_gemm.cl: GEMM_NV must be 1..4"
#endif
#define GEMM_TILE (GEMM_NR * GEMM_NV) /* pixels of a work-item's tile */

#define GEMM_CAT_(a, b) a##b
#define GEMM_CAT(a, b) GEMM_CAT_(a, b)
#if GEMM_NR == 4 || GEMM_NR == 8 || GEMM_NR == 16
typedef GEMM_CAT(float, GEMM_NR) vecn;
#define GEMM_LOAD(p) GEMM_CAT(vload, GEMM_NR)(0, p)
#define GEMM_STORE(v, p) GEMM_CAT(vstore, GEMM_NR)(v, 0, p)
#define GEMM_LOAD_ACT(p) CLRN_VLOAD(GEMM_NR, 0, p)
#define GEMM_STORE_ACT(v, p) CLRN_VSTORE(GEMM_NR, v, 0, p)
#else
#error "conv2d_gemm.cl: GEMM_NR must be 4, 8 or 16"
#endif

/* One step over the input channels: acc[m][v] += w[m] * x[v] for the GEMM_MR
 * weights at w (then moved past them) and the GEMM_NV pixel vectors x. A macro,
 * so that acc stays in registers. */
#define GEMM_ACCUMULATE(acc, x, w)                                                                 \
  do {                                                                                             \
    _Pragma("unroll") for (int m = 0; m < GEMM_MR; m++) {                                          \
      const vecn wm = (vecn)(CLRN_LOAD(m, w));                                                     \
      _Pragma("unroll") for (int v = 0; v < GEMM_NV; v++) acc[m][v] = fma(wm, x[v], acc[m][v]);   \
    }                                                                                              \
    w += GEMM_MR;                                                                                  \
  } while (0)

#define GEMM_IN(name) __global const CLRN_CONV2D_TYPE(name) *restrict name
#define GEMM_OUT(name) __global CLRN_CONV2D_TYPE(name) *restrict name
#define GEMM_INT(name) const int name

__kernel void conv2d_gemm1x1(CLRN_CONV2D_ARGS(GEMM_IN, GEMM_OUT, GEMM_INT)) {
  const bool pixels_first = flags & CLRN_CONV2D_FLAG_PIXELS_FIRST;
  const int block = get_global_id(pixels_first ? 1 : 0);
  const int tile = get_global_id(pixels_first ? 0 : 1);
  const int plane = out_h * out_w, tiles_per_image = (plane + GEMM_TILE - 1) / GEMM_TILE;
  if (block >= blocks_g || tile >= tiles_per_image * (pixels / plane))
    return;
  const int n = tile / tiles_per_image, p0 = (tile - n * tiles_per_image) * GEMM_TILE;
  const int valid = min(GEMM_TILE, plane - p0);
  __global const CLRN_ACT *in = input + (size_t)n * (size_t)in_c * (size_t)plane + p0;
  __global const CLRN_ACT *w = weight + (size_t)block * (size_t)in_c * GEMM_MR;

  vecn acc[GEMM_MR][GEMM_NV];
#pragma unroll
  for (int m = 0; m < GEMM_MR; m++)
#pragma unroll
    for (int v = 0; v < GEMM_NV; v++)
      acc[m][v] = (vecn)(0.0f);
  if (valid == GEMM_TILE) {
    for (int ci = 0; ci < in_c; ci++) {
      vecn x[GEMM_NV];
#pragma unroll
      for (int v = 0; v < GEMM_NV; v++)
        x[v] = GEMM_LOAD_ACT(in + (size_t)ci * (size_t)plane + v * GEMM_NR);
      GEMM_ACCUMULATE(acc, x, w);
    }
  } else {
    /* The last tile of a plane: pixels past its end repeat the last one. */
    for (int ci = 0; ci < in_c; ci++) {
      vecn x[GEMM_NV];
#pragma unroll
      for (int v = 0; v < GEMM_NV; v++) {
        float t[GEMM_NR];
#pragma unroll
        for (int j = 0; j < GEMM_NR; j++)
          t[j] = CLRN_LOAD((size_t)ci * (size_t)plane + min(v * GEMM_NR + j, valid - 1), in);
        x[v] = GEMM_LOAD(t);
      }
      GEMM_ACCUMULATE(acc, x, w);
    }
  }

  /* Epilogue, one output channel (a row of GEMM_TILE pixels) at a time. */
  const int e_count = blocks_g * GEMM_MR, co0 = block * GEMM_MR;
  const int rows = min(GEMM_MR, out_c - co0);
#pragma unroll
  for (int m = 0; m < GEMM_MR; m++) {
    if (m >= rows)
      continue; /* not break: the loop must unroll, acc stays in registers */
    const int e = co0 + m;
    const float bias = epilogue[e], scale = epilogue[e_count + e];
    const float shift = epilogue[2 * e_count + e];
    const size_t o = ((size_t)n * (size_t)out_c + (size_t)(co0 + m)) * (size_t)plane + p0;
#pragma unroll
    for (int v = 0; v < GEMM_NV; v++) {
      vecn y = (acc[m][v] + bias) * scale + shift;
      const size_t ov = o + v * GEMM_NR;
      if (valid == GEMM_TILE) {
        if (flags & CLRN_CONV2D_FLAG_RESIDUAL)
          y += GEMM_LOAD_ACT(residual + ov);
        if (flags & CLRN_CONV2D_FLAG_RELU)
          y = select(y, (vecn)(0.0f), y < (vecn)(0.0f)); /* like torch.relu: NaN stays NaN */
        GEMM_STORE_ACT(y, output + ov);
      } else {
        float t[GEMM_NR];
        GEMM_STORE(y, t);
        for (int j = 0; j < GEMM_NR && v * GEMM_NR + j < valid; j++) {
          float r = t[j];
          if (flags & CLRN_CONV2D_FLAG_RESIDUAL)
            r += CLRN_LOAD(ov + j, residual);
          if (flags & CLRN_CONV2D_FLAG_RELU)
            r = r < 0.0f ? 0.0f : r;
          CLRN_STORE(r, ov + j, output);
        }
      }
    }
  }
}
