/* clresnet status codes, error details and the log callback.
 *
 * Every library call returns a clrn_status. When a call fails, a human-readable
 * explanation (with the OpenCL build log for build failures) is kept per thread
 * and returned by clrn_last_error(). The library never prints: messages go to
 * the log callback installed with clrn_log_set_callback(), and nowhere if none is.
 */
#ifndef CLRESNET_STATUS_H
#define CLRESNET_STATUS_H

#include "clresnet/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Result of every library call. CLRN_STATUS_SUCCESS is zero. */
typedef enum clrn_status {
  CLRN_STATUS_SUCCESS = 0,
  CLRN_STATUS_INVALID_ARGUMENT,     /**< a parameter is out of range or NULL */
  CLRN_STATUS_OUT_OF_HOST_MEMORY,   /**< malloc failed or a size overflowed */
  CLRN_STATUS_NO_PLATFORM,          /**< the ICD loader found no OpenCL platform */
  CLRN_STATUS_NO_MATCHING_DEVICE,   /**< a device spec matched no device */
  CLRN_STATUS_OPENCL_ERROR,         /**< an OpenCL call failed (named in the detail) */
  CLRN_STATUS_BUILD_FAILED,         /**< a kernel program failed to build (log in the detail) */
  CLRN_STATUS_OUT_OF_DEVICE_MEMORY, /**< a device allocation or launch ran out of resources */
  CLRN_STATUS_IO_ERROR,             /**< a file could not be read or written */
  CLRN_STATUS_INVALID_FORMAT,       /**< a file's contents are malformed */
  CLRN_STATUS_UNSUPPORTED,          /**< valid, but not supported by this build or device */
  CLRN_STATUS_MISMATCH,             /**< data does not fit what it was checked against */
} clrn_status;

/** A short fixed English description of a status ("invalid argument"). Never NULL. */
CLRN_API const char *clrn_status_string(clrn_status status);

/** Details of the last failure in the calling thread ("" when none). The text stays
 * valid until the next failing library call in the same thread. */
CLRN_API const char *clrn_last_error(void);

/** Forgets the calling thread's last error detail. */
CLRN_API void clrn_clear_error(void);

/** Severity of a log message. */
typedef enum clrn_log_level {
  CLRN_LOG_LEVEL_ERROR = 0,
  CLRN_LOG_LEVEL_WARNING = 1,
  CLRN_LOG_LEVEL_INFO = 2,
  CLRN_LOG_LEVEL_DEBUG = 3,
} clrn_log_level;

/** Receives the library's log messages (one line, no trailing newline). It may be
 * called from any thread that calls into the library. */
typedef void (*clrn_log_fn)(clrn_log_level level, const char *message, void *user_data);

/** Installs the process-wide log callback (NULL silences the library, the default).
 * Messages above max_level are dropped before they are formatted. */
CLRN_API void clrn_log_set_callback(clrn_log_fn callback, clrn_log_level max_level,
                                    void *user_data);

/** The name of an OpenCL error code ("CL_INVALID_WORK_GROUP_SIZE" for -54). */
CLRN_API const char *clrn_opencl_error_name(int code);

/** The library version as "MAJOR.MINOR.PATCH". */
CLRN_API const char *clrn_version(void);

#ifdef __cplusplus
}
#endif
#endif
