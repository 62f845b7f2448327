/* A malformed-input corpus (tests/weights/corpus of safetensors files,
 * tests/weights/pth_corpus of PyTorch checkpoints or tests/fuzz/h5_corpus of Keras
 * .h5 files; the fuzzers' seeds): every file listed in its README.md table is
 * opened as weights (clrn_weights_file_open(), which parses it with
 * clrn_safetensors_open(), clrn_pth_open() or clrn_h5_open(), by its first bytes)
 * and every float tensor is read as the plan reads it (clrn_weights_read(), which
 * checks the values); the first failure must be the status the table gives, with
 * a message naming the file. Every file in the folder must be listed, and at least
 * 12 must be malformed. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "weights/weights.h"

#define MAX_ROWS 256

typedef struct row {
  char file[128];
  clrn_status status;
} row;

static const char *corpus_dir(void) {
  const char *dir = getenv("CLRN_CORPUS_DIR");
  if (!dir || !*dir) {
    fprintf(stderr, "CLRN_CORPUS_DIR is not set\n");
    exit(1);
  }
  return dir;
}

static bool status_from_name(const char *name, clrn_status *status) {
  static const struct {
    const char *name;
    clrn_status status;
  } names[] = {{"SUCCESS", CLRN_STATUS_SUCCESS},
               {"INVALID_FORMAT", CLRN_STATUS_INVALID_FORMAT},
               {"UNSUPPORTED", CLRN_STATUS_UNSUPPORTED}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(name, names[i].name) == 0) {
      *status = names[i].status;
      return true;
    }
  return false;
}

/* Reads the rows "| file | STATUS | what is wrong |" of the README's table. */
static size_t read_table(row *rows) {
  char path[1024], line[1024];
  snprintf(path, sizeof path, "%s/README.md", corpus_dir());
  FILE *f = fopen(path, "r");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  size_t count = 0;
  while (fgets(line, sizeof line, f)) {
    char file[128], status[64];
    if (sscanf(line, "| %127s | %63s |", file, status) != 2 || strcmp(file, "file") == 0 ||
        file[0] == '-' || strncmp(file, "|-", 2) == 0)
      continue;
    CU_ASSERT_FATAL(count < MAX_ROWS);
    snprintf(rows[count].file, sizeof rows[count].file, "%s", file);
    bool known = status_from_name(status, &rows[count].status);
    if (!known)
      fprintf(stderr, "\nREADME.md: unknown status %s for %s\n", status, file);
    CU_ASSERT(known);
    count++;
  }
  fclose(f);
  return count;
}

/* Reads every F32, F16 and BF16 tensor of w; the first failure. */
static clrn_status read_floats(const clrn_weights *w) {
  for (size_t i = 0; i < clrn_weights_count(w); i++) {
    clrn_tensor_info t = clrn_weights_at(w, i);
    if (t.dtype != CLRN_DTYPE_F32 && t.dtype != CLRN_DTYPE_F16 && t.dtype != CLRN_DTYPE_BF16)
      continue;
    size_t elements = 1;
    for (int d = 0; d < t.ndim; d++)
      elements *= (size_t)t.shape[d];
    float *out = malloc(elements ? elements * sizeof *out : 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    clrn_status status = clrn_weights_read(w, t.name, t.ndim, t.shape, out);
    free(out);
    if (status != CLRN_STATUS_SUCCESS)
      return status;
  }
  return CLRN_STATUS_SUCCESS;
}

static void test_every_file_refused_as_listed(void) {
  static row rows[MAX_ROWS];
  size_t count = read_table(rows), malformed = 0;
  for (size_t i = 0; i < count; i++) {
    char path[1024];
    int length = snprintf(path, sizeof path, "%s/%s", corpus_dir(), rows[i].file);
    CU_ASSERT_FATAL(length > 0 && (size_t)length < sizeof path);
    clrn_weights *w = NULL;
    clrn_clear_error();
    clrn_status status = clrn_weights_file_open(path, &w);
    bool ok = status != CLRN_STATUS_SUCCESS
                  ? w == NULL
                  : w != NULL && (w->is_pth || w->is_h5 || w->file.has_fd);
    if (status == CLRN_STATUS_SUCCESS)
      status = read_floats(w);
    clrn_weights_close(w);
    const char *message = clrn_last_error();
    ok = ok && status == rows[i].status;
    if (status != CLRN_STATUS_SUCCESS) {
      ok = ok && strstr(message, path) != NULL;
      malformed++;
    }
    if (!ok)
      fprintf(stderr, "\n%s: got %s \"%s\", wanted %s\n", rows[i].file, clrn_status_string(status),
              message, clrn_status_string(rows[i].status));
    CU_ASSERT(ok);
  }
  CU_ASSERT(malformed >= 12);
}

static void test_every_file_listed(void) {
  static row rows[MAX_ROWS];
  size_t count = read_table(rows);
  DIR *d = opendir(corpus_dir());
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0)
      continue;
    bool listed = false;
    for (size_t i = 0; i < count && !listed; i++)
      listed = strcmp(rows[i].file, e->d_name) == 0;
    if (!listed)
      fprintf(stderr, "\n%s is not in README.md\n", e->d_name);
    CU_ASSERT(listed);
  }
  closedir(d);
}

int main(void) {
  clrn_test_add_suite("weights corpus", NULL, NULL, "every file refused as listed",
                      test_every_file_refused_as_listed, "every file listed",
                      test_every_file_listed, NULL);
  return clrn_test_run();
}
