/* The event-driven scheduler (see exec.h). */
#include "sched/exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/error.h"
#include "base/half.h"
#include "ops/ops_internal.h"

#define QUEUES 3
#define TRANSFER_QUEUE 2
#define IO_BUFFERS 6 /* input, logits, probabilities: two each */

typedef struct queued_event {
  cl_event event;
  int queue;
} queued_event;

/* Hazard state of one buffer: its last writer and its latest reader per queue
 * (in-order queues make earlier readers of the same queue implied). */
typedef struct buffer_track {
  queued_event writer;
  cl_event readers[QUEUES];
} buffer_track;

typedef struct pending_record {
  clrn_trace_record record;
  cl_event event;
  cl_event first; /* the step's first launch when it took several, else NULL */
} pending_record;

struct clrn_exec {
  clrn_context *ctx;
  const clrn_plan *plan;
  const clrn_step_op *ops; /* the plan's op objects on this device, one per step */
  int max_batch;
  int queue_index[QUEUES]; /* context queue used for main, branch, transfers */
  cl_command_queue queues[QUEUES];
  size_t buffer_count;
  cl_mem *buffers;                     /* plan slots, then input x2, logits x2, probabilities x2 */
  cl_mem workspaces[CLRN_PLAN_QUEUES]; /* padded inputs of each compute queue's convolutions */
  buffer_track *tracks;
  size_t bytes;
  bool profiling;
  bool half;            /* activations stored as half (--precision fp16) */
  uint16_t *staging[2]; /* half: the input converted, per input buffer */
  pending_record *pending;
  size_t pending_count, pending_capacity;
  clrn_trace_record *trace;
  size_t trace_count;
  cl_event *downloads;
  size_t download_count, download_capacity;
};

/* A growing list of events to wait for, without duplicates. */
typedef struct wait_list {
  cl_event events[2 * (1 + QUEUES) + 2];
  cl_uint count;
} wait_list;

static void wait_add(wait_list *w, cl_event event, int event_queue, int queue) {
  if (!event || event_queue == queue)
    return;
  for (cl_uint i = 0; i < w->count; i++)
    if (w->events[i] == event)
      return;
  if (w->count < sizeof w->events / sizeof w->events[0])
    w->events[w->count++] = event;
}

static void wait_for_read(wait_list *w, const buffer_track *t, int queue) {
  wait_add(w, t->writer.event, t->writer.queue, queue);
}

static void wait_for_write(wait_list *w, const buffer_track *t, int queue) {
  wait_add(w, t->writer.event, t->writer.queue, queue);
  for (int q = 0; q < QUEUES; q++)
    wait_add(w, t->readers[q], q, queue);
}

static void track_read(buffer_track *t, cl_event event, int queue) {
  clRetainEvent(event);
  if (t->readers[queue])
    clReleaseEvent(t->readers[queue]);
  t->readers[queue] = event;
}

static void track_clear(buffer_track *t) {
  if (t->writer.event)
    clReleaseEvent(t->writer.event);
  for (int q = 0; q < QUEUES; q++)
    if (t->readers[q])
      clReleaseEvent(t->readers[q]);
  memset(t, 0, sizeof *t);
}

static void track_write(buffer_track *t, cl_event event, int queue) {
  track_clear(t);
  clRetainEvent(event);
  t->writer.event = event;
  t->writer.queue = queue;
}

static int buffer_of(const clrn_exec *x, int value, int parity) {
  int slot = x->plan->value_slot[value];
  size_t base = x->plan->slot_count;
  switch (slot) {
  case CLRN_SLOT_INPUT: return (int)base + parity;
  case CLRN_SLOT_LOGITS: return (int)base + 2 + parity;
  case CLRN_SLOT_PROBS: return (int)base + 4 + parity;
  default: return slot;
  }
}

static clrn_tensor tensor_of(const clrn_exec *x, int value, int parity, int n) {
  const clrn_value *v = &x->plan->graph.values[value];
  clrn_tensor t = {x->buffers[buffer_of(x, value, parity)], n, v->c, v->h, v->w};
  return t;
}

