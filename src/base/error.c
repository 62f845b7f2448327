/* Status strings, the per-thread error detail, OpenCL error names and the log
 * callback. */
#include "base/error.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

/* The detail text of each thread lives in a slot found through thread-specific
 * storage. Slots are also linked into one global list, so everything the library
 * holds stays reachable from a global (leak checkers that do not scan thread-local
 * storage see no false leaks); a slot is unlinked and freed when its thread ends. */
typedef struct error_slot {
  char *text;
  struct error_slot *prev, *next;
} error_slot;

static tss_t error_key;
static mtx_t slots_mutex;
static error_slot *slots;
static once_flag error_once = ONCE_FLAG_INIT;

static void free_slot(void *value) {
  error_slot *slot = value;
  mtx_lock(&slots_mutex);
  if (slot->prev)
    slot->prev->next = slot->next;
  else
    slots = slot->next;
  if (slot->next)
    slot->next->prev = slot->prev;
  mtx_unlock(&slots_mutex);
  free(slot->text);
  free(slot);
}

static void error_init(void) {
  mtx_init(&slots_mutex, mtx_plain);
  tss_create(&error_key, free_slot);
}

static error_slot *get_slot(bool create) {
  call_once(&error_once, error_init);
  error_slot *slot = tss_get(error_key);
  if (slot || !create)
    return slot;
  slot = calloc(1, sizeof *slot);
  if (!slot)
    return NULL;
  mtx_lock(&slots_mutex);
  slot->next = slots;
  if (slots)
    slots->prev = slot;
  slots = slot;
  mtx_unlock(&slots_mutex);
  tss_set(error_key, slot);
  return slot;
}

static char *get_error_text(void) {
  error_slot *slot = get_slot(false);
  return slot ? slot->text : NULL;
}

/* Takes ownership of text (NULL clears). */
static void set_error_text(char *text) {
  error_slot *slot = get_slot(text != NULL);
  if (!slot) {
    free(text);
    return;
  }
  free(slot->text);
  slot->text = text;
}

static char *vformat(const char *fmt, va_list args) {
  va_list copy;
  va_copy(copy, args);
  int length = vsnprintf(NULL, 0, fmt, copy);
  va_end(copy);
  if (length < 0)
    return NULL;
  char *text = malloc((size_t)length + 1);
  if (text)
    vsnprintf(text, (size_t)length + 1, fmt, args);
  return text;
}

const char *clrn_status_string(clrn_status status) {
  switch (status) {
  case CLRN_STATUS_SUCCESS: return "success";
  case CLRN_STATUS_INVALID_ARGUMENT: return "invalid argument";
  case CLRN_STATUS_OUT_OF_HOST_MEMORY: return "out of host memory";
  case CLRN_STATUS_NO_PLATFORM: return "no OpenCL platform";
  case CLRN_STATUS_NO_MATCHING_DEVICE: return "no matching device";
  case CLRN_STATUS_OPENCL_ERROR: return "OpenCL error";
  case CLRN_STATUS_BUILD_FAILED: return "kernel build failed";
  case CLRN_STATUS_OUT_OF_DEVICE_MEMORY: return "out of device memory or resources";
  case CLRN_STATUS_IO_ERROR: return "I/O error";
  case CLRN_STATUS_INVALID_FORMAT: return "invalid file format";
  case CLRN_STATUS_UNSUPPORTED: return "unsupported";
  case CLRN_STATUS_MISMATCH: return "mismatch";
  }
  return "unknown status";
}

const char *clrn_last_error(void) {
  const char *text = get_error_text();
  return text ? text : "";
}

void clrn_clear_error(void) { set_error_text(NULL); }

bool clrn_error_reserve(void) { return get_slot(true) != NULL; }

clrn_status clrn_fail(clrn_status status, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  set_error_text(vformat(fmt, args));
  va_end(args);
  return status;
}

clrn_status clrn_fail_prefix(clrn_status status, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  char *prefix = vformat(fmt, args);
  va_end(args);
  if (!prefix)
    return status;
  const char *old = clrn_last_error();
  size_t length = strlen(prefix) + 2 + strlen(old) + 1;
  char *text = malloc(length);
  if (text)
    snprintf(text, length, "%s: %s", prefix, old);
  free(prefix);
  if (text)
    set_error_text(text);
  return status;
}

