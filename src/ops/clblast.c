/* CLBlast status texts, the program-cache lifetime and the call turn (see clblast.h). The
 * turn and the user count share one mutex: the cache is never cleared during a call. */
#include "ops/clblast.h"

#include <clblast_c.h>
#include <stdbool.h>
#include <stdio.h>
#include <threads.h>

#include "base/error.h"

typedef struct status_text {
  CLBlastStatusCode code;
  const char *name;
  const char *meaning;
} status_text;

#define ROW(code, meaning)                                                                         \
  { code, #code, meaning }
static const status_text texts[] = {
    ROW(CLBlastSuccess, "success"),
    ROW(CLBlastOpenCLCompilerNotAvailable,
        "the device has no OpenCL compiler for CLBlast's kernels"),
    ROW(CLBlastTempBufferAllocFailure, "a device buffer could not be allocated"),
    ROW(CLBlastOpenCLOutOfResources, "the device ran out of resources"),
    ROW(CLBlastOpenCLOutOfHostMemory, "the host ran out of memory"),
    ROW(CLBlastOpenCLBuildProgramFailure,
        "CLBlast's kernels failed to compile for this device (CLBlast prints the compiler log "
        "to standard output)"),
    ROW(CLBlastInvalidValue, "an invalid value"),
    ROW(CLBlastInvalidCommandQueue, "an invalid command queue"),
    ROW(CLBlastInvalidMemObject, "an invalid buffer"),
    ROW(CLBlastInvalidBinary, "the driver rejected a cached CLBlast kernel binary"),
    ROW(CLBlastInvalidBuildOptions, "the driver rejected CLBlast's build options"),
    ROW(CLBlastInvalidProgram, "an invalid program"),
    ROW(CLBlastInvalidProgramExecutable, "the program was not built for this device"),
    ROW(CLBlastInvalidKernelName, "a kernel is missing from CLBlast's program"),
    ROW(CLBlastInvalidKernelDefinition, "an invalid kernel definition"),
    ROW(CLBlastInvalidKernel, "an invalid kernel"),
    ROW(CLBlastInvalidArgIndex, "an invalid kernel argument index"),
    ROW(CLBlastInvalidArgValue, "an invalid kernel argument"),
    ROW(CLBlastInvalidArgSize, "an invalid kernel argument size"),
    ROW(CLBlastInvalidKernelArgs, "kernel arguments not set"),
    ROW(CLBlastInvalidLocalNumDimensions, "too many work-group dimensions"),
    ROW(CLBlastInvalidLocalThreadsTotal, "too many work-items in a work-group"),
    ROW(CLBlastInvalidLocalThreadsDim, "too many work-items in one work-group dimension"),
    ROW(CLBlastInvalidGlobalOffset, "an invalid global offset"),
    ROW(CLBlastInvalidEventWaitList, "an invalid event wait list"),
    ROW(CLBlastInvalidEvent, "an invalid event"),
    ROW(CLBlastInvalidOperation, "an invalid operation"),
    ROW(CLBlastInvalidBufferSize, "an invalid buffer size"),
    ROW(CLBlastInvalidGlobalWorkSize, "an invalid global work size"),
    ROW(CLBlastNotImplemented, "not implemented in CLBlast"),
    ROW(CLBlastInvalidMatrixA, "matrix A is not a valid buffer"),
    ROW(CLBlastInvalidMatrixB, "matrix B is not a valid buffer"),
    ROW(CLBlastInvalidMatrixC, "matrix C is not a valid buffer"),
    ROW(CLBlastInvalidVectorX, "vector X is not a valid buffer"),
    ROW(CLBlastInvalidVectorY, "vector Y is not a valid buffer"),
    ROW(CLBlastInvalidDimension, "a matrix dimension is zero"),
    ROW(CLBlastInvalidLeadDimA, "matrix A's leading dimension is too small"),
    ROW(CLBlastInvalidLeadDimB, "matrix B's leading dimension is too small"),
    ROW(CLBlastInvalidLeadDimC, "matrix C's leading dimension is too small"),
    ROW(CLBlastInvalidIncrementX, "vector X's increment is zero"),
    ROW(CLBlastInvalidIncrementY, "vector Y's increment is zero"),
    ROW(CLBlastInsufficientMemoryA, "matrix A's buffer is too small"),
    ROW(CLBlastInsufficientMemoryB, "matrix B's buffer is too small"),
    ROW(CLBlastInsufficientMemoryC, "matrix C's buffer is too small"),
    ROW(CLBlastInsufficientMemoryX, "vector X's buffer is too small"),
    ROW(CLBlastInsufficientMemoryY, "vector Y's buffer is too small"),
    ROW(CLBlastInsufficientMemoryTemp, "the temporary GEMM buffer is too small"),
    ROW(CLBlastInvalidBatchCount, "the batch count is not positive"),
    ROW(CLBlastInvalidOverrideKernel, "parameters overridden for an invalid kernel"),
    ROW(CLBlastMissingOverrideParameter, "overridden kernel parameters are missing"),
    ROW(CLBlastInvalidLocalMemUsage, "the device has too little local memory"),
    ROW(CLBlastNoHalfPrecision, "the device has no half precision"),
    ROW(CLBlastNoDoublePrecision, "the device has no double precision"),
    ROW(CLBlastInvalidVectorScalar, "the unit-sized vector is not a valid buffer"),
    ROW(CLBlastInsufficientMemoryScalar, "the unit-sized vector's buffer is too small"),
    ROW(CLBlastDatabaseError, "CLBlast's tuning database has no entry for the device"),
    ROW(CLBlastUnknownError, "an unspecified CLBlast error"),
    ROW(CLBlastUnexpectedError, "an unexpected exception inside CLBlast"),
};
#undef ROW

const char *clrn_clblast_status_text(int code, char *buffer, size_t size) {
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
    if ((int)texts[i].code == code) {
      snprintf(buffer, size, "%s (%d): %s", texts[i].name, code, texts[i].meaning);
      return buffer;
    }
  /* CLBlast passes other OpenCL errors through as they are. */
  snprintf(buffer, size, "%s (%d)", clrn_opencl_error_name(code), code);
  return buffer;
}

clrn_status clrn_clblast_fail(int code, const char *what) {
  clrn_status status = CLRN_STATUS_OPENCL_ERROR;
  if (code == CLBlastTempBufferAllocFailure || code == CLBlastOpenCLOutOfResources ||
      code == CLBlastInsufficientMemoryTemp)
    status = CLRN_STATUS_OUT_OF_DEVICE_MEMORY;
  else if (code == CLBlastOpenCLOutOfHostMemory)
    status = CLRN_STATUS_OUT_OF_HOST_MEMORY;
  else if (code == CLBlastOpenCLBuildProgramFailure || code == CLBlastOpenCLCompilerNotAvailable)
    status = CLRN_STATUS_BUILD_FAILED;
  char text[256];
  return clrn_fail(status, "%s: CLBlast returned %s", what,
                   clrn_clblast_status_text(code, text, sizeof text));
}

static mtx_t users_lock;
static bool users_lock_ok;
static once_flag users_once = ONCE_FLAG_INIT;
static int users;

static void users_init(void) { users_lock_ok = mtx_init(&users_lock, mtx_plain) == thrd_success; }

static bool lock_users(void) {
  call_once(&users_once, users_init);
  return users_lock_ok && mtx_lock(&users_lock) == thrd_success;
}

bool clrn_clblast_enter(void) { return lock_users(); }

void clrn_clblast_leave(bool entered) {
  if (entered)
    mtx_unlock(&users_lock);
}

bool clrn_clblast_acquire(void) {
  if (!lock_users())
    return false;
  users++;
  mtx_unlock(&users_lock);
  return true;
}

void clrn_clblast_release(bool acquired) {
  if (!acquired || !lock_users())
    return;
  /* Cleared under the lock: a linear layer created meanwhile waits, then compiles
   * afresh; with no user left, no CLBlast call of clresnet's can be running. */
  if (users > 0 && --users == 0) {
    CLBlastStatusCode code = CLBlastClearCache();
    if (code != CLBlastSuccess) {
      char text[256];
      clrn_log(CLRN_LOG_LEVEL_WARNING, "CLBlastClearCache: %s",
               clrn_clblast_status_text(code, text, sizeof text));
    }
  }
  mtx_unlock(&users_lock);
}
