/* `clresnet kernels export`: writes every kernel program a model needs on a device,
 * specialised as it would be built there (whole source, headers included, and the
 * build options), for a vendor's offline compiler. Devices without an OpenCL C
 * compiler (FPGAs, some accelerators) then load the binaries it makes from the
 * folder named by CLRN_KERNEL_BINARIES. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "session.h"

static void print_help(void) {
  printf("Usage: clresnet kernels export -o DIR [-m ARCH | -w WEIGHTS] [-d SPEC | --profile NAME]\n"
         "                               [-b BATCH] [-H HEIGHT -W WIDTH] [--no-fuse] [-v | -q]\n"
         "\n"
         "Writes each kernel program the model needs on the device, specialised for it, into\n"
         "DIR: PROGRAM-HASH.cl (the whole source) and PROGRAM-HASH.options (its build\n"
         "options). Compile each with the device vendor's offline compiler into\n"
         "PROGRAM-HASH.bin in one folder, and name that folder in CLRN_KERNEL_BINARIES: a\n"
         "device without an OpenCL C compiler then loads its kernels from there (and any\n"
         "device tries them before compiling). HASH covers the source and the options, so a\n"
         "binary is only ever used for the program it was made from.\n"
         "\n"
         "Options:\n"
         "  -o, --output DIR     folder to write into (made if missing; required)\n"
         "  -m, --model ARCH     architecture (default resnet50 without -w; see 'clresnet run\n"
         "                       --help')\n"
         "  -w, --weights FILE   weights whose architecture and classes to use\n"
         "  -d, --device SPEC    the device the kernels are specialised for (see 'clresnet\n"
         "                       devices --help'; default as for run)\n"
         "      --profile NAME   specialise with devices/NAME.json's tuning values (as\n"
         "                       CLRN_PROFILE=NAME), on the device of -d\n"
         "  -b, --batch N        largest batch, 1..4096 (default 8)\n"
         "  -H, --height N       input height, 32..4096 (default 224)\n"
         "  -W, --width N        input width, 32..4096 (default 224)\n"
         "      --no-fuse        the kernels of an unfused model\n"
         "  -v, --verbose        also print each program's origin on stderr\n"
         "  -q, --quiet          print only errors\n"
         "  -h, --help           show this help\n"
         "\n"
         "Examples:\n"
         "  clresnet kernels export -m resnet50 -d fpga -o kernels/\n"
         "  clresnet kernels export -m resnet18 --profile intel-gpu -o kernels/\n"
         "  CLRN_KERNEL_BINARIES=binaries/ clresnet run -w resnet18.safetensors -d fpga cat.jpg\n"
         "\n"
         "Exit status: 0 success, 1 runtime failure, 2 usage error.\n");
}

typedef struct export_args {
  const char *output, *weights, *device, *profile;
  clrn_arch arch;
  long batch, height, width;
  bool no_fuse;
} export_args;

enum { OPT_PROFILE = 1200, OPT_NO_FUSE };

static int parse(int argc, char **argv, export_args *a) {
  static const struct option longs[] = {{"output", required_argument, NULL, 'o'},
                                        {"model", required_argument, NULL, 'm'},
                                        {"weights", required_argument, NULL, 'w'},
                                        {"device", required_argument, NULL, 'd'},
                                        {"profile", required_argument, NULL, OPT_PROFILE},
                                        {"batch", required_argument, NULL, 'b'},
                                        {"height", required_argument, NULL, 'H'},
                                        {"width", required_argument, NULL, 'W'},
                                        {"no-fuse", no_argument, NULL, OPT_NO_FUSE},
                                        {"verbose", no_argument, NULL, 'v'},
                                        {"quiet", no_argument, NULL, 'q'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  const char *cmd = "kernels export";
  *a = (export_args){.batch = 8, .height = 224, .width = 224};
  opterr = 0;
  optind = 1;
  int status = CLI_EXIT_OK;
  for (int c; status == CLI_EXIT_OK &&
              (c = getopt_long(argc, argv, ":o:m:w:d:b:H:W:vqh", longs, NULL)) != -1;) {
    switch (c) {
    case 'h': print_help(); return CLI_EXIT_OK;
    case 'o': a->output = optarg; break;
    case 'w': a->weights = optarg; break;
    case 'm':
      if (clrn_arch_parse(optarg, &a->arch) != CLRN_STATUS_SUCCESS)
        status = cli_usage_error(cmd, "-m: %s", clrn_last_error());
      break;
    case 'd':
      if (!*optarg)
        status = cli_usage_error(cmd, "-d: the device spec is empty");
      a->device = optarg;
      break;
    case OPT_PROFILE:
      if (!*optarg)
        status = cli_usage_error(cmd, "--profile: the profile name is empty");
      a->profile = optarg;
      break;
    case 'b': status = cli_int_option(cmd, "-b", optarg, 1, 4096, &a->batch); break;
    case 'H': status = cli_int_option(cmd, "-H", optarg, 32, 4096, &a->height); break;
    case 'W': status = cli_int_option(cmd, "-W", optarg, 32, 4096, &a->width); break;
    case OPT_NO_FUSE: a->no_fuse = true; break;
    default: status = cli_common_option(cmd, c, argv); break;
    }
  }
  if (status != CLI_EXIT_OK)
    return status;
  if (optind < argc)
    return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
  if (!a->output || !*a->output)
    return cli_usage_error(cmd, "-o DIR is required: the folder the kernel sources go to");
  if (!a->weights && a->arch == CLRN_ARCH_AUTO)
    a->arch = CLRN_ARCH_RESNET50;
  return CLI_CONTINUE;
}

/* Makes dir when missing; false (error printed) when it cannot be a folder. */
static bool make_folder(const char *dir) {
  struct stat st;
  if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
    return true;
  if (mkdir(dir, 0777) == 0)
    return true;
  cli_error("kernels export: cannot make the folder %s: %s", dir, strerror(errno));
  return false;
}

