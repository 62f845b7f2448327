/* --precision without a device: the host's float-to-half conversion (every half
 * value comes back exactly, ties go to even, overflow to infinity), the plan's
 * choices per precision (fp16 stores every convolution as half and never picks a
 * variant whose kernels were not converted to the storage macros; tensor cores
 * only for tf32 or fp16 on NVIDIA compute capability 8.0 or later, never for
 * grouped convolutions) and the memory needs of half storage. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/half.h"
#include "harness.h"
#include "plan/plan.h"
#include "weights/weights.h"

#define SIZE 64
#define CLASSES 1000

/* A blocked profile (8 channels by 4 pixels, float4), as a CPU's might be. */
static const clrn_conv_tuning blocked = {
    .vec = 4, .cout_block = 8, .pix_block = 4, .direct_wg = 32, .blocked_wg = 8, .auto_blocked = 1};
static clrn_weights *weights;

/* The float a binary16 pattern stands for, decoded the slow, obvious way. */
static float half_value(uint16_t h) {
  int exponent = (h >> 10) & 31, mantissa = h & 1023;
  double sign = (h & 0x8000) ? -1.0 : 1.0;
  if (exponent == 31)
    return mantissa ? NAN : (float)(sign * INFINITY);
  if (exponent == 0)
    return (float)(sign * ldexp(mantissa, -24));
  return (float)(sign * ldexp(1024 + mantissa, exponent - 25));
}

static void test_half_round_trip(void) {
  int wrong = 0, ties_wrong = 0;
  for (uint32_t h = 0; h < 0x10000; h++) {
    float v = half_value((uint16_t)h);
    if (isnan(v)) {
      wrong += (clrn_half_from_float(v) & 0x7fff) <= 0x7c00; /* stays NaN */
      continue;
    }
    wrong += clrn_half_from_float(v) != h;
    /* Halfway to the next half up (same sign, finite): ties to the even one. */
    uint32_t next = h + 1;
    if ((h & 0x7fff) >= 0x7bff || (next & 0x7fff) == 0)
      continue;
    float up = half_value((uint16_t)next);
    double mid = ((double)v + (double)up) / 2.0;
    if ((double)(float)mid != mid)
      continue; /* not representable as a float: no exact tie to test */
    uint16_t even = (h & 1) ? (uint16_t)next : (uint16_t)h;
    ties_wrong += clrn_half_from_float((float)mid) != even;
  }
  CU_ASSERT_EQUAL(wrong, 0);
  CU_ASSERT_EQUAL(ties_wrong, 0);
  CU_ASSERT_EQUAL(clrn_half_from_float(1.0f), 0x3c00);
  CU_ASSERT_EQUAL(clrn_half_from_float(65504.0f), 0x7bff);
  CU_ASSERT_EQUAL(clrn_half_from_float(65519.0f), 0x7bff);
  CU_ASSERT_EQUAL(clrn_half_from_float(65520.0f), 0x7c00); /* the tie rounds up to infinity */
  CU_ASSERT_EQUAL(clrn_half_from_float(-1e9f), 0xfc00);
  CU_ASSERT_EQUAL(clrn_half_from_float(0x1p-25f), 0x0000);            /* tie to even zero */
  CU_ASSERT_EQUAL(clrn_half_from_float(0x1.8p-25f), 0x0001);          /* above the tie */
  CU_ASSERT_EQUAL(clrn_half_from_float(0x1p-14f - 0x1p-25f), 0x0400); /* rounds up to normal */
  CU_ASSERT_EQUAL(clrn_half_from_float(-0.0f), 0x8000);
  float in[3] = {0.5f, -2.0f, 1e-10f};
  uint16_t out[3];
  clrn_half_from_floats(in, 3, out);
  CU_ASSERT(out[0] == 0x3800 && out[1] == 0xc000 && out[2] == 0x0000);
}

