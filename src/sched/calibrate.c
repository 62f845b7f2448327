/* Device speed calibration with an on-disk cache (see calibrate.h). */
#include "sched/calibrate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "clresnet/io.h"
#include "runtime/cache.h"

#define CALIBRATION_FILE "calibration.txt"
#define MAX_LINE 1024
/* The speeds a cache line may hold, in images per second: a simulator runs a few a
 * minute, no device a billion. */
#define MIN_SPEED 1e-6
#define MAX_SPEED 1e9

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

/* The file in the cache folder, when that folder may be trusted (see
 * runtime/cache.h); create makes the folder for writing. */
static bool cache_path(char *path, size_t size, bool create) {
  char dir[4096];
  if (!clrn_cache_folder(dir, sizeof dir, create))
    return false;
  return snprintf(path, size, "%s/%s", dir, CALIBRATION_FILE) < (int)size;
}

/* Splits one line "<speed>\t<key>\n" of the file in place; false for a line not of
 * that form (no tab, or cut short by a full disk or an editor). */
static bool split_line(char *line, char **speed_text, char **key) {
  char *tab = strchr(line, '\t');
  char *end = strchr(line, '\n');
  if (!tab || !end || end < tab)
    return false;
  *tab = '\0';
  *end = '\0';
  *speed_text = line;
  *key = tab + 1;
  return true;
}

/* Reads a speed: a whole finite number of images per second in
 * [MIN_SPEED, MAX_SPEED]. inf, nan, 1e999, zero, negative or absurd values are
 * refused: the batch split would hand out negative or endless shards. */
static bool parse_speed(const char *text, double *speed) {
  char *stop = NULL;
  double value = strtod(text, &stop);
  if (stop == text || *stop != '\0' || !isfinite(value) || value < MIN_SPEED || value > MAX_SPEED)
    return false;
  *speed = value;
  return true;
}

static bool lookup(const char *key, double *speed) {
  char path[4200], line[MAX_LINE];
  if (!cache_path(path, sizeof path, false))
    return false;
  FILE *f = fopen(path, "r");
  if (!f)
    return false;
  bool found = false;
  char *speed_text = NULL, *line_key = NULL;
  while (!found && fgets(line, sizeof line, f)) {
    if (!split_line(line, &speed_text, &line_key) || strcmp(line_key, key) != 0)
      continue;
    found = parse_speed(speed_text, speed);
    if (!found)
      clrn_log(CLRN_LOG_LEVEL_WARNING,
               "%s: discarding speed \"%.32s\" of %.*s: not a number of images per second "
               "from %g to %g; calibrating again",
               path, speed_text, (int)strcspn(key, "|"), key, MIN_SPEED, MAX_SPEED);
  }
  fclose(f);
  return found;
}

/* Rewrites the cache file with key's line replaced (atomically), dropping lines that
 * are cut short or hold a bad speed. Failures are only logged: calibration is an
 * optimisation. */
static void store(const char *key, double speed) {
  char path[4200], temp[4300], line[MAX_LINE];
  if (!cache_path(path, sizeof path, true))
    return;
  FILE *out = NULL;
  if (clrn_atomic_open(path, temp, sizeof temp, &out) != CLRN_STATUS_SUCCESS) {
    clrn_log(CLRN_LOG_LEVEL_WARNING, "cannot write %s: %s", path, clrn_last_error());
    return;
  }
  FILE *in = fopen(path, "r");
  char *speed_text = NULL, *line_key = NULL;
  double other = 0.0;
  while (in && fgets(line, sizeof line, in))
    if (split_line(line, &speed_text, &line_key) && strcmp(line_key, key) != 0 &&
        parse_speed(speed_text, &other))
      fprintf(out, "%s\t%s\n", speed_text, line_key);
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
  *speed = fmin(fmax(batch / (best > 1e-9 ? best : 1e-9), MIN_SPEED), MAX_SPEED);
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
