/* Device profiles (see profile.h): parsing the embedded devices/ (JSON files) with cJSON,
 * matching them against a device, and merging the chain of values. */
#include "runtime/profile.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "runtime/embedded.h"

#define MAX_VALUES 128
#define MAX_DEPTH 16

typedef struct profile_value {
  char key[64];
  char text[64];
} profile_value;

struct clrn_profile {
  char name[64];
  size_t count;
  profile_value values[MAX_VALUES];
};

/* All embedded profiles parsed once per resolve; small, so no global state. */
typedef struct profile_set {
  size_t count;
  cJSON **roots;
  const char **names; /* file name without ".json" */
  char (*name_buffers)[64];
} profile_set;

static void set_free(profile_set *set) {
  for (size_t i = 0; i < set->count; i++)
    cJSON_Delete(set->roots[i]);
  free(set->roots);
  free(set->names);
  free(set->name_buffers);
  memset(set, 0, sizeof *set);
}

static clrn_status set_load(profile_set *set) {
  memset(set, 0, sizeof *set);
  size_t n = clrn_embedded_profiles_count;
  set->roots = calloc(n ? n : 1, sizeof *set->roots);
  set->names = calloc(n ? n : 1, sizeof *set->names);
  set->name_buffers = calloc(n ? n : 1, sizeof *set->name_buffers);
  if (!set->roots || !set->names || !set->name_buffers) {
    set_free(set);
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "device profiles");
  }
  for (size_t i = 0; i < n; i++) {
    const clrn_embedded_file *file = &clrn_embedded_profiles[i];
    snprintf(set->name_buffers[i], sizeof set->name_buffers[i], "%s", file->name);
    char *dot = strrchr(set->name_buffers[i], '.');
    if (dot)
      *dot = '\0';
    set->names[i] = set->name_buffers[i];
    set->roots[i] = cJSON_ParseWithLength((const char *)file->data, file->size);
    set->count = i + 1;
    if (!cJSON_IsObject(set->roots[i])) {
      set_free(set);
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "device profile %s is not a JSON object",
                       file->name);
    }
  }
  return CLRN_STATUS_SUCCESS;
}

static long find_profile(const profile_set *set, const char *name) {
  for (size_t i = 0; i < set->count; i++)
    if (strcmp(set->names[i], name) == 0)
      return (long)i;
  return -1;
}

static bool contains_ignore_case(const char *haystack, const char *needle) {
  size_t n = strlen(needle);
  for (const char *h = haystack; *h; h++)
    if (strncasecmp(h, needle, n) == 0)
      return true;
  return n == 0;
}

/* A match field holds a string or an array of strings; any one contained in the
 * device's text (ignoring case) satisfies it. */
static bool field_matches(const cJSON *field, const char *device_text) {
  if (cJSON_IsString(field))
    return contains_ignore_case(device_text, field->valuestring);
  const cJSON *item;
  cJSON_ArrayForEach(item, field) {
    if (cJSON_IsString(item) && contains_ignore_case(device_text, item->valuestring))
      return true;
  }
  return false;
}

static bool own_match(const cJSON *root, const clrn_device_info *device) {
  const cJSON *match = cJSON_GetObjectItemCaseSensitive(root, "match");
  if (!match)
    return true;
  const struct {
    const char *key;
    const char *text;
  } fields[] = {{"vendor", device->vendor},          {"name", device->name},
                {"platform", device->platform_name}, {"driver", device->driver_version},
                {"version", device->device_version}, {"type", clrn_device_type_name(device->type)}};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    const cJSON *field = cJSON_GetObjectItemCaseSensitive(match, fields[i].key);
    if (field && !field_matches(field, fields[i].text))
      return false;
  }
  return true;
}

static const char *parent_name(const cJSON *root) {
  const cJSON *parent = cJSON_GetObjectItemCaseSensitive(root, "parent");
  return cJSON_IsString(parent) ? parent->valuestring : NULL;
}

/* Depth of profile i in its chain when every link matches the device, else -1. */
static int applicable_depth(const profile_set *set, long i, const clrn_device_info *device) {
  int depth = 0;
  while (i >= 0 && depth < MAX_DEPTH) {
    if (!own_match(set->roots[i], device))
      return -1;
    const char *parent = parent_name(set->roots[i]);
    if (!parent)
      return depth;
    i = find_profile(set, parent);
    depth++;
  }
  return -1;
}

