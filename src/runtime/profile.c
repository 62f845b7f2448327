/* Device profiles (see profile.h): parsing the embedded devices/ (JSON files) with cJSON,
 * matching them against a device, and merging the chain of values over the tuning
 * table's defaults, each value checked against the table. */
#include "runtime/profile.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "runtime/embedded.h"

#define MAX_DEPTH 16
#define SOURCE_SIZE 80

struct clrn_profile {
  char name[64];
  long values[CLRN_TUNING_COUNT];
  char sources[CLRN_TUNING_COUNT][SOURCE_SIZE]; /* where each value came from */
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
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "devices/%s is not a JSON object", file->name);
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

/* "amd, default, ..." into out. */
static void profile_names(const profile_set *set, char *out, size_t size) {
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < set->count && used < size; i++) {
    int n = snprintf(out + used, size - used, "%s%s", i ? ", " : "", set->names[i]);
    if (n < 0)
      return;
    used += (size_t)n;
  }
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

/* Converts one "options" entry into the text clrn_tuning_parse() reads. */
static void value_text(const cJSON *item, char *text, size_t size) {
  if (cJSON_IsBool(item))
    snprintf(text, size, "%d", cJSON_IsTrue(item) ? 1 : 0);
  else if (cJSON_IsNumber(item) && fabs(item->valuedouble) < 1e18 &&
           item->valuedouble == (double)(long)item->valuedouble)
    snprintf(text, size, "%ld", (long)item->valuedouble);
  else if (cJSON_IsNumber(item))
    snprintf(text, size, "%.9g", item->valuedouble);
  else if (cJSON_IsString(item))
    snprintf(text, size, "%s", item->valuestring);
  else
    snprintf(text, size, "(a JSON %s)", cJSON_IsNull(item) ? "null" : "array or object");
}

/* Checks (and, when profile is not NULL, merges) the "options" of one profile. */
static clrn_status merge_options(clrn_profile *profile, const char *source, const cJSON *root) {
  const cJSON *item;
  cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(root, "options")) {
    char text[64];
    value_text(item, text, sizeof text);
    clrn_tuning_id id;
    long value;
    CLRN_TRY(clrn_tuning_parse(source, item->string, text, &id, &value));
    if (profile) {
      profile->values[id] = value;
      snprintf(profile->sources[id], SOURCE_SIZE, "%s", source);
    }
  }
  return CLRN_STATUS_SUCCESS;
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
      return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "CLRN_TUNE: item \"%s\" is not KEY=VALUE",
                       item);
    *eq = '\0';
    clrn_tuning_id id;
    long value;
    CLRN_TRY(clrn_tuning_parse("CLRN_TUNE", item, eq + 1, &id, &value));
    profile->values[id] = value;
    snprintf(profile->sources[id], SOURCE_SIZE, "CLRN_TUNE");
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

/* Fills profile with the table's defaults, then the chain of profile leaf merged
 * root first so children override. */
static clrn_status merge_chain(const profile_set *set, long leaf, clrn_profile *profile) {
  for (int i = 0; i < CLRN_TUNING_COUNT; i++) {
    profile->values[i] = clrn_tuning_param_of((clrn_tuning_id)i)->default_value;
    snprintf(profile->sources[i], SOURCE_SIZE, "the tuning table's default");
  }
  long chain[MAX_DEPTH];
  int length = 0;
  for (long i = leaf; i >= 0 && length < MAX_DEPTH; length++) {
    chain[length] = i;
    const char *parent = parent_name(set->roots[i]);
    i = parent ? find_profile(set, parent) : -1;
  }
  for (int k = length - 1; k >= 0; k--) {
    char source[SOURCE_SIZE];
    snprintf(source, sizeof source, "devices/%s.json", set->names[chain[k]]);
    CLRN_TRY(merge_options(profile, source, set->roots[chain[k]]));
  }
  return CLRN_STATUS_SUCCESS;
}

/* The rules that tie a merged profile's values together. */
static clrn_status check_merged(const clrn_profile *profile) {
  const char *sources[CLRN_TUNING_COUNT];
  for (int i = 0; i < CLRN_TUNING_COUNT; i++)
    sources[i] = profile->sources[i];
  return clrn_tuning_check_set(profile->values, sources);
}

/* The profile to use: by name (option, else CLRN_PROFILE) or the device's best match. */
static clrn_status pick_profile(const profile_set *set, const clrn_device_info *device,
                                const char *name, long *index) {
  const char *source = "context option profile";
  if (!name || !*name) {
    name = getenv("CLRN_PROFILE");
    source = "CLRN_PROFILE";
  }
  if (!name || !*name) {
    *index = best_profile(set, device);
    return CLRN_STATUS_SUCCESS;
  }
  *index = find_profile(set, name);
  if (*index >= 0)
    return CLRN_STATUS_SUCCESS;
  char known[1024];
  profile_names(set, known, sizeof known);
  return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "%s: unknown device profile \"%s\" (known: %s)",
                   source, name, known);
}

