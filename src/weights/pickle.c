/* The pickle stack machine (see pickle.h; its values are in pickle_value.c). One
 * opcode at a time: read its argument (bounds-checked; running off the input sets
 * ran_out), then act on the stack. Marks are kept apart from the stack, as
 * CPython's metastack does, so no opcode can pop below the innermost mark. Errors
 * name the opcode and its offset in the file. */
#include "weights/pickle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/error.h"

#define UNSET UINT32_MAX /* an empty memo slot */
#define MAX_GLOBAL 256   /* longest module or name of a GLOBAL */

typedef struct machine {
  const unsigned char *b;
  size_t size, pos, at; /* at: offset of the opcode being run */
  const char *name;
  uint64_t where;
  const clrn_pickle_rules *rules;
  clrn_pickle *p;
  clrn_pk_ref *stack;
  size_t depth, stack_capacity;
  size_t marks[CLRN_PICKLE_MAX_MARKS];
  size_t mark_count;
  clrn_pk_ref *memo;
  size_t memo_capacity, memo_keys;
  bool ran_out;
} machine;

/* Fails with INVALID_FORMAT (or status), naming the file and the opcode's offset. */
static clrn_status fail_status(const machine *m, clrn_status status, const char *fmt, ...)
    CLRN_PRINTF(3, 4);
static clrn_status fail_status(const machine *m, clrn_status status, const char *fmt, ...) {
  char text[512];
  va_list args;
  va_start(args, fmt);
  vsnprintf(text, sizeof text, fmt, args);
  va_end(args);
  return clrn_fail(status, "%s: pickle at byte %llu: %s", m->name,
                   (unsigned long long)(m->where + m->at), text);
}
#define FAIL(m, ...) fail_status(m, CLRN_STATUS_INVALID_FORMAT, __VA_ARGS__)

/* ---- input ------------------------------------------------------------------ */

static clrn_status take(machine *m, size_t n, const unsigned char **out) {
  if (m->size - m->pos < n) {
    m->ran_out = true;
    return FAIL(m, "the pickle ends before its STOP opcode (the file is truncated)");
  }
  *out = m->b + m->pos;
  m->pos += n;
  return CLRN_STATUS_SUCCESS;
}

static clrn_status take_uint(machine *m, size_t n, uint64_t *value) {
  const unsigned char *p = NULL;
  CLRN_TRY(take(m, n, &p));
  *value = 0;
  for (size_t i = n; i-- > 0;)
    *value = *value << 8 | p[i];
  return CLRN_STATUS_SUCCESS;
}

/* ---- values and the stack --------------------------------------------------- */

static clrn_status new_value(machine *m, clrn_pk_kind kind, clrn_pk_ref *ref) {
  clrn_pickle *p = m->p;
  if (p->count >= CLRN_PICKLE_MAX_VALUES)
    return fail_status(m, CLRN_STATUS_UNSUPPORTED, "more than %u values", CLRN_PICKLE_MAX_VALUES);
  CLRN_TRY(clrn_array_reserve((void **)&p->values, &p->capacity, p->count + 1, sizeof *p->values,
                              256, "pickle values"));
  memset(&p->values[p->count], 0, sizeof p->values[0]);
  p->values[p->count].kind = kind;
  *ref = (clrn_pk_ref)p->count++;
  return CLRN_STATUS_SUCCESS;
}

static clrn_status add_item(machine *m, clrn_pk_ref container, clrn_pk_ref item) {
  clrn_pk_value *v = &m->p->values[container];
  if (v->count == UINT32_MAX)
    return fail_status(m, CLRN_STATUS_UNSUPPORTED, "a container with too many items");
  if (v->count == v->capacity) {
    uint32_t capacity =
        v->capacity ? (v->capacity > UINT32_MAX / 2 ? UINT32_MAX : v->capacity * 2) : 4;
    clrn_pk_ref *items = realloc(v->items, (size_t)capacity * sizeof *items);
    if (!items)
      return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "pickle container");
    v->items = items;
    v->capacity = capacity;
  }
  v->items[v->count++] = item;
  return CLRN_STATUS_SUCCESS;
}

