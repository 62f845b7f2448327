/* Lookups in the tables of embedded files (see embedded.h). */
#include "runtime/embedded.h"

#include <string.h>

const clrn_embedded_file *clrn_embedded_find(const clrn_embedded_file *table, const char *name) {
  for (; table->name; table++)
    if (strcmp(table->name, name) == 0)
      return table;
  return NULL;
}
