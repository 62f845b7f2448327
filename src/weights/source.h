/* A bounded random-access byte source for the PyTorch checkpoint readers: an open
 * regular file read with pread() (never mapped, so a file truncated by another
 * process gives an error instead of SIGBUS) or a memory image (the fuzzer and the
 * tests). Every read is checked against the size the source had when it was
 * opened; a short read names the file. */
#ifndef CLRN_WEIGHTS_SOURCE_H
#define CLRN_WEIGHTS_SOURCE_H

#include <stdint.h>
#include <stdio.h>

#include "clresnet/status.h"

typedef struct clrn_source {
  const unsigned char *bytes; /**< a memory image, or NULL for a file */
  FILE *file;                 /**< the open file when bytes is NULL (read with pread) */
  uint64_t size;
  char *name; /**< the file's name, for errors */
} clrn_source;

/** Opens path (a regular file; anything else is refused without blocking). */
clrn_status clrn_source_open(const char *path, clrn_source *source);

/** A source over size bytes at bytes (not copied; they must outlive it). */
clrn_status clrn_source_memory(const void *bytes, size_t size, const char *name,
                               clrn_source *source);

/** Reads n bytes at offset into out. A range past the source's end fails with
 * CLRN_STATUS_INVALID_FORMAT naming what; a short read of a file with
 * CLRN_STATUS_IO_ERROR. */
clrn_status clrn_source_read(const clrn_source *source, uint64_t offset, uint64_t n, void *out,
                             const char *what);

/** Closes the file and frees the name, leaving *source zeroed. Safe on a zeroed
 * struct and when called twice. */
void clrn_source_close(clrn_source *source);

#endif
