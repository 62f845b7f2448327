/* Convolution on NVIDIA tensor cores through inline PTX (mma.sync), for
 * --precision tf32 and fp16 on devices of compute capability 8.0 or later. The
 * host builds this program only there, passing -DCLRN_NV_MMA=<major*10+minor>
 * (runtime/nvidia.c); everywhere else the plan never chooses it, the op refuses
 * it, and the program is empty (below). Not run on hardware in this project's CI:
 * a test compiles it to PTX with clang's NVPTX target and assembles that with
 * ptxas for sm_80 when both are installed (tests/conv/mma_ptx.sh).
 *
 * An implicit GEMM with the fused epilogue of kernels/conv2d.cl, one group only:
 *   D (out_c x pixels) = W (out_c x K) * X (K x pixels),  K = in_c * kh * kw,
 * W in PyTorch's layout ([out_c][in_c][kh][kw] is row-major out_c x K), X the
 * im2col matrix read in place (element (k, p) is the input under tap k of output
 * pixel p, zero in the padding), pixels numbered across the batch (n, oh, ow).
 * Then y = relu?((D + bias) * scale + shift + residual).
 *
 * A warp (32 consecutive work-items of dimension 0; the host makes the work-group
 * a multiple of 32) computes 16 output channels (dimension 1 picks the tile) by
 * MMA_N_TILES * 8 pixels (dimension 0 / 32 picks the tile) as MMA_N_TILES
 * m16n8 accumulators. Per step over K each lane loads its fragments straight from
 * global memory (zero past out_c, K and the pixel count), so any shape works; no
 * local-memory staging yet.
 *
 * Fragments (PTX ISA, "Matrix fragments for mma.m16n8k8" / "mma.m16n8k16"), with
 * g = lane / 4 and t = lane % 4:
 *   tf32 m16n8k8: A a0 (g, t), a1 (g+8, t), a2 (g, t+4), a3 (g+8, t+4);
 *                 B b0 (k t, n g), b1 (k t+4, n g).
 *   f16 m16n8k16: A regs {a0,a1} (g, 2t..2t+1), {a2,a3} (g+8, 2t..), {a4,a5}
 *                 (g, 2t+8..), {a6,a7} (g+8, 2t+8..), the lower k in the low 16
 *                 bits; B regs {b0,b1} (k 2t..2t+1, n g), {b2,b3} (k 2t+8.., n g).
 *   C/D (both):   c0 (g, 2t), c1 (g, 2t+1), c2 (g+8, 2t), c3 (g+8, 2t+1).
 * tf32 operands are rounded from float with cvt.rna.tf32.f32; f16 operands are the
 * stored halves' bits read as ushort (CLRN_HALF_STORAGE), so no half arithmetic
 * (cl_khr_fp16) is needed. Indices are int: the host refuses tensors of 2^31
 * elements or more, as for every conv2d kernel.
 */

/* Without -DCLRN_NV_MMA (every device but NVIDIA ones of compute capability 8.0
 * or later, and the builds of all programs a context makes up front) the program
 * is empty: no PTX reaches another compiler. */
#ifdef CLRN_NV_MMA
#if CLRN_NV_MMA < 80
#error "conv2d_mma.cl: mma.sync with tf32 and m16n8k16 need compute capability 8.0 or later"
#endif

#define MMA_N_TILES 4 /* m16n8 tiles per warp along the pixels: 32 pixels */

/* Inline PTX: clang's OpenCL mode knows only the GNU spelling; NVIDIA's compiler
 * takes asm volatile. */
#if defined(__clang__)
#define MMA_ASM __asm__ __volatile__
#else
#define MMA_ASM asm volatile
#endif

#define MMA_IN(name) __global const CLRN_CONV2D_TYPE(name) *restrict name
#define MMA_OUT(name) __global CLRN_CONV2D_TYPE(name) *restrict name
#define MMA_INT(name) const int name

