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
