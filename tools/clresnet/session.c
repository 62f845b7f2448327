/* The engine set-up that `run` and `bench` share: the devices of -d, the weights of
 * -w (or seeded random ones), the engine options of -b, --no-fuse and --trace, the
 * kernel-compilation progress on stderr and the -v report on devices and memory. */
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

/* Progress state: compiled counts programs that were not in the cache; a device's
 * builds start when the previous device's end (or when the engine creation began). */
static size_t progress_compiled;
static double progress_start;

/* Kernel-compilation progress: a live counter on a terminal, one summary line
 * otherwise, nothing when everything came from the cache. */
static void progress(const clrn_device_info *device, size_t done, size_t total, bool compiled,
                     void *user_data) {
  (void)user_data;
  if (done == 1)
    progress_compiled = 0;
  progress_compiled += compiled;
  if (done == total && progress_compiled == 0)
    progress_start = cli_now();
  if (cli_verbosity <= 0 || progress_compiled == 0)
    return;
  if (isatty(fileno(stderr))) {
    fprintf(stderr, "\rcompiling kernels for %s: %zu/%zu", device->name, done, total);
    if (done == total)
      fputc('\n', stderr);
  } else if (done == total) {
    fprintf(stderr, "clresnet: compiled %zu of %zu kernel programs for %s in %.1f s\n",
            progress_compiled, total, device->name, cli_now() - progress_start);
  }
  if (done == total)
    progress_start = cli_now();
  fflush(stderr);
}

int cli_session_start(cli_session *s, const cli_session_args *a, int height, int width,
                      bool profiling) {
  clrn_engine_options options;
  clrn_engine_options_default(&options);
  options.model.fuse = !a->no_fuse;
  options.model.max_batch = (int)a->batch;
  options.model.height = height;
  options.model.width = width;
  options.profiling = profiling || a->trace != NULL;
  options.progress = progress;
  progress_start = cli_now();
  clrn_status result =
      clrn_engine_create(s->devices.chosen, s->devices.count, s->weights, &options, &s->engine);
  return result == CLRN_STATUS_SUCCESS ? CLI_EXIT_OK : cli_fail(result, "preparing the model");
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
