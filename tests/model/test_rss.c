/* Memory of a long-lived process: engines created, run and released over and over
 * must not grow the resident set. CLBlast keeps every program it compiled in a
 * process-wide cache keyed by context, and a cached program keeps its context
 * alive; without releasing that cache with the last linear layer of a context, each
 * cycle here left its context behind (9 MB a cycle for this ResNet-18 at 32x32,
 * about 4.5 MB at 224x224 in the CLI). The bound, 0.5 MB a cycle, is far below one
 * leaked context yet above the noise of the allocators. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define WARM_CYCLES 4
#define CYCLES 16
#define WINDOW 4
#define SIZE 32
#define MAX_GROWTH_PER_CYCLE_KB 512.0

static long resident_kb(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (!f)
    return -1;
  if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
    resident = -1;
  fclose(f);
  return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void cycle(const clrn_device_info *device, const clrn_weights *weights, const float *input,
                  float *logits) {
  clrn_engine_options o;
  clrn_engine_options_default(&o);
  o.model.height = SIZE;
  o.model.width = SIZE;
  o.model.max_batch = 2;
  clrn_engine *engine = NULL;
  CLRN_ASSERT_OK(clrn_engine_create(device, 1, weights, &o, &engine));
  CLRN_ASSERT_OK(clrn_engine_run(engine, input, 1, logits, NULL)); /* CLBlast's GEMV */
  CLRN_ASSERT_OK(clrn_engine_run(engine, input, 2, logits, NULL)); /* and its GEMM */
  CLRN_ASSERT_OK(clrn_engine_run(engine, input, 2, logits, NULL));
  clrn_engine_release(engine);
}

static clrn_device_info device;

static void test_create_release_cycles(void) {
  clrn_weights *weights = NULL;
  CLRN_ASSERT_OK(clrn_weights_random(CLRN_ARCH_RESNET18, 10, 5, &weights));
  float *input = calloc(2 * 3 * SIZE * SIZE, sizeof *input);
  float *logits = calloc(2 * 10, sizeof *logits);
  CU_ASSERT_PTR_NOT_NULL_FATAL(input);
  CU_ASSERT_PTR_NOT_NULL_FATAL(logits);
  for (int i = 0; i < WARM_CYCLES; i++)
    cycle(&device, weights, input, logits);
  /* The resident set after each cycle, with free heap handed back first; the
   * smallest of the first and of the last WINDOW cycles are compared, as freed
   * driver memory comes back to the system at uneven times. */
  long rss[CYCLES];
  for (int i = 0; i < CYCLES; i++) {
    cycle(&device, weights, input, logits);
    malloc_trim(0);
    rss[i] = resident_kb();
    CU_ASSERT_FATAL(rss[i] > 0);
  }
  long first = rss[0], last = rss[CYCLES - 1];
  for (int i = 0; i < WINDOW; i++) {
    first = rss[i] < first ? rss[i] : first;
    last = rss[CYCLES - 1 - i] < last ? rss[CYCLES - 1 - i] : last;
  }
  double per_cycle = (double)(last - first) / (CYCLES - WINDOW);
  printf("\n  resident set %ld -> %ld kB over %d cycles: %.0f kB a cycle (at most %.0f)", first,
         last, CYCLES - WINDOW, per_cycle, MAX_GROWTH_PER_CYCLE_KB);
  CU_ASSERT(per_cycle <= MAX_GROWTH_PER_CYCLE_KB);
  free(input);
  free(logits);
  clrn_weights_close(weights);
}

int main(void) {
  clrn_test_require_device(&device);
  clrn_test_add_suite("rss", NULL, NULL, "engine create, run, release cycles",
                      test_create_release_cycles, NULL);
  return clrn_test_run();
}
