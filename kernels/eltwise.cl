/* Elementwise kernels: ReLU and the residual add (with optional ReLU), over flat
 * float arrays of n elements. Any n; the host rounds the global size up to the
 * work-group size, so every kernel checks its index against n.
 *
 * ReLU follows PyTorch bit for bit: negative values become +0, while NaN and -0
 * pass through unchanged (x < 0 ? 0 : x; fmax would turn NaN into 0). Outputs may
 * alias inputs (in-place ops), so no pointer is restrict: each work-item reads its
 * element before writing it and touches no other. Elements are CLRN_ACT (float, or
 * half with CLRN_HALF_STORAGE: prelude.h); arithmetic is float. */

__kernel void relu_f32(__global const CLRN_ACT *input, __global CLRN_ACT *output, const uint n) {
  const uint i = get_global_id(0);
  if (i < n) {
    const float x = CLRN_LOAD(i, input);
    CLRN_STORE(x < 0.0f ? 0.0f : x, i, output);
  }
}

/* output = a + b, then ReLU when apply_relu is non-zero. output may alias a or b. */
__kernel void add_f32(__global const CLRN_ACT *a, __global const CLRN_ACT *b,
                      __global CLRN_ACT *output, const uint n, const int apply_relu) {
  const uint i = get_global_id(0);
  if (i < n) {
    const float sum = CLRN_LOAD(i, a) + CLRN_LOAD(i, b);
    CLRN_STORE((apply_relu && sum < 0.0f) ? 0.0f : sum, i, output);
  }
}
