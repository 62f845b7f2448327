/* Inference BatchNorm over NCHW tensors, as the per-channel affine map
 *     y = x * scale[c] + shift[c]
 * with scale = weight / sqrt(var + eps) and shift = bias - mean * scale computed by
 * the host in double precision (PyTorch's CPU kernel folds the same way).
 *
 * Dimension 0 runs over the hw pixels of one plane (rounded up, so it is
 * bounds-checked), dimension 1 over the n*c planes, so no work-item divides to find
 * its channel. output may alias input: each work-item reads its element before
 * writing it. fma() is used only where the device says it is fast (FP_FAST_FMAF);
 * either way the result is within a few ulp of the terms' magnitudes. input and
 * output are CLRN_ACT (float, or half with CLRN_HALF_STORAGE: prelude.h). */

__kernel void batchnorm_f32(__global const CLRN_ACT *input, __global CLRN_ACT *output,
                            __global const float *scale, __global const float *shift,
                            const uint hw, const uint channels) {
  const uint p = get_global_id(0);
  if (p >= hw)
    return;
  const uint plane = get_global_id(1);
  const uint c = plane % channels;
  const uint i = plane * hw + p;
#ifdef FP_FAST_FMAF
  CLRN_STORE(fma(CLRN_LOAD(i, input), scale[c], shift[c]), i, output);
#else
  CLRN_STORE(CLRN_LOAD(i, input) * scale[c] + shift[c], i, output);
#endif
}
