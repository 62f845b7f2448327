/* Growing arrays (see array.h). */
#include "base/array.h"

#include <stdint.h>
#include <stdlib.h>

#include "base/error.h"

clrn_status clrn_array_reserve(void **items, size_t *capacity, size_t needed, size_t item_size,
                               size_t initial, const char *what) {
  if (needed <= *capacity)
    return CLRN_STATUS_SUCCESS;
  size_t grown = *capacity ? *capacity : initial;
  while (grown < needed && grown <= SIZE_MAX / 2)
    grown *= 2;
  if (grown < needed || grown > SIZE_MAX / item_size)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: %zu items", what, needed);
  void *resized = realloc(*items, grown * item_size);
  if (!resized)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: %zu items", what, needed);
  *items = resized;
  *capacity = grown;
  return CLRN_STATUS_SUCCESS;
}
