/* Atomic output files: the up-front output check, commit replacing the target
 * whole, abort and every failure leaving the old target untouched and no
 * temporary file behind, permissions following the umask like fopen(), symbolic
 * links followed (never replaced), devices, FIFOs and descriptors written directly,
 * read-only files refused, and the temporaries' table a signal handler empties. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <sys/socket.h>
#include <sys/un.h>

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
  CLRN_ASSERT_OK(clrn_output_check("/dev/null")); /* written directly, not replaced */
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  snprintf(address.sun_path, sizeof address.sun_path, "%.90s/socket", dir);
  int sock = socket(AF_UNIX, SOCK_STREAM, 0);
  CU_ASSERT_EQUAL_FATAL(bind(sock, (struct sockaddr *)&address, sizeof address), 0);
  expect_refused(address.sun_path, "not a regular file");
  close(sock);
  unlink(address.sun_path);
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

/* A link is followed: the file it leads to is replaced, the link stays a link. */
static void test_links_followed(void) {
  char target[512], link[512], dangling[512], created[512], temp[600];
  snprintf(target, sizeof target, "%s/target.txt", dir);
  snprintf(link, sizeof link, "%s/link.txt", dir);
  snprintf(dangling, sizeof dangling, "%s/dangling.txt", dir);
  snprintf(created, sizeof created, "%s/created.txt", dir);
  write_text(target, "old");
  CU_ASSERT_EQUAL_FATAL(symlink("target.txt", link), 0); /* relative to the link's folder */
  CU_ASSERT_EQUAL_FATAL(symlink(created, dangling), 0);
  FILE *file = NULL;
  CLRN_ASSERT_OK(clrn_output_check(link));
  CLRN_ASSERT_OK(clrn_atomic_open(link, temp, sizeof temp, &file));
  fputs("new", file);
  CLRN_ASSERT_OK(clrn_atomic_commit(file, temp, link));
  struct stat st;
  CU_ASSERT(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
  CU_ASSERT(has_text(target, "new"));
  CLRN_ASSERT_OK(clrn_atomic_open(dangling, temp, sizeof temp, &file));
  fputs("made", file);
  CLRN_ASSERT_OK(clrn_atomic_commit(file, temp, dangling));
  CU_ASSERT(lstat(dangling, &st) == 0 && S_ISLNK(st.st_mode));
  CU_ASSERT(has_text(created, "made"));
  CU_ASSERT_EQUAL(entries(dir), 4);
  const char *names[] = {target, link, dangling, created};
  for (int i = 0; i < 4; i++)
    unlink(names[i]);
}

/* Devices, FIFOs and this process's descriptors are written in place, no temporary. */
static void test_direct_targets(void) {
  char temp[600], path[512];
  FILE *file = NULL;
  CLRN_ASSERT_OK(clrn_atomic_open("/dev/null", temp, sizeof temp, &file));
  CU_ASSERT_STRING_EQUAL(temp, "");
  fputs("nothing", file);
  CLRN_ASSERT_OK(clrn_atomic_commit(file, temp, "/dev/null"));
  struct stat st;
  CU_ASSERT(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));

  int fds[2];
  CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
  const char *forms[] = {"/dev/fd/%d", "/proc/self/fd/%d"};
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof path, forms[i], fds[1]);
    CLRN_ASSERT_OK(clrn_output_check(path));
    CLRN_ASSERT_OK(clrn_atomic_open(path, temp, sizeof temp, &file));
    CU_ASSERT_STRING_EQUAL(temp, "");
    fputs("piped", file);
    CLRN_ASSERT_OK(clrn_atomic_commit(file, temp, path));
    char got[8] = "";
    CU_ASSERT_EQUAL(read(fds[0], got, 5), 5);
    CU_ASSERT_STRING_EQUAL(got, "piped");
  }
  /* A private link to our stdout-like descriptor: followed to the descriptor. */
  char link[512];
  snprintf(link, sizeof link, "%s/out", dir);
  snprintf(path, sizeof path, "/proc/self/fd/%d", fds[1]);
  CU_ASSERT_EQUAL_FATAL(symlink(path, link), 0);
  CLRN_ASSERT_OK(clrn_atomic_open(link, temp, sizeof temp, &file));
  fputs("linked", file);
  CLRN_ASSERT_OK(clrn_atomic_commit(file, temp, link));
  char got[8] = "";
  CU_ASSERT_EQUAL(read(fds[0], got, 6), 6);
  CU_ASSERT_STRING_EQUAL(got, "linked");
  CU_ASSERT(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
  unlink(link);
  snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
  expect_refused(path, "reading only");
  close(fds[0]);
  close(fds[1]);
  expect_refused(path, "not open");

  snprintf(path, sizeof path, "%s/fifo", dir);
  CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0644), 0);
  CLRN_ASSERT_OK(clrn_output_check(path)); /* without waiting for a reader */
  unlink(path);
  CU_ASSERT_EQUAL(entries(dir), 0);
}

