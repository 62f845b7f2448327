/* Inference BatchNorm against the plain-C reference, which evaluates
 * (x - mean) / sqrt(var + eps) * weight + bias in double.
 *
 * Tolerance, per element: the op computes fl(x*s + t) with s = weight/sqrt(var+eps)
 * and t = bias - mean*s each rounded once to float from double. The rounding of s
 * moves x*s by at most u|x s|, that of t by u|t|, and the multiply-add rounds once
 * (fma) or twice (u|x s| more, then u|y|), so |error| <= 2u(|x s| + |t| + |y|):
 * a few ulp of the largest term, with u = 2^-24 (and a margin for second-order terms). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops_test.h"
#include "ref_ops.h"

static clrn_context *context;

static int setup(void) {
  context = ops_context(NULL);
  return 0;
}

static int teardown(void) {
  clrn_context_release(context);
  return 0;
}

/* Runs one case: shape s, with or without the affine weight and bias, in place or not. */
static void run(const int *s, bool affine, bool in_place, float eps) {
  const int n = s[0], c = s[1], hw = s[2] * s[3];
  size_t count = (size_t)n * c * hw;
  float *x = ops_malloc(count * sizeof *x), *got = ops_malloc(count * sizeof *got);
  double *want = ops_malloc(count * sizeof *want), *tol = ops_malloc(count * sizeof *tol);
  float *mean = ops_malloc((size_t)c * sizeof *mean), *var = ops_malloc((size_t)c * sizeof *var),
        *weight = ops_malloc((size_t)c * sizeof *weight),
        *bias = ops_malloc((size_t)c * sizeof *bias);
  uint32_t seed = (uint32_t)(count * 3 + (size_t)c);
  ops_fill(x, count, seed, -3.0f, 3.0f);
  ops_fill(mean, (size_t)c, seed + 1, -1.0f, 1.0f);
  ops_fill(var, (size_t)c, seed + 2, 0.01f, 4.0f);
  ops_fill(weight, (size_t)c, seed + 3, -2.0f, 2.0f);
  ops_fill(bias, (size_t)c, seed + 4, -1.0f, 1.0f);
  if (c > 1)
    var[1] = 0.0f; /* a dead channel: only eps keeps the division finite */
  const float *w = affine ? weight : NULL, *b = affine ? bias : NULL;
  ref_batchnorm(x, n, c, hw, mean, var, w, b, eps, want);
  for (size_t i = 0; i < count; i++) {
    int ch = (int)(i / (size_t)hw % (size_t)c);
    double scale = (w ? w[ch] : 1.0) / sqrt((double)var[ch] + eps);
    double shift = (b ? b[ch] : 0.0) - mean[ch] * scale;
    tol[i] = 2.0 * OPS_U * (fabs(x[i] * scale) + fabs(shift) + fabs(want[i]));
  }
  clrn_batchnorm *bn = NULL;
  CLRN_ASSERT_OK(clrn_batchnorm_create(context, c, mean, var, w, b, eps, &bn));
  cl_mem in = ops_buffer(context, x, count), out = in_place ? in : ops_buffer(context, NULL, count);
  clrn_tensor ti = ops_tensor(in, n, c, s[2], s[3]), to = ops_tensor(out, n, c, s[2], s[3]);
  cl_event event = NULL;
  CLRN_ASSERT_OK(
      clrn_batchnorm_enqueue(bn, clrn_context_queue(context, 0), &ti, &to, 0, NULL, &event));
  ops_read(context, event, out, got, count);
  char label[96];
  snprintf(label, sizeof label, "%dx%dx%dx%d affine=%d in_place=%d eps=%g", n, c, s[2], s[3],
           affine, in_place, (double)eps);
  ops_check_bound("batchnorm", label, got, want, tol, count);
  clrn_batchnorm_release(bn);
  clReleaseMemObject(in);
  if (!in_place)
    clReleaseMemObject(out);
  free(x);
  free(got);
  free(want);
  free(tol);
  free(mean);
  free(var);
  free(weight);
  free(bias);
}

