/* The output files of a command (-o, --save-input, --trace), checked before any
 * work and written so that nothing the user owns is lost: an output may not name
 * an input, the weights or another output of the same run (the same file by device
 * and inode once it exists, by resolved path before), nor a file the library's
 * check refuses (read-only, not replaceable, in a missing folder); each refusal is
 * one line and exit 2. SIGINT and SIGTERM remove the run's temporary files before
 * the program dies of the signal, so the shell sees the usual 128+signal status.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checks.h"

/* What a path is: an existing file (device and inode) or where one would be made. */
typedef struct identity {
  bool exists, regular;
  dev_t dev;
  ino_t ino;
  char resolved[PATH_MAX + NAME_MAX + 2];
} identity;

static void identify(const char *path, identity *id) {
  memset(id, 0, sizeof *id);
  struct stat st;
  if (stat(path, &st) == 0) {
    id->exists = true;
    id->regular = S_ISREG(st.st_mode);
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    return;
  }
  /* Not there yet: the real path of its folder and its name. */
  char dir[PATH_MAX], real[PATH_MAX];
  const char *slash = strrchr(path, '/');
  int length = slash ? (slash == path ? 1 : (int)(slash - path)) : 1;
  snprintf(dir, sizeof dir, "%.*s", length, slash ? path : ".");
  if (!realpath(dir, real))
    snprintf(id->resolved, sizeof id->resolved, "%s", path);
  else
    snprintf(id->resolved, sizeof id->resolved, "%s/%s", strcmp(real, "/") ? real : "",
             slash ? slash + 1 : path);
}

static bool same_file(const identity *a, const identity *b) {
  if (a->exists != b->exists)
    return false;
  if (a->exists)
    return a->dev == b->dev && a->ino == b->ino;
  return strcmp(a->resolved, b->resolved) == 0;
}

/* The input (or weights) that an existing output is: its index, input_count for
 * the weights, -1 for none. */
static long input_named(const identity *out, const char *weights, char *const *inputs,
                        size_t input_count) {
  for (size_t j = 0; j <= input_count; j++) {
    const char *path = j < input_count ? inputs[j] : weights;
    identity in;
    if (path)
      identify(path, &in);
    if (path && in.exists && same_file(out, &in))
      return (long)j;
  }
  return -1;
}

int cli_outputs_check(const cli_output *outputs, size_t count, const char *weights,
                      char *const *inputs, size_t input_count) {
  for (size_t i = 0; i < count; i++)
    if (outputs[i].path && !*outputs[i].path) {
      cli_error("%s: the file name is empty", outputs[i].flag);
      return CLI_EXIT_USAGE;
    }
  for (size_t i = 0; i < count; i++) {
    if (!outputs[i].path)
      continue;
    identity out;
    identify(outputs[i].path, &out);
    /* Two writes to one terminal or /dev/null are harmless; to one file they are not. */
    if (out.exists && !out.regular)
      continue;
    long input = input_named(&out, weights, inputs, input_count);
    if (input >= 0) {
      bool w = (size_t)input == input_count;
      cli_error("%s %s: is the same file as the %s %s; write the output elsewhere", outputs[i].flag,
                outputs[i].path, w ? "weights" : "input", w ? weights : inputs[input]);
      return CLI_EXIT_USAGE;
    }
    for (size_t j = 0; j < i; j++) {
      identity other;
      if (!outputs[j].path)
        continue;
      identify(outputs[j].path, &other);
      if (same_file(&out, &other)) {
        cli_error("%s %s and %s %s: name the same file; give each output its own", outputs[j].flag,
                  outputs[j].path, outputs[i].flag, outputs[i].path);
        return CLI_EXIT_USAGE;
      }
    }
  }
  for (size_t i = 0; i < count; i++)
    if (outputs[i].path && clrn_output_check(outputs[i].path) != CLRN_STATUS_SUCCESS) {
      cli_error("%s: %s", outputs[i].flag, clrn_last_error());
      return CLI_EXIT_USAGE;
    }
  return CLI_EXIT_OK;
}

int cli_write_npy(const char *flag, const char *path, const float *data, int ndim,
                  const int64_t *shape) {
  fflush(stdout); /* an output on /dev/stdout comes after what was printed */
  clrn_status status = clrn_npy_write(path, data, ndim, shape);
  return status == CLRN_STATUS_SUCCESS ? CLI_EXIT_OK : cli_fail(status, flag);
}

static void remove_and_die(int sig) {
  clrn_atomic_remove_temporaries();
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = SIG_DFL;
  sigaction(sig, &action, NULL);
  raise(sig); /* blocked until the handler returns, then fatal */
}

void cli_outputs_protect(void) {
  static const int signals[] = {SIGINT, SIGTERM};
  for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
    struct sigaction action, old;
    memset(&action, 0, sizeof action);
    action.sa_handler = remove_and_die;
    sigemptyset(&action.sa_mask);
    for (size_t j = 0; j < sizeof signals / sizeof signals[0]; j++)
      sigaddset(&action.sa_mask, signals[j]);
    /* A signal ignored by whoever started us (nohup, a background job) stays ignored. */
    if (sigaction(signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
      continue;
    sigaction(signals[i], &action, NULL);
  }
}
