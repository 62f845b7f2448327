/* ReLU and the residual add against the plain-C reference. Both are exact: IEEE
 * addition is correctly rounded on every conformant OpenCL device and ReLU only
 * selects, so results must match bit for bit (sign of zero and NaN included). */
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

/* Shapes: ResNet activations, a lone element, odd sizes, batch 3, C=3 and C=5. */
static const int shapes[][4] = {{1, 1, 1, 1},  {1, 5, 1, 1},    {3, 3, 7, 9},    {1, 5, 13, 17},
                                {3, 64, 7, 7}, {1, 64, 56, 56}, {2, 256, 14, 14}};
static const int small_shapes[][4] = {{1, 1, 1, 1}, {1, 5, 1, 1}, {3, 3, 7, 9}, {1, 5, 13, 17}};

/* Fills x with uniform values and a few special ones (+-0, +-inf, NaN, tiny). */
static void fill_special(float *x, size_t count, uint32_t seed) {
  static const float special[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-40f, -1e-40f};
  ops_fill(x, count, seed, -4.0f, 4.0f);
  for (size_t i = 0; i < sizeof special / sizeof special[0] && i * 3 < count; i++)
    x[i * 3] = special[i];
}

static void run_relu(const int *s, bool in_place) {
  size_t count = (size_t)s[0] * s[1] * s[2] * s[3];
  float *x = ops_malloc(count * sizeof *x), *want = ops_malloc(count * sizeof *want),
        *got = ops_malloc(count * sizeof *got);
  fill_special(x, count, (uint32_t)count);
  ref_relu(x, count, want);
  cl_mem in = ops_buffer(context, x, count), out = in_place ? in : ops_buffer(context, NULL, count);
  clrn_tensor ti = ops_tensor(in, s[0], s[1], s[2], s[3]),
              to = ops_tensor(out, s[0], s[1], s[2], s[3]);
  cl_event event = NULL;
  CLRN_ASSERT_OK(
      clrn_relu_enqueue(context, clrn_context_queue(context, 0), &ti, &to, 0, NULL, &event));
  ops_read(context, event, out, got, count);
  char label[64];
  snprintf(label, sizeof label, "%dx%dx%dx%d%s", s[0], s[1], s[2], s[3],
           in_place ? " in place" : "");
  ops_check_exact("relu", label, got, want, count);
  clReleaseMemObject(in);
  if (!in_place)
    clReleaseMemObject(out);
  free(x);
  free(want);
  free(got);
}

/* alias: 0 separate output, 1 output is a, 2 output is b. */
static void run_add(const int *s, bool relu, int alias) {
  size_t count = (size_t)s[0] * s[1] * s[2] * s[3];
  float *a = ops_malloc(count * sizeof *a), *b = ops_malloc(count * sizeof *b),
        *want = ops_malloc(count * sizeof *want), *got = ops_malloc(count * sizeof *got);
  fill_special(a, count, 7u + (uint32_t)count);
  ops_fill(b, count, 11u + (uint32_t)count, -4.0f, 4.0f);
  ref_add(a, b, count, relu, want);
  cl_mem ba = ops_buffer(context, a, count), bb = ops_buffer(context, b, count);
  cl_mem out = alias == 1 ? ba : alias == 2 ? bb : ops_buffer(context, NULL, count);
  clrn_tensor ta = ops_tensor(ba, s[0], s[1], s[2], s[3]),
              tb = ops_tensor(bb, s[0], s[1], s[2], s[3]),
              to = ops_tensor(out, s[0], s[1], s[2], s[3]);
  cl_event event = NULL;
  CLRN_ASSERT_OK(clrn_add_enqueue(context, clrn_context_queue(context, 0), &ta, &tb, &to, relu, 0,
                                  NULL, &event));
  ops_read(context, event, out, got, count);
  char label[80];
  snprintf(label, sizeof label, "%dx%dx%dx%d relu=%d alias=%d", s[0], s[1], s[2], s[3], relu,
           alias);
  ops_check_exact(relu ? "add+relu" : "add", label, got, want, count);
  clReleaseMemObject(ba);
  clReleaseMemObject(bb);
  if (alias == 0)
    clReleaseMemObject(out);
  free(a);
  free(b);
  free(want);
  free(got);
}

static void shape_list(const int (**list)[4], size_t *count) {
  if (ops_small()) {
    *list = small_shapes;
    *count = sizeof small_shapes / sizeof small_shapes[0];
  } else {
    *list = shapes;
    *count = sizeof shapes / sizeof shapes[0];
  }
}

