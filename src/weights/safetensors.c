/* The safetensors reader (see safetensors.h for the format and the rules).
 *
 * Parsing runs in stages, each refusing what the next could not handle: the
 * 8-byte prefix (with the PyTorch .pth check), the header text (UTF-8 and a
 * lexical pass over its numbers and strings, because cJSON holds numbers as
 * doubles and accepts forms the reference refuses), the JSON itself (cJSON), the
 * entries one by one, then the whole table (unique names, through the hash table
 * that later lookups use; ranges that tile the data section). Nothing is kept of
 * a file that fails.
 *
 * Opening reads the header into memory and parses it as a prefix of the file
 * whose total size is known; tensor data stays in the file and is read with
 * pread() on request (see safetensors.h for why the file is not mapped).
 */
#include "weights/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <unistd.h>

#include "base/error.h"
#include "base/utf8.h"
#include "io/file.h"

/* cJSON keeps numbers as doubles, which hold every integer below 2^53 exactly. */
#define EXACT_INTEGER_LIMIT 9007199254740992.0
/* Longest part of a name or string quoted in an error message. */
#define SHOWN 200

static uint64_t get_u64_le(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

static bool is_json_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* ---- stage 1: the prefix ---------------------------------------------------- */

static bool looks_like_pth(const unsigned char *b, size_t size) {
  bool zip = size >= 4 && memcmp(b, "PK\x03\x04", 4) == 0;
  bool pickle = size >= 2 && b[0] == 0x80 && b[1] >= 2 && b[1] <= 5;
  return zip || pickle;
}

/* b holds the first avail bytes of a file of size bytes: all of it, or at least
 * the 8-byte prefix and the header when their lengths are plausible. */
static clrn_status check_prefix(const unsigned char *b, size_t avail, uint64_t size,
                                const char *file, uint64_t *header_length) {
  uint64_t n = avail >= 8 ? get_u64_le(b) : 0;
  /* A real safetensors prefix is never taken for a checkpoint, even when its
   * length bytes happen to start like a pickle (0x80 0x02 is a 640-byte header). */
  bool plausible =
      avail >= 8 && n <= CLRN_SAFETENSORS_MAX_HEADER && n <= size - 8 && n <= avail - 8;
  size_t first = 8; /* the header's first byte that is not JSON whitespace */
  while (plausible && first < 8 + n && is_json_space(b[first]))
    first++;
  plausible = plausible && first < 8 + n && b[first] == '{';
  if (!plausible && looks_like_pth(b, avail))
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s is a PyTorch checkpoint, not safetensors; convert it with "
                     "clresnet-export --from-pth %s -o WEIGHTS.safetensors "
                     "(tools/export_torchvision.py in a source tree)",
                     file, file);
  if (size < 8)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: %llu bytes is too short for a safetensors file (an 8-byte header "
                     "length comes first)",
                     file, (unsigned long long)size);
  if (n > CLRN_SAFETENSORS_MAX_HEADER)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: header length %llu exceeds the limit of %u bytes", file,
                     (unsigned long long)n, CLRN_SAFETENSORS_MAX_HEADER);
  if (n > size - 8)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: header length %llu runs past the end of the file (%llu bytes)", file,
                     (unsigned long long)n, (unsigned long long)size);
  *header_length = n;
  return CLRN_STATUS_SUCCESS;
}

/* ---- stage 2: the header text ----------------------------------------------- */

/* Offset of the first byte that is not valid UTF-8, or size. */
static size_t utf8_error_at(const unsigned char *s, size_t size) {
  size_t i = 0, n;
  uint32_t code;
  while (i < size && (n = clrn_utf8_sequence(s + i, size - i, &code)) > 0)
    i += n;
  return i;
}

