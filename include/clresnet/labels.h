/* Class names and top-k: what a classifier's output indices mean.
 *
 * A clrn_labels is a table of class names: read from a text file (one name per
 * line), from a list, or the ImageNet-1k names built into the library (torchvision's
 * order). Weights files can carry their own names (clrn_weights_labels() in
 * weights.h). Every name is checked as it comes in: non-empty, valid UTF-8, no
 * control characters, at most CLRN_LABEL_MAX_BYTES bytes. clrn_top_k() ranks a
 * row of scores. A clrn_labels is read-only once made: threads may share it.
 */
#ifndef CLRESNET_LABELS_H
#define CLRESNET_LABELS_H

#include <stddef.h>

#include "clresnet/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest class name accepted, in bytes. */
#define CLRN_LABEL_MAX_BYTES 1024
/** Most names a table may hold. */
#define CLRN_LABELS_MAX 1000000
/** Largest labels file read, in bytes. */
#define CLRN_LABELS_MAX_FILE (64u << 20)

typedef struct clrn_labels clrn_labels;

/** Reads class names from a text file, one per line in class order (index 0 on
 * the first line). Lines end with "\n" or "\r\n"; a last line without one counts,
 * and one final empty line is allowed. An empty or invalid name is an error
 * naming the file and the line (CLRN_STATUS_INVALID_FORMAT). */
CLRN_API clrn_status clrn_labels_load(const char *path, clrn_labels **labels);

/** The same from text in memory (size bytes); name is used in error messages. */
CLRN_API clrn_status clrn_labels_parse(const char *text, size_t size, const char *name,
                                       clrn_labels **labels);

/** A table of count names (copied), each checked as clrn_labels_load() does. */
CLRN_API clrn_status clrn_labels_from_list(const char *const *names, size_t count, const char *name,
                                           clrn_labels **labels);

/** The 1000 ImageNet-1k class names in torchvision's order, as data/imagenet_classes.txt
 * words them ("tench, Tinca tinca", "goldfish, Carassius auratus", ...). */
CLRN_API clrn_status clrn_labels_imagenet(clrn_labels **labels);

/** How many names the table holds (0 for NULL). */
CLRN_API size_t clrn_labels_count(const clrn_labels *labels);

/** The name of class index, or NULL when labels is NULL or index is out of range. */
CLRN_API const char *clrn_labels_name(const clrn_labels *labels, long index);

/** Frees a table. NULL is ignored. */
CLRN_API void clrn_labels_free(clrn_labels *labels);

/** Writes the indices of the k largest of values[0..n) into indices, largest first.
 * Ties keep index order (the lower index first), so the result is the same on every
 * run and platform; NaN ranks below every number. k is clamped to n; returns how
 * many indices were written (0 when values or indices is NULL, or n or k < 1). */
CLRN_API int clrn_top_k(const float *values, int n, int k, int *indices);

#ifdef __cplusplus
}
#endif
#endif
