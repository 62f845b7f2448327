/* `clresnet tune`: times the candidate algorithms and tile sizes of every distinct
 * convolution shape of a network on each chosen device (clrn_tune(), clresnet/tune.h)
 * and stores the winners in the device's tuning file in the cache folder, which
 * `run` and `bench` then use. Progress: one line per shape on stderr. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "checks.h"
#include "session.h"

typedef struct tune_args {
  cli_session_args common; /* -w, -m, -d, -b, --json */
  long height, width, max_shapes;
  bool quick;
} tune_args;

enum { OPT_QUICK = CLI_OPTION_OWN, OPT_MAX_SHAPES };

static const cli_option tune_options[] = {
    {NULL, 'w', NULL, "weights whose network to tune (default: -m's, random weights)"},
    {NULL, 'b', NULL, "images per batch the layers are timed with, 1..4096 (default 8)"},
    {NULL, 'd', NULL,
     "device(s) to tune, each on its own (see 'clresnet devices --help');\n"
     "env: CLRN_DEVICE; default: first GPU, else first device"},
    {NULL, CLI_OPT_JSON, NULL, "print each device's file and winners as JSON"},
    {NULL, CLI_OPT_NO_FUSE, NULL, "not for tune (a usage error): tuning times fused layers"},
    {NULL, CLI_OPT_TRACE, NULL, "not for tune (a usage error)"},
    {"height", 'H', "N", "input height, 1..4096 (default 224)"},
    {"width", 'W', "N", "input width, 1..4096 (default 224)"},
    {"quick", OPT_QUICK, NULL,
     "one value per tuning parameter: a smoke run that checks the\n"
     "tuner, not a real tuning"},
    {"max-shapes", OPT_MAX_SHAPES, "N", "tune only the first N layer shapes, 1..1000"},
    {NULL, 0, NULL, NULL}};

static int tune_option(int key, const char *value, void *own) {
  tune_args *a = own;
  switch (key) {
  case 'H': return cli_int_option("tune", "-H", value, 1, 4096, &a->height);
  case 'W': return cli_int_option("tune", "-W", value, 1, 4096, &a->width);
  case OPT_QUICK: a->quick = true; return CLI_EXIT_OK;
  case OPT_MAX_SHAPES:
    return cli_int_option("tune", "--max-shapes", value, 1, 1000, &a->max_shapes);
  default: return CLI_EXIT_USAGE;
  }
}

static void print_help(void);
static const cli_command tune_command = {"tune", tune_options, print_help, tune_option};

static void print_help(void) {
  printf("Usage: clresnet tune -m ARCH [-w WEIGHTS] [-b BATCH] [-d SPEC] [-H HEIGHT -W WIDTH]\n"
         "                     [--quick] [--max-shapes N] [--json] [-v | -q]\n"
         "\n"
         "Times the candidate convolution algorithms (direct, blocked, 1x1 GEMM, ...) and\n"
         "their tile sizes and work-group sizes for each distinct convolution shape of the\n"
         "network on the device, and stores the fastest in the device's tuning file in the\n"
         "cache folder (tuning-<hash>.txt beside the kernel binaries), keyed by device name\n"
         "and driver version. `run` and `bench` use it from then on; bench --profile marks\n"
         "the layers it chose as \"tuned\". A tuning file that is corrupt, or was made with\n"
         "another driver version or profile, is ignored with a warning saying why.\n"
         "CLRN_TUNING=off, or any CLRN_TUNE setting, ignores the file. Tuning again keeps\n"
         "the entries of other shapes (other models, sizes). ResNet-50 at batch 8 took\n"
         "3.6 minutes of CPU time (3.8 of wall time) on 2 cores of a Xeon (AVX-512).\n"
         "\n");
  cli_print_options(&tune_command);
  printf("\n"
         "Examples:\n"
         "  clresnet tune -m resnet50 -b 8\n"
         "  clresnet tune -m resnet18 -b 1 -d cpu\n"
         "\n"
         "Exit status: 0 success, 1 runtime failure, 2 usage error.\n");
}

/* Returns CLI_CONTINUE when tune should go on, else its exit status. */
static int parse_args(int argc, char **argv, tune_args *a) {
  memset(a, 0, sizeof *a);
  a->height = 224;
  a->width = 224;
  int status = cli_parse_options(&tune_command, argc, argv, &a->common, a);
  if (status != CLI_CONTINUE)
    return status;
  if (optind < argc)
    return cli_usage_error("tune", "unexpected argument '%s'", argv[optind]);
  if (!a->common.weights && a->common.arch == CLRN_ARCH_AUTO)
    return cli_usage_error("tune", "give -m ARCH (or -w WEIGHTS)");
  if (a->common.trace || a->common.no_fuse)
    return cli_usage_error("tune", "--trace and --no-fuse do not apply to tune");
  return CLI_CONTINUE;
}

/* Progress of one device: one line per shape. */
typedef struct progress {
  const char *device;
  cJSON *layers; /* --json: the rows, else NULL */
} progress;

static void on_layer(size_t done, size_t total, const char *layer, const char *winner,
                     double winner_ms, double profile_ms, void *user_data) {
  progress *p = user_data;
  if (p->layers) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "layer", layer);
    cJSON_AddStringToObject(o, "winner", winner);
    cJSON_AddNumberToObject(o, "ms", winner_ms);
    cJSON_AddNumberToObject(o, "profile_ms", profile_ms);
    cJSON_AddItemToArray(p->layers, o);
  }
  if (cli_verbosity > 0)
    fprintf(stderr, "clresnet tune: %s: %zu/%zu %s: %s, %.3f ms (profile's %.3f ms)\n", p->device,
            done, total, layer, winner, winner_ms, profile_ms);
}

int cmd_tune(int argc, char **argv) {
  tune_args a;
  int status = parse_args(argc, argv, &a);
  if (status != CLI_CONTINUE)
    return status;
  cli_install_log();
  cli_session s;
  status = cli_session_open(&a.common, &s);
  cJSON *root = a.common.json ? cJSON_CreateArray() : NULL;
  for (size_t i = 0; status == CLI_EXIT_OK && i < s.devices.count; i++) {
    const clrn_device_info *d = &s.devices.chosen[i];
    clrn_tune_options options;
    clrn_tune_options_default(&options);
    options.batch = (int)a.common.batch;
    options.height = (int)a.height;
    options.width = (int)a.width;
    options.quick = a.quick;
    options.max_shapes = (size_t)a.max_shapes;
    progress p = {d->name, root ? cJSON_CreateArray() : NULL};
    options.progress = on_layer;
    options.progress_user_data = &p;
    double start = cli_now();
    char path[4200];
    clrn_status result = clrn_tune(d, s.weights, &options, path, sizeof path);
    if (result != CLRN_STATUS_SUCCESS) {
      cJSON_Delete(p.layers);
      status = cli_fail(result, "tuning");
      break;
    }
    if (root) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "device", d->name);
      cJSON_AddStringToObject(o, "file", path);
      cJSON_AddNumberToObject(o, "seconds", cli_now() - start);
      cJSON_AddItemToObject(o, "layers", p.layers);
      cJSON_AddItemToArray(root, o);
    } else {
      printf("%s: tuned in %.1f s, written to %s\n", d->name, cli_now() - start, path);
    }
  }
  if (root && status == CLI_EXIT_OK)
    cli_print_json(root);
  else
    cJSON_Delete(root);
  cli_session_close(&s);
  return status;
}
