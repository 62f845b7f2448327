/* Kernel program builds with the on-disk binary cache (see program.h). */
#include "runtime/program.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "runtime/embedded.h"
#include "runtime/platform_lock.h"

#define MAX_SOURCE_BYTES (16u << 20)

/* The text of kernel file file_name ("conv2d.cl"): from CLRN_KERNEL_DIR when set
 * (a header missing there comes from the library when optional is set), else
 * embedded in table. *owned is set when the caller must free *text. */
static clrn_status load_file(const clrn_embedded_file *table, const char *file_name, bool optional,
                             const char **text, size_t *size, char **owned) {
  *owned = NULL;
  const char *dir = getenv("CLRN_KERNEL_DIR");
  if (dir && *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file_name);
    FILE *f = fopen(path, "rb");
    if (!f && !optional)
      return clrn_fail(CLRN_STATUS_IO_ERROR, "CLRN_KERNEL_DIR: cannot open %s", path);
    if (f) {
      char *data = malloc(MAX_SOURCE_BYTES + 1);
      size_t n = data ? fread(data, 1, MAX_SOURCE_BYTES + 1, f) : 0;
      bool error = ferror(f);
      fclose(f);
      if (!data || error || n > MAX_SOURCE_BYTES) {
        free(data);
        return clrn_fail(CLRN_STATUS_IO_ERROR, "CLRN_KERNEL_DIR: cannot read %s", path);
      }
      data[n] = '\0';
      *owned = data;
      *text = data;
      *size = n;
      return CLRN_STATUS_SUCCESS;
    }
  }
  const clrn_embedded_file *file = clrn_embedded_find(table, file_name);
  if (!file)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "no kernel file named \"%s\"", file_name);
  *text = (const char *)file->data;
  *size = file->size;
  return CLRN_STATUS_SUCCESS;
}

/* Appends size bytes of text to the growing source *out (*used bytes so far). */
static bool append(char **out, size_t *used, const char *text, size_t size) {
  char *grown = realloc(*out, *used + size + 1);
  if (!grown)
    return false;
  memcpy(grown + *used, text, size);
  *used += size;
  grown[*used] = '\0';
  *out = grown;
  return true;
}

/* The full source of program name: every header of kernels/ (the ABI and
 * the prelude, in name order), then kernels/<name>.cl under a #line directive, so
 * build logs give the .cl file's own line numbers. Malloc'd; the caller frees. */
static clrn_status load_source(const char *name, char **source, size_t *size) {
  *source = NULL;
  *size = 0;
  char file_name[256];
  if (snprintf(file_name, sizeof file_name, "%s.cl", name) >= (int)sizeof file_name)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "kernel program name too long");
  char *out = NULL;
  size_t used = 0;
  clrn_status status = CLRN_STATUS_SUCCESS;
  for (size_t i = 0; i <= clrn_embedded_kernel_headers_count; i++) {
    bool program = i == clrn_embedded_kernel_headers_count;
    const char *part_name = program ? file_name : clrn_embedded_kernel_headers[i].name;
    const char *text = NULL;
    size_t text_size = 0;
    char *owned = NULL;
    status = load_file(program ? clrn_embedded_kernels : clrn_embedded_kernel_headers, part_name,
                       !program, &text, &text_size, &owned);
    if (status != CLRN_STATUS_SUCCESS) {
      if (program && status == CLRN_STATUS_INVALID_ARGUMENT)
        status = clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "no kernel program named \"%s\"", name);
      break;
    }
    char line[300];
    int line_size = snprintf(line, sizeof line, "#line 1 \"%s\"\n", part_name);
    bool ok = append(&out, &used, line, (size_t)line_size) &&
              append(&out, &used, text, text_size) && append(&out, &used, "\n", 1);
    free(owned);
    if (!ok) {
      status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "source of kernels/%s", file_name);
      break;
    }
  }
  if (status != CLRN_STATUS_SUCCESS) {
    free(out);
    return status;
  }
  *source = out;
  *size = used;
  return CLRN_STATUS_SUCCESS;
}

