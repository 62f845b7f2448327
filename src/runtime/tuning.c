/* The table of tuning parameters (see tuning.h) and the checks of values against it.
 * Adding a parameter: a row here, an id in tuning.h, and a read in the op that uses
 * it; profiles may then set it. Defaults are the root profile's values. */
#include "runtime/tuning.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

#define WG_MAX 8192L /* work-group sizes: clamped to the device's limits at launch */
#define NEVER 2147483647L

static const long vector_widths[] = {1, 2, 4, 8, 16};
static const long gemm_widths[] = {4, 8, 16};
static const long igemm_tiles[] = {16, 32, 64, 128};
static const long igemm_depths[] = {4, 8, 16, 32};
static const long igemm_micro[] = {2, 4, 8};
static const long wino_tiles[] = {0, 4, 6};

#define DEFINE CLRN_TUNING_KIND_DEFINE
#define HOST CLRN_TUNING_KIND_HOST
static const clrn_tuning_param table[CLRN_TUNING_COUNT] = {
    [CLRN_TUNING_CONV_WG] = {"CONV_WG", "conv2d", HOST, 64, 1, WG_MAX, NULL, 0,
                             "work-group size of the direct convolution kernel"},
    [CLRN_TUNING_CONV_VEC] = {"CONV_VEC", "conv2d", DEFINE, 4, 1, 16, vector_widths, 5,
                              "vector width of the blocked kernel's output channels"},
    [CLRN_TUNING_CONV_COUT_BLOCK] = {"CONV_COUT_BLOCK", "conv2d", DEFINE, 8, 1, 64, NULL, 0,
                                     "output channels per work-item of the blocked kernel, a "
                                     "multiple of CONV_VEC"},
    [CLRN_TUNING_CONV_PIX_BLOCK] = {"CONV_PIX_BLOCK", "conv2d", DEFINE, 4, 1, 16, NULL, 0,
                                    "output pixels per work-item of the blocked kernel"},
    [CLRN_TUNING_CONV_BLOCK_WG] = {"CONV_BLOCK_WG", "conv2d", HOST, 64, 1, WG_MAX, NULL, 0,
                                   "work-group size of the blocked kernel along dimension 0"},
    [CLRN_TUNING_CONV_PIXELS_FIRST] = {"CONV_PIXELS_FIRST", "conv2d", HOST, 1, 0, 2, NULL, 0,
                                       "blocked kernel's dimension 0: 1 pixel blocks (GPU "
                                       "style), 0 channel blocks, 2 the smaller operand"},
    [CLRN_TUNING_CONV_AUTO_BLOCKED] = {"CONV_AUTO_BLOCKED", "conv2d", HOST, 1, 0, 1, NULL, 0,
                                       "1: AUTO picks the blocked kernel where the shape suits "
                                       "it"},
    [CLRN_TUNING_GEMM_MR] = {"GEMM_MR", "conv2d_gemm", DEFINE, 8, 1, 16, NULL, 0,
                             "output channels per work-item of the 1x1 GEMM convolution"},
    [CLRN_TUNING_GEMM_NR] = {"GEMM_NR", "conv2d_gemm", DEFINE, 16, 4, 16, gemm_widths, 3,
                             "pixels per work-item (one vector) of the 1x1 GEMM convolution"},
    [CLRN_TUNING_GEMM_NV] = {"GEMM_NV", "conv2d_gemm", DEFINE, 1, 1, 4, NULL, 0,
                             "pixel vectors per work-item of the 1x1 GEMM convolution (its "
                             "tile is GEMM_NV x GEMM_NR pixels of a row)"},
    [CLRN_TUNING_GEMM_WG] = {"GEMM_WG", "conv2d_gemm", HOST, 4, 1, WG_MAX, NULL, 0,
                             "work-group size of the 1x1 GEMM convolution along dimension 0"},
    [CLRN_TUNING_CONV_AUTO_GEMM] = {"CONV_AUTO_GEMM", "conv2d_gemm", HOST, 0, 0, 1, NULL, 0,
                                    "1: AUTO runs 1x1 stride-1 unpadded ungrouped convolutions "
                                    "on the GEMM kernel"},
    [CLRN_TUNING_GEMM_MIN_PLANE] = {"GEMM_MIN_PLANE", "conv2d_gemm", HOST, 0, 0, NEVER, NULL, 0,
                                    "smallest output plane (height x width) a plan runs on the "
                                    "GEMM kernel under CONV_AUTO_GEMM"},
    [CLRN_TUNING_CONV_SUBSAMPLE] = {"CONV_SUBSAMPLE", "conv2d", HOST, 0, 0, 1, NULL, 0,
                                    "1: unpadded strided 1x1 convolutions (ResNet's "
                                    "downsampling shortcuts) copy every stride-th input pixel "
                                    "first and run as stride-1 ones, on the GEMM kernel where "
                                    "it applies"},
    [CLRN_TUNING_IGEMM_BM] = {"IGEMM_BM", "conv2d_igemm", DEFINE, 64, 16, 128, igemm_tiles, 4,
                              "output channels per work-group tile of the implicit-GEMM "
                              "convolution"},
    [CLRN_TUNING_IGEMM_BN] = {"IGEMM_BN", "conv2d_igemm", DEFINE, 32, 16, 128, igemm_tiles, 4,
                              "pixels per work-group tile of the implicit-GEMM convolution"},
    [CLRN_TUNING_IGEMM_BK] = {"IGEMM_BK", "conv2d_igemm", DEFINE, 16, 4, 32, igemm_depths, 4,
                              "depth (input channels x taps) of each local-memory step of the "
                              "implicit-GEMM convolution"},
    [CLRN_TUNING_IGEMM_TM] = {"IGEMM_TM", "conv2d_igemm", DEFINE, 4, 2, 8, igemm_micro, 3,
                              "output channels of a work-item's register tile (implicit GEMM)"},
    [CLRN_TUNING_IGEMM_TN] = {"IGEMM_TN", "conv2d_igemm", DEFINE, 4, 2, 8, igemm_micro, 3,
                              "pixels of a work-item's register tile (implicit GEMM)"},
    [CLRN_TUNING_CONV_AUTO_IGEMM] = {"CONV_AUTO_IGEMM", "conv2d_igemm", HOST, 0, 0, 1, NULL, 0,
                                     "1: AUTO runs convolutions with at least IGEMM_BM/2 output "
                                     "channels per group on the implicit-GEMM kernel"},
    [CLRN_TUNING_WINO_TILE] = {"WINO_TILE", "conv2d_winograd", HOST, 0, 0, 6, wino_tiles, 3,
                               "output tile of AUTO's Winograd for 3x3 stride-1 ungrouped "
                               "convolutions: 0 off, 4 F(4x4,3x3), 6 F(6x6,3x3)"},
    [CLRN_TUNING_WINO_MIN_PLANE] = {"WINO_MIN_PLANE", "conv2d_winograd", HOST, 0, 0, NEVER, NULL, 0,
                                    "smallest output plane (height x width) a plan runs on "
                                    "Winograd when WINO_TILE is set"},
    [CLRN_TUNING_WINO_MR] = {"WINO_MR", "conv2d_winograd", DEFINE, 8, 1, 16, NULL, 0,
                             "output channels per work-item of Winograd's batched GEMM"},
    [CLRN_TUNING_WINO_NR] = {"WINO_NR", "conv2d_winograd", DEFINE, 16, 4, 16, gemm_widths, 3,
                             "tiles per work-item (one vector) of Winograd's batched GEMM"},
    [CLRN_TUNING_WINO_WG] = {"WINO_WG", "conv2d_winograd", HOST, 4, 1, WG_MAX, NULL, 0,
                             "work-group size of Winograd's batched GEMM along dimension 0"},
    [CLRN_TUNING_WINO_XFORM_WG] = {"WINO_XFORM_WG", "conv2d_winograd", HOST, 16, 1, WG_MAX, NULL, 0,
                                   "work-group size of Winograd's input and output transforms "
                                   "along dimension 0 (tiles)"},
    [CLRN_TUNING_GROUPED_MAX_COUT] = {"GROUPED_MAX_COUT", "conv2d_grouped", HOST, 0, 0, NEVER, NULL,
                                      0,
                                      "AUTO runs grouped convolutions with at most this many "
                                      "(and at least 2) output channels per group on the "
                                      "pixel-vector grouped "
                                      "kernel (0: never)"},
    [CLRN_TUNING_ELTWISE_WG] = {"ELTWISE_WG", "eltwise", HOST, 256, 1, WG_MAX, NULL, 0,
                                "work-group size of element-wise kernels and the linear "
                                "layer's kernels"},
    [CLRN_TUNING_BN_WG] = {"BN_WG", "batchnorm", HOST, 256, 1, WG_MAX, NULL, 0,
                           "work-group size of batch normalisation"},
    [CLRN_TUNING_POOL_WG] = {"POOL_WG", "pooling", HOST, 64, 1, WG_MAX, NULL, 0,
                             "work-group size of max and average pooling"},
    [CLRN_TUNING_GAP_WG] = {"GAP_WG", "pooling", HOST, 256, 1, WG_MAX, NULL, 0,
                            "work-group size of global average pooling per work-group"},
    [CLRN_TUNING_GAP_GROUP_MIN_HW] = {"GAP_GROUP_MIN_HW", "pooling", HOST, 256, 1, NEVER, NULL, 0,
                                      "plane size from which global average pooling reduces "
                                      "a plane per work-group rather than per work-item"},
    [CLRN_TUNING_SOFTMAX_WG] = {"SOFTMAX_WG", "softmax", HOST, 256, 1, WG_MAX, NULL, 0,
                                "work-group size of softmax"},
    [CLRN_TUNING_SOFTMAX_GROUP_MIN_C] = {"SOFTMAX_GROUP_MIN_C", "softmax", HOST, 64, 1, NEVER, NULL,
                                         0,
                                         "class count from which a classifier row gets a "
                                         "work-group"},
    [CLRN_TUNING_LINEAR_GEMV_MAX_BATCH] = {"LINEAR_GEMV_MAX_BATCH", "linear", HOST, 1, 0, NEVER,
                                           NULL, 0,
                                           "largest batch a linear layer runs as CLBlast SGEMV "
                                           "per sample rather than one SGEMM"},
    [CLRN_TUNING_LINEAR_OWN] = {"LINEAR_OWN", "linear", HOST, 0, 0, 1, NULL, 0,
                                "1: linear layers run clresnet's own kernel rather than "
                                "CLBlast (faster on PoCL)"},
    [CLRN_TUNING_PEAK_FLOP_PER_CYCLE_PER_CU] = {"PEAK_FLOP_PER_CYCLE_PER_CU", NULL, HOST, 0, 0,
                                                1L << 20, NULL, 0,
                                                "FLOP per cycle per compute unit, for bench's "
                                                "fraction of peak (0: unknown)"},
};
#undef DEFINE
#undef HOST

