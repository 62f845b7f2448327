/* Reading PyTorch checkpoints (.pth, .pt) natively, without Python: what torch.save
 * writes for a state_dict, in both of its containers.
 *
 * - The zip format (torch >= 1.6): stored entries <archive>/data.pkl (the pickle),
 *   <archive>/data/<key> (one per storage, raw little-endian), <archive>/version
 *   and, since torch 2.1, <archive>/byteorder (must say "little"). See zip.h.
 * - The legacy format (torch < 1.6, older torchvision files): four pickles (the
 *   magic number 0x1950a86a20f9469cfc6c, protocol version 1001, sys_info, the
 *   object), a pickled list of storage keys, then each storage in that order as an
 *   8-byte little-endian element count and its raw bytes, to the end of the file.
 *
 * The object must be a dict (an OrderedDict) of tensors, or a checkpoint dict that
 * holds one under "state_dict" or "model"; a "module." prefix (DataParallel) is
 * taken off names. Tensors are built by torch._utils._rebuild_tensor_v2 (or
 * _rebuild_tensor, or wrapped in _rebuild_parameter) on persistent storages of
 * torch.{Float,Half,BFloat16,Long,Double,Int,Short,Char,Byte,Bool}Storage;
 * offsets and strides are honoured when reading. The pickle is never executed
 * (see pickle.h); every storage range, offset and stride is checked against the
 * file when it is opened, and anything else is refused with a message naming
 * what was found. The file is read with pread(), one tensor at a time, on
 * request. */
#ifndef CLRN_WEIGHTS_PTH_H
#define CLRN_WEIGHTS_PTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weights/safetensors.h"
#include "weights/source.h"
#include "weights/zip.h"

#define CLRN_PTH_MAX_TENSORS 100000u
#define CLRN_PTH_MAX_DIMS 8
#define CLRN_PTH_MAX_PICKLE (64u << 20) /* bytes of the object's pickle */

typedef struct clrn_pth_storage {
  char *key;
  clrn_dtype dtype;
  const char *type_name; /**< "FloatStorage", ... */
  uint64_t elements;
  uint64_t offset;             /**< of its bytes in the file */
  const clrn_zip_entry *entry; /**< zip: its entry (CRC-checked on whole reads); legacy: NULL */
  bool located;                /**< offset (and entry) set */
} clrn_pth_storage;

typedef struct clrn_pth_tensor {
  char *name;
  clrn_dtype dtype;
  int ndim; /**< 0 for a scalar */
  int64_t shape[CLRN_PTH_MAX_DIMS];
  int64_t stride[CLRN_PTH_MAX_DIMS]; /**< in elements, non-negative */
  uint64_t offset;                   /**< in elements, into its storage */
  uint64_t elements;
  size_t storage; /**< index into storages */
} clrn_pth_tensor;

typedef struct clrn_pth {
  clrn_source source;
  clrn_zip zip; /**< empty for the legacy format */
  bool legacy;
  clrn_pth_storage *storages; /**< sorted by key */
  size_t storage_count;
  clrn_pth_tensor *tensors; /**< sorted by name */
  size_t count;
} clrn_pth;

/** Whether the file starting with these n bytes is a checkpoint this reader
 * takes: a zip archive ("PK\3\4") or a legacy torch.save file (protocol 2 pickle
 * of the magic number). */
bool clrn_pth_detect(const unsigned char *head, size_t n);

/** Opens and validates a checkpoint file (CLRN_STATUS_IO_ERROR when it cannot be
 * read, CLRN_STATUS_INVALID_FORMAT when it is malformed, CLRN_STATUS_UNSUPPORTED
 * for a valid file holding something else than a state_dict). On failure *pth is
 * left zeroed. */
clrn_status clrn_pth_open(const char *path, clrn_pth *pth);

/** As clrn_pth_open(), over size bytes in memory (not copied; they must outlive
 * the result). */
clrn_status clrn_pth_parse(const void *bytes, size_t size, const char *name, clrn_pth *pth);

/** Frees the tables and closes the file, leaving *pth zeroed. Safe on a zeroed
 * struct and when called twice. */
void clrn_pth_close(clrn_pth *pth);

/** The tensor with this name (after the "module." prefix is taken off), or NULL. */
const clrn_pth_tensor *clrn_pth_find(const clrn_pth *pth, const char *name);

/** Writes an F32, F16 or BF16 tensor into out as float32 (tensor->elements
 * floats, row-major, whatever its strides). Other dtypes fail with
 * CLRN_STATUS_UNSUPPORTED; a file changed since it was opened with
 * CLRN_STATUS_IO_ERROR or CLRN_STATUS_INVALID_FORMAT (CRC-32). */
clrn_status clrn_pth_read_f32(const clrn_pth *pth, const clrn_pth_tensor *tensor, float *out);

#endif
