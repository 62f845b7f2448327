/* --precision on a device (PoCL in CI):
 * - fp16 (half storage, float arithmetic) against fp32 on the same device for a
 *   seeded ResNet-50 (64x80), on each convolution kernel the plan can pick (blocked with
 *   the GEMM kernel for 1x1 layers, as pocl-cpu's profile does; direct, through
 *   CLRN_TUNE), fused and unfused: logits within the fp16 tolerance of
 *   tests/model/test_network.c (4 * sqrt(2 * depth) * 2^-11 of the largest
 *   logit), visibly rounded (so half storage ran), and about half the device
 *   memory;
 * - tf32 refused with CLRN_STATUS_UNSUPPORTED and one line naming the device and
 *   why, by a model and by an engine;
 * - the tensor-core convolution refused as an op, and its program empty here: no
 *   PTX reaches a compiler that is not NVIDIA's.
 * Under Oclgrind (CLRN_TEST_SMALL=1, not registered yet: see tests.cmake; every
 * half kernel checked for
 * out-of-bounds accesses, races and uninitialized values; a ResNet-18 at 32x32
 * takes minutes there) one image, fp16 only (finite logits), fused: the blocked,
 * GEMM and padding kernels with their vector half loads, pooling and the linear
 * layer (the unfused and direct cases, plain scalar loads and stores, are left
 * to PoCL). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clresnet/engine.h"
#include "harness.h"
#include "ops/conv2d_packed.h"
#include "runtime/kernel_cache.h"

static clrn_weights *weights;
static int height = 64, width = 80, depth = 50, batch = 2;
static bool small; /* under Oclgrind */

static float *run_model(clrn_context *ctx, clrn_precision precision, bool fuse, size_t *bytes) {
  clrn_model_options o;
  clrn_model_options_default(&o);
  o.precision = precision;
  o.fuse = fuse;
  o.height = height;
  o.width = width;
  o.max_batch = batch;
  clrn_model *m = NULL;
  CLRN_ASSERT_OK(clrn_model_create(ctx, weights, &o, &m));
  if (!m)
    return NULL;
  size_t in = (size_t)batch * 3 * height * width;
  float *input = malloc(in * sizeof *input), *logits = malloc(batch * 1000 * sizeof *logits);
  for (size_t i = 0; input && i < in; i++)
    input[i] = (float)sin(0.37 * (double)i) * 2.0f; /* two different images, normalised-like */
  CLRN_ASSERT_OK(clrn_model_run(m, input, batch, logits, NULL));
  *bytes = clrn_model_device_bytes(m);
  clrn_model_release(m);
  free(input);
  return logits;
}

/* fp16 against fp32 on a context with tuning overrides tune ("" for none). */
static void compare(const char *tune, bool fuse) {
  setenv("CLRN_TUNE", tune, 1);
  clrn_context *ctx = clrn_test_context(false);
  unsetenv("CLRN_TUNE");
  CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
  size_t bytes32 = 0, bytes16 = 0;
  float *l16 = run_model(ctx, CLRN_PRECISION_FP16, fuse, &bytes16);
  if (small) {
    int finite = 0;
    for (int i = 0; l16 && i < batch * 1000; i++)
      finite += isfinite(l16[i]) != 0;
    CU_ASSERT_EQUAL(finite, batch * 1000);
    free(l16);
    clrn_context_release(ctx);
    return;
  }
  float *l32 = run_model(ctx, CLRN_PRECISION_FP32, fuse, &bytes32);
  CU_ASSERT_FATAL(l32 && l16);
  double largest = 0.0, worst = 0.0;
  for (int i = 0; i < batch * 1000; i++) {
    largest = fmax(largest, fabs(l32[i]));
    worst = fmax(worst, fabs((double)l16[i] - l32[i]));
  }
  double tolerance = 4.0 * sqrt(2.0 * depth) / 2048.0;
  printf("\n  CLRN_TUNE=\"%s\" %s: fp16 against fp32: max error %.3g of the largest logit "
         "(tolerance %.3g); device memory %zu -> %zu bytes",
         tune, fuse ? "fused" : "unfused", worst / largest, tolerance, bytes32, bytes16);
  CU_ASSERT(largest > 0.0);
  CU_ASSERT(worst <= tolerance * largest);
  CU_ASSERT(worst > 1e-5 * largest); /* half's rounding shows: fp16 ran */
  CU_ASSERT(bytes16 < bytes32 * 6 / 10);
  free(l32);
  free(l16);
  clrn_context_release(ctx);
}

static void test_fp16_blocked_gemm(void) { compare("", true); }
static void test_fp16_unfused(void) {
  if (!small) /* under Oclgrind: unfused with the direct kernel, below */
    compare("", false);
}
static void test_fp16_direct(void) {
  if (!small)
    compare("CONV_AUTO_BLOCKED=0,CONV_AUTO_GEMM=0", true);
}

