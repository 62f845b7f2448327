/* `clresnet bench`: inference speed on synthetic input, with an optional per-layer
 * profile and a Chrome trace. With several devices it also measures each device
 * alone, so the aggregate can be compared with the sum of their own speeds. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "checks.h"
#include "session.h"
#include "stats.h"

typedef struct bench_args {
  cli_session_args common; /* -w, -m, -d, -b, --json, --no-fuse, --trace */
  long iterations, warmup, height, width, threads;
  double duration; /* -t SECONDS; 0: run -n batches */
  bool iterations_given, profile;
} bench_args;

/* The timed batches of one measurement, and the first batch bench ran. */
typedef struct timing {
  double *samples; /* seconds per batch, room for bench_args.iterations */
  cli_stats stats;
  double first; /* seconds of the very first batch (cold), < 0 until it ran */
} timing;

enum { OPT_WARMUP = CLI_OPTION_OWN, OPT_PROFILE, OPT_THREADS };

/* What --profile costs, measured on ResNet-18 (README, `clresnet bench`). A printf
 * format: "%%" is one '%'. */
#define PROFILE_NOTE                                                                               \
  "--profile times every kernel with OpenCL events, which slows the run (ResNet-18 on\n"           \
  "PoCL: 5 to 20%% slower); compare latencies measured without it"

/* bench's own options, and its own help for four shared ones (options.c). */
static const cli_option bench_options[] = {
    {NULL, 'w', NULL, "safetensors, .pth or ONNX weights (default: seeded random weights)"},
    {NULL, 'm', NULL,
     "resnet18, resnet34, resnet50, resnet101, resnet152,\n"
     "resnext50_32x4d, resnext101_32x8d, resnext101_64x4d,\n"
     "wide_resnet50_2, wide_resnet101_2 or keras_resnet50 (required\n"
     "unless -w gives weights)"},
    {NULL, 'b', NULL, "images per batch, 1..4096 (default 8)"},
    {NULL, CLI_OPT_TRACE, NULL, "Chrome trace of the last timed batch (open in ui.perfetto.dev)"},
    {"iterations", 'n', "N",
     "timed batches, 1..100000 (default 10; with -t: at most N,\n"
     "default 100000)"},
    {"time", 't', "SECONDS",
     "duration mode: run timed batches until SECONDS (0.001..86400)\n"
     "have passed, at least one"},
    {"warmup", OPT_WARMUP, "N", "untimed batches first, 0..1000 (default 2)"},
    {"height", 'H', "N", "input height, 1..4096 (default 224)"},
    {"width", 'W', "N", "input width, 1..4096 (default 224)"},
    {"profile", OPT_PROFILE, NULL,
     "per-layer device-time table (OpenCL profiling), with each\n"
     "layer's algorithm and parameters (\"blocked oc16x6 v8 wg4 pf2\"),\n"
     "also in --json; profiling slows the run (see below)"},
    {"threads", OPT_THREADS, "N",
     "threads of a CPU device, 1..4096: sets POCL_MAX_PTHREAD_COUNT\n"
     "before OpenCL loads (PoCL; other drivers: see README)"},
    {NULL, 0, NULL, NULL}};

static void print_help(void);

static int bench_option(int key, const char *value, void *own) {
  bench_args *a = own;
  switch (key) {
  case 'n':
    a->iterations_given = true;
    return cli_int_option("bench", "-n", value, 1, 100000, &a->iterations);
  case 't': {
    char *end;
    a->duration = strtod(value, &end);
    if (end == value || *end || !(a->duration >= 0.001 && a->duration <= 86400))
      return cli_usage_error("bench", "-t: '%s' is not a number of seconds in 0.001..86400", value);
    return CLI_EXIT_OK;
  }
  case OPT_THREADS: {
    int status = cli_int_option("bench", "--threads", value, 1, 4096, &a->threads);
    /* Read by PoCL when the platform loads: before bench makes any OpenCL call. */
    if (status == CLI_EXIT_OK && setenv("POCL_MAX_PTHREAD_COUNT", value, 1) != 0)
      return cli_usage_error("bench", "--threads: cannot set POCL_MAX_PTHREAD_COUNT");
    return status;
  }
  case OPT_WARMUP: return cli_int_option("bench", "--warmup", value, 0, 1000, &a->warmup);
  case 'H': return cli_int_option("bench", "-H", value, 1, 4096, &a->height);
  case 'W': return cli_int_option("bench", "-W", value, 1, 4096, &a->width);
  case OPT_PROFILE: a->profile = true; return CLI_EXIT_OK;
  default: return CLI_EXIT_USAGE;
  }
}

static const cli_command bench_command = {"bench", bench_options, print_help, bench_option};

