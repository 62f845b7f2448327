/* ONNX TensorProto decoding (see onnx_tensor.h). Little-endian raw_data is
 * converted byte by byte, so neither alignment nor the host's byte order matters. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "io/file.h"
#include "weights/onnx_tensor.h"
#include "weights/safetensors.h"

/* Largest .pb file read whole (a node test's tensors are a few kilobytes; a model's
 * initializers are read through the model file, not this). */
#define MAX_TENSOR_FILE (256u << 20)

static const char *tensor_name(const Onnx__TensorProto *t) {
  return t && t->name && t->name[0] ? t->name : "(unnamed)";
}

const char *clrn_onnx_type_name(int32_t data_type) {
  switch (data_type) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return "FLOAT";
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return "UINT8";
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return "INT8";
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return "INT32";
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return "INT64";
  case ONNX__TENSOR_PROTO__DATA_TYPE__STRING: return "STRING";
  case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return "BOOL";
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: return "FLOAT16";
  case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: return "DOUBLE";
  case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16: return "BFLOAT16";
  default: return "?";
  }
}

clrn_status clrn_onnx_tensor_shape(const Onnx__TensorProto *t, int *ndim, int64_t *shape,
                                   uint64_t *elements) {
  if (!t || !ndim || !shape || !elements)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_onnx_tensor_shape: NULL argument");
  if (t->n_dims > CLRN_ONNX_MAX_DIMS)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                     "ONNX tensor '%.200s' has %zu dimensions (at most %d)", tensor_name(t),
                     t->n_dims, CLRN_ONNX_MAX_DIMS);
  uint64_t count = 1;
  for (size_t i = 0; i < t->n_dims; i++) {
    int64_t d = t->dims[i];
    if (d < 0 || (d > 0 && count > UINT64_MAX / 8 / (uint64_t)d))
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "ONNX tensor '%.200s' has a bad dimension %lld",
                       tensor_name(t), (long long)d);
    count *= (uint64_t)d;
    shape[i] = d;
  }
  *ndim = (int)t->n_dims;
  *elements = count;
  return CLRN_STATUS_SUCCESS;
}

/* Fails unless the tensor's values are inside the message. */
static clrn_status check_local(const Onnx__TensorProto *t) {
  if ((t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
      t->n_external_data)
    return clrn_fail(
        CLRN_STATUS_UNSUPPORTED,
        "ONNX tensor '%.200s' keeps its data in an external file, which is not supported",
        tensor_name(t));
  if (t->segment)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "ONNX tensor '%.200s' is segmented, which is not supported", tensor_name(t));
  return CLRN_STATUS_SUCCESS;
}

static clrn_status count_mismatch(const Onnx__TensorProto *t, uint64_t stored, uint64_t expected) {
  return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                   "ONNX tensor '%.200s' stores %llu values where its shape needs %llu",
                   tensor_name(t), (unsigned long long)stored, (unsigned long long)expected);
}

/* Reads a little-endian IEEE double. */
static double read_f64(const unsigned char *p) {
  uint64_t bits = 0;
  for (int i = 7; i >= 0; i--)
    bits = bits << 8 | p[i];
  double d;
  memcpy(&d, &bits, sizeof d);
  return d;
}

