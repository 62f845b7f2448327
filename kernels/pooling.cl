/* Pooling over NCHW tensors, with PyTorch's semantics (MaxPool2d, AvgPool2d,
 * AdaptiveAvgPool2d) in float arithmetic as PyTorch's CPU kernels do it.
 *
 * Window kernels (avgpool2d_f32, adaptive_avgpool2d_f32): dimension 0 runs over the
 * output columns (rounded up and bounds-checked), 1 over the output rows, 2 over
 * the n*c planes, so no work-item divides to find its pixel (PoCL's CPU driver runs
 * the division-based form some 20 times slower); each work-item sums its window.
 * Max pooling (maxpool2d_rows*) computes a whole output row per work-item.
 *
 * Global average pooling (adaptive pooling to 1x1, ResNet's head) reduces each plane
 * either in one work-item (global_avgpool_f32, small planes) or in one work-group
 * with a tree in local memory (global_avgpool_group_f32, large planes; the group
 * size is a power of two). Inputs and outputs are CLRN_ACT (float, or half with
 * CLRN_HALF_STORAGE: prelude.h); arithmetic is float. */

/* Max over the window, a work-item per output row (dimension 0 the rows, 1 the
 * planes); padding counts as -inf, and NaN wins as in PyTorch. The rows of the window are clipped once per row, the columns split into the edge
 * outputs (clipped windows) and the interior ones, whose windows lie inside the
 * row, so the inner loop has no checks. maxpool2d_rows_k3s2 is the same body with
 * ResNet's 3x3 stride-2 window as constants, so the compiler unrolls it. */
CLRN_INLINE float pool_max(float best, float v) {
  return (v > best || isnan(v)) ? v : best; /* NaN wins, as in PyTorch */
}

CLRN_INLINE float8 pool_max8(float8 best, float8 v) {
  return ((v > best) | isnan(v)) ? v : best;
}

/* Eight interior outputs of a 3-wide stride-2 window from x0 on: the window
 * columns as vectors out of 8-float loads reaching p[16] (every interior window
 * ends by x0 + 16 < in_w). Built from whole 8-float loads: Oclgrind 21.10's
 * uninitialized-value checker crashes on vectors assembled from a scalar. */
CLRN_INLINE float8 pool_max8_k3s2(float8 best, __global const CLRN_ACT *p) {
  const float8 lo = CLRN_VLOAD(8, 0, p), hi = CLRN_VLOAD(8, 1, p);
  const float8 even = (float8)(lo.s0246, hi.s0246), odd = (float8)(lo.s1357, hi.s1357);
  const float8 lo2 = CLRN_VLOAD(8, 0, p + 2), hi2 = CLRN_VLOAD(8, 0, p + 9); /* up to p[16], no further */
  const float8 next = (float8)(lo2.s0246, hi2.s1357);
  return pool_max8(pool_max8(pool_max8(best, even), odd), next);
}

/* vector8: kernel_w 3 and stride_w 2 (constants), the interior eight at a time. */
CLRN_INLINE void maxpool_row(__global const CLRN_ACT *input, __global CLRN_ACT *output,
                             const int in_h, const int in_w, const int out_h, const int out_w,
                             const int kernel_h, const int kernel_w, const int stride_h,
                             const int stride_w,
                             const int pad_h, const int pad_w, const bool vector8) {
  const int oy = get_global_id(0);
  if (oy >= out_h)
    return;
  const uint plane = get_global_id(1);
  const int y0 = oy * stride_h - pad_h;
  const int ya = max(y0, 0), yb = min(y0 + kernel_h, in_h);
  __global const CLRN_ACT *src = input + plane * (uint)(in_h * in_w);
  __global CLRN_ACT *dst = output + (plane * (uint)out_h + (uint)oy) * (uint)out_w;
  /* Interior columns: x0 >= 0 and x0 + kernel_w <= in_w. */
  const int lo = min((pad_w + stride_w - 1) / stride_w, out_w);
  const int span = in_w - kernel_w + pad_w; /* the last interior x0 + pad_w */
  const int hi = span < 0 ? lo : max(min(span / stride_w + 1, out_w), lo);
  for (int ox = 0; ox < out_w; ox++) {
    if (ox == lo && lo < hi) {
      for (; vector8 && ox + 8 <= hi; ox += 8) {
        const int x0 = ox * stride_w - pad_w;
        float8 best = (float8)(-INFINITY);
        for (int y = ya; y < yb; y++)
          best = pool_max8_k3s2(best, src + y * in_w + x0);
        CLRN_VSTORE(8, best, 0, dst + ox);
      }
      for (; ox < hi; ox++) {
        const int x0 = ox * stride_w - pad_w;
        float best = -INFINITY;
        for (int y = ya; y < yb; y++)
          for (int k = 0; k < kernel_w; k++)
            best = pool_max(best, CLRN_LOAD(y * in_w + x0 + k, src));
        CLRN_STORE(best, ox, dst);
      }
      if (ox >= out_w)
        break;
    }
    const int x0 = ox * stride_w - pad_w, xa = max(x0, 0), xb = min(x0 + kernel_w, in_w);
    float best = -INFINITY;
    for (int y = ya; y < yb; y++)
      for (int x = xa; x < xb; x++)
        best = pool_max(best, CLRN_LOAD(y * in_w + x, src));
    CLRN_STORE(best, ox, dst);
  }
}

