/* Shared pieces of the clresnet command-line program: exit codes, error output,
 * the library log sink and device listing/selection used by every command. */
#ifndef CLRN_TOOLS_CLI_H
#define CLRN_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "clresnet/clresnet.h"

/* Exit codes, documented in README and every --help. */
enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_FAILURE = 1, /* runtime or input failure */
  CLI_EXIT_USAGE = 2,   /* bad flag or value */
};

/** Verbosity chosen by -q / -v (0 quiet, 1 normal, 2 verbose). */
extern int cli_verbosity;

/** Prints "clresnet: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Prints "clresnet <command>: <message>" and a hint to --help; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Prints the library's failure for status, prefixed by what failed; returns CLI_EXIT_FAILURE. */
int cli_fail(clrn_status status, const char *what);

/** Routes library log messages to stderr according to cli_verbosity. */
void cli_install_log(void);

/** The `devices` command: prints the device table. */
int cmd_devices(int argc, char **argv);

#endif
