/* What clresnet needs around CLBlast besides its BLAS calls: readable errors,
 * the lifetime of CLBlast's program cache, and one call at a time.
 *
 * CLBlast compiles its kernels on the first call per device and context and keeps
 * each program in a process-wide cache keyed by context; a cached program retains
 * its context, so a context released by clresnet stayed alive (with its memory)
 * until exit: about 4.5 MB per engine created and released. CLBlast 1.5.3 can only
 * clear that cache whole (CLBlastClearCache(); there is no per-context clear), so
 * every clrn_linear holds a reference here and the last one released clears the
 * cache. A process that keeps one model alive while it creates and releases others
 * still keeps their programs until that model goes too; so does any other CLBlast
 * user in the process lose its cached programs (they are compiled again) when
 * clresnet's last linear layer goes.
 */
#ifndef CLRN_OPS_CLBLAST_H
#define CLRN_OPS_CLBLAST_H

#include <stdbool.h>
#include <stddef.h>

#include "clresnet/status.h"

/** Counts one more user of CLBlast (a live clrn_linear); returns whether it was
 * counted (false only when no mutex could be made), to pass to
 * clrn_clblast_release(). */
bool clrn_clblast_acquire(void);

/** Counts one user less when acquired is true; the last one clears CLBlast's
 * program cache, which releases the contexts its programs kept alive. */
void clrn_clblast_release(bool acquired);

/** Takes the process-wide turn for CLBlast calls; returns whether it was taken,
 * to pass to clrn_clblast_leave(). CLBlast 1.5 stores the programs and kernels it
 * compiles in caches that two threads calling at once (two devices of one engine)
 * corrupt: CLBlastUnexpectedError (std::bad_alloc) or SIGSEGV (CNugteren/CLBlast
 * issue 486, fixed upstream by pull request 495 in July 2023). */
bool clrn_clblast_enter(void);

/** Gives the turn back when entered is true (the result of clrn_clblast_enter()). */
void clrn_clblast_leave(bool entered);

/** "CLBlastName (code): what it means" for a CLBlast status code; codes CLBlast
 * passes through from OpenCL get their OpenCL name. Never NULL. */
const char *clrn_clblast_status_text(int code, char *buffer, size_t size);

/** Records "what: CLBlast returned <text>" and returns the clrn_status that fits
 * code (device or host memory, build failure, else an OpenCL error). */
clrn_status clrn_clblast_fail(int code, const char *what);

#endif
