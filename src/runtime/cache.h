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
 *
 * Trust boundary: the checksum only catches damage, not malice. Whoever can write
 * to the folder can store a binary with a valid checksum that the driver then
 * loads and runs with the user's rights (a hostile payload crashed PoCL). So the
 * cache is used only in a folder owned by the user and writable by nobody else:
 * clresnet creates it (and any missing parent) with mode 0700, and a folder that
 * belongs to another user or is writable by group or others disables the cache
 * (and calibration.txt beside it) with one warning saying why. Entries themselves
 * are not checked further: protecting the folder protects them.
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

/** Writes the configured cache folder into buffer; false when the cache is
 * disabled. Says nothing about whether the folder exists or may be trusted. */
bool clrn_cache_dir(char *buffer, size_t size);

/** Writes the cache folder into buffer when it may be used: it exists (or, with
 * create, was made with mode 0700), is a folder, belongs to the effective user and
 * is not writable by group or others. Otherwise false, with one warning saying why
 * (the same warning is not repeated); a folder that does not exist yet (without
 * create) is false silently. */
bool clrn_cache_folder(char *buffer, size_t size, bool create);

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

/** Reads the whole regular file at path (at most the size of a cache entry) into
 * *data (malloc'd) and *size; false when it is missing, not regular or too large. */
bool clrn_read_small_file(const char *path, unsigned char **data, size_t *size);

/** The full path of key's entry (for tests that damage entries on purpose). */
bool clrn_cache_entry_path(const char *key, char *buffer, size_t size);

#endif
