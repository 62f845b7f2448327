/* AdaptiveAvgPool2d against the plain-C reference: any output size, and the 1x1
 * fast path (ResNet's head) in both of its variants, forced through CLRN_TUNE: one
 * work-item per plane, and one work-group per plane reducing in local memory (with
 * a small group, so each work-item sums many pixels before the tree, and with a wide
 * one; groups are capped at the plane's size).
 *
 * Tolerance: an output averages at most k = kh*kw inputs, where a window spans at
 * most ceil(H/oh)+1 rows and ceil(W/ow)+1 columns (k = H*W for 1x1). The float sum
 * is off by at most gamma(k-1) * sum|x| in any order (serial loop or tree), so the
 * average by gamma(k-1) * mag with mag the average of |x|, and the division adds at
 * most 2.5 ulp <= 5u: tol = gamma(k-1) * mag + gamma(5) * |y|. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops_test.h"
#include "ref_ops.h"

enum { VARIANT_DEFAULT, VARIANT_SERIAL, VARIANT_GROUP_SMALL, VARIANT_GROUP_WIDE, VARIANT_COUNT };
static const char *const variant_tune[VARIANT_COUNT] = {NULL, "GAP_GROUP_MIN_HW=1073741824",
                                                        "GAP_GROUP_MIN_HW=1,GAP_WG=16",
                                                        "GAP_GROUP_MIN_HW=1,GAP_WG=256"};
static const char *const variant_name[VARIANT_COUNT] = {
    "adaptive_avgpool2d", "adaptive_avgpool2d serial", "adaptive_avgpool2d group 16",
    "adaptive_avgpool2d group 256"};
static clrn_context *contexts[VARIANT_COUNT];

static int setup(void) {
  ops_contexts_open(contexts, variant_tune, VARIANT_COUNT);
  return 0;
}

static int teardown(void) {
  ops_contexts_release(contexts, VARIANT_COUNT);
  return 0;
}

static void run(int variant, int n, int c, int h, int w, int oh, int ow) {
  clrn_context *context = contexts[variant];
  size_t in_count = (size_t)n * c * h * w, out_count = (size_t)n * c * oh * ow;
  float *x = ops_malloc(in_count * sizeof *x), *ax = ops_malloc(in_count * sizeof *ax),
        *got = ops_malloc(out_count * sizeof *got);
  double *want = ops_malloc(out_count * sizeof *want), *tol = ops_malloc(out_count * sizeof *tol);
  ops_fill(x, in_count, (uint32_t)(in_count * 5 + (size_t)oh * 3 + (size_t)ow), -4.0f, 6.0f);
  for (size_t i = 0; i < in_count; i++)
    ax[i] = fabsf(x[i]);
  ref_adaptive_avgpool2d(x, n, c, h, w, oh, ow, want);
  ref_adaptive_avgpool2d(ax, n, c, h, w, oh, ow, tol);
  int kh = (h + oh - 1) / oh + 1, kw = (w + ow - 1) / ow + 1;
  int terms = oh == 1 && ow == 1 ? h * w : (kh < h ? kh : h) * (kw < w ? kw : w);
  for (size_t i = 0; i < out_count; i++)
    tol[i] = ops_gamma(terms - 1) * tol[i] + ops_gamma(5) * fabs(want[i]);
  cl_mem in = ops_buffer(context, x, in_count), out = ops_buffer(context, NULL, out_count);
  clrn_tensor ti = ops_tensor(in, n, c, h, w), to = ops_tensor(out, n, c, oh, ow);
  cl_event event = NULL;
  CLRN_ASSERT_OK(clrn_adaptive_avgpool2d_enqueue(context, clrn_context_queue(context, 0), &ti, &to,
                                                 0, NULL, &event));
  ops_read(context, event, out, got, out_count);
  char label[96];
  snprintf(label, sizeof label, "%dx%dx%dx%d to %dx%d", n, c, h, w, oh, ow);
  ops_check_bound(variant_name[variant], label, got, want, tol, out_count);
  clReleaseMemObject(in);
  clReleaseMemObject(out);
  free(x);
  free(ax);
  free(got);
  free(want);
  free(tol);
}

/* From 7x7, 1x1, 13x17 and a large plane to 1x1 and 2x3; ResNet's heads; outputs
 * larger than the input; batch 1 and 3, C = 3 and 5. */