bool clrn_program_options(const clrn_device_info *device, const clrn_profile *profile,
                          const char *name, char *out, size_t size) {
  bool cl12 = device->opencl_c_major > 1 || device->opencl_c_minor >= 2;
  int n = snprintf(out, size, "%s-DCLRN_FP16=%d -DCLRN_FP64=%d -DCLRN_LOCAL_MEM_IS_GLOBAL=%d",
                   cl12 ? "-cl-std=CL1.2 " : "", device->fp16 ? 1 : 0, device->fp64 ? 1 : 0,
                   device->local_mem_is_global ? 1 : 0);
  /* Keeps old PoCL's kernel cache apart per device (runtime/platform_lock.h). */
  unsigned instance = clrn_platform_instance(device);
  if (n >= 0 && (size_t)n < size && instance > 0) {
    int more = snprintf(out + n, size - (size_t)n, " -DCLRN_INSTANCE=%u", instance);
    n = more < 0 ? -1 : n + more;
  }
  if (n < 0 || (size_t)n >= size)
    return false;
  return clrn_profile_build_options(profile, name, out, size);
}

static void make_key(const clrn_device_info *device, const char *name, const char *source,
                     size_t size, const char *options, char *key, size_t key_size) {
  snprintf(key, key_size,
           "clresnet %s\nprogram %s\nsource %zu %016llx\noptions %s\ndevice %s\nvendor %s\n"
           "driver %s\ndevice-version %s\nplatform %s %s\n",
           clrn_version(), name, size,
           (unsigned long long)clrn_hash64(source, size, CLRN_HASH_SEED), options, device->name,
           device->vendor, device->driver_version, device->device_version, device->platform_name,
           device->platform_version);
}

/* The program's build log for device (malloc'd, "" when empty or unreadable; NULL
 * only when out of memory). */
static char *build_log(cl_program program, const clrn_device_info *device) {
  size_t log_size = 0;
  if (clGetProgramBuildInfo(program, device->device_id, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_size) !=
      CL_SUCCESS)
    log_size = 0;
  char *log = malloc(log_size + 1);
  if (log && log_size > 0 &&
      clGetProgramBuildInfo(program, device->device_id, CL_PROGRAM_BUILD_LOG, log_size, log,
                            NULL) != CL_SUCCESS)
    log_size = 0;
  if (log)
    log[log_size] = '\0';
  return log;
}

/* Whether a build log says anything: not empty and not only white space. */
static bool log_has_text(const char *log) {
  for (; log && *log; log++)
    if (*log != ' ' && *log != '\n' && *log != '\r' && *log != '\t')
      return true;
  return false;
}

static clrn_status fail_build(cl_program program, const clrn_device_info *device, const char *name,
                              const char *options, cl_int code) {
  char *log = build_log(program, device);
  clrn_status status = clrn_fail(CLRN_STATUS_BUILD_FAILED,
                                 "building kernels/%s.cl for %s failed (%s) with options "
                                 "\"%s\"; build log:\n%s",
                                 name, device->name, clrn_opencl_error_name(code), options,
                                 log_has_text(log) ? log : "(empty)");
  free(log);
  return status;
}

/* The driver compiler's messages (warnings, remarks) on a successful build go to
 * the log at INFO level (the CLI's -v), one message per line. */
static void log_build(cl_program program, const clrn_device_info *device, const char *name) {
  char *log = build_log(program, device);
  for (char *line = log, *end; line && *line; line = end) {
    end = line + strcspn(line, "\n");
    if (*end)
      *end++ = '\0';
    if (log_has_text(line))
      clrn_log(CLRN_LOG_LEVEL_INFO, "build log of kernels/%s.cl for %s: %s", name, device->name,
               line);
  }
  free(log);
}

static clrn_status binary_of(cl_program program, unsigned char **binary, size_t *size) {
  *binary = NULL;
  cl_int err = clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof *size, size, NULL);
  if (err != CL_SUCCESS)
    return clrn_fail_cl(err, "clGetProgramInfo(CL_PROGRAM_BINARY_SIZES)");
  if (*size == 0)
    return CLRN_STATUS_UNSUPPORTED;
  *binary = malloc(*size);
  if (!*binary)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "program binary of %zu bytes", *size);
  err = clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof *binary, binary, NULL);
  if (err != CL_SUCCESS) {
    free(*binary);
    *binary = NULL;
    return clrn_fail_cl(err, "clGetProgramInfo(CL_PROGRAM_BINARIES)");
  }
  return CLRN_STATUS_SUCCESS;
}

