/* The one table of tuning parameters (tuning.c): every value a device profile
 * (the JSON files of devices/) or CLRN_TUNE may set, with its kernel family, its default, the
 * values it may take and its kind. A kernel define becomes -DKEY=VALUE in the
 * build options (and so in the cache key) of its family's program only; a host
 * value is read by host code only (work-group sizes, thresholds, bench's peak).
 * The table's defaults are the values of the root profile: devices/default.json
 * sets none of its own.
 */
#ifndef CLRN_RUNTIME_TUNING_H
#define CLRN_RUNTIME_TUNING_H

#include <stdbool.h>
#include <stddef.h>

#include "clresnet/context.h"

/** Whether a parameter reaches kernels as a -D define or stays on the host. */
typedef enum clrn_tuning_kind {
  CLRN_TUNING_KIND_DEFINE, /**< -DKEY=VALUE for the family's program */
  CLRN_TUNING_KIND_HOST    /**< read by host code only; never in build options */
} clrn_tuning_kind;

/** Index of each parameter in the table. */
typedef enum clrn_tuning_id {
  CLRN_TUNING_CONV_WG,
  CLRN_TUNING_CONV_VEC,
  CLRN_TUNING_CONV_COUT_BLOCK,
  CLRN_TUNING_CONV_PIX_BLOCK,
  CLRN_TUNING_CONV_BLOCK_WG,
  CLRN_TUNING_CONV_PIXELS_FIRST,
  CLRN_TUNING_CONV_AUTO_BLOCKED,
  CLRN_TUNING_GEMM_MR,
  CLRN_TUNING_GEMM_NR,
  CLRN_TUNING_GEMM_NV,
  CLRN_TUNING_GEMM_WG,
  CLRN_TUNING_CONV_AUTO_GEMM,
  CLRN_TUNING_GEMM_MIN_PLANE,
  CLRN_TUNING_CONV_SUBSAMPLE,
  CLRN_TUNING_IGEMM_BM,
  CLRN_TUNING_IGEMM_BN,
  CLRN_TUNING_IGEMM_BK,
  CLRN_TUNING_IGEMM_TM,
  CLRN_TUNING_IGEMM_TN,
  CLRN_TUNING_CONV_AUTO_IGEMM,
  CLRN_TUNING_WINO_TILE,
  CLRN_TUNING_WINO_MIN_PLANE,
  CLRN_TUNING_WINO_MR,
  CLRN_TUNING_WINO_NR,
  CLRN_TUNING_WINO_WG,
  CLRN_TUNING_WINO_XFORM_WG,
  CLRN_TUNING_GROUPED_MAX_COUT,
  CLRN_TUNING_ELTWISE_WG,
  CLRN_TUNING_BN_WG,
  CLRN_TUNING_POOL_WG,
  CLRN_TUNING_GAP_WG,
  CLRN_TUNING_GAP_GROUP_MIN_HW,
  CLRN_TUNING_SOFTMAX_WG,
  CLRN_TUNING_SOFTMAX_GROUP_MIN_C,
  CLRN_TUNING_LINEAR_GEMV_MAX_BATCH,
  CLRN_TUNING_LINEAR_OWN,
  CLRN_TUNING_PEAK_FLOP_PER_CYCLE_PER_CU,
  CLRN_TUNING_COUNT
} clrn_tuning_id;

/** One row of the table. */
typedef struct clrn_tuning_param {
  const char *name;      /**< "CONV_VEC": the key in profiles, CLRN_TUNE and -D */
  const char *family;    /**< kernel program it tunes ("conv2d"), or NULL for none */
  clrn_tuning_kind kind; /**< define or host value */
  long default_value;    /**< the value when no profile or CLRN_TUNE sets it */
  long min, max;         /**< allowed range, inclusive */
  const long *allowed;   /**< when not NULL: the only values allowed (within min..max) */
  size_t allowed_count;  /**< entries of allowed */
  const char *doc;       /**< one sentence for people */
} clrn_tuning_param;

/** Row id of the table (id < CLRN_TUNING_COUNT). */
const clrn_tuning_param *clrn_tuning_param_of(clrn_tuning_id id);

/** Finds a parameter by name; false (and *id untouched) when the name is unknown. */
bool clrn_tuning_find(const char *name, clrn_tuning_id *id);

/** Checks one setting from source ("devices/pocl-cpu.json", "CLRN_TUNE"): a known
 * key, an integer value (text) inside the allowed values. On success stores the id
 * and value; otherwise fails with CLRN_STATUS_INVALID_ARGUMENT and a message that
 * names the source, the key and the value. */
clrn_status clrn_tuning_parse(const char *source, const char *key, const char *text,
                              clrn_tuning_id *id, long *value);

/** Checks the rules that tie parameters together (CONV_COUT_BLOCK a multiple of
 * CONV_VEC, the implicit-GEMM tile sizes that fit together) over a full set of values; sources[i]
 * names where values[i] came from. */
clrn_status clrn_tuning_check_set(const long values[CLRN_TUNING_COUNT],
                                  const char *const sources[CLRN_TUNING_COUNT]);

/** The value of a parameter for a context's device (its resolved profile). */
long clrn_context_tuning_value(const clrn_context *context, clrn_tuning_id id);

#endif
