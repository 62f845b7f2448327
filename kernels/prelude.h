/* Helpers shared by the kernels of kernels/: every kernel program starts with
 * this file (after clrn_abi.h), so it is part of every program's source and
 * cache key. OpenCL C only; the host never includes it. */
#ifndef CLRN_PRELUDE_H
#define CLRN_PRELUDE_H

/* Helpers are forced inline, so kernels that call them with constants see the
 * constants (and Oclgrind sees no calls). */
#if defined(__clang__) || defined(__GNUC__)
#define CLRN_INLINE static inline __attribute__((always_inline))
#else
#define CLRN_INLINE static inline
#endif

#define CLRN_ADD(a, b) ((a) + (b))
#define CLRN_CAT_(a, b) a##b
#define CLRN_CAT(a, b) CLRN_CAT_(a, b)

/* Storage of activations and convolution weights. The host builds a program with
 * -DCLRN_HALF_STORAGE for --precision fp16: CLRN_ACT is then half, read and written only
 * through vload_half/vstore_half (core OpenCL, no cl_khr_fp16 needed; rounding to
 * nearest even), and all arithmetic stays float. Without it CLRN_ACT is float and
 * the macros are plain loads and stores, so each kernel is written once:
 *   CLRN_LOAD(i, p)            float from p[i]
 *   CLRN_STORE(v, i, p)        p[i] = float v
 *   CLRN_VLOAD(N, i, p)        floatN from p[i*N] (N = 2, 4, 8, 16)
 *   CLRN_VSTORE(N, v, i, p)    floatN v to p[i*N]
 * Epilogue vectors, BatchNorm scale/shift, the linear layer's weight, the logits
 * and the probabilities stay float in every mode. */
#ifdef CLRN_HALF_STORAGE
#define CLRN_ACT half
#define CLRN_LOAD(i, p) vload_half((i), (p))
#define CLRN_STORE(v, i, p) vstore_half((v), (i), (p))
#define CLRN_VLOAD(N, i, p) CLRN_CAT(vload_half, N)((i), (p))
#define CLRN_VSTORE(N, v, i, p) CLRN_CAT(vstore_half, N)((v), (i), (p))
#else
#define CLRN_ACT float
#define CLRN_LOAD(i, p) ((p)[i])
#define CLRN_STORE(v, i, p) ((p)[i] = (v))
#define CLRN_VLOAD(N, i, p) CLRN_CAT(vload, N)((i), (p))
#define CLRN_VSTORE(N, v, i, p) CLRN_CAT(vstore, N)((v), (i), (p))
#endif

/* The element type of each pointer argument of the conv2d kernels
 * (CLRN_CONV2D_ARGS in clrn_abi.h), by name: CLRN_CONV2D_TYPE(input) is
 * CLRN_ACT, CLRN_CONV2D_TYPE(epilogue) float. */
#define CLRN_CONV2D_TYPE(name) CLRN_CAT(CLRN_CONV2D_TYPE_, name)
#define CLRN_CONV2D_TYPE_input CLRN_ACT
#define CLRN_CONV2D_TYPE_weight CLRN_ACT
#define CLRN_CONV2D_TYPE_epilogue float
#define CLRN_CONV2D_TYPE_residual CLRN_ACT
#define CLRN_CONV2D_TYPE_output CLRN_ACT

/* CLRN_LOCAL_REDUCE(NAME, OP) defines
 *     float NAME(__local float *scratch, uint lid, uint size, float value)
 * a tree reduction with OP over a work-group of size work-items (a power of two;
 * lid is get_local_id(0)): each passes its value, all get the result. scratch
 * holds size floats; every work-item of the group must call it, and may reuse
 * scratch only after a barrier that follows its read of the result. */
#define CLRN_LOCAL_REDUCE(NAME, OP)                                                                \
  CLRN_INLINE float NAME(__local float *scratch, uint lid, uint size, float value) {               \
    scratch[lid] = value;                                                                          \
    barrier(CLK_LOCAL_MEM_FENCE);                                                                  \
    for (uint step = size / 2; step > 0; step /= 2) {                                              \
      if (lid < step)                                                                              \
        scratch[lid] = OP(scratch[lid], scratch[lid + step]);                                      \
      barrier(CLK_LOCAL_MEM_FENCE);                                                                \
    }                                                                                              \
    return scratch[0];                                                                             \
  }

CLRN_LOCAL_REDUCE(clrn_local_sum, CLRN_ADD)
CLRN_LOCAL_REDUCE(clrn_local_max, fmax)

#endif
