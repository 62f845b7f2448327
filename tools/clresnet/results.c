/* `clresnet run` results as text or JSON (see results.h). */
#include "results.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

#define NOT_FINITE                                                                                 \
  "its logits are not finite (NaN or infinity): the input or the weights hold values out of "      \
  "range"

static const char *name_of(const cli_results *r, int i) { return r->names[i] ? r->names[i] : "?"; }

const char *cli_result_error(const cli_results *r, int i) {
  const float *l = r->logits + (size_t)i * (size_t)r->classes;
  const float *p = r->probs + (size_t)i * (size_t)r->classes;
  for (int c = 0; c < r->classes; c++)
    if (!isfinite(l[c]) || !isfinite(p[c]))
      return NOT_FINITE;
  return NULL;
}

void cli_print_result_text(FILE *f, const cli_results *r, int i, const char *error, int *best) {
  cli_print_line(f, "%s", name_of(r, i));
  if (error) {
    cli_print_line(f, "  failed: %s", error); /* escaped: messages name files */
    return;
  }
  const float *p = r->probs + (size_t)i * (size_t)r->classes;
  int top = clrn_top_k(p, r->classes, r->top, best);
  for (int j = 0; j < top; j++) {
    const char *label = clrn_labels_name(r->labels, best[j]);
    fprintf(f, "  %6.2f%%  %4d", 100.0 * p[best[j]], best[j]);
    if (label)
      cli_print_line(f, "  %s", label); /* escaped: names come from files */
    else
      fputc('\n', f);
  }
}

cJSON *cli_result_json(const cli_results *r, int i, const char *error, int *best) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "input", name_of(r, i));
  if (error) {
    cJSON_AddStringToObject(o, "error", error);
    return o;
  }
  const float *p = r->probs + (size_t)i * (size_t)r->classes;
  int count = clrn_top_k(p, r->classes, r->top, best);
  cJSON *top = cJSON_AddArrayToObject(o, "top");
  for (int j = 0; j < count; j++) {
    cJSON *t = cJSON_CreateObject();
    const char *label = clrn_labels_name(r->labels, best[j]);
    cJSON_AddNumberToObject(t, "class", best[j]);
    if (label)
      cJSON_AddStringToObject(t, "label", label);
    cJSON_AddNumberToObject(t, "probability", p[best[j]]);
    cJSON_AddNumberToObject(t, "logit", r->logits[(size_t)i * (size_t)r->classes + best[j]]);
    cJSON_AddItemToArray(top, t);
  }
  return o;
}

static void print_json(const cli_results *r, const bool *failed, int *best) {
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "model", clrn_arch_name(clrn_weights_arch(r->weights)));
  cJSON_AddStringToObject(root, "weights", r->weights_path);
  const char *source = clrn_weights_metadata(r->weights, "source");
  cJSON_AddBoolToObject(root, "random_weights", source && strcmp(source, "seed") == 0);
  cJSON *devices = cJSON_AddArrayToObject(root, "devices");
  for (size_t i = 0; i < clrn_engine_device_count(r->engine); i++) {
    const clrn_device_info *d =
        clrn_context_device(clrn_model_context(clrn_engine_model(r->engine, i)));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddStringToObject(o, "platform", d->platform_name);
    cJSON_AddNumberToObject(o, "images", clrn_engine_last_shard(r->engine, i));
    cJSON_AddItemToArray(devices, o);
  }
  cJSON *results = cJSON_AddArrayToObject(root, "results");
  int failures = 0;
  for (int i = 0; i < r->count; i++) {
    cJSON_AddItemToArray(results, cli_result_json(r, i, failed[i] ? NOT_FINITE : NULL, best));
    failures += failed[i];
  }
  cJSON_AddNumberToObject(root, "failed", failures);
  cli_print_json(root); /* escaped (escape.h); frees root */
}

int cli_print_results(const cli_results *r, bool json) {
  int *best = malloc((size_t)(r->top > 0 ? r->top : 1) * sizeof *best);
  bool *failed = calloc((size_t)(r->count > 0 ? r->count : 1), sizeof *failed);
  if (!best || !failed) {
    free(best);
    free(failed);
    cli_error("out of memory printing the results");
    return CLI_EXIT_FAILURE;
  }
  int status = CLI_EXIT_OK;
  for (int i = 0; i < r->count; i++) {
    failed[i] = cli_result_error(r, i) != NULL;
    if (failed[i]) {
      cli_error("%s: %s", name_of(r, i), NOT_FINITE);
      status = CLI_EXIT_FAILURE;
    }
  }
  if (json)
    print_json(r, failed, best);
  else
    for (int i = 0; i < r->count; i++)
      cli_print_result_text(stdout, r, i, failed[i] ? NOT_FINITE : NULL, best);
  free(best);
  free(failed);
  return status;
}
