/* bench's latency statistics (tools/clresnet/stats.c) on known data: the values
 * numpy gives (mean, std(ddof=1), percentile with linear interpolation). */
#include <CUnit/CUnit.h>

#include "harness.h"
#include "stats.h"

#define NEAR(a, b) CU_ASSERT_DOUBLE_EQUAL((a), (b), 1e-12 * (1.0 + (b < 0 ? -(b) : (b))))

static void test_known(void) {
  /* numpy: mean 14.090909090909092, std(ddof=1) 28.637229424141385,
   * percentile 50/90/99: 6.0, 10.0, 91.00000000000003 */
  double v[] = {7, 1, 3, 9, 5, 2, 8, 4, 6, 10, 100};
  cli_stats s;
  cli_stats_compute(v, 11, &s);
  CU_ASSERT_EQUAL(s.count, 11);
  NEAR(s.mean, 14.090909090909092);
  NEAR(s.stddev, 28.637229424141385);
  NEAR(s.min, 1.0);
  NEAR(s.max, 100.0);
  NEAR(s.p50, 6.0);
  NEAR(s.median, 6.0);
  NEAR(s.p90, 10.0);
  NEAR(s.p99, 91.0);
  for (int i = 1; i < 11; i++) /* sorted in place */
    CU_ASSERT(v[i - 1] <= v[i]);
}

static void test_small(void) {
  double two[] = {2.5, 0.5}; /* numpy: 1.5, 1.4142135623730951, 1.5, 2.3, 2.48 */
  cli_stats s;
  cli_stats_compute(two, 2, &s);
  NEAR(s.mean, 1.5);
  NEAR(s.stddev, 1.4142135623730951);
  NEAR(s.median, 1.5);
  NEAR(s.p90, 2.3);
  NEAR(s.p99, 2.48);
  double one[] = {3.0};
  cli_stats_compute(one, 1, &s);
  NEAR(s.stddev, 0.0);
  NEAR(s.p99, 3.0);
  NEAR(s.min, 3.0);
  cli_stats_compute(one, 0, &s);
  CU_ASSERT_EQUAL(s.count, 0);
  NEAR(s.mean, 0.0);
  const double sorted[] = {1, 2, 3, 4};
  NEAR(cli_percentile(sorted, 4, 0), 1.0);
  NEAR(cli_percentile(sorted, 4, 100), 4.0);
  NEAR(cli_percentile(sorted, 4, 50), 2.5);
}

int main(void) {
  clrn_test_add_suite("bench statistics", NULL, NULL, "known data", test_known,
                      "one, two and no samples", test_small, NULL);
  return clrn_test_run();
}
