/* A process-wide lock that keeps runs on drivers which cannot run one kernel from
 * two threads at once apart.
 *
 * PoCL before 6.0 keeps one process-wide cache of loaded work-group functions for
 * its CPU drivers (basic, pthread). An entry is found by (kernel hash, local size,
 * grid width, specialisation) and pinned while a launch runs, but unpinned by
 * (kernel hash, local size) alone (pocl_release_dlhandle_cache in
 * lib/CL/devices/common.c, fixed upstream by commit c9ac4c0c3 "fix dlhandle cache").
 * Two PoCL devices running the same kernel at once with different grid widths, as
 * an uneven batch split does (3 images on one device, 2 on the other), get two
 * entries, and the first to finish unpins the other's: PoCL then aborts with
 * "Assertion 'found->ref_count > 0'" or unloads code still running (SIGSEGV). The
 * kernel hash comes from the program's content, so two devices of one driver always
 * share it, and serialising only the first launch or compile does not help: the
 * wrong unpin happens on any later overlap too.
 *
 * So a whole model run (enqueue to finish) on such a device holds this lock; runs
 * on every other device, and on PoCL 6.0 or later, are not affected. The cost is
 * that two PoCL CPU devices of an old PoCL take turns instead of running side by
 * side; they share the same CPU cores anyway.
 */
#ifndef CLRN_RUNTIME_PLATFORM_LOCK_H
#define CLRN_RUNTIME_PLATFORM_LOCK_H

#include <stdbool.h>

#include "clresnet/device.h"

/** Whether runs on device must hold the lock: a CPU device of PoCL before 6.0. */
bool clrn_platform_lock_needed(const clrn_device_info *device);

/** Takes the lock when device needs it (blocking until other such runs end);
 * returns whether it was taken, to pass to clrn_platform_lock_leave(). */
bool clrn_platform_lock_enter(const clrn_device_info *device);

/** Gives the lock back when entered is true (the result of clrn_platform_lock_enter). */
void clrn_platform_lock_leave(bool entered);

#endif