static clrn_status push(machine *m, clrn_pk_ref ref) {
  if (m->depth >= CLRN_PICKLE_MAX_STACK)
    return fail_status(m, CLRN_STATUS_UNSUPPORTED, "the stack grows past %u entries",
                       CLRN_PICKLE_MAX_STACK);
  CLRN_TRY(clrn_array_reserve((void **)&m->stack, &m->stack_capacity, m->depth + 1,
                              sizeof *m->stack, 64, "pickle stack"));
  m->stack[m->depth++] = ref;
  return CLRN_STATUS_SUCCESS;
}

static clrn_status push_new(machine *m, clrn_pk_kind kind, clrn_pk_ref *ref) {
  CLRN_TRY(new_value(m, kind, ref));
  return push(m, *ref);
}

/* The lowest stack entry the current opcode may touch. */
static size_t floor_of(const machine *m) { return m->mark_count ? m->marks[m->mark_count - 1] : 0; }

static clrn_status pop(machine *m, clrn_pk_ref *ref) {
  if (m->depth <= floor_of(m))
    return FAIL(m, "%s pops an empty stack", clrn_pickle_opcode_name(m->b[m->at]));
  *ref = m->stack[--m->depth];
  return CLRN_STATUS_SUCCESS;
}

/* The top entry, which must be of kind. */
static clrn_status top_of_kind(machine *m, clrn_pk_kind kind, clrn_pk_ref *ref) {
  if (m->depth <= floor_of(m))
    return FAIL(m, "%s needs a %s on an empty stack", clrn_pickle_opcode_name(m->b[m->at]),
                clrn_pk_kind_name(kind));
  *ref = m->stack[m->depth - 1];
  clrn_pk_kind found = m->p->values[*ref].kind;
  if (found != kind)
    return FAIL(m, "%s needs a %s, not a %s", clrn_pickle_opcode_name(m->b[m->at]),
                clrn_pk_kind_name(kind), clrn_pk_kind_name(found));
  return CLRN_STATUS_SUCCESS;
}

/* Pops the innermost mark; the entries above it start at *start. */
static clrn_status pop_mark(machine *m, size_t *start) {
  if (!m->mark_count)
    return FAIL(m, "%s without a MARK", clrn_pickle_opcode_name(m->b[m->at]));
  *start = m->marks[--m->mark_count];
  return CLRN_STATUS_SUCCESS;
}

/* Moves stack entries [start, depth) into the container (pairs for a dict). */
static clrn_status move_items(machine *m, size_t start, clrn_pk_ref container) {
  if (m->p->values[container].kind == CLRN_PK_DICT && (m->depth - start) % 2)
    return FAIL(m, "%s with an odd number of keys and values",
                clrn_pickle_opcode_name(m->b[m->at]));
  for (size_t i = start; i < m->depth; i++)
    CLRN_TRY(add_item(m, container, m->stack[i]));
  m->depth = start;
  return CLRN_STATUS_SUCCESS;
}

/* TUPLE, LIST, DICT: a new container of the entries above the mark. */
static clrn_status collect(machine *m, clrn_pk_kind kind) {
  size_t start = 0;
  clrn_pk_ref ref = 0;
  CLRN_TRY(pop_mark(m, &start));
  CLRN_TRY(new_value(m, kind, &ref));
  CLRN_TRY(move_items(m, start, ref));
  return push(m, ref);
}

/* TUPLE1..3: a tuple of the top n entries. */
static clrn_status small_tuple(machine *m, size_t n) {
  if (m->depth - floor_of(m) < n)
    return FAIL(m, "%s with fewer than %zu entries on the stack",
                clrn_pickle_opcode_name(m->b[m->at]), n);
  clrn_pk_ref ref = 0;
  CLRN_TRY(new_value(m, CLRN_PK_TUPLE, &ref));
  CLRN_TRY(move_items(m, m->depth - n, ref));
  return push(m, ref);
}

