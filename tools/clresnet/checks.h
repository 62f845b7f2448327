/* Checks a command makes before any work: its output files (outputs.c: none may
 * name an input or another output, each must be writable; temporaries removed on
 * SIGINT/SIGTERM) and its .npy inputs against the devices (input_limits.c). */
#ifndef CLRN_TOOLS_CHECKS_H
#define CLRN_TOOLS_CHECKS_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/** One output file of a command: the flag that named it and its path (NULL: not asked). */
typedef struct cli_output {
  const char *flag;
  const char *path;
} cli_output;

/** Refuses, with one line on stderr and CLI_EXIT_USAGE, an output given as "", an
 * output that is the same file as one of the inputs (the weights included) or as
 * an earlier output, and one that clrn_output_check() refuses (read-only, not
 * replaceable, unwritable folder). CLI_EXIT_OK otherwise. */
int cli_outputs_check(const cli_output *outputs, size_t count, const char *weights,
                      char *const *inputs, size_t input_count);

/** Writes a float32 .npy output after flushing stdout (so an output on /dev/stdout
 * follows the printed results); prints the failure, prefixed by flag, and returns
 * CLI_EXIT_FAILURE when it fails. */
int cli_write_npy(const char *flag, const char *path, const float *data, int ndim,
                  const int64_t *shape);

/** Installs the SIGINT and SIGTERM handler that removes this process's temporary
 * output files (clrn_atomic_remove_temporaries) and then dies of the signal, so
 * the exit status is 128+signal. A signal ignored at start stays ignored. */
void cli_outputs_protect(void);

/** Refuses a .npy input whose one image cannot fit a chosen device: its input
 * buffer or the 64-channel stem output of every ResNet above the device's largest
 * allocation, or both together above its global memory. Read from the headers
 * only, before any data; prints one line and returns CLI_EXIT_FAILURE. Inputs
 * that are not .npy, or malformed, are left to the loader. */
int cli_inputs_check(char *const *inputs, int count, const cli_devices *devices);

#endif