/* A character that can continue a JSON number. */
static bool is_number_char(char c) {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* Where the lexical pass found an offence: at is its offset (the header's size when
 * there is none); entry is the raw text of the top-level key whose value holds it. */
typedef struct lexical_error {
  size_t at;
  const char *what;
  const char *entry;
  size_t entry_length;
} lexical_error;

/* Lexical rules cJSON does not enforce: outside strings every number is a plain
 * non-negative integer without leading zeros (only shapes and offsets hold numbers),
 * every byte is ASCII (cJSON would skip a byte-order mark) and the only control
 * characters are JSON's four whitespace ones (cJSON skips NUL and every byte below
 * 0x20 as whitespace); inside strings there
 * are no raw control characters and no \u0000, at which cJSON would silently cut a
 * name. Structure is left to cJSON; nesting is followed only to name the entry. */
static lexical_error find_lexical_error(const char *s, size_t size) {
  lexical_error e = {size, "", NULL, 0};
  const char *key = NULL;
  size_t key_length = 0, depth = 0, i = 0;
  while (i < size && e.at == size) {
    char c = s[i];
    if (c == '"') {
      size_t start = ++i;
      for (; i < size && s[i] != '"' && e.at == size; i++) {
        if ((unsigned char)s[i] < 0x20) {
          e = (lexical_error){i, "a control character inside a string", NULL, 0};
        } else if (s[i] == '\\') {
          if (size - i > 5 && memcmp(s + i + 1, "u0000", 5) == 0)
            e = (lexical_error){i, "a \\u0000 escape", NULL, 0};
          i++; /* the escaped character cannot end the string */
        }
      }
      if (depth == 1) { /* a top-level key */
        key = s + start;
        key_length = (i < size ? i : size) - start;
      }
      i++;
    } else if ((unsigned char)c >= 0x80) {
      e = (lexical_error){i, "a non-ASCII byte outside a string", NULL, 0};
    } else if ((unsigned char)c < 0x20 && !is_json_space((unsigned char)c)) {
      e = (lexical_error){i, "a control character outside a string", NULL, 0};
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      size_t start = i;
      bool digits_only = true;
      for (; i < size && is_number_char(s[i]); i++)
        digits_only = digits_only && s[i] >= '0' && s[i] <= '9';
      if (!digits_only)
        e = (lexical_error){start, "a number that is not a non-negative integer", NULL, 0};
      else if (c == '0' && i - start > 1)
        e = (lexical_error){start, "a number with a leading zero", NULL, 0};
    } else {
      depth += c == '{' || c == '[';
      depth -= depth > 0 && (c == '}' || c == ']');
      i++;
    }
  }
  if (e.at < size && depth >= 2 && key) {
    e.entry = key;
    e.entry_length = key_length < SHOWN ? key_length : SHOWN;
  }
  return e;
}

static clrn_status check_text(const char *header, size_t n, const char *file) {
  size_t at = utf8_error_at((const unsigned char *)header, n);
  if (at < n)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: header is not valid UTF-8 (byte %zu of the header)", file, at);
  lexical_error e = find_lexical_error(header, n);
  if (e.at == n)
    return CLRN_STATUS_SUCCESS;
  /* The header is not NUL-terminated: quote at most what is left of it. */
  int quoted = (int)(n - e.at < 20 ? n - e.at : 20);
  if (e.entry)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: entry '%.*s': header has %s at byte %zu: \"%.*s\"", file,
                     (int)e.entry_length, e.entry, e.what, e.at, quoted, header + e.at);
  return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: header has %s at byte %zu: \"%.*s\"", file,
                   e.what, e.at, quoted, header + e.at);
}

/* ---- stage 3: the JSON ------------------------------------------------------ */

/* cJSON records parse errors in a global; one parse at a time keeps that sane. */
static mtx_t json_mutex;
static once_flag json_once = ONCE_FLAG_INIT;
static void json_init(void) { mtx_init(&json_mutex, mtx_plain); }

