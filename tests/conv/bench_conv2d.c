/* Times conv2d variants on every distinct convolution of ResNet-50 at 224x224
 * with OpenCL profiling events and prints GFLOP/s per layer shape, then the
 * whole network's convolution time (each shape weighted by how often ResNet-50
 * runs it). Built with the tests, not run by CTest.
 *
 *   bench_conv2d [--batch 1,8] [--variant direct,blocked,gemm,igemm,winograd,grouped,auto]
 *                [--reps 3]
 *                [--layer N] [--list] [--cpu]
 *
 * The device is the tests' (CLRN_TEST_DEVICE); CLRN_TUNE overrides profile
 * values. Each timing is the best of --reps launches (profiling events, START to
 * END of the last launch: Winograd's three launches need --cpu) after one warm-up
 * launch (which also lets the driver finish compiling).
 * --cpu (for CPU devices in this process, PoCL) reports instead the least process
 * CPU time of a launch divided by the device's compute units: about the wall time
 * an idle machine would show, steadier than wall time on a machine shared with
 * other work. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

typedef struct layer {
  const char *name;
  int count; /* times ResNet-50 runs this shape */
  int cin, size, cout, k, stride;
} layer;

/* ResNet-50 (torchvision, stride on the 3x3) at 224x224: every distinct conv. */
static const layer layers[] = {
    {"stem 7x7/2", 1, 3, 224, 64, 7, 2},          {"l1 1x1 64->64", 1, 64, 56, 64, 1, 1},
    {"l1 3x3 64", 3, 64, 56, 64, 3, 1},           {"l1 1x1 64->256", 4, 64, 56, 256, 1, 1},
    {"l1 1x1 256->64", 2, 256, 56, 64, 1, 1},     {"l2 1x1 256->128", 1, 256, 56, 128, 1, 1},
    {"l2 3x3/2 128", 1, 128, 56, 128, 3, 2},      {"l2 1x1/2 256->512", 1, 256, 56, 512, 1, 2},
    {"l2 1x1 128->512", 4, 128, 28, 512, 1, 1},   {"l2 1x1 512->128", 3, 512, 28, 128, 1, 1},
    {"l2 3x3 128", 3, 128, 28, 128, 3, 1},        {"l3 1x1 512->256", 1, 512, 28, 256, 1, 1},
    {"l3 3x3/2 256", 1, 256, 28, 256, 3, 2},      {"l3 1x1/2 512->1024", 1, 512, 28, 1024, 1, 2},
    {"l3 1x1 256->1024", 6, 256, 14, 1024, 1, 1}, {"l3 1x1 1024->256", 5, 1024, 14, 256, 1, 1},
    {"l3 3x3 256", 5, 256, 14, 256, 3, 1},        {"l4 1x1 1024->512", 1, 1024, 14, 512, 1, 1},
    {"l4 3x3/2 512", 1, 512, 14, 512, 3, 2},      {"l4 1x1/2 1024->2048", 1, 1024, 14, 2048, 1, 2},
    {"l4 1x1 512->2048", 3, 512, 7, 2048, 1, 1},  {"l4 1x1 2048->512", 2, 2048, 7, 512, 1, 1},
    {"l4 3x3 512", 2, 512, 7, 512, 3, 1},
};
#define LAYER_COUNT ((int)(sizeof layers / sizeof layers[0]))
#define MAX_LIST 8

static void fail(const char *what, clrn_status status) {
  fprintf(stderr, "bench_conv2d: %s: %s: %s\n", what, clrn_status_string(status),
          clrn_last_error());
  exit(1);
}