const char *clrn_opencl_error_name(int code) {
  switch (code) {
#define NAME(x)                                                                                    \
  case x: return #x;
    NAME(CL_SUCCESS)
    NAME(CL_DEVICE_NOT_FOUND)
    NAME(CL_DEVICE_NOT_AVAILABLE)
    NAME(CL_COMPILER_NOT_AVAILABLE)
    NAME(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    NAME(CL_OUT_OF_RESOURCES)
    NAME(CL_OUT_OF_HOST_MEMORY)
    NAME(CL_PROFILING_INFO_NOT_AVAILABLE)
    NAME(CL_MEM_COPY_OVERLAP)
    NAME(CL_IMAGE_FORMAT_MISMATCH)
    NAME(CL_IMAGE_FORMAT_NOT_SUPPORTED)
    NAME(CL_BUILD_PROGRAM_FAILURE)
    NAME(CL_MAP_FAILURE)
    NAME(CL_MISALIGNED_SUB_BUFFER_OFFSET)
    NAME(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    NAME(CL_COMPILE_PROGRAM_FAILURE)
    NAME(CL_LINKER_NOT_AVAILABLE)
    NAME(CL_LINK_PROGRAM_FAILURE)
    NAME(CL_DEVICE_PARTITION_FAILED)
    NAME(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
    NAME(CL_INVALID_VALUE)
    NAME(CL_INVALID_DEVICE_TYPE)
    NAME(CL_INVALID_PLATFORM)
    NAME(CL_INVALID_DEVICE)
    NAME(CL_INVALID_CONTEXT)
    NAME(CL_INVALID_QUEUE_PROPERTIES)
    NAME(CL_INVALID_COMMAND_QUEUE)
    NAME(CL_INVALID_HOST_PTR)
    NAME(CL_INVALID_MEM_OBJECT)
    NAME(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
    NAME(CL_INVALID_IMAGE_SIZE)
    NAME(CL_INVALID_SAMPLER)
    NAME(CL_INVALID_BINARY)
    NAME(CL_INVALID_BUILD_OPTIONS)
    NAME(CL_INVALID_PROGRAM)
    NAME(CL_INVALID_PROGRAM_EXECUTABLE)
    NAME(CL_INVALID_KERNEL_NAME)
    NAME(CL_INVALID_KERNEL_DEFINITION)
    NAME(CL_INVALID_KERNEL)
    NAME(CL_INVALID_ARG_INDEX)
    NAME(CL_INVALID_ARG_VALUE)
    NAME(CL_INVALID_ARG_SIZE)
    NAME(CL_INVALID_KERNEL_ARGS)
    NAME(CL_INVALID_WORK_DIMENSION)
    NAME(CL_INVALID_WORK_GROUP_SIZE)
    NAME(CL_INVALID_WORK_ITEM_SIZE)
    NAME(CL_INVALID_GLOBAL_OFFSET)
    NAME(CL_INVALID_EVENT_WAIT_LIST)
    NAME(CL_INVALID_EVENT)
    NAME(CL_INVALID_OPERATION)
    NAME(CL_INVALID_GL_OBJECT)
    NAME(CL_INVALID_BUFFER_SIZE)
    NAME(CL_INVALID_MIP_LEVEL)
    NAME(CL_INVALID_GLOBAL_WORK_SIZE)
    NAME(CL_INVALID_PROPERTY)
    NAME(CL_INVALID_IMAGE_DESCRIPTOR)
    NAME(CL_INVALID_COMPILER_OPTIONS)
    NAME(CL_INVALID_LINKER_OPTIONS)
    NAME(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef NAME
  case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
  }
  return "unknown OpenCL error";
}

clrn_status clrn_fail_cl(cl_int code, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  char *what = vformat(fmt, args);
  va_end(args);
  clrn_status status = CLRN_STATUS_OPENCL_ERROR;
  if (code == CL_MEM_OBJECT_ALLOCATION_FAILURE || code == CL_OUT_OF_RESOURCES ||
      code == CL_INVALID_BUFFER_SIZE)
    status = CLRN_STATUS_OUT_OF_DEVICE_MEMORY;
  else if (code == CL_OUT_OF_HOST_MEMORY)
    status = CLRN_STATUS_OUT_OF_HOST_MEMORY;
  clrn_fail(status, "%s: %s (%d)", what ? what : "OpenCL call", clrn_opencl_error_name(code),
            (int)code);
  free(what);
  return status;
}

/* The log callback is process-wide; a mutex keeps install and use consistent. */
static mtx_t log_mutex;
static once_flag log_once = ONCE_FLAG_INIT;
static clrn_log_fn log_callback;
static clrn_log_level log_max_level = CLRN_LOG_LEVEL_ERROR;
static void *log_user_data;

static void log_init(void) { mtx_init(&log_mutex, mtx_plain); }

void clrn_log_set_callback(clrn_log_fn callback, clrn_log_level max_level, void *user_data) {
  call_once(&log_once, log_init);
  mtx_lock(&log_mutex);
  log_callback = callback;
  log_max_level = max_level;
  log_user_data = user_data;
  mtx_unlock(&log_mutex);
}

void clrn_log(clrn_log_level level, const char *fmt, ...) {
  call_once(&log_once, log_init);
  mtx_lock(&log_mutex);
  clrn_log_fn callback = log_callback;
  void *user_data = log_user_data;
  int enabled = callback && level <= log_max_level;
  mtx_unlock(&log_mutex);
  if (!enabled)
    return;
  va_list args;
  va_start(args, fmt);
  char *text = vformat(fmt, args);
  va_end(args);
  if (text)
    callback(level, text, user_data);
  free(text);
}

const char *clrn_version(void) { return CLRN_VERSION_STRING; }
