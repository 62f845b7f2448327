/* ONNX TensorProto values, decoded and validated: the shape, and the contents as
 * float32 or int64. Shared by the ONNX model importer (initializers, Constant
 * nodes) and the conformance tests (the .pb input and output files of ONNX's node
 * tests). The protobuf-c message code is generated at build time from Debian's
 * onnx.proto (see CMakeLists.txt). Data stored outside the message (external data)
 * is refused. */
#ifndef CLRN_WEIGHTS_ONNX_TENSOR_H
#define CLRN_WEIGHTS_ONNX_TENSOR_H

#include <stdint.h>

#include "clresnet/status.h"
#include "onnx.pb-c.h"

/* Most dimensions a tensor may have. */
#define CLRN_ONNX_MAX_DIMS 8

/** The shape of t: ndim dims into shape (room for CLRN_ONNX_MAX_DIMS) and their
 * product into elements. Fails with CLRN_STATUS_INVALID_FORMAT, naming the tensor,
 * for a negative dimension, too many dimensions or a count that overflows. */
clrn_status clrn_onnx_tensor_shape(const Onnx__TensorProto *t, int *ndim, int64_t *shape,
                                   uint64_t *elements);

/** Writes the elements values of a FLOAT, FLOAT16, BFLOAT16 or DOUBLE tensor into
 * out as float32, from raw_data or the typed field, whichever holds them. Fails
 * naming the tensor when the stored count differs from elements, the type is
 * another one, or the data is external. */
clrn_status clrn_onnx_tensor_read_f32(const Onnx__TensorProto *t, float *out, uint64_t elements);

/** Writes the elements values of an INT64 or INT32 tensor into out (shapes, axes). */
clrn_status clrn_onnx_tensor_read_i64(const Onnx__TensorProto *t, int64_t *out, uint64_t elements);

/** Reads a file holding one serialized TensorProto (a node test's input_0.pb).
 * Free *t with onnx__tensor_proto__free_unpacked(*t, NULL). */
clrn_status clrn_onnx_tensor_load(const char *path, Onnx__TensorProto **t);

/** The name of ONNX data type code (for messages): "FLOAT", "INT64", ... or "?". */
const char *clrn_onnx_type_name(int32_t data_type);

#endif
