/* The device-free plan, built here with no OpenCL at all: every convolution step
 * records the algorithm and parameters it runs with, holds its weight with the
 * BatchNorm folded in and packed in that algorithm's layout, and the memory needs
 * follow from the steps (packed weights, slots, double-buffered I/O, one padded-
 * input workspace per queue). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "plan/plan.h"
#include "runtime/profile.h"
#include "weights/weights.h"

#define SIZE 64
#define CLASSES 1000

static clrn_weights *weights;

/* pocl-cpu's values, and the same with the blocked kernel off. */
static const clrn_conv_tuning blocked = {.vec = 8,
                                         .cout_block = 16,
                                         .pix_block = 6,
                                         .direct_wg = 64,
                                         .blocked_wg = 4,
                                         .auto_blocked = 1,
                                         .pixels_first = 2};
static clrn_conv_tuning direct;

static const clrn_step *find_step(const clrn_plan *p, const char *name) {
  for (size_t i = 0; i < p->step_count; i++)
    if (strcmp(p->steps[i].name, name) == 0)
      return &p->steps[i];
  return NULL;
}

/* The GPU profiles (devices/nvidia.json, amd.json, intel-gpu.json, resolved by name
 * as CLRN_PROFILE does) choose the implicit GEMM, so the network tests under them
 * run it. With those values a ResNeXt-50 plan runs every convolution on it except
 * the grouped ones with fewer than IGEMM_BM/2 output channels per group, with the
 * kernel specialised for the window and the blocked layout of IGEMM_BM channels. */
static void test_igemm_choices(void) {
  static const char *const gpus[] = {"nvidia", "nvidia-hopper", "amd", "intel-gpu"};
  clrn_device_info device;
  memset(&device, 0, sizeof device);
  for (size_t g = 0; g < sizeof gpus / sizeof gpus[0]; g++) {
    clrn_profile *profile = NULL;
    CLRN_ASSERT_OK(clrn_profile_resolve(&device, gpus[g], &profile));
    CU_ASSERT_EQUAL(clrn_profile_value(profile, CLRN_TUNING_CONV_AUTO_IGEMM), 1);
    clrn_profile_free(profile);
  }
  clrn_conv_tuning igemm = blocked;
  igemm.auto_igemm = 1;
  igemm.igemm_bm = 64;
  igemm.igemm_bn = 32;
  igemm.igemm_bk = 8;
  igemm.igemm_tm = 4;
  igemm.igemm_tn = 2;
  CU_ASSERT(!clrn_conv_tuning_equal(&igemm, &blocked));
  clrn_weights *wx = NULL;
  CLRN_ASSERT_OK(clrn_weights_random(CLRN_ARCH_RESNEXT50_32X4D, CLASSES, 7, &wx));
  clrn_plan p;
  CLRN_ASSERT_OK(clrn_plan_build(&igemm, wx, 67, 83, true, &p));
  int igemms = 0, others = 0;
  for (size_t i = 0; i < p.step_count; i++) {
    const clrn_step *s = &p.steps[i];
    if (s->kind != CLRN_STEP_CONV)
      continue;
    int cout_g = s->conv.out_channels / s->conv.groups;
    if (2 * cout_g < 64) {
      CU_ASSERT_NOT_EQUAL(s->config.variant, CLRN_CONV_IGEMM);
      others++;
      continue;
    }
    CU_ASSERT_EQUAL_FATAL(s->config.variant, CLRN_CONV_IGEMM);
    igemms++;
    CU_ASSERT_STRING_EQUAL(s->kernel, "conv2d/igemm");
    CU_ASSERT_STRING_EQUAL(s->choice, "igemm 64x32x8 t4x2 wg256");
    const char *want = s->conv.kernel_h == 1   ? "conv2d_igemm_k1"
                       : s->conv.kernel_h == 3 ? "conv2d_igemm_k3"
                                               : "conv2d_igemm_k7";
    CU_ASSERT_STRING_EQUAL(s->config.kernel_name, want);
    size_t lanes = (size_t)(cout_g + 63) / 64 * 64 * (size_t)s->conv.groups;
    CU_ASSERT_EQUAL(s->packed.weight_count, lanes * (size_t)(s->conv.in_channels / s->conv.groups) *
                                                (size_t)(s->conv.kernel_h * s->conv.kernel_w));
    CU_ASSERT_EQUAL(s->packed.epilogue_count, 3 * lanes);
  }
  /* the grouped 3x3 of layers 1-3 (4, 8, 16 channels per group): 3 + 4 + 6 blocks */
  CU_ASSERT_EQUAL(others, 13);
  CU_ASSERT_EQUAL(igemms, 53 - 13);
  clrn_plan_free(&p);
  clrn_weights_close(wx);
}

