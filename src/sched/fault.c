/* CLRN_FAULT parsing (see fault.h): "device:N:after:K", N and K whole numbers from 0. */
#include "sched/fault.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

/* A whole number in [0, 1e9] spanning text up to the next ':' or the end. */
static bool parse_count(const char *text, const char **end, long *value) {
  if (*text < '0' || *text > '9')
    return false;
  errno = 0;
  char *stop = NULL;
  *value = strtol(text, &stop, 10);
  *end = stop;
  return errno == 0 && *value <= 1000000000L && (*stop == ':' || *stop == '\0');
}

clrn_status clrn_fault_read(clrn_fault *fault) {
  fault->device = -1;
  fault->after = 0;
  const char *text = getenv("CLRN_FAULT");
  if (!text || !*text)
    return CLRN_STATUS_SUCCESS;
  const char *p = text;
  long device = 0, after = 0;
  bool ok = strncmp(p, "device:", 7) == 0 && parse_count(p + 7, &p, &device) &&
            strncmp(p, ":after:", 7) == 0 && parse_count(p + 7, &p, &after) && *p == '\0';
  if (!ok)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "CLRN_FAULT: \"%.64s\" is not device:N:after:K (device N fails after K "
                     "batches, for example device:1:after:3)",
                     text);
  fault->device = device;
  fault->after = after;
  return CLRN_STATUS_SUCCESS;
}

bool clrn_fault_due(const clrn_fault *fault, size_t device, long runs) {
  return fault->device >= 0 && (size_t)fault->device == device && runs >= fault->after;
}
