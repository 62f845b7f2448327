/* Fully connected layer against the plain-C reference (double dot products), through
 * each routine the op can use, forced through CLRN_TUNE: the default (the profile's
 * choice), CLBlast's SGEMM for every batch, its SGEMV for batches up to 8, and
 * clresnet's own kernel (LINEAR_OWN).
 *
 * Tolerance: each output is a dot product of in_features terms plus the bias, in
 * float, in whatever order and blocking CLBlast chooses (with or without FMA):
 * |error| <= gamma(in_features + 1) * (sum_i |x_i w_i| + |b|), the classic bound
 * for a sum of in+1 rounded terms, evaluated per output from |x| |W|^T + |b|. */
#include <clblast_c.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops_test.h"
#include "ref_ops.h"

enum { VARIANT_DEFAULT, VARIANT_GEMM, VARIANT_GEMV, VARIANT_OWN, VARIANT_COUNT };
static const char *const variant_tune[VARIANT_COUNT] = {
    NULL, "LINEAR_OWN=0,LINEAR_GEMV_MAX_BATCH=0", "LINEAR_OWN=0,LINEAR_GEMV_MAX_BATCH=8",
    "LINEAR_OWN=1"};
static const char *const variant_name[VARIANT_COUNT] = {"linear", "linear sgemm", "linear sgemv",
                                                        "linear own"};
static clrn_context *contexts[VARIANT_COUNT];

static int setup(void) {
  ops_contexts_open(contexts, variant_tune, VARIANT_COUNT);
  return 0;
}

/* CLBlast keeps the programs it built (and through them their OpenCL contexts) until
 * its static cache is destroyed at exit. Under Oclgrind 21.10 those exit-time
 * clReleaseProgram calls write into the runtime's thread-local call stack, already
 * freed by then, and corrupt the heap (seen with three contexts: "corrupted
 * double-linked list"). Dropping the cache here releases them while it is alive. */
static int teardown(void) {
  CLBlastClearCache();
  ops_contexts_release(contexts, VARIANT_COUNT);
  return 0;
}

static double seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Runs y = x W^T + b for x of shape n x c x h x w (c*h*w = in features). */
static void run(int variant, int n, int c, int h, int w, int out_features, bool with_bias) {
  clrn_context *context = contexts[variant];
  int in_features = c * h * w;
  size_t x_count = (size_t)n * in_features, w_count = (size_t)out_features * in_features,
         y_count = (size_t)n * out_features;
  float *x = ops_malloc(x_count * sizeof *x), *weight = ops_malloc(w_count * sizeof *weight),
        *bias = ops_malloc((size_t)out_features * sizeof *bias),
        *got = ops_malloc(y_count * sizeof *got);
  float *ax = ops_malloc(x_count * sizeof *ax), *aw = ops_malloc(w_count * sizeof *aw),
        *ab = ops_malloc((size_t)out_features * sizeof *ab);
  double *want = ops_malloc(y_count * sizeof *want), *tol = ops_malloc(y_count * sizeof *tol);
  uint32_t seed = (uint32_t)(x_count + w_count);
  ops_fill(x, x_count, seed, -1.0f, 3.0f);
  ops_fill(weight, w_count, seed + 1, -0.1f, 0.1f);
  ops_fill(bias, (size_t)out_features, seed + 2, -1.0f, 1.0f);
  for (size_t i = 0; i < x_count; i++)
    ax[i] = fabsf(x[i]);
  for (size_t i = 0; i < w_count; i++)
    aw[i] = fabsf(weight[i]);
  for (int i = 0; i < out_features; i++)
    ab[i] = fabsf(bias[i]);
  const float *b = with_bias ? bias : NULL;
  ref_linear(x, n, in_features, out_features, weight, b, want);
  ref_linear(ax, n, in_features, out_features, aw, with_bias ? ab : NULL, tol);
  for (size_t i = 0; i < y_count; i++)
    tol[i] *= ops_gamma(in_features + 1);
  clrn_linear *linear = NULL;
  CLRN_ASSERT_OK(clrn_linear_create(context, in_features, out_features, weight, b, &linear));
  cl_mem in = ops_buffer(context, x, x_count), out = ops_buffer(context, NULL, y_count);
  clrn_tensor ti = ops_tensor(in, n, c, h, w), to = ops_tensor(out, n, out_features, 1, 1);
  cl_event event = NULL;
  CLRN_ASSERT_OK(
      clrn_linear_enqueue(linear, clrn_context_queue(context, 0), &ti, &to, 0, NULL, &event));
  ops_read(context, event, out, got, y_count);
  char label[96];
  snprintf(label, sizeof label, "%dx%dx%dx%d -> %d bias=%d", n, c, h, w, out_features, with_bias);
  ops_check_bound(variant_name[variant], label, got, want, tol, y_count);
  clrn_linear_release(linear);
  clReleaseMemObject(in);
  clReleaseMemObject(out);
  free(x);
  free(weight);
  free(bias);
  free(got);
  free(ax);
  free(aw);
  free(ab);
  free(want);
  free(tol);
}

