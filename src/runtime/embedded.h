/* Files embedded into the library at build time by cmake/embed_files.cmake: the
 * kernel sources and headers of kernels/ and the device profiles of devices/. */
#ifndef CLRN_RUNTIME_EMBEDDED_H
#define CLRN_RUNTIME_EMBEDDED_H

#include <stddef.h>

typedef struct clrn_embedded_file {
  const char *name;          /**< file name without folder, "conv2d.cl" */
  const unsigned char *data; /**< contents, followed by a NUL byte */
  size_t size;               /**< bytes, without the NUL */
} clrn_embedded_file;

/** Kernel sources (kernels/NAME.cl), terminated by an entry whose name is NULL. */
extern const clrn_embedded_file clrn_embedded_kernels[];
extern const size_t clrn_embedded_kernels_count;
/** Kernel file names without extension ("conv2d"), NULL-terminated. */
extern const char *const clrn_embedded_kernels_stems[];

/** Headers every kernel program starts with (kernels/NAME.h: the ABI shared with
 * the host, the prelude of helpers), in name order, terminated likewise. */
extern const clrn_embedded_file clrn_embedded_kernel_headers[];
extern const size_t clrn_embedded_kernel_headers_count;

/** Device profiles (devices/NAME.json), terminated likewise. */
extern const clrn_embedded_file clrn_embedded_profiles[];
extern const size_t clrn_embedded_profiles_count;

/** The embedded file with this name in a table, or NULL. */
const clrn_embedded_file *clrn_embedded_find(const clrn_embedded_file *table, const char *name);

#endif
