/* The execution plan of a ResNet on one device: the graph turned into a list of
 * steps (each one op launch), with BatchNorm folded into the convolutions and
 * ReLU and the residual add fused into their epilogues (unless fusion is off),
 * the op objects created with their weights uploaded, and every intermediate
 * tensor assigned to a reusable buffer slot by liveness.
 *
 * Slots are sized per image; the scheduler allocates each slot for the batch it
 * runs. The network input, the logits and the probabilities live in buffers of
 * their own (CLRN_SLOT_INPUT, CLRN_SLOT_LOGITS, CLRN_SLOT_PROBS) so the scheduler
 * can double-buffer them across batches. */
#ifndef CLRN_PLAN_PLAN_H
#define CLRN_PLAN_PLAN_H

#include "clresnet/model.h"
#include "clresnet/ops.h"
#include "nn/graph.h"

#define CLRN_SLOT_INPUT (-2)
#define CLRN_SLOT_LOGITS (-3)
#define CLRN_SLOT_PROBS (-4)

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
  char name[48];   /**< the module it computes: "layer3.2.conv2" (fused: the conv's name) */
  char kernel[32]; /**< what runs: "conv2d/blocked", "batchnorm", "sgemm", ... */
  int inputs[2];   /**< value indices (inputs[1]: residual or second addend, else -1) */
  int output;      /**< value index */
  int queue;       /**< 0 main path, 1 downsample path */
  double macs;     /**< multiply-adds per image */
  bool relu;       /**< ADD: ReLU after the sum */
  clrn_pool2d_desc pool;
  clrn_conv2d *conv;
  clrn_batchnorm *batchnorm;
  clrn_linear *linear;
} clrn_step;

typedef struct clrn_plan {
  clrn_graph graph;
  clrn_step *steps;
  size_t step_count;
  int probs_value;     /**< value index of the softmax output */
  int *value_slot;     /**< per value: slot index or a CLRN_SLOT_* constant */
  size_t *slot_floats; /**< per slot: floats per image */
  size_t slot_count;
  size_t weight_bytes; /**< device bytes of all parameters */
} clrn_plan;

/** Builds the plan on context for height x width inputs. */
clrn_status clrn_plan_build(clrn_context *context, const clrn_weights *weights, int height,
                            int width, bool fuse, clrn_plan *plan);

/** Assigns every value to a buffer slot by liveness (memory.c): a slot is reused
 * once its value's last reader is planned; BatchNorm, ReLU and add run in place
 * when their input dies with them. */
clrn_status clrn_plan_assign_slots(clrn_plan *plan);

/** Releases the op objects and arrays. Safe on a zeroed plan. */
void clrn_plan_free(clrn_plan *plan);

/** Floats per image of a value. */
size_t clrn_plan_value_floats(const clrn_plan *plan, int value);

/** Activation bytes per image across all slots (the planned peak). */
size_t clrn_plan_activation_bytes_per_image(const clrn_plan *plan);

#endif
