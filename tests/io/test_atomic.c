/* Atomic output files: the up-front output check, commit replacing the target
 * whole, abort and every failure leaving the old target untouched and no
 * temporary file behind, and permissions following the umask like fopen(). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>

#include "harness.h"

static char dir[256];

static int setup(void) {
  clrn_test_temp_dir(dir, sizeof dir);
  return 0;
}

static int teardown(void) {
  clrn_test_remove_dir(dir);
  return 0;
}

/* Number of entries in a folder, . and .. aside: temporaries left behind show up. */
static int entries(const char *path) {
  DIR *d = opendir(path);
  if (!d)
    return -1;
  int n = 0;
  for (struct dirent *e = readdir(d); e; e = readdir(d))
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      n++;
  closedir(d);
  return n;
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs(text, f);
  fclose(f);
}

static bool has_text(const char *path, const char *text) {
  char buffer[256] = "";
  FILE *f = fopen(path, "r");
  if (!f)
    return false;
  size_t n = fread(buffer, 1, sizeof buffer - 1, f);
  buffer[n] = '\0';
  fclose(f);
  return strcmp(buffer, text) == 0;
}

static void expect_refused(const char *path, const char *needle) {
  clrn_status status = clrn_output_check(path);
  if (status != CLRN_STATUS_IO_ERROR || !strstr(clrn_last_error(), needle))
    fprintf(stderr, "\n%s: %s: %s\n", path, clrn_status_string(status), clrn_last_error());
  CU_ASSERT_EQUAL(status, CLRN_STATUS_IO_ERROR);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), needle));
  CU_ASSERT_PTR_NULL(strchr(clrn_last_error(), '\n'));
}