/* CLBlast compiles a routine's kernels on its first call in a process, per device:
 * the time of the first SGEMM and the first SGEMV layer is printed (the classifier's
 * start-up cost), and of a second call for comparison. */
static void test_first_use(void) {
  static const char *const routine[VARIANT_COUNT] = {NULL, "SGEMM", "SGEMV"};
  for (int v = VARIANT_GEMM; v <= VARIANT_GEMV; v++) {
    double start = seconds();
    run(v, 1, 5, 1, 1, 3, true);
    double first = seconds() - start;
    start = seconds();
    run(v, 1, 5, 1, 1, 3, true);
    printf("\n  first %s layer (CLBlast builds its kernels) %.2f s, the next %.3f s", routine[v],
           first, seconds() - start);
  }
}

/* ResNet's classifiers, odd sizes, batch 1 and 3, a flattened 4-D input. */
static void test_shapes(void) {
  bool small = ops_small();
  for (int v = 0; v < VARIANT_COUNT; v++)
    for (int bias = 1; bias >= 0; bias--) {
      run(v, 1, 5, 1, 1, 3, bias);
      run(v, 3, 5, 1, 1, 3, bias);
      run(v, 3, 17, 1, 1, 11, bias);
      run(v, 3, 2, 2, 2, 7, bias);
      run(v, 5, 19, 1, 1, 6, bias); /* own kernel: a partial group of 4 rows, a tail of 3 */
      if (!small) {
        run(v, 9, 2048, 1, 1, 1000, bias);
        run(v, 1, 512, 1, 1, 1000, bias);
        run(v, 3, 512, 1, 1, 1000, bias);
        run(v, 1, 2048, 1, 1, 1000, bias);
        run(v, 3, 2048, 1, 1, 1000, bias);
        run(v, 7, 300, 1, 1, 129, bias);
      }
    }
}

/* Each context runs the routine it was made for. */
static void test_variants_applied(void) {
  static const char gemm[] = "CLBlastSgemm", gemv[] = "CLBlastSgemv", own[] = "linear_rows_f32";
  bool own_default = clrn_context_tuning(contexts[VARIANT_DEFAULT], "LINEAR_OWN", 0) != 0;
  const char *want[VARIANT_COUNT][2] = {
      {own_default ? own : gemv, own_default ? own : gemm}, {gemm, gemm}, {gemv, gemv}, {own, own}};
  for (int v = 0; v < VARIANT_COUNT; v++)
    for (int batch3 = 0; batch3 < 2; batch3++) {
      ops_log_start();
      run(v, batch3 ? 3 : 1, 6, 1, 1, 4, true);
      CU_ASSERT(ops_log_stop(want[v][batch3]));
    }
}

typedef struct wait_case {
  clrn_linear *linear;
  clrn_tensor in, out;
} wait_case;

