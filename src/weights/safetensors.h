/* Reading safetensors files (https://huggingface.co/docs/safetensors): an 8-byte
 * little-endian header length, a JSON header mapping tensor names to
 * {"dtype", "shape", "data_offsets": [begin, end]} (plus an optional
 * "__metadata__" object of strings), then the data section.
 *
 * Validation follows the reference implementation: the header length is at most
 * 100 MB and inside the file; the header is UTF-8 text holding one JSON object and
 * nothing after it but whitespace; every entry has a known dtype and a shape of
 * non-negative integers whose element count times the dtype size equals its byte
 * range (overflow-checked); names are unique. Sorted by offset, the ranges tile
 * the data section exactly, as the reference requires: each range starts where
 * the previous one ended (no overlap, no gap) and the last one ends at the end of
 * the file. Numbers in the header must be plain non-negative integer literals
 * below 2^53 ("2.5", "2e1", "-1" are refused). Errors name the file and the
 * tensor. A file that looks like a PyTorch .pth (a zip archive or a pickle) gets
 * an error that says how to convert it. A file may hold at most
 * CLRN_SAFETENSORS_MAX_TENSORS tensors; names are looked up through a hash table,
 * so opening and binding stay linear in the tensor count.
 *
 * An opened file is read, not mapped: clrn_safetensors_open() reads the header
 * and keeps the descriptor, and clrn_safetensors_read_f32() reads one tensor at a
 * time with pread() straight into the caller's buffer (converting in place), so
 * the weights never exist twice on the host. Reading is used instead of mmap()
 * because a mapped file that another process truncates raises SIGBUS on the next
 * access to a lost page, which a library cannot guard without taking over the
 * process's signal handling; a short read is an ordinary error. Reading is also
 * portable to systems without mmap(). Tensor data need not be aligned.
 */
#ifndef CLRN_WEIGHTS_SAFETENSORS_H
#define CLRN_WEIGHTS_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clresnet/status.h"

#define CLRN_SAFETENSORS_MAX_HEADER (100u * 1000u * 1000u)
#define CLRN_SAFETENSORS_MAX_DIMS 8
/* The most tensors a file may hold: about 100 times what the largest supported
 * model needs (torchvision's resnet152 state_dict has 932 entries, counting each
 * BatchNorm's num_batches_tracked), so every real file passes, while a hostile
 * header cannot make opening it take long (a 100 MB header could list over a
 * million entries). */
#define CLRN_SAFETENSORS_MAX_TENSORS 100000u

typedef enum clrn_dtype {
  CLRN_DTYPE_BOOL,
  CLRN_DTYPE_U8,
  CLRN_DTYPE_I8,
  CLRN_DTYPE_I16,
  CLRN_DTYPE_U16,
  CLRN_DTYPE_F16,
  CLRN_DTYPE_BF16,
  CLRN_DTYPE_I32,
  CLRN_DTYPE_U32,
  CLRN_DTYPE_F32,
  CLRN_DTYPE_F64,
  CLRN_DTYPE_I64,
  CLRN_DTYPE_U64,
  CLRN_DTYPE_F8_E4M3,
  CLRN_DTYPE_F8_E5M2,
} clrn_dtype;

/** Converts n little-endian F32, F16 or BF16 elements at raw (any other dtype is
 * taken as BF16: callers check first) to float32 in out, exactly. The loops run
 * from the last element down, so raw may be the start of out itself. */
void clrn_dtype_convert_f32(clrn_dtype dtype, const unsigned char *raw, uint64_t n, float *out);

/** "F32", "BF16", ... ("?" for a value outside the enum). */
const char *clrn_dtype_name(clrn_dtype dtype);

/** Bytes per element (0 for a value outside the enum). */
size_t clrn_dtype_size(clrn_dtype dtype);

/** The dtype called name ("F32", exactly as safetensors spells it); false when none is. */
bool clrn_dtype_from_name(const char *name, clrn_dtype *dtype);

typedef struct clrn_st_tensor {
  char *name;
  clrn_dtype dtype;
  int ndim; /**< 0 for a scalar (one element) */
  int64_t shape[CLRN_SAFETENSORS_MAX_DIMS];
  uint64_t elements;
  const unsigned char *data; /**< inside the parsed buffer (NULL for an opened file); may be
                                unaligned */
  uint64_t offset;           /**< where the data starts in the file (or the parsed buffer) */
  uint64_t bytes;
} clrn_st_tensor;

/** One "__metadata__" entry. */
typedef struct clrn_st_metadata {
  char *key;
  char *value;
} clrn_st_metadata;

typedef struct clrn_safetensors {
  clrn_st_tensor *tensors; /**< in header order */
  size_t count;
  clrn_st_metadata *metadata; /**< "__metadata__" entries in header order */
  size_t metadata_count;
  size_t *slots;     /**< hash table of tensor indices + 1 (0: empty), slot_count long */
  size_t slot_count; /**< a power of two, at least twice count */
  int fd;            /**< the open file (clrn_safetensors_open() only; see has_fd) */
  bool has_fd;
  uint64_t file_size; /**< the size the header was checked against */
  char *path;         /**< the opened file's path, for errors */
} clrn_safetensors;

/** Parses and validates a whole file image held in memory (not copied: tensors
 * point into bytes, which must outlive the result). name is used in errors. On
 * failure *file is left zeroed (nothing to close). Fails with
 * CLRN_STATUS_INVALID_FORMAT for a malformed file, CLRN_STATUS_UNSUPPORTED for a
 * valid one this reader cannot hold (more than CLRN_SAFETENSORS_MAX_DIMS
 * dimensions) and CLRN_STATUS_OUT_OF_HOST_MEMORY when allocation fails. */
clrn_status clrn_safetensors_parse(const void *bytes, size_t size, const char *name,
                                   clrn_safetensors *file);

/** Opens path (a regular file; a FIFO or device is refused without blocking),
 * reads its header and parses it (CLRN_STATUS_IO_ERROR when it cannot be opened
 * or read; otherwise as clrn_safetensors_parse()). The file stays open until
 * clrn_safetensors_close(); tensor data is read on request. */
clrn_status clrn_safetensors_open(const char *path, clrn_safetensors *file);

/** Frees the tensor table and closes the file, leaving *file zeroed. Safe on a
 * zeroed struct and when called twice. */
void clrn_safetensors_close(clrn_safetensors *file);

/** The tensor with this name, or NULL (a hash lookup: constant time). */
const clrn_st_tensor *clrn_safetensors_find(const clrn_safetensors *file, const char *name);

/** The "__metadata__" value for key, or NULL when the file has none. */
const char *clrn_safetensors_metadata(const clrn_safetensors *file, const char *key);

/** Copies the tensor's raw bytes (tensor->bytes, little-endian as stored) into out.
 * file is the one the tensor belongs to; it may be NULL for a tensor of a parsed
 * buffer. A file that has become shorter than its header says since it was opened
 * fails with CLRN_STATUS_IO_ERROR naming the file and the tensor. */
clrn_status clrn_safetensors_read_bytes(const clrn_safetensors *file, const clrn_st_tensor *tensor,
                                        void *out);

/** Converts an F32, F16 or BF16 tensor to float32 into out (tensor->elements
 * floats): exactly, keeping signed zeros, F16 subnormals, infinities and NaN
 * payloads. Other dtypes fail with CLRN_STATUS_UNSUPPORTED naming the tensor;
 * reading fails as clrn_safetensors_read_bytes(). */
clrn_status clrn_safetensors_read_f32(const clrn_safetensors *file, const clrn_st_tensor *tensor,
                                      float *out);

#endif
