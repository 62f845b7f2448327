/* Shared command-line helpers: error printing, exit codes, the log sink (which
 * prints each distinct warning once), integer options, device selection and JSON
 * output (numbers with float32's 9 significant digits). */
#include "cli.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "escape.h"

int cli_verbosity = 1;

void cli_error(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  fputs("clresnet: ", stderr);
  cli_vprint_escaped(stderr, fmt, args); /* messages quote names from files */
  fputc('\n', stderr);
  va_end(args);
}

int cli_usage_error(const char *command, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  fprintf(stderr, "clresnet %s: ", command);
  cli_vprint_escaped(stderr, fmt, args);
  fprintf(stderr, " (see 'clresnet %s --help')\n", command);
  va_end(args);
  return CLI_EXIT_USAGE;
}

int cli_fail(clrn_status status, const char *what) {
  const char *detail = clrn_last_error();
  if (*detail && status == CLRN_STATUS_BUILD_FAILED) { /* keep the build log's lines */
    fprintf(stderr, "clresnet: %s: ", what);
    cli_put_escaped_lines(stderr, detail);
    fputc('\n', stderr);
  } else if (*detail)
    cli_error("%s: %s", what, detail);
  else
    cli_error("%s: %s", what, clrn_status_string(status));
  return CLI_EXIT_FAILURE;
}

/* True the first time a warning is seen: the library may warn about the same thing
 * once per program, device or thread (an unwritable cache folder, say), and users
 * need to read it once. Up to WARNINGS_KEPT distinct warnings are remembered. */
static bool first_time(const char *message) {
  enum { WARNINGS_KEPT = 256 };
  static uint64_t seen[WARNINGS_KEPT];
  static size_t count;
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  uint64_t hash = 14695981039346656037u; /* FNV-1a */
  for (const char *c = message; *c; c++)
    hash = (hash ^ (unsigned char)*c) * 1099511628211u;
  bool first = true;
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < count && first; i++)
    first = seen[i] != hash;
  if (first && count < WARNINGS_KEPT)
    seen[count++] = hash;
  pthread_mutex_unlock(&lock);
  return first;
}

static void log_to_stderr(clrn_log_level level, const char *message, void *user_data) {
  (void)user_data;
  static const char *names[] = {"error", "warning", "info", "debug"};
  if (level == CLRN_LOG_LEVEL_WARNING && !first_time(message))
    return;
  cli_print_line(stderr, "clresnet: %s: %s", names[level], message);
}

void cli_install_log(void) {
  clrn_log_level level = cli_verbosity <= 0   ? CLRN_LOG_LEVEL_ERROR
                         : cli_verbosity == 1 ? CLRN_LOG_LEVEL_WARNING
                         : cli_verbosity == 2 ? CLRN_LOG_LEVEL_INFO
                                              : CLRN_LOG_LEVEL_DEBUG;
  clrn_log_set_callback(log_to_stderr, level, NULL);
}

double cli_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int cli_common_option(const char *command, int option, char **argv) {
  static bool verbose, quiet;
  switch (option) {
  case 'v':
  case 'q':
    verbose |= option == 'v';
    quiet |= option == 'q';
    if (verbose && quiet)
      return cli_usage_error(command, "-v and -q contradict each other; give one");
    cli_verbosity = quiet ? 0 : cli_verbosity < 2 ? 2 : 3;
    return CLI_EXIT_OK;
  case ':': return cli_usage_error(command, "option '%s' needs a value", argv[optind - 1]);
  default: return cli_usage_error(command, "unknown option '%s'", argv[optind - 1]);
  }
}

bool cli_parse_int(const char *text, long min, long max, long *value) {
  if (!text || !*text || isspace((unsigned char)*text))
    return false;
  errno = 0;
  char *end = NULL;
  long v = strtol(text, &end, 10);
  if (errno != 0 || !end || *end != '\0' || v < min || v > max)
    return false;
  *value = v;
  return true;
}

int cli_int_option(const char *command, const char *flag, const char *text, long min, long max,
                   long *value) {
  if (cli_parse_int(text, min, max, value))
    return CLI_EXIT_OK;
  return cli_usage_error(command, "%s: '%s' is not an integer in %ld..%ld", flag, text, min, max);
}

int cli_select_devices(const char *spec, cli_devices *d) {
  memset(d, 0, sizeof *d);
  clrn_status status = clrn_devices_enumerate(&d->all, &d->all_count);
  if (status != CLRN_STATUS_SUCCESS) {
    cli_error("%s", clrn_last_error());
    return CLI_EXIT_FAILURE;
  }
  size_t count = 0;
  size_t *chosen = malloc(d->all_count * sizeof *chosen);
  if (chosen)
    status = clrn_devices_select(d->all, d->all_count, spec, chosen, d->all_count, &count);
  if (!chosen || status != CLRN_STATUS_SUCCESS) {
    cli_error("%s", chosen ? clrn_last_error() : "out of memory");
    /* A malformed spec, or one that matches none of the devices there are, is a usage
     * error (exit 2), whether it came from -d or CLRN_DEVICE; no device at all is not. */
    bool usage = status == CLRN_STATUS_INVALID_ARGUMENT ||
                 (status == CLRN_STATUS_NO_MATCHING_DEVICE && d->all_count > 0);
    free(chosen);
    cli_devices_free(d);
    return usage ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
  }
  d->chosen = malloc(count * sizeof *d->chosen);
  for (size_t i = 0; d->chosen && i < count; i++)
    d->chosen[i] = d->all[chosen[i]];
  d->count = d->chosen ? count : 0;
  free(chosen);
  if (!d->chosen) {
    cli_error("out of memory");
    cli_devices_free(d);
    return CLI_EXIT_FAILURE;
  }
  return CLI_EXIT_OK;
}

void cli_devices_free(cli_devices *d) {
  clrn_devices_free(d->all);
  free(d->chosen);
  memset(d, 0, sizeof *d);
}

void cli_json_round(cJSON *item) {
  for (; item; item = item->next) {
    double v = item->valuedouble;
    if (cJSON_IsNumber(item) && isfinite(v) && v != trunc(v)) {
      char text[32];
      snprintf(text, sizeof text, "%.9g", v);
      cJSON_SetNumberHelper(item, strtod(text, NULL));
    }
    cli_json_round(item->child);
  }
}

void cli_print_json(struct cJSON *root) {
  cli_json_round(root);
  if (!cli_put_json(stdout, root)) /* escaped: names from files, valid UTF-8 */
    cli_error("out of memory printing JSON");
  cJSON_Delete(root);
}

bool cli_reserve(void **items, size_t *capacity, size_t needed, size_t item_size, size_t initial) {
  if (needed <= *capacity)
    return true;
  size_t grown = *capacity ? *capacity : initial;
  while (grown < needed)
    grown *= 2;
  void *moved = realloc(*items, grown * item_size);
  if (!moved)
    return false;
  *items = moved;
  *capacity = grown;
  return true;
}
