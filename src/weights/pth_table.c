/* From the pickle's values to the .pth reader's tables (see pth.h): the storages
 * that persistent ids name, then the tensors of the state_dict, each checked
 * against its storage. Format-independent; the containers locate the storages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "weights/pth_parts.h"

#define SHOWN 200 /* longest part of a name quoted in a message */

enum { G_ORDERED_DICT, G_REBUILD_V2, G_REBUILD, G_REBUILD_PARAMETER, G_FIRST_STORAGE };

static const struct {
  const char *name;
  clrn_dtype dtype;
} storage_types[] = {
    {"FloatStorage", CLRN_DTYPE_F32},     {"HalfStorage", CLRN_DTYPE_F16},
    {"BFloat16Storage", CLRN_DTYPE_BF16}, {"LongStorage", CLRN_DTYPE_I64},
    {"DoubleStorage", CLRN_DTYPE_F64},    {"IntStorage", CLRN_DTYPE_I32},
    {"ShortStorage", CLRN_DTYPE_I16},     {"CharStorage", CLRN_DTYPE_I8},
    {"ByteStorage", CLRN_DTYPE_U8},       {"BoolStorage", CLRN_DTYPE_BOOL},
};

/* In the order of the enum above, then of storage_types. */
static const char *const whitelist[] = {
    "collections.OrderedDict",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_parameter",
    "torch.FloatStorage",
    "torch.HalfStorage",
    "torch.BFloat16Storage",
    "torch.LongStorage",
    "torch.DoubleStorage",
    "torch.IntStorage",
    "torch.ShortStorage",
    "torch.CharStorage",
    "torch.ByteStorage",
    "torch.BoolStorage",
};
_Static_assert(sizeof whitelist / sizeof whitelist[0] ==
                   G_FIRST_STORAGE + sizeof storage_types / sizeof storage_types[0],
               "one whitelist entry per storage type");

const clrn_pickle_rules clrn_pth_rules = {whitelist, sizeof whitelist / sizeof whitelist[0],
                                          G_ORDERED_DICT};

static const clrn_pk_value *item(const clrn_pickle *p, const clrn_pk_value *v, size_t i) {
  return clrn_pk_get(p, v->items[i]);
}

/* ---- storages ------------------------------------------------------------------- */

/* Checks a persistent id, ('storage', type, key, location, numel) plus a view
 * (None) in the legacy format, into s (whose key is borrowed from the pickle). */
static clrn_status check_pid(const clrn_pth *pth, const clrn_pickle *p, const clrn_pk_value *pid,
                             clrn_pth_storage *s) {
  const char *file = pth->source.name;
  size_t want = pth->legacy ? 6 : 5;
  if (pid->kind != CLRN_PK_TUPLE || pid->count != want)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: a persistent id that is a %s of %u, not a tuple of %zu ('storage', "
                     "type, key, location, size%s)",
                     file, clrn_pk_kind_name(pid->kind), pid->count, want,
                     pth->legacy ? ", view" : "");
  const clrn_pk_value *tag = item(p, pid, 0), *type = item(p, pid, 1), *key = item(p, pid, 2);
  const clrn_pk_value *location = item(p, pid, 3), *numel = item(p, pid, 4);
  if (tag->kind != CLRN_PK_STRING || strcmp(tag->string, "storage") != 0)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED, "%s: a persistent id of kind '%.*s', not 'storage'",
                     file, SHOWN, tag->kind == CLRN_PK_STRING ? tag->string : "?");
  if (type->kind != CLRN_PK_GLOBAL || type->global < G_FIRST_STORAGE ||
      key->kind != CLRN_PK_STRING || location->kind != CLRN_PK_STRING ||
      numel->kind != CLRN_PK_INT || numel->number < 0)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: a persistent id without a storage class, key, location and size", file);
  if (pth->legacy && item(p, pid, 5)->kind != CLRN_PK_NONE)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "%s: storage %.*s is a view into another storage (torch < 0.4); load the "
                     "file and save it again with a newer torch",
                     file, SHOWN, key->string);
  s->key = key->string;
  s->dtype = storage_types[type->global - G_FIRST_STORAGE].dtype;
  s->type_name = storage_types[type->global - G_FIRST_STORAGE].name;
  s->elements = (uint64_t)numel->number;
  if (s->elements > UINT64_MAX / clrn_dtype_size(s->dtype))
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: storage %.*s: its byte count overflows", file,
                     SHOWN, s->key);
  return CLRN_STATUS_SUCCESS;
}