static clrn_status parse_json(const char *header, size_t n, const char *file, cJSON **root) {
  const char *end = header;
  call_once(&json_once, json_init);
  mtx_lock(&json_mutex);
  *root = cJSON_ParseWithLengthOpts(header, n, &end, false);
  mtx_unlock(&json_mutex);
  if (!*root) {
    size_t at = end >= header && end <= header + n ? (size_t)(end - header) : 0;
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: header is not valid JSON (near byte %zu of the header)", file, at);
  }
  for (const char *p = end; p < header + n; p++)
    if (!is_json_space((unsigned char)*p))
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                       "%s: header has bytes after its JSON object (byte %zu of the header)", file,
                       (size_t)(p - header));
  if (!cJSON_IsObject(*root))
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: header is not a JSON object", file);
  return CLRN_STATUS_SUCCESS;
}

/* ---- stage 4: the entries --------------------------------------------------- */

/* A tensor's byte range in the data section; index is its place in the header. */
typedef struct span {
  uint64_t begin, end;
  size_t index;
} span;

static bool json_uint(const cJSON *item, uint64_t *value) {
  if (!cJSON_IsNumber(item))
    return false;
  double d = item->valuedouble;
  if (!(d >= 0 && d < EXACT_INTEGER_LIMIT) || d != floor(d))
    return false;
  *value = (uint64_t)d;
  return true;
}

static clrn_status parse_shape(const cJSON *shape, const char *file, clrn_st_tensor *t) {
  const char *name = t->name;
  if (!cJSON_IsArray(shape))
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: tensor '%.*s': shape is not an array", file,
                     SHOWN, name);
  int ndim = 0;
  uint64_t elements = 1;
  const cJSON *dim;
  cJSON_ArrayForEach(dim, shape) {
    uint64_t extent;
    if (!json_uint(dim, &extent))
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                       "%s: tensor '%.*s': shape holds something other than an integer in "
                       "0..2^53",
                       file, SHOWN, name);
    /* Multiplied in order with a check each time, as the reference does. */
    if (extent != 0 && elements > UINT64_MAX / extent)
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                       "%s: tensor '%.*s': the element count of its shape overflows", file, SHOWN,
                       name);
    elements *= extent;
    if (ndim < CLRN_SAFETENSORS_MAX_DIMS)
      t->shape[ndim] = (int64_t)extent;
    ndim++;
  }
  if (ndim > CLRN_SAFETENSORS_MAX_DIMS)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "%s: tensor '%.*s' has %d dimensions; at most %d are supported", file, SHOWN,
                     name, ndim, CLRN_SAFETENSORS_MAX_DIMS);
  t->ndim = ndim;
  t->elements = elements;
  return CLRN_STATUS_SUCCESS;
}

/* Where the data section is: its offset in the file, its length, and its bytes
 * when the whole file is in memory (NULL for an opened file). */
typedef struct data_section {
  uint64_t offset, size;
  const unsigned char *bytes;
} data_section;

