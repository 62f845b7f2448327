/* Latency statistics for `clresnet bench` (see stats.h). */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int compare_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

double cli_percentile(const double *sorted, size_t count, double p) {
  if (count == 0)
    return 0.0;
  double rank = p / 100.0 * (double)(count - 1);
  size_t below = (size_t)floor(rank);
  if (below + 1 >= count)
    return sorted[count - 1];
  double fraction = rank - (double)below;
  return sorted[below] + fraction * (sorted[below + 1] - sorted[below]);
}

void cli_stats_compute(double *samples, size_t count, cli_stats *s) {
  memset(s, 0, sizeof *s);
  if (count == 0)
    return;
  qsort(samples, count, sizeof *samples, compare_double);
  double sum = 0.0;
  for (size_t i = 0; i < count; i++)
    sum += samples[i];
  s->count = count;
  s->mean = sum / (double)count;
  double squares = 0.0;
  for (size_t i = 0; i < count; i++)
    squares += (samples[i] - s->mean) * (samples[i] - s->mean);
  s->stddev = count > 1 ? sqrt(squares / (double)(count - 1)) : 0.0;
  s->min = samples[0];
  s->max = samples[count - 1];
  s->p50 = cli_percentile(samples, count, 50.0);
  s->median = s->p50;
  s->p90 = cli_percentile(samples, count, 90.0);
  s->p99 = cli_percentile(samples, count, 99.0);
}