static void test_shapes(void) {
  /* ResNet's stem and stage shapes; 1x1 spatial, odd sizes, batch 1 and 3, C = 3 and 5. */
  static const int shapes[][4] = {{1, 64, 112, 112}, {3, 128, 28, 28}, {1, 512, 7, 7},
                                  {3, 2048, 7, 7},   {1, 3, 1, 1},     {3, 5, 1, 1},
                                  {3, 3, 13, 17},    {1, 5, 9, 9},     {1, 1, 1, 1}};
  static const int small[][4] = {{1, 3, 1, 1}, {3, 5, 1, 1}, {3, 3, 13, 17},
                                 {1, 5, 9, 9}, {1, 1, 1, 1}, {2, 16, 7, 7}};
  const int(*list)[4] = ops_small() ? small : shapes;
  size_t count = ops_small() ? sizeof small / sizeof small[0] : sizeof shapes / sizeof shapes[0];
  for (size_t i = 0; i < count; i++) {
    run(list[i], true, false, 1e-5f);
    run(list[i], false, false, 1e-5f);
    run(list[i], true, true, 1e-3f);
  }
}

typedef struct wait_case {
  clrn_batchnorm *bn;
  clrn_tensor in, out;
} wait_case;

static clrn_status enqueue_case(void *user, cl_command_queue queue, cl_uint num_wait,
                                const cl_event *wait, cl_event *event) {
  wait_case *w = user;
  return clrn_batchnorm_enqueue(w->bn, queue, &w->in, &w->out, num_wait, wait, event);
}

static void test_wait_list(void) {
  float x[30], mean[2] = {0.5f, -1.0f}, var[2] = {1.0f, 2.0f};
  ops_fill(x, 30, 5, -1.0f, 1.0f);
  wait_case w = {0};
  CLRN_ASSERT_OK(clrn_batchnorm_create(context, 2, mean, var, NULL, NULL, 1e-5f, &w.bn));
  cl_mem in = ops_buffer(context, x, 30), out = ops_buffer(context, NULL, 30);
  w.in = ops_tensor(in, 1, 2, 3, 5);
  w.out = ops_tensor(out, 1, 2, 3, 5);
  ops_check_wait_list(context, enqueue_case, &w);
  clrn_batchnorm_release(w.bn);
  clReleaseMemObject(in);
  clReleaseMemObject(out);
}

static void test_invalid(void) {
  float mean[3] = {0, 0, 0}, var[3] = {1, 1, 1}, bad_var[3] = {1, -2, 1};
  clrn_batchnorm *bn = NULL;
  OPS_ASSERT_INVALID(clrn_batchnorm_create(context, 0, mean, var, NULL, NULL, 1e-5f, &bn),
                     "0 channels");
  CU_ASSERT_PTR_NULL(bn);
  OPS_ASSERT_INVALID(clrn_batchnorm_create(context, 3, NULL, var, NULL, NULL, 1e-5f, &bn), "NULL");
  OPS_ASSERT_INVALID(clrn_batchnorm_create(context, 3, mean, bad_var, NULL, NULL, 1e-5f, &bn),
                     "channel 1");
  OPS_ASSERT_INVALID(clrn_batchnorm_create(context, 3, mean, var, NULL, NULL, -1.0f, &bn), "eps");
  CLRN_ASSERT_OK(clrn_batchnorm_create(context, 3, mean, var, NULL, NULL, 1e-5f, &bn));
  cl_mem a = ops_buffer(context, NULL, 60);
  clrn_tensor four = ops_tensor(a, 1, 4, 3, 5), three = ops_tensor(a, 1, 3, 4, 5);
  cl_command_queue queue = clrn_context_queue(context, 0);
  OPS_ASSERT_INVALID(clrn_batchnorm_enqueue(bn, queue, &four, &four, 0, NULL, NULL),
                     "4 channels, the op has 3");
  OPS_ASSERT_INVALID(clrn_batchnorm_enqueue(bn, queue, &three, &four, 0, NULL, NULL), "differs");
  OPS_ASSERT_INVALID(clrn_batchnorm_enqueue(NULL, queue, &three, &three, 0, NULL, NULL), "NULL");
  clrn_batchnorm_release(bn);
  clrn_batchnorm_release(NULL);
  clReleaseMemObject(a);
}

int main(void) {
  clrn_test_add_suite("batchnorm", setup, teardown, "shapes against the reference", test_shapes,
                      "wait list and event", test_wait_list, "invalid arguments", test_invalid,
                      NULL);
  int result = clrn_test_run();
  ops_print_tally();
  return result;
}
