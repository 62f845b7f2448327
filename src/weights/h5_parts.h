/* Internal to the Keras .h5 reader: its two sides. h5_hdf5.c is everything that
 * calls libhdf5, and runs only in the reader process h5.c forks for a file;
 * h5_result.c is the result that process hands back, in an anonymous shared
 * memory file: written by the child, checked and mapped by the parent.
 *
 * The result's layout (native byte order: both sides are the same program):
 *   [0, 64)       the header (h5_result.c), written last: a zero magic means the
 *                 child ended before it finished
 *   [64, ...)     on failure, the error message; on success, each readable
 *                 tensor's floats (graph layout) at a 64-byte-aligned offset
 *   [table, end)  on success, one record per tensor (sorted by name): data offset,
 *                 dtype, rank, shape, layout, read status, then its name, path and
 *                 read error as NUL-terminated strings, padded to 8 bytes */
#ifndef CLRN_WEIGHTS_H5_PARTS_H
#define CLRN_WEIGHTS_H5_PARTS_H

#include "weights/h5.h"

/** Most bytes of the result: every float, and the table around them. */
#define CLRN_H5_MAX_RESULT ((CLRN_H5_MAX_TOTAL_ELEMENTS << 2) + (256ull << 20))

/** Bytes of an error message kept in the result (longer ones are cut). */
#define CLRN_H5_MAX_MESSAGE 1024u

/** Where the first tensor's floats start in the result. */
#define CLRN_H5_RESULT_DATA 64u

/** Orders tensors by name (strcmp), for qsort() and bsearch(). */
int clrn_h5_compare_tensors(const void *a, const void *b);

/* --- h5_hdf5.c: the reader process only ------------------------------------ */

/** Opens name through libhdf5 (bytes: an in-memory image of size bytes instead)
 * and lists its weights into h5 (names, paths, dtypes, shapes and layouts; no
 * values), sorted by name; *file is the open file (hid_t). On failure *h5 is
 * freed and *file is 0. */
clrn_status clrn_h5_hdf5_open(const char *name, const void *bytes, size_t size, clrn_h5 *h5,
                              int64_t *file);

/** Reads tensor t (listed by clrn_h5_hdf5_open) as float32 into out, in the
 * graph's layout (CLRN_STATUS_IO_ERROR when libhdf5 cannot read it). */
clrn_status clrn_h5_hdf5_read(int64_t file, const char *name, const clrn_h5_tensor *t, float *out);

/** Closes a file clrn_h5_hdf5_open() opened. */
void clrn_h5_hdf5_close(int64_t file);

/* --- h5_result.c ------------------------------------------------------------ */

/** pwrite()s n bytes at offset at of fd, all of them; false on failure. */
bool clrn_h5_result_put(int fd, const void *bytes, size_t n, uint64_t at);

/** The child's side: writes status with the calling thread's error message into
 * the result file fd (status != SUCCESS), or the table of h5 whose readable
 * tensors' floats were written at offsets[i] (the table starting at table, past
 * the last of them). False when the result could not be written. */
bool clrn_h5_result_write(int fd, clrn_status status, const clrn_h5 *h5, const uint64_t *offsets,
                          uint64_t table);

/** The parent's side: checks the size bytes the child left at image (mapped
 * read-only; NULL when size is below the header or above CLRN_H5_MAX_RESULT) and
 * fills the tensors of the zeroed h5 from them, names copied, values pointing
 * into image; on a result of failure, returns that status and message. A result
 * that breaks any rule is CLRN_STATUS_INVALID_FORMAT, naming name. On failure h5
 * is left zeroed. */
clrn_status clrn_h5_result_read(const char *name, const void *image, size_t size, clrn_h5 *h5);

#endif
