/* Times every non-convolution op at ResNet-50 shapes on the test device: device time
 * from OpenCL profiling events (median and minimum of the repetitions; the minimum
 * resists other processes on a shared machine, and gives the bandwidth) and the mean
 * host time of one enqueue call (argument checks, kernel creation, launch). Not a
 * test: run it by hand, e.g. `build/tests/bench_ops [batch] [repetitions]`; CLRN_TUNE
 * applies. It runs as a CUnit suite so that the shared helpers' assertions work. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops_test.h"

static clrn_context *context;
static cl_command_queue queue;
static int reps = 20, batch = 1;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* An op call to time: enqueue once with an event out-parameter. */
typedef clrn_status (*op_fn)(void *user, cl_event *event);

static void bench(const char *name, op_fn fn, void *user, double bytes) {
  double device[64], host = 0.0;
  int n = reps < 64 ? reps : 64;
  for (int i = -2; i < n; i++) { /* two warm-up runs build programs and caches */
    cl_event event = NULL;
    double start = now();
    CLRN_ASSERT_OK(fn(user, &event));
    double spent = now() - start;
    clWaitForEvents(1, &event);
    cl_ulong t0 = 0, t1 = 0;
    clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL);
    clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL);
    clReleaseEvent(event);
    if (i >= 0) {
      device[i] = (double)(t1 - t0) * 1e-9;
      host += spent;
    }
  }
  qsort(device, (size_t)n, sizeof device[0], compare);
  double median = device[n / 2], best = device[0];
  printf("%-40s device median %8.1f us, min %8.1f us (%5.2f GB/s), enqueue call %6.1f us\n", name,
         median * 1e6, best * 1e6, bytes / best * 1e-9, host / n * 1e6);
}

typedef struct tensors {
  clrn_tensor in, out, b;
  clrn_pool2d_desc pool;
  clrn_batchnorm *bn;
  clrn_linear *linear;
} tensors;

static clrn_status do_relu(void *u, cl_event *e) {
  tensors *t = u;
  return clrn_relu_enqueue(context, queue, &t->in, &t->out, 0, NULL, e);
}
static clrn_status do_add(void *u, cl_event *e) {
  tensors *t = u;
  return clrn_add_enqueue(context, queue, &t->in, &t->b, &t->out, true, 0, NULL, e);
}
static clrn_status do_bn(void *u, cl_event *e) {
  tensors *t = u;
  return clrn_batchnorm_enqueue(t->bn, queue, &t->in, &t->out, 0, NULL, e);
}
static clrn_status do_maxpool(void *u, cl_event *e) {
  tensors *t = u;
  return clrn_maxpool2d_enqueue(context, queue, &t->pool, &t->in, &t->out, 0, NULL, e);
}
static clrn_status do_gap(void *u, cl_event *e) {
  tensors *t = u;
  return clrn_adaptive_avgpool2d_enqueue(context, queue, &t->in, &t->out, 0, NULL, e);
}
static clrn_status do_linear(void *u, cl_event *e) {
  tensors *t = u;
  return clrn_linear_enqueue(t->linear, queue, &t->in, &t->out, 0, NULL, e);
}
static clrn_status do_softmax(void *u, cl_event *e) {
  tensors *t = u;
  return clrn_softmax_enqueue(context, queue, &t->in, &t->out, 0, NULL, e);
}

static cl_mem filled(size_t count) {
  float *x = ops_malloc(count * sizeof *x);
  ops_fill(x, count, (uint32_t)count, -1.0f, 1.0f);
  cl_mem m = ops_buffer(context, x, count);
  free(x);
  return m;
}

static size_t elements(const clrn_tensor *t) { return (size_t)t->n * t->c * t->h * t->w; }

/* Runs fn on an input of shape n x c x h x w and an output of shape o; the op reads
 * inputs input-sized tensors and extra bytes more (weights). */
