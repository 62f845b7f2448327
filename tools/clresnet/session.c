/* The engine set-up that `run` and `bench` share: the devices of -d, the weights of
 * -w (or seeded random ones), the engine options of -b, --no-fuse and --trace, the
 * set-up progress on stderr (kernel programs built, then warm-up runs on a cold
 * start) and the -v report on devices and memory. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "session.h"

int cli_session_open(const cli_session_args *a, cli_session *s) {
  memset(s, 0, sizeof *s);
  int status = cli_select_devices(a->device, &s->devices);
  if (status != CLI_EXIT_OK)
    return status;
  clrn_status result = a->weights ? clrn_weights_open(a->weights, a->arch, &s->weights)
                                  : clrn_weights_random(a->arch, 1000, 1, &s->weights);
  return result == CLRN_STATUS_SUCCESS ? CLI_EXIT_OK : cli_fail(result, "weights");
}

/* Set-up progress. A cold start (some program compiled) shows the work as it goes
 * on a terminal (programs built per device, then warm-up runs, with the elapsed
 * time) on one updating line, and ends with one "set-up" line, the only line when
 * stderr is not a terminal; a warm start prints nothing. */
typedef struct setup_progress {
  double start;    /* when the engine creation began */
  size_t compiled; /* programs compiled (not from the cache), all devices */
  size_t programs; /* programs of all devices */
  bool live;       /* a live line is on the terminal */
} setup_progress;

static setup_progress setup;

static void show(const char *what, const clrn_device_info *device, size_t done, size_t total) {
  if (cli_verbosity <= 0 || setup.compiled == 0 || !isatty(fileno(stderr)))
    return;
  fprintf(stderr, "\rclresnet: %s %s: %zu/%zu, %.1f s\033[K", what, device->name, done, total,
          cli_now() - setup.start);
  fflush(stderr);
  setup.live = true;
}

/* Program builds of one device (clrn_build_progress_fn). */
static void compile_progress(const clrn_device_info *device, size_t done, size_t total,
                             bool compiled, void *user_data) {
  (void)user_data;
  setup.compiled += compiled;
  if (done == total)
    setup.programs += total;
  show("compiling kernels for", device, done, total);
}

/* Warm-up runs (clrn_engine_warm_up()'s callback). */
static void warm_up_progress(const clrn_device_info *device, size_t done, size_t total,
                             bool compiled, void *user_data) {
  (void)compiled;
  (void)user_data;
  show("warm-up runs on", device, done, total);
}

/* An error message starts on a line of its own, not after the live progress. */
static int setup_failed(clrn_status status, const char *what) {
  if (setup.live)
    fputc('\n', stderr);
  return cli_fail(status, what);
}

int cli_session_start(cli_session *s, const cli_session_args *a, int height, int width,
                      bool profiling) {
  clrn_engine_options options;
  clrn_engine_options_default(&options);
  options.model.fuse = !a->no_fuse;
  options.model.precision = a->precision;
  options.model.max_batch = (int)a->batch;
  options.model.height = height;
  options.model.width = width;
  options.profiling = profiling || a->trace != NULL;
  options.progress = compile_progress;
  memset(&setup, 0, sizeof setup);
  setup.start = cli_now();
  clrn_status result =
      clrn_engine_create(s->devices.chosen, s->devices.count, s->weights, &options, &s->engine);
  if (result != CLRN_STATUS_SUCCESS)
    return setup_failed(result, "preparing the model");
  if (setup.compiled == 0) /* warm start: PoCL's cache, filled with ours, is taken as warm */
    return CLI_EXIT_OK;
  /* A cold start: launch every kernel at the sizes of the run now, so that drivers
   * that compile at the first launch (PoCL) do it inside the set-up. */
  double compiled_at = cli_now();
  if (a->images > 0 && (result = clrn_engine_warm_up(s->engine, (int)a->images, warm_up_progress,
                                                     NULL)) != CLRN_STATUS_SUCCESS)
    return setup_failed(result, "warming up the model");
  double end = cli_now();
  char warm[64] = "";
  if (a->images > 0)
    snprintf(warm, sizeof warm, "; warm-up %.1f s", end - compiled_at);
  if (cli_verbosity > 0)
    fprintf(stderr,
            "%sclresnet: set-up %.1f s (compile %.1f s: %zu of %zu kernel programs on %zu "
            "device%s%s)%s\n",
            setup.live ? "\r" : "", end - setup.start, compiled_at - setup.start, setup.compiled,
            setup.programs, s->devices.count, s->devices.count > 1 ? "s" : "", warm,
            setup.live ? "\033[K" : "");
  return CLI_EXIT_OK;
}

void cli_session_report(const cli_session *s) {
  const clrn_engine *engine = s->engine;
  size_t count = clrn_engine_device_count(engine);
  fprintf(stderr, "model %s, %d classes\n", clrn_arch_name(clrn_weights_arch(s->weights)),
          clrn_weights_num_classes(s->weights));
  for (size_t i = 0; i < count; i++) {
    const clrn_model *m = clrn_engine_model(engine, i);
    const clrn_context *ctx = clrn_model_context(m);
    const clrn_device_info *d = clrn_context_device(ctx);
    clrn_build_stats stats;
    clrn_context_build_stats(ctx, &stats);
    fprintf(stderr,
            "device %zu: %s (%s), profile %s: kernel programs %zu compiled, %zu from the "
            "cache in %.3f s; batches of up to %d; peak device memory %.1f MiB\n",
            i, d->name, d->platform_name, clrn_context_profile_name(ctx), stats.compiled,
            stats.cache_hits, stats.compile_seconds, clrn_model_max_batch(m),
            (double)clrn_model_device_bytes(m) / (1024.0 * 1024.0));
  }
  for (size_t i = 0; count > 1 && i < count; i++)
    fprintf(stderr, "device %zu ran %d images\n", i, clrn_engine_last_shard(engine, i));
}

void cli_session_close(cli_session *s) {
  clrn_engine_release(s->engine);
  clrn_weights_close(s->weights);
  cli_devices_free(&s->devices);
  memset(s, 0, sizeof *s);
}
