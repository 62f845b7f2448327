/* Liveness-based buffer slots for a plan's intermediate tensors, and the device
 * memory a plan needs (see plan.h). Slots, the network input, padded-input
 * workspaces and convolution weights take clrn_plan_element_bytes() per element
 * (2 for --precision fp16); logits, probabilities, epilogues, BatchNorm and linear
 * parameters are float in every mode. */
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/error.h"
#include "plan/plan.h"

typedef struct slot_info {
  size_t floats; /* per image */
  bool busy;     /* holds a value that is still to be read */
} slot_info;

typedef struct slot_pool {
  slot_info *slots;
  size_t count, capacity;
} slot_pool;

/* Best fit: the smallest free slot that holds need floats, else the largest free
 * slot (grown), else a new slot. Returns the slot or -1 when out of memory. */
static int take_slot(slot_pool *pool, size_t need) {
  int best = -1, largest = -1;
  for (size_t i = 0; i < pool->count; i++) {
    const slot_info *s = &pool->slots[i];
    if (s->busy)
      continue;
    if (s->floats >= need && (best < 0 || s->floats < pool->slots[best].floats))
      best = (int)i;
    if (largest < 0 || s->floats > pool->slots[largest].floats)
      largest = (int)i;
  }
  if (best < 0 && largest >= 0) {
    best = largest;
    pool->slots[best].floats = need;
  }
  if (best < 0) {
    if (clrn_array_reserve((void **)&pool->slots, &pool->capacity, pool->count + 1,
                           sizeof *pool->slots, 8, "buffer plan") != CLRN_STATUS_SUCCESS)
      return -1;
    best = (int)pool->count++;
    pool->slots[best].floats = need;
  }
  pool->slots[best].busy = true;
  return best;
}

static bool runs_in_place(clrn_step_kind kind) {
  return kind == CLRN_STEP_BATCHNORM || kind == CLRN_STEP_RELU || kind == CLRN_STEP_ADD;
}

clrn_status clrn_plan_assign_slots(clrn_plan *plan) {
  const clrn_graph *g = &plan->graph;
  size_t values = g->value_count;
  int *last_use = malloc(values * sizeof *last_use);
  plan->value_slot = malloc(values * sizeof *plan->value_slot);
  slot_pool pool = {0};
  if (!last_use || !plan->value_slot) {
    free(last_use);
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "buffer plan");
  }
  for (size_t v = 0; v < values; v++) {
    last_use[v] = -1;
    plan->value_slot[v] = -1;
  }
  for (size_t i = 0; i < plan->step_count; i++)
    for (int k = 0; k < 2; k++)
      if (plan->steps[i].inputs[k] >= 0)
        last_use[plan->steps[i].inputs[k]] = (int)i;
  plan->value_slot[g->input] = CLRN_SLOT_INPUT;
  plan->value_slot[g->output] = CLRN_SLOT_LOGITS;
  plan->value_slot[plan->probs_value] = CLRN_SLOT_PROBS;

  clrn_status status = CLRN_STATUS_SUCCESS;
  for (size_t i = 0; i < plan->step_count && status == CLRN_STATUS_SUCCESS; i++) {
    const clrn_step *s = &plan->steps[i];
    int in = s->inputs[0];
    bool in_place = runs_in_place(s->kind) && in >= 0 && plan->value_slot[in] >= 0 &&
                    last_use[in] == (int)i && plan->value_slot[s->output] == -1;
    if (in_place) {
      plan->value_slot[s->output] = plan->value_slot[in];
    } else if (plan->value_slot[s->output] == -1) {
      int slot = take_slot(&pool, clrn_plan_value_floats(plan, s->output));
      if (slot < 0)
        status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "buffer plan");
      plan->value_slot[s->output] = slot;
    }
    /* Inputs that die here free their slots (unless the output took it over). */
    for (int k = 0; k < 2; k++) {
      int v = s->inputs[k];
      if (v >= 0 && last_use[v] == (int)i && plan->value_slot[v] >= 0 &&
          plan->value_slot[v] != plan->value_slot[s->output])
        pool.slots[plan->value_slot[v]].busy = false;
    }
  }
  free(last_use);
  plan->slot_floats = pool.count ? malloc(pool.count * sizeof *plan->slot_floats) : NULL;
  if (pool.count && !plan->slot_floats && status == CLRN_STATUS_SUCCESS)
    status = clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "buffer plan");
  for (size_t i = 0; plan->slot_floats && i < pool.count; i++)
    plan->slot_floats[i] = pool.slots[i].floats;
  plan->slot_count = plan->slot_floats ? pool.count : 0;
  free(pool.slots);
  return status;
}

static size_t max_size(size_t a, size_t b) { return a > b ? a : b; }

size_t clrn_plan_element_bytes(const clrn_plan *plan) {
  return clrn_precision_storage_bytes(plan->tuning.precision);
}

/* Device bytes of a step's parameters, as its op object holds them. */
static size_t step_weight_bytes(const clrn_step *s, size_t element) {
  size_t in = (size_t)s->channels[0], out = (size_t)s->channels[1];
  switch (s->kind) {
  case CLRN_STEP_CONV:
    return s->packed.weight_count * element + s->packed.epilogue_count * sizeof(float);
  case CLRN_STEP_BATCHNORM: return 2 * out * sizeof(float); /* folded to scale and shift */
  case CLRN_STEP_LINEAR: return (in * out + out) * sizeof(float);
  default: return 0;
  }
}

void clrn_plan_memory_needs(const clrn_plan *plan, clrn_plan_memory *m) {
  memset(m, 0, sizeof *m);
  size_t element = clrn_plan_element_bytes(plan);
  for (size_t i = 0; i < plan->slot_count; i++) {
    size_t bytes = plan->slot_floats[i] * element;
    m->activation_bytes += bytes;
    m->largest_buffer_bytes = max_size(m->largest_buffer_bytes, bytes);
  }
  size_t in = clrn_plan_value_floats(plan, plan->graph.input) * element;
  size_t out = clrn_plan_value_floats(plan, plan->graph.output) * sizeof(float);
  m->io_bytes = 2 * (in + 2 * out);
  m->largest_buffer_bytes = max_size(m->largest_buffer_bytes, max_size(in, out));
  for (size_t i = 0; i < plan->step_count; i++) {
    const clrn_step *s = &plan->steps[i];
    m->weight_bytes += step_weight_bytes(s, element);
    if (s->kind != CLRN_STEP_CONV)
      continue;
    const clrn_value *v = &plan->graph.values[s->output];
    size_t padded = clrn_conv2d_padded_bytes(&s->conv, &s->config, v->h, v->w);
    int q = s->queue >= 0 && s->queue < CLRN_PLAN_QUEUES ? s->queue : 0;
    m->workspace_bytes[q] = max_size(m->workspace_bytes[q], padded);
    m->largest_buffer_bytes = max_size(m->largest_buffer_bytes, padded);
  }
}

size_t clrn_plan_memory_bytes(const clrn_plan_memory *m, int batch) {
  size_t per_image = m->activation_bytes + m->io_bytes;
  for (int q = 0; q < CLRN_PLAN_QUEUES; q++)
    per_image += m->workspace_bytes[q];
  return m->weight_bytes + (size_t)batch * per_image;
}