const clrn_tuning_param *clrn_tuning_param_of(clrn_tuning_id id) { return &table[id]; }

bool clrn_tuning_find(const char *name, clrn_tuning_id *id) {
  for (int i = 0; i < CLRN_TUNING_COUNT; i++)
    if (strcmp(table[i].name, name) == 0) {
      *id = (clrn_tuning_id)i;
      return true;
    }
  return false;
}

/* "CONV_WG, CONV_VEC, ..." into out. */
static void known_keys(char *out, size_t size) {
  size_t used = 0;
  out[0] = '\0';
  for (int i = 0; i < CLRN_TUNING_COUNT && used < size; i++) {
    int n = snprintf(out + used, size - used, "%s%s", i ? ", " : "", table[i].name);
    if (n < 0)
      return;
    used += (size_t)n;
  }
}

/* "1, 2, 4, 8 or 16" or "1..64" into out. */
static void allowed_text(const clrn_tuning_param *p, char *out, size_t size) {
  if (!p->allowed) {
    snprintf(out, size, "%ld..%ld", p->min, p->max);
    return;
  }
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < p->allowed_count && used < size; i++) {
    const char *sep = i == 0 ? "" : i + 1 == p->allowed_count ? " or " : ", ";
    int n = snprintf(out + used, size - used, "%s%ld", sep, p->allowed[i]);
    if (n < 0)
      return;
    used += (size_t)n;
  }
}