static void test_shapes(void) {
  bool small = ops_small();
  static const int inputs[][2] = {{7, 7}, {1, 1}, {13, 17}, {64, 64}, {3, 4}};
  static const int outputs[][2] = {{1, 1}, {2, 3}, {5, 6}};
  for (int v = 0; v < VARIANT_COUNT; v++) {
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
      for (size_t o = 0; o < sizeof outputs / sizeof outputs[0]; o++) {
        int h = inputs[i][0], w = inputs[i][1];
        if (small && h == 64)
          h = w = 24;
        run(v, 3, 5, h, w, outputs[o][0], outputs[o][1]);
        run(v, 1, 3, h, w, outputs[o][0], outputs[o][1]);
      }
    run(v, 1, small ? 16 : 512, 7, 7, 1, 1);                /* ResNet-18/34 */
    run(v, 3, small ? 16 : 2048, 7, 7, 1, 1);               /* ResNet-50/101/152 */
    run(v, 1, 2, small ? 33 : 257, small ? 31 : 255, 1, 1); /* a plane over GAP_WG pixels */
  }
}

/* Each context runs the variant its tuning asks for, on a 1x1 output from a 7x7 plane
 * and from a 64x64 one: the forced contexts always the same one, the default one
 * whichever its profile's GAP_GROUP_MIN_HW picks. */
static void test_variants_applied(void) {
  static const char serial[] = "global_avgpool_f32", group[] = "global_avgpool_group_f32";
  for (int v = 0; v < VARIANT_COUNT; v++)
    for (int big = 0; big < 2; big++) {
      int side = big ? 64 : 7;
      long threshold = clrn_context_tuning(contexts[v], "GAP_GROUP_MIN_HW", 256);
      bool grouped = side * side >= threshold;
      if (v == VARIANT_SERIAL)
        CU_ASSERT(!grouped);
      if (v == VARIANT_GROUP_SMALL || v == VARIANT_GROUP_WIDE)
        CU_ASSERT(grouped);
      ops_log_start();
      run(v, 1, 2, side, side, 1, 1);
      CU_ASSERT(ops_log_stop(grouped ? group : serial));
      ops_log_start();
      run(v, 1, 2, side, side, 1, 1);
      CU_ASSERT(!ops_log_stop(grouped ? serial : group));
    }
  ops_log_start();
  run(VARIANT_DEFAULT, 1, 2, 7, 7, 2, 3);
  CU_ASSERT(ops_log_stop("adaptive_avgpool2d_f32"));
}

typedef struct wait_case {
  clrn_context *context;
  clrn_tensor in, out;
} wait_case;

static clrn_status enqueue_case(void *user, cl_command_queue queue, cl_uint num_wait,
                                const cl_event *wait, cl_event *event) {
  wait_case *w = user;
  return clrn_adaptive_avgpool2d_enqueue(w->context, queue, &w->in, &w->out, num_wait, wait, event);
}

static void test_wait_list(void) {
  float x[2 * 5 * 5];
  ops_fill(x, 50, 4, -1.0f, 1.0f);
  for (int v = 0; v < VARIANT_COUNT; v++) {
    clrn_context *context = contexts[v];
    cl_mem in = ops_buffer(context, x, 50), out = ops_buffer(context, NULL, 12);
    wait_case w = {context, ops_tensor(in, 1, 2, 5, 5), ops_tensor(out, 1, 2, 1, 1)};
    ops_check_wait_list(context, enqueue_case, &w);
    w.out = ops_tensor(out, 1, 2, 2, 3);
    ops_check_wait_list(context, enqueue_case, &w);
    clReleaseMemObject(in);
    clReleaseMemObject(out);
  }
}

static void test_invalid(void) {
  clrn_context *context = contexts[VARIANT_DEFAULT];
  cl_command_queue queue = clrn_context_queue(context, 0);
  cl_mem in = ops_buffer(context, NULL, 50), out = ops_buffer(context, NULL, 50);
  clrn_tensor ti = ops_tensor(in, 1, 2, 5, 5), wrong_n = ops_tensor(out, 2, 2, 1, 1);
  clrn_tensor same = ops_tensor(in, 1, 2, 1, 1), zero = ops_tensor(out, 1, 2, 0, 1);
  OPS_ASSERT_INVALID(clrn_adaptive_avgpool2d_enqueue(context, queue, &ti, &wrong_n, 0, NULL, NULL),
                     "keep the input's");
  OPS_ASSERT_INVALID(clrn_adaptive_avgpool2d_enqueue(context, queue, &ti, &same, 0, NULL, NULL),
                     "may not use");
  OPS_ASSERT_INVALID(clrn_adaptive_avgpool2d_enqueue(context, queue, &ti, &zero, 0, NULL, NULL),
                     "below 1");
  clReleaseMemObject(in);
  clReleaseMemObject(out);
}

int main(void) {
  clrn_test_add_suite("adaptive pooling", setup, teardown, "each context runs its variant",
                      test_variants_applied, "shapes against the reference", test_shapes,
                      "wait list and event", test_wait_list, "invalid arguments", test_invalid,
                      NULL);
  int result = clrn_test_run();
  ops_print_tally();
  return result;
}
