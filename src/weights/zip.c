/* The zip reader (see zip.h). Opening runs in three steps: find the end record
 * (and its ZIP64 form), read the central directory in one piece and check each
 * record against its local header, then sort the entries by name to look them up
 * and to find duplicates. Nothing is kept of an archive that fails. */
#include "weights/zip.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "base/error.h"

#define SHOWN 200          /* longest part of an entry name quoted in a message */
#define EOCD_SIZE 22       /* end of central directory record, without its comment */
#define LOCATOR_SIZE 20    /* ZIP64 end of central directory locator */
#define ZIP64_END_SIZE 56  /* ZIP64 end of central directory record, fixed part */
#define CENTRAL_SIZE 46    /* central directory file header, fixed part */
#define LOCAL_SIZE 30      /* local file header, fixed part */
#define MAX_COMMENT 65535u /* an archive comment's 16-bit length */
#define MAX_DIRECTORY (64u << 20)
#define SATURATED32 0xFFFFFFFFu

static uint16_t u16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }

static uint32_t u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t u64(const unsigned char *p) { return u32(p) | (uint64_t)u32(p + 4) << 32; }

/* CRC-32 by slicing: eight tables let the loop fold eight bytes per step (about
 * five times the speed of one table; a resnet50 checkpoint is 100 MB). */
static uint32_t crc_table[8][256];
static once_flag crc_once = ONCE_FLAG_INIT;

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++)
      c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[0][i] = c;
  }
  for (int t = 1; t < 8; t++)
    for (uint32_t i = 0; i < 256; i++)
      crc_table[t][i] = crc_table[t - 1][i] >> 8 ^ crc_table[0][crc_table[t - 1][i] & 0xFFu];
}

uint32_t clrn_crc32(uint32_t crc, const void *bytes, size_t n) {
  call_once(&crc_once, crc_init);
  const unsigned char *p = bytes;
  crc = ~crc;
  for (; n >= 8; n -= 8, p += 8) {
    uint32_t a = crc ^ u32(p), b = u32(p + 4);
    crc = crc_table[7][a & 0xFFu] ^ crc_table[6][a >> 8 & 0xFFu] ^ crc_table[5][a >> 16 & 0xFFu] ^
          crc_table[4][a >> 24] ^ crc_table[3][b & 0xFFu] ^ crc_table[2][b >> 8 & 0xFFu] ^
          crc_table[1][b >> 16 & 0xFFu] ^ crc_table[0][b >> 24];
  }
  for (; n > 0; n--, p++)
    crc = crc_table[0][(crc ^ *p) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

/* ---- the end records ---------------------------------------------------------- */

/* Where the central directory is: offset and size, its entry count, and where the
 * records after it begin (it must end there). */
typedef struct directory {
  uint64_t offset, size, count, end;
  bool multi_disk;
} directory;

/* Reads the ZIP64 end record that the locator at locator (a file offset) points to. */
static clrn_status read_zip64_end(const clrn_source *s, const unsigned char *locator,
                                  uint64_t locator_at, directory *d) {
  uint64_t at = u64(locator + 8);
  if (u32(locator + 4) != 0 || u32(locator + 16) != 1) {
    d->multi_disk = true;
    return CLRN_STATUS_SUCCESS;
  }
  if (at > locator_at || locator_at - at < ZIP64_END_SIZE)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: the ZIP64 end record's offset %llu is not before its locator", s->name,
                     (unsigned long long)at);
  unsigned char r[ZIP64_END_SIZE];
  CLRN_TRY(clrn_source_read(s, at, sizeof r, r, "the ZIP64 end record"));
  if (memcmp(r, "PK\x06\x06", 4) != 0)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: no ZIP64 end record at offset %llu, where its locator points", s->name,
                     (unsigned long long)at);
  d->multi_disk = u32(r + 16) != 0 || u32(r + 20) != 0 || u64(r + 24) != u64(r + 32);
  d->count = u64(r + 32);
  d->size = u64(r + 40);
  d->offset = u64(r + 48);
  d->end = at;
  return CLRN_STATUS_SUCCESS;
}

/* Finds the end record: the last signature whose comment ends exactly at the end
 * of the file. */
static clrn_status find_end(const clrn_source *s, const unsigned char *tail, size_t n,
                            directory *d) {
  size_t at = n;
  for (size_t i = n - EOCD_SIZE + 1; i-- > 0 && at == n;)
    if (memcmp(tail + i, "PK\x05\x06", 4) == 0 && i + EOCD_SIZE + u16(tail + i + 20) == n)
      at = i;
  if (at == n)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: no end of central directory record: not a zip archive, or truncated",
                     s->name);
  const unsigned char *e = tail + at;
  d->multi_disk = u16(e + 4) != 0 || u16(e + 6) != 0 || u16(e + 8) != u16(e + 10);
  d->count = u16(e + 10);
  d->size = u32(e + 12);
  d->offset = u32(e + 16);
  d->end = s->size - n + at;
  if (at >= LOCATOR_SIZE && memcmp(e - LOCATOR_SIZE, "PK\x06\x07", 4) == 0)
    return read_zip64_end(s, e - LOCATOR_SIZE, d->end - LOCATOR_SIZE, d);
  return CLRN_STATUS_SUCCESS;
}