/* Keeps the event for the trace when profiling. */
static clrn_status record(clrn_exec *x, cl_event event, const char *name, const char *kernel,
                          const char *choice, int queue, int chunk, int n, double macs,
                          size_t bytes, const clrn_value *shape) {
  if (!x->profiling)
    return CLRN_STATUS_SUCCESS;
  CLRN_TRY(clrn_array_reserve((void **)&x->pending, &x->pending_capacity, x->pending_count + 1,
                              sizeof *x->pending, 256, "trace"));
  pending_record *p = &x->pending[x->pending_count++];
  memset(p, 0, sizeof *p);
  clRetainEvent(event);
  p->event = event;
  p->record = (clrn_trace_record){.name = name,
                                  .kernel = kernel,
                                  .choice = choice,
                                  .queue = queue,
                                  .chunk = chunk,
                                  .batch = n,
                                  .macs = macs * n,
                                  .bytes = bytes};
  snprintf(p->record.shape, sizeof p->record.shape, "%dx%dx%dx%d", n, shape->c, shape->h, shape->w);
  return CLRN_STATUS_SUCCESS;
}

static clrn_status launch(clrn_exec *x, const clrn_step *s, const clrn_step_op *op, int parity,
                          int n, cl_command_queue q, const wait_list *w, cl_event *event) {
  clrn_tensor in = tensor_of(x, s->inputs[0], parity, n);
  clrn_tensor out = tensor_of(x, s->output, parity, n);
  clrn_tensor second = {NULL, 0, 0, 0, 0};
  if (s->inputs[1] >= 0)
    second = tensor_of(x, s->inputs[1], parity, n);
  const cl_event *waits = w->count ? w->events : NULL;
  switch (s->kind) {
  case CLRN_STEP_CONV:
    return clrn_conv2d_launch(op->conv, q, &in, s->inputs[1] >= 0 ? &second : NULL, &out, w->count,
                              waits, event);
  case CLRN_STEP_BATCHNORM:
    return clrn_batchnorm_launch(op->batchnorm, q, &in, &out, w->count, waits, event);
  case CLRN_STEP_RELU:
    return clrn_relu_launch(x->ctx, x->half, q, &in, &out, w->count, waits, event);
  case CLRN_STEP_ADD:
    return clrn_add_launch(x->ctx, x->half, q, &in, &second, &out, s->relu, w->count, waits, event);
  case CLRN_STEP_MAXPOOL: {
    clrn_pool2d_desc pool = clrn_instance_pool(s);
    return clrn_maxpool2d_launch(x->ctx, x->half, q, &pool, &in, &out, w->count, waits, event);
  }
  case CLRN_STEP_AVGPOOL:
    return clrn_adaptive_avgpool2d_launch(x->ctx, x->half, q, &in, &out, w->count, waits, event);
  case CLRN_STEP_LINEAR:
    return clrn_linear_launch(op->linear, q, &in, &out, w->count, waits, event);
  case CLRN_STEP_SOFTMAX: return clrn_softmax_launch(x->ctx, q, &in, &out, w->count, waits, event);
  }
  return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "unknown step kind");
}

static clrn_status enqueue_step(clrn_exec *x, size_t step, int parity, int n, int chunk) {
  const clrn_step *s = &x->plan->steps[step];
  int queue = s->queue < QUEUES ? s->queue : 0;
  wait_list w = {.count = 0};
  int inputs[2] = {-1, -1};
  for (int k = 0; k < 2; k++)
    if (s->inputs[k] >= 0) {
      inputs[k] = buffer_of(x, s->inputs[k], parity);
      wait_for_read(&w, &x->tracks[inputs[k]], queue);
    }
  int output = buffer_of(x, s->output, parity);
  wait_for_write(&w, &x->tracks[output], queue);
  cl_event event = NULL;
  clrn_status status = launch(x, s, &x->ops[step], parity, n, x->queues[queue], &w, &event);
  if (status != CLRN_STATUS_SUCCESS)
    return clrn_fail_prefix(status, "%s", s->name);
  for (int k = 0; k < 2; k++)
    if (inputs[k] >= 0 && inputs[k] != output)
      track_read(&x->tracks[inputs[k]], event, queue);
  track_write(&x->tracks[output], event, queue);
  /* The plan is device-free: which path a linear layer takes is the device's choice. */
  const char *kernel =
      s->kind == CLRN_STEP_LINEAR ? clrn_linear_kernel_name(x->ops[step].linear, n) : s->kernel;
  status = record(x, event, s->name, kernel, s->choice, x->queue_index[queue], chunk, n, s->macs, 0,
                  &x->plan->graph.values[s->output]);
  cl_event first = s->kind == CLRN_STEP_CONV ? clrn_conv2d_first_event(x->ops[step].conv) : NULL;
  if (status == CLRN_STATUS_SUCCESS && x->profiling && first) {
    clRetainEvent(first); /* a convolution of several launches: timed from the first */
    x->pending[x->pending_count - 1].first = first;
  }
  clReleaseEvent(event);
  return status;
}

