/* The bias of a fully connected layer, broadcast into every row of its output
 * before CLBlast's SGEMM adds x W^T to it (beta = 1). Dimension 0 runs over the
 * out_features columns (rounded up, bounds-checked), dimension 1 over the rows. */

__kernel void linear_bias_f32(__global float *output, __global const float *bias,
                              const uint out_features) {
  const uint j = get_global_id(0);
  if (j < out_features)
    output[get_global_id(1) * out_features + j] = bias[j];
}
