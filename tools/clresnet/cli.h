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

/** Verbosity chosen by -q / -v (0 quiet, 1 normal, 2 verbose, 3 debug: -vv). */
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

/** The options every command shares, for the default branch of a getopt_long loop
 * (optstring starting with ':'): -v/--verbose (twice: -vv), -q/--quiet, and usage
 * errors for a missing value or an unknown option. Returns CLI_EXIT_OK or
 * CLI_EXIT_USAGE (after printing the error). */
int cli_common_option(const char *command, int option, char **argv);

/** Makes *items (of *capacity items of item_size bytes) hold at least needed items,
 * doubling from initial; false (items unchanged) when memory runs out. The CLI's
 * twin of the library's internal clrn_array_reserve(), which it cannot link. */
bool cli_reserve(void **items, size_t *capacity, size_t needed, size_t item_size, size_t initial);

/** Parses a whole decimal integer in min..max; false (nothing printed) otherwise. */
bool cli_parse_int(const char *text, long min, long max, long *value);

/** Parses an integer option value or prints a usage error naming the flag; returns
 * CLI_EXIT_OK or CLI_EXIT_USAGE. */
int cli_int_option(const char *command, const char *flag, const char *text, long min, long max,
                   long *value);

/** Devices chosen by a spec (NULL: CLRN_DEVICE, else the default). */
typedef struct cli_devices {
  clrn_device_info *all;
  size_t all_count;
  clrn_device_info *chosen; /* copies, in spec order */
  size_t count;
} cli_devices;

/** Enumerates and selects; prints the error and returns CLI_EXIT_FAILURE on failure
 * (CLI_EXIT_USAGE for a spec that is malformed or matches none of the devices). */
int cli_select_devices(const char *spec, cli_devices *devices);

/** Frees what cli_select_devices() made. */
void cli_devices_free(cli_devices *devices);

/** Writes the Chrome trace-event JSON of the engine's last run to path (atomically).
 * host_start_us is the host time, in microseconds, when that run began. */
int cli_write_trace(const char *path, const clrn_engine *engine, double host_start_us);

struct cJSON;

/** Rounds every number of item, its siblings and their children that is not a
 * whole one to 9 significant digits: what a float32 needs to read back exactly,
 * where cJSON would print up to 17. */
void cli_json_round(struct cJSON *item);

/** Prints root as indented JSON on stdout (numbers rounded: cli_json_round), then
 * deletes it. Strings are escaped
 * (escape.h: cli_put_json): the output is valid UTF-8 without raw controls. */
void cli_print_json(struct cJSON *root);

/** Monotonic time in seconds. */
double cli_now(void);

/** Writes text into out (size bytes) as a table column width characters wide: padded
 * with spaces, or, when longer, cut to width - 1 characters followed by "…". UTF-8
 * characters count one each. Needs size > 4 * width to hold any column. */
void cli_column(const char *text, size_t width, char *out, size_t size);

/** The `devices` command: prints the device table. */
int cmd_devices(int argc, char **argv);

/** The `run` command: classifies photos or .npy tensors. */
int cmd_run(int argc, char **argv);

/** The `bench` command: measures inference speed on synthetic input. */
int cmd_bench(int argc, char **argv);

/** The `kernels` command: `kernels export` writes the kernel sources of a model. */
int cmd_kernels(int argc, char **argv);

/** The `tune` command: measures the fastest convolution choices into the tuning file. */
int cmd_tune(int argc, char **argv);

#endif
