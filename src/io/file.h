/* Internal: opening an input file for reading, refusing what is not a regular
 * file with a message that names it (shared by the image, .npy and safetensors
 * readers). The file is opened without blocking and its type checked on the open
 * descriptor, so a FIFO, a terminal or a device is refused at once instead of
 * hanging the reader (open() of a FIFO waits for a writer) or streaming forever
 * (/dev/zero). */
#ifndef CLRN_IO_FILE_H
#define CLRN_IO_FILE_H

#include <stdint.h>
#include <stdio.h>

#include "clresnet/status.h"

/** Opens path read-only (close-on-exec, blocking mode restored) and gives its
 * size; fails (IO_ERROR, naming path) when it cannot be opened or is a directory,
 * a FIFO, a device or another non-regular file, leaving *fd at -1. */
clrn_status clrn_file_open_regular_fd(const char *path, int *fd, uint64_t *size);

/** As clrn_file_open_regular_fd(), as a stdio stream. */
clrn_status clrn_file_open_regular(const char *path, FILE **file, uint64_t *size);

#endif
