/* The tuner's candidates (see conv_candidates.h): one table of variants with the
 * tuning parameters each is tried over, and the way a measured choice becomes a
 * config again. */
#include "plan/conv_candidates.h"

#include <stdio.h>
#include <string.h>

/* One tuning parameter a variant is tried over, and the values tried (the first is
 * the one --quick keeps). */
typedef struct axis {
  clrn_tuning_id id;
  long values[4];
  int count;
} axis;

/* A variant, whether it fits a shape (NULL: every shape), and its axes. */
typedef struct variant_row {
  int variant;
  bool (*fits)(const clrn_conv_shape *shape);
  axis axes[4];
  int axis_count;
} variant_row;

/* Values around the shipped CPU profiles: vectors of 8 (AVX2) and 16 (AVX-512)
 * lanes, register blocks of 12 to 24 accumulators, work-groups small (PoCL runs one
 * work-group per thread at a time) or larger (GPUs). */
static const variant_row rows[] = {
    {CLRN_CONV_DIRECT, NULL, {{CLRN_TUNING_CONV_WG, {64, 16}, 2}}, 1},
    {CLRN_CONV_BLOCKED,
     NULL,
     {{CLRN_TUNING_CONV_VEC, {8, 16}, 2},
      {CLRN_TUNING_CONV_COUT_BLOCK, {16, 32}, 2},
      {CLRN_TUNING_CONV_PIX_BLOCK, {6, 4, 12}, 3},
      {CLRN_TUNING_CONV_BLOCK_WG, {4, 16}, 2}},
     4},
    {CLRN_CONV_GEMM,
     clrn_conv2d_gemm_fits,
     {{CLRN_TUNING_GEMM_MR, {8, 16, 4}, 3},
      {CLRN_TUNING_GEMM_NR, {16, 8}, 2},
      {CLRN_TUNING_GEMM_NV, {2, 1, 4}, 3},
      {CLRN_TUNING_GEMM_WG, {4, 16}, 2}},
     4},
};

bool clrn_conv_tuning_set(clrn_conv_tuning *t, clrn_tuning_id id, long value) {
  switch (id) {
  case CLRN_TUNING_CONV_VEC: t->vec = value; break;
  case CLRN_TUNING_CONV_COUT_BLOCK: t->cout_block = value; break;
  case CLRN_TUNING_CONV_PIX_BLOCK: t->pix_block = value; break;
  case CLRN_TUNING_CONV_WG: t->direct_wg = value; break;
  case CLRN_TUNING_CONV_BLOCK_WG: t->blocked_wg = value; break;
  case CLRN_TUNING_CONV_PIXELS_FIRST: t->pixels_first = value; break;
  case CLRN_TUNING_GEMM_MR: t->gemm_mr = value; break;
  case CLRN_TUNING_GEMM_NR: t->gemm_nr = value; break;
  case CLRN_TUNING_GEMM_NV: t->gemm_nv = value; break;
  case CLRN_TUNING_GEMM_WG: t->gemm_wg = value; break;
  default: return false;
  }
  return true;
}

/* Whether a candidate's values are a set the kernels accept together, and whose
 * accumulators fit the registers beside its operands (more spill on every CPU):
 * at most 16 vectors for the GEMM kernel (GEMM_MR x GEMM_NV), 24 for the blocked
 * one (CONV_COUT_BLOCK / CONV_VEC x CONV_PIX_BLOCK). */
static bool consistent(const clrn_conv_tuning *t, const clrn_conv_candidate *c) {
  clrn_conv_tuning u = *t;
  for (int i = 0; i < c->count; i++)
    clrn_conv_tuning_set(&u, c->ids[i], c->values[i]);
  if (u.cout_block % u.vec != 0)
    return false;
  if (c->variant == CLRN_CONV_GEMM)
    return u.gemm_mr * u.gemm_nv <= 16;
  return c->variant != CLRN_CONV_BLOCKED || u.cout_block / u.vec * u.pix_block <= 24;
}

/* Whether two configs launch the same kernel the same way. */
static bool same_config(const clrn_conv2d_config *a, const clrn_conv2d_config *b) {
  return a->variant == b->variant && strcmp(a->kernel_name, b->kernel_name) == 0 &&
         a->vec == b->vec && a->cout_block == b->cout_block && a->pix_block == b->pix_block &&
         a->work_group == b->work_group && a->pixels_first == b->pixels_first;
}

/* Adds c to out[*n] unless its values do not go together or it launches like one
 * already there. */
