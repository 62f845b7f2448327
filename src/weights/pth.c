/* Opening a PyTorch checkpoint (see pth.h): the format is told by its first
 * bytes, not its name; this file handles the zip container (torch >= 1.6) and
 * the tables' life cycle, pth_legacy.c the older container. */
#include "weights/pth.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "weights/pth_parts.h"

#define SHOWN 200

bool clrn_pth_detect(const unsigned char *head, size_t n) {
  return (n >= 4 && memcmp(head, "PK\x03\x04", 4) == 0) ||
         (n >= sizeof clrn_pth_legacy_magic &&
          memcmp(head, clrn_pth_legacy_magic, sizeof clrn_pth_legacy_magic) == 0);
}

/* The archive's one "<prefix>/data.pkl" entry; *prefix_length is its prefix's. */
static clrn_status find_pickle(const clrn_pth *pth, const clrn_zip_entry **out,
                               size_t *prefix_length) {
  *out = NULL;
  for (size_t i = 0; i < pth->zip.count; i++) {
    const char *name = pth->zip.entries[i].name, *slash = strchr(name, '/');
    if (!slash || strcmp(slash, "/data.pkl") != 0)
      continue;
    if (*out)
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: the archive holds two data.pkl entries",
                       pth->source.name);
    *out = &pth->zip.entries[i];
    *prefix_length = (size_t)(slash - name);
  }
  if (!*out)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "%s: a zip archive without an ARCHIVE/data.pkl entry: not written by "
                     "torch.save",
                     pth->source.name);
  return CLRN_STATUS_SUCCESS;
}

/* The entry "<prefix>/<suffix>", or NULL. */
static const clrn_zip_entry *find_entry(const clrn_pth *pth, const char *prefix, size_t length,
                                        const char *suffix) {
  char name[CLRN_ZIP_MAX_NAME + 1];
  if (length + 1 + strlen(suffix) > CLRN_ZIP_MAX_NAME)
    return NULL;
  memcpy(name, prefix, length);
  name[length] = '/';
  strcpy(name + length + 1, suffix);
  return clrn_zip_find(&pth->zip, name);
}

/* torch >= 2.1 records the byte order of the storages; only "little" is read. */
static clrn_status check_byteorder(const clrn_pth *pth, const char *prefix, size_t length) {
  const clrn_zip_entry *e = find_entry(pth, prefix, length, "byteorder");
  if (!e)
    return CLRN_STATUS_SUCCESS;
  char text[16] = {0};
  if (e->size < sizeof text)
    CLRN_TRY(clrn_zip_read(&pth->source, e, 0, e->size, text));
  if (strcmp(text, "little") != 0)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "%s: the storages are not little-endian (byteorder entry \"%.15s\")",
                     pth->source.name, text);
  return CLRN_STATUS_SUCCESS;
}

/* Finds each storage's entry "<prefix>/data/<key>", whose size must match. */
static clrn_status locate_storages(clrn_pth *pth, const char *prefix, size_t length) {
  char suffix[CLRN_ZIP_MAX_NAME + 8];
  for (size_t i = 0; i < pth->storage_count; i++) {
    clrn_pth_storage *s = &pth->storages[i];
    snprintf(suffix, sizeof suffix, "data/%.*s", (int)CLRN_ZIP_MAX_NAME, s->key);
    const clrn_zip_entry *e = find_entry(pth, prefix, length, suffix);
    if (!e)
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: storage %.*s has no entry %.*s/%.*s",
                       pth->source.name, SHOWN, s->key, (int)length, prefix, SHOWN, suffix);
    uint64_t bytes = s->elements * clrn_dtype_size(s->dtype);
    if (e->size != bytes)
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                       "%s: entry %.*s holds %llu bytes; storage %.*s of %llu elements (%s) has "
                       "%llu",
                       pth->source.name, SHOWN, e->name, (unsigned long long)e->size, SHOWN, s->key,
                       (unsigned long long)s->elements, s->type_name, (unsigned long long)bytes);
    s->entry = e;
    s->offset = e->offset;
    s->located = true;
  }
  return CLRN_STATUS_SUCCESS;
}