/* Where output pixel p's window starts: image offset of channel 0, top row, left
 * column (possibly in the padding); valid false past the last pixel. */
typedef struct mma_pixel {
  int image, ih0, iw0;
  bool valid;
} mma_pixel;

CLRN_INLINE mma_pixel mma_locate(int p, int pixels, int out_h, int out_w, int stride_h,
                                 int stride_w, int pad_h, int pad_w, int in_c, int in_h,
                                 int in_w) {
  mma_pixel at;
  at.valid = p < pixels;
  const int q = at.valid ? p : 0, plane = out_h * out_w;
  const int n = q / plane, r = q - n * plane, oh = r / out_w, ow = r - oh * out_w;
  at.image = n * in_c * in_h * in_w;
  at.ih0 = oh * stride_h - pad_h;
  at.iw0 = ow * stride_w - pad_w;
  return at;
}

/* Where element k of pixel at's im2col column lies in the input, or -1 where it
 * is zero (padding, past K or past the last pixel). */
CLRN_INLINE int mma_x(mma_pixel at, int k, int K, int taps, int kernel_w, int in_h, int in_w) {
  if (!at.valid || k >= K)
    return -1;
  const int ci = k / taps, r = k - ci * taps, kh = r / kernel_w, kw = r - kh * kernel_w;
  const int ih = at.ih0 + kh, iw = at.iw0 + kw;
  if (ih < 0 || ih >= in_h || iw < 0 || iw >= in_w)
    return -1;
  return at.image + (ci * in_h + ih) * in_w + iw;
}

/* Where element (row, k) of W lies (row: the row's offset, -1 past out_c), or -1. */
#define MMA_W(row, k) ((row) >= 0 && (k) < K ? (row) + (k) : -1)

#ifdef CLRN_HALF_STORAGE
#define MMA_K 16
/* Two stored halves (indices lo and hi, -1 for zero) as one .f16x2 register, lo
 * in the low 16 bits: their bits, read as ushort (no half arithmetic needed). */
CLRN_INLINE uint mma_pack(__global const CLRN_ACT *p, int lo, int hi) {
  __global const ushort *bits = (__global const ushort *)p;
  return (lo >= 0 ? (uint)bits[lo] : 0u) | ((hi >= 0 ? (uint)bits[hi] : 0u) << 16);
}
#else
#define MMA_K 8
/* Element i of p (-1: zero) rounded to TF32, in a .b32 register. */
CLRN_INLINE uint mma_tf32(__global const float *p, int i) {
  const float v = i >= 0 ? p[i] : 0.0f;
  uint bits;
#ifdef CLRN_MMA_EMULATE
  /* cvt.rna: to nearest, ties away from zero, keeping 10 mantissa bits */
  bits = (as_uint(v) + 0x1000u) & 0xffffe000u;
#else
  MMA_ASM("cvt.rna.tf32.f32 %0, %1;" : "=r"(bits) : "f"(v));
#endif
  return bits;
}
#endif

#ifdef CLRN_MMA_EMULATE
/* Test-only (CLRN_TEST_MMA_EMULATE, runtime/nvidia.h): the warp's mma.sync done by
 * the PTX ISA's definition on any device, so everything around the instruction
 * (fragment indexing, im2col, bounds, epilogue) runs against the CPU reference on
 * PoCL. The work-group is one warp (the host launches 32 work-items a group), so
 * the barriers are uniform. Each lane writes its A and B fragments into the tile
 * as the fragment layouts above say, then computes its four C elements. a holds
 * 16 x MMA_K floats, b MMA_K x 8. */
CLRN_INLINE float mma_element(uint bits, int half_index) {
#ifdef CLRN_HALF_STORAGE
  const ushort h = (ushort)(half_index ? bits >> 16 : bits & 0xffffu);
  return vload_half(0, (__private const half *)&h);
#else
  return as_float(bits);
#endif
}

