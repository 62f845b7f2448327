/* Chrome trace-event output (opens in Perfetto or chrome://tracing): one complete
 * event ("ph": "X") per kernel and per transfer, timed by OpenCL profiling, one
 * process per device and one thread (track) per device queue. Device clocks of
 * different platforms are unrelated, so each device's earliest queued time is
 * aligned with the host time at which the run began. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const char *queue_names[] = {"main queue", "downsample queue", "transfer queue"};

static void add_metadata(cJSON *events, const char *what, int pid, int tid, const char *name) {
  cJSON *e = cJSON_CreateObject();
  cJSON_AddStringToObject(e, "name", what);
  cJSON_AddStringToObject(e, "ph", "M");
  cJSON_AddNumberToObject(e, "pid", pid);
  cJSON_AddNumberToObject(e, "tid", tid);
  cJSON *args = cJSON_AddObjectToObject(e, "args");
  cJSON_AddStringToObject(args, "name", name);
  cJSON_AddItemToArray(events, e);
}

static void add_device(cJSON *events, const clrn_model *model, int pid, double host_start_us) {
  const clrn_device_info *device = clrn_context_device(clrn_model_context(model));
  const clrn_trace_record *records = NULL;
  size_t count = 0;
  clrn_model_trace(model, &records, &count);
  char process[400];
  snprintf(process, sizeof process, "device %d: %s (%s)", pid, device->name, device->platform_name);
  add_metadata(events, "process_name", pid, 0, process);
  for (int q = 0; q < 3; q++)
    add_metadata(events, "thread_name", pid, q, queue_names[q]);
  uint64_t base = 0;
  for (size_t i = 0; i < count; i++)
    if (records[i].queued_ns && (base == 0 || records[i].queued_ns < base))
      base = records[i].queued_ns;
  for (size_t i = 0; i < count; i++) {
    const clrn_trace_record *r = &records[i];
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", r->name);
    cJSON_AddStringToObject(e, "cat", r->kernel);
    cJSON_AddStringToObject(e, "ph", "X");
    cJSON_AddNumberToObject(e, "pid", pid);
    cJSON_AddNumberToObject(e, "tid", r->queue < 3 ? r->queue : 2);
    cJSON_AddNumberToObject(e, "ts", host_start_us + (double)(r->start_ns - base) / 1000.0);
    cJSON_AddNumberToObject(e, "dur", (double)(r->end_ns - r->start_ns) / 1000.0);
    cJSON *args = cJSON_AddObjectToObject(e, "args");
    cJSON_AddStringToObject(args, "kernel", r->kernel);
    cJSON_AddStringToObject(args, "shape", r->shape);
    cJSON_AddNumberToObject(args, "chunk", r->chunk);
    cJSON_AddNumberToObject(args, "batch", r->batch);
    if (r->macs > 0)
      cJSON_AddNumberToObject(args, "gflop", 2.0 * r->macs / 1e9);
    if (r->bytes > 0)
      cJSON_AddNumberToObject(args, "bytes", (double)r->bytes);
    cJSON_AddItemToArray(events, e);
  }
}

int cli_write_trace(const char *path, const clrn_engine *engine, double host_start_us) {
  cJSON *root = cJSON_CreateObject();
  cJSON *events = cJSON_AddArrayToObject(root, "traceEvents");
  cJSON_AddStringToObject(root, "displayTimeUnit", "ms");
  for (size_t i = 0; i < clrn_engine_device_count(engine); i++)
    add_device(events, clrn_engine_model(engine, i), (int)i, host_start_us);
  char *text = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  if (!text) {
    cli_error("%s: out of memory", path);
    return CLI_EXIT_FAILURE;
  }
  char temp[4200];
  FILE *file = NULL;
  fflush(stdout); /* a trace on /dev/stdout comes after what was printed */
  clrn_status status = clrn_atomic_open(path, temp, sizeof temp, &file);
  if (status == CLRN_STATUS_SUCCESS) {
    fputs(text, file);
    fputc('\n', file);
    status = clrn_atomic_commit(file, temp, path);
  }
  free(text);
  return status == CLRN_STATUS_SUCCESS ? CLI_EXIT_OK : cli_fail(status, "writing the trace");
}
