/* What a weights file's "__metadata__" says about using it: the preprocessing its
 * model was trained with ("resize", "crop", "interpolation", "mean", "std", as
 * tools/export_torchvision.py stores them from torchvision's weights.transforms())
 * and its class names ("categories", from weights.meta). The values come from a
 * file, so each is parsed strictly and an error names the file and the key. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "clresnet/labels.h"
#include "weights/weights.h"

#define MAX_RESIZE (1 << 24)
#define MAX_CROP (1 << 14)

static const char *file_of(const clrn_weights *w) {
  return w->random || !w->path[0] ? "random weights" : w->path;
}

static clrn_status bad_value(const clrn_weights *w, const char *key, const char *value,
                             const char *need) {
  return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: metadata \"%s\" is \"%.40s%s\": %s", file_of(w),
                   key, value, strlen(value) > 40 ? "..." : "", need);
}

/* A whole decimal number in 1..max, digits only (no sign, space or leading zero). */
static clrn_status parse_size(const clrn_weights *w, const char *key, int max, int *out) {
  const char *text = clrn_weights_metadata(w, key);
  if (!text)
    return CLRN_STATUS_SUCCESS;
  long value = 0;
  size_t n = strlen(text);
  bool ok = n >= 1 && n <= 9 && text[0] >= '1' && text[0] <= '9';
  for (size_t i = 0; ok && i < n; i++) {
    ok = text[i] >= '0' && text[i] <= '9';
    value = value * 10 + (text[i] - '0');
  }
  if (!ok || value > max) {
    char need[64];
    snprintf(need, sizeof need, "needs a whole number in 1..%d", max);
    return bad_value(w, key, text, need);
  }
  *out = (int)value;
  return CLRN_STATUS_SUCCESS;
}

/* A JSON list of 3 numbers that are finite as float32 (for std also non-zero). */
static clrn_status parse_triple(const clrn_weights *w, const char *key, bool nonzero,
                                float out[3]) {
  const char *text = clrn_weights_metadata(w, key);
  if (!text)
    return CLRN_STATUS_SUCCESS;
  cJSON *json = cJSON_ParseWithOpts(text, NULL, true);
  float v[3];
  bool ok = cJSON_IsArray(json) && cJSON_GetArraySize(json) == 3;
  for (int c = 0; ok && c < 3; c++) {
    const cJSON *item = cJSON_GetArrayItem(json, c);
    ok = cJSON_IsNumber(item);
    v[c] = ok ? (float)item->valuedouble : 0.0f; /* as torch.tensor(..., float32) rounds */
    ok = ok && isfinite(v[c]) && (!nonzero || v[c] != 0.0f);
  }
  cJSON_Delete(json);
  if (!ok)
    return bad_value(w, key, text,
                     nonzero ? "needs a JSON list of 3 finite, non-zero numbers"
                             : "needs a JSON list of 3 finite numbers");
  memcpy(out, v, sizeof v);
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_weights_preprocess(const clrn_weights *w, clrn_preprocess *p) {
  if (!w || !p)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_weights_preprocess: NULL argument");
  clrn_preprocess out;
  clrn_preprocess_default(&out);
  if (w->arch == CLRN_ARCH_KERAS_RESNET50)
    clrn_preprocess_caffe(&out); /* what keras.applications' ResNet50 was trained with */
  CLRN_TRY(parse_size(w, "resize", MAX_RESIZE, &out.resize));
  CLRN_TRY(parse_size(w, "crop", MAX_CROP, &out.crop));
  CLRN_TRY(parse_triple(w, "mean", false, out.mean));
  CLRN_TRY(parse_triple(w, "std", true, out.std));
  const char *interpolation = clrn_weights_metadata(w, "interpolation");
  if (interpolation && strcmp(interpolation, "bilinear") != 0)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "%s: metadata \"interpolation\" is \"%.40s\": only \"bilinear\" (PIL's, "
                     "antialiased) is supported",
                     file_of(w), interpolation);
  *p = out;
  return CLRN_STATUS_SUCCESS;
}

/* The names of a "categories" value: a JSON list of num_classes strings. */
static clrn_status parse_categories(const clrn_weights *w, const char *text, clrn_labels **labels) {
  char name[1100];
  snprintf(name, sizeof name, "%s: metadata \"categories\"", file_of(w));
  cJSON *json = cJSON_ParseWithOpts(text, NULL, true);
  int count = cJSON_IsArray(json) ? cJSON_GetArraySize(json) : -1;
  if (count < 0) {
    cJSON_Delete(json);
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: needs a JSON list of strings", name);
  }
  if (count != w->num_classes) {
    cJSON_Delete(json);
    return clrn_fail(CLRN_STATUS_MISMATCH, "%s: %d names but the model has %d classes", name, count,
                     w->num_classes);
  }
  const char **names = malloc((size_t)(count ? count : 1) * sizeof *names);
  clrn_status s =
      names ? CLRN_STATUS_SUCCESS : clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: names", name);
  int i = 0;
  for (const cJSON *item = json->child; s == CLRN_STATUS_SUCCESS && item; item = item->next, i++) {
    names[i] = cJSON_GetStringValue(item);
    if (!cJSON_IsString(item) || !names[i])
      s = clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: item %d is not a string", name, i);
  }
  if (s == CLRN_STATUS_SUCCESS)
    s = clrn_labels_from_list(names, (size_t)count, name, labels);
  free(names);
  cJSON_Delete(json);
  return s;
}

clrn_status clrn_weights_labels(const clrn_weights *w, clrn_labels **labels) {
  if (!w || !labels)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_weights_labels: NULL argument");
  *labels = NULL;
  const char *text = clrn_weights_metadata(w, "categories");
  if (text)
    return parse_categories(w, text, labels);
  return w->num_classes == 1000 ? clrn_labels_imagenet(labels) : CLRN_STATUS_SUCCESS;
}