/* Makes a program of device from binary and builds it with options: the program, or
 * NULL with *err (or *binary_status) saying why the driver refused it. */
static cl_program from_binary(const clrn_device_info *device, cl_context context,
                              const unsigned char *binary, size_t size, const char *options,
                              cl_int *err) {
  cl_int binary_status = CL_SUCCESS;
  *err = CL_SUCCESS;
  cl_program program = clCreateProgramWithBinary(context, 1, &device->device_id, &size, &binary,
                                                 &binary_status, err);
  if (*err == CL_SUCCESS && binary_status == CL_SUCCESS)
    *err = clBuildProgram(program, 1, &device->device_id, options, NULL, NULL);
  else if (*err == CL_SUCCESS)
    *err = binary_status;
  if (*err == CL_SUCCESS)
    return program;
  if (program)
    clReleaseProgram(program);
  return NULL;
}

/* Tries the cached binary; returns a built program or NULL (miss or rejected). */
static cl_program from_cache(const clrn_device_info *device, cl_context context, const char *key,
                             const char *options, clrn_cache_result *result) {
  unsigned char *binary = NULL;
  size_t size = 0;
  *result = clrn_cache_load(key, &binary, &size);
  if (*result != CLRN_CACHE_RESULT_HIT)
    return NULL;
  cl_int err;
  cl_program program = from_binary(device, context, binary, size, options, &err);
  free(binary);
  if (program)
    return program;
  clrn_log(CLRN_LOG_LEVEL_WARNING, "cached binary rejected by the driver (%s); rebuilding",
           clrn_opencl_error_name(err));
  *result = CLRN_CACHE_RESULT_BAD;
  return NULL;
}

/* The stem naming a program in the export and binaries folders. */
static void program_stem(const char *name, const char *source, size_t size, const char *options,
                         char *stem, size_t stem_size) {
  uint64_t hash = clrn_hash64(source, size, CLRN_HASH_SEED);
  hash = clrn_hash64(options, strlen(options), hash);
  snprintf(stem, stem_size, "%s-%016llx", name, (unsigned long long)hash);
}

/* Writes size bytes to dir/file through a temporary file renamed into place. */
static clrn_status write_whole(const char *dir, const char *file, const void *data, size_t size) {
  char path[4096], temp[4200];
  int n = snprintf(path, sizeof path, "%s/%s", dir, file);
  if (n < 0 || (size_t)n >= sizeof path)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "kernel export path too long");
  snprintf(temp, sizeof temp, "%s.tmp%ld", path, (long)getpid());
  FILE *f = fopen(temp, "wb");
  bool ok = f && fwrite(data, 1, size, f) == size;
  ok = f && fclose(f) == 0 && ok;
  if (ok && rename(temp, path) == 0)
    return CLRN_STATUS_SUCCESS;
  int saved = errno;
  remove(temp);
  return clrn_fail(CLRN_STATUS_IO_ERROR, "cannot write %s: %s", path, strerror(saved));
}