static clrn_status read_zip(clrn_pth *pth) {
  CLRN_TRY(clrn_zip_open(&pth->source, &pth->zip));
  const clrn_zip_entry *data = NULL;
  size_t length = 0;
  CLRN_TRY(find_pickle(pth, &data, &length));
  char prefix[CLRN_ZIP_MAX_NAME + 1];
  memcpy(prefix, data->name, length);
  prefix[length] = '\0';
  CLRN_TRY(check_byteorder(pth, prefix, length));
  if (data->size > CLRN_PTH_MAX_PICKLE)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED, "%s: data.pkl has %llu bytes; at most %u",
                     pth->source.name, (unsigned long long)data->size, CLRN_PTH_MAX_PICKLE);
  unsigned char *bytes = malloc(data->size ? (size_t)data->size : 1);
  if (!bytes)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: data.pkl", pth->source.name);
  clrn_pickle p = {0};
  size_t used = 0;
  bool ran_out = false;
  clrn_status status;
  CLRN_GOTO(clrn_zip_read(&pth->source, data, 0, data->size, bytes), done, status);
  CLRN_GOTO(clrn_pickle_run(bytes, (size_t)data->size, pth->source.name, data->offset,
                            &clrn_pth_rules, &p, &used, &ran_out),
            done, status);
  CLRN_GOTO(clrn_pth_collect_storages(pth, &p), done, status);
  CLRN_GOTO(locate_storages(pth, prefix, length), done, status);
  CLRN_GOTO(clrn_pth_collect_tensors(pth, &p), done, status);
done:
  clrn_pickle_free(&p);
  free(bytes);
  return status;
}

/* Reads whichever container the source holds. */
static clrn_status read_any(clrn_pth *pth) {
  unsigned char head[sizeof clrn_pth_legacy_magic] = {0};
  size_t n = pth->source.size < sizeof head ? (size_t)pth->source.size : sizeof head;
  CLRN_TRY(clrn_source_read(&pth->source, 0, n, head, "the file's first bytes"));
  if (n >= 4 && memcmp(head, "PK\x03\x04", 4) == 0)
    return read_zip(pth);
  if (clrn_pth_detect(head, n))
    return clrn_pth_read_legacy(pth);
  return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                   "%s: not a PyTorch checkpoint (neither a zip archive nor a legacy torch.save "
                   "file)",
                   pth->source.name);
}

clrn_status clrn_pth_open(const char *path, clrn_pth *pth) {
  if (!path || !pth)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_pth_open: NULL argument");
  memset(pth, 0, sizeof *pth);
  clrn_status status = clrn_source_open(path, &pth->source);
  if (status == CLRN_STATUS_SUCCESS)
    status = read_any(pth);
  if (status != CLRN_STATUS_SUCCESS)
    clrn_pth_close(pth);
  return status;
}

clrn_status clrn_pth_parse(const void *bytes, size_t size, const char *name, clrn_pth *pth) {
  if (!pth || (!bytes && size))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_pth_parse: NULL argument");
  memset(pth, 0, sizeof *pth);
  clrn_status status =
      clrn_source_memory(bytes, size, name ? name : "(.pth in memory)", &pth->source);
  if (status == CLRN_STATUS_SUCCESS)
    status = read_any(pth);
  if (status != CLRN_STATUS_SUCCESS)
    clrn_pth_close(pth);
  return status;
}

void clrn_pth_close(clrn_pth *pth) {
  if (!pth)
    return;
  for (size_t i = 0; i < pth->storage_count; i++)
    free(pth->storages[i].key);
  for (size_t i = 0; i < pth->count; i++)
    free(pth->tensors[i].name);
  free(pth->storages);
  free(pth->tensors);
  clrn_zip_close(&pth->zip);
  clrn_source_close(&pth->source);
  memset(pth, 0, sizeof *pth);
}

static int compare_names(const void *key, const void *tensor) {
  return strcmp(key, ((const clrn_pth_tensor *)tensor)->name);
}

const clrn_pth_tensor *clrn_pth_find(const clrn_pth *pth, const char *name) {
  if (!pth || !name || !pth->count)
    return NULL;
  return bsearch(name, pth->tensors, pth->count, sizeof *pth->tensors, compare_names);
}