static void test_choices(void) {
  clrn_plan p;
  CLRN_ASSERT_OK(clrn_plan_build(&blocked, weights, SIZE, SIZE, true, &p));
  CU_ASSERT(clrn_conv_tuning_equal(&p.tuning, &blocked));
  int convs = 0;
  for (size_t i = 0; i < p.step_count; i++) {
    const clrn_step *s = &p.steps[i];
    if (s->kind != CLRN_STEP_CONV) {
      CU_ASSERT_STRING_EQUAL(s->choice, "");
      continue;
    }
    convs++;
    CU_ASSERT_EQUAL(s->config.variant, CLRN_CONV_BLOCKED);
    CU_ASSERT_EQUAL(s->config.cout_block, 16);
    CU_ASSERT_EQUAL(s->config.pix_block, 6);
    CU_ASSERT_STRING_EQUAL(s->kernel, "conv2d/blocked");
    CU_ASSERT_STRING_EQUAL(s->choice, "blocked oc16x6 v8 wg4 pf2");
    char kernel[32];
    snprintf(kernel, sizeof kernel, "conv2d_blocked_k%d", s->conv.kernel_h);
    CU_ASSERT_STRING_EQUAL(s->config.kernel_name, kernel);
    size_t per_channel = (size_t)s->conv.in_channels * s->conv.kernel_h * s->conv.kernel_w;
    size_t lanes = (size_t)(s->conv.out_channels + 15) / 16 * 16;
    CU_ASSERT_EQUAL(s->packed.weight_count, lanes * per_channel);
    CU_ASSERT_EQUAL(s->packed.epilogue_count, 3 * lanes);
  }
  CU_ASSERT_EQUAL(convs, 20); /* ResNet-18: 1 + 8 * 2 + 3 downsamples, BatchNorm folded */
  clrn_plan_free(&p);

  CLRN_ASSERT_OK(clrn_plan_build(&direct, weights, SIZE, SIZE, true, &p));
  const clrn_step *s = find_step(&p, "layer2.0.conv1");
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  CU_ASSERT_EQUAL(s->config.variant, CLRN_CONV_DIRECT);
  CU_ASSERT_STRING_EQUAL(s->choice, "direct wg64");
  CU_ASSERT_EQUAL(s->packed.weight_count, 128u * 64 * 9);
  clrn_plan_free(&p);
}

/* pocl-cpu's values with the GEMM kernel on for planes of 100 pixels or more. */
static clrn_conv_tuning gemm_tuning(void) {
  clrn_conv_tuning gemm = blocked;
  gemm.auto_gemm = 1;
  gemm.gemm_mr = 8;
  gemm.gemm_nr = 16;
  gemm.gemm_wg = 4;
  gemm.gemm_min_plane = 100;
  return gemm;
}

/* A fused ResNet-50 plan at 224x224 on random weights under tuning t. */
static void resnet50_plan(const clrn_conv_tuning *t, clrn_weights **w50, clrn_plan *p) {
  *w50 = NULL;
  CLRN_ASSERT_OK(clrn_weights_random(CLRN_ARCH_RESNET50, CLASSES, 5, w50));
  CLRN_ASSERT_OK(clrn_plan_build(t, *w50, 224, 224, true, p));
}

/* With CONV_AUTO_GEMM, a ResNet-50 plan at 224x224 runs every 1x1 stride-1
 * convolution whose output plane reaches GEMM_MIN_PLANE on the GEMM kernel, with
 * the blocked layout of GEMM_MR channels; the 7x7 planes of layer4, the strided
 * downsamples and the 3x3 convolutions stay blocked. */