static bool allowed(const clrn_tuning_param *p, long value) {
  if (value < p->min || value > p->max)
    return false;
  for (size_t i = 0; p->allowed && i < p->allowed_count; i++)
    if (p->allowed[i] == value)
      return true;
  return !p->allowed;
}

clrn_status clrn_tuning_parse(const char *source, const char *key, const char *text,
                              clrn_tuning_id *id, long *value) {
  clrn_tuning_id found;
  if (!clrn_tuning_find(key, &found)) {
    char known[1024];
    known_keys(known, sizeof known);
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: unknown tuning key \"%s\" (known: %s)",
                     source, key, known);
  }
  const clrn_tuning_param *p = &table[found];
  char *end = NULL;
  errno = 0;
  long v = strtol(text, &end, 10);
  char range[128];
  allowed_text(p, range, sizeof range);
  if (!*text || *end || errno == ERANGE)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: %s=%s is not an integer (allowed: %s)",
                     source, key, text, range);
  if (!allowed(p, v))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: %s=%ld is out of range (allowed: %s)",
                     source, key, v, range);
  *id = found;
  *value = v;
  return CLRN_STATUS_SUCCESS;
}

/* The rules kernels/conv2d_igemm.cl checks with #error (all values are powers of
 * two): a work-group of (BM/TM)*(BN/TN) work-items, at most 1024, loads whole rows
 * of the B tile, so it must span BN pixels and BK must be a multiple of the rows it
 * stores per pass, (BM/TM)/TN; the register tile must fit the work-group tile. */
