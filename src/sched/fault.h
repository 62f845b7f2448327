/* Fault injection for the engine's failure path: CLRN_FAULT=device:N:after:K makes
 * engine device N (its position in the engine's device list) report a queue error
 * on its shard of the engine run after K runs it finished, so tests can check that
 * a run survives a device that fails (engine.c reruns the shard on the others). */
#ifndef CLRN_SCHED_FAULT_H
#define CLRN_SCHED_FAULT_H

#include <stdbool.h>
#include <stddef.h>

#include "clresnet/status.h"

/** The fault asked for: device -1 when none. */
typedef struct clrn_fault {
  long device;
  long after;
} clrn_fault;

/** Reads CLRN_FAULT (unset or empty: no fault). A malformed value is
 * CLRN_STATUS_INVALID_ARGUMENT with a message giving the form. */
clrn_status clrn_fault_read(clrn_fault *fault);

/** Whether device's next shard run (after runs shard runs finished) must fail. */
bool clrn_fault_due(const clrn_fault *fault, size_t device, long runs);

#endif