static void put_value(clrn_profile *profile, const char *key, const char *text) {
  for (size_t i = 0; i < profile->count; i++)
    if (strcmp(profile->values[i].key, key) == 0) {
      snprintf(profile->values[i].text, sizeof profile->values[i].text, "%s", text);
      return;
    }
  if (profile->count < MAX_VALUES) {
    profile_value *v = &profile->values[profile->count++];
    snprintf(v->key, sizeof v->key, "%s", key);
    snprintf(v->text, sizeof v->text, "%s", text);
  }
}

static bool valid_key(const char *key) {
  if (!*key || strlen(key) >= 64 || isdigit((unsigned char)*key))
    return false;
  for (; *key; key++)
    if (!isupper((unsigned char)*key) && !isdigit((unsigned char)*key) && *key != '_')
      return false;
  return true;
}

static bool valid_value_text(const char *text) {
  if (!*text || strlen(text) >= 64)
    return false;
  for (; *text; text++)
    if (!isalnum((unsigned char)*text) && !strchr("-_.+", *text))
      return false;
  return true;
}

/* Converts one "options" entry into text; false when it is of an unusable kind. */
static bool value_text(const cJSON *item, char *text, size_t size) {
  if (cJSON_IsBool(item))
    snprintf(text, size, "%d", cJSON_IsTrue(item) ? 1 : 0);
  else if (cJSON_IsNumber(item) && item->valuedouble == (double)(long)item->valuedouble)
    snprintf(text, size, "%ld", (long)item->valuedouble);
  else if (cJSON_IsNumber(item))
    snprintf(text, size, "%.9g", item->valuedouble);
  else if (cJSON_IsString(item) && valid_value_text(item->valuestring))
    snprintf(text, size, "%s", item->valuestring);
  else
    return false;
  return true;
}

static void merge_options(clrn_profile *profile, const cJSON *root) {
  const cJSON *options = cJSON_GetObjectItemCaseSensitive(root, "options");
  const cJSON *item;
  cJSON_ArrayForEach(item, options) {
    char text[64];
    if (valid_key(item->string) && value_text(item, text, sizeof text))
      put_value(profile, item->string, text);
  }
}

/* Applies CLRN_TUNE="KEY=VALUE,KEY=VALUE" over the profile. */
static clrn_status apply_overrides(clrn_profile *profile) {
  const char *env = getenv("CLRN_TUNE");
  if (!env || !*env)
    return CLRN_STATUS_SUCCESS;
  char copy[1024];
  if (strlen(env) >= sizeof copy)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "CLRN_TUNE is longer than %zu characters",
                     sizeof copy - 1);
  snprintf(copy, sizeof copy, "%s", env);
  char *save = NULL;
  for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(item, '=');
    if (!eq)
      return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "CLRN_TUNE item \"%s\" is not KEY=VALUE",
                       item);
    *eq = '\0';
    if (!valid_key(item) || !valid_value_text(eq + 1))
      return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT,
                       "CLRN_TUNE item \"%s=%s\": keys are A-Z, 0-9 and _, values alphanumeric",
                       item, eq + 1);
    put_value(profile, item, eq + 1);
  }
  return CLRN_STATUS_SUCCESS;
}

static long best_profile(const profile_set *set, const clrn_device_info *device) {
  long best = -1;
  int best_depth = -1;
  for (size_t i = 0; i < set->count; i++) {
    int depth = applicable_depth(set, (long)i, device);
    if (depth > best_depth) {
      best = (long)i;
      best_depth = depth;
    }
  }
  return best;
}

