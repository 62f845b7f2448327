/* What `run` and `bench` share: one table of their common options with the help
 * line of each (options.c), a parser that adds a command's own options to it, and
 * the engine set-up from those options: devices, weights, engine options, compile
 * progress and the -v report (session.c). */
#ifndef CLRN_TOOLS_SESSION_H
#define CLRN_TOOLS_SESSION_H

#include "cli.h"

/** One command-line option. key is its short letter, or an id from CLI_OPTION_OWN up
 * for a long-only option of a command; value names its value ("FILE", "N"), NULL for
 * a flag; help is its help text, where '\n' starts a continuation line. In a
 * command's table, an entry with a NULL name gives a shared option (same key) the
 * command's own help text instead. */
typedef struct cli_option {
  const char *name;
  int key;
  const char *value;
  const char *help;
} cli_option;

/** Keys of the shared long-only options, for a command's help overrides. */
enum { CLI_OPT_LIST = 1000, CLI_OPT_JSON, CLI_OPT_NO_FUSE, CLI_OPT_TRACE, CLI_OPT_PRECISION };

/** The first id of a command's own long-only options (the shared ones lie below). */
#define CLI_OPTION_OWN 1100

/** The values of the shared options. */
typedef struct cli_session_args {
  const char *weights;      /* -w (NULL: none given) */
  const char *device;       /* -d (NULL: CLRN_DEVICE, else the default) */
  const char *trace;        /* --trace */
  clrn_arch arch;           /* -m (CLRN_ARCH_AUTO: from the weights) */
  long batch;               /* -b (default 8) */
  long images;              /* images each engine run gets, which a cold start warms up for (0: no
                              warm-up: bench times the first run, first launches included) */
  bool json;                /* --json */
  bool no_fuse;             /* --no-fuse */
  clrn_precision precision; /* --precision (default fp32) */
} cli_session_args;

/** A command that takes the shared options: its name, its own options (ending with
 * an entry whose key is 0), its help printer (which calls cli_print_options) and
 * the handler of its own options, which returns CLI_EXIT_OK or a usage error. */
typedef struct cli_command {
  const char *name;
  const cli_option *options;
  void (*print_help)(void);
  int (*own_option)(int key, const char *value, void *own);
} cli_command;

/** cli_parse_options() result when the command should go on with its work. */
#define CLI_CONTINUE (-1)

/** Parses argv (getopt_long, options before and among the operands): the shared
 * options into *args, the command's own through command->own_option(key, value,
 * own). -h prints the help and --list-devices lists the devices; both then end the
 * command. An empty -d is a usage error. Returns CLI_CONTINUE, with optind at the
 * first operand, or the exit status the command must return. */
int cli_parse_options(const cli_command *command, int argc, char **argv, cli_session_args *args,
                      void *own);

/** Prints the "Options:" block of command's help: the shared options, with the
 * command's own between the engine ones (-w, -m, -d, --list-devices, -b) and the
 * output ones (--json, --no-fuse, --trace, -v, -q, -h). */
void cli_print_options(const cli_command *command);

/** The devices, weights and engine of one command's run. */
typedef struct cli_session {
  cli_devices devices;
  clrn_weights *weights;
  clrn_engine *engine;
} cli_session;

/** Selects the devices of args->device and opens args->weights, or makes seeded
 * random weights of args->arch when no file is given. Prints the error and returns
 * its exit status on failure; call cli_session_close() in any case. */
int cli_session_open(const cli_session_args *args, cli_session *session);

/** Creates the engine for inputs of height x width with the options of args
 * (fusion, batch, profiling for --trace or when profiling is set). On a cold start
 * (a kernel program was compiled) it also warms the engine up for runs of
 * args->images when that is set (clrn_engine_warm_up()), showing the progress and
 * then one set-up line with the times on stderr. Prints the error and returns CLI_EXIT_FAILURE on
 * failure. */
int cli_session_start(cli_session *session, const cli_session_args *args, int height, int width,
                      bool profiling);

/** With -v: the model, one line per device on its kernel programs (compiled, loaded
 * from the cache, seconds spent) and device memory, and with several devices how
 * many images each ran last. */
void cli_session_report(const cli_session *session);

/** Releases the engine, the weights and the devices (each may be missing). */
void cli_session_close(cli_session *session);

#endif