/* APPENDS, SETITEMS: the entries above the mark go into the list or dict below it. */
static clrn_status extend(machine *m, clrn_pk_kind kind) {
  size_t start = 0;
  clrn_pk_ref container = 0;
  CLRN_TRY(pop_mark(m, &start));
  size_t depth = m->depth;
  m->depth = start; /* look at what lies below the mark */
  clrn_status status = top_of_kind(m, kind, &container);
  m->depth = depth;
  CLRN_TRY(status);
  return move_items(m, start, container);
}

/* APPEND, SETITEM: the top one or two entries go into the list or dict below. */
static clrn_status insert(machine *m, clrn_pk_kind kind, size_t n) {
  if (m->depth - floor_of(m) < n + 1)
    return FAIL(m, "%s with too few entries on the stack", clrn_pickle_opcode_name(m->b[m->at]));
  size_t depth = m->depth;
  clrn_pk_ref container = 0;
  m->depth -= n;
  clrn_status status = top_of_kind(m, kind, &container);
  m->depth = depth;
  CLRN_TRY(status);
  return move_items(m, depth - n, container);
}

/* ---- strings, globals and the memo --------------------------------------------- */

static clrn_status string_value(machine *m, const unsigned char *text, size_t length) {
  if (memchr(text, 0, length))
    return FAIL(m, "a string holds a NUL byte");
  clrn_pk_ref ref = 0;
  CLRN_TRY(push_new(m, CLRN_PK_STRING, &ref));
  clrn_pk_value *v = &m->p->values[ref];
  v->string = strndup((const char *)text, length);
  v->length = length;
  return v->string ? CLRN_STATUS_SUCCESS : clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "string");
}

/* A string of the length held in the next width bytes. */
static clrn_status string_op(machine *m, size_t width) {
  uint64_t length = 0;
  const unsigned char *text = NULL;
  CLRN_TRY(take_uint(m, width, &length));
  if (length > CLRN_PICKLE_MAX_STRING)
    return fail_status(m, CLRN_STATUS_UNSUPPORTED, "a string of %llu bytes; at most %u",
                       (unsigned long long)length, CLRN_PICKLE_MAX_STRING);
  CLRN_TRY(take(m, (size_t)length, &text));
  return string_value(m, text, (size_t)length);
}

static clrn_status global_value(machine *m, const char *module, size_t module_length,
                                const char *name, size_t name_length) {
  const clrn_pickle_rules *r = m->rules;
  for (size_t i = 0; i < r->whitelist_count; i++) {
    const char *w = r->whitelist[i];
    if (strlen(w) == module_length + 1 + name_length && memcmp(w, module, module_length) == 0 &&
        w[module_length] == '.' && memcmp(w + module_length + 1, name, name_length) == 0) {
      clrn_pk_ref ref = 0;
      CLRN_TRY(push_new(m, CLRN_PK_GLOBAL, &ref));
      m->p->values[ref].global = (int)i;
      return CLRN_STATUS_SUCCESS;
    }
  }
  return fail_status(m, CLRN_STATUS_UNSUPPORTED,
                     "refers to %.*s.%.*s, which is not allowed (only a state_dict of tensors "
                     "is read, and pickle code is never run: save model.state_dict())",
                     (int)(module_length < MAX_GLOBAL ? module_length : MAX_GLOBAL), module,
                     (int)(name_length < MAX_GLOBAL ? name_length : MAX_GLOBAL), name);
}

