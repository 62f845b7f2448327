/* What the tuner may choose for a convolution, and how its measured choice comes back
 * into a plan. The candidates come from one data table (conv_candidates.c): per
 * variant, the tuning-table parameters it is tried over and the values tried; a new
 * variant (Winograd, ...) is one more row there, plus its fields in clrn_conv_tuning
 * and its case in clrn_conv2d_configure(). A choice is stored in the tuning file
 * (runtime/tuning_file.h) as the variant's name and the values that differ from the
 * profile, keyed by the layer's shape and output plane; clrn_conv2d_configure() looks
 * it up for every AUTO convolution whose plane it knows. */
#ifndef CLRN_PLAN_CONV_CANDIDATES_H
#define CLRN_PLAN_CONV_CANDIDATES_H

#include "plan/conv2d_pack.h"
#include "runtime/tuning_file.h"

/** One candidate: a variant and the tuning values it runs with, over the profile's. */
typedef struct clrn_conv_candidate {
  int variant; /**< CLRN_CONV_DIRECT, ... (never AUTO) */
  int count;
  clrn_tuning_id ids[CLRN_TUNED_VALUES];
  long values[CLRN_TUNED_VALUES];
} clrn_conv_candidate;

/** Most candidates clrn_conv_candidates() returns for one shape. */
#define CLRN_CONV_CANDIDATES_MAX 64

/** The candidates for a shape: first what the profile alone would choose, then every
 * variant that fits the shape over every combination of its parameters' values
 * (quick: the first value of each only). Returns the count (at most
 * CLRN_CONV_CANDIDATES_MAX). */
size_t clrn_conv_candidates(const clrn_conv_tuning *tuning, const clrn_conv_shape *shape,
                            long plane, bool quick, clrn_conv_candidate *out);

/** Sets a convolution tuning value by table id; false for an id no field holds. */
bool clrn_conv_tuning_set(clrn_conv_tuning *tuning, clrn_tuning_id id, long value);

/** The config a candidate runs with (its values over tuning's). */
void clrn_conv_candidate_config(const clrn_conv_tuning *tuning, const clrn_conv_shape *shape,
                                long plane, const clrn_conv_candidate *candidate,
                                clrn_conv2d_config *config);

/** The tuning file's key of a shape with an output plane (height x width). */
void clrn_conv_tuned_key(const clrn_conv_shape *shape, long plane, long key[CLRN_TUNED_KEY]);

/** The tuning-file entry of a candidate for a shape and plane. */
void clrn_conv_candidate_entry(const clrn_conv_shape *shape, long plane,
                               const clrn_conv_candidate *candidate, clrn_tuned_conv *entry);

/** Describes a candidate, "gemm GEMM_MR=16 GEMM_WG=4" ("profile" for the profile's). */
void clrn_conv_candidate_describe(const clrn_conv_candidate *candidate, char *text, size_t size);

/** When tuning's tuning file has an entry for the shape and plane: fills scratch with
 * tuning and the entry's values, sets *variant and returns scratch. Otherwise
 * returns NULL. */
const clrn_conv_tuning *clrn_conv_tuned_lookup(const clrn_conv_tuning *tuning,
                                               const clrn_conv_shape *shape, long plane,
                                               int *variant, clrn_conv_tuning *scratch);

/** The variant of a name ("blocked"), or -1. */
int clrn_conv2d_variant_from_string(const char *name);

#endif
