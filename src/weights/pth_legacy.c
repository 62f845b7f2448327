/* The legacy container of torch.save (torch < 1.6; see pth.h): its pickles are
 * read through a window over the start of the file that grows (up to
 * CLRN_PTH_MAX_PICKLE) while a pickle runs off its end, then the storages are
 * laid out in the order of the key list, each checked against the size its
 * persistent id gave, and must end exactly at the end of the file. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "weights/pth_parts.h"

#define SHOWN 200
#define FIRST_WINDOW (1u << 20)

const unsigned char clrn_pth_legacy_magic[15] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                                 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e};

/* The bytes at the start of the file that the pickles are read from. */
typedef struct window {
  const unsigned char *bytes;
  unsigned char *buffer; /* owned, for a file */
  size_t size, limit;
} window;

static clrn_status grow(const clrn_source *s, window *w) {
  size_t size = w->size > w->limit / 2 ? w->limit : (w->size ? 2 * w->size : FIRST_WINDOW);
  size = size < w->limit ? size : w->limit;
  unsigned char *buffer = realloc(w->buffer, size ? size : 1);
  if (!buffer)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: pickle window", s->name);
  w->buffer = buffer;
  CLRN_TRY(clrn_source_read(s, w->size, size - w->size, buffer + w->size, "a pickle"));
  w->bytes = buffer;
  w->size = size;
  return CLRN_STATUS_SUCCESS;
}

/* Runs the pickle at *pos, growing the window while it runs off its end. */
static clrn_status run_at(const clrn_source *s, window *w, uint64_t *pos,
                          const clrn_pickle_rules *rules, clrn_pickle *out) {
  for (;;) {
    size_t used = 0;
    bool ran_out = false;
    clrn_status status = clrn_pickle_run(w->bytes + *pos, w->size - (size_t)*pos, s->name, *pos,
                                         rules, out, &used, &ran_out);
    if (status == CLRN_STATUS_SUCCESS)
      *pos += used;
    if (status == CLRN_STATUS_SUCCESS || !ran_out || w->size == s->size)
      return status;
    if (w->size == w->limit)
      return clrn_fail(CLRN_STATUS_UNSUPPORTED, "%s: a pickle longer than %u bytes", s->name,
                       CLRN_PTH_MAX_PICKLE);
    CLRN_TRY(grow(s, w));
  }
}

/* The version pickle (1001) and sys_info (little-endian). */
static clrn_status check_header(const clrn_source *s, window *w, uint64_t *pos) {
  static const clrn_pickle_rules plain = {NULL, 0, -1};
  clrn_pickle p;
  CLRN_TRY(run_at(s, w, pos, &plain, &p));
  const clrn_pk_value *v = clrn_pk_get(&p, p.root);
  bool version = v->kind == CLRN_PK_INT && v->number == 1001;
  clrn_pickle_free(&p);
  if (!version)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "%s: a legacy torch.save file whose protocol version is not 1001", s->name);
  CLRN_TRY(run_at(s, w, pos, &plain, &p));
  const clrn_pk_value *little = clrn_pk_dict_get(&p, clrn_pk_get(&p, p.root), "little_endian");
  bool ok = little && little->kind == CLRN_PK_BOOL && little->number == 1;
  clrn_pickle_free(&p);
  if (!ok)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "%s: written on a big-endian machine (sys_info has no little_endian=True)",
                     s->name);
  return CLRN_STATUS_SUCCESS;
}

/* Places each storage named by the key list, in its order, from *pos on. */
static clrn_status lay_out(clrn_pth *pth, const clrn_pickle *keys, uint64_t pos) {
  const clrn_source *s = &pth->source;
  const clrn_pk_value *list = clrn_pk_get(keys, keys->root);
  if (list->kind != CLRN_PK_LIST)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: the storage key list is a %s", s->name,
                     clrn_pk_kind_name(list->kind));
  for (size_t i = 0; i < list->count; i++) {
    const clrn_pk_value *key = clrn_pk_get(keys, list->items[i]);
    clrn_pth_storage *st =
        key->kind == CLRN_PK_STRING ? clrn_pth_storage_find(pth, key->string) : NULL;
    if (!st || st->located)
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                       "%s: storage key %.*s is not a string, names no storage, or appears twice",
                       s->name, SHOWN, key->kind == CLRN_PK_STRING ? key->string : "?");
    unsigned char count[8];
    CLRN_TRY(clrn_source_read(s, pos, 8, count, "a storage's size"));
    uint64_t elements = 0, esize = clrn_dtype_size(st->dtype);
    for (int b = 7; b >= 0; b--)
      elements = elements << 8 | count[b];
    if (elements != st->elements)
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                       "%s: storage %.*s holds %llu elements; its persistent id says %llu", s->name,
                       SHOWN, st->key, (unsigned long long)elements,
                       (unsigned long long)st->elements);
    pos += 8;
    if (elements > (s->size - pos) / esize)
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                       "%s: storage %.*s (%llu elements of %s) runs past the end of the file",
                       s->name, SHOWN, st->key, (unsigned long long)elements, st->type_name);
    st->offset = pos;
    st->located = true;
    pos += elements * esize;
  }
  for (size_t i = 0; i < pth->storage_count; i++)
    if (!pth->storages[i].located)
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: storage %.*s has no data", s->name, SHOWN,
                       pth->storages[i].key);
  if (pos != s->size)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: %llu bytes follow the last storage", s->name,
                     (unsigned long long)(s->size - pos));
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_pth_read_legacy(clrn_pth *pth) {
  const clrn_source *s = &pth->source;
  pth->legacy = true;
  window w = {0};
  w.limit = s->size < CLRN_PTH_MAX_PICKLE ? (size_t)s->size : CLRN_PTH_MAX_PICKLE;
  if (s->bytes) {
    w.bytes = s->bytes;
    w.size = w.limit;
  }
  clrn_pickle object = {0}, keys = {0};
  uint64_t pos = sizeof clrn_pth_legacy_magic;
  clrn_status status = CLRN_STATUS_SUCCESS;
  if (!s->bytes)
    CLRN_GOTO(grow(s, &w), done, status);
  if (w.size < pos || memcmp(w.bytes, clrn_pth_legacy_magic, pos) != 0) {
    status = clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: not a legacy torch.save file", s->name);
    goto done;
  }
  CLRN_GOTO(check_header(s, &w, &pos), done, status);
  CLRN_GOTO(run_at(s, &w, &pos, &clrn_pth_rules, &object), done, status);
  CLRN_GOTO(clrn_pth_collect_storages(pth, &object), done, status);
  CLRN_GOTO(run_at(s, &w, &pos, &(clrn_pickle_rules){NULL, 0, -1}, &keys), done, status);
  CLRN_GOTO(lay_out(pth, &keys, pos), done, status);
  CLRN_GOTO(clrn_pth_collect_tensors(pth, &object), done, status);
done:
  clrn_pickle_free(&object);
  clrn_pickle_free(&keys);
  free(w.buffer);
  return status;
}
