/* Softmax over channels against the plain-C reference (double exp and sum), for
 * both kernels: one work-item per position and one work-group per position
 * (forced through CLRN_TUNE, the latter with a small group so each work-item sums
 * many channels, and with a wide one; groups are capped at the class count).
 *
 * Tolerance, per element, with u = 2^-24 and d = x - max over the position's C
 * channels (the max is exact): fl(x - max) is off by u|d|, which moves exp() by a
 * relative u|d|; OpenCL's exp adds 3 ulp <= 6u. The sum S >= 1 (it holds exp(0)),
 * so the terms' errors add at most u(sum e_j |d_j| + 6S) <= uS(C/e + 6), since
 * e^d |d| <= 1/e; summing C terms adds gamma(C-1) <= C u; 1/S costs 2.5 ulp <= 5u
 * and the product u. In all y * u (|d| + C (1 + 1/e) + 17) to first order; the
 * tolerance is y * u * (|d| + 1.5 C + 20), plus FLT_MIN absolute for results in the
 * subnormal range, which OpenCL devices may flush to zero. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops_test.h"
#include "ref_ops.h"

enum { VARIANT_DEFAULT, VARIANT_POSITION, VARIANT_GROUP_SMALL, VARIANT_GROUP_WIDE, VARIANT_COUNT };
static const char *const variant_tune[VARIANT_COUNT] = {NULL, "SOFTMAX_GROUP_MIN_C=1073741824",
                                                        "SOFTMAX_GROUP_MIN_C=1,SOFTMAX_WG=8",
                                                        "SOFTMAX_GROUP_MIN_C=1,SOFTMAX_WG=256"};
static const char *const variant_name[VARIANT_COUNT] = {"softmax", "softmax per position",
                                                        "softmax group 8", "softmax group 256"};
static clrn_context *contexts[VARIANT_COUNT];

static int setup(void) {
  ops_contexts_open(contexts, variant_tune, VARIANT_COUNT);
  return 0;
}

static int teardown(void) {
  ops_contexts_release(contexts, VARIANT_COUNT);
  return 0;
}

/* Runs softmax of x (n x c x h x w; random in [-range, range] when x is NULL). */
static void run(int variant, int n, int c, int h, int w, float range, const float *x_in,
                bool in_place) {
  clrn_context *context = contexts[variant];
  int hw = h * w;
  size_t count = (size_t)n * c * hw;
  float *x = ops_malloc(count * sizeof *x), *got = ops_malloc(count * sizeof *got);
  double *want = ops_malloc(count * sizeof *want), *tol = ops_malloc(count * sizeof *tol);
  if (x_in)
    memcpy(x, x_in, count * sizeof *x);
  else
    ops_fill(x, count, (uint32_t)(count * 7 + (size_t)c), -range, range);
  ref_softmax(x, n, c, hw, want);
  for (int b = 0; b < n; b++)
    for (int p = 0; p < hw; p++) {
      size_t base = (size_t)b * c * hw + p;
      float m = -INFINITY;
      for (int ch = 0; ch < c; ch++)
        m = fmaxf(m, x[base + (size_t)ch * hw]);
      for (int ch = 0; ch < c; ch++) {
        size_t i = base + (size_t)ch * hw;
        /* y |d| -> 0 as d -> -inf: an exact 0 (x = -inf) has no relative term */
        double d = fabs((double)x[i] - m);
        tol[i] = (want[i] == 0.0 ? 0.0 : fabs(want[i]) * OPS_U * (d + 1.5 * c + 20.0)) + FLT_MIN;
      }
    }
  cl_mem in = ops_buffer(context, x, count), out = in_place ? in : ops_buffer(context, NULL, count);
  clrn_tensor ti = ops_tensor(in, n, c, h, w), to = ops_tensor(out, n, c, h, w);
  cl_event event = NULL;
  CLRN_ASSERT_OK(
      clrn_softmax_enqueue(context, clrn_context_queue(context, 0), &ti, &to, 0, NULL, &event));
  ops_read(context, event, out, got, count);
  char label[96];
  snprintf(label, sizeof label, "%dx%dx%dx%d range %g%s", n, c, h, w, (double)range,
           in_place ? " in place" : "");
  ops_check_bound(variant_name[variant], label, got, want, tol, count);
  clReleaseMemObject(in);
  if (!in_place)
    clReleaseMemObject(out);
  free(x);
  free(got);
  free(want);
  free(tol);
}

/* The classifier's 1000 classes with logits up to +-80, batch 1 and 3; spatial
 * softmax; C = 1, 3, 5; in place. */