/* Every convolution of an fp16 plan stores half, on a variant that can; the
 * choice says so. A variant number the storage check does not know (one added
 * without converting its kernels) falls back to blocked at fp16 only. */
static void test_fp16_choices(void) {
  clrn_conv_tuning t = blocked;
  t.precision = CLRN_PRECISION_FP16;
  CU_ASSERT(!clrn_conv_tuning_equal(&t, &blocked));
  clrn_plan p;
  CLRN_ASSERT_OK(clrn_plan_build(&t, weights, SIZE, SIZE, true, &p));
  int convs = 0;
  for (size_t i = 0; i < p.step_count; i++) {
    const clrn_step *s = &p.steps[i];
    if (s->kind != CLRN_STEP_CONV)
      continue;
    convs++;
    CU_ASSERT(s->config.half);
    CU_ASSERT(clrn_conv2d_variant_stores(s->config.variant, CLRN_PRECISION_FP16));
    CU_ASSERT_STRING_EQUAL(s->choice, "blocked oc8x4 v4 wg8 pf0 fp16");
  }
  CU_ASSERT_EQUAL(convs, 20);
  clrn_plan_free(&p);

  const int unconverted = 7; /* no such variant stores half */
  CU_ASSERT(!clrn_conv2d_variant_stores(unconverted, CLRN_PRECISION_FP16));
  CU_ASSERT(clrn_conv2d_variant_stores(unconverted, CLRN_PRECISION_FP32));
  CU_ASSERT(clrn_conv2d_variant_stores(unconverted, CLRN_PRECISION_TF32));
  clrn_conv_shape shape = {64, 64, 3, 3, 1, 1, 1, 1, 1, false};
  clrn_conv2d_config c;
  clrn_conv2d_configure(&t, &shape, 0, unconverted, &c);
  CU_ASSERT_EQUAL(c.variant, CLRN_CONV_BLOCKED);
  CU_ASSERT(c.half);
  clrn_conv2d_configure(&blocked, &shape, 0, unconverted, &c);
  CU_ASSERT_EQUAL(c.variant, unconverted);
  CU_ASSERT(!c.half);
}

/* The tensor-core variant: chosen for every ungrouped convolution at tf32 or
 * fp16 on compute capability 8.0 or later (PyTorch's weight layout, 16-channel
 * tiles), never at fp32, never below 8.0, never for grouped convolutions. */
static void test_mma_choices(void) {
  clrn_weights *rx = NULL;
  CLRN_ASSERT_OK(clrn_weights_random(CLRN_ARCH_RESNEXT50_32X4D, CLASSES, 7, &rx));
  const struct {
    long precision, compute;
    bool mma;
  } cases[] = {{CLRN_PRECISION_TF32, 80, true},
               {CLRN_PRECISION_FP16, 86, true},
               {CLRN_PRECISION_FP32, 90, false},
               {CLRN_PRECISION_FP16, 75, false},
               {CLRN_PRECISION_FP16, 0, false}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    clrn_conv_tuning t = blocked;
    t.precision = cases[k].precision;
    t.nv_compute = cases[k].compute;
    clrn_plan p;
    CLRN_ASSERT_OK(clrn_plan_build(&t, rx, SIZE, SIZE, true, &p));
    int mma = 0, grouped = 0;
    for (size_t i = 0; i < p.step_count; i++) {
      const clrn_step *s = &p.steps[i];
      if (s->kind != CLRN_STEP_CONV)
        continue;
      if (s->conv.groups > 1) {
        grouped++;
        CU_ASSERT_NOT_EQUAL(s->config.variant, CLRN_CONV_MMA);
        continue;
      }
      CU_ASSERT_EQUAL(s->config.variant == CLRN_CONV_MMA, cases[k].mma);
      if (s->config.variant != CLRN_CONV_MMA)
        continue;
      mma++;
      bool tf32 = cases[k].precision == CLRN_PRECISION_TF32;
      CU_ASSERT_EQUAL(s->config.tf32, tf32);
      CU_ASSERT_EQUAL(s->config.half, !tf32);
      CU_ASSERT_STRING_EQUAL(s->config.program, "conv2d_mma");
      CU_ASSERT_STRING_EQUAL(s->kernel, "conv2d/mma");
      CU_ASSERT_STRING_EQUAL(s->choice, tf32 ? "mma tf32 oc16x32 wg128" : "mma f16 oc16x32 wg128");
      CU_ASSERT_EQUAL(s->config.blocks_g, (s->conv.out_channels + 15) / 16);
      size_t per = (size_t)s->conv.in_channels * s->conv.kernel_h * s->conv.kernel_w;
      CU_ASSERT_EQUAL(s->packed.weight_count, (size_t)s->conv.out_channels * per);
      CU_ASSERT_EQUAL(clrn_conv2d_padded_bytes(&s->conv, &s->config, 8, 8), 0u);
    }
    CU_ASSERT_EQUAL(grouped, 16); /* conv2 of each of ResNeXt-50's 16 blocks */
    CU_ASSERT_EQUAL(mma, cases[k].mma ? 53 - 16 : 0);
    clrn_plan_free(&p);
  }
  clrn_weights_close(rx);
}

