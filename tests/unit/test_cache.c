/* The on-disk binary cache without a device: folder choice, round trip,
 * rejection of truncated, corrupted and foreign entries, one warning for a folder
 * that cannot be written, and trust only in a folder nobody else can write. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "runtime/cache.h"

static char dir[256];

static void count_warnings(clrn_log_level level, const char *message, void *user_data);

static int setup(void) {
  clrn_log_set_callback(count_warnings, CLRN_LOG_LEVEL_WARNING, NULL);
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

static int warnings;
static char last_warning[1024];

static void count_warnings(clrn_log_level level, const char *message, void *user_data) {
  (void)user_data;
  if (level != CLRN_LOG_LEVEL_WARNING)
    return;
  warnings++;
  snprintf(last_warning, sizeof last_warning, "%s", message);
}

/* An unwritable folder fails every store but says so once (it said it six times,
 * once per kernel program). */
static void test_unwritable_folder(void) {
  char file[600];
  snprintf(file, sizeof file, "%s/plain-file", dir);
  FILE *f = fopen(file, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fclose(f);
  const char *places[] = {"/proc/clrn-no-such-place", file};
  for (size_t p = 0; p < 2; p++) {
    char place[700];
    snprintf(place, sizeof place, "%s/cache", places[p]);
    setenv("CLRN_CACHE_DIR", place, 1);
    warnings = 0;
    for (int i = 0; i < 6; i++)
      CU_ASSERT_EQUAL(clrn_cache_store("k", (const unsigned char *)"x", 1), CLRN_STATUS_IO_ERROR);
    CU_ASSERT_EQUAL(warnings, 1);
    printf("\n  %s", last_warning);
  }
  setenv("CLRN_CACHE_DIR", dir, 1);
  remove(file);
}

static mode_t mode_of(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? st.st_mode & 07777 : 0;
}

/* Tries an entry in the current folder and expects the cache refused, with one
 * warning containing reason for any number of loads and stores. */
static void expect_refused(const char *folder, const char *reason) {
  unsigned char *loaded = NULL;
  size_t size = 0;
  warnings = 0;
  for (int i = 0; i < 3; i++) {
    CU_ASSERT_EQUAL(clrn_cache_load("trusted?", &loaded, &size), CLRN_CACHE_RESULT_MISS);
    CU_ASSERT_EQUAL(clrn_cache_store("trusted?", (const unsigned char *)"y", 1),
                    CLRN_STATUS_IO_ERROR);
  }
  CU_ASSERT_EQUAL(warnings, 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(last_warning, reason));
  CU_ASSERT_PTR_NOT_NULL(strstr(last_warning, folder));
  printf("\n  %s", last_warning);
}

/* The cache runs what it loads, so it trusts only a folder of the user's own that
 * nobody else can write: made with mode 0700, refused otherwise. */
static void test_trusted_folder(void) {
  char parent[600], folder[700];
  snprintf(parent, sizeof parent, "%s/made", dir);
  snprintf(folder, sizeof folder, "%s/here", parent);
  setenv("CLRN_CACHE_DIR", folder, 1);
  const unsigned char binary[] = "trusted payload";
  CLRN_ASSERT_OK(clrn_cache_store("trusted?", binary, sizeof binary));
  CU_ASSERT_EQUAL(mode_of(parent), 0700);
  CU_ASSERT_EQUAL(mode_of(folder), 0700);
  unsigned char *loaded = NULL;
  size_t size = 0;
  CU_ASSERT_EQUAL(clrn_cache_load("trusted?", &loaded, &size), CLRN_CACHE_RESULT_HIT);
  free(loaded);

  chmod(folder, 0777);
  expect_refused(folder, "by its group or by others");
  chmod(folder, 0730);
  expect_refused(folder, "by its group or by others");
  chmod(folder, 0755); /* readable by others is fine: only writing matters */
  CU_ASSERT_EQUAL(clrn_cache_load("trusted?", &loaded, &size), CLRN_CACHE_RESULT_HIT);
  free(loaded);
  if (geteuid() == 0 && chown(folder, 65534, 65534) == 0) {
    chmod(folder, 0700);
    expect_refused(folder, "belongs to another user");
    CU_ASSERT_EQUAL(chown(folder, 0, 0), 0);
  }
  setenv("CLRN_CACHE_DIR", "/tmp", 1); /* sticky, but anyone can add files */
  expect_refused("/tmp", "by its group or by others");
  setenv("CLRN_CACHE_DIR", dir, 1);
}

int main(void) {
  clrn_test_add_suite("cache", setup, teardown, "folder choice", test_folder_choice, "round trip",
                      test_round_trip, "damaged entries", test_damaged_entries, "unwritable folder",
                      test_unwritable_folder, "trusted folder", test_trusted_folder, NULL);
  return clrn_test_run();
}