static int parse_list(const char *text, int *values, const char *const *names) {
  int n = 0;
  char buffer[256];
  snprintf(buffer, sizeof buffer, "%s", text);
  for (char *save = NULL, *item = strtok_r(buffer, ",", &save); item && n < MAX_LIST;
       item = strtok_r(NULL, ",", &save)) {
    if (!names) {
      values[n++] = atoi(item);
      continue;
    }
    int found = -1;
    for (int i = 0; names[i]; i++)
      if (strcmp(names[i], item) == 0)
        found = i;
    if (found < 0) {
      fprintf(stderr, "bench_conv2d: unknown variant %s\n", item);
      exit(2);
    }
    values[n++] = found;
  }
  return n;
}

static float *random_floats(size_t count, float amplitude) {
  float *a = malloc(count * sizeof *a);
  if (!a)
    exit(1);
  unsigned state = 12345;
  for (size_t i = 0; i < count; i++) {
    state = state * 1664525u + 1013904223u;
    a[i] = amplitude * ((float)(state >> 8) / 16777216.0f - 0.5f);
  }
  return a;
}

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Best time in seconds of reps launches of one layer on one variant, or with
 * cpu, the least process CPU time of a launch per compute unit. */
static double time_layer(clrn_context *context, const layer *l, int batch, int variant, int reps,
                         bool cpu, const char **ran) {
  clrn_conv2d_desc desc = {l->cin,
                           l->cout,
                           l->k,
                           l->k,
                           l->stride,
                           l->stride,
                           l->k / 2,
                           l->k / 2,
                           1,
                           true,
                           (clrn_conv2d_variant)variant};
  int oh, ow;
  clrn_status status = clrn_conv2d_output_size(&desc, l->size, l->size, &oh, &ow);
  if (status)
    fail("output size", status);
  size_t w_count = (size_t)l->cout * l->cin * l->k * l->k;
  size_t in_count = (size_t)batch * l->cin * l->size * l->size;
  size_t out_count = (size_t)batch * l->cout * oh * ow;
  float *weight = random_floats(w_count, 0.1f), *scale = random_floats(l->cout, 1.0f);
  float *input = random_floats(in_count, 2.0f);
  clrn_conv2d *conv = NULL;
  if ((status = clrn_conv2d_create(context, &desc, weight, NULL, scale, NULL, &conv)))
    fail("create", status);
  *ran = clrn_conv2d_variant_name(conv);
  clrn_tensor in = {NULL, batch, l->cin, l->size, l->size};
  clrn_tensor out = {NULL, batch, l->cout, oh, ow};
  if ((status = clrn_buffer_create(context, CL_MEM_READ_ONLY, in_count * 4, input, &in.buffer)) ||
      (status = clrn_buffer_create(context, CL_MEM_READ_WRITE, out_count * 4, NULL, &out.buffer)))
    fail("buffers", status);
  cl_command_queue queue = clrn_context_queue(context, 0);
  double best = 1e30, best_cpu = 1e30;
  for (int r = 0; r <= reps; r++) {
    double cpu_start = cpu_seconds();
    cl_event done = NULL;
    if ((status = clrn_conv2d_enqueue(conv, queue, &in, NULL, &out, 0, NULL, &done)))
      fail("enqueue", status);
    cl_ulong start = 0, end = 0;
    if (clWaitForEvents(1, &done) != CL_SUCCESS ||
        clGetEventProfilingInfo(done, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL) ||
        clGetEventProfilingInfo(done, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL)) {
      fprintf(stderr, "bench_conv2d: profiling failed\n");
      exit(1);
    }
    clReleaseEvent(done);
    double seconds = (double)(end - start) * 1e-9;
    double cpu_used = cpu_seconds() - cpu_start;
    if (r > 0 && seconds < best) /* launch 0 warms up */
      best = seconds;
    if (r > 0 && cpu_used < best_cpu)
      best_cpu = cpu_used;
  }
  if (cpu)
    best = best_cpu / clrn_context_device(context)->compute_units;
  clReleaseMemObject(in.buffer);
  clReleaseMemObject(out.buffer);
  clrn_conv2d_release(conv);
  free(weight);
  free(scale);
  free(input);
  return best;
}

