/* Kernel program builds on a real device: success, failure with the build log,
 * the binary cache's miss, hit, corrupt-entry and disabled paths, programs keyed
 * by (name, defines) in memory and on disk, and kernel objects made once per
 * context. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "runtime/cache.h"
#include "runtime/embedded.h"
#include "runtime/kernel_cache.h"

static char cache_dir[256];
static clrn_device_info device;

static int setup(void) {
  clrn_test_temp_dir(cache_dir, sizeof cache_dir);
  setenv("CLRN_CACHE_DIR", cache_dir, 1);
  unsetenv("CLRN_KERNEL_DIR");
  return 0;
}

static int teardown(void) {
  clrn_test_remove_dir(cache_dir);
  return 0;
}

/* Builds program name in a fresh context and returns the context's stats. */
static clrn_build_stats build_once(const char *name, clrn_status want) {
  clrn_context *context = NULL;
  CLRN_ASSERT_OK(clrn_context_create(&device, NULL, &context));
  cl_program program = NULL;
  clrn_status status = clrn_context_program(context, name, &program);
  if (status != want)
    fprintf(stderr, "\nbuilding %s: %s\n", name, clrn_last_error());
  CU_ASSERT_EQUAL(status, want);
  CU_ASSERT((program != NULL) == (want == CLRN_STATUS_SUCCESS));
  clrn_build_stats stats;
  clrn_context_build_stats(context, &stats);
  clrn_context_release(context);
  return stats;
}

static void test_build_and_run(void) {
  clrn_context *context = NULL;
  CLRN_ASSERT_OK(clrn_context_create(&device, NULL, &context));
  clrn_kernel *cached = NULL;
  CLRN_ASSERT_OK(clrn_kernel_get(context, "eltwise", NULL, "relu_f32", &cached));
  cl_kernel kernel = cached->cl;
  CU_ASSERT(cached->work_group_size >= 1);
  float host[5] = {-2, -0.5f, 0, 0.5f, 2}, back[5];
  cl_mem in = NULL, out = NULL;
  CLRN_ASSERT_OK(clrn_buffer_create(context, CL_MEM_READ_ONLY, sizeof host, host, &in));
  CLRN_ASSERT_OK(clrn_buffer_create(context, CL_MEM_WRITE_ONLY, sizeof host, NULL, &out));
  cl_uint n = 5;
  CU_ASSERT_EQUAL(clSetKernelArg(kernel, 0, sizeof in, &in), CL_SUCCESS);
  CU_ASSERT_EQUAL(clSetKernelArg(kernel, 1, sizeof out, &out), CL_SUCCESS);
  CU_ASSERT_EQUAL(clSetKernelArg(kernel, 2, sizeof n, &n), CL_SUCCESS);
  size_t global = 5;
  cl_command_queue queue = clrn_context_queue(context, 0);
  CU_ASSERT_EQUAL(clEnqueueNDRangeKernel(queue, kernel, 1, NULL, &global, NULL, 0, NULL, NULL),
                  CL_SUCCESS);
  CU_ASSERT_EQUAL(clEnqueueReadBuffer(queue, out, CL_TRUE, 0, sizeof back, back, 0, NULL, NULL),
                  CL_SUCCESS);
  for (int i = 0; i < 5; i++)
    CU_ASSERT_EQUAL(back[i], host[i] > 0 ? host[i] : 0.0f);
  clReleaseMemObject(in);
  clReleaseMemObject(out);
  /* The same program is built once per context. */
  clrn_build_stats stats;
  cl_program a = NULL, b = NULL;
  CLRN_ASSERT_OK(clrn_context_program(context, "eltwise", &a));
  CLRN_ASSERT_OK(clrn_context_program(context, "eltwise", &b));
  CU_ASSERT_PTR_EQUAL(a, b);
  clrn_context_build_stats(context, &stats);
  CU_ASSERT_EQUAL(stats.compiled + stats.cache_hits, 1);
  CU_ASSERT_EQUAL(clrn_kernel_get(context, "eltwise", NULL, "no_such_kernel", &cached),
                  CLRN_STATUS_OPENCL_ERROR);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "CL_INVALID_KERNEL_NAME"));
  clrn_context_release(context);
}

/* One program per (name, defines) and one kernel object per (program, defines,
 * kernel name) in a context: the same key gives the same object, other defines
 * another one. */
