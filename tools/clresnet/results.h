/* Printing what `clresnet run` found: the top-k classes of each input as text or
 * as one JSON object, with inputs whose logits are not finite reported as failed
 * rather than ranked. Names from files are escaped (escape.h). */
#ifndef CLRN_TOOLS_RESULTS_H
#define CLRN_TOOLS_RESULTS_H

#include <stdio.h>

#include "cli.h"

/** The results of one run, for printing. */
typedef struct cli_results {
  char *const *names; /**< one per input (NULL prints "?") */
  int count;
  const float *logits, *probs; /**< count x classes each */
  int classes, top;            /**< top: how many classes to show per input */
  const char *weights_path;
  const clrn_weights *weights;
  const clrn_engine *engine;
  const clrn_labels *labels; /**< class names, or NULL: classes show as indices */
} cli_results;

/** Prints the results on stdout (as JSON when json). An input whose logits or
 * probabilities are not all finite is shown as failed, with a message, in both
 * forms and on stderr. Returns CLI_EXIT_OK, or CLI_EXIT_FAILURE when an input
 * failed or printing did. */
int cli_print_results(const cli_results *r, bool json);

/** Why input i has no classes: a message when its logits or probabilities are not
 * all finite, else NULL. */
const char *cli_result_error(const cli_results *r, int i);

/** Prints input i as text on f: its name, then its top r->top classes, or "failed:"
 * and error when error is not NULL. best has room for r->top indices. */
void cli_print_result_text(FILE *f, const cli_results *r, int i, const char *error, int *best);

/** Input i as a JSON object: {"input", "top": [{"class", "label", "probability",
 * "logit"}...]}, or {"input", "error"} when error is not NULL. */
struct cJSON *cli_result_json(const cli_results *r, int i, const char *error, int *best);

#endif
