/* The bias of a fully connected layer, broadcast into every row of its output
 * before CLBlast's SGEMM adds x W^T to it (beta = 1). Dimension 0 runs over the
 * out_features columns (rounded up, bounds-checked), dimension 1 over the rows. */

__kernel void linear_bias_f32(__global float *output, __global const float *bias,
                              const uint out_features) {
  const uint j = get_global_id(0);
  if (j < out_features)
    output[get_global_id(1) * out_features + j] = bias[j];
}

/* The whole layer, y = x W^T + b, without CLBlast (LINEAR_OWN): a work-item
 * computes output feature j (dimension 0) for LINEAR_ROWS samples (dimension 1
 * runs over groups of them), so each row of W, read in float8 steps, serves
 * LINEAR_ROWS dot products whose inputs stay in the cache. Rows past the batch
 * repeat the last one and are not stored. bias holds zeros for a layer without.
 * The input is CLRN_ACT (float, or half with CLRN_HALF_STORAGE: prelude.h); weight, bias
 * and the output (the logits) are float in every mode. */
#define LINEAR_ROWS 4
__kernel void linear_rows_f32(__global const CLRN_ACT *restrict input,
                              __global const float *restrict weight,
                              __global const float *restrict bias, __global float *restrict output,
                              const int in_features, const int out_features, const int rows) {
  const int j = get_global_id(0), r0 = get_global_id(1) * LINEAR_ROWS;
  if (j >= out_features || r0 >= rows)
    return;
  __global const float *w = weight + (size_t)j * (size_t)in_features;
  size_t x[LINEAR_ROWS]; /* where each row starts in input */
  float8 acc[LINEAR_ROWS];
#pragma unroll
  for (int r = 0; r < LINEAR_ROWS; r++) {
    x[r] = (size_t)min(r0 + r, rows - 1) * (size_t)in_features;
    acc[r] = (float8)(0.0f);
  }
  const int vectors = in_features / 8;
  for (int k = 0; k < vectors; k++) {
    const float8 wv = vload8(k, w);
#pragma unroll
    for (int r = 0; r < LINEAR_ROWS; r++)
      acc[r] = fma(wv, CLRN_VLOAD(8, k, input + x[r]), acc[r]);
  }
#pragma unroll
  for (int r = 0; r < LINEAR_ROWS; r++) {
    /* Through memory, not swizzles: Oclgrind 21.10's uninitialized-value checker
     * crashes on these shuffles. */
    float lane[8];
    vstore8(acc[r], 0, lane);
    float sum = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
    for (int k = vectors * 8; k < in_features; k++)
      sum = fma(w[k], CLRN_LOAD(x[r] + k, input), sum);
    if (r0 + r < rows)
      output[(size_t)(r0 + r) * (size_t)out_features + j] = sum + bias[j];
  }
}