static void test_gemm_choices(void) {
  clrn_conv_tuning gemm = gemm_tuning();
  CU_ASSERT(!clrn_conv_tuning_equal(&gemm, &blocked));
  clrn_weights *w50;
  clrn_plan p;
  resnet50_plan(&gemm, &w50, &p);
  int gemms = 0;
  for (size_t i = 0; i < p.step_count; i++) {
    const clrn_step *s = &p.steps[i];
    if (s->kind != CLRN_STEP_CONV)
      continue;
    const clrn_value *out = &p.graph.values[s->output];
    bool pointwise = s->conv.kernel_h == 1 && s->conv.stride_h == 1;
    bool want = pointwise && out->h * out->w >= 100;
    CU_ASSERT_EQUAL(s->config.variant, want ? CLRN_CONV_GEMM : CLRN_CONV_BLOCKED);
    if (s->config.variant != CLRN_CONV_GEMM)
      continue;
    gemms++;
    CU_ASSERT_STRING_EQUAL(s->kernel, "conv2d/gemm");
    CU_ASSERT_STRING_EQUAL(s->choice, "gemm oc8x16 wg4 pf2");
    CU_ASSERT_STRING_EQUAL(s->config.kernel_name, "conv2d_gemm1x1");
    size_t lanes = (size_t)(s->conv.out_channels + 7) / 8 * 8;
    CU_ASSERT_EQUAL(s->packed.weight_count, lanes * (size_t)s->conv.in_channels);
  }
  /* conv1 and conv3 of the 13 blocks of layers 1-3, layer1's stride-1 downsample
   * and layer4.0.conv1 (14x14) */
  CU_ASSERT_EQUAL(gemms, 2 * 13 + 1 + 1);
  clrn_plan_free(&p);
  clrn_weights_close(w50);
}

/* With CONV_SUBSAMPLE as well, ResNet-50's strided downsamples are subsampled:
 * on the GEMM kernel where their output plane reaches GEMM_MIN_PLANE (layer2's
 * 28x28, layer3's 14x14), blocked on layer4's 7x7, each reading a workspace of
 * its output plane; stride-1 and 3x3 convolutions are not subsampled. */
static void test_subsample_choices(void) {
  clrn_conv_tuning t = gemm_tuning();
  t.gemm_nv = 2;
  t.subsample = 1;
  clrn_weights *w50;
  clrn_plan p;
  resnet50_plan(&t, &w50, &p);
  int subsampled = 0;
  for (size_t i = 0; i < p.step_count; i++) {
    const clrn_step *s = &p.steps[i];
    if (s->kind != CLRN_STEP_CONV)
      continue;
    const clrn_value *out = &p.graph.values[s->output];
    bool strided_1x1 = s->conv.kernel_h == 1 && s->conv.stride_h == 2;
    CU_ASSERT_EQUAL(s->config.subsample, strided_1x1);
    if (!strided_1x1)
      continue;
    subsampled++;
    CU_ASSERT_EQUAL(s->config.variant, out->h * out->w >= 100 ? CLRN_CONV_GEMM : CLRN_CONV_BLOCKED);
    CU_ASSERT(strstr(s->choice, " sub") != NULL);
    CU_ASSERT_EQUAL(clrn_conv2d_padded_bytes(&s->conv, &s->config, out->h, out->w),
                    (size_t)s->conv.in_channels * out->h * out->w * sizeof(float));
  }
  CU_ASSERT_EQUAL(subsampled, 3);
  clrn_plan_free(&p);
  clrn_weights_close(w50);
}

/* With WINO_TILE=4, a ResNet-50 plan at 224x224 runs every 3x3 stride-1
 * convolution whose output plane reaches WINO_MIN_PLANE on Winograd F(4x4,3x3)
 * (the strided first 3x3 of layers 2-4 and layer4's 7x7 planes stay blocked),
 * with the weight transformed (corners: g[0][0] and g[2][2] over 36^2) in the
 * layout [36][blocks][cin][WINO_MR], and a workspace for its tiles. */
