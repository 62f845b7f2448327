/* The tuning file (see tuning_file.h): reading it strictly (any line that does not
 * parse, a missing end line or a foreign header makes the whole file ignored, with
 * a note), writing it through a temporary file renamed into place, and the table
 * of per-layer choices it holds. */
#include "runtime/tuning_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "runtime/cache.h"

#define MAGIC "clresnet-tuning 1"
#define LINE_MAX_BYTES 1024

bool clrn_tuning_file_path(const clrn_device_info *device, char *buffer, size_t size) {
  char dir[4096];
  if (!clrn_cache_dir(dir, sizeof dir))
    return false;
  unsigned long long hash = clrn_hash64(device->name, strlen(device->name), CLRN_HASH_SEED);
  int n = snprintf(buffer, size, "%s/tuning-%016llx.txt", dir, hash);
  return n > 0 && (size_t)n < size;
}

void clrn_tuning_profile_key(const clrn_context *context, char *buffer, size_t size) {
  long values[CLRN_TUNING_COUNT];
  for (int i = 0; i < CLRN_TUNING_COUNT; i++)
    values[i] = clrn_context_tuning_value(context, (clrn_tuning_id)i);
  snprintf(buffer, size, "%s %016llx", clrn_context_profile_name(context),
           (unsigned long long)clrn_hash64(values, sizeof values, CLRN_HASH_SEED));
}

const clrn_tuned_conv *clrn_tuned_find(const clrn_tuned_convs *tuned,
                                       const long key[CLRN_TUNED_KEY]) {
  for (size_t i = 0; tuned && i < tuned->count; i++)
    if (memcmp(tuned->entries[i].key, key, sizeof tuned->entries[i].key) == 0)
      return &tuned->entries[i];
  return NULL;
}

bool clrn_tuned_put(clrn_tuned_convs *tuned, const clrn_tuned_conv *choice) {
  clrn_tuned_conv *old = (clrn_tuned_conv *)clrn_tuned_find(tuned, choice->key);
  if (old) {
    *old = *choice;
    return true;
  }
  if (tuned->count >= CLRN_TUNED_MAX)
    return false;
  tuned->entries[tuned->count++] = *choice;
  return true;
}

static bool entry_equal(const clrn_tuned_conv *a, const clrn_tuned_conv *b) {
  if (memcmp(a->key, b->key, sizeof a->key) || strcmp(a->variant, b->variant) ||
      a->count != b->count)
    return false;
  for (int i = 0; i < a->count; i++)
    if (a->ids[i] != b->ids[i] || a->values[i] != b->values[i])
      return false;
  return true;
}

bool clrn_tuned_equal(const clrn_tuned_convs *a, const clrn_tuned_convs *b) {
  if (a->count != b->count)
    return false;
  for (size_t i = 0; i < a->count; i++)
    if (!entry_equal(&a->entries[i], &b->entries[i]))
      return false;
  return true;
}

/* "KEY value" header line: true when line is key, a space and want. */
static bool header_is(const char *line, const char *key, const char *want) {
  size_t n = strlen(key);
  return strncmp(line, key, n) == 0 && line[n] == ' ' && strcmp(line + n + 1, want) == 0;
}

/* Parses one "conv ..." line into e; false with why filled on a bad line. */
static bool parse_conv(const char *source, char *line, clrn_tuned_conv *e, char *why,
                       size_t why_size) {
  memset(e, 0, sizeof *e);
  char *save = NULL;
  char *word = strtok_r(line, " ", &save);
  for (int i = 0; i < CLRN_TUNED_KEY; i++) {
    word = strtok_r(NULL, " ", &save);
    char *end = NULL;
    errno = 0;
    long v = word ? strtol(word, &end, 10) : -1;
    if (!word || *end || errno || v < 0 || v > (1L << 30)) {
      snprintf(why, why_size, "a conv line's shape number %d is missing or bad", i + 1);
      return false;
    }
    e->key[i] = v;
  }
  word = strtok_r(NULL, " ", &save);
  if (!word || strlen(word) >= sizeof e->variant) {
    snprintf(why, why_size, "a conv line has no variant");
    return false;
  }
  snprintf(e->variant, sizeof e->variant, "%s", word);
  while ((word = strtok_r(NULL, " ", &save))) {
    char *eq = strchr(word, '=');
    if (!eq || e->count >= CLRN_TUNED_VALUES) {
      snprintf(why, why_size, "\"%s\" is not KEY=VALUE or one too many", word);
      return false;
    }
    *eq = '\0';
    if (clrn_tuning_parse(source, word, eq + 1, &e->ids[e->count], &e->values[e->count]) !=
        CLRN_STATUS_SUCCESS) {
      snprintf(why, why_size, "%s", clrn_last_error());
      return false;
    }
    e->count++;
  }
  return true;
}

/* Reads every line of f into tuned; false with why filled when the file is not one
 * measured on this device, driver and profile, or does not parse. */
