/* `clresnet bench`: inference speed on synthetic input, with an optional per-layer
 * profile and a Chrome trace. With several devices it also measures each device
 * alone, so the aggregate can be compared with the sum of their own speeds. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "session.h"

typedef struct bench_args {
  cli_session_args common; /* -w, -m, -d, -b, --json, --no-fuse, --trace */
  long iterations, warmup, height, width;
  bool profile;
} bench_args;

typedef struct timing {
  double median, min, max; /* seconds per batch */
} timing;

enum { OPT_WARMUP = CLI_OPTION_OWN, OPT_PROFILE };

/* bench's own options, and its own help for four shared ones (options.c). */
static const cli_option bench_options[] = {
    {NULL, 'w', NULL, "safetensors weights (default: seeded random weights)"},
    {NULL, 'm', NULL,
     "resnet18, resnet34, resnet50, resnet101, resnet152,\n"
     "resnext50_32x4d, resnext101_32x8d, resnext101_64x4d,\n"
     "wide_resnet50_2 or wide_resnet101_2 (required unless -w gives\n"
     "weights)"},
    {NULL, 'b', NULL, "images per batch, 1..4096 (default 8)"},
    {NULL, CLI_OPT_TRACE, NULL, "Chrome trace of the last timed batch (open in ui.perfetto.dev)"},
    {"iterations", 'n', "N", "timed batches, 1..100000 (default 10)"},
    {"warmup", OPT_WARMUP, "N", "untimed batches first, 0..1000 (default 2)"},
    {"height", 'H', "N", "input height, 1..4096 (default 224)"},
    {"width", 'W', "N", "input width, 1..4096 (default 224)"},
    {"profile", OPT_PROFILE, NULL,
     "per-layer device-time table (OpenCL profiling), with each\n"
     "layer's algorithm and parameters (\"blocked oc16x6 v8 wg4 pf2\")"},
    {NULL, 0, NULL, NULL}};

static void print_help(void);

static int bench_option(int key, const char *value, void *own) {
  bench_args *a = own;
  switch (key) {
  case 'n': return cli_int_option("bench", "-n", value, 1, 100000, &a->iterations);
  case OPT_WARMUP: return cli_int_option("bench", "--warmup", value, 0, 1000, &a->warmup);
  case 'H': return cli_int_option("bench", "-H", value, 1, 4096, &a->height);
  case 'W': return cli_int_option("bench", "-W", value, 1, 4096, &a->width);
  case OPT_PROFILE: a->profile = true; return CLI_EXIT_OK;
  default: return CLI_EXIT_USAGE;
  }
}

static const cli_command bench_command = {"bench", bench_options, print_help, bench_option};

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
         "\n");
  cli_print_options(&bench_command);
  printf("\n"
         "Examples:\n"
         "  clresnet bench -m resnet50\n"
         "  clresnet bench -m resnet18 -b 1 -n 50 --profile\n"
         "  POCL_DEVICES=\"pthread pthread\" clresnet bench -m resnet50 -d all --json\n"
         "\n"
         "Exit status: 0 success, 1 runtime failure, 2 usage error.\n");
}

/* Returns CLI_CONTINUE when bench should go on, else its exit status. */
static int parse_args(int argc, char **argv, bench_args *a) {
  memset(a, 0, sizeof *a);
  a->iterations = 10;
  a->warmup = 2;
  a->height = 224;
  a->width = 224;
  int status = cli_parse_options(&bench_command, argc, argv, &a->common, a);
  if (status != CLI_CONTINUE)
    return status;
  if (optind < argc)
    return cli_usage_error("bench", "unexpected argument '%s'", argv[optind]);
  if (!a->common.weights && a->common.arch == CLRN_ARCH_AUTO)
    return cli_usage_error("bench", "give -m ARCH (or -w WEIGHTS)");
  return CLI_CONTINUE;
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
    clrn_status s = model ? clrn_model_run(model, input, (int)a->common.batch, logits, NULL)
                          : clrn_engine_run(engine, input, (int)a->common.batch, logits, NULL);
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
  double ips = a->common.batch / t->median;
  double gflops = 2.0 * macs * ips / 1e9;
  printf("%s %ldx%ld, batch %ld, %ld iterations (%ld warm-up) on %zu device%s%s\n",
         clrn_arch_name(a->common.arch), a->height, a->width, a->common.batch, a->iterations,
         a->warmup, n, n > 1 ? "s" : "", a->common.no_fuse ? ", unfused" : "");
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
           100.0 * clrn_engine_last_shard(engine, i) / a->common.batch);
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
  double ips = a->common.batch / t->median;
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "model", clrn_arch_name(a->common.arch));
  cJSON_AddNumberToObject(root, "batch", (double)a->common.batch);
  cJSON_AddNumberToObject(root, "iterations", (double)a->iterations);
  cJSON_AddNumberToObject(root, "warmup", (double)a->warmup);
  cJSON_AddNumberToObject(root, "height", (double)a->height);
  cJSON_AddNumberToObject(root, "width", (double)a->width);
  cJSON_AddBoolToObject(root, "fused", !a->common.no_fuse);
  cJSON *devices = cJSON_AddArrayToObject(root, "devices");
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) {
    const clrn_model *m = clrn_engine_model(engine, i);
    const clrn_device_info *d = clrn_context_device(clrn_model_context(m));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddStringToObject(o, "platform", d->platform_name);
    cJSON_AddStringToObject(o, "profile", clrn_context_profile_name(clrn_model_context(m)));
    cJSON_AddNumberToObject(o, "share",
                            (double)clrn_engine_last_shard(engine, i) / a->common.batch);
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
  cli_print_json(root);
}

