/* On-disk program binary cache (see cache.h for the entry format and guarantees). */
#include "runtime/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"

#define ENTRY_MAGIC "CLRNBIN1"
#define HEADER_BYTES (8 + 3 * 8)
#define MAX_ENTRY_BYTES ((uint64_t)1 << 31)

uint64_t clrn_hash64(const void *data, size_t size, uint64_t seed) {
  const unsigned char *bytes = data;
  uint64_t hash = seed;
  for (size_t i = 0; i < size; i++) {
    hash ^= bytes[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

bool clrn_cache_dir(char *buffer, size_t size) {
  const char *dir = getenv("CLRN_CACHE_DIR");
  if (dir && *dir) {
    if (strcmp(dir, "off") == 0 || strcmp(dir, "0") == 0)
      return false;
    return snprintf(buffer, size, "%s", dir) < (int)size;
  }
  const char *xdg = getenv("XDG_CACHE_HOME");
  if (xdg && *xdg)
    return snprintf(buffer, size, "%s/clresnet", xdg) < (int)size;
  const char *home = getenv("HOME");
  if (home && *home)
    return snprintf(buffer, size, "%s/.cache/clresnet", home) < (int)size;
  return false;
}

bool clrn_cache_entry_path(const char *key, char *buffer, size_t size) {
  char dir[4096];
  if (!clrn_cache_dir(dir, sizeof dir))
    return false;
  size_t length = strlen(key);
  uint64_t a = clrn_hash64(key, length, CLRN_HASH_SEED);
  uint64_t b = clrn_hash64(key, length, a ^ 0x9e3779b97f4a7c15ull);
  int n = snprintf(buffer, size, "%s/%016llx%016llx.bin", dir, (unsigned long long)a,
                   (unsigned long long)b);
  return n > 0 && (size_t)n < size;
}

static void put_u64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

/* Reads a whole regular file of at most MAX_ENTRY_BYTES. */
static bool read_file(const char *path, unsigned char **data, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return false;
  struct stat st;
  bool ok = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
            (uint64_t)st.st_size <= MAX_ENTRY_BYTES;
  unsigned char *buffer = ok ? malloc((size_t)st.st_size + 1) : NULL;
  ok = buffer && fread(buffer, 1, (size_t)st.st_size, f) == (size_t)st.st_size;
  fclose(f);
  if (!ok) {
    free(buffer);
    return false;
  }
  *data = buffer;
  *size = (size_t)st.st_size;
  return true;
}

clrn_cache_result clrn_cache_load(const char *key, unsigned char **binary, size_t *size) {
  *binary = NULL;
  *size = 0;
  char dir[4096], path[4200];
  if (!clrn_cache_folder(dir, sizeof dir, false) || !clrn_cache_entry_path(key, path, sizeof path))
    return CLRN_CACHE_RESULT_MISS;
  if (access(path, F_OK) != 0)
    return CLRN_CACHE_RESULT_MISS;
  unsigned char *data = NULL;
  size_t length = 0;
  if (!read_file(path, &data, &length)) {
    clrn_log(CLRN_LOG_LEVEL_WARNING, "cache entry %s unreadable; rebuilding", path);
    return CLRN_CACHE_RESULT_BAD;
  }
  size_t key_length = strlen(key);
  const char *why = NULL;
  if (length < HEADER_BYTES || memcmp(data, ENTRY_MAGIC, 8) != 0)
    why = "bad header";
  uint64_t stored_key = why ? 0 : get_u64(data + 8);
  uint64_t stored_binary = why ? 0 : get_u64(data + 16);
  uint64_t checksum = why ? 0 : get_u64(data + 24);
  if (!why && (stored_key != key_length || stored_binary == 0 ||
               stored_binary > length - HEADER_BYTES - key_length ||
               HEADER_BYTES + stored_key + stored_binary != length))
    why = "truncated or wrong length";
  if (!why && memcmp(data + HEADER_BYTES, key, key_length) != 0)
    why = "key differs (hash collision or foreign file)";
  const unsigned char *payload = data + HEADER_BYTES + key_length;
  if (!why && clrn_hash64(payload, (size_t)stored_binary, CLRN_HASH_SEED) != checksum)
    why = "checksum mismatch";
  if (why) {
    clrn_log(CLRN_LOG_LEVEL_WARNING, "cache entry %s rejected (%s); rebuilding", path, why);
    free(data);
    return CLRN_CACHE_RESULT_BAD;
  }
  memmove(data, payload, (size_t)stored_binary);
  *binary = data;
  *size = (size_t)stored_binary;
  return CLRN_CACHE_RESULT_HIT;
}

/* mkdir -p with mode 0700 for every folder it makes: the cache holds code that runs
 * with the user's rights, so nobody else may add to it. */
static bool make_dirs(const char *dir) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
    return false;
  for (char *p = path + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
      return false;
    *p = '/';
  }
  return mkdir(path, 0700) == 0 || errno == EEXIST;
}

/* Logs a warning unless it is the same text as the last one: a folder problem
 * is met by every program stored, and one line says it. */
static void warn_once(const char *fmt, ...) CLRN_PRINTF(1, 2);
static void warn_once(const char *fmt, ...) {
  static _Atomic uint64_t last;
  char text[4600];
  va_list args;
  va_start(args, fmt);
  vsnprintf(text, sizeof text, fmt, args);
  va_end(args);
  uint64_t hash = clrn_hash64(text, strlen(text), CLRN_HASH_SEED);
  if (atomic_exchange(&last, hash) != hash)
    clrn_log(CLRN_LOG_LEVEL_WARNING, "%s", text);
}

bool clrn_cache_folder(char *buffer, size_t size, bool create) {
  if (!clrn_cache_dir(buffer, size))
    return false;
  if (create && !make_dirs(buffer)) {
    warn_once("cannot create cache folder %s: %s; compiled kernels are not cached", buffer,
              strerror(errno));
    return false;
  }
  struct stat st;
  if (stat(buffer, &st) != 0) {
    if (errno != ENOENT)
      warn_once("cannot use cache folder %s: %s; compiled kernels are not cached", buffer,
                strerror(errno));
    return false;
  }
  const char *why = NULL;
  if (!S_ISDIR(st.st_mode))
    why = "is not a folder";
  else if (st.st_uid != geteuid())
    why = "belongs to another user";
  else if (st.st_mode & (S_IWGRP | S_IWOTH))
    why = "can be written by its group or by others";
  if (why) {
    warn_once("kernel cache disabled: %s (mode %04o) %s, and cached kernels run with your "
              "rights; use a folder of your own that only you can write (chmod 700)",
              buffer, (unsigned)(st.st_mode & 07777), why);
    return false;
  }
  return true;
}

clrn_status clrn_cache_store(const char *key, const unsigned char *binary, size_t size) {
  char dir[4096], path[4200], temp[4300];
  if (!clrn_cache_dir(dir, sizeof dir) || !clrn_cache_entry_path(key, path, sizeof path))
    return CLRN_STATUS_SUCCESS;
  if (!clrn_cache_folder(dir, sizeof dir, true))
    return CLRN_STATUS_IO_ERROR;
  snprintf(temp, sizeof temp, "%s.tmp.XXXXXX", path);
  int fd = mkstemp(temp);
  if (fd < 0) {
    warn_once("cannot write in cache folder %s: %s; compiled kernels are not cached", dir,
              strerror(errno));
    return CLRN_STATUS_IO_ERROR;
  }
  unsigned char header[HEADER_BYTES];
  size_t key_length = strlen(key);
  memcpy(header, ENTRY_MAGIC, 8);
  put_u64(header + 8, key_length);
  put_u64(header + 16, size);
  put_u64(header + 24, clrn_hash64(binary, size, CLRN_HASH_SEED));
  FILE *f = fdopen(fd, "wb");
  bool ok = f && fwrite(header, 1, sizeof header, f) == sizeof header &&
            fwrite(key, 1, key_length, f) == key_length && fwrite(binary, 1, size, f) == size;
  if (f)
    ok = fclose(f) == 0 && ok;
  else
    close(fd);
  if (ok)
    ok = rename(temp, path) == 0;
  if (!ok) {
    int saved = errno;
    unlink(temp);
    warn_once("cannot write cache entry in %s: %s; compiled kernels are not cached", dir,
              strerror(saved));
    return CLRN_STATUS_IO_ERROR;
  }
  return CLRN_STATUS_SUCCESS;
}

bool clrn_read_small_file(const char *path, unsigned char **data, size_t *size) {
  return read_file(path, data, size);
}