static int export_kernels(const export_args *a) {
  if (a->profile && setenv("CLRN_PROFILE", a->profile, 1) != 0) {
    cli_error("kernels export: cannot set CLRN_PROFILE");
    return CLI_EXIT_FAILURE;
  }
  if (!make_folder(a->output))
    return CLI_EXIT_FAILURE;
  cli_devices devices;
  int status = cli_select_devices(a->device, &devices);
  if (status != CLI_EXIT_OK)
    return status;
  clrn_weights *weights = NULL;
  clrn_engine *engine = NULL;
  clrn_status result = a->weights ? clrn_weights_open(a->weights, a->arch, &weights)
                                  : clrn_weights_random(a->arch, 1000, 1, &weights);
  if (result != CLRN_STATUS_SUCCESS) {
    status = cli_fail(result, "weights");
    goto done;
  }
  clrn_engine_options options;
  clrn_engine_options_default(&options);
  options.model.fuse = !a->no_fuse;
  options.model.max_batch = (int)a->batch;
  options.model.height = (int)a->height;
  options.model.width = (int)a->width;
  options.kernel_export = a->output;
  const double even[1] = {1.0}; /* one device: no calibration needed */
  options.speeds = devices.count == 1 ? even : NULL;
  result = clrn_engine_create(devices.chosen, devices.count, weights, &options, &engine);
  if (result != CLRN_STATUS_SUCCESS) {
    status = cli_fail(result, "building the model's kernels");
    goto done;
  }
  for (size_t i = 0; i < clrn_engine_device_count(engine); i++) {
    const clrn_context *ctx = clrn_model_context(clrn_engine_model(engine, i));
    clrn_build_stats stats;
    clrn_context_build_stats(ctx, &stats);
    if (cli_verbosity > 0)
      printf("wrote %zu kernel programs of %s for %s (profile %s) to %s\n",
             stats.compiled + stats.cache_hits, clrn_arch_name(clrn_weights_arch(weights)),
             clrn_context_device(ctx)->name, clrn_context_profile_name(ctx), a->output);
  }
done:
  clrn_engine_release(engine);
  clrn_weights_close(weights);
  cli_devices_free(&devices);
  return status;
}

int cmd_kernels(int argc, char **argv) {
  cli_install_log();
  if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    print_help();
    return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
  }
  if (strcmp(argv[1], "export") != 0)
    return cli_usage_error("kernels", "unknown subcommand '%s' (only 'export')", argv[1]);
  export_args a;
  int status = parse(argc - 1, argv + 1, &a);
  return status == CLI_CONTINUE ? export_kernels(&a) : status;
}
