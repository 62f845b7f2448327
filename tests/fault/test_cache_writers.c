/* Two processes filling one kernel cache at once (issue 14, item 4): each stores
 * the same entries (large enough that a write takes several system calls) again
 * and again while loading them back. A load may miss but never meets a damaged
 * entry (an entry is written to a temporary file and renamed into place whole),
 * both writers succeed, and the cache they leave holds every entry, valid, with
 * no temporary file. Without the atomic rename a reader sees a half-written entry
 * and the test fails. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "runtime/cache.h"

#define ENTRIES 8
#define ENTRY_BYTES (256 * 1024)
#define ROUNDS 40

static char dir[256];

/* Entry k: its key and its bytes, the same in every process. */
static void entry(int k, char *key, size_t key_size, unsigned char *bytes) {
  snprintf(key, key_size, "program %d|-DCLRN_TEST|device|driver", k);
  for (size_t i = 0; i < ENTRY_BYTES; i++)
    bytes[i] = (unsigned char)((i * 31u + (unsigned)k * 7u) >> 3);
}

/* Loads entry k: CLRN_CACHE_RESULT_HIT with the right bytes, or a miss when
 * allow_miss; 0 when so, else 1. */
static int check_entry(int k, unsigned char *bytes, bool allow_miss) {
  char key[128];
  entry(k, key, sizeof key, bytes);
  unsigned char *got = NULL;
  size_t size = 0;
  clrn_cache_result result = clrn_cache_load(key, &got, &size);
  int bad = result == CLRN_CACHE_RESULT_BAD || (result == CLRN_CACHE_RESULT_MISS && !allow_miss) ||
            (result == CLRN_CACHE_RESULT_HIT &&
             (size != ENTRY_BYTES || memcmp(got, bytes, ENTRY_BYTES) != 0));
  if (bad)
    fprintf(stderr, "entry %d: result %d, %zu bytes\n", k, (int)result, size);
  free(got);
  return bad;
}

/* One writer: stores every entry ROUNDS times, loading another one after each
 * store. Returns its exit status: 0 when every store and load went right. */
static int writer(int id) {
  unsigned char *bytes = malloc(ENTRY_BYTES);
  if (!bytes)
    return 1;
  int failures = 0;
  for (int round = 0; round < ROUNDS; round++)
    for (int k = 0; k < ENTRIES; k++) {
      char key[128];
      entry(k, key, sizeof key, bytes);
      failures += clrn_cache_store(key, bytes, ENTRY_BYTES) != CLRN_STATUS_SUCCESS;
      failures += check_entry((k + 1 + id) % ENTRIES, bytes, true);
    }
  free(bytes);
  return failures ? 1 : 0;
}

static void test_two_writers(void) {
  clrn_test_temp_dir(dir, sizeof dir); /* an empty cache of its own */
  setenv("CLRN_CACHE_DIR", dir, 1);
  pid_t pids[2];
  for (int i = 0; i < 2; i++) {
    pids[i] = fork();
    CU_ASSERT_FATAL(pids[i] >= 0);
    if (pids[i] == 0)
      _exit(writer(i));
  }
  for (int i = 0; i < 2; i++) {
    int status = 0;
    CU_ASSERT_EQUAL(waitpid(pids[i], &status, 0), pids[i]);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  unsigned char *bytes = malloc(ENTRY_BYTES);
  CU_ASSERT_PTR_NOT_NULL_FATAL(bytes);
  for (int k = 0; k < ENTRIES; k++)
    CU_ASSERT_EQUAL(check_entry(k, bytes, false), 0);
  free(bytes);
  DIR *d = opendir(dir);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  int files = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.')
      continue;
    files++;
    CU_ASSERT_PTR_NULL(strstr(e->d_name, ".tmp"));
  }
  closedir(d);
  CU_ASSERT_EQUAL(files, ENTRIES);
  clrn_test_remove_dir(dir);
}

int main(void) {
  clrn_test_add_suite("cache writers", NULL, NULL, "two processes at once", test_two_writers, NULL);
  return clrn_test_run();
}
