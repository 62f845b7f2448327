/* Shared command-line helpers: error printing, exit codes and the log sink. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cli_verbosity = 1;

void cli_error(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  fputs("clresnet: ", stderr);
  vfprintf(stderr, fmt, args);
  fputc('\n', stderr);
  va_end(args);
}

int cli_usage_error(const char *command, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  fprintf(stderr, "clresnet %s: ", command);
  vfprintf(stderr, fmt, args);
  fprintf(stderr, " (see 'clresnet %s --help')\n", command);
  va_end(args);
  return CLI_EXIT_USAGE;
}

int cli_fail(clrn_status status, const char *what) {
  const char *detail = clrn_last_error();
  if (*detail)
    cli_error("%s: %s", what, detail);
  else
    cli_error("%s: %s", what, clrn_status_string(status));
  return CLI_EXIT_FAILURE;
}

static void log_to_stderr(clrn_log_level level, const char *message, void *user_data) {
  (void)user_data;
  static const char *names[] = {"error", "warning", "info", "debug"};
  fprintf(stderr, "clresnet: %s: %s\n", names[level], message);
}

void cli_install_log(void) {
  clrn_log_level level = cli_verbosity <= 0   ? CLRN_LOG_LEVEL_ERROR
                         : cli_verbosity == 1 ? CLRN_LOG_LEVEL_WARNING
                                              : CLRN_LOG_LEVEL_DEBUG;
  clrn_log_set_callback(log_to_stderr, level, NULL);
}