static int compare_storages(const void *a, const void *b) {
  return strcmp(((const clrn_pth_storage *)a)->key, ((const clrn_pth_storage *)b)->key);
}

clrn_pth_storage *clrn_pth_storage_find(const clrn_pth *pth, const char *key) {
  clrn_pth_storage probe = {.key = (char *)key};
  return pth->storage_count
             ? bsearch(&probe, pth->storages, pth->storage_count, sizeof probe, compare_storages)
             : NULL;
}

/* Keeps one entry per key (sorted), refusing a key used with two types or sizes,
 * and makes the keys the table's own. */
static clrn_status unique_storages(clrn_pth *pth) {
  qsort(pth->storages, pth->storage_count, sizeof *pth->storages, compare_storages);
  size_t kept = 0;
  for (size_t i = 0; i < pth->storage_count; i++) {
    clrn_pth_storage *s = &pth->storages[i], *last = kept ? &pth->storages[kept - 1] : NULL;
    if (last && strcmp(last->key, s->key) == 0) {
      if (last->dtype != s->dtype || last->elements != s->elements)
        return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                         "%s: storage %.*s is used as %llu elements of %s and as %llu of %s",
                         pth->source.name, SHOWN, s->key, (unsigned long long)last->elements,
                         last->type_name, (unsigned long long)s->elements, s->type_name);
      continue;
    }
    pth->storages[kept++] = *s;
  }
  pth->storage_count = kept;
  for (size_t i = 0; i < kept; i++) {
    char *own = strdup(pth->storages[i].key);
    if (!own) {
      for (size_t k = i; k < kept; k++)
        pth->storages[k].key = NULL;
      return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "storage key");
    }
    pth->storages[i].key = own;
  }
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_pth_collect_storages(clrn_pth *pth, const clrn_pickle *p) {
  size_t count = 0;
  for (size_t i = 0; i < p->count; i++)
    count += p->values[i].kind == CLRN_PK_PERSID;
  pth->storages = calloc(count ? count : 1, sizeof *pth->storages);
  if (!pth->storages)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "storage table");
  for (size_t i = 0; i < p->count; i++) {
    if (p->values[i].kind != CLRN_PK_PERSID)
      continue;
    clrn_pth_storage *s = &pth->storages[pth->storage_count];
    clrn_status status = check_pid(pth, p, item(p, &p->values[i], 0), s);
    if (status != CLRN_STATUS_SUCCESS) {
      pth->storage_count = 0; /* the keys are still the pickle's */
      return status;
    }
    pth->storage_count++;
  }
  clrn_status status = unique_storages(pth);
  if (status != CLRN_STATUS_SUCCESS)
    pth->storage_count = 0;
  return status;
}

/* ---- tensors -------------------------------------------------------------------- */

/* A rebuild call (possibly wrapped in _rebuild_parameter), or NULL. */
static const clrn_pk_value *rebuild_call(const clrn_pickle *p, const clrn_pk_value *v) {
  if (v->kind == CLRN_PK_CALL && v->global == G_REBUILD_PARAMETER) {
    const clrn_pk_value *args = item(p, v, 0);
    v = args->count == 3 ? item(p, args, 0) : NULL;
  }
  return v && v->kind == CLRN_PK_CALL && (v->global == G_REBUILD_V2 || v->global == G_REBUILD)
             ? v
             : NULL;
}

