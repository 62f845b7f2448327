/* Helpers shared by the op suites of tests/ops: test data, device buffers,
 * comparisons against the plain-C references (exact, or within a per-element error
 * bound) with a per-op tally of the largest error seen, and a check that an op
 * honours its wait list and returns an event without waiting. */
#ifndef CLRN_TESTS_OPS_TEST_H
#define CLRN_TESTS_OPS_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"

/** Unit roundoff of float: 2^-24, half the distance from 1 to the next float. */
#define OPS_U (1.0 / 16777216.0)

/** gamma(k) = k u / (1 - k u): the classic bound on the relative error of a sum of k+1
 * terms (or a dot product of k terms) in float, in any order of summation. */
double ops_gamma(double k);

/** True when CLRN_TEST_SMALL is set (Oclgrind runs): suites keep to small shapes. */
bool ops_small(void);

/** A context on the test device with CLRN_TUNE set to tune while it is created
 * (NULL: no override), so a suite can force a kernel variant or work-group size. */
clrn_context *ops_context(const char *tune);

/** One context per kernel variant: contexts[v] = ops_context(tunes[v]). */
void ops_contexts_open(clrn_context **contexts, const char *const *tunes, int count);

/** Releases what ops_contexts_open() made. */
void ops_contexts_release(clrn_context **contexts, int count);

/** Fills x with count pseudo-random floats uniform in [lo, hi), from seed. */
void ops_fill(float *x, size_t count, uint32_t seed, float lo, float hi);

/** malloc that fails the test (fatally) instead of returning NULL. */
void *ops_malloc(size_t bytes);

/** A read-write buffer of count floats, copied from data, or filled with a NaN
 * sentinel when data is NULL (so an element a kernel forgot to write shows). */
cl_mem ops_buffer(clrn_context *context, const float *data, size_t count);

/** A tensor over buffer. */
clrn_tensor ops_tensor(cl_mem buffer, int n, int c, int h, int w);

/** Waits for event (releasing it; NULL is allowed), then reads count floats. */
void ops_read(clrn_context *context, cl_event event, cl_mem buffer, float *out, size_t count);

/** Checks got == want bit for bit (any NaN matches any NaN). Records the op in the
 * tally; prints the first mismatches with label. */
bool ops_check_exact(const char *op, const char *label, const float *got, const float *want,
                     size_t count);

/** Checks |got - want| <= tol element by element (NaN only where want is NaN,
 * infinities equal). Records the largest error and error/tolerance in the tally. */
bool ops_check_bound(const char *op, const char *label, const float *got, const double *want,
                     const double *tol, size_t count);

/** Prints, per op, the largest error and its ratio to the tolerance seen so far. */
void ops_print_tally(void);

/** Starts recording the library's DEBUG log (kernel launches) into a buffer. */
void ops_log_start(void);

/** Stops recording; returns whether a launch of kernel_name was logged meanwhile. */
bool ops_log_stop(const char *kernel_name);

/** Enqueues the op under test with the given wait list and event out-parameter. */
typedef clrn_status (*ops_enqueue_fn)(void *user, cl_command_queue queue, cl_uint num_wait,
                                      const cl_event *wait, cl_event *event);

/** Enqueues through fn with a pending user event in the wait list and checks that
 * the call returns at once with an event that stays incomplete until the user
 * event completes, and then completes. Also enqueues once with no event. */
void ops_check_wait_list(clrn_context *context, ops_enqueue_fn fn, void *user);

/** Asserts that expr fails with INVALID_ARGUMENT and a detail containing needle. */
#define OPS_ASSERT_INVALID(expr, needle)                                                           \
  do {                                                                                             \
    clrn_status ops_status_ = (expr);                                                              \
    CU_ASSERT_EQUAL(ops_status_, CLRN_STATUS_INVALID_ARGUMENT);                                    \
    if (!strstr(clrn_last_error(), (needle))) {                                                    \
      fprintf(stderr, "\n%s:%d: detail \"%s\" lacks \"%s\"\n", __FILE__, __LINE__,                 \
              clrn_last_error(), (needle));                                                        \
      CU_FAIL("error detail");                                                                     \
    }                                                                                              \
  } while (0)

#endif
