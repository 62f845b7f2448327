/* The on-disk binary cache without a device: folder choice, round trip, and
 * rejection of truncated, corrupted and foreign entries. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "runtime/cache.h"

static char dir[256];

static int setup(void) {
  clrn_test_temp_dir(dir, sizeof dir);
  setenv("CLRN_CACHE_DIR", dir, 1);
  return 0;
}

static int teardown(void) {
  clrn_test_remove_dir(dir);
  return 0;
}

static void test_folder_choice(void) {
  char path[512];
  setenv("CLRN_CACHE_DIR", "off", 1);
  CU_ASSERT_FALSE(clrn_cache_dir(path, sizeof path));
  unsetenv("CLRN_CACHE_DIR");
  setenv("XDG_CACHE_HOME", "/x/cache", 1);
  CU_ASSERT(clrn_cache_dir(path, sizeof path));
  CU_ASSERT_STRING_EQUAL(path, "/x/cache/clresnet");
  unsetenv("XDG_CACHE_HOME");
  setenv("HOME", "/home/someone", 1);
  CU_ASSERT(clrn_cache_dir(path, sizeof path));
  CU_ASSERT_STRING_EQUAL(path, "/home/someone/.cache/clresnet");
  setenv("CLRN_CACHE_DIR", dir, 1);
  CU_ASSERT(clrn_cache_dir(path, sizeof path));
  CU_ASSERT_STRING_EQUAL(path, dir);
}

static size_t count_files(void) {
  DIR *d = opendir(dir);
  size_t n = 0;
  for (struct dirent *e; d && (e = readdir(d));)
    n += e->d_name[0] != '.';
  if (d)
    closedir(d);
  return n;
}

static void test_round_trip(void) {
  const unsigned char binary[] = "not really a binary, but bytes all the same";
  unsigned char *loaded = NULL;
  size_t size = 0;
  CU_ASSERT_EQUAL(clrn_cache_load("key one", &loaded, &size), CLRN_CACHE_RESULT_MISS);
  CLRN_ASSERT_OK(clrn_cache_store("key one", binary, sizeof binary));
  CU_ASSERT_EQUAL(count_files(), 1); /* no temporary file left behind */
  CU_ASSERT_EQUAL(clrn_cache_load("key one", &loaded, &size), CLRN_CACHE_RESULT_HIT);
  CU_ASSERT_EQUAL(size, sizeof binary);
  CU_ASSERT(loaded && memcmp(loaded, binary, sizeof binary) == 0);
  free(loaded);
  CU_ASSERT_EQUAL(clrn_cache_load("key two", &loaded, &size), CLRN_CACHE_RESULT_MISS);
}

/* Rewrites the entry of key with a damaged copy made by damage(). */
static void damage_entry(const char *key, void (*damage)(unsigned char *, long *)) {
  char path[512];
  CU_ASSERT_FATAL(clrn_cache_entry_path(key, path, sizeof path));
  FILE *f = fopen(path, "rb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  unsigned char data[4096];
  long n = (long)fread(data, 1, sizeof data, f);
  fclose(f);
  damage(data, &n);
  f = fopen(path, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fwrite(data, 1, (size_t)n, f);
  fclose(f);
}

static void truncate_tail(unsigned char *data, long *n) {
  (void)data;
  *n -= 5;
}
static void flip_payload(unsigned char *data, long *n) { data[*n - 3] ^= 0x40; }
static void break_magic(unsigned char *data, long *n) {
  (void)n;
  data[0] = 'X';
}
static void empty(unsigned char *data, long *n) {
  (void)data;
  *n = 0;
}
static void grow(unsigned char *data, long *n) { data[(*n)++] = 0; }
static void change_key(unsigned char *data, long *n) {
  (void)n;
  data[32] ^= 1;
}

static void test_damaged_entries(void) {
  void (*damages[])(unsigned char *, long *) = {truncate_tail, flip_payload, break_magic,
                                                empty,         grow,         change_key};
  const unsigned char binary[] = "binary payload for damage tests";
  for (size_t i = 0; i < sizeof damages / sizeof damages[0]; i++) {
    CLRN_ASSERT_OK(clrn_cache_store("damaged", binary, sizeof binary));
    damage_entry("damaged", damages[i]);
    unsigned char *loaded = NULL;
    size_t size = 0;
    CU_ASSERT_EQUAL(clrn_cache_load("damaged", &loaded, &size), CLRN_CACHE_RESULT_BAD);
    CU_ASSERT_PTR_NULL(loaded);
    /* Storing again replaces the bad entry. */
    CLRN_ASSERT_OK(clrn_cache_store("damaged", binary, sizeof binary));
    CU_ASSERT_EQUAL(clrn_cache_load("damaged", &loaded, &size), CLRN_CACHE_RESULT_HIT);
    free(loaded);
  }
}

static void test_unwritable_folder(void) {
  setenv("CLRN_CACHE_DIR", "/proc/clrn-no-such-place", 1);
  CU_ASSERT_EQUAL(clrn_cache_store("k", (const unsigned char *)"x", 1), CLRN_STATUS_IO_ERROR);
  setenv("CLRN_CACHE_DIR", dir, 1);
}

int main(void) {
  clrn_test_add_suite("cache", setup, teardown, "folder choice", test_folder_choice, "round trip",
                      test_round_trip, "damaged entries", test_damaged_entries, "unwritable folder",
                      test_unwritable_folder, NULL);
  return clrn_test_run();
}
