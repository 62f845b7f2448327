/* Whole networks against torchvision: for the network named on the command line
 * (any of torchvision's resnet.py), seeded random weights with non-trivial
 * BatchNorm statistics, a batch of two different inputs at each of two sizes
 * (224x224 or a small one, and an odd one: make_reference.py's CASES, listed in
 * its cases.txt), fused and unfused. The reference data is made at test time by
 * make_reference.py with Debian's python3-torchvision (the test skips when it is
 * missing).
 *
 * Two checks per case:
 * 1. Every logit within 1e-4 of the largest torchvision (float32) logit magnitude.
 *    Both sides compute in float32 with different summation orders (and the fused
 *    path folds BatchNorm into the weights); the rounding of 20 to 150 layers adds
 *    up to 1e-6..1e-5 of the largest logit, inside 1e-4; a real error (a wrong
 *    tensor, a shifted window, a missed ReLU) shows up at 1e-2 or more.
 * 2. Against the float64 answer (torchvision in float64), clresnet's error is at
 *    most twice torchvision's own float32 error plus 1e-6 of the largest logit:
 *    two float32 computations of the same network with independent rounding err
 *    by the same order (measured ratios 0.7..1.4 here), so clresnet is as accurate as
 *    the reference it is judged by. This is what separates a genuine float32 floor
 *    from a bug when check 1 is close.
 *
 * "test_network ARCH small" takes make_reference.py's small cases (64x80 and the
 * odd 67x83) instead, for the runs under the GPU profiles (CLRN_PROFILE).
 * "test_network ARCH onnx OPSET MODE" runs the same checks on the network exported
 * by torch.onnx (tests/model/onnx_reference.py: model.onnx, BatchNorm folded or
 * kept) instead of the safetensors file.
 *
 * With a second argument "fp16" the model runs at CLRN_PRECISION_FP16 (weights
 * and activations stored as half, float arithmetic), against the same float32
 * torchvision logits, with a tolerance of its own (check 2 does not apply):
 *    4 * sqrt(2 * depth) * 2^-11 of the largest logit,
 * depth being the network's number of weight layers (18 ... 152). Half keeps an
 * 11-bit significand, so each stored value is rounded by at most u = 2^-11 of
 * itself. Per image the network stores about two rounded tensors per layer (its
 * weight and its output); independent roundings add up like a random walk, to
 * sqrt(2 * depth) * u of the logits' scale. Measured here (max error / that
 * estimate): resnet18 0.46, resnext50_32x4d 0.52, resnet50 1.7 (its 99x117
 * unfused case, 8.3e-3 of the largest logit), so the factor 4 leaves at least
 * 2.3x of room: 1.2e-2 for resnet18, 2.0e-2 for resnet50. A real error (a wrong
 * tensor, a shifted window, a half stored at the wrong index) moves logits by
 * their whole scale, well above that. The top-1 class is printed, not checked:
 * seeded random networks have near-ties that half's rounding may swap.
 *
 * "tf32" runs the convolutions on the tensor-core kernel with TF32 inputs, whose
 * significand is half's (10 stored bits), rounded at the same two places per layer
 * (weight and input of each convolution), so the fp16 tolerance applies. Without
 * an NVIDIA GPU it runs under CLRN_TEST_MMA_EMULATE=1 (runtime/nvidia.h: the
 * mma.sync done by its definition), as "fp16" can too, to check the kernel's
 * paths on the tensor-core variant. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "harness.h"

#define TOLERANCE 1e-4
/* The fp16 tolerance's factor (see the top of the file) and half's unit roundoff. */
#define FP16_FACTOR 4.0
#define HALF_UNIT_ROUNDOFF (1.0 / 2048.0)

static const char *arch_name;
static bool small_cases; /* "small" on the command line: make_reference.py --small */
static clrn_precision precision = CLRN_PRECISION_FP32;
static char dir[1024];
static const char *onnx_opset, *onnx_mode; /* set for an ONNX export */

/* The two cases of cases.txt: file name part and size. */
typedef struct test_case {
  char name[16];
  int height, width;
  char fused[48], unfused[48]; /* CUnit test names */
} test_case;
static test_case cases[2];
static clrn_context *context;
static clrn_weights *weights;

