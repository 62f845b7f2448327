/* A stand-in for a vendor's offline kernel compiler, for the tests of binary-only
 * devices: compiles every PROGRAM-HASH.cl of a folder written by `clresnet kernels
 * export`, with the build options of its PROGRAM-HASH.options, for the first
 * device of the first OpenCL platform (PoCL in CI), and writes PROGRAM-HASH.bin into
 * the output folder.
 *
 * Usage: offline_compile SOURCE_DIR BINARY_DIR. Exit 0 when every program built, 1
 * otherwise (one line on stderr), 77 when there is no OpenCL device. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole file at path, NUL-terminated (NULL when unreadable); *size its length. */
static char *slurp(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *data = NULL;
  if (fseek(f, 0, SEEK_END) == 0) {
    long n = ftell(f);
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)n + 1)) &&
        fread(data, 1, (size_t)n, f) == (size_t)n) {
      data[n] = '\0';
      *size = (size_t)n;
    } else {
      free(data);
      data = NULL;
    }
  }
  fclose(f);
  return data;
}

/* Builds src_dir/stem.cl with stem.options and writes bin_dir/stem.bin. */
static int compile_one(cl_context context, cl_device_id device, const char *src_dir,
                       const char *bin_dir, const char *stem) {
  char path[4096];
  size_t size = 0, options_size = 0;
  snprintf(path, sizeof path, "%s/%s.cl", src_dir, stem);
  char *source = slurp(path, &size);
  snprintf(path, sizeof path, "%s/%s.options", src_dir, stem);
  char *options = slurp(path, &options_size);
  if (!source || !options) {
    fprintf(stderr, "offline_compile: cannot read %s and its .cl\n", path);
    return 1;
  }
  options[strcspn(options, "\n")] = '\0';
  cl_int err;
  const char *sources[1] = {source};
  cl_program program = clCreateProgramWithSource(context, 1, sources, &size, &err);
  if (err == CL_SUCCESS)
    err = clBuildProgram(program, 1, &device, options, NULL, NULL);
  size_t binary_size = 0;
  if (err == CL_SUCCESS)
    err =
        clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof binary_size, &binary_size, NULL);
  unsigned char *binary = err == CL_SUCCESS ? malloc(binary_size) : NULL;
  if (binary)
    err = clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof binary, &binary, NULL);
  int status = 1;
  snprintf(path, sizeof path, "%s/%s.bin", bin_dir, stem);
  FILE *out = binary && err == CL_SUCCESS ? fopen(path, "wb") : NULL;
  if (out && fwrite(binary, 1, binary_size, out) == binary_size)
    status = 0;
  if (out && fclose(out) != 0)
    status = 1;
  if (status)
    fprintf(stderr, "offline_compile: %s: OpenCL error %d\n", stem, (int)err);
  if (program)
    clReleaseProgram(program);
  free(binary);
  free(source);
  free(options);
  return status;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: offline_compile SOURCE_DIR BINARY_DIR\n");
    return 2;
  }
  cl_platform_id platform;
  cl_device_id device;
  cl_uint n = 0;
  if (clGetPlatformIDs(1, &platform, &n) != CL_SUCCESS || n == 0 ||
      clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL) != CL_SUCCESS)
    return 77;
  cl_int err;
  cl_context context = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
  if (err != CL_SUCCESS)
    return 77;
  DIR *dir = opendir(argv[1]);
  if (!dir) {
    fprintf(stderr, "offline_compile: cannot open %s\n", argv[1]);
    return 1;
  }
  int status = 0, count = 0;
  for (struct dirent *e; (e = readdir(dir));) {
    size_t len = strlen(e->d_name);
    if (len < 4 || strcmp(e->d_name + len - 3, ".cl") != 0)
      continue;
    char stem[1024];
    snprintf(stem, sizeof stem, "%.*s", (int)(len - 3), e->d_name);
    status |= compile_one(context, device, argv[1], argv[2], stem);
    count++;
  }
  closedir(dir);
  clReleaseContext(context);
  if (count == 0) {
    fprintf(stderr, "offline_compile: no .cl file in %s\n", argv[1]);
    return 1;
  }
  return status;
}
