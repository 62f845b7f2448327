/* `clresnet bench`: inference speed on synthetic input, with an optional per-layer
 * profile and a Chrome trace. With several devices it also measures each device
 * alone, so the aggregate can be compared with the sum of their own speeds. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct bench_args {
  const char *weights, *device, *trace;
  clrn_arch arch;
  long batch, iterations, warmup, height, width;
  bool json, profile, no_fuse;
} bench_args;

typedef struct timing {
  double median, min, max; /* seconds per batch */
} timing;

static void print_help(void) {
  printf("Usage: clresnet bench -m ARCH [-w WEIGHTS] [-b BATCH] [-n ITERS] [--warmup N]\n"
         "                      [-d SPEC] [-H HEIGHT -W WIDTH] [--json] [--trace FILE]\n"
         "                      [--profile] [--no-fuse] [-v | -q]\n"
         "\n"
         "Runs inference on synthetic input and prints the median, min and max latency per\n"
         "batch, images per second, effective GFLOP/s (2 x the model's multiply-adds) and, where\n"
         "the device profile knows the device's peak, the fraction of that nominal peak\n"
         "(compute units x the clock OpenCL reports x FLOP per cycle; CPUs that boost above\n"
         "that clock can exceed 100%%).\n"
         "\n"
         "Options:\n"
         "  -m, --model ARCH     resnet18, resnet34, resnet50, resnet101 or resnet152 (required\n"
         "                       unless -w gives weights)\n"
         "  -w, --weights FILE   safetensors weights (default: seeded random weights)\n"
         "  -b, --batch N        images per batch, 1..4096 (default 8)\n"
         "  -n, --iterations N   timed batches, 1..100000 (default 10)\n"
         "      --warmup N       untimed batches first, 0..1000 (default 2)\n"
         "  -d, --device SPEC    device(s) (env: CLRN_DEVICE; default: first GPU, else first\n"
         "                       device); several devices split each batch by measured speed\n"
         "      --list-devices   list devices and exit\n"
         "  -H, --height N       input height, 1..4096 (default 224)\n"
         "  -W, --width N        input width, 1..4096 (default 224)\n"
         "      --json           print one JSON object\n"
         "      --profile        per-layer device-time table (OpenCL profiling), with each\n"
         "                       layer's algorithm and parameters (\"blocked oc16x6 v8 wg4 pf2\")\n"
         "      --trace FILE     Chrome trace of the last timed batch (open in ui.perfetto.dev)\n"
         "      --no-fuse        keep BatchNorm, ReLU and add as separate kernels\n"
         "  -v, --verbose        more detail on stderr (-vv: every kernel launch)\n"
         "  -q, --quiet          print only results and errors\n"
         "  -h, --help           show this help\n"
         "\n"
         "Examples:\n"
         "  clresnet bench -m resnet50\n"
         "  clresnet bench -m resnet18 -b 1 -n 50 --profile\n"
         "  POCL_DEVICES=\"pthread pthread\" clresnet bench -m resnet50 -d all --json\n"
         "\n"
         "Exit status: 0 success, 1 runtime failure, 2 usage error.\n");
}

