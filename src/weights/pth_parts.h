/* Internal to the .pth reader: the steps its files share. pth.c opens the file
 * and handles the zip container, pth_legacy.c the legacy one, pth_table.c turns
 * the pickle's values into the storage and tensor tables, pth_read.c reads a
 * tensor. */
#ifndef CLRN_WEIGHTS_PTH_PARTS_H
#define CLRN_WEIGHTS_PTH_PARTS_H

#include "weights/pickle.h"
#include "weights/pth.h"

/** The first bytes of a legacy torch.save file: a protocol 2 pickle of its magic
 * number, 0x1950a86a20f9469cfc6c. */
extern const unsigned char clrn_pth_legacy_magic[15];

/** The globals a torch.save pickle may name, and OrderedDict as the dict maker. */
extern const clrn_pickle_rules clrn_pth_rules;

/** Registers every storage the pickle's persistent ids name (legacy ids have a
 * sixth element, a view, which must be None), sorted by key. */
clrn_status clrn_pth_collect_storages(clrn_pth *pth, const clrn_pickle *pickle);

/** The storage with this key, or NULL. */
clrn_pth_storage *clrn_pth_storage_find(const clrn_pth *pth, const char *key);

/** Builds the tensor table from the pickle's root: a state_dict, or a checkpoint
 * dict holding one under "state_dict" or "model". Storages must be registered. */
clrn_status clrn_pth_collect_tensors(clrn_pth *pth, const clrn_pickle *pickle);

/** Reads the legacy container of pth->source (magic number, sys_info, object,
 * storage keys and data) into the tables. */
clrn_status clrn_pth_read_legacy(clrn_pth *pth);

#endif