/* One line naming the device and what tf32 needs. */
static void check_refusal(const clrn_device_info *device) {
  const char *message = clrn_last_error();
  printf("\n  %s", message);
  CU_ASSERT_PTR_NOT_NULL(strstr(message, device->name));
  CU_ASSERT_PTR_NOT_NULL(strstr(message, "tf32"));
  CU_ASSERT_PTR_NOT_NULL(strstr(message, "NVIDIA"));
  CU_ASSERT_PTR_NOT_NULL(strstr(message, "compute capability 8.0"));
  CU_ASSERT_PTR_NULL(strchr(message, '\n'));
}

static void test_tf32_refused(void) {
  /* Not under Oclgrind: asking for the missing kernel is an API error there, and
   * Oclgrind 21.10 hands the buffers freed here their uninitialized-value state
   * to the next buffers of the same number (see ops/conv2d_pad.c). */
  if (small)
    return;
  clrn_context *ctx = clrn_test_context(false);
  CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
  const clrn_device_info *device = clrn_context_device(ctx);
  if (strstr(device->extensions, "cl_nv_device_attribute_query")) {
    printf("\n  %s reports a compute capability: nothing to refuse here", device->name);
    clrn_context_release(ctx);
    return;
  }
  clrn_model_options o;
  clrn_model_options_default(&o);
  o.precision = CLRN_PRECISION_TF32;
  clrn_model *m = NULL;
  CU_ASSERT_EQUAL(clrn_model_create(ctx, weights, &o, &m), CLRN_STATUS_UNSUPPORTED);
  CU_ASSERT_PTR_NULL(m);
  check_refusal(device);

  clrn_engine_options eo;
  clrn_engine_options_default(&eo);
  eo.model.precision = CLRN_PRECISION_TF32;
  clrn_engine *e = NULL;
  CU_ASSERT_EQUAL(clrn_engine_create(device, 1, weights, &eo, &e), CLRN_STATUS_UNSUPPORTED);
  CU_ASSERT_PTR_NULL(e);
  check_refusal(device);

  /* The tensor-core op itself, as a plan for an NVIDIA device would make it. */
  clrn_conv_tuning t;
  clrn_conv_tuning_read(ctx, &t);
  CU_ASSERT_EQUAL(t.nv_compute, 0);
  t.precision = CLRN_PRECISION_TF32;
  t.nv_compute = 80;
  clrn_conv_shape shape = {16, 16, 1, 1, 1, 1, 0, 0, 1, false};
  clrn_conv2d_config config;
  clrn_conv2d_configure(&t, &shape, 0, CLRN_CONV_AUTO, &config);
  CU_ASSERT_EQUAL_FATAL(config.variant, CLRN_CONV_MMA);
  float w[16 * 16] = {0};
  clrn_conv2d_packed packed;
  CLRN_ASSERT_OK(clrn_conv2d_pack(&shape, &config, w, NULL, NULL, NULL, &packed));
  clrn_conv2d_desc desc = {.in_channels = 16,
                           .out_channels = 16,
                           .kernel_h = 1,
                           .kernel_w = 1,
                           .stride_h = 1,
                           .stride_w = 1,
                           .groups = 1};
  clrn_conv2d *conv = NULL;
  CU_ASSERT_EQUAL(clrn_conv2d_create_packed(ctx, &desc, &config, &packed, &conv),
                  CLRN_STATUS_UNSUPPORTED);
  CU_ASSERT_PTR_NULL(conv);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "tensor cores"));
  clrn_conv2d_packed_free(&packed);

  /* Built as every context builds it up front, the program holds no kernel. */
  clrn_kernel *kernel = NULL;
  CU_ASSERT_NOT_EQUAL(clrn_kernel_get(ctx, "conv2d_mma", NULL, "conv2d_mma", &kernel),
                      CLRN_STATUS_SUCCESS);
  clrn_context_release(ctx);
}

static int setup(void) {
  const char *env = getenv("CLRN_TEST_SMALL");
  small = env && *env && strcmp(env, "0") != 0;
  if (small) {
    height = width = 32;
    depth = 18;
    batch = 1;
  }
  clrn_arch arch = depth == 18 ? CLRN_ARCH_RESNET18 : CLRN_ARCH_RESNET50;
  return clrn_weights_random(arch, 1000, 50, &weights) != CLRN_STATUS_SUCCESS;
}

static int teardown(void) {
  clrn_weights_close(weights);
  return 0;
}

int main(void) {
  clrn_test_add_suite("precision on a device", setup, teardown, "tf32 and mma refused",
                      test_tf32_refused, "fp16: blocked and gemm", test_fp16_blocked_gemm,
                      "fp16: unfused", test_fp16_unfused, "fp16: direct", test_fp16_direct, NULL);
  return clrn_test_run();
}