static void test_program_and_kernel_keys(void) {
  clrn_context *context = NULL;
  CLRN_ASSERT_OK(clrn_context_create(&device, NULL, &context));
  cl_program plain = NULL, plain2 = NULL, defined = NULL, defined2 = NULL;
  CLRN_ASSERT_OK(clrn_context_program(context, "eltwise", &plain));
  CLRN_ASSERT_OK(clrn_context_program_defines(context, "eltwise", "", &plain2));
  CU_ASSERT_PTR_EQUAL(plain, plain2);
  CLRN_ASSERT_OK(clrn_context_program_defines(context, "eltwise", "-DCLRN_TEST_KEY=1", &defined));
  CLRN_ASSERT_OK(clrn_context_program_defines(context, "eltwise", "-DCLRN_TEST_KEY=1", &defined2));
  CU_ASSERT_PTR_EQUAL(defined, defined2);
  CU_ASSERT_PTR_NOT_EQUAL(plain, defined);
  clrn_kernel *a = NULL, *b = NULL, *c = NULL, *d = NULL;
  CLRN_ASSERT_OK(clrn_kernel_get(context, "eltwise", NULL, "relu_f32", &a));
  CLRN_ASSERT_OK(clrn_kernel_get(context, "eltwise", "", "relu_f32", &b));
  CLRN_ASSERT_OK(clrn_kernel_get(context, "eltwise", "-DCLRN_TEST_KEY=1", "relu_f32", &c));
  CLRN_ASSERT_OK(clrn_kernel_get(context, "eltwise", NULL, "add_f32", &d));
  CU_ASSERT_PTR_EQUAL(a, b);
  CU_ASSERT_PTR_NOT_EQUAL(a, c);
  CU_ASSERT_PTR_NOT_EQUAL(a->cl, c->cl);
  CU_ASSERT_PTR_NOT_EQUAL(a, d);
  clrn_build_stats stats;
  clrn_context_build_stats(context, &stats);
  CU_ASSERT_EQUAL(stats.compiled + stats.cache_hits, 2);
  CU_ASSERT_EQUAL(stats.kernels, 3);
  clrn_context_release(context);
}

/* Ops take their kernels from the context's cache: launches create none. */
static void test_launches_create_no_kernels(void) {
  clrn_context *context = NULL;
  CLRN_ASSERT_OK(clrn_context_create(&device, NULL, &context));
  float host[8] = {-1, 2, -3, 4, -5, 6, -7, 8};
  cl_mem buffer = NULL;
  CLRN_ASSERT_OK(clrn_buffer_create(context, CL_MEM_READ_WRITE, sizeof host, host, &buffer));
  clrn_tensor t = {buffer, 1, 2, 2, 2};
  cl_command_queue queue = clrn_context_queue(context, 0);
  clrn_build_stats stats;
  for (int i = 0; i < 3; i++) {
    CLRN_ASSERT_OK(clrn_relu_enqueue(context, queue, &t, &t, 0, NULL, NULL));
    CLRN_ASSERT_OK(clrn_softmax_enqueue(context, queue, &t, &t, 0, NULL, NULL));
    CLRN_ASSERT_OK(clrn_add_enqueue(context, queue, &t, &t, &t, true, 0, NULL, NULL));
    clrn_context_build_stats(context, &stats);
    CU_ASSERT_EQUAL(stats.kernels, 3); /* relu_f32, softmax_f32, add_f32 */
  }
  /* The element count (argument 2) is a number the kernel keeps: the launcher
   * remembers it, and sets it again only when it changes; buffers it always sets. */
  clrn_kernel *relu = NULL;
  CLRN_ASSERT_OK(clrn_kernel_get(context, "eltwise", NULL, "relu_f32", &relu));
  CU_ASSERT_EQUAL(relu->known, 1u << 2);
  CU_ASSERT_EQUAL(relu->values[2], 8);
  clrn_tensor half = {buffer, 1, 1, 2, 2};
  CLRN_ASSERT_OK(clrn_relu_enqueue(context, queue, &half, &half, 0, NULL, NULL));
  CU_ASSERT_EQUAL(relu->values[2], 4);
  CU_ASSERT_EQUAL(clFinish(queue), CL_SUCCESS);
  clReleaseMemObject(buffer);
  clrn_context_release(context);
}

/* Defines enter the disk cache's key: other defines are compiled, not loaded
 * from the entry of the plain program; each is then found again. */