/* Fills t (whose name is set) from its entry and r with its byte range. */
static clrn_status parse_entry(const cJSON *entry, const char *file, const data_section *data,
                               clrn_st_tensor *t, span *r) {
  uint64_t data_size = data->size;
  const char *name = t->name;
  if (!cJSON_IsObject(entry))
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: tensor '%.*s': entry is not an object", file,
                     SHOWN, name);
  static const char *const fields[3] = {"dtype", "shape", "data_offsets"};
  const cJSON *found[3] = {NULL, NULL, NULL};
  const cJSON *item;
  cJSON_ArrayForEach(item, entry) {
    for (int f = 0; f < 3; f++) {
      if (strcmp(item->string, fields[f]) != 0)
        continue;
      if (found[f])
        return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: tensor '%.*s': \"%s\" appears twice",
                         file, SHOWN, name, fields[f]);
      found[f] = item;
    }
  } /* other fields are ignored, as the reference does */
  for (int f = 0; f < 3; f++)
    if (!found[f])
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: tensor '%.*s': no \"%s\"", file, SHOWN,
                       name, fields[f]);

  if (!cJSON_IsString(found[0]) || !clrn_dtype_from_name(found[0]->valuestring, &t->dtype))
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: tensor '%.*s': unknown dtype %.*s", file,
                     SHOWN, name, SHOWN,
                     cJSON_IsString(found[0]) ? found[0]->valuestring : "(not a string)");
  CLRN_TRY(parse_shape(found[1], file, t));

  const cJSON *offsets = found[2];
  if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2 ||
      !json_uint(cJSON_GetArrayItem(offsets, 0), &r->begin) ||
      !json_uint(cJSON_GetArrayItem(offsets, 1), &r->end) || r->begin > r->end)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: tensor '%.*s': data_offsets is not [begin, end] with integers "
                     "begin <= end",
                     file, SHOWN, name);
  size_t size = clrn_dtype_size(t->dtype);
  if (t->elements > UINT64_MAX / size)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: tensor '%.*s': its byte count overflows",
                     file, SHOWN, name);
  t->bytes = t->elements * size;
  if (t->bytes != r->end - r->begin)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: tensor '%.*s': %llu elements of %s need %llu bytes but data_offsets "
                     "[%llu, %llu] hold %llu",
                     file, SHOWN, name, (unsigned long long)t->elements, clrn_dtype_name(t->dtype),
                     (unsigned long long)t->bytes, (unsigned long long)r->begin,
                     (unsigned long long)r->end, (unsigned long long)(r->end - r->begin));
  if (r->end > data_size)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: tensor '%.*s': data_offsets [%llu, %llu] run past the data section "
                     "(%llu bytes)",
                     file, SHOWN, name, (unsigned long long)r->begin, (unsigned long long)r->end,
                     (unsigned long long)data_size);
  t->offset = data->offset + r->begin;
  t->data = data->bytes ? data->bytes + r->begin : NULL;
  return CLRN_STATUS_SUCCESS;
}

static clrn_status parse_metadata(const cJSON *meta, const char *file, clrn_safetensors *out) {
  if (cJSON_IsNull(meta)) /* serde reads null as "no metadata" */
    return CLRN_STATUS_SUCCESS;
  if (!cJSON_IsObject(meta))
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: __metadata__ is not an object", file);
  size_t count = (size_t)cJSON_GetArraySize(meta);
  out->metadata = calloc(count ? count : 1, sizeof *out->metadata);
  if (!out->metadata)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: metadata table", file);
  const cJSON *item;
  cJSON_ArrayForEach(item, meta) {
    if (!cJSON_IsString(item))
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: __metadata__ entry '%.*s' is not a string",
                       file, SHOWN, item->string);
    clrn_st_metadata *m = &out->metadata[out->metadata_count++];
    m->key = strdup(item->string);
    m->value = strdup(item->valuestring);
    if (!m->key || !m->value)
      return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: metadata entry", file);
  }
  return CLRN_STATUS_SUCCESS;
}

/* Fills out's tables from the root object and *spans with each tensor's range. */
static clrn_status collect(const cJSON *root, const char *file, const data_section *data,
                           clrn_safetensors *out, span **spans) {
  size_t count = 0;
  bool seen_metadata = false;
  const cJSON *item;
  cJSON_ArrayForEach(item, root) {
    if (strcmp(item->string, "__metadata__") != 0) {
      count++;
    } else if (seen_metadata) {
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: __metadata__ appears twice", file);
    } else {
      seen_metadata = true;
      CLRN_TRY(parse_metadata(item, file, out));
    }
  }
  if (count > CLRN_SAFETENSORS_MAX_TENSORS)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "%s: %zu tensors; at most %u are supported (about 100 times the 932 of "
                     "resnet152, the largest supported model)",
                     file, count, CLRN_SAFETENSORS_MAX_TENSORS);
  out->tensors = calloc(count ? count : 1, sizeof *out->tensors);
  *spans = calloc(count ? count : 1, sizeof **spans);
  if (!out->tensors || !*spans)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: table of %zu tensors", file, count);
  cJSON_ArrayForEach(item, root) {
    if (strcmp(item->string, "__metadata__") == 0)
      continue;
    size_t i = out->count;
    out->tensors[i].name = strdup(item->string);
    if (!out->tensors[i].name)
      return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: tensor name", file);
    out->count++;
    (*spans)[i].index = i;
    CLRN_TRY(parse_entry(item, file, data, &out->tensors[i], &(*spans)[i]));
  }
  return CLRN_STATUS_SUCCESS;
}