CLRN_INLINE void mma_emulate(float acc[4], const uint a[4], const uint b[2], __local float *ta,
                             __local float *tb, int g, int t) {
#ifdef CLRN_HALF_STORAGE
  for (int r = 0; r < 4; r++) /* a_r: rows g / g+8 (r odd), columns 2t, 2t+1 (+8 for r >= 2) */
    for (int e = 0; e < 2; e++)
      ta[(g + (r & 1) * 8) * MMA_K + 2 * t + e + (r >> 1) * 8] = mma_element(a[r], e);
  for (int r = 0; r < 2; r++) /* b_r: rows 2t, 2t+1 (+8 for r = 1), column g */
    for (int e = 0; e < 2; e++)
      tb[(2 * t + e + r * 8) * 8 + g] = mma_element(b[r], e);
#else
  for (int r = 0; r < 4; r++) /* a_r: row g / g+8 (r odd), column t (+4 for r >= 2) */
    ta[(g + (r & 1) * 8) * MMA_K + t + (r >> 1) * 4] = mma_element(a[r], 0);
  for (int r = 0; r < 2; r++) /* b_r: row t (+4 for r = 1), column g */
    tb[(t + r * 4) * 8 + g] = mma_element(b[r], 0);
#endif
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int i = 0; i < 4; i++) { /* c_i: row g (+8 for i >= 2), column 2t + (i & 1) */
    const int row = g + (i >> 1) * 8, col = 2 * t + (i & 1);
    float sum = acc[i];
    for (int k = 0; k < MMA_K; k++)
      sum = fma(ta[row * MMA_K + k], tb[k * 8 + col], sum);
    acc[i] = sum;
  }
  barrier(CLK_LOCAL_MEM_FENCE); /* the tile is rewritten by the next step */
}
#define MMA_STEP(ACC, A0, A1, A2, A3, B0, B1)                                                      \
  do {                                                                                             \
    const uint a_[4] = {A0, A1, A2, A3}, b_[2] = {B0, B1};                                         \
    mma_emulate(ACC, a_, b_, tile_a, tile_b, g, t);                                                \
  } while (0)
#else
/* One mma.sync of shape and types INSTRUCTION: D = A * B + C in place on ACC. */
#define MMA_PTX(INSTRUCTION, ACC, A0, A1, A2, A3, B0, B1)                                          \
  MMA_ASM(INSTRUCTION " {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"           \
          : "+f"(ACC[0]), "+f"(ACC[1]), "+f"(ACC[2]), "+f"(ACC[3])                                 \
          : "r"(A0), "r"(A1), "r"(A2), "r"(A3), "r"(B0), "r"(B1))
#ifdef CLRN_HALF_STORAGE
#define MMA_STEP(...) MMA_PTX("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32", __VA_ARGS__)
#else
#define MMA_STEP(...) MMA_PTX("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32", __VA_ARGS__)
#endif
#endif

