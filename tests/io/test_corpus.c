/* The malformed-input corpus (tests/io/corpus/{npy,image}/, made by make_corpus.py):
 * every file listed in a folder's README must give the status listed there, from a
 * file and from memory, with a one-line detail that names the file and nothing left
 * allocated (ASan builds check that); every file in the folder must be listed. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* .npy files may declare at most this many elements in these tests. */
#define NPY_LIMIT ((size_t)1 << 24)

static const char *io_dir;

static bool status_named(const char *name, clrn_status *status) {
  static const struct {
    const char *name;
    clrn_status status;
  } names[] = {{"ok", CLRN_STATUS_SUCCESS},
               {"INVALID_FORMAT", CLRN_STATUS_INVALID_FORMAT},
               {"UNSUPPORTED", CLRN_STATUS_UNSUPPORTED},
               {"IO_ERROR", CLRN_STATUS_IO_ERROR}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(name, names[i].name) == 0) {
      *status = names[i].status;
      return true;
    }
  return false;
}

static unsigned char *slurp(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long length = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *data = malloc(length > 0 ? (size_t)length : 1);
  *size = data ? fread(data, 1, (size_t)length, f) : 0;
  fclose(f);
  return data;
}

/* Loads one file both ways and checks status and detail. */
static void check(bool npy, const char *path, const char *file, clrn_status want) {
  clrn_status got[2];
  for (int way = 0; way < 2; way++) {
    size_t size = 0;
    unsigned char *data = way ? slurp(path, &size) : NULL;
    if (way)
      CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    clrn_npy array;
    clrn_image image;
    if (npy)
      got[way] = way ? clrn_npy_parse(data, size, path, NPY_LIMIT, &array)
                     : clrn_npy_read(path, NPY_LIMIT, &array);
    else
      got[way] = way ? clrn_image_decode(data, size, path, &image) : clrn_image_load(path, &image);
    const char *detail = clrn_last_error();
    if (got[way] != want)
      fprintf(stderr, "\n%s (%s): wanted %s, got %s: %s\n", file, way ? "memory" : "file",
              clrn_status_string(want), clrn_status_string(got[way]),
              got[way] ? detail : "(success)");
    CU_ASSERT_EQUAL(got[way], want);
    if (got[way] != CLRN_STATUS_SUCCESS) {
      CU_ASSERT_PTR_NOT_NULL(strstr(detail, path)); /* names the file */
      CU_ASSERT_PTR_NULL(strchr(detail, '\n'));     /* one line */
      CU_ASSERT(npy ? array.data == NULL : image.rgb == NULL);
    } else if (npy) {
      CU_ASSERT_PTR_NOT_NULL(array.data);
      clrn_npy_free(&array);
    } else {
      CU_ASSERT(image.width > 0 && image.height > 0 && image.rgb);
      clrn_image_free(&image);
    }
    free(data);
  }
  if (want != CLRN_STATUS_SUCCESS)
    printf("\n    %-24s %s", file, clrn_last_error() + strlen(path) + 2);
}

static void check_folder(const char *kind, bool npy) {
  char folder[1024], readme[1100], line[512];
  snprintf(folder, sizeof folder, "%s/corpus/%s", io_dir, kind);
  snprintf(readme, sizeof readme, "%s/README", folder);
  FILE *f = fopen(readme, "r");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  char listed[128][64];
  int count = 0, refused = 0;
  while (fgets(line, sizeof line, f)) {
    char file[64], status_name[32];
    if (line[0] == '#' || sscanf(line, "%63s %31s", file, status_name) != 2)
      continue;
    clrn_status want = CLRN_STATUS_SUCCESS;
    CU_ASSERT_FATAL(status_named(status_name, &want));
    CU_ASSERT_FATAL(count < 128);
    snprintf(listed[count++], sizeof listed[0], "%s", file);
    refused += want != CLRN_STATUS_SUCCESS;
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", folder, file);
    check(npy, path, file, want);
  }
  fclose(f);
  CU_ASSERT(refused >= 10);
  /* Every file in the folder is listed, so none goes unchecked. */
  DIR *d = opendir(folder);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  for (struct dirent *e = readdir(d); e; e = readdir(d)) {
    if (e->d_name[0] == '.' || strcmp(e->d_name, "README") == 0)
      continue;
    bool found = false;
    for (int i = 0; i < count && !found; i++)
      found = strcmp(listed[i], e->d_name) == 0;
    if (!found)
      fprintf(stderr, "\n%s/%s is not listed in its README\n", folder, e->d_name);
    CU_ASSERT(found);
  }
  closedir(d);
  printf("\n    %d files, %d refused\n", count, refused);
}

static void test_npy_corpus(void) { check_folder("npy", true); }

static void test_image_corpus(void) { check_folder("image", false); }

/* Files that are not files: missing, a folder. */
static void test_not_files(void) {
  clrn_image image;
  clrn_npy array;
  char path[1100];
  snprintf(path, sizeof path, "%s/corpus/no-such-file.png", io_dir);
  CU_ASSERT_EQUAL(clrn_image_load(path, &image), CLRN_STATUS_IO_ERROR);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), path));
  CU_ASSERT_EQUAL(clrn_npy_read(path, 10, &array), CLRN_STATUS_IO_ERROR);
  snprintf(path, sizeof path, "%s/corpus", io_dir);
  CU_ASSERT_EQUAL(clrn_image_load(path, &image), CLRN_STATUS_IO_ERROR);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "directory"));
  CU_ASSERT_EQUAL(clrn_image_decode(NULL, 5, "x", &image), CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_EQUAL(clrn_image_load(NULL, &image), CLRN_STATUS_INVALID_ARGUMENT);
  clrn_image_free(NULL);
  clrn_npy_free(NULL);
}

int main(void) {
  io_dir = getenv("CLRN_IO_DIR");
  if (!io_dir) {
    fprintf(stderr, "CLRN_IO_DIR must name tests/io (CTest sets it)\n");
    return 1;
  }
  clrn_test_add_suite("corpus", NULL, NULL, "npy corpus", test_npy_corpus, "image corpus",
                      test_image_corpus, "not files", test_not_files, NULL);
  return clrn_test_run();
}