static void test_disk_key_has_defines(void) {
  char fresh[300];
  snprintf(fresh, sizeof fresh, "%s/defines", cache_dir);
  setenv("CLRN_CACHE_DIR", fresh, 1);
  for (int round = 0; round < 2; round++) {
    clrn_context *context = NULL;
    CLRN_ASSERT_OK(clrn_context_create(&device, NULL, &context));
    cl_program program = NULL;
    CLRN_ASSERT_OK(clrn_context_program(context, "eltwise", &program));
    CLRN_ASSERT_OK(clrn_context_program_defines(context, "eltwise", "-DCLRN_TEST_KEY=2", &program));
    clrn_build_stats stats;
    clrn_context_build_stats(context, &stats);
    CU_ASSERT_EQUAL(stats.compiled, round == 0 ? 2 : 0);
    CU_ASSERT_EQUAL(stats.cache_hits, round == 0 ? 0 : 2);
    clrn_context_release(context);
  }
  setenv("CLRN_CACHE_DIR", cache_dir, 1);
}

/* Writes an embedded file into folder, followed by extra text. */
static void write_copy(const char *folder, const clrn_embedded_file *file, const char *extra) {
  CU_ASSERT_PTR_NOT_NULL_FATAL(file);
  char path[512];
  snprintf(path, sizeof path, "%s/%s", folder, file->name);
  FILE *f = fopen(path, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  CU_ASSERT_EQUAL(fwrite(file->data, 1, file->size, f), file->size);
  fputs(extra, f);
  fclose(f);
}

/* Every program starts with the kernel headers, so they are part of its cache
 * key: the same sources from CLRN_KERNEL_DIR hit the cache, a changed prelude
 * does not. */
static void test_prelude_in_key(void) {
  char fresh[300], kernel_dir[256];
  snprintf(fresh, sizeof fresh, "%s/prelude", cache_dir);
  setenv("CLRN_CACHE_DIR", fresh, 1);
  clrn_build_stats s = build_once("eltwise", CLRN_STATUS_SUCCESS);
  CU_ASSERT_EQUAL(s.compiled, 1);
  clrn_test_temp_dir(kernel_dir, sizeof kernel_dir);
  write_copy(kernel_dir, clrn_embedded_find(clrn_embedded_kernels, "eltwise.cl"), "");
  write_copy(kernel_dir, clrn_embedded_find(clrn_embedded_kernel_headers, "prelude.h"), "");
  setenv("CLRN_KERNEL_DIR", kernel_dir, 1);
  s = build_once("eltwise", CLRN_STATUS_SUCCESS);
  CU_ASSERT_EQUAL(s.cache_hits, 1); /* the same text as the embedded one */
  write_copy(kernel_dir, clrn_embedded_find(clrn_embedded_kernel_headers, "prelude.h"),
             "\n/* changed */\n");
  s = build_once("eltwise", CLRN_STATUS_SUCCESS);
  CU_ASSERT_EQUAL(s.compiled, 1);
  CU_ASSERT_EQUAL(s.cache_hits, 0);
  unsetenv("CLRN_KERNEL_DIR");
  clrn_test_remove_dir(kernel_dir);
  setenv("CLRN_CACHE_DIR", cache_dir, 1);
}

static void test_unknown_program(void) {
  build_once("no_such_program", CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "no_such_program"));
}

