/* `clresnet devices` (also `clresnet --list-devices`): the table of every OpenCL
 * device with the numbers that -d accepts. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void print_help(void) {
  printf("Usage: clresnet devices [--json] [-v] [-q]\n"
         "\n"
         "Lists every OpenCL device of every platform, with the index and P:D numbers that\n"
         "-d/--device accepts in every command, and the devices/ profile that matched.\n"
         "\n"
         "Options:\n"
         "  --json         print a JSON array instead of the table\n"
         "  -v, --verbose  also print driver versions and extensions\n"
         "  -q, --quiet    print only errors from the library\n"
         "  -h, --help     show this help\n"
         "\n"
         "Device specs for -d (env: CLRN_DEVICE): an index (\"0\"), platform:device (\"1:0\"),\n"
         "a type (cpu, gpu, accelerator, custom), \"all\", a case-insensitive part of a\n"
         "device, vendor or platform name (\"nvidia\", \"pthread\"), or a comma-separated list.\n"
         "An empty -d is an error; an empty CLRN_DEVICE counts as unset. A spec that matches\n"
         "no device is a usage error (exit 2) that lists the devices.\n"
         "\n"
         "Examples:\n"
         "  clresnet devices\n"
         "  clresnet devices --json\n"
         "  POCL_DEVICES=\"pthread pthread\" clresnet devices\n"
         "\n"
         "Exit status: 0 success, 1 no OpenCL platform or a runtime failure, 2 usage error.\n");
}

static void format_memory(unsigned long long bytes, char *out, size_t size) {
  double gib = (double)bytes / (1024.0 * 1024.0 * 1024.0);
  if (gib >= 1.0)
    snprintf(out, size, "%.1f GiB", gib);
  else
    snprintf(out, size, "%.0f MiB", (double)bytes / (1024.0 * 1024.0));
}

/* "OpenCL C 1.2 PoCL" -> "1.2". */
static const char *c_version_number(const clrn_device_info *d, char *out, size_t size) {
  snprintf(out, size, "%u.%u", d->opencl_c_major, d->opencl_c_minor);
  return out;
}

static void print_json(const clrn_device_info *devices, size_t count) {
  cJSON *array = cJSON_CreateArray();
  for (size_t i = 0; i < count; i++) {
    const clrn_device_info *d = &devices[i];
    cJSON *o = cJSON_CreateObject();
    char pd[32], version[32];
    snprintf(pd, sizeof pd, "%u:%u", d->platform_index, d->device_index);
    cJSON_AddNumberToObject(o, "index", (double)d->index);
    cJSON_AddStringToObject(o, "id", pd);
    cJSON_AddStringToObject(o, "type", clrn_device_type_name(d->type));
    cJSON_AddStringToObject(o, "platform", d->platform_name);
    cJSON_AddStringToObject(o, "vendor", d->vendor);
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddStringToObject(o, "driver_version", d->driver_version);
    cJSON_AddStringToObject(o, "opencl_c_version", c_version_number(d, version, sizeof version));
    cJSON_AddNumberToObject(o, "compute_units", d->compute_units);
    cJSON_AddNumberToObject(o, "max_clock_mhz", d->max_clock_mhz);
    cJSON_AddNumberToObject(o, "global_memory_bytes", (double)d->global_mem_bytes);
    cJSON_AddNumberToObject(o, "local_memory_bytes", (double)d->local_mem_bytes);
    cJSON_AddNumberToObject(o, "max_work_group_size", (double)d->max_work_group_size);
    cJSON_AddBoolToObject(o, "fp16", d->fp16);
    cJSON_AddBoolToObject(o, "compiler_available", d->compiler_available);
    cJSON_AddBoolToObject(o, "fp64", d->fp64);
    cJSON_AddStringToObject(o, "profile", d->profile);
    cJSON_AddItemToArray(array, o);
  }
  cli_print_json(array);
}

static void print_table(const clrn_device_info *devices, size_t count, bool verbose) {
  printf("%-3s %-5s %-4s %-28s %-22s %-34s %4s %9s %-8s %-4s %s\n", "#", "P:D", "type", "platform",
         "vendor", "name", "CUs", "memory", "OpenCL C", "fp16", "profile");
  for (size_t i = 0; i < count; i++) {
    const clrn_device_info *d = &devices[i];
    char pd[32], memory[32], version[32], platform[4 * 28 + 4], vendor[4 * 22 + 4],
        name[4 * 34 + 4];
    snprintf(pd, sizeof pd, "%u:%u", d->platform_index, d->device_index);
    format_memory(d->global_mem_bytes, memory, sizeof memory);
    cli_column(d->platform_name, 28, platform, sizeof platform);
    cli_column(d->vendor, 22, vendor, sizeof vendor);
    cli_column(d->name, 34, name, sizeof name);
    printf("%-3zu %-5s %-4s %s %s %s %4u %9s %-8s %-4s %s\n", d->index, pd,
           clrn_device_type_name(d->type), platform, vendor, name, d->compute_units, memory,
           c_version_number(d, version, sizeof version), d->fp16 ? "yes" : "no", d->profile);
    if (verbose) {
      printf("    driver %s, %s, %s, clock %u MHz, local memory %llu KiB, max work-group %zu\n",
             d->driver_version, d->device_version, d->opencl_c_version, d->max_clock_mhz,
             (unsigned long long)(d->local_mem_bytes / 1024), d->max_work_group_size);
      printf("    extensions: %s\n", d->extensions);
    }
  }
}

int cmd_devices(int argc, char **argv) {
  static const struct option options[] = {{"json", no_argument, NULL, 'j'},
                                          {"verbose", no_argument, NULL, 'v'},
                                          {"quiet", no_argument, NULL, 'q'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  bool json = false;
  opterr = 0;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, ":vqh", options, NULL)) != -1;) {
    switch (c) {
    case 'j': json = true; break;
    case 'h': print_help(); return CLI_EXIT_OK;
    default:
      if (cli_common_option("devices", c, argv) != CLI_EXIT_OK)
        return CLI_EXIT_USAGE;
    }
  }
  if (optind < argc)
    return cli_usage_error("devices", "unexpected argument '%s'", argv[optind]);
  cli_install_log();
  clrn_device_info *devices = NULL;
  size_t count = 0;
  clrn_status status = clrn_devices_enumerate(&devices, &count);
  if (status != CLRN_STATUS_SUCCESS) {
    cli_error("%s", clrn_last_error());
    return CLI_EXIT_FAILURE;
  }
  if (json)
    print_json(devices, count);
  else
    print_table(devices, count, cli_verbosity >= 2);
  clrn_devices_free(devices);
  return CLI_EXIT_OK;
}