static void test_winograd_choices(void) {
  clrn_conv_tuning wino = blocked;
  wino.wino_tile = 4;
  wino.wino_min_plane = 100;
  wino.wino_mr = 8;
  wino.wino_nr = 16;
  wino.wino_wg = 4;
  wino.wino_xform_wg = 16;
  CU_ASSERT(!clrn_conv_tuning_equal(&wino, &blocked));
  clrn_weights *w50 = NULL;
  CLRN_ASSERT_OK(clrn_weights_random(CLRN_ARCH_RESNET50, CLASSES, 5, &w50));
  clrn_plan p, b;
  CLRN_ASSERT_OK(clrn_plan_build(&wino, w50, 224, 224, true, &p));
  CLRN_ASSERT_OK(clrn_plan_build(&blocked, w50, 224, 224, true, &b));
  int winograds = 0;
  for (size_t i = 0; i < p.step_count; i++) {
    const clrn_step *s = &p.steps[i];
    if (s->kind != CLRN_STEP_CONV)
      continue;
    const clrn_value *out = &p.graph.values[s->output];
    bool fits = s->conv.kernel_h == 3 && s->conv.stride_h == 1;
    bool want = fits && out->h * out->w >= 100;
    CU_ASSERT_EQUAL(s->config.variant, want ? CLRN_CONV_WINOGRAD : CLRN_CONV_BLOCKED);
    if (s->config.variant != CLRN_CONV_WINOGRAD)
      continue;
    winograds++;
    CU_ASSERT_STRING_EQUAL(s->kernel, "conv2d/winograd");
    CU_ASSERT_STRING_EQUAL(s->choice, "winograd F4 oc8x16 wg4 pf2");
    size_t cin = (size_t)s->conv.in_channels, blocks = (size_t)(s->conv.out_channels + 7) / 8;
    CU_ASSERT_EQUAL(s->packed.weight_count, 36 * blocks * 8 * cin);
    /* The blocked plan's packed weight of the same step: [block][cin][tap][16]. */
    const clrn_step *o = find_step(&b, s->name);
    for (size_t k = 0; k < (size_t)s->conv.out_channels; k += 13)
      for (size_t c = 0; c < cin; c += 7) {
        const float *g = o->packed.weight + ((k / 16) * cin + c) * 9 * 16 + k % 16;
        float first = s->packed.weight[((0 * blocks + k / 8) * cin + c) * 8 + k % 8];
        float last = s->packed.weight[((35 * blocks + k / 8) * cin + c) * 8 + k % 8];
        CU_ASSERT(fabs(first - g[0] / 1296.0) <= 1e-6 * fabs(g[0] / 1296.0));
        CU_ASSERT(fabs(last - g[8 * 16] / 1296.0) <= 1e-6 * fabs(g[8 * 16] / 1296.0));
      }
    size_t tiles = (size_t)((out->h + 3) / 4) * (size_t)((out->w + 3) / 4);
    tiles = (tiles + 15) / 16 * 16;
    clrn_plan_memory needs;
    clrn_plan_memory_needs(&p, &needs);
    CU_ASSERT(needs.workspace_bytes[0] >= 36 * (cin + blocks * 8) * tiles * sizeof(float));
  }
  /* layer1: 3, layer2: 3, layer3: 5 (the first of layers 2-4 is strided) */
  CU_ASSERT_EQUAL(winograds, 3 + 3 + 5);
  clrn_plan_free(&p);
  clrn_plan_free(&b);
  clrn_weights_close(w50);
}

/* conv1's packed weight is its weight times gamma/sqrt(var+eps) of bn1, in
 * PyTorch's order for the direct kernel and in [block][cin][tap][lane] for the
 * blocked one. */