static clrn_status add_download(clrn_exec *x, cl_event event) {
  CLRN_TRY(clrn_array_reserve((void **)&x->downloads, &x->download_capacity, x->download_count + 1,
                              sizeof *x->downloads, 16, "download list"));
  x->downloads[x->download_count++] = event;
  return CLRN_STATUS_SUCCESS;
}

/* With half storage, converts n images of input into the staging copy of input
 * buffer parity (once the upload that last read it has finished) and points *host
 * at it; else leaves *host as it is. */
static clrn_status stage_input(clrn_exec *x, int parity, int n, void **host,
                               const buffer_track *t) {
  if (!x->half)
    return CLRN_STATUS_SUCCESS;
  if (t->writer.event && t->writer.queue == TRANSFER_QUEUE) {
    cl_int err = clWaitForEvents(1, &t->writer.event);
    if (err != CL_SUCCESS)
      return clrn_fail_cl(err, "waiting for the previous upload of the input");
  }
  size_t count = clrn_plan_value_floats(x->plan, x->plan->graph.input) * (size_t)n;
  clrn_half_from_floats(*host, count, x->staging[parity]);
  *host = x->staging[parity];
  return CLRN_STATUS_SUCCESS;
}

/* Uploads (write) or downloads (read) one chunk between host and a value's buffer.
 * The input is stored as the plan's activations are (half with --precision fp16,
 * converted here); logits and probabilities are always float. */
static clrn_status transfer(clrn_exec *x, bool upload, int value, int parity, int n, int chunk,
                            void *host, const char *name) {
  int b = buffer_of(x, value, parity);
  size_t element = upload ? clrn_plan_element_bytes(x->plan) : sizeof(float);
  size_t bytes = clrn_plan_value_floats(x->plan, value) * (size_t)n * element;
  if (upload)
    CLRN_TRY(stage_input(x, parity, n, &host, &x->tracks[b]));
  wait_list w = {.count = 0};
  if (upload)
    wait_for_write(&w, &x->tracks[b], TRANSFER_QUEUE);
  else
    wait_for_read(&w, &x->tracks[b], TRANSFER_QUEUE);
  cl_event event = NULL;
  cl_command_queue q = x->queues[TRANSFER_QUEUE];
  const cl_event *waits = w.count ? w.events : NULL;
  cl_int err =
      upload
          ? clEnqueueWriteBuffer(q, x->buffers[b], CL_FALSE, 0, bytes, host, w.count, waits, &event)
          : clEnqueueReadBuffer(q, x->buffers[b], CL_FALSE, 0, bytes, host, w.count, waits, &event);
  if (err != CL_SUCCESS)
    return clrn_fail_cl(err, "%s %s (%zu bytes)", upload ? "uploading" : "downloading", name,
                        bytes);
  if (upload)
    track_write(&x->tracks[b], event, TRANSFER_QUEUE);
  else
    track_read(&x->tracks[b], event, TRANSFER_QUEUE);
  clrn_status status =
      record(x, event, name, upload ? "upload" : "download", "", x->queue_index[TRANSFER_QUEUE],
             chunk, n, 0.0, bytes, &x->plan->graph.values[value]);
  if (status == CLRN_STATUS_SUCCESS && !upload)
    return add_download(x, event); /* keeps the creation reference */
  clReleaseEvent(event);
  return status;
}

static void reset_events(clrn_exec *x) {
  for (size_t i = 0; i < x->buffer_count; i++)
    track_clear(&x->tracks[i]);
  for (size_t i = 0; i < x->download_count; i++)
    clReleaseEvent(x->downloads[i]);
  x->download_count = 0;
}

