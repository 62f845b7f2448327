/* A pickle reader that never runs pickle code: a small stack machine over the
 * opcodes that torch.save emits for a state_dict or a checkpoint dict (protocols
 * 2 to 5: None, booleans, 64-bit integers, floats, strings, tuples, lists, dicts,
 * the memo, GLOBAL/STACK_GLOBAL, REDUCE, BUILD and BINPERSID). It builds a graph
 * of plain values and refuses any other opcode, naming it and its offset.
 *
 * GLOBAL names are looked up in the caller's whitelist; any other is refused with
 * its name. REDUCE of a whitelisted callable is not executed: it becomes a CALL
 * value (callable and arguments) for the caller to interpret, except the dict
 * constructor the caller names (collections.OrderedDict), which makes a dict:
 * empty (Python 3 adds the items with SETITEMS) or from a list of [key, value]
 * pairs (as Python 2 pickled it). BUILD is accepted on a dict only (the state torch attaches to an
 * OrderedDict, its _metadata, is dropped). BINPERSID makes a PERSID value holding
 * the persistent id, again for the caller.
 *
 * Limits keep a hostile input bounded: CLRN_PICKLE_MAX_STACK stack entries,
 * CLRN_PICKLE_MAX_MARKS open marks (nesting), CLRN_PICKLE_MAX_MEMO memo slots,
 * CLRN_PICKLE_MAX_VALUES values, CLRN_PICKLE_MAX_STRING bytes per string; memory
 * stays linear in the input's size. Values live in one arena, so shared and even
 * cyclic references (through the memo) are harmless. */
#ifndef CLRN_WEIGHTS_PICKLE_H
#define CLRN_WEIGHTS_PICKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clresnet/status.h"

#define CLRN_PICKLE_MAX_STACK (1u << 20)
#define CLRN_PICKLE_MAX_MARKS 256u
#define CLRN_PICKLE_MAX_MEMO (1u << 20)
#define CLRN_PICKLE_MAX_VALUES (1u << 22)
#define CLRN_PICKLE_MAX_STRING (1u << 20)

typedef enum clrn_pk_kind {
  CLRN_PK_NONE,
  CLRN_PK_BOOL,
  CLRN_PK_INT,
  CLRN_PK_FLOAT,
  CLRN_PK_STRING,
  CLRN_PK_TUPLE,
  CLRN_PK_LIST,
  CLRN_PK_DICT,   /**< items are key, value, key, value, ... in insertion order */
  CLRN_PK_GLOBAL, /**< global: the index in the whitelist */
  CLRN_PK_CALL,   /**< global applied to the tuple in items[0] */
  CLRN_PK_PERSID, /**< a persistent id: the value in items[0] */
} clrn_pk_kind;

/** A value: an index into clrn_pickle.values. */
typedef uint32_t clrn_pk_ref;

typedef struct clrn_pk_value {
  clrn_pk_kind kind;
  int global; /**< GLOBAL, CALL */
  union {
    int64_t number; /**< BOOL, INT */
    double real;    /**< FLOAT */
    size_t length;  /**< STRING */
  };
  union {
    char *string;       /**< STRING: NUL-terminated, holds no NUL */
    clrn_pk_ref *items; /**< TUPLE, LIST, DICT, CALL, PERSID */
  };
  uint32_t count, capacity; /**< of items */
} clrn_pk_value;

typedef struct clrn_pickle {
  clrn_pk_value *values;
  size_t count, capacity;
  clrn_pk_ref root; /**< the value STOP returned */
} clrn_pickle;

/** What the machine may meet: whitelist[i] is "module.name"; dict_global is the
 * index of the constructor whose REDUCE with no arguments makes an empty dict (-1
 * for none). */
typedef struct clrn_pickle_rules {
  const char *const *whitelist;
  size_t whitelist_count;
  int dict_global;
} clrn_pickle_rules;

/** Runs the pickle at bytes (at most size bytes; it ends at its STOP) into *out
 * and sets *used to its length. name and where (the pickle's offset in the file)
 * go into errors. When the input ends before STOP, *ran_out is set and the status
 * is CLRN_STATUS_INVALID_FORMAT. On failure *out is left empty. */
clrn_status clrn_pickle_run(const unsigned char *bytes, size_t size, const char *name,
                            uint64_t where, const clrn_pickle_rules *rules, clrn_pickle *out,
                            size_t *used, bool *ran_out);

/** Frees every value, leaving *pickle empty. Safe on an empty one. */
void clrn_pickle_free(clrn_pickle *pickle);

/** The value ref refers to. */
static inline const clrn_pk_value *clrn_pk_get(const clrn_pickle *p, clrn_pk_ref ref) {
  return &p->values[ref];
}

/** "PROTO", "NEWOBJ", ... as pickletools names opcode code ("unknown" for others). */
const char *clrn_pickle_opcode_name(unsigned char code);

/** "None", "int", "tuple", ... for messages. */
const char *clrn_pk_kind_name(clrn_pk_kind kind);

/** The value stored under the string key in dict (the last one, as Python keeps),
 * or NULL. */
const clrn_pk_value *clrn_pk_dict_get(const clrn_pickle *p, const clrn_pk_value *dict,
                                      const char *key);

#endif