static void add_candidate(const clrn_conv_tuning *t, const clrn_conv_shape *shape, long plane,
                          const clrn_conv_candidate *c, clrn_conv_candidate *out,
                          clrn_conv2d_config *configs, size_t *n) {
  if (*n >= CLRN_CONV_CANDIDATES_MAX || !consistent(t, c))
    return;
  clrn_conv_candidate_config(t, shape, plane, c, &configs[*n]);
  for (size_t i = 0; i < *n; i++)
    if (same_config(&configs[i], &configs[*n]))
      return;
  out[(*n)++] = *c;
}

size_t clrn_conv_candidates(const clrn_conv_tuning *t, const clrn_conv_shape *shape, long plane,
                            bool quick, clrn_conv_candidate *out) {
  clrn_conv2d_config configs[CLRN_CONV_CANDIDATES_MAX];
  clrn_conv2d_configure(t, shape, plane, CLRN_CONV_AUTO, &configs[0]);
  size_t n = 0;
  clrn_conv_candidate profile = {.variant = configs[0].variant};
  add_candidate(t, shape, plane, &profile, out, configs, &n);
  for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
    const variant_row *row = &rows[r];
    if (row->fits && !row->fits(shape))
      continue;
    int index[4] = {0};
    for (;;) {
      clrn_conv_candidate c = {.variant = row->variant, .count = row->axis_count};
      for (int a = 0; a < row->axis_count; a++) {
        c.ids[a] = row->axes[a].id;
        c.values[a] = row->axes[a].values[index[a]];
      }
      add_candidate(t, shape, plane, &c, out, configs, &n);
      int a = row->axis_count - 1;
      while (a >= 0 && (quick || ++index[a] == row->axes[a].count))
        index[a--] = 0;
      if (a < 0)
        break;
    }
  }
  return n;
}

void clrn_conv_candidate_config(const clrn_conv_tuning *t, const clrn_conv_shape *shape, long plane,
                                const clrn_conv_candidate *c, clrn_conv2d_config *config) {
  clrn_conv_tuning u = *t;
  u.tuned.count = 0;
  for (int i = 0; i < c->count; i++)
    clrn_conv_tuning_set(&u, c->ids[i], c->values[i]);
  clrn_conv2d_configure(&u, shape, plane, c->variant, config);
}

void clrn_conv_tuned_key(const clrn_conv_shape *s, long plane, long key[CLRN_TUNED_KEY]) {
  const long k[CLRN_TUNED_KEY] = {
      s->in_channels, s->out_channels, s->kernel_h, s->kernel_w, s->stride_h,
      s->stride_w,    s->pad_h,        s->pad_w,    s->groups,   plane};
  memcpy(key, k, sizeof k);
}

void clrn_conv_candidate_entry(const clrn_conv_shape *shape, long plane,
                               const clrn_conv_candidate *c, clrn_tuned_conv *entry) {
  memset(entry, 0, sizeof *entry);
  clrn_conv_tuned_key(shape, plane, entry->key);
  snprintf(entry->variant, sizeof entry->variant, "%s", clrn_conv2d_variant_string(c->variant));
  entry->count = c->count;
  memcpy(entry->ids, c->ids, sizeof c->ids);
  memcpy(entry->values, c->values, sizeof c->values);
}

void clrn_conv_candidate_describe(const clrn_conv_candidate *c, char *text, size_t size) {
  int used = snprintf(text, size, "%s%s", clrn_conv2d_variant_string(c->variant),
                      c->count ? "" : " (profile)");
  for (int i = 0; i < c->count && used >= 0 && (size_t)used < size; i++)
    used += snprintf(text + used, size - (size_t)used, " %s=%ld",
                     clrn_tuning_param_of(c->ids[i])->name, c->values[i]);
}

int clrn_conv2d_variant_from_string(const char *name) {
  for (int v = CLRN_CONV_DIRECT; strcmp(clrn_conv2d_variant_string(v), "unknown") != 0; v++)
    if (strcmp(clrn_conv2d_variant_string(v), name) == 0)
      return v;
  return -1;
}

const clrn_conv_tuning *clrn_conv_tuned_lookup(const clrn_conv_tuning *t,
                                               const clrn_conv_shape *shape, long plane,
                                               int *variant, clrn_conv_tuning *scratch) {
  if (plane <= 0 || t->tuned.count == 0)
    return NULL;
  long key[CLRN_TUNED_KEY];
  clrn_conv_tuned_key(shape, plane, key);
  const clrn_tuned_conv *e = clrn_tuned_find(&t->tuned, key);
  int v = e ? clrn_conv2d_variant_from_string(e->variant) : -1;
  if (v < 0)
    return NULL;
  *scratch = *t;
  scratch->tuned.count = 0;
  for (int i = 0; i < e->count; i++)
    if (!clrn_conv_tuning_set(scratch, e->ids[i], e->values[i]))
      return NULL;
  if (scratch->cout_block % scratch->vec != 0)
    return NULL;
  *variant = v;
  return scratch;
}