static cl_ulong profile_time(cl_event event, cl_profiling_info what) {
  cl_ulong t = 0;
  if (clGetEventProfilingInfo(event, what, sizeof t, &t, NULL) != CL_SUCCESS)
    return 0;
  return t;
}

static void collect_trace(clrn_exec *x) {
  free(x->trace);
  x->trace = x->pending_count ? malloc(x->pending_count * sizeof *x->trace) : NULL;
  x->trace_count = x->trace ? x->pending_count : 0;
  for (size_t i = 0; i < x->pending_count; i++) {
    pending_record *p = &x->pending[i];
    if (x->trace) {
      x->trace[i] = p->record;
      x->trace[i].queued_ns = profile_time(p->event, CL_PROFILING_COMMAND_QUEUED);
      x->trace[i].start_ns =
          profile_time(p->first ? p->first : p->event, CL_PROFILING_COMMAND_START);
      x->trace[i].end_ns = profile_time(p->event, CL_PROFILING_COMMAND_END);
    }
    clReleaseEvent(p->event);
    if (p->first)
      clReleaseEvent(p->first);
  }
  x->pending_count = 0;
}

static clrn_status run_chunks(clrn_exec *x, const float *input, int batch, float *logits,
                              float *probabilities) {
  const clrn_plan *plan = x->plan;
  size_t in_floats = clrn_plan_value_floats(plan, plan->graph.input);
  size_t out_floats = clrn_plan_value_floats(plan, plan->graph.output);
  int chunk = 0;
  for (int done = 0; done < batch; chunk++) {
    int n = batch - done < x->max_batch ? batch - done : x->max_batch;
    int parity = chunk % 2;
    CLRN_TRY(transfer(x, true, plan->graph.input, parity, n, chunk,
                      (void *)(input + (size_t)done * in_floats), "input"));
    for (size_t i = 0; i < plan->step_count; i++) {
      if (plan->steps[i].kind == CLRN_STEP_SOFTMAX && !probabilities)
        continue;
      CLRN_TRY(enqueue_step(x, i, parity, n, chunk));
    }
    CLRN_TRY(transfer(x, false, plan->graph.output, parity, n, chunk,
                      logits + (size_t)done * out_floats, "logits"));
    if (probabilities)
      CLRN_TRY(transfer(x, false, plan->probs_value, parity, n, chunk,
                        probabilities + (size_t)done * out_floats, "probabilities"));
    done += n;
  }
  cl_int err = clWaitForEvents((cl_uint)x->download_count, x->downloads);
  if (err != CL_SUCCESS)
    return clrn_fail_cl(err, "waiting for the results");
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_exec_run(clrn_exec *x, const float *input, int batch, float *logits,
                          float *probabilities) {
  for (size_t i = 0; i < x->pending_count; i++)
    clReleaseEvent(x->pending[i].event);
  x->pending_count = 0;
  clrn_status status = run_chunks(x, input, batch, logits, probabilities);
  /* Nothing may still be writing into the caller's memory when we return. */
  for (int q = 0; q < QUEUES; q++) {
    cl_int err = clFinish(x->queues[q]);
    if (err != CL_SUCCESS && status == CLRN_STATUS_SUCCESS)
      status = clrn_fail_cl(err, "clFinish");
  }
  reset_events(x);
  collect_trace(x);
  return status;
}

/* Allocates a zero-filled device buffer of bytes and counts it. */
static clrn_status allocate(clrn_exec *x, size_t bytes, cl_mem *buffer) {
  CLRN_TRY(clrn_buffer_create(x->ctx, CL_MEM_READ_WRITE, bytes, NULL, buffer));
  x->bytes += bytes;
  const cl_uchar zero = 0; /* one byte: half buffers may hold an odd number of halves */
  cl_int err =
      clEnqueueFillBuffer(x->queues[0], *buffer, &zero, sizeof zero, 0, bytes, 0, NULL, NULL);
  return err == CL_SUCCESS ? CLRN_STATUS_SUCCESS
                           : clrn_fail_cl(err, "clearing a buffer of %zu bytes", bytes);
}

/* One scratch buffer per compute queue for the padded inputs of its convolutions
 * (they run one after another there), as big as the memory needs say. */
static clrn_status lend_workspaces(clrn_exec *x, const clrn_plan_memory *needs) {
  const clrn_plan *plan = x->plan;
  for (int q = 0; q < CLRN_PLAN_QUEUES; q++) {
    size_t bytes = needs->workspace_bytes[q] * (size_t)x->max_batch;
    if (bytes == 0)
      continue;
    CLRN_TRY(allocate(x, bytes, &x->workspaces[q]));
    for (size_t i = 0; i < plan->step_count; i++)
      if (x->ops[i].conv && plan->steps[i].queue == q)
        CLRN_TRY(clrn_conv2d_set_workspace(x->ops[i].conv, x->workspaces[q], bytes));
  }
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_exec_create(clrn_context *ctx, const clrn_plan *plan, const clrn_step_op *ops,
                             int max_batch, clrn_exec **out) {
  *out = NULL;
  clrn_exec *x = calloc(1, sizeof *x);
  if (!x)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "scheduler");
  x->ctx = ctx;
  x->plan = plan;
  x->ops = ops;
  x->max_batch = max_batch;
  x->profiling = clrn_context_profiling(ctx);
  x->half = clrn_plan_element_bytes(plan) == 2;
  size_t queues = clrn_context_queue_count(ctx);
  for (int q = 0; q < QUEUES; q++) {
    x->queue_index[q] = q < (int)queues ? q : (int)queues - 1;
    x->queues[q] = clrn_context_queue(ctx, (size_t)x->queue_index[q]);
  }
  x->buffer_count = plan->slot_count + IO_BUFFERS;
  x->buffers = calloc(x->buffer_count, sizeof *x->buffers);
  x->tracks = calloc(x->buffer_count, sizeof *x->tracks);
  clrn_status status = CLRN_STATUS_SUCCESS;
  if (!x->buffers || !x->tracks) {
    status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "scheduler");
    goto fail;
  }
  clrn_plan_memory needs;
  clrn_plan_memory_needs(plan, &needs);
  size_t in_floats = clrn_plan_value_floats(plan, plan->graph.input);
  size_t out_floats = clrn_plan_value_floats(plan, plan->graph.output);
  size_t element = clrn_plan_element_bytes(plan);
  for (size_t i = 0; i < x->buffer_count; i++) {
    size_t floats = i < plan->slot_count       ? plan->slot_floats[i]
                    : i < plan->slot_count + 2 ? in_floats
                                               : out_floats;
    size_t bytes = (i < plan->slot_count + 2 ? element : sizeof(float)) * floats;
    CLRN_GOTO(allocate(x, bytes * (size_t)max_batch, &x->buffers[i]), fail, status);
  }
  for (int i = 0; x->half && i < 2; i++)
    if (!(x->staging[i] = malloc(in_floats * (size_t)max_batch * sizeof *x->staging[i]))) {
      status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "half input staging");
      goto fail;
    }
  CLRN_GOTO(lend_workspaces(x, &needs), fail, status);
  CLRN_CL_GOTO(clFinish(x->queues[0]), fail, status, "allocating %zu bytes of buffers", x->bytes);
  *out = x;
  return CLRN_STATUS_SUCCESS;
fail:
  clrn_exec_release(x);
  return status;
}

size_t clrn_exec_buffer_bytes(const clrn_exec *x) { return x->bytes; }

void clrn_exec_trace(const clrn_exec *x, const clrn_trace_record **records, size_t *count) {
  *records = x->trace;
  *count = x->trace_count;
}

void clrn_exec_release(clrn_exec *x) {
  if (!x)
    return;
  for (int q = 0; q < QUEUES; q++)
    if (x->queues[q])
      clFinish(x->queues[q]);
  if (x->tracks)
    reset_events(x);
  for (size_t i = 0; i < x->pending_count; i++)
    clReleaseEvent(x->pending[i].event);
  for (size_t i = 0; x->buffers && i < x->buffer_count; i++)
    if (x->buffers[i])
      clReleaseMemObject(x->buffers[i]);
  free(x->buffers);
  for (int q = 0; q < CLRN_PLAN_QUEUES; q++)
    if (x->workspaces[q])
      clReleaseMemObject(x->workspaces[q]);
  free(x->tracks);
  free(x->staging[0]);
  free(x->staging[1]);
  free(x->pending);
  free(x->trace);
  free(x->downloads);
  free(x);
}
