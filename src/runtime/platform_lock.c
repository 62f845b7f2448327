/* The process-wide run lock for drivers with a racy kernel cache (see platform_lock.h). */
#include "runtime/platform_lock.h"

#include <stdlib.h>
#include <string.h>
#include <threads.h>

static mtx_t run_lock;
static bool run_lock_ok;
static once_flag run_lock_once = ONCE_FLAG_INIT;

static void run_lock_init(void) { run_lock_ok = mtx_init(&run_lock, mtx_plain) == thrd_success; }

bool clrn_platform_lock_needed(const clrn_device_info *device) {
  if (!device || device->type != CLRN_DEVICE_TYPE_CPU)
    return false;
  /* PoCL names its version in the platform version: "OpenCL 3.0 PoCL 3.1+debian ...". */
  const char *pocl = strstr(device->platform_version, "PoCL ");
  if (!pocl)
    return false;
  long major = strtol(pocl + 5, NULL, 10);
  return major < 6;
}

bool clrn_platform_lock_enter(const clrn_device_info *device) {
  if (!clrn_platform_lock_needed(device))
    return false;
  call_once(&run_lock_once, run_lock_init);
  return run_lock_ok && mtx_lock(&run_lock) == thrd_success;
}

void clrn_platform_lock_leave(bool entered) {
  if (entered)
    mtx_unlock(&run_lock);
}