static int parse_args(int argc, char **argv, bench_args *a) {
  enum { OPT_WARMUP = 1000, OPT_JSON, OPT_PROFILE, OPT_TRACE, OPT_NO_FUSE, OPT_LIST };
  static const struct option options[] = {{"model", required_argument, NULL, 'm'},
                                          {"weights", required_argument, NULL, 'w'},
                                          {"batch", required_argument, NULL, 'b'},
                                          {"iterations", required_argument, NULL, 'n'},
                                          {"warmup", required_argument, NULL, OPT_WARMUP},
                                          {"device", required_argument, NULL, 'd'},
                                          {"height", required_argument, NULL, 'H'},
                                          {"width", required_argument, NULL, 'W'},
                                          {"json", no_argument, NULL, OPT_JSON},
                                          {"profile", no_argument, NULL, OPT_PROFILE},
                                          {"trace", required_argument, NULL, OPT_TRACE},
                                          {"no-fuse", no_argument, NULL, OPT_NO_FUSE},
                                          {"list-devices", no_argument, NULL, OPT_LIST},
                                          {"verbose", no_argument, NULL, 'v'},
                                          {"quiet", no_argument, NULL, 'q'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  memset(a, 0, sizeof *a);
  a->batch = 8;
  a->iterations = 10;
  a->warmup = 2;
  a->height = 224;
  a->width = 224;
  opterr = 0;
  optind = 1;
  int status = CLI_EXIT_OK;
  for (int c; status == CLI_EXIT_OK &&
              (c = getopt_long(argc, argv, ":m:w:b:n:d:H:W:vqh", options, NULL)) != -1;) {
    switch (c) {
    case 'm':
      if (clrn_arch_parse(optarg, &a->arch) != CLRN_STATUS_SUCCESS)
        status = cli_usage_error("bench", "-m: %s", clrn_last_error());
      break;
    case 'w': a->weights = optarg; break;
    case 'b': status = cli_int_option("bench", "-b", optarg, 1, 4096, &a->batch); break;
    case 'n': status = cli_int_option("bench", "-n", optarg, 1, 100000, &a->iterations); break;
    case OPT_WARMUP:
      status = cli_int_option("bench", "--warmup", optarg, 0, 1000, &a->warmup);
      break;
    case 'd': a->device = optarg; break;
    case 'H': status = cli_int_option("bench", "-H", optarg, 1, 4096, &a->height); break;
    case 'W': status = cli_int_option("bench", "-W", optarg, 1, 4096, &a->width); break;
    case OPT_JSON: a->json = true; break;
    case OPT_PROFILE: a->profile = true; break;
    case OPT_TRACE: a->trace = optarg; break;
    case OPT_NO_FUSE: a->no_fuse = true; break;
    case OPT_LIST: return -1;
    case 'h': print_help(); return -2;
    default: status = cli_common_option("bench", c, argv); break;
    }
  }
  if (status != CLI_EXIT_OK)
    return status;
  if (optind < argc)
    return cli_usage_error("bench", "unexpected argument '%s'", argv[optind]);
  if (!a->weights && a->arch == CLRN_ARCH_AUTO)
    return cli_usage_error("bench", "give -m ARCH (or -w WEIGHTS)");
  return CLI_EXIT_OK;
}

static int compare_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

/* Per-layer device time summed over the timed runs (the model keeps only the last
 * run's trace, so bench accumulates it run by run). */
typedef struct layer_row {
  const char *name, *kernel, *choice; /* choice: the plan's algorithm and parameters */
  char shape[48];
  double seconds, macs;
} layer_row;

typedef struct layer_table {
  layer_row *rows;
  size_t count;
  int runs;
} layer_table;

static void table_add_run(layer_table *t, const clrn_model *model);

/* Times iterations batches after warmup ones, by the engine or by one model; adds
 * each timed run's per-layer times to tables (one per device) when given. */
static clrn_status time_runs(clrn_engine *engine, clrn_model *model, const bench_args *a,
                             const float *input, float *logits, double *samples, timing *t,
                             double *last_start_us, layer_table *tables) {
  for (long i = 0; i < a->warmup + a->iterations; i++) {
    double start = cli_now();
    clrn_status s = model ? clrn_model_run(model, input, (int)a->batch, logits, NULL)
                          : clrn_engine_run(engine, input, (int)a->batch, logits, NULL);
    if (s != CLRN_STATUS_SUCCESS)
      return s;
    if (i < a->warmup)
      continue;
    samples[i - a->warmup] = cli_now() - start;
    if (last_start_us)
      *last_start_us = start * 1e6;
    for (size_t d = 0; tables && d < clrn_engine_device_count(engine); d++)
      table_add_run(&tables[d], clrn_engine_model(engine, d));
  }
  qsort(samples, (size_t)a->iterations, sizeof *samples, compare_double);
  long n = a->iterations;
  t->min = samples[0];
  t->max = samples[n - 1];
  t->median = n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
  return CLRN_STATUS_SUCCESS;
}

/* Peak GFLOP/s from the profile's FLOP per cycle per compute unit, or 0. */
static double peak_gflops(const clrn_model *model) {
  const clrn_context *ctx = clrn_model_context(model);
  const clrn_device_info *d = clrn_context_device(ctx);
  long per_cycle = clrn_context_tuning(ctx, "PEAK_FLOP_PER_CYCLE_PER_CU", 0);
  return (double)per_cycle * d->compute_units * d->max_clock_mhz / 1000.0;
}

static void table_add_run(layer_table *t, const clrn_model *model) {
  const clrn_trace_record *r = NULL;
  size_t count = 0;
  clrn_model_trace(model, &r, &count);
  if (!t->rows) {
    t->rows = calloc(count ? count : 1, sizeof *t->rows);
    t->count = t->rows ? count : 0;
  }
  for (size_t i = 0; i < count && i < t->count; i++) {
    t->rows[i].name = r[i].name;
    t->rows[i].kernel = r[i].kernel;
    t->rows[i].choice = r[i].choice;
    snprintf(t->rows[i].shape, sizeof t->rows[i].shape, "%s", r[i].shape);
    t->rows[i].seconds += (double)(r[i].end_ns - r[i].start_ns) * 1e-9;
    t->rows[i].macs += r[i].macs;
  }
  t->runs++;
}

static void print_table(const layer_table *t, const clrn_device_info *d) {
  double total = 0.0;
  for (size_t i = 0; i < t->count; i++)
    total += t->rows[i].seconds;
  printf("\nper-layer device time on %s (average of %d batches)\n", d->name, t->runs);
  printf("%-26s %-16s %-26s %-18s %10s %9s %7s\n", "layer", "kernel", "choice", "shape",
         "time (ms)", "GFLOP/s", "share");
  for (size_t i = 0; i < t->count; i++) {
    const layer_row *r = &t->rows[i];
    double ms = 1000.0 * r->seconds / t->runs;
    double gflops = r->seconds > 0 ? 2.0 * r->macs / r->seconds / 1e9 : 0.0;
    printf("%-26s %-16s %-26s %-18s %10.3f %9.1f %6.1f%%\n", r->name, r->kernel,
           r->choice && *r->choice ? r->choice : "-", r->shape, ms, gflops,
           total > 0 ? 100.0 * r->seconds / total : 0.0);
  }
  printf("%-26s %-16s %-26s %-18s %10.3f\n", "total", "", "", "", 1000.0 * total / t->runs);
}

static cJSON *table_json(const layer_table *t) {
  cJSON *array = cJSON_CreateArray();
  for (size_t i = 0; i < t->count; i++) {
    const layer_row *r = &t->rows[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "layer", r->name);
    cJSON_AddStringToObject(o, "kernel", r->kernel);
    cJSON_AddStringToObject(o, "choice", r->choice ? r->choice : "");
    cJSON_AddStringToObject(o, "shape", r->shape);
    cJSON_AddNumberToObject(o, "ms", 1000.0 * r->seconds / t->runs);
    cJSON_AddNumberToObject(o, "gflops", r->seconds > 0 ? 2.0 * r->macs / r->seconds / 1e9 : 0);
    cJSON_AddItemToArray(array, o);
  }
  return array;
}

static void print_text(const bench_args *a, clrn_engine *engine, const timing *t, double macs,
                       const double *alone, double peak) {
  size_t n = clrn_engine_device_count(engine);
  double ips = a->batch / t->median;
  double gflops = 2.0 * macs * ips / 1e9;
  printf("%s %ldx%ld, batch %ld, %ld iterations (%ld warm-up) on %zu device%s%s\n",
         clrn_arch_name(a->arch), a->height, a->width, a->batch, a->iterations, a->warmup, n,
         n > 1 ? "s" : "", a->no_fuse ? ", unfused" : "");
  printf("  latency per batch: median %.2f ms, min %.2f ms, max %.2f ms\n", 1e3 * t->median,
         1e3 * t->min, 1e3 * t->max);
  printf("  throughput: %.2f images/s, %.1f GFLOP/s effective (%.3f GFLOP per image)", ips, gflops,
         2.0 * macs / 1e9);
  if (peak > 0)
    printf(", %.1f%% of the %.0f GFLOP/s nominal peak", 100.0 * gflops / peak, peak);
  printf("\n");
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) {
    const clrn_device_info *d =
        clrn_context_device(clrn_model_context(clrn_engine_model(engine, i)));
    printf("  device %zu: %s (%s): share %.1f%%", i, d->name, d->platform_name,
           100.0 * clrn_engine_last_shard(engine, i) / a->batch);
    if (n > 1) {
      printf(", alone %.2f images/s", alone[i]);
      sum += alone[i];
    }
    printf("\n");
  }
  if (n > 1)
    printf("  aggregate %.2f images/s / sum of devices alone %.2f images/s = %.3f\n", ips, sum,
           ips / sum);
}

static void print_json(const bench_args *a, clrn_engine *engine, const timing *t, double macs,
                       const double *alone, double peak, const layer_table *tables) {
  size_t n = clrn_engine_device_count(engine);
  double ips = a->batch / t->median;
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "model", clrn_arch_name(a->arch));
  cJSON_AddNumberToObject(root, "batch", (double)a->batch);
  cJSON_AddNumberToObject(root, "iterations", (double)a->iterations);
  cJSON_AddNumberToObject(root, "warmup", (double)a->warmup);
  cJSON_AddNumberToObject(root, "height", (double)a->height);
  cJSON_AddNumberToObject(root, "width", (double)a->width);
  cJSON_AddBoolToObject(root, "fused", !a->no_fuse);
  cJSON *devices = cJSON_AddArrayToObject(root, "devices");
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) {
    const clrn_model *m = clrn_engine_model(engine, i);
    const clrn_device_info *d = clrn_context_device(clrn_model_context(m));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddStringToObject(o, "platform", d->platform_name);
    cJSON_AddStringToObject(o, "profile", d->profile);
    cJSON_AddNumberToObject(o, "share", (double)clrn_engine_last_shard(engine, i) / a->batch);
    cJSON_AddNumberToObject(o, "images", clrn_engine_last_shard(engine, i));
    cJSON_AddNumberToObject(o, "images_per_second", n > 1 ? alone[i] : ips);
    cJSON_AddNumberToObject(o, "device_bytes", (double)clrn_model_device_bytes(m));
    if (tables)
      cJSON_AddItemToObject(o, "layers", table_json(&tables[i]));
    cJSON_AddItemToArray(devices, o);
    sum += n > 1 ? alone[i] : ips;
  }
  cJSON *latency = cJSON_AddObjectToObject(root, "latency_ms");
  cJSON_AddNumberToObject(latency, "median", 1e3 * t->median);
  cJSON_AddNumberToObject(latency, "min", 1e3 * t->min);
  cJSON_AddNumberToObject(latency, "max", 1e3 * t->max);
  cJSON_AddNumberToObject(root, "images_per_second", ips);
  cJSON_AddNumberToObject(root, "gflop_per_image", 2.0 * macs / 1e9);
  cJSON_AddNumberToObject(root, "gflops", 2.0 * macs * ips / 1e9);
  if (peak > 0) {
    cJSON_AddNumberToObject(root, "peak_gflops", peak);
    cJSON_AddNumberToObject(root, "peak_fraction", 2.0 * macs * ips / 1e9 / peak);
  }
  if (n > 1)
    cJSON_AddNumberToObject(root, "aggregate_to_sum", ips / sum);
  char *text = cJSON_Print(root);
  if (text)
    printf("%s\n", text);
  free(text);
  cJSON_Delete(root);
}

