/* Reading the zip container of torch.save (torch >= 1.6): a bounded, validating
 * reader of the central directory that accepts only what PyTorch's writer
 * produces, stored (uncompressed) entries, and refuses the rest with a message
 * naming what it found (a compressed or encrypted entry, a multi-disk archive).
 *
 * The end-of-central-directory record is searched for in the file's last 64 KiB;
 * its ZIP64 counterpart (torch 1.13 writes one for every archive, and needs it
 * past 4 GiB) is used when its locator is present, as are ZIP64 extra fields
 * holding sizes or offsets that overflow 32 bits. Every size and offset is
 * checked against the file: the central directory lies inside it, each entry's
 * local header matches its central record (name, method) and its data ends
 * before the central directory. Names are unique, free of NUL bytes, at most
 * CLRN_ZIP_MAX_NAME bytes; at most CLRN_ZIP_MAX_ENTRIES entries. Entry data is
 * read on request, its CRC-32 checked when a read covers the whole entry. */
#ifndef CLRN_WEIGHTS_ZIP_H
#define CLRN_WEIGHTS_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "weights/source.h"

#define CLRN_ZIP_MAX_ENTRIES 200000u
#define CLRN_ZIP_MAX_NAME 4096u

typedef struct clrn_zip_entry {
  char *name;
  uint64_t offset; /**< of the entry's data in the file (after its local header) */
  uint64_t size;
  uint32_t crc32;
} clrn_zip_entry;

typedef struct clrn_zip {
  clrn_zip_entry *entries; /**< sorted by name */
  size_t count;
} clrn_zip;

/** Reads and validates the archive's directory. On failure *zip is left zeroed. */
clrn_status clrn_zip_open(const clrn_source *source, clrn_zip *zip);

/** Frees the directory, leaving *zip zeroed. Safe on a zeroed struct. */
void clrn_zip_close(clrn_zip *zip);

/** The entry called name, or NULL. */
const clrn_zip_entry *clrn_zip_find(const clrn_zip *zip, const char *name);

/** Reads n bytes at offset within entry into out; when that is the whole entry
 * its CRC-32 is checked (CLRN_STATUS_INVALID_FORMAT naming the entry). */
clrn_status clrn_zip_read(const clrn_source *source, const clrn_zip_entry *entry, uint64_t offset,
                          uint64_t n, void *out);

/** The CRC-32 (ISO-HDLC, as zip uses) of n bytes, continuing from crc (0 to start). */
uint32_t clrn_crc32(uint32_t crc, const void *bytes, size_t n);

#endif
