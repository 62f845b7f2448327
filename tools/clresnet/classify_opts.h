/* `run`'s options on how photos become tensors and classes become names:
 * --preprocess torchvision|caffe, --resize, --crop, --mean, --std and --labels FILE. Each overrides
 * what the weights carry (their metadata, clrn_weights_preprocess() and clrn_weights_labels());
 * without either, photos get torchvision's classic ImageNet transform and classes show as indices
 * unless the model has the 1000 ImageNet classes. */
#ifndef CLRN_TOOLS_CLASSIFY_OPTS_H
#define CLRN_TOOLS_CLASSIFY_OPTS_H

#include "session.h"

/** Keys of these options (above a command's own ids, which start at CLI_OPTION_OWN). */
enum {
  CLI_OPT_RESIZE = CLI_OPTION_OWN + 50,
  CLI_OPT_CROP,
  CLI_OPT_MEAN,
  CLI_OPT_STD,
  CLI_OPT_LABELS,
  CLI_OPT_PREPROCESS,
};

/** The entries of these options, for a command's option table. */
#define CLI_CLASSIFY_OPTIONS                                                                       \
  {"preprocess", CLI_OPT_PREPROCESS, "MODE",                                                       \
   "how photos become tensors: torchvision (resize, center crop,\n"                                \
   "v/255, mean, std) or caffe (Keras: straight to crop x crop,\n"                                 \
   "nearest, BGR, v - mean); default: what the model expects"},                                    \
      {"resize", CLI_OPT_RESIZE, "N",                                                              \
       "resize photos' shorter side to N, 1..16777216 (default: the\n"                             \
       "weights' own, else 256)"},                                                                 \
      {"crop", CLI_OPT_CROP, "N",                                                                  \
       "center crop N x N, 1..16384 (default: the weights' own, else 224)"},                       \
      {"mean", CLI_OPT_MEAN, "R,G,B",                                                              \
       "normalization means (default: the weights' own, else\n0.485,0.456,0.406)"},                \
      {"std", CLI_OPT_STD, "R,G,B",                                                                \
       "normalization standard deviations, non-zero (default: the\n"                               \
       "weights' own, else 0.229,0.224,0.225)"},                                                   \
  {                                                                                                \
    "labels", CLI_OPT_LABELS, "FILE",                                                              \
        "class names, one per line in class order, as many as the\n"                               \
        "model has classes (default: the names the weights carry,\n"                               \
        "else ImageNet's for 1000 classes, else class indices)"                                    \
  }

/** The values given; a field not given keeps the weights' value. */
typedef struct cli_classify_args {
  const char *preprocess; /* --preprocess MODE, or NULL */
  long resize, crop;      /* 0: not given */
  float mean[3], std[3];
  bool mean_given, std_given;
  const char *labels; /* --labels FILE, or NULL */
} cli_classify_args;

/** Stores one of these options; returns CLI_EXIT_OK, a usage error (printed), or
 * CLI_CONTINUE when key is not one of them. */
int cli_classify_option(const char *command, int key, const char *value, cli_classify_args *a);

/** What photos and classes get: the weights' preprocessing and names, overridden by
 * the options given. *labels is NULL when no names are known (free it with
 * clrn_labels_free()). Prints the error and returns CLI_EXIT_FAILURE when the
 * metadata is malformed or the labels file cannot be read or does not have one
 * name per class. */
int cli_classify_resolve(const cli_classify_args *a, const clrn_weights *weights,
                         clrn_preprocess *preprocess, clrn_labels **labels);

#endif
