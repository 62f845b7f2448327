/* Softmax over the channels of an NCHW tensor, for every (n, h, w) position:
 *     y[c] = exp(x[c] - m) / sum_j exp(x[j] - m),   m = max_j x[j]
 * Subtracting the maximum keeps every exp() at most 1, so large logits neither
 * overflow nor lose the sum. Channel c of a position sits hw floats after channel
 * c-1. output may alias input: a position's values are read before they are
 * overwritten, and only by the work-items of that position.
 *
 * softmax_f32: one work-item per position (dimension 0 over hw, 1 over n), for
 * spatial outputs where neighbouring work-items read neighbouring floats.
 * softmax_group_f32: one work-group per position (dimension 1 over hw, 2 over n,
 * so no work-item divides), its get_local_size(0) work-items (a power of two)
 * reducing in local memory with the prelude's tree, for the classifier's few long
 * rows (hw == 1, 1000 classes). */

__kernel void softmax_f32(__global const float *input, __global float *output,
                          const uint channels, const uint hw) {
  const uint p = get_global_id(0);
  if (p >= hw)
    return;
  const uint base = get_global_id(1) * channels * hw + p;
  float m = -INFINITY;
  for (uint c = 0; c < channels; c++)
    m = fmax(m, input[base + c * hw]);
  float sum = 0.0f;
  for (uint c = 0; c < channels; c++) {
    const float e = exp(input[base + c * hw] - m);
    output[base + c * hw] = e;
    sum += e;
  }
  const float inverse = 1.0f / sum;
  for (uint c = 0; c < channels; c++)
    output[base + c * hw] *= inverse;
}

__kernel void softmax_group_f32(__global const float *input, __global float *output,
                                const uint channels, const uint hw, __local float *scratch) {
  const uint lid = get_local_id(0), size = get_local_size(0);
  const uint base = get_group_id(2) * channels * hw + get_group_id(1);
  float m = -INFINITY;
  for (uint c = lid; c < channels; c += size)
    m = fmax(m, input[base + c * hw]);
  m = clrn_local_max(scratch, lid, size, m);
  barrier(CLK_LOCAL_MEM_FENCE); /* everyone has read m before scratch is reused */
  float sum = 0.0f;
  for (uint c = lid; c < channels; c += size) {
    const float e = exp(input[base + c * hw] - m);
    output[base + c * hw] = e;
    sum += e;
  }
  const float inverse = 1.0f / clrn_local_sum(scratch, lid, size, sum);
  for (uint c = lid; c < channels; c += size) /* the elements this work-item wrote */
    output[base + c * hw] *= inverse;
}