/* ---- stage 5: the whole table ----------------------------------------------- */

static int compare_strings(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *metadata_key(const clrn_safetensors *st, size_t i) {
  return st->metadata[i].key;
}

/* Fails when two of the count strings get(st, i) are equal; what says whose names
 * they are. Sorting keeps this O(n log n) on huge headers (tensor names are
 * checked by build_index() instead). */
static clrn_status check_unique(const clrn_safetensors *st, size_t count,
                                const char *(*get)(const clrn_safetensors *, size_t),
                                const char *file, const char *what) {
  if (count < 2)
    return CLRN_STATUS_SUCCESS;
  const char **sorted = malloc(count * sizeof *sorted);
  if (!sorted)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: name table", file);
  for (size_t i = 0; i < count; i++)
    sorted[i] = get(st, i);
  qsort(sorted, count, sizeof *sorted, compare_strings);
  clrn_status status = CLRN_STATUS_SUCCESS;
  for (size_t i = 1; i < count && status == CLRN_STATUS_SUCCESS; i++)
    if (strcmp(sorted[i - 1], sorted[i]) == 0)
      status = clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: %s '%.*s' appears twice", file, what,
                         SHOWN, sorted[i]);
  free(sorted);
  return status;
}

/* FNV-1a, 64 bits. */
static uint64_t hash_name(const char *name) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    h = (h ^ *p) * 0x100000001b3ull;
  return h;
}

/* The slot holding name, or the empty slot where it would go (open addressing,
 * linear probing; the table is at most half full, so a free slot exists). */
static size_t find_slot(const clrn_safetensors *st, const char *name) {
  size_t mask = st->slot_count - 1;
  size_t i = (size_t)hash_name(name) & mask;
  while (st->slots[i] && strcmp(st->tensors[st->slots[i] - 1].name, name) != 0)
    i = (i + 1) & mask;
  return i;
}

/* Builds the name index of st's tensors, failing on a name that appears twice. */
static clrn_status build_index(clrn_safetensors *st, const char *file) {
  size_t slots = 16;
  while (slots < 2 * st->count)
    slots *= 2;
  st->slots = calloc(slots, sizeof *st->slots);
  if (!st->slots)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: name index", file);
  st->slot_count = slots;
  for (size_t i = 0; i < st->count; i++) {
    size_t slot = find_slot(st, st->tensors[i].name);
    if (st->slots[slot])
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: tensor '%.*s' appears twice", file, SHOWN,
                       st->tensors[i].name);
    st->slots[slot] = i + 1;
  }
  return CLRN_STATUS_SUCCESS;
}

static int compare_spans(const void *a, const void *b) {
  const span *x = a, *y = b;
  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

/* The reference's rule: sorted by offset, each range starts where the previous one
 * ended and the last one ends at the end of the data section. Sorts spans. */
static clrn_status check_tiling(const clrn_safetensors *st, span *spans, uint64_t data_size,
                                const char *file) {
  qsort(spans, st->count, sizeof *spans, compare_spans);
  uint64_t covered = 0;
  const char *previous = NULL;
  for (size_t i = 0; i < st->count; i++) {
    const char *name = st->tensors[spans[i].index].name;
    if (spans[i].begin < covered)
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: tensors '%.*s' and '%.*s' overlap", file,
                       SHOWN, previous, SHOWN, name);
    if (spans[i].begin > covered)
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                       "%s: tensor '%.*s': the %llu bytes before it belong to no tensor", file,
                       SHOWN, name, (unsigned long long)(spans[i].begin - covered));
    covered = spans[i].end;
    previous = name;
  }
  if (covered != data_size)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "%s: the last %llu bytes of the data section belong to no tensor", file,
                     (unsigned long long)(data_size - covered));
  return CLRN_STATUS_SUCCESS;
}