static clrn_status check_igemm(const long v[CLRN_TUNING_COUNT],
                               const char *const src[CLRN_TUNING_COUNT]) {
  long bm = v[CLRN_TUNING_IGEMM_BM], bn = v[CLRN_TUNING_IGEMM_BN], bk = v[CLRN_TUNING_IGEMM_BK];
  long tm = v[CLRN_TUNING_IGEMM_TM], tn = v[CLRN_TUNING_IGEMM_TN];
  long wg = (bm / tm) * (bn / tn);
  if (bm < tm || bn < tn || bm / tm < tn || bk % ((bm / tm) / tn) != 0 || wg > 1024)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "IGEMM_BM=%ld (from %s), IGEMM_BN=%ld (from %s), IGEMM_BK=%ld (from %s), "
                     "IGEMM_TM=%ld (from %s), IGEMM_TN=%ld (from %s) do not fit together: "
                     "BM/TM must be at least TN, BK a multiple of BM/(TM*TN), and "
                     "(BM/TM)*(BN/TN) work-items at most 1024",
                     bm, src[CLRN_TUNING_IGEMM_BM], bn, src[CLRN_TUNING_IGEMM_BN], bk,
                     src[CLRN_TUNING_IGEMM_BK], tm, src[CLRN_TUNING_IGEMM_TM], tn,
                     src[CLRN_TUNING_IGEMM_TN]);
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_tuning_check_set(const long values[CLRN_TUNING_COUNT],
                                  const char *const sources[CLRN_TUNING_COUNT]) {
  long vec = values[CLRN_TUNING_CONV_VEC], block = values[CLRN_TUNING_CONV_COUT_BLOCK];
  if (block % vec != 0)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "CONV_COUT_BLOCK=%ld (from %s) is not a multiple of CONV_VEC=%ld (from %s)",
                     block, sources[CLRN_TUNING_CONV_COUT_BLOCK], vec,
                     sources[CLRN_TUNING_CONV_VEC]);
  return check_igemm(values, sources);
}
