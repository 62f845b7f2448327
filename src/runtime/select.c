/* The device selection spec parser shared by every command (see clresnet/device.h
 * for the grammar). It reads only the descriptive fields of the device list, so
 * tests can run it on hand-made lists without any OpenCL device. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "clresnet/device.h"

#define MAX_SPEC_LENGTH 1024

static bool contains_ignore_case(const char *haystack, const char *needle) {
  size_t n = strlen(needle);
  if (n == 0)
    return false;
  for (const char *h = haystack; *h; h++) {
    size_t i = 0;
    while (i < n && h[i] && tolower((unsigned char)h[i]) == tolower((unsigned char)needle[i]))
      i++;
    if (i == n)
      return true;
  }
  return false;
}

static bool all_digits(const char *text) {
  if (!*text)
    return false;
  for (; *text; text++)
    if (!isdigit((unsigned char)*text))
      return false;
  return true;
}

/* Parses a decimal index; false when it is not one or too large. */
static bool parse_index(const char *text, unsigned long *value) {
  if (!all_digits(text) || strlen(text) > 9)
    return false;
  errno = 0;
  *value = strtoul(text, NULL, 10);
  return errno == 0;
}

static bool type_keyword(const char *item, clrn_device_type *type) {
  static const struct {
    const char *word;
    clrn_device_type type;
  } words[] = {{"cpu", CLRN_DEVICE_TYPE_CPU},
               {"gpu", CLRN_DEVICE_TYPE_GPU},
               {"accelerator", CLRN_DEVICE_TYPE_ACCELERATOR},
               {"acc", CLRN_DEVICE_TYPE_ACCELERATOR},
               {"custom", CLRN_DEVICE_TYPE_CUSTOM}};
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
    if (strcasecmp(item, words[i].word) == 0) {
      *type = words[i].type;
      return true;
    }
  }
  return false;
}

/* Appends the device list to the current error detail so the user sees what exists. */
static clrn_status fail_listing(const clrn_device_info *devices, size_t count, clrn_status status,
                                const char *what) {
  size_t capacity = 256 + count * 160;
  char *text = malloc(capacity);
  if (!text)
    return clrn_fail(status, "%s", what);
  int used = snprintf(text, capacity, "%s; the devices are:", what);
  for (size_t i = 0; i < count && used >= 0 && (size_t)used < capacity; i++)
    used += snprintf(text + used, capacity - (size_t)used, " [%zu] %u:%u %s %.60s (%.40s)%s",
                     devices[i].index, devices[i].platform_index, devices[i].device_index,
                     clrn_device_type_name(devices[i].type), devices[i].name,
                     devices[i].platform_name, i + 1 < count ? "," : "");
  if (count == 0 && used >= 0 && (size_t)used < capacity)
    snprintf(text + used, capacity - (size_t)used, " none");
  clrn_fail(status, "%s", text);
  free(text);
  return status;
}

typedef struct selection {
  size_t *indices;
  size_t capacity;
  size_t count;
  bool *taken;
} selection;

static void add(selection *sel, size_t index) {
  if (sel->taken[index])
    return;
  sel->taken[index] = true;
  if (sel->count < sel->capacity)
    sel->indices[sel->count] = index;
  sel->count++;
}

/* Adds the devices one item names; returns how many it matched. */
static size_t select_item(const clrn_device_info *devices, size_t count, const char *item,
                          selection *sel) {
  size_t matched = 0;
  clrn_device_type type;
  unsigned long a, b;
  const char *colon = strchr(item, ':');
  if (strcasecmp(item, "all") == 0) {
    for (size_t i = 0; i < count; i++, matched++)
      add(sel, i);
  } else if (type_keyword(item, &type)) {
    for (size_t i = 0; i < count; i++)
      if (devices[i].type == type) {
        add(sel, i);
        matched++;
      }
  } else if (parse_index(item, &a)) {
    if (a < count) {
      add(sel, a);
      matched++;
    }
  } else if (colon && colon != item) {
    char platform_part[32];
    size_t length = (size_t)(colon - item);
    if (length < sizeof platform_part) {
      memcpy(platform_part, item, length);
      platform_part[length] = '\0';
      if (parse_index(platform_part, &a) && parse_index(colon + 1, &b)) {
        for (size_t i = 0; i < count; i++)
          if (devices[i].platform_index == a && devices[i].device_index == b) {
            add(sel, i);
            matched++;
          }
        return matched;
      }
    }
  }
  if (matched == 0 && !all_digits(item) && strcasecmp(item, "all") != 0 &&
      !type_keyword(item, &type)) {
    for (size_t i = 0; i < count; i++)
      if (contains_ignore_case(devices[i].name, item) ||
          contains_ignore_case(devices[i].vendor, item) ||
          contains_ignore_case(devices[i].platform_name, item)) {
        add(sel, i);
        matched++;
      }
  }
  return matched;
}

static clrn_status select_default(const clrn_device_info *devices, size_t count, selection *sel) {
  if (count == 0)
    return fail_listing(devices, count, CLRN_STATUS_NO_MATCHING_DEVICE, "no device");
  for (size_t i = 0; i < count; i++)
    if (devices[i].type == CLRN_DEVICE_TYPE_GPU) {
      add(sel, i);
      return CLRN_STATUS_SUCCESS;
    }
  add(sel, 0);
  return CLRN_STATUS_SUCCESS;
}

static clrn_status select_spec(const clrn_device_info *devices, size_t count, const char *spec,
                               selection *sel) {
  size_t length = strlen(spec);
  if (length > MAX_SPEC_LENGTH)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "device spec longer than %d characters",
                     MAX_SPEC_LENGTH);
  char copy[MAX_SPEC_LENGTH + 1];
  memcpy(copy, spec, length + 1);
  char *cursor = copy;
  for (;;) {
    char *comma = strchr(cursor, ',');
    if (comma)
      *comma = '\0';
    char *item = cursor;
    while (isspace((unsigned char)*item))
      item++;
    char *end = item + strlen(item);
    while (end > item && isspace((unsigned char)end[-1]))
      *--end = '\0';
    if (*item == '\0')
      return fail_listing(devices, count, CLRN_STATUS_INVALID_ARGUMENT,
                          "empty item in device spec");
    if (select_item(devices, count, item, sel) == 0) {
      char what[MAX_SPEC_LENGTH + 64];
      snprintf(what, sizeof what, "device spec \"%s\" matches no device", item);
      return fail_listing(devices, count, CLRN_STATUS_NO_MATCHING_DEVICE, what);
    }
    if (!comma)
      break;
    cursor = comma + 1;
  }
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_devices_select(const clrn_device_info *devices, size_t count, const char *spec,
                                size_t *selected, size_t capacity, size_t *selected_count) {
  if ((!devices && count > 0) || !selected_count || (!selected && capacity > 0))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_devices_select: NULL argument");
  *selected_count = 0;
  selection sel = {selected, capacity, 0, calloc(count ? count : 1, sizeof(bool))};
  if (!sel.taken)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "device selection");
  clrn_status status;
  const char *env = getenv("CLRN_DEVICE");
  if (spec && *spec)
    status = select_spec(devices, count, spec, &sel);
  else if (env && *env) {
    status = select_spec(devices, count, env, &sel);
    if (status != CLRN_STATUS_SUCCESS)
      clrn_fail_prefix(status, "CLRN_DEVICE");
  } else
    status = select_default(devices, count, &sel);
  free(sel.taken);
  if (status == CLRN_STATUS_SUCCESS)
    *selected_count = sel.count;
  return status;
}