static clrn_status locate_directory(const clrn_source *s, directory *d) {
  if (s->size < EOCD_SIZE)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: %llu bytes is too short for a zip archive",
                     s->name, (unsigned long long)s->size);
  size_t n = s->size < EOCD_SIZE + MAX_COMMENT ? (size_t)s->size : EOCD_SIZE + MAX_COMMENT;
  unsigned char *tail = malloc(n);
  if (!tail)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: zip end records", s->name);
  clrn_status status = clrn_source_read(s, s->size - n, n, tail, "the zip end records");
  if (status == CLRN_STATUS_SUCCESS)
    status = find_end(s, tail, n, d);
  free(tail);
  CLRN_TRY(status);
  if (d->multi_disk)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "%s: a multi-disk (split) zip archive; torch.save writes one file", s->name);
  if (d->count > CLRN_ZIP_MAX_ENTRIES)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED, "%s: the zip archive has %llu entries; at most %u",
                     s->name, (unsigned long long)d->count, CLRN_ZIP_MAX_ENTRIES);
  if (d->offset > d->end || d->size != d->end - d->offset)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: the central directory (%llu bytes at offset %llu) does not end where "
                     "its end record begins (offset %llu)",
                     s->name, (unsigned long long)d->size, (unsigned long long)d->offset,
                     (unsigned long long)d->end);
  if (d->size > MAX_DIRECTORY)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "%s: the central directory has %llu bytes; at most %u", s->name,
                     (unsigned long long)d->size, MAX_DIRECTORY);
  return CLRN_STATUS_SUCCESS;
}

/* ---- the entries ---------------------------------------------------------------- */

/* The fields of a central record that ZIP64 may widen. */
typedef struct widened {
  uint64_t size, compressed, local;
  uint32_t disk;
} widened;

/* Takes the 64-bit values out of a ZIP64 extra field (id 1): each is present only
 * when its 32-bit field is saturated, in this order. */
static clrn_status read_extra(const clrn_source *s, const char *name, const unsigned char *x,
                              size_t n, widened *w) {
  while (n > 0) {
    if (n < 4 || u16(x + 2) > n - 4)
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: entry %.*s has a malformed extra field",
                       s->name, SHOWN, name);
    size_t size = u16(x + 2);
    if (u16(x) == 1) {
      uint64_t *fields[3] = {&w->size, &w->compressed, &w->local};
      size_t used = 0;
      for (int i = 0; i < 3; i++) {
        if (*fields[i] != SATURATED32)
          continue;
        if (size - used < 8)
          return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                           "%s: entry %.*s: its ZIP64 extra field is too short", s->name, SHOWN,
                           name);
        *fields[i] = u64(x + 4 + used);
        used += 8;
      }
      if (w->disk == 0xFFFFu && size - used >= 4)
        w->disk = u32(x + 4 + used);
    }
    x += 4 + size;
    n -= 4 + size;
  }
  return CLRN_STATUS_SUCCESS;
}

/* Checks the local header of e (at local) against its central record and sets
 * e->offset; data_end is where the central directory starts. */
static clrn_status check_local(const clrn_source *s, clrn_zip_entry *e, uint64_t local,
                               uint64_t data_end) {
  const char *name = e->name;
  size_t length = strlen(name);
  if (local > data_end || data_end - local < LOCAL_SIZE + length)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: entry %.*s: its local header offset %llu is outside the archive's data",
                     s->name, SHOWN, name, (unsigned long long)local);
  unsigned char h[LOCAL_SIZE + CLRN_ZIP_MAX_NAME];
  CLRN_TRY(clrn_source_read(s, local, LOCAL_SIZE + length, h, "a local header"));
  if (memcmp(h, "PK\x03\x04", 4) != 0 || u16(h + 8) != 0 || u16(h + 26) != length ||
      memcmp(h + LOCAL_SIZE, name, length) != 0)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: entry %.*s: no matching local header at offset %llu", s->name, SHOWN,
                     name, (unsigned long long)local);
  uint64_t data = local + LOCAL_SIZE + length + u16(h + 28);
  if (data > data_end || e->size > data_end - data)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: entry %.*s: its data (%llu bytes at offset %llu) runs into the central "
                     "directory",
                     s->name, SHOWN, name, (unsigned long long)e->size, (unsigned long long)data);
  e->offset = data;
  return CLRN_STATUS_SUCCESS;
}

/* Parses the central record at *pos of the directory cd (size bytes, at file
 * offset data_end) into e, advancing *pos. */
