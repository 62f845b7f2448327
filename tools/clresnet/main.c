/* The clresnet program: dispatches to its commands (devices, run, bench, tune, kernels). */
#include <stdio.h>
#include <string.h>

#include "checks.h"
#include "cli.h"

static void print_help(void) {
  printf("Usage: clresnet <command> [options]\n"
         "\n"
         "Runs torchvision ResNets (18/34/50/101/152) on any OpenCL device.\n"
         "\n"
         "Commands:\n"
         "  devices     list OpenCL devices and the numbers -d accepts\n"
         "  run         classify photos or .npy tensors\n"
         "  bench       measure inference speed on synthetic input\n"
         "  tune        time the convolution choices per layer into the tuning file\n"
         "  kernels     export the kernel sources a model needs, for offline compilers\n"
         "\n"
         "Options:\n"
         "  --list-devices  same as 'clresnet devices'\n"
         "  --version       print the version\n"
         "  -h, --help      show this help ('clresnet <command> --help' for a command's)\n"
         "\n"
         "Examples:\n"
         "  clresnet devices\n"
         "  clresnet run -w resnet50.safetensors data/dog.jpg\n"
         "  clresnet bench -m resnet50 -b 8 -d gpu,cpu\n"
         "\n"
         "Environment: CLRN_DEVICE (default device spec), CLRN_CACHE_DIR, CLRN_KERNEL_DIR,\n"
         "CLRN_PROFILE (run every device with this devices/ profile, e.g. nvidia),\n"
         "CLRN_TUNE (KEY=VALUE,... over the profile), CLRN_TUNING=off (ignore the tuning\n"
         "file of 'clresnet tune'), CLRN_KERNEL_BINARIES (offline-compiled kernels); see\n"
         "README.\n"
         "\n"
         "Exit status: 0 success, 1 runtime or input failure, 2 usage error.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    print_help();
    return CLI_EXIT_USAGE;
  }
  cli_outputs_protect();
  const char *command = argv[1];
  if (strcmp(command, "devices") == 0)
    return cmd_devices(argc - 1, argv + 1);
  if (strcmp(command, "run") == 0)
    return cmd_run(argc - 1, argv + 1);
  if (strcmp(command, "bench") == 0)
    return cmd_bench(argc - 1, argv + 1);
  if (strcmp(command, "kernels") == 0)
    return cmd_kernels(argc - 1, argv + 1);
  if (strcmp(command, "tune") == 0)
    return cmd_tune(argc - 1, argv + 1);
  if (strcmp(command, "--list-devices") == 0)
    return cmd_devices(argc - 1, argv + 1);
  if (strcmp(command, "-h") == 0 || strcmp(command, "--help") == 0 ||
      strcmp(command, "help") == 0) {
    print_help();
    return CLI_EXIT_OK;
  }
  if (strcmp(command, "--version") == 0) {
    printf("clresnet %s\n", clrn_version());
    return CLI_EXIT_OK;
  }
  fprintf(stderr, "clresnet: unknown command '%s' (see 'clresnet --help')\n", command);
  return CLI_EXIT_USAGE;
}
