/* The progress of a dataset run on stderr: inputs done of all, images per second and
 * the time left. On a terminal one line is rewritten in place (\r) a few times a
 * second; otherwise (a log file, a pipe) a line is printed every 10 seconds
 * (CLRN_PROGRESS_SECONDS changes that). A summary line ends the run. Nothing with -q. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "dataset.h"

void cli_progress_start(cli_progress *p, size_t total) {
  const char *every = getenv("CLRN_PROGRESS_SECONDS");
  *p = (cli_progress){.total = total,
                      .start = cli_now(),
                      .tty = isatty(fileno(stderr)),
                      .quiet = cli_verbosity <= 0};
  p->last = p->start;
  p->interval = p->tty ? 0.25 : 10.0;
  if (every && *every && !p->tty)
    p->interval = atof(every);
}

static void show(cli_progress *p, double now) {
  double seconds = now - p->start;
  double rate = seconds > 0 ? (double)p->done / seconds : 0;
  double left = rate > 0 ? (double)(p->total - p->done) / rate : 0;
  fprintf(stderr, "%s%zu/%zu images, %.1f images/s, ETA %d:%02d:%02d%s%s", p->tty ? "\r" : "",
          p->done, p->total, rate, (int)(left / 3600), (int)(left / 60) % 60, (int)left % 60,
          p->failed ? ", some failed" : "", p->tty ? "\033[K" : "\n");
  fflush(stderr);
  p->shown = true;
  p->last = now;
}

void cli_progress_add(cli_progress *p, size_t done, size_t failed) {
  p->done += done;
  p->failed += failed;
  double now = cli_now();
  if (!p->quiet && now - p->last >= p->interval)
    show(p, now);
}

void cli_progress_clear(cli_progress *p) {
  if (p->tty && p->shown && !p->quiet)
    fputs("\r\033[K", stderr);
  p->shown = false;
}

void cli_progress_end(cli_progress *p) {
  if (p->quiet)
    return;
  double seconds = cli_now() - p->start;
  cli_progress_clear(p);
  fprintf(stderr, "clresnet: %zu images in %.1f s (%.1f images/s)", p->done, seconds,
          seconds > 0 ? (double)p->done / seconds : 0.0);
  if (p->failed)
    fprintf(stderr, ", %zu failed", p->failed);
  fputc('\n', stderr);
}
