/* Per-device run locks and build instance numbers for drivers with a racy kernel
 * cache (see platform_lock.h). */
#include "runtime/platform_lock.h"

#include <stdlib.h>
#include <string.h>
#include <threads.h>

/* Locks are made on first use and live until the process ends (a cl_device_id
 * of a root device lives as long). Devices past MAX_LOCKS share the last one:
 * slower, never unsafe. */
#define MAX_LOCKS 32

struct clrn_platform_lock {
  cl_device_id device;
  mtx_t mutex;
};

static clrn_platform_lock locks[MAX_LOCKS];
static size_t lock_count;
static mtx_t table_lock;
static bool table_ok;
static once_flag table_once = ONCE_FLAG_INIT;

static void table_init(void) { table_ok = mtx_init(&table_lock, mtx_plain) == thrd_success; }

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

unsigned clrn_platform_instance(const clrn_device_info *device) {
  return clrn_platform_lock_needed(device) ? device->device_index : 0;
}

/* The lock of device, made on first use; NULL when no lock could be made. */
static clrn_platform_lock *lock_of(cl_device_id device) {
  call_once(&table_once, table_init);
  if (!table_ok || mtx_lock(&table_lock) != thrd_success)
    return NULL;
  clrn_platform_lock *found = NULL;
  for (size_t i = 0; i < lock_count && !found; i++)
    if (locks[i].device == device)
      found = &locks[i];
  if (!found && lock_count < MAX_LOCKS &&
      mtx_init(&locks[lock_count].mutex, mtx_plain) == thrd_success) {
    locks[lock_count].device = device;
    found = &locks[lock_count++];
  }
  if (!found && lock_count == MAX_LOCKS)
    found = &locks[MAX_LOCKS - 1];
  mtx_unlock(&table_lock);
  return found;
}

clrn_platform_lock *clrn_platform_lock_enter(const clrn_device_info *device) {
  if (!clrn_platform_lock_needed(device))
    return NULL;
  clrn_platform_lock *lock = lock_of(device->device_id);
  return lock && mtx_lock(&lock->mutex) == thrd_success ? lock : NULL;
}

void clrn_platform_lock_leave(clrn_platform_lock *lock) {
  if (lock)
    mtx_unlock(&lock->mutex);
}