int main(int argc, char **argv) {
  static const char *const variant_names[] = {"auto",  "direct",   "blocked", "gemm",
                                              "igemm", "winograd", "grouped", NULL};
  int batches[MAX_LIST] = {1, 8}, batch_count = 2;
  int variants[MAX_LIST] = {CLRN_CONV2D_VARIANT_DIRECT, CLRN_CONV2D_VARIANT_BLOCKED};
  int variant_count = 2, reps = 3, only = -1;
  bool cpu = false;
  for (int i = 1; i < argc; i++) {
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(argv[i], "--cpu") == 0) {
      cpu = true;
      continue;
    } else if (strcmp(argv[i], "--list") == 0) {
      for (int l = 0; l < LAYER_COUNT; l++)
        printf("%2d %s\n", l, layers[l].name);
      return 0;
    } else if (value && strcmp(argv[i], "--batch") == 0)
      batch_count = parse_list(value, batches, NULL);
    else if (value && strcmp(argv[i], "--variant") == 0)
      variant_count = parse_list(value, variants, variant_names);
    else if (value && strcmp(argv[i], "--reps") == 0)
      reps = atoi(value);
    else if (value && strcmp(argv[i], "--layer") == 0)
      only = atoi(value);
    else {
      fprintf(stderr, "usage: bench_conv2d [--batch 1,8] [--variant "
                      "direct,blocked,gemm,igemm,winograd,grouped,auto] "
                      "[--reps 3] [--layer N] [--list] [--cpu]\n");
      return 2;
    }
    i++;
  }
  if (reps < 1 || batch_count < 1 || variant_count < 1)
    return 2;
  clrn_context *context = clrn_test_context(true);
  const clrn_device_info *device = clrn_context_device(context);
  printf("device %s (profile %s), %s of %d launches\n", device->name,
         clrn_context_profile_name(context),
         cpu ? "least CPU time per compute unit" : "best wall time", reps);
  for (int b = 0; b < batch_count; b++) {
    double total_seconds[MAX_LIST] = {0}, total_flop = 0;
    printf("\nbatch %d\n%-22s %5s %9s", batches[b], "layer", "count", "MFLOP");
    for (int v = 0; v < variant_count; v++)
      printf(" %10s ms %7s", variant_names[variants[v]], "GFLOP/s");
    printf("\n");
    for (int l = 0; l < LAYER_COUNT; l++) {
      if (only >= 0 && l != only)
        continue;
      const layer *ly = &layers[l];
      int o = (ly->size + 2 * (ly->k / 2) - ly->k) / ly->stride + 1;
      double flop = 2.0 * batches[b] * ly->cout * o * o * ly->cin * ly->k * ly->k;
      total_flop += flop * ly->count;
      printf("%-22s %5d %9.1f", ly->name, ly->count, flop * 1e-6);
      for (int v = 0; v < variant_count; v++) {
        const char *ran = "";
        if (variants[v] == CLRN_CONV2D_VARIANT_GEMM && (ly->k != 1 || ly->stride != 1)) {
          printf(" %7s %6s %7s", "", "-", "-"); /* gemm runs only 1x1 stride 1 */
          continue;
        }
        double seconds = time_layer(context, ly, batches[b], variants[v], reps, cpu, &ran);
        total_seconds[v] += seconds * ly->count;
        printf(" %7s %6.2f %7.1f", variants[v] == CLRN_CONV2D_VARIANT_AUTO ? ran : "",
               seconds * 1e3, flop / seconds * 1e-9);
      }
      printf("\n");
      fflush(stdout);
    }
    printf("%-22s %5s %9.1f", "all convolutions", "", total_flop * 1e-6);
    for (int v = 0; v < variant_count; v++)
      printf(" %7s %6.1f %7.1f", "", total_seconds[v] * 1e3, total_flop / total_seconds[v] * 1e-9);
    printf("\n");
  }
  clrn_context_release(context);
  return 0;
}