static void test_output_check(void) {
  char path[512];
  snprintf(path, sizeof path, "%s/out.npy", dir);
  CLRN_ASSERT_OK(clrn_output_check(path));
  CU_ASSERT_EQUAL(entries(dir), 0); /* the probe file is gone */
  write_text(path, "old");
  CLRN_ASSERT_OK(clrn_output_check(path));
  CU_ASSERT(has_text(path, "old"));
  CU_ASSERT_EQUAL(entries(dir), 1);
  unlink(path);

  snprintf(path, sizeof path, "%s/no/such/folder/out.npy", dir);
  expect_refused(path, "no/such/folder");
  expect_refused(dir, "is a directory");
  snprintf(path, sizeof path, "%s/", dir);
  expect_refused(path, "names a folder");
  expect_refused("/dev/null", "not a regular file");
  char file_as_dir[300];
  snprintf(file_as_dir, sizeof file_as_dir, "%s/plain", dir);
  write_text(file_as_dir, "x");
  snprintf(path, sizeof path, "%s/out.npy", file_as_dir);
  expect_refused(path, "is not a folder");
  unlink(file_as_dir);

  /* An unwritable folder: a read-only one for an ordinary user; root ignores
   * permissions, so there a location where nothing can be created instead. */
  char locked[300];
  snprintf(locked, sizeof locked, "%s/locked", dir);
  CU_ASSERT_EQUAL_FATAL(mkdir(locked, 0555), 0);
  snprintf(path, sizeof path, "%s/out.npy", locked);
  if (geteuid() != 0)
    expect_refused(path, "cannot create");
  rmdir(locked);
  int probe = open("/sys/clrn-probe", O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (probe < 0)
    expect_refused("/sys/clrn-out.npy", "cannot create");
  else
    close(probe), unlink("/sys/clrn-probe");

  CU_ASSERT_EQUAL(clrn_output_check(NULL), CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_EQUAL(clrn_output_check(""), CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_EQUAL(entries(dir), 0);
}

static void test_commit_replaces(void) {
  char path[512], temp[600];
  snprintf(path, sizeof path, "%s/target.txt", dir);
  write_text(path, "old contents");
  FILE *file = NULL;
  CLRN_ASSERT_OK(clrn_atomic_open(path, temp, sizeof temp, &file));
  CU_ASSERT_EQUAL(strncmp(temp, dir, strlen(dir)), 0); /* beside the target */
  CU_ASSERT_EQUAL(entries(dir), 2);
  fputs("new", file);
  CU_ASSERT(has_text(path, "old contents")); /* untouched until the commit */
  CLRN_ASSERT_OK(clrn_atomic_commit(file, temp, path));
  CU_ASSERT(has_text(path, "new"));
  CU_ASSERT_EQUAL(entries(dir), 1);
  CU_ASSERT_NOT_EQUAL(access(temp, F_OK), 0);

  /* Mode 0666 less the umask, as fopen() would give (mkstemp would give 0600). */
  mode_t old = umask(027);
  CLRN_ASSERT_OK(clrn_atomic_open(path, temp, sizeof temp, &file));
  CLRN_ASSERT_OK(clrn_atomic_commit(file, temp, path));
  umask(old);
  struct stat st;
  CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
  CU_ASSERT_EQUAL(st.st_mode & 0777, 0640);
  unlink(path);

  /* Relative paths work: the temporary goes in the current folder. */
  char cwd[512];
  CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof cwd));
  CU_ASSERT_EQUAL_FATAL(chdir(dir), 0);
  CLRN_ASSERT_OK(clrn_atomic_open("relative.txt", temp, sizeof temp, &file));
  fputs("rel", file);
  CLRN_ASSERT_OK(clrn_atomic_commit(file, temp, "relative.txt"));
  CU_ASSERT(has_text("relative.txt", "rel"));
  unlink("relative.txt");
  CU_ASSERT_EQUAL(chdir(cwd), 0);
  CU_ASSERT_EQUAL(entries(dir), 0);
}

static void test_failures_leave_nothing(void) {
  char path[512], temp[600];
  snprintf(path, sizeof path, "%s/target.txt", dir);
  write_text(path, "old contents");
  FILE *file = NULL;
  /* Abort. */
  CLRN_ASSERT_OK(clrn_atomic_open(path, temp, sizeof temp, &file));
  fputs("half-written", file);
  clrn_atomic_abort(file, temp);
  CU_ASSERT(has_text(path, "old contents"));
  CU_ASSERT_EQUAL(entries(dir), 1);

  /* The rename fails (the target became a folder meanwhile): temporary removed. */
  char other[512];
  snprintf(other, sizeof other, "%s/becomes-a-folder", dir);
  CLRN_ASSERT_OK(clrn_atomic_open(other, temp, sizeof temp, &file));
  fputs("data", file);
  CU_ASSERT_EQUAL_FATAL(mkdir(other, 0755), 0);
  char inside[600];
  snprintf(inside, sizeof inside, "%s/keep", other);
  write_text(inside, "kept");
  CU_ASSERT_EQUAL(clrn_atomic_commit(file, temp, other), CLRN_STATUS_IO_ERROR);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "rename"));
  CU_ASSERT_NOT_EQUAL(access(temp, F_OK), 0);
  CU_ASSERT(has_text(inside, "kept"));
  unlink(inside);
  rmdir(other);
  CU_ASSERT_EQUAL(entries(dir), 1);

  /* Refused before anything is created. */
  CU_ASSERT_EQUAL(clrn_atomic_open(path, temp, 8, &file), CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_PTR_NULL(file);
  CU_ASSERT_EQUAL(clrn_atomic_open(dir, temp, sizeof temp, &file), CLRN_STATUS_IO_ERROR);
  CU_ASSERT_EQUAL(clrn_atomic_open("/dev/null", temp, sizeof temp, &file), CLRN_STATUS_IO_ERROR);
  CU_ASSERT_EQUAL(clrn_atomic_commit(NULL, "", path), CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_EQUAL(entries(dir), 1);

  /* clrn_npy_write goes through the same path: a failed write keeps the old file. */
  const float data[2] = {1, 2};
  const int64_t bad[1] = {-2}, two[1] = {2};
  CU_ASSERT_EQUAL(clrn_npy_write(path, data, 1, bad), CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT(has_text(path, "old contents"));
  char missing[600];
  snprintf(missing, sizeof missing, "%s/missing/out.npy", dir);
  CU_ASSERT_EQUAL(clrn_npy_write(missing, data, 1, two), CLRN_STATUS_IO_ERROR);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), missing));
  CU_ASSERT_EQUAL(entries(dir), 1);
  CLRN_ASSERT_OK(clrn_npy_write(path, data, 1, two));
  clrn_npy back;
  CLRN_ASSERT_OK(clrn_npy_read(path, 2, &back));
  CU_ASSERT(back.data[0] == 1 && back.data[1] == 2);
  clrn_npy_free(&back);
  unlink(path);
  CU_ASSERT_EQUAL(entries(dir), 0);
}

int main(void) {
  clrn_test_add_suite("atomic", setup, teardown, "output check", test_output_check,
                      "commit replaces the target", test_commit_replaces, "failures leave nothing",
                      test_failures_leave_nothing, NULL);
  return clrn_test_run();
}