int cmd_bench(int argc, char **argv) {
  bench_args a;
  int status = parse_args(argc, argv, &a);
  if (status == -1)
    return cmd_devices(1, argv);
  if (status == -2)
    return CLI_EXIT_OK;
  if (status != CLI_EXIT_OK)
    return status;
  cli_install_log();
  if (a.trace && clrn_output_check(a.trace) != CLRN_STATUS_SUCCESS)
    return cli_fail(CLRN_STATUS_IO_ERROR, "--trace");
  cli_devices devices;
  if ((status = cli_select_devices(a.device, &devices)) != CLI_EXIT_OK)
    return status;
  clrn_weights *weights = NULL;
  clrn_engine *engine = NULL;
  float *input = NULL, *logits = NULL;
  double *samples = NULL, *alone = NULL;
  layer_table *tables = NULL;
  clrn_status s = a.weights ? clrn_weights_open(a.weights, a.arch, &weights)
                            : clrn_weights_random(a.arch, 1000, 1, &weights);
  if (s != CLRN_STATUS_SUCCESS) {
    status = cli_fail(s, "weights");
    goto done;
  }
  a.arch = clrn_weights_arch(weights);
  clrn_engine_options options;
  clrn_engine_options_default(&options);
  options.model.fuse = !a.no_fuse;
  options.model.max_batch = (int)a.batch;
  options.model.height = (int)a.height;
  options.model.width = (int)a.width;
  options.profiling = a.profile || a.trace;
  options.progress = cli_progress;
  cli_progress_begin();
  s = clrn_engine_create(devices.chosen, devices.count, weights, &options, &engine);
  if (s != CLRN_STATUS_SUCCESS) {
    status = cli_fail(s, "preparing the model");
    goto done;
  }
  size_t in_floats = (size_t)a.batch * 3 * (size_t)a.height * (size_t)a.width;
  input = malloc(in_floats * sizeof *input);
  logits = malloc((size_t)a.batch * (size_t)clrn_weights_num_classes(weights) * sizeof *logits);
  samples = malloc((size_t)a.iterations * sizeof *samples);
  alone = calloc(devices.count, sizeof *alone);
  tables = a.profile ? calloc(devices.count, sizeof *tables) : NULL;
  if (!input || !logits || !samples || !alone || (a.profile && !tables)) {
    cli_error("out of memory");
    status = CLI_EXIT_FAILURE;
    goto done;
  }
  for (size_t i = 0; i < in_floats; i++)
    input[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
  timing t;
  for (size_t i = 0; devices.count > 1 && i < devices.count; i++) {
    s = time_runs(engine, clrn_engine_model(engine, i), &a, input, logits, samples, &t, NULL, NULL);
    if (s != CLRN_STATUS_SUCCESS)
      break;
    alone[i] = a.batch / t.median;
  }
  double start_us = 0.0;
  if (s == CLRN_STATUS_SUCCESS)
    s = time_runs(engine, NULL, &a, input, logits, samples, &t, &start_us, tables);
  if (s != CLRN_STATUS_SUCCESS) {
    status = cli_fail(s, "inference");
    goto done;
  }
  double macs =
      clrn_arch_macs(a.arch, clrn_weights_num_classes(weights), (int)a.height, (int)a.width);
  double peak = 0.0;
  for (size_t i = 0; i < devices.count; i++) {
    double p = peak_gflops(clrn_engine_model(engine, i));
    peak = p > 0 && (peak > 0 || i == 0) ? peak + p : 0.0;
  }
  if (a.json)
    print_json(&a, engine, &t, macs, alone, peak, tables);
  else {
    print_text(&a, engine, &t, macs, alone, peak);
    for (size_t i = 0; tables && i < devices.count; i++)
      print_table(&tables[i],
                  clrn_context_device(clrn_model_context(clrn_engine_model(engine, i))));
  }
  if (cli_verbosity >= 2)
    cli_report_devices(engine);
  if (a.trace)
    status = cli_write_trace(a.trace, engine, start_us);
done:
  for (size_t i = 0; tables && i < devices.count; i++)
    free(tables[i].rows);
  free(tables);
  free(input);
  free(logits);
  free(samples);
  free(alone);
  clrn_engine_release(engine);
  clrn_weights_close(weights);
  cli_devices_free(&devices);
  return status;
}
