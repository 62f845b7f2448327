/* 2-D convolution (PyTorch Conv2d, dilation 1, groups) with clresnet's fused
 * epilogue y = relu?((conv + bias) * scale + shift + residual), float32 NCHW.
 *
 * The convolution kernels take the same arguments (the host sets them in one
 * place): input [N][in_c][in_h][in_w], weight (layout per variant), epilogue
 * [3][channels]: bias, scale and shift (the host fills 0, 1, 0 for absent ones,
 * which changes no result), residual (output-shaped, or NULL), output
 * [N][out_c][out_h][out_w], then the geometry as ints (CLRN_CONV2D_ARGS in
 * clrn_abi.h, which the host uses too).
 *
 * conv2d_direct: one output element per work-item, dimension 0 along the
 *   pixels of an image (neighbouring work-items read neighbouring inputs),
 *   dimension 1 the output channel, dimension 2 the image. Weight in PyTorch's
 *   layout. The simplest correct kernel; runs everywhere.
 *
 * conv2d_blocked*: register-blocked. A work-item computes CONV_COUT_BLOCK output
 *   channels (as vectors of CONV_VEC lanes) for CONV_PIX_BLOCK output pixels, so
 *   each weight vector loaded serves CONV_PIX_BLOCK pixels and each input value
 *   serves CONV_COUT_BLOCK channels. Pixels are numbered across the whole batch
 *   (n, oh, ow flattened), so small images waste no lanes. One dimension runs
 *   over the output-channel blocks of every group, the other over the pixel
 *   blocks. The host decides which is dimension 0 (CLRN_CONV2D_FLAG_PIXELS_FIRST,
 *   from the profile's CONV_PIXELS_FIRST): on GPUs pixel blocks, so a warp shares
 *   one weight address and reads neighbouring inputs; on CPUs, where work-items run
 *   one after another along dimension 0, whichever operand is smaller, so the
 *   bigger one streams through the cache fewest times (channel blocks first when
 *   the input outweighs the weight, as in early layers).
 *   The host repacks the weight as [group][block][cin/groups][kh][kw][COUT_BLOCK]
 *   (zero-padded past the group's last channel), so each step loads contiguous
 *   vectors. Windows never cross the border: for a padded convolution the host
 *   first copies the input into a zero-padded buffer with conv2d_pad, so the
 *   inner loop has no checks at all. _k1, _k3 and _k7 are the same code for 1x1,
 *   3x3 and 7x7 windows with the size a constant, so the compiler unrolls the
 *   taps by itself; conv2d_blocked takes any size. (No #pragma unroll on the tap
 *   loops: with a run-time size clang cannot honour it and warns.)
 *
 * Storage: input, weight, residual and output are CLRN_ACT (float, or half with
 * CLRN_HALF_STORAGE: see prelude.h), read and written through the prelude's macros; the
 * epilogue and all arithmetic are float.
 *
 * Macros from the device profile, always passed by the host (their defaults and
 * ranges are in src/runtime/tuning.c): CONV_VEC (1, 2, 4, 8 or 16), CONV_COUT_BLOCK
 * (a multiple of CONV_VEC), CONV_PIX_BLOCK (1..16). Global sizes are rounded up to
 * the work-group size, so every kernel checks its indices.
 */

#if !defined(CONV_VEC) || !defined(CONV_COUT_BLOCK) || !defined(CONV_PIX_BLOCK)
#error "conv2d.cl: CONV_VEC, CONV_COUT_BLOCK and CONV_PIX_BLOCK come from the host's tuning table"
#endif
#if CONV_COUT_BLOCK % CONV_VEC != 0 || CONV_COUT_BLOCK > 64 || CONV_PIX_BLOCK < 1 ||               \
    CONV_PIX_BLOCK > 16
#error                                                                                             \
    "conv2d.cl: CONV_COUT_BLOCK must be a multiple of CONV_VEC (at most 64), CONV_PIX_BLOCK 1..16"
#endif

#define CONV_NVEC (CONV_COUT_BLOCK / CONV_VEC)
#define CONV_CAT_(a, b) a##b
#define CONV_CAT(a, b) CONV_CAT_(a, b)
/* VLOAD/VSTORE: float vectors (the epilogue, private arrays); WLOAD: the stored
 * weight (CLRN_ACT). */
#if CONV_VEC == 1
typedef float vecf;
#define VLOAD(i, p) ((p)[i])
#define VSTORE(v, i, p) ((p)[i] = (v))
#define WLOAD(i, p) CLRN_LOAD(i, p)
#elif CONV_VEC == 2 || CONV_VEC == 4 || CONV_VEC == 8 || CONV_VEC == 16
typedef CONV_CAT(float, CONV_VEC) vecf;
#define VLOAD(i, p) CONV_CAT(vload, CONV_VEC)(i, p)
#define VSTORE(v, i, p) CONV_CAT(vstore, CONV_VEC)(v, i, p)
#define WLOAD(i, p) CLRN_VLOAD(CONV_VEC, i, p)
#else
#error "conv2d.cl: CONV_VEC must be 1, 2, 4, 8 or 16"
#endif