/* Fills the shape (or strides) of t from a tuple of non-negative integers. */
static bool read_dims(const clrn_pickle *p, const clrn_pk_value *tuple, int64_t *dims, int *ndim) {
  if (tuple->kind != CLRN_PK_TUPLE || tuple->count > CLRN_PTH_MAX_DIMS)
    return false;
  for (size_t i = 0; i < tuple->count; i++) {
    const clrn_pk_value *d = item(p, tuple, i);
    if (d->kind != CLRN_PK_INT || d->number < 0)
      return false;
    dims[i] = d->number;
  }
  *ndim = (int)tuple->count;
  return true;
}

/* Checks that every element of t lies inside its storage. */
static clrn_status check_bounds(const clrn_pth *pth, clrn_pth_tensor *t) {
  const clrn_pth_storage *s = &pth->storages[t->storage];
  uint64_t elements = 1, last = t->offset;
  bool overflow = false;
  for (int d = 0; d < t->ndim; d++) {
    uint64_t n = (uint64_t)t->shape[d], stride = (uint64_t)t->stride[d];
    overflow = overflow || (n && elements > UINT64_MAX / 8 / n);
    elements = overflow ? 0 : elements * n;
    if (n > 1) {
      overflow = overflow || stride > (UINT64_MAX - last) / (n - 1);
      last = overflow ? 0 : last + (n - 1) * stride;
    }
  }
  if (overflow)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: tensor %.*s: its shape or strides overflow",
                     pth->source.name, SHOWN, t->name);
  t->elements = elements;
  if (elements ? last >= s->elements : t->offset > s->elements)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: tensor %.*s reaches element %llu of storage %.*s, which holds %llu",
                     pth->source.name, SHOWN, t->name, (unsigned long long)last, SHOWN, s->key,
                     (unsigned long long)s->elements);
  return CLRN_STATUS_SUCCESS;
}

/* What v is, for messages: "an int", "a call of torch.FloatStorage", ... */
static const char *describe(const clrn_pk_value *v, char *text, size_t size) {
  const char *kind = clrn_pk_kind_name(v->kind);
  bool named = v->kind == CLRN_PK_CALL || v->kind == CLRN_PK_GLOBAL;
  snprintf(text, size, "%s %s%s%s", strchr("aeiou", kind[0]) ? "an" : "a", kind,
           named ? " of " : "", named ? whitelist[v->global] : "");
  return text;
}

/* Fills t (whose name is set) from the value v of its state_dict entry. */
static clrn_status make_tensor(const clrn_pth *pth, const clrn_pickle *p, const clrn_pk_value *v,
                               clrn_pth_tensor *t) {
  const char *file = pth->source.name;
  const clrn_pk_value *call = rebuild_call(p, v);
  char text[96];
  if (!call)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED, "%s: entry %.*s is %s, not a tensor", file, SHOWN,
                     t->name, describe(v, text, sizeof text));
  const clrn_pk_value *args = item(p, call, 0);
  bool v2 = call->global == G_REBUILD_V2;
  bool arity =
      v2 ? args->count == 6 || (args->count == 7 && item(p, args, 6)->kind == CLRN_PK_DICT &&
                                item(p, args, 6)->count == 0)
         : args->count == 4;
  const clrn_pk_value *storage = arity ? item(p, args, 0) : NULL;
  const clrn_pk_value *offset = arity ? item(p, args, 1) : NULL;
  int strides = -1;
  if (!arity || storage->kind != CLRN_PK_PERSID || offset->kind != CLRN_PK_INT ||
      offset->number < 0 || !read_dims(p, item(p, args, 2), t->shape, &t->ndim) ||
      !read_dims(p, item(p, args, 3), t->stride, &strides) || strides != t->ndim)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: tensor %.*s: %s is not called with (storage, offset, shape, strides%s) "
                     "of at most %d dimensions",
                     file, SHOWN, t->name, whitelist[call->global],
                     v2 ? ", requires_grad, hooks" : "", CLRN_PTH_MAX_DIMS);
  const clrn_pk_value *pid = item(p, storage, 0);
  const clrn_pth_storage *s = clrn_pth_storage_find(pth, item(p, pid, 2)->string);
  if (!s) /* every persistent id was registered; this is a safety net */
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: tensor %.*s: unknown storage", file, SHOWN,
                     t->name);
  t->storage = (size_t)(s - pth->storages);
  t->dtype = s->dtype;
  t->offset = (uint64_t)offset->number;
  return check_bounds(pth, t);
}