/* ---- the public functions --------------------------------------------------- */

static void free_tables(clrn_safetensors *st) {
  for (size_t i = 0; i < st->count; i++)
    free(st->tensors[i].name);
  for (size_t i = 0; i < st->metadata_count; i++) {
    free(st->metadata[i].key);
    free(st->metadata[i].value);
  }
  free(st->tensors);
  free(st->metadata);
  free(st->slots);
  st->tensors = NULL;
  st->metadata = NULL;
  st->slots = NULL;
  st->count = st->metadata_count = st->slot_count = 0;
}

/* Parses a file of size bytes whose first avail bytes are b (the whole file when
 * in_memory; else at least its prefix and header when their lengths are
 * plausible). */
static clrn_status parse_image(const unsigned char *b, size_t avail, uint64_t size, bool in_memory,
                               const char *name, clrn_safetensors *file) {
  clrn_safetensors result = {0};
  cJSON *root = NULL;
  span *spans = NULL;
  uint64_t n = 0;
  clrn_status status;
  CLRN_GOTO(check_prefix(b, avail, size, name, &n), done, status);
  const char *header = (const char *)b + 8;
  data_section data = {8 + n, size - 8 - n, in_memory ? b + 8 + n : NULL};
  CLRN_GOTO(check_text(header, (size_t)n, name), done, status);
  CLRN_GOTO(parse_json(header, (size_t)n, name, &root), done, status);
  CLRN_GOTO(collect(root, name, &data, &result, &spans), done, status);
  CLRN_GOTO(check_unique(&result, result.metadata_count, metadata_key, name, "__metadata__ entry"),
            done, status);
  CLRN_GOTO(build_index(&result, name), done, status);
  CLRN_GOTO(check_tiling(&result, spans, data.size, name), done, status);
  *file = result;
done:
  if (status != CLRN_STATUS_SUCCESS)
    free_tables(&result);
  cJSON_Delete(root);
  free(spans);
  return status;
}

clrn_status clrn_safetensors_parse(const void *bytes, size_t size, const char *name,
                                   clrn_safetensors *file) {
  if (!file || (!bytes && size))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_safetensors_parse: NULL argument");
  memset(file, 0, sizeof *file);
  return parse_image(bytes, size, size, true, name ? name : "(safetensors in memory)", file);
}

/* Reads exactly size bytes at offset; false (errno set, 0 at the end of the file)
 * when the file ends first or a read fails. */
static bool read_exactly(int fd, void *out, uint64_t size, uint64_t offset) {
  unsigned char *p = out;
  while (size > 0) {
    size_t chunk = size < (1u << 30) ? (size_t)size : (1u << 30);
    ssize_t got = pread(fd, p, chunk, (off_t)offset);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      if (got == 0)
        errno = 0;
      return false;
    }
    p += got;
    size -= (uint64_t)got;
    offset += (uint64_t)got;
  }
  return true;
}

/* Reads the prefix and, when its length is plausible, the header of the open file
 * (size bytes) into *head (*avail bytes); what is not plausible is left to
 * check_prefix() to explain, from up to the first 16 bytes. */
