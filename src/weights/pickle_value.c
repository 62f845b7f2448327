/* The pickle reader's values (see pickle.h): their names in messages, lookups in a
 * dict, freeing the arena; and the names of every pickle opcode, so that a refused
 * one is named as Python's pickletools names it. */
#include <stdlib.h>
#include <string.h>

#include "weights/pickle.h"

static const struct {
  unsigned char code;
  const char *name;
} opcode_names[] = {
    {'(', "MARK"},
    {'.', "STOP"},
    {'0', "POP"},
    {'1', "POP_MARK"},
    {'2', "DUP"},
    {'F', "FLOAT"},
    {'I', "INT"},
    {'J', "BININT"},
    {'K', "BININT1"},
    {'L', "LONG"},
    {'M', "BININT2"},
    {'N', "NONE"},
    {'P', "PERSID"},
    {'Q', "BINPERSID"},
    {'R', "REDUCE"},
    {'S', "STRING"},
    {'T', "BINSTRING"},
    {'U', "SHORT_BINSTRING"},
    {'V', "UNICODE"},
    {'X', "BINUNICODE"},
    {'a', "APPEND"},
    {'b', "BUILD"},
    {'c', "GLOBAL"},
    {'d', "DICT"},
    {'}', "EMPTY_DICT"},
    {'e', "APPENDS"},
    {'g', "GET"},
    {'h', "BINGET"},
    {'i', "INST"},
    {'j', "LONG_BINGET"},
    {'l', "LIST"},
    {']', "EMPTY_LIST"},
    {'o', "OBJ"},
    {'p', "PUT"},
    {'q', "BINPUT"},
    {'r', "LONG_BINPUT"},
    {'s', "SETITEM"},
    {'t', "TUPLE"},
    {')', "EMPTY_TUPLE"},
    {'u', "SETITEMS"},
    {'G', "BINFLOAT"},
    {'B', "BINBYTES"},
    {'C', "SHORT_BINBYTES"},
    {0x80, "PROTO"},
    {0x81, "NEWOBJ"},
    {0x82, "EXT1"},
    {0x83, "EXT2"},
    {0x84, "EXT4"},
    {0x85, "TUPLE1"},
    {0x86, "TUPLE2"},
    {0x87, "TUPLE3"},
    {0x88, "NEWTRUE"},
    {0x89, "NEWFALSE"},
    {0x8a, "LONG1"},
    {0x8b, "LONG4"},
    {0x8c, "SHORT_BINUNICODE"},
    {0x8d, "BINUNICODE8"},
    {0x8e, "BINBYTES8"},
    {0x8f, "EMPTY_SET"},
    {0x90, "ADDITEMS"},
    {0x91, "FROZENSET"},
    {0x92, "NEWOBJ_EX"},
    {0x93, "STACK_GLOBAL"},
    {0x94, "MEMOIZE"},
    {0x95, "FRAME"},
    {0x96, "BYTEARRAY8"},
    {0x97, "NEXT_BUFFER"},
    {0x98, "READONLY_BUFFER"},
};

const char *clrn_pickle_opcode_name(unsigned char code) {
  for (size_t i = 0; i < sizeof opcode_names / sizeof opcode_names[0]; i++)
    if (opcode_names[i].code == code)
      return opcode_names[i].name;
  return "unknown";
}

const char *clrn_pk_kind_name(clrn_pk_kind kind) {
  static const char *const names[] = {"None", "bool", "int",    "float", "str",          "tuple",
                                      "list", "dict", "global", "call",  "persistent id"};
  return (size_t)kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

void clrn_pickle_free(clrn_pickle *p) {
  for (size_t i = 0; i < p->count; i++) {
    clrn_pk_value *v = &p->values[i];
    if (v->kind == CLRN_PK_STRING)
      free(v->string);
    else
      free(v->items);
  }
  free(p->values);
  memset(p, 0, sizeof *p);
}

const clrn_pk_value *clrn_pk_dict_get(const clrn_pickle *p, const clrn_pk_value *dict,
                                      const char *key) {
  if (dict->kind != CLRN_PK_DICT)
    return NULL;
  for (size_t i = dict->count; i >= 2; i -= 2) {
    const clrn_pk_value *k = &p->values[dict->items[i - 2]];
    if (k->kind == CLRN_PK_STRING && strcmp(k->string, key) == 0)
      return &p->values[dict->items[i - 1]];
  }
  return NULL;
}