/* GLOBAL: "module\nname\n". */
static clrn_status global_op(machine *m) {
  const unsigned char *parts[2];
  size_t lengths[2];
  for (int i = 0; i < 2; i++) {
    size_t left = m->size - m->pos;
    const unsigned char *end = memchr(m->b + m->pos, '\n', left < MAX_GLOBAL ? left : MAX_GLOBAL);
    if (!end && left < MAX_GLOBAL) {
      m->ran_out = true;
      return FAIL(m, "the pickle ends inside a GLOBAL (the file is truncated)");
    }
    if (!end)
      return FAIL(m, "a GLOBAL name longer than %d bytes", MAX_GLOBAL);
    parts[i] = m->b + m->pos;
    lengths[i] = (size_t)(end - parts[i]);
    m->pos += lengths[i] + 1;
  }
  if (memchr(parts[0], 0, lengths[0]) || memchr(parts[1], 0, lengths[1]))
    return FAIL(m, "a GLOBAL name holds a NUL byte");
  return global_value(m, (const char *)parts[0], lengths[0], (const char *)parts[1], lengths[1]);
}

static clrn_status stack_global_op(machine *m) {
  clrn_pk_ref module = 0, name = 0;
  CLRN_TRY(pop(m, &name));
  CLRN_TRY(pop(m, &module));
  const clrn_pk_value *a = &m->p->values[module], *b = &m->p->values[name];
  if (a->kind != CLRN_PK_STRING || b->kind != CLRN_PK_STRING)
    return FAIL(m, "STACK_GLOBAL needs two strings");
  return global_value(m, a->string, a->length, b->string, b->length);
}

static clrn_status memo_put(machine *m, uint64_t index) {
  if (index >= CLRN_PICKLE_MAX_MEMO)
    return fail_status(m, CLRN_STATUS_UNSUPPORTED, "memo slot %llu; at most %u slots",
                       (unsigned long long)index, CLRN_PICKLE_MAX_MEMO);
  if (m->depth <= floor_of(m))
    return FAIL(m, "%s with an empty stack", clrn_pickle_opcode_name(m->b[m->at]));
  size_t old = m->memo_capacity;
  CLRN_TRY(clrn_array_reserve((void **)&m->memo, &m->memo_capacity, (size_t)index + 1,
                              sizeof *m->memo, 64, "pickle memo"));
  for (size_t i = old; i < m->memo_capacity; i++)
    m->memo[i] = UNSET;
  m->memo_keys += m->memo[index] == UNSET;
  m->memo[index] = m->stack[m->depth - 1];
  return CLRN_STATUS_SUCCESS;
}

static clrn_status memo_get(machine *m, uint64_t index) {
  if (index >= m->memo_capacity || m->memo[index] == UNSET)
    return FAIL(m, "memo slot %llu is empty", (unsigned long long)index);
  return push(m, m->memo[index]);
}

/* ---- calls ------------------------------------------------------------------------ */

/* The dict maker called with args: () as Python 3 pickles an OrderedDict (its
 * items follow with SETITEMS), or ([[key, value], ...],) as Python 2 did. */
static clrn_status make_dict(machine *m, clrn_pk_ref args) {
  clrn_pk_ref dict = 0;
  CLRN_TRY(push_new(m, CLRN_PK_DICT, &dict));
  const clrn_pk_value *a = &m->p->values[args];
  if (a->count == 0)
    return CLRN_STATUS_SUCCESS;
  const clrn_pk_value *items = a->count == 1 ? &m->p->values[a->items[0]] : NULL;
  if (!items || items->kind != CLRN_PK_LIST)
    return FAIL(m, "%s called with arguments other than a list of pairs",
                m->rules->whitelist[m->rules->dict_global]);
  for (uint32_t i = 0; i < items->count; i++) {
    const clrn_pk_value *pair = &m->p->values[items->items[i]];
    if ((pair->kind != CLRN_PK_LIST && pair->kind != CLRN_PK_TUPLE) || pair->count != 2)
      return FAIL(m, "%s called with a list holding something other than pairs",
                  m->rules->whitelist[m->rules->dict_global]);
    CLRN_TRY(add_item(m, dict, pair->items[0])); /* grows only the new dict's items */
    CLRN_TRY(add_item(m, dict, pair->items[1]));
  }
  return CLRN_STATUS_SUCCESS;
}