/* The arguments every conv2d kernel takes, in the order of CLRN_CONV2D_ARGS
 * (clrn_abi.h, shared with the host). Kernels mark the pointers restrict
 * (CONV_ARGS); the inline helper takes them without (CONV_PARAMS): inlining
 * restrict parameters emits llvm.experimental.noalias.scope.decl, which Oclgrind
 * 21.10 cannot run. CONV_NAMES passes them on. */
#define CONV_IN_RESTRICT(name) __global const CLRN_CONV2D_TYPE(name) *restrict name
#define CONV_OUT_RESTRICT(name) __global CLRN_CONV2D_TYPE(name) *restrict name
#define CONV_IN(name) __global const CLRN_CONV2D_TYPE(name) *name
#define CONV_OUT(name) __global CLRN_CONV2D_TYPE(name) *name
#define CONV_INT(name) const int name
#define CONV_NAME(name) name
#define CONV_ARGS CLRN_CONV2D_ARGS(CONV_IN_RESTRICT, CONV_OUT_RESTRICT, CONV_INT)
#define CONV_PARAMS CLRN_CONV2D_ARGS(CONV_IN, CONV_OUT, CONV_INT)
#define CONV_NAMES CLRN_CONV2D_ARGS(CONV_NAME, CONV_NAME, CONV_NAME)

/* Residual and ReLU, the last two steps of the epilogue, on output index o. */
CLRN_INLINE float conv_finish(float t, __global const CLRN_ACT *residual, int o, int flags) {
  if (flags & CLRN_CONV2D_FLAG_RESIDUAL)
    t += CLRN_LOAD(o, residual);
  if (flags & CLRN_CONV2D_FLAG_RELU)
    t = t < 0.0f ? 0.0f : t; /* like torch.relu: NaN stays NaN */
  return t;
}

__kernel void conv2d_direct(CONV_ARGS) {
  const int pixel = get_global_id(0), co = get_global_id(1), n = get_global_id(2);
  if (pixel >= out_h * out_w || co >= out_c)
    return;
  /* ow without %: LLVM pairs a / and % into a freeze instruction, which
   * Oclgrind 21.10's uninitialized-value checker cannot run. */
  const int oh = pixel / out_w, ow = pixel - oh * out_w;
  const int g = co / cout_g;
  const int ih0 = oh * stride_h - pad_h, iw0 = ow * stride_w - pad_w;
  __global const CLRN_ACT *in = input + ((n * in_c + g * cin_g) * in_h) * in_w;
  __global const CLRN_ACT *w = weight + co * cin_g * kernel_h * kernel_w;
  float sum = 0.0f;
  for (int ci = 0; ci < cin_g; ci++)
    for (int kh = 0; kh < kernel_h; kh++) {
      const int ih = ih0 + kh;
      if (ih < 0 || ih >= in_h)
        continue;
      for (int kw = 0; kw < kernel_w; kw++) {
        const int iw = iw0 + kw;
        if (iw >= 0 && iw < in_w)
          sum = fma(CLRN_LOAD((ci * kernel_h + kh) * kernel_w + kw, w),
                    CLRN_LOAD((ci * in_h + ih) * in_w + iw, in), sum);
      }
    }
  const float t = (sum + epilogue[co]) * epilogue[out_c + co] + epilogue[2 * out_c + co];
  const int o = ((n * out_c + co) * out_h + oh) * out_w + ow;
  CLRN_STORE(conv_finish(t, residual, o, flags), o, output);
}

/* Copies input [planes][in_h][in_w] into padded [planes][padded_h][padded_w]
 * with pad_h rows and pad_w columns of zeros before it (and zeros after it where
 * padded is larger), so the blocked kernels never meet the border. With a step
 * above 1 it copies every step_h-th row and step_w-th column only: the input of
 * an unpadded strided 1x1 convolution, subsampled so that it runs as a stride-1
 * one on a quarter of the data (padded[y][x] = input[y * step_h - pad_h][x *
 * step_w - pad_w]). */
__kernel void conv2d_pad(__global const CLRN_ACT *restrict input,
                         __global CLRN_ACT *restrict padded, const int in_h, const int in_w,
                         const int pad_h, const int pad_w, const int padded_h,
                         const int padded_w, const int step_h, const int step_w) {
  const int x = get_global_id(0), y = get_global_id(1), plane = get_global_id(2);
  if (x >= padded_w || y >= padded_h)
    return;
  const int ix = x * step_w - pad_w, iy = y * step_h - pad_h;
  const bool inside = ix >= 0 && ix < in_w && iy >= 0 && iy < in_h;
  CLRN_STORE(inside ? CLRN_LOAD((plane * in_h + iy) * in_w + ix, input) : 0.0f,
             (plane * padded_h + y) * padded_w + x, padded);
}

/* The body of every blocked kernel; kh_count and kw_count are constants in the
 * specialised kernels. Every window lies inside the input: the host pads the
 * input first (conv2d_pad) and passes pad_h = pad_w = 0. Forced inline
 * (CLRN_INLINE), so the specialised kernels see constant window sizes. */
