/* Internal: parsing and writing the dict literal of a .npy header (npy_header.c). */
#ifndef CLRN_IO_NPY_HEADER_H
#define CLRN_IO_NPY_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clresnet/io.h"

/** What a .npy header declares. */
typedef struct clrn_npy_header {
  char descr[32];
  bool fortran_order;
  int ndim;
  int64_t shape[CLRN_NPY_MAX_DIMS];
} clrn_npy_header;

/** Parses the header text (length bytes, not NUL-terminated) strictly and requires
 * '<f4' and C order; name goes into error details. */
clrn_status clrn_npy_header_parse(const char *text, size_t length, const char *name,
                                  clrn_npy_header *header);

/** Size of the buffer clrn_npy_header_format() needs. */
#define CLRN_NPY_FORMAT_SIZE 320

/** Writes the dict numpy 1.24 writes for a '<f4' C-order array of this shape,
 * with its growth spaces but without the final padding and newline. ndim is 0 to
 * CLRN_NPY_MAX_DIMS and every dimension is non-negative. */
void clrn_npy_header_format(char out[CLRN_NPY_FORMAT_SIZE], int ndim, const int64_t *shape);

#endif