/* The state_dict: the root dict when all its values are tensors, else its
 * "state_dict" or "model" entry. */
static clrn_status find_state_dict(const clrn_pth *pth, const clrn_pickle *p,
                                   const clrn_pk_value **out) {
  const clrn_pk_value *root = clrn_pk_get(p, p->root);
  char text[96];
  if (root->kind != CLRN_PK_DICT)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED, "%s holds %s, not a state_dict (a dict of tensors)",
                     pth->source.name,
                     rebuild_call(p, root) ? "a single tensor" : describe(root, text, sizeof text));
  size_t odd = 0; /* the first entry that is not a tensor, plus one */
  for (size_t i = 1; i < root->count && !odd; i += 2)
    if (!rebuild_call(p, item(p, root, i)))
      odd = i;
  *out = root;
  if (!odd)
    return CLRN_STATUS_SUCCESS;
  static const char *const keys[] = {"state_dict", "model"};
  for (size_t k = 0; k < 2; k++) {
    const clrn_pk_value *v = clrn_pk_dict_get(p, root, keys[k]);
    if (v && v->kind == CLRN_PK_DICT) {
      *out = v;
      return CLRN_STATUS_SUCCESS;
    }
  }
  const clrn_pk_value *key = item(p, root, odd - 1);
  return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                   "%s holds a dict that is not a state_dict (its entry %.*s is %s, not a "
                   "tensor) and holds none under \"state_dict\" or \"model\"",
                   pth->source.name, SHOWN,
                   key->kind == CLRN_PK_STRING ? key->string : clrn_pk_kind_name(key->kind),
                   describe(item(p, root, odd), text, sizeof text));
}

static int compare_tensors(const void *a, const void *b) {
  return strcmp(((const clrn_pth_tensor *)a)->name, ((const clrn_pth_tensor *)b)->name);
}

clrn_status clrn_pth_collect_tensors(clrn_pth *pth, const clrn_pickle *p) {
  const clrn_pk_value *dict = NULL;
  CLRN_TRY(find_state_dict(pth, p, &dict));
  size_t count = dict->count / 2;
  if (count > CLRN_PTH_MAX_TENSORS)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED, "%s: %zu tensors; at most %u", pth->source.name,
                     count, CLRN_PTH_MAX_TENSORS);
  pth->tensors = calloc(count ? count : 1, sizeof *pth->tensors);
  if (!pth->tensors)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "tensor table");
  for (size_t i = 0; i < count; i++) {
    const clrn_pk_value *key = item(p, dict, 2 * i);
    if (key->kind != CLRN_PK_STRING)
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: a state_dict key that is a %s",
                       pth->source.name, clrn_pk_kind_name(key->kind));
    const char *name = strncmp(key->string, "module.", 7) == 0 ? key->string + 7 : key->string;
    clrn_pth_tensor *t = &pth->tensors[pth->count++];
    t->name = strdup(name);
    if (!t->name)
      return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "tensor name");
    CLRN_TRY(make_tensor(pth, p, item(p, dict, 2 * i + 1), t));
  }
  qsort(pth->tensors, pth->count, sizeof *pth->tensors, compare_tensors);
  for (size_t i = 1; i < pth->count; i++)
    if (strcmp(pth->tensors[i - 1].name, pth->tensors[i].name) == 0)
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                       "%s: tensor %.*s appears twice (with and without \"module.\"?)",
                       pth->source.name, SHOWN, pth->tensors[i].name);
  return CLRN_STATUS_SUCCESS;
}