static clrn_status read_head(int fd, uint64_t size, const char *path, unsigned char **head,
                             size_t *avail) {
  unsigned char prefix[16];
  size_t first = size < sizeof prefix ? (size_t)size : sizeof prefix;
  if (!read_exactly(fd, prefix, first, 0))
    return clrn_fail(CLRN_STATUS_IO_ERROR, "cannot read %s: %s", path,
                     errno ? strerror(errno) : "the file is shorter than it was");
  uint64_t n = first >= 8 ? get_u64_le(prefix) : 0;
  size_t want =
      first >= 8 && n <= CLRN_SAFETENSORS_MAX_HEADER && n <= size - 8 ? (size_t)(8 + n) : first;
  *head = malloc(want > first ? want : first ? first : 1);
  if (!*head)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: header of %zu bytes", path, want);
  memcpy(*head, prefix, first < want ? first : want);
  if (want > first && !read_exactly(fd, *head + first, want - first, first))
    return clrn_fail(CLRN_STATUS_IO_ERROR, "cannot read the header of %s: %s", path,
                     errno ? strerror(errno) : "the file is shorter than it was");
  *avail = want;
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_safetensors_open(const char *path, clrn_safetensors *file) {
  if (!path || !file)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_safetensors_open: NULL argument");
  memset(file, 0, sizeof *file);
  unsigned char *head = NULL;
  size_t avail = 0;
  uint64_t size = 0;
  int fd = -1;
  clrn_status status;
  CLRN_GOTO(clrn_file_open_regular_fd(path, &fd, &size), done, status);
  CLRN_GOTO(read_head(fd, size, path, &head, &avail), done, status);
  CLRN_GOTO(parse_image(head, avail, size, false, path, file), done, status);
  file->path = strdup(path);
  if (!file->path) {
    clrn_safetensors_close(file);
    status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: path", path);
    goto done;
  }
  file->fd = fd;
  file->has_fd = true;
  file->file_size = size;
  fd = -1;
done:
  free(head);
  if (fd >= 0)
    close(fd);
  return status;
}

void clrn_safetensors_close(clrn_safetensors *file) {
  if (!file)
    return;
  free_tables(file);
  if (file->has_fd)
    close(file->fd);
  free(file->path);
  memset(file, 0, sizeof *file);
}

const clrn_st_tensor *clrn_safetensors_find(const clrn_safetensors *file, const char *name) {
  if (!file || !name || !file->slot_count)
    return NULL;
  size_t index = file->slots[find_slot(file, name)];
  return index ? &file->tensors[index - 1] : NULL;
}

const char *clrn_safetensors_metadata(const clrn_safetensors *file, const char *key) {
  for (size_t i = 0; file && key && i < file->metadata_count; i++)
    if (strcmp(file->metadata[i].key, key) == 0)
      return file->metadata[i].value;
  return NULL;
}

clrn_status clrn_safetensors_read_bytes(const clrn_safetensors *file, const clrn_st_tensor *tensor,
                                        void *out) {
  if (!tensor || (!out && tensor->bytes))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_safetensors_read_bytes: NULL argument");
  if (tensor->data) {
    if (tensor->bytes)
      memcpy(out, tensor->data, (size_t)tensor->bytes);
    return CLRN_STATUS_SUCCESS;
  }
  if (!file || !file->has_fd)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                     "clrn_safetensors_read_bytes: tensor '%.*s' needs its open file", SHOWN,
                     tensor->name ? tensor->name : "?");
  if (read_exactly(file->fd, out, tensor->bytes, tensor->offset))
    return CLRN_STATUS_SUCCESS;
  if (errno)
    return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: tensor '%.*s': %s", file->path, SHOWN, tensor->name,
                     strerror(errno));
  return clrn_fail(CLRN_STATUS_IO_ERROR,
                   "%s: tensor '%.*s': the file ends before its data (bytes %llu..%llu of the "
                   "%llu its header describes); was it truncated after it was opened?",
                   file->path, SHOWN, tensor->name, (unsigned long long)tensor->offset,
                   (unsigned long long)(tensor->offset + tensor->bytes),
                   (unsigned long long)file->file_size);
}