static clrn_status parse_record(const clrn_source *s, const unsigned char *cd, size_t size,
                                size_t *pos, uint64_t data_end, clrn_zip_entry *e) {
  const unsigned char *c = cd + *pos;
  if (size - *pos < CENTRAL_SIZE || memcmp(c, "PK\x01\x02", 4) != 0)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: the central directory is corrupt at its byte %zu", s->name, *pos);
  size_t name_length = u16(c + 28), extra = u16(c + 30), comment = u16(c + 32);
  if (size - *pos - CENTRAL_SIZE < name_length + extra + comment)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: a central record runs past the central directory", s->name);
  const char *name = (const char *)c + CENTRAL_SIZE;
  if (name_length == 0 || name_length > CLRN_ZIP_MAX_NAME || memchr(name, 0, name_length))
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: an entry's name is empty, longer than %u bytes or holds a NUL byte",
                     s->name, CLRN_ZIP_MAX_NAME);
  e->name = strndup(name, name_length);
  if (!e->name)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: entry name", s->name);
  widened w = {u32(c + 24), u32(c + 20), u32(c + 42), u16(c + 34)};
  CLRN_TRY(read_extra(s, e->name, c + CENTRAL_SIZE + name_length, extra, &w));
  unsigned flags = u16(c + 8), method = u16(c + 10);
  if (flags & 1u)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED, "%s: entry %.*s is encrypted", s->name, SHOWN,
                     e->name);
  if (method != 0)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "%s: entry %.*s is compressed (zip method %u%s); only stored entries are "
                     "read, as torch.save writes them: load the file and save it again with "
                     "torch.save",
                     s->name, SHOWN, e->name, method, method == 8 ? ", deflate" : "");
  if (w.disk != 0 || w.compressed != w.size)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: entry %.*s: a stored entry whose sizes differ (%llu, %llu) or that "
                     "lies on another disk",
                     s->name, SHOWN, e->name, (unsigned long long)w.compressed,
                     (unsigned long long)w.size);
  e->size = w.size;
  e->crc32 = u32(c + 16);
  *pos += CENTRAL_SIZE + name_length + extra + comment;
  return check_local(s, e, w.local, data_end);
}

static int compare_entries(const void *a, const void *b) {
  return strcmp(((const clrn_zip_entry *)a)->name, ((const clrn_zip_entry *)b)->name);
}

static clrn_status read_directory(const clrn_source *s, const directory *d, clrn_zip *zip) {
  size_t size = (size_t)d->size;
  unsigned char *cd = malloc(size ? size : 1);
  zip->entries = calloc(d->count ? (size_t)d->count : 1, sizeof *zip->entries);
  clrn_status status = CLRN_STATUS_SUCCESS;
  if (!cd || !zip->entries)
    status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: central directory", s->name);
  if (status == CLRN_STATUS_SUCCESS)
    status = clrn_source_read(s, d->offset, size, cd, "the central directory");
  size_t pos = 0;
  for (uint64_t i = 0; status == CLRN_STATUS_SUCCESS && i < d->count; i++)
    status = parse_record(s, cd, size, &pos, d->offset, &zip->entries[zip->count++]);
  if (status == CLRN_STATUS_SUCCESS && pos != size)
    status = clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                       "%s: the central directory has %zu bytes after its %llu entries", s->name,
                       size - pos, (unsigned long long)d->count);
  free(cd);
  if (status == CLRN_STATUS_SUCCESS)
    qsort(zip->entries, zip->count, sizeof *zip->entries, compare_entries);
  for (size_t i = 1; status == CLRN_STATUS_SUCCESS && i < zip->count; i++)
    if (strcmp(zip->entries[i - 1].name, zip->entries[i].name) == 0)
      status = clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: entry %.*s appears twice", s->name, SHOWN,
                         zip->entries[i].name);
  return status;
}

clrn_status clrn_zip_open(const clrn_source *s, clrn_zip *zip) {
  memset(zip, 0, sizeof *zip);
  directory d = {0};
  CLRN_TRY(locate_directory(s, &d));
  clrn_status status = read_directory(s, &d, zip);
  if (status != CLRN_STATUS_SUCCESS)
    clrn_zip_close(zip);
  return status;
}

void clrn_zip_close(clrn_zip *zip) {
  if (!zip)
    return;
  for (size_t i = 0; i < zip->count; i++)
    free(zip->entries[i].name);
  free(zip->entries);
  memset(zip, 0, sizeof *zip);
}

const clrn_zip_entry *clrn_zip_find(const clrn_zip *zip, const char *name) {
  if (!zip->count)
    return NULL;
  clrn_zip_entry key = {.name = (char *)name};
  return bsearch(&key, zip->entries, zip->count, sizeof key, compare_entries);
}

clrn_status clrn_zip_read(const clrn_source *s, const clrn_zip_entry *e, uint64_t offset,
                          uint64_t n, void *out) {
  if (offset > e->size || n > e->size - offset)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: a read past the end of entry %.*s", s->name,
                     SHOWN, e->name);
  CLRN_TRY(clrn_source_read(s, e->offset + offset, n, out, "an entry's data"));
  if (offset == 0 && n == e->size && clrn_crc32(0, out, (size_t)n) != e->crc32)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: entry %.*s fails its CRC-32 check: the file is corrupt", s->name, SHOWN,
                     e->name);
  return CLRN_STATUS_SUCCESS;
}