/* The rename would replace a read-only file: refused like fopen() would, even for root. */
static void test_read_only_refused(void) {
  char path[512], temp[600];
  snprintf(path, sizeof path, "%s/locked.txt", dir);
  write_text(path, "keep");
  CU_ASSERT_EQUAL_FATAL(chmod(path, 0444), 0);
  expect_refused(path, "read-only");
  FILE *file = NULL;
  CU_ASSERT_EQUAL(clrn_atomic_open(path, temp, sizeof temp, &file), CLRN_STATUS_IO_ERROR);
  CU_ASSERT_PTR_NULL(file);
  CU_ASSERT(has_text(path, "keep"));
  unlink(path);
  CU_ASSERT_EQUAL(entries(dir), 0);
}

/* What a SIGINT/SIGTERM handler calls: every live temporary is removed, and the
 * writer's later abort or commit does no harm. */
static void test_remove_temporaries(void) {
  enum { OPEN = 40 }; /* more than the table holds: the rest simply stay unlisted */
  char paths[OPEN][512], temps[OPEN][600];
  FILE *files[OPEN];
  for (int i = 0; i < OPEN; i++) {
    snprintf(paths[i], sizeof paths[i], "%s/out%d.txt", dir, i);
    CLRN_ASSERT_OK(clrn_atomic_open(paths[i], temps[i], sizeof temps[i], &files[i]));
  }
  CU_ASSERT_EQUAL(entries(dir), OPEN);
  clrn_atomic_remove_temporaries();
  CU_ASSERT_EQUAL(entries(dir), OPEN - 32);
  for (int i = 0; i < OPEN; i++)
    clrn_atomic_abort(files[i], temps[i]);
  CU_ASSERT_EQUAL(entries(dir), 0);
  /* The table is free again: a new temporary is listed, then committed normally. */
  CLRN_ASSERT_OK(clrn_atomic_open(paths[0], temps[0], sizeof temps[0], &files[0]));
  clrn_atomic_remove_temporaries();
  CU_ASSERT_EQUAL(entries(dir), 0);
  CU_ASSERT_EQUAL(clrn_atomic_commit(files[0], temps[0], paths[0]), CLRN_STATUS_IO_ERROR);
  CLRN_ASSERT_OK(clrn_atomic_open(paths[0], temps[0], sizeof temps[0], &files[0]));
  CLRN_ASSERT_OK(clrn_atomic_commit(files[0], temps[0], paths[0]));
  CU_ASSERT_EQUAL(entries(dir), 1);
  unlink(paths[0]);
}

int main(void) {
  clrn_test_add_suite("atomic", setup, teardown, "output check", test_output_check,
                      "commit replaces the target", test_commit_replaces, "failures leave nothing",
                      test_failures_leave_nothing, "links are followed", test_links_followed,
                      "devices, FIFOs and descriptors are written directly", test_direct_targets,
                      "read-only files are refused", test_read_only_refused,
                      "temporaries removed for a signal handler", test_remove_temporaries, NULL);
  return clrn_test_run();
}
