/* Device profiles: tuning values and feature flags kept as data in devices/ (JSON files),
 * embedded at build time, and matched against a device's vendor, name, platform,
 * type and driver.
 *
 * Each profile names a parent ("default" is the root). A profile applies when its
 * "match" fields all hold and its parent applies; the deepest applicable profile
 * wins, and its values are merged over its ancestors'. Values become -D options
 * for kernel builds and are read by host code with clrn_profile_int(). The
 * CLRN_TUNE environment variable ("KEY=VALUE,KEY=VALUE") overrides any value.
 */
#ifndef CLRN_RUNTIME_PROFILE_H
#define CLRN_RUNTIME_PROFILE_H

#include "clresnet/device.h"

typedef struct clrn_profile clrn_profile;

/** Resolves the profile chain for a device into *profile (free with
 * clrn_profile_free()). Fails only on out-of-memory or a malformed profile. */
clrn_status clrn_profile_resolve(const clrn_device_info *device, clrn_profile **profile);

/** Releases a resolved profile. NULL is ignored. */
void clrn_profile_free(clrn_profile *profile);

/** Name of the deepest matching profile ("pocl-cpu"). */
const char *clrn_profile_name(const clrn_profile *profile);

/** Writes the name of the profile that matches a device into buffer ("default" if
 * profiles cannot be read). */
void clrn_profile_match_name(const clrn_device_info *device, char *buffer, size_t size);

/** An integer value of the merged profile, or fallback when absent or not an integer. */
long clrn_profile_int(const clrn_profile *profile, const char *key, long fallback);

/** Appends " -DKEY=VALUE" for every value to out (size bytes, NUL-terminated).
 * Returns false if it did not fit. */
bool clrn_profile_build_options(const clrn_profile *profile, char *out, size_t size);

/** Checks every embedded profile: valid JSON, known fields, an existing parent,
 * no cycles. Used by tests and at start-up in debug builds. */
clrn_status clrn_profiles_validate(void);

#endif