__kernel void conv2d_mma(CLRN_CONV2D_ARGS(MMA_IN, MMA_OUT, MMA_INT)) {
  const int lane = (int)(get_local_id(0) & 31u);
  const int p_tile = (int)(get_global_id(0) >> 5), co0 = (int)get_global_id(1) * 16;
  const int p0 = p_tile * (8 * MMA_N_TILES);
  if (p0 >= pixels || co0 >= out_c)
    return; /* whole warps only: p0 and co0 are the same for all 32 lanes */
  const int g = lane >> 2, t = lane & 3;
#ifdef CLRN_MMA_EMULATE
  __local float tile_a[16 * MMA_K], tile_b[MMA_K * 8];
#endif
  const int taps = kernel_h * kernel_w, K = in_c * taps;

  /* This lane's B column in each n-tile: pixel p0 + 8 * j + g. */
  mma_pixel at[MMA_N_TILES];
#pragma unroll
  for (int j = 0; j < MMA_N_TILES; j++)
    at[j] = mma_locate(p0 + 8 * j + g, pixels, out_h, out_w, stride_h, stride_w, pad_h, pad_w,
                       in_c, in_h, in_w);
  /* The A rows this lane holds: channels co0 + g and co0 + g + 8 (weight row or -1). */
  const int row_lo = co0 + g < out_c ? (co0 + g) * K : -1;
  const int row_hi = co0 + g + 8 < out_c ? (co0 + g + 8) * K : -1;

  float acc[MMA_N_TILES][4];
#pragma unroll
  for (int j = 0; j < MMA_N_TILES; j++)
    acc[j][0] = acc[j][1] = acc[j][2] = acc[j][3] = 0.0f;

  for (int k0 = 0; k0 < K; k0 += MMA_K) {
#ifdef CLRN_HALF_STORAGE
    const int ka = k0 + 2 * t, kb = ka + 8; /* A columns / B rows: ka, ka+1, kb, kb+1 */
    const uint a0 = mma_pack(weight, MMA_W(row_lo, ka), MMA_W(row_lo, ka + 1));
    const uint a1 = mma_pack(weight, MMA_W(row_hi, ka), MMA_W(row_hi, ka + 1));
    const uint a2 = mma_pack(weight, MMA_W(row_lo, kb), MMA_W(row_lo, kb + 1));
    const uint a3 = mma_pack(weight, MMA_W(row_hi, kb), MMA_W(row_hi, kb + 1));
#pragma unroll
    for (int j = 0; j < MMA_N_TILES; j++) {
      const uint b0 = mma_pack(input, mma_x(at[j], ka, K, taps, kernel_w, in_h, in_w),
                               mma_x(at[j], ka + 1, K, taps, kernel_w, in_h, in_w));
      const uint b1 = mma_pack(input, mma_x(at[j], kb, K, taps, kernel_w, in_h, in_w),
                               mma_x(at[j], kb + 1, K, taps, kernel_w, in_h, in_w));
      MMA_STEP(acc[j], a0, a1, a2, a3, b0, b1);
    }
#else
    const int ka = k0 + t, kb = ka + 4; /* A columns / B rows */
    const uint a0 = mma_tf32(weight, MMA_W(row_lo, ka)), a1 = mma_tf32(weight, MMA_W(row_hi, ka));
    const uint a2 = mma_tf32(weight, MMA_W(row_lo, kb)), a3 = mma_tf32(weight, MMA_W(row_hi, kb));
#pragma unroll
    for (int j = 0; j < MMA_N_TILES; j++) {
      const uint b0 = mma_tf32(input, mma_x(at[j], ka, K, taps, kernel_w, in_h, in_w));
      const uint b1 = mma_tf32(input, mma_x(at[j], kb, K, taps, kernel_w, in_h, in_w));
      MMA_STEP(acc[j], a0, a1, a2, a3, b0, b1);
    }
#endif
  }

  /* Epilogue: c0, c1 at channel co0 + g, pixels 2t and 2t+1 of the n-tile; c2, c3
   * at channel co0 + g + 8. */
  const int plane = out_h * out_w;
#pragma unroll
  for (int j = 0; j < MMA_N_TILES; j++)
#pragma unroll
    for (int i = 0; i < 4; i++) {
      const int co = co0 + g + (i >= 2 ? 8 : 0), p = p0 + 8 * j + 2 * t + (i & 1);
      if (co >= out_c || p >= pixels)
        continue;
      const int n = p / plane, r = p - n * plane;
      const int o = (n * out_c + co) * plane + r;
      float y = (acc[j][i] + epilogue[co]) * epilogue[out_c + co] + epilogue[2 * out_c + co];
      if (flags & CLRN_CONV2D_FLAG_RESIDUAL)
        y += CLRN_LOAD(o, residual);
      if (flags & CLRN_CONV2D_FLAG_RELU)
        y = y < 0.0f ? 0.0f : y;
      CLRN_STORE(y, o, output);
    }
}

#endif /* CLRN_NV_MMA */
