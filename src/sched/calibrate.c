/* Device speed calibration with an on-disk cache (see calibrate.h). */
#include "sched/calibrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "clresnet/io.h"
#include "runtime/cache.h"

#define CALIBRATION_FILE "calibration.txt"
#define MAX_LINE 1024

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void make_key(const clrn_model *model, const clrn_model_options *o, char *key, size_t size) {
  const clrn_device_info *d = clrn_context_device(clrn_model_context(model));
  snprintf(key, size, "%s|%s|%s|%u CUs|%d classes|%dx%d|fuse %d|batch %d|clresnet %s", d->name,
           d->driver_version, d->platform_name, d->compute_units, clrn_model_num_classes(model),
           o->height, o->width, o->fuse ? 1 : 0, clrn_model_max_batch(model), clrn_version());
  for (char *p = key; *p; p++)
    if (*p == '\t' || *p == '\n')
      *p = ' ';
}

static bool cache_path(char *path, size_t size) {
  char dir[4096];
  if (!clrn_cache_dir(dir, sizeof dir))
    return false;
  return snprintf(path, size, "%s/%s", dir, CALIBRATION_FILE) < (int)size;
}

static bool lookup(const char *key, double *speed) {
  char path[4200], line[MAX_LINE];
  if (!cache_path(path, sizeof path))
    return false;
  FILE *f = fopen(path, "r");
  if (!f)
    return false;
  bool found = false;
  while (!found && fgets(line, sizeof line, f)) {
    char *tab = strchr(line, '\t');
    if (!tab)
      continue;
    *tab = '\0';
    char *end = tab + 1 + strcspn(tab + 1, "\n");
    *end = '\0';
    char *stop = NULL;
    double value = strtod(line, &stop);
    if (stop && *stop == '\0' && value > 0 && strcmp(tab + 1, key) == 0) {
      *speed = value;
      found = true;
    }
  }
  fclose(f);
  return found;
}

/* Rewrites the cache file with key's line replaced (atomically). Failures are
 * only logged: calibration is an optimisation. */
static void store(const char *key, double speed) {
  char path[4200], temp[4300], line[MAX_LINE];
  if (!cache_path(path, sizeof path))
    return;
  FILE *out = NULL;
  if (clrn_atomic_open(path, temp, sizeof temp, &out) != CLRN_STATUS_SUCCESS) {
    clrn_log(CLRN_LOG_LEVEL_WARNING, "cannot write %s: %s", path, clrn_last_error());
    return;
  }
  FILE *in = fopen(path, "r");
  while (in && fgets(line, sizeof line, in)) {
    char *tab = strchr(line, '\t');
    if (!tab || strchr(line, '\n') == NULL)
      continue;
    size_t key_length = strlen(key);
    if (strncmp(tab + 1, key, key_length) == 0 && tab[1 + key_length] == '\n')
      continue;
    fputs(line, out);
  }
  if (in)
    fclose(in);
  fprintf(out, "%.6g\t%s\n", speed, key);
  if (clrn_atomic_commit(out, temp, path) != CLRN_STATUS_SUCCESS)
    clrn_log(CLRN_LOG_LEVEL_WARNING, "cannot write %s: %s", path, clrn_last_error());
}

/* Times runs of a small batch after a one-image warm-up; the best of three. A slow
 * device (a simulator) whose warm-up took over half a second is timed on one more
 * image only, so calibration stays short everywhere. */
static clrn_status measure(clrn_model *model, const clrn_model_options *o, double *speed) {
  int batch = clrn_model_max_batch(model) < 4 ? clrn_model_max_batch(model) : 4;
  size_t in_floats = (size_t)batch * 3 * (size_t)o->height * (size_t)o->width;
  size_t out_floats = (size_t)batch * (size_t)clrn_model_num_classes(model);
  float *input = malloc(in_floats * sizeof *input);
  float *logits = malloc(out_floats * sizeof *logits);
  clrn_status status = CLRN_STATUS_SUCCESS;
  if (!input || !logits) {
    status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "calibration");
    goto done;
  }
  for (size_t i = 0; i < in_floats; i++)
    input[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
  double warm_up = now_seconds();
  CLRN_GOTO(clrn_model_run(model, input, 1, logits, NULL), done, status);
  bool slow = now_seconds() - warm_up > 0.5;
  if (slow)
    batch = 1;
  double best = 1e30;
  for (int round = 0; round < (slow ? 1 : 3); round++) {
    double start = now_seconds();
    CLRN_GOTO(clrn_model_run(model, input, batch, logits, NULL), done, status);
    double elapsed = now_seconds() - start;
    if (elapsed < best)
      best = elapsed;
  }
  *speed = batch / (best > 1e-9 ? best : 1e-9);
done:
  free(input);
  free(logits);
  return status;
}

clrn_status clrn_calibrate(clrn_model *model, const clrn_model_options *options, bool recalibrate,
                           double *speed) {
  char key[MAX_LINE - 64];
  make_key(model, options, key, sizeof key);
  if (!recalibrate && lookup(key, speed))
    return CLRN_STATUS_SUCCESS;
  CLRN_TRY(measure(model, options, speed));
  clrn_log(CLRN_LOG_LEVEL_INFO, "%s: %.3g images/s (calibrated)",
           clrn_context_device(clrn_model_context(model))->name, *speed);
  store(key, *speed);
  return CLRN_STATUS_SUCCESS;
}
