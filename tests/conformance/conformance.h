/* ONNX node conformance: ONNX's own one-node test cases (Debian's libonnx-testdata,
 * data/node/test_* / model.onnx + test_data_set_* / input_N.pb, output_N.pb) run
 * through clresnet's op API (include/clresnet/ops.h) and compared with ONNX's
 * expected outputs. A case loads as a node (its attributes through the protobuf-c
 * API) and its input and expected output tensors as float32; a runner maps the
 * node onto the op API, or refuses it with a reason the summary counts. See
 * tests/conformance/README.md. */
#ifndef CLRN_TESTS_CONFORMANCE_H
#define CLRN_TESTS_CONFORMANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clresnet/clresnet.h"
#include "onnx.pb-c.h"
#include "ops_test.h"
#include "weights/onnx_tensor.h"

/* The tolerance of ONNX's own backend tests (onnx/backend/test/runner: numpy's
 * assert_allclose with rtol 1e-3, atol 1e-7). */
#define CONF_RTOL 1e-3
#define CONF_ATOL 1e-7

/* Most inputs and outputs a node may have here (BatchNormalization has 5 and 3). */
#define CONF_MAX_IO 8

/** A float32 tensor on the host: shape and values. data is NULL for an absent
 * optional input. */
typedef struct conf_tensor {
  int32_t type; /* ONNX data type; data is read only for FLOAT */
  int ndim;
  int64_t shape[CLRN_ONNX_MAX_DIMS];
  size_t count;
  float *data;
} conf_tensor;

/** One data set of a node test: the node, its inputs in the node's order and the
 * expected outputs. */
typedef struct conf_case {
  const char *name;            /* the test folder's name, test_... */
  const Onnx__NodeProto *node; /* the model's single node */
  int64_t opset;               /* of the default ONNX domain */
  int n_inputs, n_outputs;
  conf_tensor inputs[CONF_MAX_IO];
  conf_tensor outputs[CONF_MAX_IO];
} conf_case;

/** A runner's refusal: reason is the short class the summary counts ("dilations
 * other than 1"), detail says what exactly this case asked for. */
typedef struct conf_skip {
  const char *reason;
  char detail[256];
} conf_skip;

/** What a runner did: computed out (CONF_RAN), refused the case (CONF_SKIPPED, skip
 * filled) or failed (CONF_ERROR: an op call that should have worked did not; the
 * message is printed). */
typedef enum conf_outcome { CONF_RAN, CONF_SKIPPED, CONF_ERROR } conf_outcome;

/** Runs a case on context's first queue: fills out (shape and malloc'd data) with
 * the node's first output. */
typedef conf_outcome (*conf_runner)(clrn_context *context, const conf_case *c, conf_tensor *out,
                                    conf_skip *skip);

/** Sets skip's reason and formatted detail; returns CONF_SKIPPED. */
conf_outcome conf_refuse(conf_skip *skip, const char *reason, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/** Prints the failed op call with the library's last error; returns CONF_ERROR. */
conf_outcome conf_error(const char *call, clrn_status status);

/* ---- cases ------------------------------------------------------------------ */

/** Reads a test folder's model.onnx; NULL (with a message printed) when it cannot. */
Onnx__ModelProto *conf_model_load(const char *dir);

/** Loads the data set in set_dir for the graph's single node into c: each node
 * input from the graph's initializers or else input_<k>.pb (k its place among the
 * graph's inputs), each output from output_<k>.pb. Inputs that are not float32 are refused (skip
 * filled); outputs that are not keep only their type. CONF_ERROR when a file is missing or
 * malformed. */
conf_outcome conf_case_load(const char *set_dir, const Onnx__GraphProto *graph, conf_case *c,
                            conf_skip *skip);

/** Frees the tensors of a case. */
void conf_case_free(conf_case *c);

/** Whether got matches want as ONNX's backend tests compare (numpy's
 * assert_allclose): |got - want| <= atol + rtol |want| for every element, NaN
 * where want is NaN, equal infinities. Prints the first mismatches. */
bool conf_compare(const char *name, const conf_tensor *got, const conf_tensor *want, double rtol,
                  double atol);

/** The largest |got - want| / (atol + rtol |want|) among the elements that passed
 * conf_compare so far, and the name it was compared under. */
extern double conf_worst_ratio;
extern char conf_worst_case[256];

/* ---- node attributes -------------------------------------------------------- */

/** The node's attribute called name, or NULL. */
const Onnx__AttributeProto *conf_attr(const Onnx__NodeProto *node, const char *name);

/** An INT attribute, or fallback when absent. */
int64_t conf_attr_int(const Onnx__NodeProto *node, const char *name, int64_t fallback);

/** A FLOAT attribute, or fallback when absent. */
float conf_attr_float(const Onnx__NodeProto *node, const char *name, float fallback);

/** Whether a STRING attribute is present and equals value. An absent one equals
 * fallback_value. */
bool conf_attr_string_is(const Onnx__NodeProto *node, const char *name, const char *value,
                         const char *fallback_value);

/** An INTS attribute's count and values (NULL, 0 when absent). */
const int64_t *conf_attr_ints(const Onnx__NodeProto *node, const char *name, size_t *count);

/* ---- tensors ---------------------------------------------------------------- */

/** Allocates out's data for a tensor of the given shape (ndim dims). */
void conf_tensor_alloc(conf_tensor *out, int ndim, const int64_t *shape);

/** Formats a shape as "[2,3,4]" into buffer. */
const char *conf_shape_string(const conf_tensor *t, char *buffer, size_t size);

/** Whether every dimension fits an int (the op API's tensor fields). */
bool conf_fits_int(const conf_tensor *t);

/** A one-input op of the op API and what it needs besides its tensors. */
typedef enum conf_op_kind {
  CONF_OP_CONV,
  CONF_OP_MAXPOOL,
  CONF_OP_AVGPOOL,
  CONF_OP_GLOBAL_AVGPOOL,
  CONF_OP_BATCHNORM,
  CONF_OP_RELU,
  CONF_OP_SOFTMAX,
  CONF_OP_LINEAR,
} conf_op_kind;

typedef struct conf_op {
  conf_op_kind kind;
  const clrn_pool2d_desc *pool; /* MAXPOOL, AVGPOOL */
  clrn_conv2d *conv;
  clrn_batchnorm *batchnorm;
  clrn_linear *linear;
} conf_op;

/** Runs a one-input op: uploads x viewed as the NCHW tensor in[4], runs op into a
 * NaN-filled output viewed as out_nchw[4] (out already allocated with as many
 * elements) and reads it into out. */
conf_outcome conf_run_op(clrn_context *context, const conf_op *op, const conf_tensor *x,
                         const int *in, conf_tensor *out, const int *out_nchw);

/* ---- runners (run_window.c, run_other.c) --------------------------------------- */

#define CONF_RUNNER(name)                                                                          \
  conf_outcome name(clrn_context *context, const conf_case *c, conf_tensor *out, conf_skip *skip)
CONF_RUNNER(conf_run_conv);
CONF_RUNNER(conf_run_pool);
CONF_RUNNER(conf_run_global_avgpool);
CONF_RUNNER(conf_run_batchnorm);
CONF_RUNNER(conf_run_relu);
CONF_RUNNER(conf_run_add);
CONF_RUNNER(conf_run_softmax);
CONF_RUNNER(conf_run_flatten);
CONF_RUNNER(conf_run_gemm);
CONF_RUNNER(conf_run_matmul);

#endif