static bool exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* Makes the reference data unless it is there; returns the script's exit code. */
static int make_reference(void) {
  char marker[1100], command[4096];
  snprintf(marker, sizeof marker, "%s/cases.txt", dir);
  if (exists(marker))
    return 0;
  if (onnx_opset)
    snprintf(command, sizeof command,
             "/usr/bin/python3 %s/tests/model/onnx_reference.py --arch %s --opset %s --mode %s "
             "--out %s",
             CLRN_SOURCE_DIR, arch_name, onnx_opset, onnx_mode, dir);
  else
    snprintf(command, sizeof command,
             "/usr/bin/python3 %s/tests/model/make_reference.py --arch %s --out %s%s",
             CLRN_SOURCE_DIR, arch_name, dir, small_cases ? " --small" : "");
  fprintf(stderr, "%s\n", command);
  int status = system(command);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static double wall_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Reads the two cases make_reference.py wrote; false when cases.txt is not two
 * "NAME HEIGHT WIDTH" lines. */
static bool read_cases(void) {
  char path[1100];
  snprintf(path, sizeof path, "%s/cases.txt", dir);
  FILE *f = fopen(path, "r");
  if (!f)
    return false;
  bool ok = true;
  for (int i = 0; i < 2 && ok; i++) {
    test_case *c = &cases[i];
    ok = fscanf(f, "%15s %d %d", c->name, &c->height, &c->width) == 3;
    snprintf(c->fused, sizeof c->fused, "%dx%d fused", c->height, c->width);
    snprintf(c->unfused, sizeof c->unfused, "%dx%d unfused", c->height, c->width);
  }
  fclose(f);
  return ok;
}

static void compare(const char *size, bool fuse) {
  char path[1100];
  clrn_npy input, reference, exact;
  snprintf(path, sizeof path, "%s/input_%s.npy", dir, size);
  CLRN_ASSERT_OK(clrn_npy_read(path, 1u << 28, &input));
  snprintf(path, sizeof path, "%s/logits_%s.npy", dir, size);
  CLRN_ASSERT_OK(clrn_npy_read(path, 1u << 28, &reference));
  snprintf(path, sizeof path, "%s/logits64_%s.npy", dir, size);
  CLRN_ASSERT_OK(clrn_npy_read(path, 1u << 28, &exact));
  int batch = (int)input.shape[0], classes = (int)reference.shape[1];
  CU_ASSERT_FATAL(batch >= 2 && reference.shape[0] == batch);
  double start = wall_seconds();
  clrn_model_options options;
  clrn_model_options_default(&options);
  options.fuse = fuse;
  options.precision = precision;
  options.max_batch = batch;
  options.height = (int)input.shape[2];
  options.width = (int)input.shape[3];
  clrn_model *model = NULL;
  CLRN_ASSERT_OK(clrn_model_create(context, weights, &options, &model));
  size_t n = (size_t)batch * (size_t)classes;
  float *logits = malloc(n * sizeof *logits), *probs = malloc(n * sizeof *probs);
  CU_ASSERT_PTR_NOT_NULL_FATAL(logits);
  CU_ASSERT_PTR_NOT_NULL_FATAL(probs);
  CLRN_ASSERT_OK(clrn_model_run(model, input.data, batch, logits, probs));
  double largest = 0.0, worst = 0.0, prob_sum_error = 0.0, ours_exact = 0.0, torch_exact = 0.0;
  for (size_t i = 0; i < n; i++)
    largest = fmax(largest, fabs(reference.data[i]));
  for (size_t i = 0; i < n; i++) {
    worst = fmax(worst, fabs((double)logits[i] - reference.data[i]));
    ours_exact = fmax(ours_exact, fabs((double)logits[i] - exact.data[i]));
    torch_exact = fmax(torch_exact, fabs((double)reference.data[i] - exact.data[i]));
  }
  for (int b = 0; b < batch; b++) {
    double sum = 0.0;
    for (int c = 0; c < classes; c++)
      sum += probs[(size_t)b * classes + c];
    prob_sum_error = fmax(prob_sum_error, fabs(sum - 1.0));
  }
  /* The inputs differ, so their logits must too (a model ignoring its input fails). */
  double spread = 0.0;
  for (int c = 0; c < classes; c++)
    spread = fmax(spread, fabs(reference.data[c] - reference.data[classes + c]));
  bool half = precision != CLRN_PRECISION_FP32; /* fp16 or tf32: 11-bit significands */
  double tolerance = TOLERANCE;
  if (half) {
    /* depth: the number in the name (resnet50, resnext101_32x8d, wide_resnet50_2) */
    const char *digits = strpbrk(arch_name, "0123456789");
    int depth = digits ? atoi(digits) : 0;
    CU_ASSERT_FATAL(depth >= 18);
    tolerance = FP16_FACTOR * sqrt(2.0 * depth) * HALF_UNIT_ROUNDOFF;
  }
  double relative = 0.0; /* largest error relative to its own logit's magnitude, for the record */
  int top_agree = 0;
  for (int b = 0; b < batch; b++) {
    int ours = 0, theirs = 0;
    for (int c = 0; c < classes; c++) {
      size_t i = (size_t)b * classes + c;
      if (logits[i] > logits[(size_t)b * classes + ours])
        ours = c;
      if (reference.data[i] > reference.data[(size_t)b * classes + theirs])
        theirs = c;
      relative = fmax(relative, fabs((double)logits[i] - reference.data[i]) /
                                    fmax(fabs(reference.data[i]), 1e-2 * largest));
    }
    top_agree += ours == theirs;
  }
  printf("\n  %s %dx%d %s %s: max |logit| %.4g, max error %.3g = %.3g of it (tolerance %.2g); "
         "against float64: clresnet %.3g, torchvision %.3g; largest relative error %.3g; top-1 "
         "agrees %d/%d; softmax sums within %.1e; %.1f s",
         arch_name, options.height, options.width, fuse ? "fused" : "unfused",
         clrn_precision_string(precision), largest, worst, worst / largest, tolerance,
         ours_exact / largest, torch_exact / largest, relative, top_agree, batch, prob_sum_error,
         wall_seconds() - start);
  CU_ASSERT(largest > 0.0 && spread > 1e-3 * largest);
  CU_ASSERT(worst <= tolerance * largest);
  if (!half) {
    CU_ASSERT(ours_exact <= 2.0 * torch_exact + 1e-6 * largest);
  } else { /* half's rounding shows (float32 errs by 1e-6 of the largest logit): fp16 ran */
    CU_ASSERT(worst > 1e-5 * largest);
  }
  CU_ASSERT(prob_sum_error < 1e-4);
  free(logits);
  free(probs);
  clrn_model_release(model);
  clrn_npy_free(&input);
  clrn_npy_free(&reference);
  clrn_npy_free(&exact);
}

static void test_first_fused(void) { compare(cases[0].name, true); }
static void test_first_unfused(void) { compare(cases[0].name, false); }
static void test_second_fused(void) { compare(cases[1].name, true); }
static void test_second_unfused(void) { compare(cases[1].name, false); }

int main(int argc, char **argv) {
  bool onnx_form = argc == 5 && strcmp(argv[2], "onnx") == 0;
  bool small_form = argc == 3 && strcmp(argv[2], "small") == 0;
  if (argc == 3 && strcmp(argv[2], "fp16") == 0)
    precision = CLRN_PRECISION_FP16;
  else if (argc == 3 && strcmp(argv[2], "tf32") == 0)
    precision = CLRN_PRECISION_TF32;
  else if (argc != 2 && !onnx_form && !small_form) {
    fprintf(stderr, "usage: test_network ARCH [small | fp16 | tf32 | onnx OPSET folded|batchnorm] "
                    "(ARCH: resnet18 ... wide_resnet101_2)\n");
    return 2;
  }
  arch_name = argv[1];
  small_cases = small_form;
  onnx_opset = onnx_form ? argv[3] : NULL;
  onnx_mode = onnx_form ? argv[4] : NULL;
  clrn_arch arch;
  if (clrn_arch_parse(arch_name, &arch) != CLRN_STATUS_SUCCESS) {
    fprintf(stderr, "%s\n", clrn_last_error());
    return 2;
  }
  if (onnx_opset)
    snprintf(dir, sizeof dir, "%s/network/%s-onnx%s-%s", CLRN_TEST_BINARY_DIR, arch_name,
             onnx_opset, onnx_mode);
  else
    snprintf(dir, sizeof dir, "%s/network/%s%s", CLRN_TEST_BINARY_DIR, arch_name,
             small_cases ? "-small" : "");
  int made = make_reference();
  if (made == CLRN_TEST_SKIP)
    return CLRN_TEST_SKIP;
  if (made != 0) {
    fprintf(stderr, "making the torchvision reference failed (exit %d)\n", made);
    return 1;
  }
  if (!read_cases()) {
    fprintf(stderr, "%s/cases.txt does not list two cases\n", dir);
    return 1;
  }
  context = clrn_test_context(false);
  char path[1100];
  snprintf(path, sizeof path, "%s/%s", dir, onnx_opset ? "model.onnx" : "weights.safetensors");
  if (clrn_weights_open(path, arch, &weights) != CLRN_STATUS_SUCCESS) {
    fprintf(stderr, "%s\n", clrn_last_error());
    return 1;
  }
  clrn_test_add_suite(arch_name, NULL, NULL, cases[0].fused, test_first_fused, cases[0].unfused,
                      test_first_unfused, cases[1].fused, test_second_fused, cases[1].unfused,
                      test_second_unfused, NULL);
  int status = clrn_test_run();
  clrn_weights_close(weights);
  clrn_context_release(context);
  return status;
}