static void test_folded_and_packed(void) {
  clrn_plan d, b;
  CLRN_ASSERT_OK(clrn_plan_build(&direct, weights, SIZE, SIZE, true, &d));
  CLRN_ASSERT_OK(clrn_plan_build(&blocked, weights, SIZE, SIZE, true, &b));
  enum { C = 64, PER = 3 * 7 * 7 };
  float *raw = malloc(C * PER * sizeof *raw), *bn = malloc(4 * C * sizeof *bn);
  CU_ASSERT_FATAL(raw && bn);
  int64_t wshape[4] = {C, 3, 7, 7}, vshape[1] = {C};
  CLRN_ASSERT_OK(clrn_weights_read(weights, "conv1.weight", 4, wshape, raw));
  const char *leaves[4] = {"bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var"};
  for (int i = 0; i < 4; i++)
    CLRN_ASSERT_OK(clrn_weights_read(weights, leaves[i], 1, vshape, bn + i * C));
  const clrn_step *sd = find_step(&d, "conv1"), *sb = find_step(&b, "conv1");
  CU_ASSERT_FATAL(sd && sb);
  int wrong = 0;
  for (int o = 0; o < C; o++) {
    double scale = (double)bn[o] / sqrt((double)bn[3 * C + o] + 1e-5);
    float shift = (float)((double)bn[C + o] - (double)bn[2 * C + o] * scale);
    wrong += sd->packed.epilogue[2 * C + o] != shift; /* bias, scale, shift */
    for (int k = 0; k < PER; k++) {
      float want = (float)(raw[o * PER + k] * scale);
      wrong += sd->packed.weight[o * PER + k] != want;
      wrong += sb->packed.weight[((size_t)(o / 16) * PER + k) * 16 + o % 16] != want;
    }
  }
  CU_ASSERT_EQUAL(wrong, 0);
  free(raw);
  free(bn);
  clrn_plan_free(&d);
  clrn_plan_free(&b);
}

/* Device bytes of the parameters counted from the graph: convolutions unpadded
 * with a bias/scale/shift epilogue (direct layout), fc's weight and bias. */
static size_t direct_weight_bytes(const clrn_graph *g) {
  size_t floats = 0;
  for (size_t i = 0; i < g->node_count; i++) {
    const clrn_node *n = &g->nodes[i];
    size_t in = (size_t)n->in_channels, out = (size_t)n->out_channels;
    if (n->kind == CLRN_NODE_CONV)
      in /= (size_t)n->groups;
    if (n->kind == CLRN_NODE_CONV)
      floats += out * in * (size_t)(n->kernel * n->kernel) + 3 * out;
    else if (n->kind == CLRN_NODE_LINEAR)
      floats += out * in + out;
  }
  return floats * sizeof(float);
}

static void test_memory_needs(void) {
  clrn_plan p;
  clrn_plan_memory m;
  CLRN_ASSERT_OK(clrn_plan_build(&blocked, weights, SIZE, SIZE, true, &p));
  clrn_plan_memory_needs(&p, &m);
  /* The largest padded input on the main queue: layer1's 3x3 convolutions, 64
   * channels of 16x16 padded to 18x18. The downsample queue's 1x1 convolutions
   * have no padding, so need none. */
  CU_ASSERT_EQUAL(m.workspace_bytes[0], 64u * 18 * 18 * sizeof(float));
  CU_ASSERT_EQUAL(m.workspace_bytes[1], 0);
  CU_ASSERT_EQUAL(m.io_bytes, 2 * (3u * SIZE * SIZE + 2 * CLASSES) * sizeof(float));
  size_t slots = 0, largest = 0;
  for (size_t i = 0; i < p.slot_count; i++) {
    slots += p.slot_floats[i] * sizeof(float);
    largest =
        p.slot_floats[i] * sizeof(float) > largest ? p.slot_floats[i] * sizeof(float) : largest;
  }
  CU_ASSERT_EQUAL(m.activation_bytes, slots);
  CU_ASSERT_EQUAL(m.largest_buffer_bytes, largest);
  size_t per_image = m.activation_bytes + m.io_bytes + m.workspace_bytes[0];
  CU_ASSERT_EQUAL(clrn_plan_memory_bytes(&m, 1), m.weight_bytes + per_image);
  CU_ASSERT_EQUAL(clrn_plan_memory_bytes(&m, 5), m.weight_bytes + 5 * per_image);
  clrn_plan_free(&p);

  /* The direct kernel reads its input unpadded and its weights unblocked. */
  CLRN_ASSERT_OK(clrn_plan_build(&direct, weights, SIZE, SIZE, true, &p));
  clrn_plan_memory_needs(&p, &m);
  CU_ASSERT_EQUAL(m.workspace_bytes[0], 0);
  CU_ASSERT_EQUAL(m.weight_bytes, direct_weight_bytes(&p.graph));
  clrn_plan_free(&p);

  /* Unfused, each BatchNorm holds a scale and a shift per channel. */
  CLRN_ASSERT_OK(clrn_plan_build(&direct, weights, SIZE, SIZE, false, &p));
  clrn_plan_memory_needs(&p, &m);
  size_t bn = 0;
  for (size_t i = 0; i < p.step_count; i++)
    if (p.steps[i].kind == CLRN_STEP_BATCHNORM) {
      CU_ASSERT_PTR_NOT_NULL(p.steps[i].params);
      bn += 2 * (size_t)p.steps[i].channels[1] * sizeof(float);
    }
  CU_ASSERT(bn > 0);
  CU_ASSERT_EQUAL(m.weight_bytes, direct_weight_bytes(&p.graph) + bn);
  clrn_plan_free(&p);
}