static clrn_status reduce_op(machine *m) {
  clrn_pk_ref args = 0, callable = 0, ref = 0;
  CLRN_TRY(pop(m, &args));
  CLRN_TRY(pop(m, &callable));
  const clrn_pk_value *f = &m->p->values[callable], *a = &m->p->values[args];
  if (f->kind != CLRN_PK_GLOBAL || a->kind != CLRN_PK_TUPLE)
    return FAIL(m, "REDUCE of a %s with a %s; only a global with a tuple",
                clrn_pk_kind_name(f->kind), clrn_pk_kind_name(a->kind));
  int global = f->global;
  if (global == m->rules->dict_global)
    return make_dict(m, args);
  CLRN_TRY(push_new(m, CLRN_PK_CALL, &ref));
  m->p->values[ref].global = global;
  return add_item(m, ref, args);
}

static clrn_status build_op(machine *m) {
  clrn_pk_ref state = 0, target = 0;
  CLRN_TRY(pop(m, &state));
  return top_of_kind(m, CLRN_PK_DICT, &target); /* an OrderedDict's _metadata: dropped */
}

static clrn_status persid_op(machine *m) {
  clrn_pk_ref pid = 0, ref = 0;
  CLRN_TRY(pop(m, &pid));
  CLRN_TRY(push_new(m, CLRN_PK_PERSID, &ref));
  return add_item(m, ref, pid);
}

/* ---- the loop ----------------------------------------------------------------------- */

static clrn_status number_op(machine *m, clrn_pk_kind kind, int64_t value) {
  clrn_pk_ref ref = 0;
  CLRN_TRY(push_new(m, kind, &ref));
  m->p->values[ref].number = value;
  return CLRN_STATUS_SUCCESS;
}

/* LONG1: a little-endian two's complement integer of up to 8 bytes. */
static clrn_status long1_op(machine *m) {
  uint64_t n = 0, bits = 0;
  const unsigned char *p = NULL;
  CLRN_TRY(take_uint(m, 1, &n));
  if (n > 8)
    return fail_status(m, CLRN_STATUS_UNSUPPORTED, "an integer of %llu bytes (over 64 bits)",
                       (unsigned long long)n);
  CLRN_TRY(take(m, (size_t)n, &p));
  for (size_t i = (size_t)n; i-- > 0;)
    bits = bits << 8 | p[i];
  if (n > 0 && n < 8 && (p[n - 1] & 0x80))
    bits |= ~UINT64_C(0) << (8 * n);
  return number_op(m, CLRN_PK_INT, (int64_t)bits);
}

static clrn_status float_op(machine *m) {
  uint64_t bits = 0;
  const unsigned char *p = NULL;
  CLRN_TRY(take(m, 8, &p));
  for (int i = 0; i < 8; i++) /* big-endian */
    bits = bits << 8 | p[i];
  clrn_pk_ref ref = 0;
  CLRN_TRY(push_new(m, CLRN_PK_FLOAT, &ref));
  memcpy(&m->p->values[ref].real, &bits, sizeof bits);
  return CLRN_STATUS_SUCCESS;
}

