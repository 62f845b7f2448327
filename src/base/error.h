/* Internal error and logging helpers shared by every part of the library.
 *
 * clrn_fail() records a formatted detail for clrn_last_error() and returns the
 * status so call sites read `return clrn_fail(...)`. clrn_fail_cl() does the same
 * for an OpenCL error code, naming it (CL_INVALID_WORK_GROUP_SIZE, not -54) and
 * mapping allocation failures to CLRN_STATUS_OUT_OF_DEVICE_MEMORY.
 */
#ifndef CLRN_BASE_ERROR_H
#define CLRN_BASE_ERROR_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <stdbool.h>
#include <stddef.h>

#include "clresnet/status.h"

#if defined(__GNUC__)
#define CLRN_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define CLRN_PRINTF(fmt_index, first_arg)
#endif

/** Records the detail text for the calling thread and returns status. */
clrn_status clrn_fail(clrn_status status, const char *fmt, ...) CLRN_PRINTF(2, 3);

/** Makes the calling thread's error slot now, if it has none (false when out of
 * memory), so that a process forked from this thread records its errors without
 * taking a lock another thread of the parent may have held at the fork. */
bool clrn_error_reserve(void);

/** Records "what: CL_NAME (code)" and returns the status that fits the code. */
clrn_status clrn_fail_cl(cl_int code, const char *fmt, ...) CLRN_PRINTF(2, 3);

/** Prefixes the current thread's detail with "context: " (for adding a file or
 * tensor name on the way up) and returns status unchanged. */
clrn_status clrn_fail_prefix(clrn_status status, const char *fmt, ...) CLRN_PRINTF(2, 3);

/** Sends one message to the installed log callback, if its level is enabled. */
void clrn_log(clrn_log_level level, const char *fmt, ...) CLRN_PRINTF(2, 3);

/** Jumps to the function's cleanup label when an OpenCL call failed. */
#define CLRN_CL_GOTO(code, label, status_var, ...)                                                 \
  do {                                                                                             \
    cl_int clrn_cl_code_ = (code);                                                                 \
    if (clrn_cl_code_ != CL_SUCCESS) {                                                             \
      status_var = clrn_fail_cl(clrn_cl_code_, __VA_ARGS__);                                       \
      goto label;                                                                                  \
    }                                                                                              \
  } while (0)

/** Jumps to the cleanup label when a clrn_status call failed. */
#define CLRN_GOTO(expr, label, status_var)                                                         \
  do {                                                                                             \
    status_var = (expr);                                                                           \
    if (status_var != CLRN_STATUS_SUCCESS)                                                         \
      goto label;                                                                                  \
  } while (0)

/** Returns from the function when a clrn_status call failed. */
#define CLRN_TRY(expr)                                                                             \
  do {                                                                                             \
    clrn_status clrn_try_status_ = (expr);                                                         \
    if (clrn_try_status_ != CLRN_STATUS_SUCCESS)                                                   \
      return clrn_try_status_;                                                                     \
  } while (0)

#endif