int cmd_bench(int argc, char **argv) {
  bench_args a;
  int status = parse_args(argc, argv, &a);
  if (status != CLI_CONTINUE)
    return status;
  cli_install_log();
  const cli_output trace = {"--trace", a.common.trace};
  if ((status = cli_outputs_check(&trace, 1, a.common.weights, NULL, 0)) != CLI_EXIT_OK)
    return status;
  cli_session session;
  float *input = NULL, *logits = NULL;
  double *samples = NULL, *alone = NULL;
  layer_table *tables = NULL;
  if ((status = cli_session_open(&a.common, &session)) != CLI_EXIT_OK ||
      (status = cli_session_start(&session, &a.common, (int)a.height, (int)a.width, a.profile)) !=
          CLI_EXIT_OK)
    goto done;
  const clrn_weights *weights = session.weights;
  clrn_engine *engine = session.engine;
  size_t device_count = session.devices.count;
  a.common.arch = clrn_weights_arch(weights);
  size_t in_floats = (size_t)a.common.batch * 3 * (size_t)a.height * (size_t)a.width;
  input = malloc(in_floats * sizeof *input);
  logits =
      malloc((size_t)a.common.batch * (size_t)clrn_weights_num_classes(weights) * sizeof *logits);
  samples = malloc((size_t)a.iterations * sizeof *samples);
  alone = calloc(device_count, sizeof *alone);
  tables = a.profile ? calloc(device_count, sizeof *tables) : NULL;
  if (!input || !logits || !samples || !alone || (a.profile && !tables)) {
    cli_error("out of memory");
    status = CLI_EXIT_FAILURE;
    goto done;
  }
  for (size_t i = 0; i < in_floats; i++)
    input[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
  timing t;
  clrn_status s = CLRN_STATUS_SUCCESS;
  for (size_t i = 0; device_count > 1 && i < device_count; i++) {
    s = time_runs(engine, clrn_engine_model(engine, i), &a, input, logits, samples, &t, NULL, NULL);
    if (s != CLRN_STATUS_SUCCESS)
      break;
    alone[i] = a.common.batch / t.median;
  }
  double start_us = 0.0;
  if (s == CLRN_STATUS_SUCCESS)
    s = time_runs(engine, NULL, &a, input, logits, samples, &t, &start_us, tables);
  if (s != CLRN_STATUS_SUCCESS) {
    status = cli_fail(s, "inference");
    goto done;
  }
  double macs =
      clrn_arch_macs(a.common.arch, clrn_weights_num_classes(weights), (int)a.height, (int)a.width);
  double peak = 0.0;
  for (size_t i = 0; i < device_count; i++) {
    double p = peak_gflops(clrn_engine_model(engine, i));
    peak = p > 0 && (peak > 0 || i == 0) ? peak + p : 0.0;
  }
  if (a.common.json)
    print_json(&a, engine, &t, macs, alone, peak, tables);
  else {
    print_text(&a, engine, &t, macs, alone, peak);
    for (size_t i = 0; tables && i < device_count; i++)
      print_table(&tables[i],
                  clrn_context_device(clrn_model_context(clrn_engine_model(engine, i))));
  }
  if (cli_verbosity >= 2)
    cli_session_report(&session);
  if (a.common.trace)
    status = cli_write_trace(a.common.trace, engine, start_us);
done:
  for (size_t i = 0; tables && i < session.devices.count; i++)
    free(tables[i].rows);
  free(tables);
  free(input);
  free(logits);
  free(samples);
  free(alone);
  cli_session_close(&session);
  return status;
}
