/* Keeping PoCL's racy kernel cache safe while its CPU devices run side by side.
 *
 * PoCL before 6.0 keeps one process-wide cache of loaded work-group functions for
 * its CPU drivers (basic, pthread). An entry is found by (kernel hash, local size,
 * grid width, specialisation, global offset) and pinned while a launch runs, but
 * unpinned by (kernel hash, local size) alone (pocl_release_dlhandle_cache in
 * lib/CL/devices/common.c, fixed upstream by commit c9ac4c0c3 "fix dlhandle cache").
 * Two launches of one kernel hash running at once with different grid widths, as an
 * uneven batch split does (3 images on one device, 2 on the other), get two
 * entries, and the first to finish unpins the other's: PoCL then aborts with
 * "Assertion 'found->ref_count > 0'" or unloads code still running (SIGSEGV).
 *
 * The kernel hash is a SHA-1 of the program's build hash and the kernel name, and
 * the build hash (build_program_compute_hash in lib/CL/pocl_cache.c; a program
 * loaded from a PoCL binary keeps the one it was compiled with) covers the
 * preprocessed source, the build options and the driver's build_hash, which is
 * the same for every CPU device (basic and pthread alike). So two devices running
 * one program share kernel hashes, unless their build options differ. Two fixes,
 * together:
 *
 * - across devices: clrn_platform_instance() gives each such device after the
 *   first of its platform a number that program.c adds as -DCLRN_INSTANCE=<n> to
 *   its build options (no kernel reads it). Its kernels then hash apart and never
 *   share cache entries with another device's, so the devices run at the same time.
 *   The number is the device's index in its platform, stable from run to run, so
 *   the binary cache keys stay valid.
 * - on one device: two runs at once (two models on two threads) still share
 *   hashes, so a whole model run (enqueue to finish) on such a device holds that
 *   device's lock (clrn_platform_lock_enter). Runs on other devices, and on PoCL
 *   6.0 or later, are not affected.
 *
 * Left open: CLBlast builds its own programs (the classifier), the same on every
 * device, without this define. Its GEMM rounds the batch up to its tile, so small
 * uneven splits (3+2) launch equal grids; splits whose shards fall in different
 * tiles could still meet the PoCL bug there.
 */
#ifndef CLRN_RUNTIME_PLATFORM_LOCK_H
#define CLRN_RUNTIME_PLATFORM_LOCK_H

#include <stdbool.h>

#include "clresnet/device.h"

/** Whether device has the racy kernel cache: a CPU device of PoCL before 6.0. */
bool clrn_platform_lock_needed(const clrn_device_info *device);

/** The build-option instance number of device (see the top of this file): its
 * index in its platform for a device with the racy cache, 0 (no define) for the
 * first such device and for every other device. */
unsigned clrn_platform_instance(const clrn_device_info *device);

/** One device's run lock. */
typedef struct clrn_platform_lock clrn_platform_lock;

/** Takes device's run lock when it needs one (blocking until that device's other
 * runs end); returns the lock to pass to clrn_platform_lock_leave(), or NULL when
 * none was taken. */
clrn_platform_lock *clrn_platform_lock_enter(const clrn_device_info *device);

/** Gives back a lock from clrn_platform_lock_enter(); NULL is ignored. */
void clrn_platform_lock_leave(clrn_platform_lock *lock);

#endif
