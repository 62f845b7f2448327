/* The on-disk cache of compiled kernel program binaries.
 *
 * An entry is found by a 128-bit hash of its key text (library version, kernel
 * source hash, build options, device name, driver and platform versions) and
 * stores the key text itself, the binary and a checksum. A loaded entry whose
 * header, length, key or checksum does not fit is reported as bad and never used;
 * the caller rebuilds and stores over it. Entries are written to a temporary file
 * in the cache folder and renamed into place, so readers never see half an entry.
 *
 * Folder: CLRN_CACHE_DIR, else $XDG_CACHE_HOME/clresnet, else $HOME/.cache/clresnet.
 * CLRN_CACHE_DIR=off (or an empty HOME with nothing else set) disables the cache.
 */
#ifndef CLRN_RUNTIME_CACHE_H
#define CLRN_RUNTIME_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clresnet/status.h"

/** 64-bit FNV-1a hash continued from seed (use CLRN_HASH_SEED to start). */
#define CLRN_HASH_SEED 0xcbf29ce484222325ull
uint64_t clrn_hash64(const void *data, size_t size, uint64_t seed);

/** Writes the cache folder into buffer; false when the cache is disabled. */
bool clrn_cache_dir(char *buffer, size_t size);

typedef enum clrn_cache_result {
  CLRN_CACHE_RESULT_MISS,
  CLRN_CACHE_RESULT_HIT,
  CLRN_CACHE_RESULT_BAD, /**< an entry existed but was corrupt, truncated or foreign */
} clrn_cache_result;

/** Looks up key. On a hit *binary (malloc'd, caller frees) and *size are set. */
clrn_cache_result clrn_cache_load(const char *key, unsigned char **binary, size_t *size);

/** Stores binary under key, replacing any entry. Failures are logged as warnings
 * and returned, but callers may ignore them: the cache is an optimisation. */
clrn_status clrn_cache_store(const char *key, const unsigned char *binary, size_t size);

/** The full path of key's entry (for tests that damage entries on purpose). */
bool clrn_cache_entry_path(const char *key, char *buffer, size_t size);

#endif
