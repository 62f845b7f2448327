"""The part of clresnet's public C API (include/clresnet/*.h) that the Python module
uses, declared for cffi in ABI mode, and the shared library loaded from the package
folder. ABI mode: nothing is compiled when the package is built or imported, so these
declarations must match the headers exactly; tests/python/test_abi.py compiles them
against the headers (function prototypes verbatim, struct layouts and enum values as
static assertions) to catch any drift.
"""
import os

import cffi

# Types: copied from the headers (struct layouts matter, field by field).
TYPES = """
typedef void *cl_platform_id;
typedef void *cl_device_id;

typedef enum clrn_status {
  CLRN_STATUS_SUCCESS = 0,
  CLRN_STATUS_INVALID_ARGUMENT,
  CLRN_STATUS_OUT_OF_HOST_MEMORY,
  CLRN_STATUS_NO_PLATFORM,
  CLRN_STATUS_NO_MATCHING_DEVICE,
  CLRN_STATUS_OPENCL_ERROR,
  CLRN_STATUS_BUILD_FAILED,
  CLRN_STATUS_OUT_OF_DEVICE_MEMORY,
  CLRN_STATUS_IO_ERROR,
  CLRN_STATUS_INVALID_FORMAT,
  CLRN_STATUS_UNSUPPORTED,
  CLRN_STATUS_MISMATCH,
} clrn_status;

typedef enum clrn_log_level {
  CLRN_LOG_LEVEL_ERROR = 0,
  CLRN_LOG_LEVEL_WARNING = 1,
  CLRN_LOG_LEVEL_INFO = 2,
  CLRN_LOG_LEVEL_DEBUG = 3,
} clrn_log_level;

typedef void (*clrn_log_fn)(clrn_log_level level, const char *message, void *user_data);

typedef enum clrn_device_type {
  CLRN_DEVICE_TYPE_CPU,
  CLRN_DEVICE_TYPE_GPU,
  CLRN_DEVICE_TYPE_ACCELERATOR,
  CLRN_DEVICE_TYPE_CUSTOM,
  CLRN_DEVICE_TYPE_OTHER,
} clrn_device_type;

typedef struct clrn_device_info {
  size_t index;
  unsigned platform_index;
  unsigned device_index;
  clrn_device_type type;
  char platform_name[128];
  char platform_vendor[128];
  char platform_version[128];
  char name[256];
  char vendor[128];
  char driver_version[128];
  char device_version[128];
  char opencl_c_version[128];
  unsigned opencl_c_major, opencl_c_minor;
  unsigned compute_units;
  unsigned max_clock_mhz;
  uint64_t global_mem_bytes;
  uint64_t max_alloc_bytes;
  uint64_t local_mem_bytes;
  bool local_mem_is_global;
  size_t max_work_group_size;
  size_t max_work_item_sizes[3];
  unsigned preferred_vector_width_float;
  unsigned preferred_vector_width_half;
  unsigned native_vector_width_float;
  bool fp16;
  bool fp64;
  bool host_unified_memory;
  bool compiler_available;
  char extensions[8192];
  char profile[128];
  cl_platform_id platform_id;
  cl_device_id device_id;
} clrn_device_info;

typedef enum clrn_arch {
  CLRN_ARCH_AUTO = 0,
  CLRN_ARCH_RESNET18,
  CLRN_ARCH_RESNET34,
  CLRN_ARCH_RESNET50,
  CLRN_ARCH_RESNET101,
  CLRN_ARCH_RESNET152,
  CLRN_ARCH_RESNEXT50_32X4D,
  CLRN_ARCH_RESNEXT101_32X8D,
  CLRN_ARCH_RESNEXT101_64X4D,
  CLRN_ARCH_WIDE_RESNET50_2,
  CLRN_ARCH_WIDE_RESNET101_2,
  CLRN_ARCH_KERAS_RESNET50,
} clrn_arch;

typedef struct clrn_weights clrn_weights;
typedef struct clrn_engine clrn_engine;

typedef void (*clrn_build_progress_fn)(const clrn_device_info *device, size_t done,
                                       size_t total, bool compiled, void *user_data);

typedef enum clrn_precision {
  CLRN_PRECISION_FP32 = 0,
  CLRN_PRECISION_FP16 = 1,
  CLRN_PRECISION_TF32 = 2
} clrn_precision;

typedef struct clrn_model_options {
  bool fuse;
  int max_batch;
  int height;
  int width;
  size_t memory_limit;
  bool warm_up;
  clrn_precision precision;
} clrn_model_options;

typedef struct clrn_engine_options {
  clrn_model_options model;
  bool profiling;
  bool recalibrate;
  const double *speeds;
  clrn_build_progress_fn progress;
  void *progress_user_data;
  const char *kernel_binaries;
  const char *kernel_export;
} clrn_engine_options;

typedef struct clrn_image {
  int width, height;
  unsigned char *rgb;
} clrn_image;

typedef enum clrn_preprocess_mode {
  CLRN_PREPROCESS_TORCHVISION = 0,
  CLRN_PREPROCESS_CAFFE,
} clrn_preprocess_mode;

typedef struct clrn_preprocess {
  int resize;
  int crop;
  float mean[3];
  float std[3];
  clrn_preprocess_mode mode;
} clrn_preprocess;
"""

