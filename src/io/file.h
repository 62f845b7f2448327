/* Internal: opening an input file for reading, refusing what is not a regular
 * file with a message that names it (shared by the image and .npy readers). */
#ifndef CLRN_IO_FILE_H
#define CLRN_IO_FILE_H

#include <stdint.h>
#include <stdio.h>

#include "clresnet/status.h"

/** Opens path for reading and gives its size; fails (IO_ERROR, naming path) when it
 * cannot be opened or is a directory or another non-regular file. */
clrn_status clrn_file_open_regular(const char *path, FILE **file, uint64_t *size);

#endif
