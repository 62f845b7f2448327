/* Pooling over NCHW tensors, with PyTorch's semantics (MaxPool2d, AvgPool2d,
 * AdaptiveAvgPool2d) in float arithmetic as PyTorch's CPU kernels do it.
 *
 * Window kernels (maxpool2d_f32, avgpool2d_f32, adaptive_avgpool2d_f32): dimension 0
 * runs over the output columns (rounded up and bounds-checked), 1 over the output
 * rows, 2 over the n*c planes, so no work-item divides to find its pixel (PoCL's
 * CPU driver runs the division-based form some 20 times slower); each work-item
 * sums or maximises its window.
 *
 * Global average pooling (adaptive pooling to 1x1, ResNet's head) reduces each plane
 * either in one work-item (global_avgpool_f32, small planes) or in one work-group
 * with a tree in local memory (global_avgpool_group_f32, large planes; the group
 * size is a power of two). */

/* Max over the window; padding counts as -inf, and NaN wins as in PyTorch. */
__kernel void maxpool2d_f32(__global const float *input, __global float *output, const int in_h,
                            const int in_w, const int out_h, const int out_w, const int kernel_h,
                            const int kernel_w, const int stride_h, const int stride_w,
                            const int pad_h, const int pad_w) {
  const int ox = get_global_id(0);
  if (ox >= out_w)
    return;
  const int oy = get_global_id(1);
  const uint plane = get_global_id(2);
  const int y0 = oy * stride_h - pad_h, x0 = ox * stride_w - pad_w;
  const int y1 = min(y0 + kernel_h, in_h), x1 = min(x0 + kernel_w, in_w);
  __global const float *src = input + plane * (uint)(in_h * in_w);
  float best = -INFINITY;
  for (int y = max(y0, 0); y < y1; y++)
    for (int x = max(x0, 0); x < x1; x++) {
      const float v = src[y * in_w + x];
      best = (v > best || isnan(v)) ? v : best; /* a select: 3x faster than a branch on PoCL */
    }
  output[(plane * (uint)out_h + (uint)oy) * (uint)out_w + (uint)ox] = best;
}

/* Average over the window. The divisor is PyTorch's: the window clipped to the
 * padded input when count_include_pad, else the window clipped to the input. */
__kernel void avgpool2d_f32(__global const float *input, __global float *output, const int in_h,
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
  __global const float *src = input + plane * (uint)(in_h * in_w);
  float sum = 0.0f;
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      sum += src[y * in_w + x];
  const int divisor = count_include_pad ? padded_size : (y1 - y0) * (x1 - x0);
  output[(plane * (uint)out_h + (uint)oy) * (uint)out_w + (uint)ox] = divisor > 0 ? sum / (float)divisor : 0.0f;
}

/* Adaptive average: output (oy, ox) averages rows floor(oy*in_h/out_h) up to
 * ceil((oy+1)*in_h/out_h) and likewise columns. */
__kernel void adaptive_avgpool2d_f32(__global const float *input, __global float *output,
                                     const int in_h, const int in_w, const int out_h,
                                     const int out_w) {
  const int ox = get_global_id(0);
  if (ox >= out_w)
    return;
  const int oy = get_global_id(1);
  const uint plane = get_global_id(2);
  const int y0 = (oy * in_h) / out_h, y1 = ((oy + 1) * in_h + out_h - 1) / out_h;
  const int x0 = (ox * in_w) / out_w, x1 = ((ox + 1) * in_w + out_w - 1) / out_w;
  __global const float *src = input + plane * (uint)(in_h * in_w);
  float sum = 0.0f;
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      sum += src[y * in_w + x];
  output[(plane * (uint)out_h + (uint)oy) * (uint)out_w + (uint)ox] = sum / (float)((y1 - y0) * (x1 - x0));
}

/* Mean of each of planes planes of hw floats: one work-item per plane. */
__kernel void global_avgpool_f32(__global const float *input, __global float *output,
                                 const uint hw, const uint planes) {
  const uint plane = get_global_id(0);
  if (plane >= planes)
    return;
  __global const float *src = input + plane * hw;
  float sum = 0.0f;
  for (uint i = 0; i < hw; i++)
    sum += src[i];
  output[plane] = sum / (float)hw;
}

/* Mean of each plane: one work-group per plane (dimension 1), its get_local_size(0)
 * work-items (a power of two) summing strided partials, then the prelude's tree in
 * scratch. */
__kernel void global_avgpool_group_f32(__global const float *input, __global float *output,
                                       const uint hw, __local float *scratch) {
  const uint lid = get_local_id(0), size = get_local_size(0);
  const uint plane = get_group_id(1);
  __global const float *src = input + plane * hw;
  float sum = 0.0f;
  for (uint i = lid; i < hw; i += size)
    sum += src[i];
  sum = clrn_local_sum(scratch, lid, size, sum);
  if (lid == 0)
    output[plane] = sum / (float)hw;
}