#define POOL_ROW_ARGS                                                                              \
  __global const CLRN_ACT *input, __global CLRN_ACT *output, const int in_h, const int in_w,     \
      const int out_h, const int out_w, const int kernel_h, const int kernel_w,                    \
      const int stride_h, const int stride_w, const int pad_h, const int pad_w

__kernel void maxpool2d_rows_f32(POOL_ROW_ARGS) {
  maxpool_row(input, output, in_h, in_w, out_h, out_w, kernel_h, kernel_w, stride_h, stride_w,
              pad_h, pad_w, false);
}

__kernel void maxpool2d_rows_k3s2_f32(POOL_ROW_ARGS) {
  maxpool_row(input, output, in_h, in_w, out_h, out_w, 3, 3, 2, 2, pad_h, pad_w, true);
}

/* Average over the window. The divisor is PyTorch's: the window clipped to the
 * padded input when count_include_pad, else the window clipped to the input. */
__kernel void avgpool2d_f32(__global const CLRN_ACT *input, __global CLRN_ACT *output, const int in_h,
                            const int in_w, const int out_h, const int out_w, const int kernel_h,
                            const int kernel_w, const int stride_h, const int stride_w,
                            const int pad_h, const int pad_w, const int count_include_pad) {
  const int ox = get_global_id(0);
  if (ox >= out_w)
    return;
  const int oy = get_global_id(1);
  const uint plane = get_global_id(2);
  int y0 = oy * stride_h - pad_h, x0 = ox * stride_w - pad_w;
  int y1 = min(y0 + kernel_h, in_h + pad_h), x1 = min(x0 + kernel_w, in_w + pad_w);
  const int padded_size = (y1 - y0) * (x1 - x0);
  y0 = max(y0, 0);
  x0 = max(x0, 0);
  y1 = min(y1, in_h);
  x1 = min(x1, in_w);
  __global const CLRN_ACT *src = input + plane * (uint)(in_h * in_w);
  float sum = 0.0f;
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      sum += CLRN_LOAD(y * in_w + x, src);
  const int divisor = count_include_pad ? padded_size : (y1 - y0) * (x1 - x0);
  CLRN_STORE(divisor > 0 ? sum / (float)divisor : 0.0f,
             (plane * (uint)out_h + (uint)oy) * (uint)out_w + (uint)ox, output);
}

/* Adaptive average: output (oy, ox) averages rows floor(oy*in_h/out_h) up to
 * ceil((oy+1)*in_h/out_h) and likewise columns. */
__kernel void adaptive_avgpool2d_f32(__global const CLRN_ACT *input, __global CLRN_ACT *output,
                                     const int in_h, const int in_w, const int out_h,
                                     const int out_w) {
  const int ox = get_global_id(0);
  if (ox >= out_w)
    return;
  const int oy = get_global_id(1);
  const uint plane = get_global_id(2);
  const int y0 = (oy * in_h) / out_h, y1 = ((oy + 1) * in_h + out_h - 1) / out_h;
  const int x0 = (ox * in_w) / out_w, x1 = ((ox + 1) * in_w + out_w - 1) / out_w;
  __global const CLRN_ACT *src = input + plane * (uint)(in_h * in_w);
  float sum = 0.0f;
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      sum += CLRN_LOAD(y * in_w + x, src);
  CLRN_STORE(sum / (float)((y1 - y0) * (x1 - x0)),
             (plane * (uint)out_h + (uint)oy) * (uint)out_w + (uint)ox, output);
}

/* Mean of each of planes planes of hw floats: one work-item per plane. */
__kernel void global_avgpool_f32(__global const CLRN_ACT *input, __global CLRN_ACT *output,
                                 const uint hw, const uint planes) {
  const uint plane = get_global_id(0);
  if (plane >= planes)
    return;
  __global const CLRN_ACT *src = input + plane * hw;
  float sum = 0.0f;
  for (uint i = 0; i < hw; i++)
    sum += CLRN_LOAD(i, src);
  CLRN_STORE(sum / (float)hw, plane, output);
}

/* Mean of each plane: one work-group per plane (dimension 1), its get_local_size(0)
 * work-items (a power of two) summing strided partials, then the prelude's tree in
 * scratch. */
__kernel void global_avgpool_group_f32(__global const CLRN_ACT *input, __global CLRN_ACT *output,
                                       const uint hw, __local float *scratch) {
  const uint lid = get_local_id(0), size = get_local_size(0);
  const uint plane = get_group_id(1);
  __global const CLRN_ACT *src = input + plane * hw;
  float sum = 0.0f;
  for (uint i = lid; i < hw; i += size)
    sum += CLRN_LOAD(i, src);
  sum = clrn_local_sum(scratch, lid, size, sum);
  if (lid == 0)
    CLRN_STORE(sum / (float)hw, plane, output);
}