static void test_shapes(void) {
  bool small = ops_small();
  for (int v = 0; v < VARIANT_COUNT; v++) {
    run(v, 1, 1000, 1, 1, 80.0f, NULL, false);
    run(v, 3, 1000, 1, 1, 80.0f, NULL, false);
    run(v, 3, 1000, 1, 1, 5.0f, NULL, true);
    run(v, 1, small ? 100 : 1000, 2, 3, 80.0f, NULL, false);
    run(v, 3, 3, 1, 1, 10.0f, NULL, false);
    run(v, 3, 5, 1, 1, 10.0f, NULL, true);
    run(v, 1, 5, 7, 7, 30.0f, NULL, false);
    run(v, 3, 3, 13, 17, 30.0f, NULL, true);
    run(v, 2, 1, 3, 3, 30.0f, NULL, false);
    run(v, 1, 1, 1, 1, 30.0f, NULL, false);
    run(v, 2, 21, small ? 8 : 64, small ? 8 : 64, 20.0f, NULL, false); /* segmentation-like */
  }
}

/* Equal logits give 1/C exactly up to rounding; -inf gives 0; NaN poisons its
 * position (as in PyTorch); huge logits do not overflow. */
static void test_special_values(void) {
  enum { C = 37 };
  float x[4 * C];
  for (int i = 0; i < C; i++) {
    x[i] = 3.25f;                                              /* row 0: all equal */
    x[C + i] = i == 5 ? NAN : (float)i;                        /* row 1: a NaN */
    x[2 * C + i] = i % 3 ? -INFINITY : 1e30f * (float)(i % 7); /* row 2: -inf and huge */
    x[3 * C + i] = i == 9 ? 88.0f : -88.0f; /* row 3: one winner, subnormal losers */
  }
  for (int v = 0; v < VARIANT_COUNT; v++)
    run(v, 4, C, 1, 1, 0.0f, x, false);
}

/* Each context runs the kernel its tuning asks for on a classifier row of 1000 and of
 * 5 classes: the forced contexts always the same one, the default one whichever its
 * profile's SOFTMAX_GROUP_MIN_C picks. Spatial positions always get a work-item. */
static void test_variants_applied(void) {
  static const char position[] = "softmax_f32", group[] = "softmax_group_f32";
  for (int v = 0; v < VARIANT_COUNT; v++)
    for (int rows = 0; rows < 2; rows++) {
      int classes = rows == 0 ? 1000 : 5;
      bool grouped = classes >= clrn_context_tuning(contexts[v], "SOFTMAX_GROUP_MIN_C", 64);
      if (v == VARIANT_POSITION)
        CU_ASSERT(!grouped);
      if (v == VARIANT_GROUP_SMALL || v == VARIANT_GROUP_WIDE)
        CU_ASSERT(grouped);
      ops_log_start();
      run(v, 2, classes, 1, 1, 5.0f, NULL, false);
      CU_ASSERT(ops_log_stop(grouped ? group : position));
    }
  ops_log_start();
  run(VARIANT_GROUP_SMALL, 1, 1000, 2, 3, 5.0f, NULL, false); /* spatial: per position */
  CU_ASSERT(ops_log_stop(position));
}

typedef struct wait_case {
  clrn_context *context;
  clrn_tensor in, out;
} wait_case;

static clrn_status enqueue_case(void *user, cl_command_queue queue, cl_uint num_wait,
                                const cl_event *wait, cl_event *event) {
  wait_case *w = user;
  return clrn_softmax_enqueue(w->context, queue, &w->in, &w->out, num_wait, wait, event);
}

static void test_wait_list(void) {
  float x[2 * 100];
  ops_fill(x, 200, 6, -5.0f, 5.0f);
  for (int v = 0; v < VARIANT_COUNT; v++) {
    clrn_context *context = contexts[v];
    cl_mem in = ops_buffer(context, x, 200), out = ops_buffer(context, NULL, 200);
    wait_case w = {context, ops_tensor(in, 2, 100, 1, 1), ops_tensor(out, 2, 100, 1, 1)};
    ops_check_wait_list(context, enqueue_case, &w);
    clReleaseMemObject(in);
    clReleaseMemObject(out);
  }
}

static void test_invalid(void) {
  clrn_context *context = contexts[VARIANT_DEFAULT];
  cl_command_queue queue = clrn_context_queue(context, 0);
  cl_mem a = ops_buffer(context, NULL, 60);
  clrn_tensor ta = ops_tensor(a, 1, 3, 4, 5), tb = ops_tensor(a, 1, 5, 4, 3);
  OPS_ASSERT_INVALID(clrn_softmax_enqueue(context, queue, &ta, &tb, 0, NULL, NULL), "differs");
  OPS_ASSERT_INVALID(clrn_softmax_enqueue(context, queue, &ta, NULL, 0, NULL, NULL), "NULL output");
  clReleaseMemObject(a);
}

int main(void) {
  clrn_test_add_suite("softmax", setup, teardown, "each context runs its variant",
                      test_variants_applied, "shapes against the reference", test_shapes,
                      "special values", test_special_values, "wait list and event", test_wait_list,
                      "invalid arguments", test_invalid, NULL);
  int result = clrn_test_run();
  ops_print_tally();
  return result;
}