static void test_build_failure_has_log(void) {
  char kernel_dir[256], path[512];
  clrn_test_temp_dir(kernel_dir, sizeof kernel_dir);
  snprintf(path, sizeof path, "%s/broken.cl", kernel_dir);
  FILE *f = fopen(path, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs("__kernel void broken(__global float *x) { x[0] = undeclared_thing_42; }\n", f);
  fclose(f);
  setenv("CLRN_KERNEL_DIR", kernel_dir, 1);
  build_once("broken", CLRN_STATUS_BUILD_FAILED);
  const char *detail = clrn_last_error();
  CU_ASSERT_PTR_NOT_NULL(strstr(detail, "broken.cl"));
  CU_ASSERT_PTR_NOT_NULL(strstr(detail, "build log"));
  CU_ASSERT_PTR_NOT_NULL(strstr(detail, "undeclared_thing_42")); /* the compiler's own words */
  build_once("missing_file", CLRN_STATUS_IO_ERROR);
  unsetenv("CLRN_KERNEL_DIR");
  clrn_test_remove_dir(kernel_dir);
}

static void test_cache_paths(void) {
  /* A fresh folder: earlier tests of this program filled cache_dir. */
  char fresh[300];
  snprintf(fresh, sizeof fresh, "%s/fresh", cache_dir);
  setenv("CLRN_CACHE_DIR", fresh, 1);
  clrn_build_stats s = build_once("eltwise", CLRN_STATUS_SUCCESS);
  CU_ASSERT_EQUAL(s.compiled, 1); /* cold: compiled and stored */
  CU_ASSERT_EQUAL(s.cache_hits, 0);
  s = build_once("eltwise", CLRN_STATUS_SUCCESS);
  CU_ASSERT_EQUAL(s.compiled, 0); /* warm: nothing compiled */
  CU_ASSERT_EQUAL(s.cache_hits, 1);

  /* Corrupt the stored entry: it must be detected, rebuilt and replaced. */
  /* The folder holds exactly one entry: eltwise's. */
  char command[1024];
  snprintf(command, sizeof command,
           "f=$(ls %s/*.bin) && printf 'garbage' | dd of=$f bs=1 seek=100 conv=notrunc "
           "status=none",
           fresh);
  CU_ASSERT_EQUAL_FATAL(system(command), 0);
  s = build_once("eltwise", CLRN_STATUS_SUCCESS);
  CU_ASSERT_EQUAL(s.cache_bad, 1);
  CU_ASSERT_EQUAL(s.compiled, 1);
  s = build_once("eltwise", CLRN_STATUS_SUCCESS);
  CU_ASSERT_EQUAL(s.cache_bad, 0);
  CU_ASSERT_EQUAL(s.cache_hits, 1);

  /* Truncated entry. */
  snprintf(command, sizeof command, "f=$(ls %s/*.bin) && truncate -s 40 $f", fresh);
  CU_ASSERT_EQUAL_FATAL(system(command), 0);
  s = build_once("eltwise", CLRN_STATUS_SUCCESS);
  CU_ASSERT_EQUAL(s.cache_bad, 1);
  CU_ASSERT_EQUAL(s.compiled, 1);

  /* A host-only tuning value, or another program's kernel define, is not in the
   * program's build options, so not in its cache key: still a hit. */
  setenv("CLRN_TUNE", "ELTWISE_WG=32,CONV_PIX_BLOCK=5", 1);
  s = build_once("eltwise", CLRN_STATUS_SUCCESS);
  CU_ASSERT_EQUAL(s.compiled, 0);
  CU_ASSERT_EQUAL(s.cache_hits, 1);
  unsetenv("CLRN_TUNE");

  /* A kernel define of the program's own family is a different entry. */
  s = build_once("conv2d", CLRN_STATUS_SUCCESS);
  setenv("CLRN_TUNE", "CONV_WG=8", 1);
  s = build_once("conv2d", CLRN_STATUS_SUCCESS);
  CU_ASSERT_EQUAL(s.cache_hits, 1);
  setenv("CLRN_TUNE", "CONV_PIX_BLOCK=5", 1);
  s = build_once("conv2d", CLRN_STATUS_SUCCESS);
  CU_ASSERT_EQUAL(s.compiled, 1);
  unsetenv("CLRN_TUNE");

  /* Disabled cache: compiles every time and writes nothing. */
  setenv("CLRN_CACHE_DIR", "off", 1);
  s = build_once("eltwise", CLRN_STATUS_SUCCESS);
  CU_ASSERT_EQUAL(s.compiled, 1);
  s = build_once("eltwise", CLRN_STATUS_SUCCESS);
  CU_ASSERT_EQUAL(s.compiled, 1);
  setenv("CLRN_CACHE_DIR", cache_dir, 1);
}

static void progress(const clrn_device_info *d, size_t done, size_t total, bool compiled,
                     void *user) {
  (void)d;
  (void)compiled;
  size_t *calls = user;
  CU_ASSERT(done >= 1 && done <= total);
  (*calls)++;
}

static void test_prepare_all(void) {
  clrn_context_options options;
  clrn_context_options_default(&options);
  size_t calls = 0;
  options.progress = progress;
  options.progress_user_data = &calls;
  clrn_context *context = NULL;
  CLRN_ASSERT_OK(clrn_context_create(&device, &options, &context));
  CLRN_ASSERT_OK(clrn_context_prepare(context, NULL, 0));
  size_t programs = 0;
  for (const char *const *n = clrn_program_names(); *n; n++)
    programs++;
  CU_ASSERT(programs >= 1);
  CU_ASSERT_EQUAL(calls, programs);
  clrn_context_release(context);
}

int main(void) {
  clrn_test_require_device(&device);
  clrn_test_add_suite(
      "programs", setup, teardown, "build and run", test_build_and_run, "program and kernel keys",
      test_program_and_kernel_keys, "launches create no kernels", test_launches_create_no_kernels,
      "disk key has the defines", test_disk_key_has_defines, "prelude in the key",
      test_prelude_in_key, "unknown program", test_unknown_program, "build failure has the log",
      test_build_failure_has_log, "cache miss, hit, corrupt, off", test_cache_paths, "prepare all",
      test_prepare_all, NULL);
  return clrn_test_run();
}