static clrn_status step(machine *m, unsigned char op, bool *stop) {
  uint64_t v = 0;
  clrn_pk_ref ref = 0;
  switch (op) {
  case 0x80: /* PROTO */
    CLRN_TRY(take_uint(m, 1, &v));
    return v >= 2 && v <= 5 ? CLRN_STATUS_SUCCESS
                            : fail_status(m, CLRN_STATUS_UNSUPPORTED, "pickle protocol %llu",
                                          (unsigned long long)v);
  case 0x95: return take_uint(m, 8, &v); /* FRAME: a hint, nothing to do */
  case '.': *stop = true; return CLRN_STATUS_SUCCESS;
  case '(':
    if (m->mark_count == CLRN_PICKLE_MAX_MARKS)
      return fail_status(m, CLRN_STATUS_UNSUPPORTED, "nested deeper than %u marks",
                         CLRN_PICKLE_MAX_MARKS);
    m->marks[m->mark_count++] = m->depth;
    return CLRN_STATUS_SUCCESS;
  case '0': return pop(m, &ref);
  case '1': return pop_mark(m, &m->depth);
  case 'N': return push_new(m, CLRN_PK_NONE, &ref);
  case 0x88: return number_op(m, CLRN_PK_BOOL, 1);
  case 0x89: return number_op(m, CLRN_PK_BOOL, 0);
  case 'J': CLRN_TRY(take_uint(m, 4, &v)); return number_op(m, CLRN_PK_INT, (int32_t)(uint32_t)v);
  case 'K': CLRN_TRY(take_uint(m, 1, &v)); return number_op(m, CLRN_PK_INT, (int64_t)v);
  case 'M': CLRN_TRY(take_uint(m, 2, &v)); return number_op(m, CLRN_PK_INT, (int64_t)v);
  case 0x8a: return long1_op(m);
  case 'G': return float_op(m);
  case 'X':
  case 'T': return string_op(m, 4); /* BINUNICODE, BINSTRING */
  case 0x8c:
  case 'U': return string_op(m, 1); /* SHORT_BINUNICODE, SHORT_BINSTRING */
  case ')': return push_new(m, CLRN_PK_TUPLE, &ref);
  case ']': return push_new(m, CLRN_PK_LIST, &ref);
  case '}': return push_new(m, CLRN_PK_DICT, &ref);
  case 't': return collect(m, CLRN_PK_TUPLE);
  case 'l': return collect(m, CLRN_PK_LIST);
  case 'd': return collect(m, CLRN_PK_DICT);
  case 0x85:
  case 0x86:
  case 0x87: return small_tuple(m, (size_t)(op - 0x84));
  case 'a': return insert(m, CLRN_PK_LIST, 1);
  case 's': return insert(m, CLRN_PK_DICT, 2);
  case 'e': return extend(m, CLRN_PK_LIST);
  case 'u': return extend(m, CLRN_PK_DICT);
  case 'c': return global_op(m);
  case 0x93: return stack_global_op(m);
  case 'R': return reduce_op(m);
  case 'b': return build_op(m);
  case 'Q': return persid_op(m);
  case 'q': CLRN_TRY(take_uint(m, 1, &v)); return memo_put(m, v);
  case 'r': CLRN_TRY(take_uint(m, 4, &v)); return memo_put(m, v);
  case 0x94: return memo_put(m, m->memo_keys);
  case 'h': CLRN_TRY(take_uint(m, 1, &v)); return memo_get(m, v);
  case 'j': CLRN_TRY(take_uint(m, 4, &v)); return memo_get(m, v);
  default:
    return fail_status(m, CLRN_STATUS_UNSUPPORTED,
                       "opcode %s (0x%02x) is not in the subset torch.save writes for a "
                       "state_dict",
                       clrn_pickle_opcode_name(op), op);
  }
}

clrn_status clrn_pickle_run(const unsigned char *bytes, size_t size, const char *name,
                            uint64_t where, const clrn_pickle_rules *rules, clrn_pickle *out,
                            size_t *used, bool *ran_out) {
  memset(out, 0, sizeof *out);
  machine m = {.b = bytes, .size = size, .name = name, .where = where, .rules = rules, .p = out};
  clrn_status status = CLRN_STATUS_SUCCESS;
  for (bool stop = false; status == CLRN_STATUS_SUCCESS && !stop;) {
    m.at = m.pos;
    const unsigned char *op = NULL;
    status = take(&m, 1, &op);
    if (status == CLRN_STATUS_SUCCESS)
      status = step(&m, *op, &stop);
  }
  if (status == CLRN_STATUS_SUCCESS && (m.depth != 1 || m.mark_count))
    status = FAIL(&m, "STOP leaves %zu values and %zu marks; a pickle ends with one value", m.depth,
                  m.mark_count);
  if (status == CLRN_STATUS_SUCCESS) {
    out->root = m.stack[0];
    *used = m.pos;
  } else {
    clrn_pickle_free(out);
  }
  *ran_out = m.ran_out;
  free(m.stack);
  free(m.memo);
  return status;
}