static void test_relu(void) {
  const int(*list)[4];
  size_t count;
  shape_list(&list, &count);
  for (size_t i = 0; i < count; i++) {
    run_relu(list[i], false);
    run_relu(list[i], true);
  }
}

static void test_add(void) {
  const int(*list)[4];
  size_t count;
  shape_list(&list, &count);
  for (size_t i = 0; i < count; i++)
    for (int relu = 0; relu < 2; relu++)
      for (int alias = 0; alias < 3; alias++)
        run_add(list[i], relu, alias);
}

/* A wait list is honoured and an event comes back without waiting. */
typedef struct wait_case {
  clrn_tensor a, b, out;
  bool add;
} wait_case;

static clrn_status enqueue_case(void *user, cl_command_queue queue, cl_uint num_wait,
                                const cl_event *wait, cl_event *event) {
  wait_case *w = user;
  if (w->add)
    return clrn_add_enqueue(context, queue, &w->a, &w->b, &w->out, true, num_wait, wait, event);
  return clrn_relu_enqueue(context, queue, &w->a, &w->out, num_wait, wait, event);
}

static void test_wait_list(void) {
  float x[30];
  ops_fill(x, 30, 3, -1.0f, 1.0f);
  cl_mem a = ops_buffer(context, x, 30), out = ops_buffer(context, NULL, 30);
  wait_case w = {ops_tensor(a, 1, 2, 3, 5), ops_tensor(a, 1, 2, 3, 5), ops_tensor(out, 1, 2, 3, 5),
                 false};
  ops_check_wait_list(context, enqueue_case, &w);
  w.add = true;
  ops_check_wait_list(context, enqueue_case, &w);
  clReleaseMemObject(a);
  clReleaseMemObject(out);
}

static void test_invalid(void) {
  cl_command_queue queue = clrn_context_queue(context, 0);
  cl_mem a = ops_buffer(context, NULL, 24), b = ops_buffer(context, NULL, 24);
  clrn_tensor ta = ops_tensor(a, 1, 2, 3, 4), tb = ops_tensor(b, 1, 2, 4, 3);
  OPS_ASSERT_INVALID(clrn_relu_enqueue(context, queue, &ta, &tb, 0, NULL, NULL), "differs");
  OPS_ASSERT_INVALID(clrn_relu_enqueue(context, queue, NULL, &ta, 0, NULL, NULL), "NULL input");
  OPS_ASSERT_INVALID(clrn_relu_enqueue(NULL, queue, &ta, &ta, 0, NULL, NULL), "NULL context");
  OPS_ASSERT_INVALID(clrn_relu_enqueue(context, NULL, &ta, &ta, 0, NULL, NULL), "queue");
  OPS_ASSERT_INVALID(clrn_relu_enqueue(context, queue, &ta, &ta, 2, NULL, NULL), "wait");
  clrn_tensor big = ops_tensor(a, 1, 2, 3, 5); /* 30 floats in a buffer of 24 */
  OPS_ASSERT_INVALID(clrn_relu_enqueue(context, queue, &big, &big, 0, NULL, NULL), "needs 120");
  clrn_tensor zero = ops_tensor(a, 0, 2, 3, 4);
  OPS_ASSERT_INVALID(clrn_relu_enqueue(context, queue, &zero, &zero, 0, NULL, NULL), "below 1");
  OPS_ASSERT_INVALID(clrn_add_enqueue(context, queue, &ta, &tb, &ta, false, 0, NULL, NULL),
                     "differs");
  OPS_ASSERT_INVALID(clrn_add_enqueue(context, queue, &ta, &ta, &tb, false, 0, NULL, NULL),
                     "output shape");
  /* A queue of another context is refused. */
  clrn_context *other = ops_context(NULL);
  OPS_ASSERT_INVALID(
      clrn_relu_enqueue(context, clrn_context_queue(other, 0), &ta, &ta, 0, NULL, NULL),
      "another OpenCL context");
  clrn_context_release(other);
  clReleaseMemObject(a);
  clReleaseMemObject(b);
}

int main(void) {
  clrn_test_add_suite("eltwise", setup, teardown, "relu (exact)", test_relu, "add (exact)",
                      test_add, "wait list and event", test_wait_list, "invalid arguments",
                      test_invalid, NULL);
  int result = clrn_test_run();
  ops_print_tally();
  return result;
}