static bool read_lines(FILE *f, const char *path, const clrn_device_info *device,
                       const char *profile, clrn_tuned_convs *tuned, char *why, size_t why_size) {
  char line[LINE_MAX_BYTES];
  int number = 0;
  long ended = -1;
  while (fgets(line, sizeof line, f)) {
    number++;
    size_t n = strlen(line);
    if (n == 0 || line[n - 1] != '\n') {
      snprintf(why, why_size, "line %d is too long or unterminated", number);
      return false;
    }
    line[n - 1] = '\0';
    if (ended >= 0) {
      snprintf(why, why_size, "line %d follows the end line", number);
      return false;
    }
    if (number == 1 && strcmp(line, MAGIC) != 0) {
      snprintf(why, why_size, "it does not start with \"%s\"", MAGIC);
      return false;
    } else if (number == 2 && !header_is(line, "device", device->name)) {
      snprintf(why, why_size, "it was measured on another device");
      return false;
    } else if (number == 3 && !header_is(line, "driver", device->driver_version)) {
      snprintf(why, why_size, "it was measured with another driver version (%.100s, now %.100s)",
               strncmp(line, "driver ", 7) == 0 ? line + 7 : "?", device->driver_version);
      return false;
    } else if (number == 4 && !header_is(line, "profile", profile)) {
      snprintf(why, why_size, "it was measured under another profile (%.100s, now %.100s)",
               strncmp(line, "profile ", 8) == 0 ? line + 8 : "?", profile);
      return false;
    } else if (number == 5 && strncmp(line, "batch ", 6) != 0) {
      snprintf(why, why_size, "line 5 is not the batch line");
      return false;
    } else if (number > 5 && strncmp(line, "conv ", 5) == 0) {
      clrn_tuned_conv e;
      if (!parse_conv(path, line, &e, why, why_size))
        return false;
      if (!clrn_tuned_put(tuned, &e)) {
        snprintf(why, why_size, "it holds more than %d layer shapes", CLRN_TUNED_MAX);
        return false;
      }
    } else if (number > 5 && strncmp(line, "end ", 4) == 0) {
      char *end = NULL;
      ended = strtol(line + 4, &end, 10);
      if (*end || ended != (long)tuned->count) {
        snprintf(why, why_size, "its end line does not count its %zu conv lines", tuned->count);
        return false;
      }
    } else if (number > 5) {
      snprintf(why, why_size, "line %d is neither a conv nor the end line", number);
      return false;
    }
  }
  if (ferror(f) || ended < 0) {
    snprintf(why, why_size, "it is truncated (no end line)");
    return false;
  }
  return true;
}

void clrn_tuning_file_read(const char *path, const clrn_device_info *device, const char *profile,
                           clrn_tuned_convs *tuned) {
  tuned->count = 0;
  FILE *f = fopen(path, "r");
  if (!f) {
    if (errno != ENOENT)
      clrn_log(CLRN_LOG_LEVEL_WARNING, "tuning file %s ignored: %s", path, strerror(errno));
    return;
  }
  char why[512] = "";
  if (!read_lines(f, path, device, profile, tuned, why, sizeof why)) {
    tuned->count = 0;
    clrn_log(CLRN_LOG_LEVEL_WARNING, "tuning file %s ignored: %s (run clresnet tune again)",
             path, why);
  } else {
    clrn_log(CLRN_LOG_LEVEL_DEBUG, "tuning file %s: %zu layer shapes", path, tuned->count);
  }
  fclose(f);
}

static bool write_lines(FILE *f, const clrn_device_info *device, const char *profile, int batch,
                        const clrn_tuned_convs *tuned) {
  fprintf(f, "%s\ndevice %s\ndriver %s\nprofile %s\nbatch %d\n", MAGIC, device->name,
          device->driver_version, profile, batch);
  for (size_t i = 0; i < tuned->count; i++) {
    const clrn_tuned_conv *e = &tuned->entries[i];
    fputs("conv", f);
    for (int k = 0; k < CLRN_TUNED_KEY; k++)
      fprintf(f, " %ld", e->key[k]);
    fprintf(f, " %s", e->variant);
    for (int k = 0; k < e->count; k++)
      fprintf(f, " %s=%ld", clrn_tuning_param_of(e->ids[k])->name, e->values[k]);
    fputc('\n', f);
  }
  fprintf(f, "end %zu\n", tuned->count);
  return !ferror(f);
}

clrn_status clrn_tuning_file_write(const char *path, const clrn_device_info *device,
                                   const char *profile, int batch, const clrn_tuned_convs *tuned) {
  if (strchr(device->name, '\n') || strchr(device->driver_version, '\n') || strchr(profile, '\n'))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "tuning file: a device name with a line break");
  char temp[4200];
  if (snprintf(temp, sizeof temp, "%s.XXXXXX", path) >= (int)sizeof temp)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "tuning file path too long: %s", path);
  int fd = mkstemp(temp);
  if (fd < 0)
    return clrn_fail(CLRN_STATUS_IO_ERROR, "cannot create %s: %s", temp, strerror(errno));
  FILE *f = fdopen(fd, "w");
  if (!f) {
    close(fd);
    unlink(temp);
    return clrn_fail(CLRN_STATUS_IO_ERROR, "cannot write %s: %s", temp, strerror(errno));
  }
  bool ok = write_lines(f, device, profile, batch, tuned);
  ok = fclose(f) == 0 && ok;
  if (!ok || rename(temp, path) != 0) {
    int err = errno;
    unlink(temp);
    return clrn_fail(CLRN_STATUS_IO_ERROR, "cannot write %s: %s", path, strerror(err));
  }
  return CLRN_STATUS_SUCCESS;
}
