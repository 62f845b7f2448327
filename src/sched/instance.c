/* A plan's op objects on one device (see instance.h). */
#include "sched/instance.h"

#include <stdlib.h>

#include "base/error.h"
#include "ops/conv2d_packed.h"
#include "ops/ops_internal.h"

static clrn_conv2d_desc conv_desc(const clrn_step *s) {
  const clrn_conv_shape *c = &s->conv;
  return (clrn_conv2d_desc){.in_channels = c->in_channels,
                            .out_channels = c->out_channels,
                            .kernel_h = c->kernel_h,
                            .kernel_w = c->kernel_w,
                            .stride_h = c->stride_h,
                            .stride_w = c->stride_w,
                            .pad_h = c->pad_h,
                            .pad_w = c->pad_w,
                            .groups = c->groups,
                            .relu = c->relu,
                            .variant = (clrn_conv2d_variant)s->config.variant};
}

clrn_pool2d_desc clrn_instance_pool(const clrn_step *s) {
  return (clrn_pool2d_desc){.kernel_h = s->window[0],
                            .kernel_w = s->window[0],
                            .stride_h = s->window[1],
                            .stride_w = s->window[1],
                            .pad_h = s->window[2],
                            .pad_w = s->window[2]};
}

/* The op object of step s; half: the plan stores activations as half (the
 * convolution's config says so itself). */
static clrn_status make_op(clrn_context *ctx, const clrn_step *s, bool half, clrn_step_op *op) {
  int in = s->channels[0], out = s->channels[1];
  const float *p = s->params;
  switch (s->kind) {
  case CLRN_STEP_CONV: {
    clrn_conv2d_desc desc = conv_desc(s);
    return clrn_conv2d_create_packed(ctx, &desc, &s->config, &s->packed, &op->conv);
  }
  case CLRN_STEP_BATCHNORM: /* params: mean, var, weight, bias */
    CLRN_TRY(clrn_batchnorm_create(ctx, out, p, p + out, p + 2 * out, p + 3 * out, s->eps,
                                   &op->batchnorm));
    return half ? clrn_batchnorm_store_half(op->batchnorm) : CLRN_STATUS_SUCCESS;
  case CLRN_STEP_LINEAR: /* params: weight, then bias */
    CLRN_TRY(clrn_linear_create(ctx, in, out, p, p + (size_t)in * out, &op->linear));
    return half ? clrn_linear_store_half(op->linear) : CLRN_STATUS_SUCCESS;
  default: return CLRN_STATUS_SUCCESS;
  }
}

clrn_status clrn_instance_create(clrn_context *ctx, const clrn_plan *plan, clrn_step_op **out) {
  *out = NULL;
  clrn_step_op *ops = calloc(plan->step_count ? plan->step_count : 1, sizeof *ops);
  if (!ops)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "op objects");
  for (size_t i = 0; i < plan->step_count; i++) {
    clrn_status status = make_op(ctx, &plan->steps[i], clrn_plan_element_bytes(plan) == 2, &ops[i]);
    if (status != CLRN_STATUS_SUCCESS) {
      clrn_instance_release(ops, plan->step_count);
      return clrn_fail_prefix(status, "%s", plan->steps[i].name);
    }
  }
  *out = ops;
  return CLRN_STATUS_SUCCESS;
}

void clrn_instance_release(clrn_step_op *ops, size_t count) {
  for (size_t i = 0; ops && i < count; i++) {
    clrn_conv2d_release(ops[i].conv);
    clrn_batchnorm_release(ops[i].batchnorm);
    clrn_linear_release(ops[i].linear);
  }
  free(ops);
}