/* ResNeXt-50 32x4d: a 3x3 convolution of 32 groups holds [out][in / 32][3][3]
 * weights, folded per output channel; with 4 channels per group it runs direct
 * (a 16-lane block would be mostly padding), with 16 blocked, one block per group. */
static void test_grouped(void) {
  clrn_weights *rx = NULL;
  CLRN_ASSERT_OK(clrn_weights_random(CLRN_ARCH_RESNEXT50_32X4D, CLASSES, 5, &rx));
  clrn_plan p;
  CLRN_ASSERT_OK(clrn_plan_build(&blocked, rx, SIZE, SIZE, true, &p));
  const clrn_step *s = find_step(&p, "layer1.0.conv2");
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  CU_ASSERT(s->conv.groups == 32 && s->conv.in_channels == 128 && s->conv.out_channels == 128);
  CU_ASSERT_EQUAL(s->config.variant, CLRN_CONV_DIRECT);
  enum { C = 128, PER = 4 * 3 * 3 };
  CU_ASSERT_EQUAL(s->packed.weight_count, C * PER);
  CU_ASSERT_EQUAL(s->macs, (double)C * 16 * 16 * PER);
  float *raw = malloc(C * PER * sizeof *raw), *bn = malloc(4 * C * sizeof *bn);
  CU_ASSERT_FATAL(raw && bn);
  int64_t wshape[4] = {C, 4, 3, 3}, vshape[1] = {C};
  CLRN_ASSERT_OK(clrn_weights_read(rx, "layer1.0.conv2.weight", 4, wshape, raw));
  const char *leaves[4] = {"weight", "bias", "running_mean", "running_var"};
  for (int i = 0; i < 4; i++) {
    char name[64];
    snprintf(name, sizeof name, "layer1.0.bn2.%s", leaves[i]);
    CLRN_ASSERT_OK(clrn_weights_read(rx, name, 1, vshape, bn + i * C));
  }
  int wrong = 0;
  for (int o = 0; o < C; o++) {
    double scale = (double)bn[o] / sqrt((double)bn[3 * C + o] + 1e-5);
    for (int k = 0; k < PER; k++)
      wrong += s->packed.weight[o * PER + k] != (float)(raw[o * PER + k] * scale);
  }
  CU_ASSERT_EQUAL(wrong, 0);
  free(raw);
  free(bn);
  s = find_step(&p, "layer3.0.conv2");
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  CU_ASSERT(s->conv.groups == 32 && s->config.variant == CLRN_CONV_BLOCKED &&
            s->config.blocks_g == 1);
  CU_ASSERT_EQUAL(s->packed.weight_count, 512u * 16 * 9);
  clrn_plan_free(&p);
  clrn_plan_memory m;
  CLRN_ASSERT_OK(clrn_plan_build(&direct, rx, SIZE, SIZE, true, &p));
  clrn_plan_memory_needs(&p, &m);
  CU_ASSERT_EQUAL(m.weight_bytes, direct_weight_bytes(&p.graph));
  clrn_plan_free(&p);
  clrn_weights_close(rx);
}

/* With GROUPED_MAX_COUT 16 (pocl-cpu), ResNeXt-50's grouped 3x3 convolutions of 4,
 * 8 and 16 channels a group run on the grouped kernel (blocks of 4 or 8 channels,
 * weight [group][block][in / 32][3][3][lane]), those of 32 stay blocked; every
 * grouped step reads a padded input whose rows reach the last 16-pixel tile. */
