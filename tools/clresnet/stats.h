/* Latency statistics of `clresnet bench`: mean, standard deviation, min, max and
 * percentiles of a set of timings, in one small function that tests can reach
 * (tests/cli/test_stats.c). */
#ifndef CLRN_TOOLS_STATS_H
#define CLRN_TOOLS_STATS_H

#include <stddef.h>

/** Summary of count samples (in the samples' unit). */
typedef struct cli_stats {
  size_t count;
  double mean, stddev; /**< stddev: the sample standard deviation (n - 1), 0 for one sample */
  double min, max, median, p50, p90, p99;
} cli_stats;

/** The value below which p percent of the sorted samples lie, interpolated linearly
 * between the two closest ranks (numpy.percentile's default): rank p/100 * (n - 1). */
double cli_percentile(const double *sorted, size_t count, double p);

/** Sorts samples in place (ascending) and summarises them; median equals p50. All
 * fields are 0 when count is 0. */
void cli_stats_compute(double *samples, size_t count, cli_stats *stats);

#endif
