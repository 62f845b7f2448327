/* Elementwise kernels: ReLU and the residual add (with optional ReLU), over flat
 * float arrays of n elements. Any n; the host rounds the global size up to the
 * work-group size, so every kernel checks its index against n. */

__kernel void relu_f32(__global const float *restrict input, __global float *restrict output,
                       const uint n) {
  const uint i = get_global_id(0);
  if (i < n)
    output[i] = fmax(input[i], 0.0f);
}

/* output = a + b, then ReLU when apply_relu is non-zero. output may alias a or b. */
__kernel void add_f32(__global const float *a, __global const float *b, __global float *output,
                      const uint n, const int apply_relu) {
  const uint i = get_global_id(0);
  if (i < n) {
    const float sum = a[i] + b[i];
    output[i] = apply_relu ? fmax(sum, 0.0f) : sum;
  }
}