clrn_status clrn_profile_resolve(const clrn_device_info *device, clrn_profile **out) {
  if (!device || !out)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_profile_resolve: NULL argument");
  *out = NULL;
  profile_set set;
  CLRN_TRY(set_load(&set));
  clrn_profile *profile = calloc(1, sizeof *profile);
  if (!profile) {
    set_free(&set);
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "device profile");
  }
  long best = best_profile(&set, device);
  snprintf(profile->name, sizeof profile->name, "%s", best >= 0 ? set.names[best] : "none");
  /* Collect the chain leaf to root, then merge root first so children override. */
  long chain[MAX_DEPTH];
  int length = 0;
  for (long i = best; i >= 0 && length < MAX_DEPTH; length++) {
    chain[length] = i;
    const char *parent = parent_name(set.roots[i]);
    i = parent ? find_profile(&set, parent) : -1;
  }
  for (int k = length - 1; k >= 0; k--)
    merge_options(profile, set.roots[chain[k]]);
  set_free(&set);
  clrn_status status = apply_overrides(profile);
  if (status != CLRN_STATUS_SUCCESS) {
    free(profile);
    return status;
  }
  *out = profile;
  return CLRN_STATUS_SUCCESS;
}

void clrn_profile_free(clrn_profile *profile) { free(profile); }

const char *clrn_profile_name(const clrn_profile *profile) {
  return profile ? profile->name : "none";
}

void clrn_profile_match_name(const clrn_device_info *device, char *buffer, size_t size) {
  profile_set set;
  if (set_load(&set) != CLRN_STATUS_SUCCESS) {
    snprintf(buffer, size, "default");
    return;
  }
  long best = best_profile(&set, device);
  snprintf(buffer, size, "%s", best >= 0 ? set.names[best] : "none");
  set_free(&set);
}

long clrn_profile_int(const clrn_profile *profile, const char *key, long fallback) {
  if (!profile)
    return fallback;
  for (size_t i = 0; i < profile->count; i++)
    if (strcmp(profile->values[i].key, key) == 0) {
      char *end = NULL;
      long value = strtol(profile->values[i].text, &end, 10);
      return end && *end == '\0' && end != profile->values[i].text ? value : fallback;
    }
  return fallback;
}

bool clrn_profile_build_options(const clrn_profile *profile, char *out, size_t size) {
  size_t used = strlen(out);
  for (size_t i = 0; profile && i < profile->count; i++) {
    int n = snprintf(out + used, size - used, " -D%s=%s", profile->values[i].key,
                     profile->values[i].text);
    if (n < 0 || (size_t)n >= size - used)
      return false;
    used += (size_t)n;
  }
  return true;
}

static clrn_status validate_one(const profile_set *set, size_t i) {
  const char *name = set->names[i];
  const cJSON *item;
  cJSON_ArrayForEach(item, set->roots[i]) {
    if (strcmp(item->string, "parent") && strcmp(item->string, "match") &&
        strcmp(item->string, "options") && strcmp(item->string, "comment"))
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "profile %s: unknown field \"%s\"", name,
                       item->string);
  }
  const char *parent = parent_name(set->roots[i]);
  if (!parent && strcmp(name, "default") != 0)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "profile %s has no parent", name);
  if (parent && find_profile(set, parent) < 0)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "profile %s: parent %s does not exist", name,
                     parent);
  long at = (long)i;
  for (int depth = 0; at >= 0; depth++) {
    if (depth >= MAX_DEPTH)
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "profile %s: parent chain loops", name);
    const char *p = parent_name(set->roots[at]);
    at = p ? find_profile(set, p) : -1;
  }
  const cJSON *match = cJSON_GetObjectItemCaseSensitive(set->roots[i], "match");
  cJSON_ArrayForEach(item, match) {
    static const char *known[] = {"vendor", "name", "platform", "driver", "version", "type"};
    bool ok = false;
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
      ok = ok || strcmp(item->string, known[k]) == 0;
    if (!ok)
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "profile %s: unknown match field \"%s\"", name,
                       item->string);
  }
  cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(set->roots[i], "options")) {
    char text[64];
    if (!valid_key(item->string) || !value_text(item, text, sizeof text))
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "profile %s: bad option \"%s\"", name,
                       item->string);
  }
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_profiles_validate(void) {
  profile_set set;
  CLRN_TRY(set_load(&set));
  clrn_status status = find_profile(&set, "default") >= 0
                           ? CLRN_STATUS_SUCCESS
                           : clrn_fail(CLRN_STATUS_INVALID_FORMAT, "no default profile");
  for (size_t i = 0; i < set.count && status == CLRN_STATUS_SUCCESS; i++)
    status = validate_one(&set, i);
  set_free(&set);
  return status;
}