/* Half storage halves the activations, the input and the convolution weights;
 * logits, probabilities, epilogues and the linear layer stay float. */
static void test_fp16_memory(void) {
  clrn_conv_tuning t = blocked;
  t.precision = CLRN_PRECISION_FP16;
  clrn_plan p32, p16;
  CLRN_ASSERT_OK(clrn_plan_build(&blocked, weights, SIZE, SIZE, true, &p32));
  CLRN_ASSERT_OK(clrn_plan_build(&t, weights, SIZE, SIZE, true, &p16));
  CU_ASSERT_EQUAL(clrn_plan_element_bytes(&p32), 4u);
  CU_ASSERT_EQUAL(clrn_plan_element_bytes(&p16), 2u);
  clrn_plan_memory m32, m16;
  clrn_plan_memory_needs(&p32, &m32);
  clrn_plan_memory_needs(&p16, &m16);
  CU_ASSERT_EQUAL(2 * m16.activation_bytes, m32.activation_bytes);
  for (int q = 0; q < CLRN_PLAN_QUEUES; q++)
    CU_ASSERT_EQUAL(2 * m16.workspace_bytes[q], m32.workspace_bytes[q]);
  size_t in = 3 * SIZE * SIZE, out = CLASSES;
  CU_ASSERT_EQUAL(m32.io_bytes, 2 * (in + 2 * out) * 4);
  CU_ASSERT_EQUAL(m16.io_bytes, 2 * (in * 2 + 2 * out * 4));
  size_t conv_weights = 0, epilogues = 0;
  for (size_t i = 0; i < p16.step_count; i++)
    if (p16.steps[i].kind == CLRN_STEP_CONV) {
      conv_weights += p16.steps[i].packed.weight_count;
      epilogues += p16.steps[i].packed.epilogue_count;
    }
  size_t linear = (512 * CLASSES + CLASSES) * 4;
  CU_ASSERT_EQUAL(m32.weight_bytes, (conv_weights + epilogues) * 4 + linear);
  CU_ASSERT_EQUAL(m16.weight_bytes, conv_weights * 2 + epilogues * 4 + linear);
  clrn_plan_free(&p32);
  clrn_plan_free(&p16);
}

static int setup(void) {
  return clrn_weights_random(CLRN_ARCH_RESNET18, CLASSES, 11, &weights) != CLRN_STATUS_SUCCESS;
}

static int teardown(void) {
  clrn_weights_close(weights);
  return 0;
}

int main(void) {
  clrn_test_add_suite("precision plan", setup, teardown, "half round trip and ties",
                      test_half_round_trip, "fp16 choices", test_fp16_choices, "mma choices",
                      test_mma_choices, "fp16 memory needs", test_fp16_memory, NULL);
  return clrn_test_run();
}
