/* --preprocess, --resize, --crop, --mean, --std and --labels of `clresnet run` (see
 * classify_opts.h): strict parsing of each value, and joining them with what the
 * weights carry. */
#include "classify_opts.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Three comma-separated finite float32 numbers ("0.485,0.456,0.406"), non-zero
 * when nonzero; false otherwise. */
static bool parse_triple(const char *text, bool nonzero, float out[3]) {
  const char *at = text;
  for (int c = 0; c < 3; c++) {
    char *end;
    if (!*at || *at == ' ' || *at == '\t')
      return false;
    double v = strtod(at, &end);
    out[c] = (float)v;
    if (end == at || !isfinite(out[c]) || (nonzero && out[c] == 0.0f))
      return false;
    if (c < 2 && *end != ',')
      return false;
    at = end + (c < 2);
    if (c == 2 && *end)
      return false;
  }
  return true;
}

int cli_classify_option(const char *command, int key, const char *value, cli_classify_args *a) {
  switch (key) {
  case CLI_OPT_PREPROCESS:
    if (strcmp(value, "torchvision") != 0 && strcmp(value, "caffe") != 0)
      return cli_usage_error(command, "--preprocess: '%s' is not torchvision or caffe", value);
    a->preprocess = value;
    return CLI_EXIT_OK;
  case CLI_OPT_RESIZE: return cli_int_option(command, "--resize", value, 1, 1 << 24, &a->resize);
  case CLI_OPT_CROP: return cli_int_option(command, "--crop", value, 1, 1 << 14, &a->crop);
  case CLI_OPT_MEAN:
    a->mean_given = parse_triple(value, false, a->mean);
    return a->mean_given
               ? CLI_EXIT_OK
               : cli_usage_error(command, "--mean: '%s' is not three finite numbers R,G,B", value);
  case CLI_OPT_STD:
    a->std_given = parse_triple(value, true, a->std);
    return a->std_given ? CLI_EXIT_OK
                        : cli_usage_error(command,
                                          "--std: '%s' is not three finite, non-zero numbers "
                                          "R,G,B",
                                          value);
  case CLI_OPT_LABELS: a->labels = value; return CLI_EXIT_OK;
  default: return CLI_CONTINUE;
  }
}

int cli_classify_resolve(const cli_classify_args *a, const clrn_weights *weights,
                         clrn_preprocess *pre, clrn_labels **labels) {
  *labels = NULL;
  clrn_status s = clrn_weights_preprocess(weights, pre);
  if (s != CLRN_STATUS_SUCCESS)
    return cli_fail(s, "weights");
  /* Another mode than the weights' starts from that mode's defaults. */
  clrn_preprocess_mode mode = !a->preprocess                        ? pre->mode
                              : strcmp(a->preprocess, "caffe") == 0 ? CLRN_PREPROCESS_CAFFE
                                                                    : CLRN_PREPROCESS_TORCHVISION;
  if (mode != pre->mode && mode == CLRN_PREPROCESS_CAFFE)
    clrn_preprocess_caffe(pre);
  else if (mode != pre->mode)
    clrn_preprocess_default(pre);
  if (a->resize)
    pre->resize = (int)a->resize;
  if (a->crop)
    pre->crop = (int)a->crop;
  if (a->mean_given)
    memcpy(pre->mean, a->mean, sizeof pre->mean);
  if (a->std_given)
    memcpy(pre->std, a->std, sizeof pre->std);
  if (!a->labels) {
    s = clrn_weights_labels(weights, labels);
    return s == CLRN_STATUS_SUCCESS ? CLI_EXIT_OK : cli_fail(s, "weights");
  }
  if ((s = clrn_labels_load(a->labels, labels)) != CLRN_STATUS_SUCCESS)
    return cli_fail(s, "--labels");
  size_t count = clrn_labels_count(*labels);
  int classes = clrn_weights_num_classes(weights);
  if (count != (size_t)classes) {
    clrn_labels_free(*labels);
    *labels = NULL;
    cli_error("--labels: %s has %zu names but the model has %d classes (one name per line, "
              "in class order)",
              a->labels, count, classes);
    return CLI_EXIT_FAILURE;
  }
  return CLI_EXIT_OK;
}