static void test_grouped_kernel(void) {
  clrn_weights *rx = NULL;
  CLRN_ASSERT_OK(clrn_weights_random(CLRN_ARCH_RESNEXT50_32X4D, CLASSES, 5, &rx));
  clrn_conv_tuning tuning = blocked;
  tuning.grouped_max_cout = 16;
  clrn_plan p;
  CLRN_ASSERT_OK(clrn_plan_build(&tuning, rx, SIZE, SIZE, true, &p));
  const struct {
    const char *name, *kernel;
    int variant, block, blocks_g;
  } want[] = {
      {"layer1.0.conv2", "conv2d_grouped_c4_k3s1", CLRN_CONV_GROUPED, 4, 1},
      {"layer2.0.conv2", "conv2d_grouped_c8_k3s2", CLRN_CONV_GROUPED, 8, 1},
      {"layer2.1.conv2", "conv2d_grouped_c8_k3s1", CLRN_CONV_GROUPED, 8, 1},
      {"layer3.1.conv2", "conv2d_grouped_c8_k3s1", CLRN_CONV_GROUPED, 8, 2},
      {"layer4.1.conv2", "conv2d_blocked_k3", CLRN_CONV_BLOCKED, 16, 2},
      {"layer1.0.conv1", "conv2d_gemm1x1", CLRN_CONV_AUTO, 0, 0}, /* ungrouped: not grouped */
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const clrn_step *s = find_step(&p, want[i].name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    if (want[i].variant == CLRN_CONV_AUTO) {
      CU_ASSERT_NOT_EQUAL(s->config.variant, CLRN_CONV_GROUPED);
      continue;
    }
    CU_ASSERT_EQUAL(s->config.variant, want[i].variant);
    CU_ASSERT_STRING_EQUAL(s->config.kernel_name, want[i].kernel);
    CU_ASSERT_EQUAL(s->config.cout_block, want[i].block);
    CU_ASSERT_EQUAL(s->config.blocks_g, want[i].blocks_g);
  }
  /* layer1.0.conv2: lane j of group g's block holds output channel 4g + j. */
  const clrn_step *s = find_step(&p, "layer1.0.conv2");
  CU_ASSERT_STRING_EQUAL(s->choice, "grouped oc4x16 wg4");
  CU_ASSERT_EQUAL(s->packed.weight_count, 128u * 4 * 9);
  /* 16x16 output: one tile a row; rows (16 - 1) + 3 wide, 16 + 2 high. */
  CU_ASSERT_EQUAL(clrn_conv2d_padded_bytes(&s->conv, &s->config, 16, 16), 128u * 18 * 18 * 4);
  /* 17 wide: two tiles, (32 - 1) + 3 wide; stride 2 reads one more. */
  CU_ASSERT_EQUAL(clrn_conv2d_padded_bytes(&s->conv, &s->config, 16, 17), 128u * 18 * 34 * 4);
  s = find_step(&p, "layer2.0.conv2");
  CU_ASSERT_EQUAL(clrn_conv2d_padded_bytes(&s->conv, &s->config, 8, 8),
                  256u * (7 * 2 + 3) * (15 * 2 + 3 + 1) * 4);
  clrn_plan_free(&p);
  clrn_weights_close(rx);
}

static int setup(void) {
  direct = blocked;
  direct.auto_blocked = 0;
  return clrn_weights_random(CLRN_ARCH_RESNET18, CLASSES, 11, &weights) != CLRN_STATUS_SUCCESS;
}

static int teardown(void) {
  clrn_weights_close(weights);
  return 0;
}

int main(void) {
  clrn_test_add_suite("plan", setup, teardown, "per-step choices", test_choices, "gemm choices",
                      test_gemm_choices, "subsample choices", test_subsample_choices,
                      "igemm choices", test_igemm_choices, "winograd choices",
                      test_winograd_choices, "folded and packed weights", test_folded_and_packed,
                      "memory needs", test_memory_needs, "grouped convolutions", test_grouped,
                      "grouped kernel", test_grouped_kernel, NULL);
  return clrn_test_run();
}