# Functions: prototypes exactly as the headers declare them (less CLRN_API).
FUNCTIONS = """
const char *clrn_status_string(clrn_status status);
const char *clrn_last_error(void);
void clrn_clear_error(void);
const char *clrn_version(void);
void clrn_log_set_callback(clrn_log_fn callback, clrn_log_level max_level, void *user_data);

clrn_status clrn_devices_enumerate(clrn_device_info **devices, size_t *count);
void clrn_devices_free(clrn_device_info *devices);
clrn_status clrn_devices_select(const clrn_device_info *devices, size_t count,
                                const char *spec, size_t *selected, size_t capacity,
                                size_t *selected_count);
const char *clrn_device_type_name(clrn_device_type type);

const char *clrn_arch_name(clrn_arch arch);
const char *clrn_precision_string(clrn_precision precision);
clrn_status clrn_precision_check(const clrn_device_info *device, clrn_precision precision);
clrn_status clrn_arch_parse(const char *text, clrn_arch *arch);
clrn_status clrn_weights_open(const char *path, clrn_arch arch, clrn_weights **weights);
clrn_arch clrn_weights_arch(const clrn_weights *weights);
int clrn_weights_num_classes(const clrn_weights *weights);
const char *clrn_weights_metadata(const clrn_weights *weights, const char *key);
void clrn_weights_close(clrn_weights *weights);

void clrn_engine_options_default(clrn_engine_options *options);
clrn_status clrn_engine_create(const clrn_device_info *devices, size_t count,
                               const clrn_weights *weights,
                               const clrn_engine_options *options, clrn_engine **engine);
clrn_status clrn_engine_run(clrn_engine *engine, const float *input, int batch,
                            float *logits, float *probabilities);
int clrn_engine_num_classes(const clrn_engine *engine);
size_t clrn_engine_device_count(const clrn_engine *engine);
int clrn_engine_last_shard(const clrn_engine *engine, size_t i);
void clrn_engine_release(clrn_engine *engine);

clrn_status clrn_image_load(const char *path, clrn_image *image);
void clrn_image_free(clrn_image *image);
void clrn_preprocess_default(clrn_preprocess *preprocess);
void clrn_preprocess_caffe(clrn_preprocess *preprocess);
clrn_status clrn_image_preprocess(const clrn_image *image,
                                  const clrn_preprocess *preprocess, float *out);
"""

ffi = cffi.FFI()
ffi.cdef(TYPES + FUNCTIONS)

#: The folder the package was installed to: libclresnet.so and the class names.
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

lib = ffi.dlopen(os.path.join(PACKAGE_DIR, "libclresnet.so"))