static void run(const char *name, op_fn fn, tensors *t, int n, int c, int h, int w, int oc, int oh,
                int ow, double inputs, double extra) {
  t->in = ops_tensor(NULL, n, c, h, w);
  t->out = ops_tensor(NULL, n, oc, oh, ow);
  t->in.buffer = filled(elements(&t->in));
  t->b = ops_tensor(filled(elements(&t->in)), n, c, h, w);
  t->out.buffer = filled(elements(&t->out));
  char label[128];
  snprintf(label, sizeof label, "%s %dx%dx%dx%d", name, n, c, h, w);
  bench(label, fn, t,
        4.0 * ((double)elements(&t->in) * inputs + (double)elements(&t->out)) + extra);
  clReleaseMemObject(t->in.buffer);
  clReleaseMemObject(t->b.buffer);
  clReleaseMemObject(t->out.buffer);
}

static void bench_all(void) {
  int n = batch;
  context = clrn_test_context(true);
  queue = clrn_context_queue(context, 0);
  printf("device %s, profile %s, batch %d, median of %d\n", clrn_context_device(context)->name,
         clrn_context_profile_name(context), n, reps);
  tensors t = {0};
  run("relu", do_relu, &t, n, 64, 112, 112, 64, 112, 112, 1, 0);
  run("add+relu", do_add, &t, n, 256, 56, 56, 256, 56, 56, 2, 0);
  run("add+relu", do_add, &t, n, 2048, 7, 7, 2048, 7, 7, 2, 0);
  static const int bn_shapes[][3] = {{64, 112, 112}, {256, 56, 56}, {2048, 7, 7}};
  for (int i = 0; i < 3; i++) {
    int c = bn_shapes[i][0];
    float *stats = ops_malloc(2 * (size_t)c * sizeof *stats);
    ops_fill(stats, 2 * (size_t)c, 3, 0.5f, 1.5f);
    CLRN_ASSERT_OK(clrn_batchnorm_create(context, c, stats, stats + c, NULL, NULL, 1e-5f, &t.bn));
    run("batchnorm", do_bn, &t, n, c, bn_shapes[i][1], bn_shapes[i][2], c, bn_shapes[i][1],
        bn_shapes[i][2], 1, 0);
    clrn_batchnorm_release(t.bn);
    free(stats);
  }
  clrn_pool2d_desc stem = {3, 3, 2, 2, 1, 1, false, false, 0, 0};
  t.pool = stem;
  run("maxpool 3x3 s2 p1", do_maxpool, &t, n, 64, 112, 112, 64, 56, 56, 1, 0);
  run("adaptive avgpool to 1x1", do_gap, &t, n, 2048, 7, 7, 2048, 1, 1, 1, 0);
  run("adaptive avgpool to 1x1", do_gap, &t, n, 512, 7, 7, 512, 1, 1, 1, 0);
  run("adaptive avgpool to 1x1", do_gap, &t, n, 64, 64, 64, 64, 1, 1, 1, 0);
  run("adaptive avgpool to 2x3", do_gap, &t, n, 256, 14, 14, 256, 2, 3, 1, 0);
  float *weight = ops_malloc((size_t)2048 * 1000 * sizeof *weight);
  ops_fill(weight, (size_t)2048 * 1000, 5, -0.05f, 0.05f);
  CLRN_ASSERT_OK(clrn_linear_create(context, 2048, 1000, weight, weight, &t.linear));
  run("linear 2048->1000", do_linear, &t, n, 2048, 1, 1, 1000, 1, 1, 1, 4.0 * 2048 * 1000);
  clrn_linear_release(t.linear);
  free(weight);
  run("softmax", do_softmax, &t, n, 1000, 1, 1, 1000, 1, 1, 1, 0);
  clrn_context_release(context);
}

int main(int argc, char **argv) {
  batch = argc > 1 ? atoi(argv[1]) : 1;
  reps = argc > 2 ? atoi(argv[2]) : 20;
  clrn_test_add_suite("bench", NULL, NULL, "ops at ResNet-50 shapes", bench_all, NULL);
  return clrn_test_run();
}
