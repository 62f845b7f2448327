/* The execution plan of a ResNet, device-free: the graph turned into a list of
 * steps (each one op launch), with BatchNorm folded into the convolutions and
 * ReLU and the residual add fused into their epilogues (unless fusion is off),
 * each convolution's algorithm and parameters chosen and its host weights
 * folded and packed in the layout that algorithm reads, and every intermediate
 * tensor assigned to a reusable buffer slot by liveness. A plan holds no OpenCL
 * object: it is built once and shared by every device whose tuning values
 * (clrn_conv_tuning, which includes the run's precision) are the same, and each
 * device's model instantiates its op
 * objects from it (sched/instance.c), uploading the weights as they are.
 *
 * Slots are sized per image; the scheduler allocates each slot for the batch it
 * runs. The network input, the logits and the probabilities live in buffers of
 * their own (CLRN_SLOT_INPUT, CLRN_SLOT_LOGITS, CLRN_SLOT_PROBS) so the scheduler
 * can double-buffer them across batches. */
#ifndef CLRN_PLAN_PLAN_H
#define CLRN_PLAN_PLAN_H

#include "nn/graph.h"
#include "plan/conv2d_pack.h"

#define CLRN_SLOT_INPUT (-2)
#define CLRN_SLOT_LOGITS (-3)
#define CLRN_SLOT_PROBS (-4)

/** Compute queues a plan's steps use: 0 the main path, 1 a block's downsample path. */
#define CLRN_PLAN_QUEUES 2

typedef enum clrn_step_kind {
  CLRN_STEP_CONV,
  CLRN_STEP_BATCHNORM,
  CLRN_STEP_RELU,
  CLRN_STEP_ADD,
  CLRN_STEP_MAXPOOL,
  CLRN_STEP_AVGPOOL,
  CLRN_STEP_LINEAR,
  CLRN_STEP_SOFTMAX,
} clrn_step_kind;

typedef struct clrn_step {
  clrn_step_kind kind;
  char name[48];        /**< the module it computes: "layer3.2.conv2" (fused: the conv's name) */
  char kernel[32];      /**< what runs: "conv2d/blocked", "batchnorm", "linear", ... */
  char choice[48];      /**< CONV: the algorithm and its parameters, "blocked oc16x6 v8 wg4 pf2" */
  int inputs[2];        /**< value indices (inputs[1]: residual or second addend, else -1) */
  int output;           /**< value index */
  int queue;            /**< 0 main path, 1 downsample path */
  double macs;          /**< multiply-adds per image */
  bool relu;            /**< ADD: ReLU after the sum */
  int window[3];        /**< MAXPOOL: square kernel, stride, padding */
  int channels[2];      /**< CONV, BATCHNORM, LINEAR: input and output channels (features) */
  clrn_conv_shape conv; /**< CONV: the shape (relu: ReLU fused in) */
  clrn_conv2d_config config; /**< CONV: the algorithm and its parameters */
  clrn_conv2d_packed packed; /**< CONV: folded weight and epilogue in config's layout */
  float *params;             /**< BATCHNORM: mean, var, weight, bias; LINEAR: weight then bias */
  float eps;                 /**< BATCHNORM */
} clrn_step;

typedef struct clrn_plan {
  clrn_graph graph;
  clrn_conv_tuning tuning; /**< the tuning values the choices were made with */
  clrn_step *steps;
  size_t step_count;
  int probs_value;     /**< value index of the softmax output */
  int *value_slot;     /**< per value: slot index or a CLRN_SLOT_* constant */
  size_t *slot_floats; /**< per slot: floats per image */
  size_t slot_count;
} clrn_plan;

/** Builds the plan of weights' network for height x width inputs, choosing each
 * convolution's algorithm from tuning. Touches no device. */
clrn_status clrn_plan_build(const clrn_conv_tuning *tuning, const clrn_weights *weights, int height,
                            int width, bool fuse, clrn_plan *plan);

/** Assigns every value to a buffer slot by liveness (memory.c): a slot is reused
 * once its value's last reader is planned; BatchNorm, ReLU and add run in place
 * when their input dies with them. */
clrn_status clrn_plan_assign_slots(clrn_plan *plan);

/** Frees the steps' host weights and the arrays. Safe on a zeroed plan. */
void clrn_plan_free(clrn_plan *plan);

/** Elements per image of a value. */
size_t clrn_plan_value_floats(const clrn_plan *plan, int value);

/** Bytes of one stored activation (slots and the network input; logits and
 * probabilities are always float): 2 when the plan's precision is
 * CLRN_PRECISION_FP16, else 4. */
size_t clrn_plan_element_bytes(const clrn_plan *plan);

/** Device memory a plan needs on one device (memory.c). The memory policy fits
 * the batch by it (sched/model.c) and the scheduler allocates exactly it
 * (sched/exec.c). Sizes per image unless said otherwise. */
typedef struct clrn_plan_memory {
  size_t weight_bytes;     /**< parameters as the op objects hold them; once, not per image */
  size_t activation_bytes; /**< every slot */
  size_t io_bytes;         /**< input, logits and probabilities, two of each (double-buffered) */
  /** Per compute queue, the padded-input workspace its convolutions share (they run one
   * after another there): the largest any of them needs. */
  size_t workspace_bytes[CLRN_PLAN_QUEUES];
  size_t
      largest_buffer_bytes; /**< the largest single buffer, against the device's max allocation */
} clrn_plan_memory;

/** Computes what plan needs (see clrn_plan_memory). */
void clrn_plan_memory_needs(const clrn_plan *plan, clrn_plan_memory *memory);

/** Device bytes for batch images: the weights once plus batch times the rest. */
size_t clrn_plan_memory_bytes(const clrn_plan_memory *memory, int batch);

#endif
