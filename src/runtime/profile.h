/* Device profiles: tuning values and feature flags kept as data in devices/ (JSON files),
 * embedded at build time, and matched against a device's vendor, name, platform,
 * type and driver.
 *
 * Each profile names a parent ("default" is the root). A profile applies when its
 * "match" fields all hold and its parent applies; the deepest applicable profile
 * wins, and its values are merged over its ancestors', which are merged over the
 * defaults of the tuning table (runtime/tuning.h). CLRN_PROFILE=NAME (or the
 * context option) picks a profile by name instead of matching. The CLRN_TUNE
 * environment variable ("KEY=VALUE,KEY=VALUE") overrides any value. Every value
 * is checked against the table: an unknown key or a value out of range fails,
 * naming the key, the value and where it came from.
 */
#ifndef CLRN_RUNTIME_PROFILE_H
#define CLRN_RUNTIME_PROFILE_H

#include "clresnet/device.h"
#include "runtime/tuning.h"

typedef struct clrn_profile clrn_profile;

/** Resolves the profile chain for a device into *profile (free with
 * clrn_profile_free()), then applies CLRN_TUNE. name, when not NULL or empty,
 * picks the profile by name (the context option), else CLRN_PROFILE does when
 * set, else the device's best match. Fails on an unknown profile name, a bad
 * value in the chain or in CLRN_TUNE, or out-of-memory. */
clrn_status clrn_profile_resolve(const clrn_device_info *device, const char *name,
                                 clrn_profile **profile);

/** Releases a resolved profile. NULL is ignored. */
void clrn_profile_free(clrn_profile *profile);

/** Name of the profile in use ("pocl-cpu"). */
const char *clrn_profile_name(const clrn_profile *profile);

/** Writes the name of the profile that matches a device into buffer ("default" if
 * profiles cannot be read). */
void clrn_profile_match_name(const clrn_device_info *device, char *buffer, size_t size);

/** The value of a known tuning key, or fallback when key is not in the table. */
long clrn_profile_int(const clrn_profile *profile, const char *key, long fallback);

/** The value of a parameter (the table's default when nothing set it). */
long clrn_profile_value(const clrn_profile *profile, clrn_tuning_id id);

/** Appends " -DKEY=VALUE" for every kernel define of the family (program name,
 * "conv2d") to out (size bytes, NUL-terminated); host values never appear.
 * Returns false if it did not fit. */
bool clrn_profile_build_options(const clrn_profile *profile, const char *family, char *out,
                                size_t size);

/** Checks one profile given as JSON text: an object with known fields and match
 * fields, a parent among the embedded profiles, and options that are keys of
 * the tuning table with values in range. source names it in errors
 * ("devices/pocl-cpu.json"). */
clrn_status clrn_profile_validate_json(const char *source, const char *text, size_t size);

/** Checks every embedded profile as clrn_profile_validate_json() does, plus no
 * parent cycles and a consistent merged chain. Used by tests. */
clrn_status clrn_profiles_validate(void);

#endif
