/* The machine's FMA peak, the yardstick of the per-layer GFLOP/s that `clresnet
 * bench --profile` prints: T threads (default 2), each running 24 independent
 * chains of fused multiply-adds on vectors of 16 floats (zmm with AVX-512, two ymm
 * with AVX2: built with -march=native, and -ffp-contract=fast, which ISO C mode
 * turns off) for about S seconds (default 2), counting 2
 * FLOP per lane. Not run by CTest: a benchmark program.
 * Usage: bench_fma_peak [THREADS [SECONDS]] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef float vec16 __attribute__((vector_size(64)));
enum { CHAINS = 24, STEP = 1000 };

static double seconds_wanted = 2.0;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Runs the chains until the time is up; returns the FLOPs done (as a double). */
static void *run(void *arg) {
  double *flops = arg;
  vec16 acc[CHAINS], a, b;
  for (int i = 0; i < 16; i++) {
    a[i] = 0.999999f;
    b[i] = 1e-7f;
  }
  for (int c = 0; c < CHAINS; c++)
    acc[c] = a * (float)c;
  double start = now(), steps = 0;
  do {
    for (int s = 0; s < STEP; s++)
#pragma GCC unroll 24
      for (int c = 0; c < CHAINS; c++)
        acc[c] = acc[c] * a + b;
    steps += STEP;
  } while (now() - start < seconds_wanted);
  double elapsed = now() - start;
  float sink = 0;
  for (int c = 0; c < CHAINS; c++)
    sink += acc[c][c % 16];
  *flops = steps * CHAINS * 16 * 2 / elapsed + (sink == 12345.0f); /* keeps the chains live */
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2;
  if (argc > 2)
    seconds_wanted = atof(argv[2]);
  if (threads < 1 || threads > 256 || seconds_wanted <= 0) {
    fprintf(stderr, "usage: bench_fma_peak [THREADS (1..256) [SECONDS]]\n");
    return 2;
  }
  pthread_t *ids = calloc((size_t)threads, sizeof *ids);
  double *rates = calloc((size_t)threads, sizeof *rates);
  if (!ids || !rates)
    return 1;
  for (int t = 0; t < threads; t++)
    if (pthread_create(&ids[t], NULL, run, &rates[t]) != 0)
      return 1;
  double total = 0;
  for (int t = 0; t < threads; t++) {
    pthread_join(ids[t], NULL);
    total += rates[t];
  }
  printf("FMA peak: %.1f GFLOP/s on %d threads (%.1f per thread)\n", total * 1e-9, threads,
         total * 1e-9 / threads);
  free(ids);
  free(rates);
  return 0;
}
