/* Grouped convolution (ResNeXt's 32 or 64 groups of 4..32 channels) with the fused
 * epilogue of kernels/conv2d.cl, vectorized over pixels rather than output
 * channels: a group has too few output channels to fill the blocked kernel's
 * channel vectors, but every output row has enough pixels.
 *
 * conv2d_grouped_c<GC>*: a work-item computes GC output channels of one group
 * (one "block": the blocked weight layout of plan/conv2d_pack.c with a block of GC
 * channels, [group][block][cin/groups][kh][kw][GC], zero past the group's end) for
 * GROUPED_PIX (16) neighbouring output pixels of one row, held as GC float16
 * accumulators. Each step over an input channel and tap loads one vector of 16
 * inputs (stride 1: one vload16; stride 2: the even lanes of two; other strides:
 * gathered) and GC weights, and does GC vector FMAs. Dimension 0 runs over the row
 * tiles of the whole batch (n, oh, ow / 16), so work-items that PoCL runs one
 * after another share the input rows and the block's small weight in the cache;
 * dimension 1 over the blocks of every group.
 *
 * The host always passes a zero-padded copy of the input (conv2d_pad) with
 * pad_h = pad_w = 0 whose rows are wide enough for the last tile's loads
 * (plan/conv2d_pack.c: clrn_conv2d_padded_plane), so the inner loop has no
 * checks; the tile's pixels past out_w are computed and not stored.
 * _k3s1 and _k3s2 fix the 3x3 window and stride (the compiler unrolls the taps);
 * the plain kernels take any window and stride. Arguments: CLRN_CONV2D_ARGS
 * (clrn_abi.h), like every conv2d kernel. No tuning macros.
 */

#define GROUPED_PIX 16

/* Restrict pointers for kernels, plain ones for the inlined body (as in conv2d.cl:
 * Oclgrind 21.10 cannot run inlined restrict parameters). */
#define GROUPED_IN_RESTRICT(name) __global const float *restrict name
#define GROUPED_OUT_RESTRICT(name) __global float *restrict name
#define GROUPED_IN(name) __global const float *name
#define GROUPED_OUT(name) __global float *name
#define GROUPED_INT(name) const int name
#define GROUPED_NAME(name) name
#define GROUPED_ARGS CLRN_CONV2D_ARGS(GROUPED_IN_RESTRICT, GROUPED_OUT_RESTRICT, GROUPED_INT)
#define GROUPED_PARAMS CLRN_CONV2D_ARGS(GROUPED_IN, GROUPED_OUT, GROUPED_INT)
#define GROUPED_NAMES CLRN_CONV2D_ARGS(GROUPED_NAME, GROUPED_NAME, GROUPED_NAME)

/* 16 inputs stride apart from p. */
CLRN_INLINE float16 grouped_load(__global const float *p, const int stride) {
  if (stride == 1)
    return vload16(0, p);
  if (stride == 2)
    return (float16)(vload16(0, p).even, vload16(1, p).even);
  float t[GROUPED_PIX];
  for (int i = 0; i < GROUPED_PIX; i++)
    t[i] = p[i * stride];
  return vload16(0, t);
}

/* The first valid (< 16) floats at p as a vector, the other lanes 0. */
CLRN_INLINE float16 grouped_load_part(__global const float *p, const int valid) {
  float t[GROUPED_PIX];
  for (int i = 0; i < GROUPED_PIX; i++)
    t[i] = i < valid ? p[i] : 0.0f;
  return vload16(0, t);
}

/* Stores the first valid (< 16) lanes of y at p. */
CLRN_INLINE void grouped_store_part(const float16 y, __global float *p, const int valid) {
  float t[GROUPED_PIX];
  vstore16(y, 0, t);
  for (int i = 0; i < valid; i++)
    p[i] = t[i];
}

CLRN_INLINE void conv_grouped(GROUPED_PARAMS, const int gc, const int kh_count, const int kw_count,
                              const int stride) {
  const int tiles_w = (out_w + GROUPED_PIX - 1) / GROUPED_PIX;
  const int out_plane = out_h * out_w, images = pixels / out_plane;
  const int tile = get_global_id(0), block = get_global_id(1);
  const int groups = in_c / cin_g;
  if (tile >= images * out_h * tiles_w || block >= groups * blocks_g)
    return;
  const int row = tile / tiles_w, ow0 = (tile - row * tiles_w) * GROUPED_PIX;
  const int n = row / out_h, oh = row - n * out_h; /* no %: see conv2d_direct */
  const int g = block / blocks_g, co0 = (block - g * blocks_g) * gc;
  const int in_plane = in_h * in_w, taps = kh_count * kw_count;

  __global const float *src =
      input + ((size_t)(n * in_c + g * cin_g) * in_h + oh * stride_h) * in_w + ow0 * stride;
  __global const float *w = weight + (size_t)block * cin_g * taps * gc;
  float16 acc[8];
#pragma unroll
  for (int c = 0; c < 8; c++)
    acc[c] = (float16)(0.0f);
  for (int ci = 0; ci < cin_g; ci++) {
    for (int kh = 0; kh < kh_count; kh++) {
      __global const float *p = src + (size_t)ci * in_plane + kh * in_w;
      for (int kw = 0; kw < kw_count; kw++) {
        const float16 x = grouped_load(p + kw, stride);
#pragma unroll
        for (int c = 0; c < 8; c++)
          if (c < gc)
            acc[c] = fma(x, (float16)(w[c]), acc[c]);
        w += gc;
      }
    }
  }

  /* Epilogue: bias, scale, shift per channel, then residual and ReLU as vectors
   * (a row's last tile loads and stores only its valid pixels). */
  const int e_count = groups * blocks_g * gc, e = block * gc;
  const int valid = min(GROUPED_PIX, out_w - ow0);
#pragma unroll
  for (int c = 0; c < 8; c++) {
    if (c >= gc || co0 + c >= cout_g)
      continue; /* not break: see conv2d.cl */
    const int co = g * cout_g + co0 + c;
    const int o = ((n * out_c + co) * out_h + oh) * out_w + ow0;
    float16 y =
        (acc[c] + epilogue[e + c]) * epilogue[e_count + e + c] + epilogue[2 * e_count + e + c];
    if (flags & CLRN_CONV2D_FLAG_RESIDUAL)
      y += valid == GROUPED_PIX ? vload16(0, residual + o) : grouped_load_part(residual + o, valid);
    if (flags & CLRN_CONV2D_FLAG_RELU)
      y = select(y, (float16)(0.0f), y < (float16)(0.0f)); /* like torch.relu: NaN stays NaN */
    if (valid == GROUPED_PIX)
      vstore16(y, 0, output + o);
    else
      grouped_store_part(y, output + o, valid);
  }
}

#define CONV_GROUPED_FIXED(GC)                                                                     \
  __kernel void conv2d_grouped_c##GC(GROUPED_ARGS) {                                               \
    conv_grouped(GROUPED_NAMES, GC, kernel_h, kernel_w, stride_w);                                 \
  }                                                                                                \
  __kernel void conv2d_grouped_c##GC##_k3s1(GROUPED_ARGS) {                                        \
    conv_grouped(GROUPED_NAMES, GC, 3, 3, 1);                                                      \
  }                                                                                                \
  __kernel void conv2d_grouped_c##GC##_k3s2(GROUPED_ARGS) {                                        \
    conv_grouped(GROUPED_NAMES, GC, 3, 3, 2);                                                      \
  }
CONV_GROUPED_FIXED(4)
CONV_GROUPED_FIXED(8)