clrn_status clrn_onnx_tensor_read_f32(const Onnx__TensorProto *t, float *out, uint64_t elements) {
  if (!t || (!out && elements))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_onnx_tensor_read_f32: NULL argument");
  CLRN_TRY(check_local(t));
  int32_t type = t->data_type;
  clrn_dtype dtype;
  size_t size;
  switch (type) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: dtype = CLRN_DTYPE_F32, size = 4; break;
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: dtype = CLRN_DTYPE_F16, size = 2; break;
  case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16: dtype = CLRN_DTYPE_BF16, size = 2; break;
  case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: dtype = CLRN_DTYPE_F64, size = 8; break;
  default:
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "ONNX tensor '%.200s' has type %s (%d), not a float type", tensor_name(t),
                     clrn_onnx_type_name(type), (int)type);
  }
  if (t->has_raw_data) {
    if (t->raw_data.len != elements * size)
      return count_mismatch(t, t->raw_data.len / size, elements);
    if (dtype == CLRN_DTYPE_F64)
      for (uint64_t i = 0; i < elements; i++)
        out[i] = (float)read_f64(t->raw_data.data + 8 * i);
    else
      clrn_dtype_convert_f32(dtype, t->raw_data.data, elements, out);
    return CLRN_STATUS_SUCCESS;
  }
  if (dtype == CLRN_DTYPE_F32) {
    if (t->n_float_data != elements)
      return count_mismatch(t, t->n_float_data, elements);
    memcpy(out, t->float_data, elements * sizeof *out);
  } else if (dtype == CLRN_DTYPE_F64) {
    if (t->n_double_data != elements)
      return count_mismatch(t, t->n_double_data, elements);
    for (uint64_t i = 0; i < elements; i++)
      out[i] = (float)t->double_data[i];
  } else { /* FLOAT16 and BFLOAT16 are kept in int32_data, one 16-bit pattern each */
    if (t->n_int32_data != elements)
      return count_mismatch(t, t->n_int32_data, elements);
    for (uint64_t i = 0; i < elements; i++) {
      unsigned char bytes[2] = {(unsigned char)(t->int32_data[i] & 0xFF),
                                (unsigned char)(t->int32_data[i] >> 8 & 0xFF)};
      clrn_dtype_convert_f32(dtype, bytes, 1, out + i);
    }
  }
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_onnx_tensor_read_i64(const Onnx__TensorProto *t, int64_t *out, uint64_t elements) {
  if (!t || (!out && elements))
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_onnx_tensor_read_i64: NULL argument");
  CLRN_TRY(check_local(t));
  int32_t type = t->data_type;
  bool is64 = type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
  if (!is64 && type != ONNX__TENSOR_PROTO__DATA_TYPE__INT32)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "ONNX tensor '%.200s' has type %s (%d), not an integer type", tensor_name(t),
                     clrn_onnx_type_name(type), (int)type);
  size_t size = is64 ? 8 : 4;
  if (t->has_raw_data) {
    if (t->raw_data.len != elements * size)
      return count_mismatch(t, t->raw_data.len / size, elements);
    for (uint64_t i = 0; i < elements; i++) {
      uint64_t v = 0;
      for (size_t b = size; b-- > 0;)
        v = v << 8 | t->raw_data.data[i * size + b];
      out[i] = is64 ? (int64_t)v : (int64_t)(int32_t)(uint32_t)v;
    }
    return CLRN_STATUS_SUCCESS;
  }
  uint64_t stored = is64 ? t->n_int64_data : t->n_int32_data;
  if (stored != elements)
    return count_mismatch(t, stored, elements);
  for (uint64_t i = 0; i < elements; i++)
    out[i] = is64 ? t->int64_data[i] : t->int32_data[i];
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_onnx_tensor_load(const char *path, Onnx__TensorProto **t) {
  if (!path || !t)
    return clrn_fail(CLRN_STATUS_INVALID_ARGUMENT, "clrn_onnx_tensor_load: NULL argument");
  *t = NULL;
  FILE *file;
  uint64_t size;
  CLRN_TRY(clrn_file_open_regular(path, &file, &size));
  if (size > MAX_TENSOR_FILE) {
    fclose(file);
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: %llu bytes, more than a tensor file may have",
                     path, (unsigned long long)size);
  }
  unsigned char *bytes = malloc(size ? size : 1);
  if (!bytes) {
    fclose(file);
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "%s: out of memory", path);
  }
  size_t got = fread(bytes, 1, size, file);
  fclose(file);
  if (got != size) {
    free(bytes);
    return clrn_fail(CLRN_STATUS_IO_ERROR, "%s: could not read the whole file", path);
  }
  *t = onnx__tensor_proto__unpack(NULL, size, bytes);
  free(bytes);
  if (!*t)
    return clrn_fail(CLRN_STATUS_INVALID_FORMAT, "%s: not a valid ONNX TensorProto", path);
  return CLRN_STATUS_SUCCESS;
}
