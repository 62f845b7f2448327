/* Growing arrays: one helper for the "double the capacity when full" pattern the
 * graph, plan and scheduler use for their lists. */
#ifndef CLRN_BASE_ARRAY_H
#define CLRN_BASE_ARRAY_H

#include <stddef.h>

#include "clresnet/status.h"

/** Makes *items (of *capacity items of item_size bytes) hold at least needed
 * items, doubling from a first capacity of initial. On failure *items is left as
 * it was and the error names what. */
clrn_status clrn_array_reserve(void **items, size_t *capacity, size_t needed, size_t item_size,
                               size_t initial, const char *what);

#endif
