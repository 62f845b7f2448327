/* The tuning file: the per-layer convolution choices `clresnet tune` measured as
 * fastest on one device, stored in the cache folder (runtime/cache.h) as
 * tuning-<hash of the device name>.txt and read by every context made for that
 * device, so `run` and `bench` use them without being asked.
 *
 * The file is text, one layer shape a line:
 *   clresnet-tuning 1
 *   device <device name>
 *   driver <driver version>
 *   profile <devices/ profile it was measured under> <hash of its values>
 *   batch <images per batch it was measured with>
 *   conv <cin> <cout> <kh> <kw> <sh> <sw> <ph> <pw> <groups> <out plane> <variant> KEY=VALUE...
 *   end <number of conv lines>
 * KEY=VALUE are rows of the tuning table (runtime/tuning.c), checked as a profile's
 * values are. A file that does not parse, lacks its end line (truncated), or was
 * measured under another driver version or profile is ignored with a warning in the
 * log; the device then runs its profile's values. CLRN_TUNING=off ignores the file,
 * and so does a CLRN_TUNE setting (explicit values win over measured ones).
 * The runtime layer knows variants only by name; src/plan maps names to kernels. */
#ifndef CLRN_RUNTIME_TUNING_FILE_H
#define CLRN_RUNTIME_TUNING_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "clresnet/context.h"
#include "runtime/tuning.h"

/** Most layer shapes a tuning file holds (ResNet-50 at one size has 23). */
#define CLRN_TUNED_MAX 96
/** Most tuning values one layer's choice sets. */
#define CLRN_TUNED_VALUES 6
/** Numbers of a layer's key: cin cout kh kw sh sw ph pw groups, then the output plane. */
#define CLRN_TUNED_KEY 10

/** One layer shape's measured choice. */
typedef struct clrn_tuned_conv {
  long key[CLRN_TUNED_KEY]; /**< shape numbers and output plane (height x width) */
  char variant[16];         /**< "direct", "blocked", "gemm", ... */
  int count;                /**< values set */
  clrn_tuning_id ids[CLRN_TUNED_VALUES];
  long values[CLRN_TUNED_VALUES];
} clrn_tuned_conv;

/** The choices of one device, a plain value (copied into plans). */
typedef struct clrn_tuned_convs {
  size_t count;
  clrn_tuned_conv entries[CLRN_TUNED_MAX];
} clrn_tuned_convs;

/** Writes the tuning file's path for device into buffer; false when the cache is
 * disabled or the path does not fit. The folder need not exist yet. */
bool clrn_tuning_file_path(const clrn_device_info *device, char *buffer, size_t size);

/** Reads path into tuned when it was measured on device's name and driver under
 * profile. No file: empty, silently. A corrupt or foreign file: empty, with an
 * warning naming the file and why. Never fails. */
void clrn_tuning_file_read(const char *path, const clrn_device_info *device, const char *profile,
                           clrn_tuned_convs *tuned);

/** Writes tuned as device's tuning file at path (through a temporary file renamed
 * into place), for profile and batch. */
clrn_status clrn_tuning_file_write(const char *path, const clrn_device_info *device,
                                   const char *profile, int batch, const clrn_tuned_convs *tuned);

/** The profile line of a context's tuning file: the profile's name and a hash of all
 * its values ("pocl-cpu-avx512 0123456789abcdef"), so that a file measured against
 * other profile values (a profile edited, CLRN_PROFILE) is not used. */
void clrn_tuning_profile_key(const clrn_context *context, char *buffer, size_t size);

/** The tuning file of a context's device (empty when none applies), read when the
 * context was made; the note says why a file was ignored. */
const clrn_tuned_convs *clrn_context_tuned(const clrn_context *context);

/** The entry for key, or NULL. */
const clrn_tuned_conv *clrn_tuned_find(const clrn_tuned_convs *tuned,
                                       const long key[CLRN_TUNED_KEY]);

/** Adds or replaces the entry of choice's key; false when the table is full. */
bool clrn_tuned_put(clrn_tuned_convs *tuned, const clrn_tuned_conv *choice);

/** Whether two tables hold the same entries in the same order. */
bool clrn_tuned_equal(const clrn_tuned_convs *a, const clrn_tuned_convs *b);

#endif