static clrn_status enqueue_case(void *user, cl_command_queue queue, cl_uint num_wait,
                                const cl_event *wait, cl_event *event) {
  wait_case *w = user;
  return clrn_linear_enqueue(w->linear, queue, &w->in, &w->out, num_wait, wait, event);
}

/* CLBlast takes no wait list: the layer must still start only after its events. */
static void test_wait_list(void) {
  float x[2 * 6], weight[4 * 6], bias[4] = {1, 2, 3, 4};
  ops_fill(x, 12, 1, -1.0f, 1.0f);
  ops_fill(weight, 24, 2, -1.0f, 1.0f);
  for (int v = 0; v < VARIANT_COUNT; v++)
    for (int batch = 1; batch <= 2; batch++) {
      clrn_context *context = contexts[v];
      wait_case w = {0};
      CLRN_ASSERT_OK(
          clrn_linear_create(context, 6, 4, weight, batch == 1 ? bias : NULL, &w.linear));
      cl_mem in = ops_buffer(context, x, 12), out = ops_buffer(context, NULL, 8);
      w.in = ops_tensor(in, batch, 6, 1, 1);
      w.out = ops_tensor(out, batch, 4, 1, 1);
      ops_check_wait_list(context, enqueue_case, &w);
      clrn_linear_release(w.linear);
      clReleaseMemObject(in);
      clReleaseMemObject(out);
    }
}

static void test_invalid(void) {
  clrn_context *context = contexts[VARIANT_DEFAULT];
  float weight[12] = {0};
  clrn_linear *linear = NULL;
  OPS_ASSERT_INVALID(clrn_linear_create(context, 0, 3, weight, NULL, &linear), "0 -> 3");
  OPS_ASSERT_INVALID(clrn_linear_create(context, 4, 3, NULL, NULL, &linear), "NULL");
  CU_ASSERT_PTR_NULL(linear);
  CLRN_ASSERT_OK(clrn_linear_create(context, 4, 3, weight, NULL, &linear));
  cl_command_queue queue = clrn_context_queue(context, 0);
  cl_mem a = ops_buffer(context, NULL, 24), b = ops_buffer(context, NULL, 24);
  clrn_tensor in = ops_tensor(a, 2, 4, 1, 1), in5 = ops_tensor(a, 2, 5, 1, 1);
  clrn_tensor out = ops_tensor(b, 2, 3, 1, 1), out_hw = ops_tensor(b, 2, 3, 2, 1);
  clrn_tensor out_n = ops_tensor(b, 3, 3, 1, 1), same = ops_tensor(a, 2, 3, 1, 1);
  OPS_ASSERT_INVALID(clrn_linear_enqueue(linear, queue, &in5, &out, 0, NULL, NULL),
                     "5 features per sample, the layer takes 4");
  OPS_ASSERT_INVALID(clrn_linear_enqueue(linear, queue, &in, &out_hw, 0, NULL, NULL),
                     "must be 2x3x1x1");
  OPS_ASSERT_INVALID(clrn_linear_enqueue(linear, queue, &in, &out_n, 0, NULL, NULL),
                     "must be 2x3x1x1");
  OPS_ASSERT_INVALID(clrn_linear_enqueue(linear, queue, &in, &same, 0, NULL, NULL), "may not use");
  OPS_ASSERT_INVALID(clrn_linear_enqueue(NULL, queue, &in, &out, 0, NULL, NULL), "NULL linear");
  clrn_linear_release(linear);
  clrn_linear_release(NULL);
  clReleaseMemObject(a);
  clReleaseMemObject(b);
}

int main(void) {
  clrn_test_add_suite("linear", setup, teardown, "first use", test_first_use,
                      "each context runs its routine", test_variants_applied,
                      "shapes against the reference", test_shapes, "wait list and event",
                      test_wait_list, "invalid arguments", test_invalid, NULL);
  int result = clrn_test_run();
  ops_print_tally();
  return result;
}