static clrn_status resolve_in(const profile_set *set, const clrn_device_info *device,
                              const char *name, clrn_profile *profile) {
  long index = -1;
  CLRN_TRY(pick_profile(set, device, name, &index));
  snprintf(profile->name, sizeof profile->name, "%s", index >= 0 ? set->names[index] : "none");
  CLRN_TRY(merge_chain(set, index, profile));
  CLRN_TRY(apply_overrides(profile));
  return check_merged(profile);
}

clrn_status clrn_profile_resolve(const clrn_device_info *device, const char *name,
                                 clrn_profile **out) {
  if (!device || !out)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_profile_resolve: NULL argument");
  *out = NULL;
  profile_set set;
  CLRN_TRY(set_load(&set));
  clrn_profile *profile = calloc(1, sizeof *profile);
  clrn_status status = profile ? resolve_in(&set, device, name, profile)
                               : clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "device profile");
  set_free(&set);
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

long clrn_profile_value(const clrn_profile *profile, clrn_tuning_id id) {
  return profile ? profile->values[id] : clrn_tuning_param_of(id)->default_value;
}

long clrn_profile_int(const clrn_profile *profile, const char *key, long fallback) {
  clrn_tuning_id id;
  return key && clrn_tuning_find(key, &id) ? clrn_profile_value(profile, id) : fallback;
}

bool clrn_profile_build_options(const clrn_profile *profile, const char *family, char *out,
                                size_t size) {
  size_t used = strlen(out);
  for (int i = 0; i < CLRN_TUNING_COUNT; i++) {
    const clrn_tuning_param *p = clrn_tuning_param_of((clrn_tuning_id)i);
    if (p->kind != CLRN_TUNING_KIND_DEFINE || !family || !p->family || strcmp(p->family, family))
      continue;
    int n = snprintf(out + used, size - used, " -D%s=%ld", p->name,
                     clrn_profile_value(profile, (clrn_tuning_id)i));
    if (n < 0 || (size_t)n >= size - used)
      return false;
    used += (size_t)n;
  }
  return true;
}

static bool one_of(const char *key, const char *const *known, size_t count) {
  for (size_t k = 0; k < count; k++)
    if (strcmp(key, known[k]) == 0)
      return true;
  return false;
}

/* Fields, match fields, parent name and options of one profile; parents among set. */
static clrn_status check_profile(const char *source, const cJSON *root, const profile_set *set) {
  static const char *const fields[] = {"parent", "match", "options", "comment"};
  static const char *const matches[] = {"vendor", "name", "platform", "driver", "version", "type"};
  if (!cJSON_IsObject(root))
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s is not a JSON object", source);
  const cJSON *item;
  cJSON_ArrayForEach(item, root) {
    if (!one_of(item->string, fields, sizeof fields / sizeof fields[0]))
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: unknown field \"%s\"", source,
                       item->string);
  }
  cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(root, "match")) {
    if (!one_of(item->string, matches, sizeof matches / sizeof matches[0]))
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: unknown match field \"%s\"", source,
                       item->string);
  }
  const char *parent = parent_name(root);
  if (!parent && strcmp(source, "devices/default.json") != 0)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s has no parent", source);
  if (parent && find_profile(set, parent) < 0)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: parent %s does not exist", source, parent);
  return merge_options(NULL, source, root);
}

clrn_status clrn_profile_validate_json(const char *source, const char *text, size_t size) {
  profile_set set;
  CLRN_TRY(set_load(&set));
  cJSON *root = cJSON_ParseWithLength(text, size);
  clrn_status status = root ? check_profile(source, root, &set)
                            : clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s is not valid JSON", source);
  cJSON_Delete(root);
  set_free(&set);
  return status;
}

static clrn_status validate_one(const profile_set *set, size_t i) {
  char source[SOURCE_SIZE];
  snprintf(source, sizeof source, "devices/%s.json", set->names[i]);
  CLRN_TRY(check_profile(source, set->roots[i], set));
  long at = (long)i;
  for (int depth = 0; at >= 0; depth++) {
    if (depth >= MAX_DEPTH)
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: parent chain loops", source);
    const char *p = parent_name(set->roots[at]);
    at = p ? find_profile(set, p) : -1;
  }
  clrn_profile merged;
  CLRN_TRY(merge_chain(set, (long)i, &merged));
  return check_merged(&merged);
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
