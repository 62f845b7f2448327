/* ImageNet class names, built into the program from data/imagenet_classes.txt
 * (torchvision's order, one name per line). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "runtime/embedded.h"

#define IMAGENET_CLASSES 1000

extern const clrn_embedded_file clrn_embedded_data[];

static char *names[IMAGENET_CLASSES];
static char *text;
static bool loaded;

static void load(void) {
  loaded = true;
  const clrn_embedded_file *file = &clrn_embedded_data[0];
  text = malloc(file->size + 1);
  if (!text)
    return;
  memcpy(text, file->data, file->size + 1);
  char *line = text;
  for (int i = 0; i < IMAGENET_CLASSES && line && *line; i++) {
    char *end = strchr(line, '\n');
    if (end)
      *end = '\0';
    size_t length = strlen(line);
    if (length && line[length - 1] == '\r')
      line[length - 1] = '\0';
    names[i] = line;
    line = end ? end + 1 : NULL;
  }
}

const char *cli_label(int index, int num_classes) {
  if (num_classes != IMAGENET_CLASSES || index < 0 || index >= IMAGENET_CLASSES)
    return NULL;
  if (!loaded)
    load();
  return names[index];
}