/* Writes the program's source and options into the export folder. */
static clrn_status export_program(const char *dir, const char *stem, const char *source,
                                  size_t size, const char *options) {
  char file[300];
  snprintf(file, sizeof file, "%s.cl", stem);
  CLRN_TRY(write_whole(dir, file, source, size));
  snprintf(file, sizeof file, "%s.options", stem);
  char line[4200];
  int n = snprintf(line, sizeof line, "%s\n", options);
  return write_whole(dir, file, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* Reads dir/<stem>.bin into *binary; false when there is none. */
static bool read_offline(const char *dir, const char *stem, unsigned char **binary, size_t *size) {
  char path[4096];
  int n = snprintf(path, sizeof path, "%s/%s.bin", dir, stem);
  return n > 0 && (size_t)n < sizeof path && clrn_read_small_file(path, binary, size);
}

/* The program from the offline binaries folder, or NULL (none, or refused: logged). */
static cl_program from_offline(const clrn_device_info *device, cl_context context, const char *dir,
                               const char *stem, const char *options) {
  unsigned char *binary = NULL;
  size_t size = 0;
  if (!dir || !read_offline(dir, stem, &binary, &size))
    return NULL;
  cl_int err;
  cl_program program = from_binary(device, context, binary, size, options, &err);
  free(binary);
  if (!program)
    clrn_log(CLRN_LOG_LEVEL_WARNING, "%s/%s.bin was refused by %s (%s)", dir, stem, device->name,
             clrn_opencl_error_name(err));
  return program;
}

/* Removes from options every " -DKEY=VALUE" whose -DKEY= the per-program defines set
 * again (a layer's own tile sizes over the profile's), so no macro is defined twice. */
static void drop_overridden(char *options, const char *defines) {
  char *p = options;
  while ((p = strstr(p, " -D"))) {
    size_t key = strcspn(p + 1, "= ");
    char *end = p + 1 + strcspn(p + 1, " ");
    if (p[1 + key] == '=') {
      char prefix[80];
      int n = snprintf(prefix, sizeof prefix, "%.*s", (int)key + 1, p + 1);
      const char *d = n > 0 && (size_t)n < sizeof prefix ? strstr(defines, prefix) : NULL;
      if (d && (d == defines || d[-1] == ' ')) {
        memmove(p, end, strlen(end) + 1);
        continue;
      }
    }
    p = end;
  }
}

clrn_status clrn_program_build(const clrn_device_info *device, cl_context context,
                               const clrn_profile *profile, const char *name, const char *defines,
                               const clrn_program_paths *paths, cl_program *program,
                               clrn_program_origin *origin) {
  *program = NULL;
  origin->compiled = false;
  origin->offline = false;
  origin->cache = CLRN_CACHE_RESULT_MISS;
  clrn_program_paths none = {0};
  if (!paths)
    paths = &none;
  char *source = NULL;
  size_t size = 0;
  CLRN_TRY(load_source(name, &source, &size));
  char options[4096];
  bool fits = clrn_program_options(device, profile, name, options, sizeof options);
  if (fits && defines && *defines) {
    drop_overridden(options, defines);
    size_t used = strlen(options);
    int n = snprintf(options + used, sizeof options - used, " %s", defines);
    fits = n >= 0 && (size_t)n < sizeof options - used;
  }
  if (!fits) {
    free(source);
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "kernel build options too long");
  }
  char key[8192], stem[128];
  make_key(device, name, source, size, options, key, sizeof key);
  program_stem(name, source, size, options, stem, sizeof stem);
  clrn_status status = CLRN_STATUS_SUCCESS;
  if (paths->export_dir && (status = export_program(paths->export_dir, stem, source, size,
                                                    options)) != CLRN_STATUS_SUCCESS) {
    free(source);
    return status;
  }
  cl_program built = from_offline(device, context, paths->binaries, stem, options);
  origin->offline = built != NULL;
  if (!built)
    built = from_cache(device, context, key, options, &origin->cache);
  if (!built && !device->compiler_available) {
    free(source);
    if (!paths->binaries)
      return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                       "the device has no OpenCL C compiler and CLRN_KERNEL_BINARIES names no "
                       "folder of offline-compiled kernels: write their sources with 'clresnet "
                       "kernels export' (same model, input size and device), compile them with "
                       "the vendor's compiler, and set CLRN_KERNEL_BINARIES to that folder");
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "the device has no OpenCL C compiler and %s/%s.bin is missing: export the "
                     "kernels with 'clresnet kernels export' for the same model, input size and "
                     "device, and compile each into that folder",
                     paths->binaries, stem);
  }
  if (!built) {
    cl_int err = CL_SUCCESS;
    const char *sources[1] = {source};
    built = clCreateProgramWithSource(context, 1, sources, &size, &err);
    if (err != CL_SUCCESS) {
      free(source);
      return clrn_fail_cl(err, "clCreateProgramWithSource(%s)", name);
    }
    err = clBuildProgram(built, 1, &device->device_id, options, NULL, NULL);
    if (err != CL_SUCCESS) {
      status = fail_build(built, device, name, options, err);
      clReleaseProgram(built);
      free(source);
      return status;
    }
    origin->compiled = true;
    log_build(built, device, name);
    unsigned char *binary = NULL;
    size_t binary_size = 0;
    if (binary_of(built, &binary, &binary_size) == CLRN_STATUS_SUCCESS)
      clrn_cache_store(key, binary, binary_size);
    free(binary);
    clrn_clear_error();
  }
  free(source);
  *program = built;
  return CLRN_STATUS_SUCCESS;
}