CLRN_INLINE void conv_blocked(CONV_PARAMS, const int kh_count, const int kw_count) {
  const bool pixels_first = flags & CLRN_CONV2D_FLAG_PIXELS_FIRST;
  const int block = get_global_id(pixels_first ? 1 : 0);
  const int q0 = get_global_id(pixels_first ? 0 : 1) * CONV_PIX_BLOCK;
  const int groups = in_c / cin_g;
  if (block >= groups * blocks_g || q0 >= pixels)
    return;
  const int g = block / blocks_g, co0 = (block - g * blocks_g) * CONV_COUT_BLOCK;
  const int in_plane = in_h * in_w, out_plane = out_h * out_w;
  const int taps = kh_count * kw_count;

  /* Where each pixel's window starts in the input and its output goes (pixels
   * past the end repeat the last one and are not stored). */
  int base[CONV_PIX_BLOCK], o_base[CONV_PIX_BLOCK];
  {
    int q = q0, n = q0 / out_plane, r = q0 - n * out_plane, oh = r / out_w;
    int ow = r - oh * out_w; /* no %: see conv2d_direct */
#pragma unroll
    for (int p = 0; p < CONV_PIX_BLOCK; p++) {
      base[p] = (n * in_c + g * cin_g) * in_plane + (oh * stride_h - pad_h) * in_w + ow * stride_w -
                pad_w;
      o_base[p] = n * out_c * out_plane + oh * out_w + ow;
      if (q + 1 < pixels) {
        q++;
        if (++ow == out_w) {
          ow = 0;
          if (++oh == out_h) {
            oh = 0;
            n++;
          }
        }
      }
    }
  }

  vecf acc[CONV_PIX_BLOCK][CONV_NVEC];
#pragma unroll
  for (int p = 0; p < CONV_PIX_BLOCK; p++)
#pragma unroll
    for (int v = 0; v < CONV_NVEC; v++)
      acc[p][v] = (vecf)(0.0f);

  /* Channel outer, taps inner: the weight is read front to back. Every pixel's
   * loads share one running offset (row), so the loop keeps one index. */
  __global const CLRN_ACT *src[CONV_PIX_BLOCK];
#pragma unroll
  for (int p = 0; p < CONV_PIX_BLOCK; p++)
    src[p] = input + base[p];
  __global const CLRN_ACT *w = weight + block * cin_g * taps * CONV_COUT_BLOCK;
  for (int ci = 0; ci < cin_g; ci++) {
    for (int kh = 0; kh < kh_count; kh++) {
      const size_t row = (size_t)ci * (size_t)in_plane + (size_t)(kh * in_w);
      for (int kw = 0; kw < kw_count; kw++) {
        vecf wv[CONV_NVEC];
#pragma unroll
        for (int v = 0; v < CONV_NVEC; v++)
          wv[v] = WLOAD(v, w);
        w += CONV_COUT_BLOCK;
#pragma unroll
        for (int p = 0; p < CONV_PIX_BLOCK; p++) {
          const float x = CLRN_LOAD(row + kw, src[p]);
#pragma unroll
          for (int v = 0; v < CONV_NVEC; v++)
            acc[p][v] = fma((vecf)(x), wv[v], acc[p][v]);
        }
      }
    }
  }

  /* Epilogue: bias, scale, shift as vectors, then residual and ReLU per element. */
  const int e = block * CONV_COUT_BLOCK, e_count = groups * blocks_g * CONV_COUT_BLOCK;
  const int co_first = g * cout_g + co0;
  const int co_count = min(CONV_COUT_BLOCK, cout_g - co0);
#pragma unroll
  for (int p = 0; p < CONV_PIX_BLOCK; p++) {
    if (q0 + p >= pixels)
      continue; /* not break: a loop with two exits cannot be unrolled */
    float y[CONV_COUT_BLOCK];
#pragma unroll
    for (int v = 0; v < CONV_NVEC; v++) {
      const vecf b = VLOAD(v, epilogue + e), s = VLOAD(v, epilogue + e_count + e);
      const vecf h = VLOAD(v, epilogue + 2 * e_count + e);
      VSTORE((acc[p][v] + b) * s + h, v, y);
    }
    for (int j = 0; j < co_count; j++) {
      const int o = o_base[p] + (co_first + j) * out_plane;
      CLRN_STORE(conv_finish(y[j], residual, o, flags), o, output);
    }
  }
}

__kernel void conv2d_blocked(CONV_ARGS) { conv_blocked(CONV_NAMES, kernel_h, kernel_w); }

#define CONV_BLOCKED_FIXED(NAME, K)                                                                \
  __kernel void NAME(CONV_ARGS) { conv_blocked(CONV_NAMES, K, K); }
CONV_BLOCKED_FIXED(conv2d_blocked_k1, 1)
CONV_BLOCKED_FIXED(conv2d_blocked_k3, 3)
CONV_BLOCKED_FIXED(conv2d_blocked_k7, 7)