static void print_help(void) {
  printf(
      "Usage: clresnet bench -m ARCH [-w WEIGHTS] [-b BATCH] [-n ITERS] [-t SECONDS]\n"
      "                      [--warmup N] [-d SPEC] [-H HEIGHT -W WIDTH] [--threads N]\n"
      "                      [--precision MODE] [--json] [--trace FILE] [--profile] [--no-fuse]\n"
      "                      [-v | -q]\n"
      "\n"
      "Runs inference on synthetic input and prints the latency per batch (mean, standard\n"
      "deviation, min, p50 (the median), p90, p99, max), the first (cold) batch's time, host\n"
      "peak RSS and device memory, images per second (from the median), effective GFLOP/s\n"
      "(2 x the model's multiply-adds) and, where\n"
      "the device profile knows the device's peak, the fraction of that nominal peak\n"
      "(compute units x the clock OpenCL reports x FLOP per cycle; CPUs that boost above\n"
      "that clock can exceed 100%%).\n"
      "\n");
  cli_print_options(&bench_command);
  printf("\n"
         "Examples:\n"
         "  clresnet bench -m resnet50\n"
         "  clresnet bench -m resnet18 -b 1 -n 50 --profile\n"
         "  clresnet bench -m resnet50 -t 30 --threads 4\n"
         "  POCL_DEVICES=\"pthread pthread\" clresnet bench -m resnet50 -d all --json\n"
         "\n"
         "Note: " PROFILE_NOTE ".\n"
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
  if (a->duration > 0 && !a->iterations_given) /* -t: -n caps the batches */
    a->iterations = 100000;
  return CLI_CONTINUE;
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

/* Runs one batch by the engine or by one model; its time goes to *seconds, and
 * to t->first when it is the first batch bench runs. */
static clrn_status run_batch(clrn_engine *engine, clrn_model *model, const bench_args *a,
                             const float *input, float *logits, timing *t, double *start,
                             double *seconds) {
  *start = cli_now();
  clrn_status s = model ? clrn_model_run(model, input, (int)a->common.batch, logits, NULL)
                        : clrn_engine_run(engine, input, (int)a->common.batch, logits, NULL);
  *seconds = cli_now() - *start;
  if (t->first < 0)
    t->first = *seconds;
  return s;
}

/* Times batches after warmup ones: -n of them, or with -t as many as fit in its
 * duration (at least one, at most -n). Adds each timed run's per-layer times to
 * tables (one per device) when given. */
static clrn_status time_runs(clrn_engine *engine, clrn_model *model, const bench_args *a,
                             const float *input, float *logits, timing *t, double *last_start_us,
                             layer_table *tables) {
  double start, seconds;
  for (long i = 0; i < a->warmup; i++) {
    clrn_status s = run_batch(engine, model, a, input, logits, t, &start, &seconds);
    if (s != CLRN_STATUS_SUCCESS)
      return s;
  }
  size_t count = 0;
  double end = cli_now() + a->duration;
  while (count < (size_t)a->iterations && (a->duration <= 0 || count == 0 || cli_now() < end)) {
    clrn_status s = run_batch(engine, model, a, input, logits, t, &start, &seconds);
    if (s != CLRN_STATUS_SUCCESS)
      return s;
    t->samples[count++] = seconds;
    if (last_start_us)
      *last_start_us = start * 1e6;
    for (size_t d = 0; tables && d < clrn_engine_device_count(engine); d++)
      table_add_run(&tables[d], clrn_engine_model(engine, d));
  }
  cli_stats_compute(t->samples, count, &t->stats);
  return CLRN_STATUS_SUCCESS;
}

/* The process's peak resident set size in bytes (getrusage: KiB on Linux). */
static double host_peak_rss(void) {
  struct rusage usage;
  return getrusage(RUSAGE_SELF, &usage) == 0 ? 1024.0 * (double)usage.ru_maxrss : 0.0;
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
  double total = 0.0;
  for (size_t i = 0; i < t->count; i++)
    total += t->rows[i].seconds;
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
    cJSON_AddNumberToObject(o, "share", total > 0 ? r->seconds / total : 0.0);
    cJSON_AddItemToArray(array, o);
  }
  return array;
}

/* Device memory of all devices together, in bytes. */
static double device_bytes(const clrn_engine *engine) {
  double bytes = 0.0;
  for (size_t i = 0; i < clrn_engine_device_count(engine); i++)
    bytes += (double)clrn_model_device_bytes(clrn_engine_model(engine, i));
  return bytes;
}

static void print_text(const bench_args *a, clrn_engine *engine, const timing *t, double macs,
                       const double *alone, double peak) {
  size_t n = clrn_engine_device_count(engine);
  const cli_stats *l = &t->stats;
  double ips = a->common.batch / l->median;
  double gflops = 2.0 * macs * ips / 1e9;
  printf("%s %ldx%ld, batch %ld, %zu iterations (%ld warm-up", clrn_arch_name(a->common.arch),
         a->height, a->width, a->common.batch, l->count, a->warmup);
  if (a->duration > 0)
    printf(", -t %g s", a->duration);
  printf(") on %zu device%s%s, %s\n", n, n > 1 ? "s" : "", a->common.no_fuse ? ", unfused" : "",
         clrn_precision_string(a->common.precision));
  printf("  latency per batch: mean %.2f ms, stddev %.2f ms; first batch (cold) %.2f ms\n",
         1e3 * l->mean, 1e3 * l->stddev, 1e3 * t->first);
  printf("  min %.2f ms, p50 (median) %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
         1e3 * l->min, 1e3 * l->median, 1e3 * l->p90, 1e3 * l->p99, 1e3 * l->max);
  printf("  memory: host peak RSS %.1f MiB, device %.1f MiB\n", host_peak_rss() / 1048576.0,
         device_bytes(engine) / 1048576.0);
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
  const cli_stats *l = &t->stats;
  double ips = a->common.batch / l->median;
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "model", clrn_arch_name(a->common.arch));
  cJSON_AddNumberToObject(root, "batch", (double)a->common.batch);
  cJSON_AddNumberToObject(root, "iterations", (double)l->count);
  if (a->duration > 0)
    cJSON_AddNumberToObject(root, "duration_s", a->duration);
  cJSON_AddBoolToObject(root, "profiling", a->profile);
  cJSON_AddNumberToObject(root, "warmup", (double)a->warmup);
  cJSON_AddNumberToObject(root, "height", (double)a->height);
  cJSON_AddNumberToObject(root, "width", (double)a->width);
  cJSON_AddBoolToObject(root, "fused", !a->common.no_fuse);
  cJSON_AddStringToObject(root, "precision", clrn_precision_string(a->common.precision));
  cJSON *devices = cJSON_AddArrayToObject(root, "devices");
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) {
    const clrn_model *m = clrn_engine_model(engine, i);
    const clrn_device_info *d = clrn_context_device(clrn_model_context(m));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddStringToObject(o, "platform", d->platform_name);
    cJSON_AddNumberToObject(o, "compute_units", d->compute_units);
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
  const struct {
    const char *name;
    double value;
  } stats[] = {{"mean", l->mean}, {"stddev", l->stddev}, {"min", l->min}, {"median", l->median},
               {"p50", l->p50},   {"p90", l->p90},       {"p99", l->p99}, {"max", l->max}};
  for (size_t i = 0; i < sizeof stats / sizeof stats[0]; i++)
    cJSON_AddNumberToObject(latency, stats[i].name, 1e3 * stats[i].value);
  cJSON_AddNumberToObject(root, "first_batch_ms", 1e3 * t->first);
  cJSON_AddNumberToObject(root, "host_peak_rss_bytes", host_peak_rss());
  cJSON_AddNumberToObject(root, "device_bytes", device_bytes(engine));
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

/* The --profile note on stderr, as one line. */
static void print_profile_note(void) {
  fputs("clresnet bench: note: ", stderr);
  for (const char *c = PROFILE_NOTE; *c; c++) {
    c += c[0] == '%' && c[1] == '%';
    fputc(*c == '\n' ? ' ' : *c, stderr);
  }
  fputc('\n', stderr);
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
  if (a.profile && cli_verbosity > 0)
    print_profile_note();
  cli_session session;
  float *input = NULL, *logits = NULL;
  double *alone = NULL;
  timing t = {.samples = NULL, .first = -1.0};
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
  t.samples = malloc((size_t)a.iterations * sizeof *t.samples);
  alone = calloc(device_count, sizeof *alone);
  tables = a.profile ? calloc(device_count, sizeof *tables) : NULL;
  if (!input || !logits || !t.samples || !alone || (a.profile && !tables)) {
    cli_error("out of memory");
    status = CLI_EXIT_FAILURE;
    goto done;
  }
  for (size_t i = 0; i < in_floats; i++)
    input[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
  clrn_status s = CLRN_STATUS_SUCCESS;
  for (size_t i = 0; device_count > 1 && i < device_count; i++) {
    s = time_runs(engine, clrn_engine_model(engine, i), &a, input, logits, &t, NULL, NULL);
    if (s != CLRN_STATUS_SUCCESS)
      break;
    alone[i] = a.common.batch / t.stats.median;
  }
  double start_us = 0.0;
  if (s == CLRN_STATUS_SUCCESS)
    s = time_runs(engine, NULL, &a, input, logits, &t, &start_us, tables);
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
  free(t.samples);
  free(alone);
  cli_session_close(&session);
  return status;
}
