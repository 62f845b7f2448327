/* conv2d against the plain-C reference (tests/ref/ref_conv2d.c): every variant on
 * the convolution shapes of ResNet-18/50 (reduced spatial sizes) and on awkward
 * ones, every epilogue combination, other blockings and both Winograd tiles
 * through CLRN_TUNE, event
 * wait lists, reuse of one object on several input sizes, and refused arguments.
 *
 * Each output must lie within ref_conv2d_tolerance() of the reference, a proven
 * bound on fp32 rounding (derived in ref_conv2d.c; for Winograd, the same bound on
 * the transforms' magnitudes, ref_winograd.c), never a fudge factor. Outputs
 * start as NaN and the output buffer carries a tensor's worth of NaN guard words,
 * so an unwritten output or a write past the end fails too. With
 * CLRN_TEST_SMALL=1 (Oclgrind) the suite keeps to a few small shapes that still
 * reach every kernel path. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "ref_conv2d.h"
#include "ref_winograd.h"

/* NaN words after an output tensor of count floats: a whole tensor more, so a
 * write into the channels or image after the last one lands in the guard. */
static size_t guard(size_t count) { return count + 37; }

static clrn_context *context;
static cl_command_queue queue;
static bool small;

/* Worst error seen per variant, as a fraction of its tolerance. */
typedef struct worst {
  double ratio, error, tolerance;
  char where[160];
  long outputs;
} worst;
static worst worst_seen[CLRN_CONV2D_VARIANT_COUNT];

/* ---- data ------------------------------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

/* Uniform in [-1, 1), from a 64-bit xorshift. */
static float uniform(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (float)((double)(rng_state >> 11) * 0x1.0p-52 - 1.0);
}

static float *random_array(size_t count, float lo, float hi) {
  float *a = malloc((count ? count : 1) * sizeof *a);
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  for (size_t i = 0; i < count; i++)
    a[i] = lo + (hi - lo) * 0.5f * (uniform() + 1.0f);
  return a;
}

static cl_mem upload(const float *data, size_t count) {
  cl_mem buffer = NULL;
  CLRN_ASSERT_OK(
      clrn_buffer_create(context, CL_MEM_READ_WRITE, count * sizeof(float), data, &buffer));
  return buffer;
}

/* ---- one convolution against the reference --------------------------------- */

/* A test shape: n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, groups. */
typedef struct conv_case {
  int n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, groups;
} conv_case;

enum { EPI_BIAS = 1, EPI_SCALE = 2, EPI_SHIFT = 4, EPI_RESIDUAL = 8, EPI_RELU = 16, EPI_ALL = 31 };

static clrn_conv2d_desc desc_of(const conv_case *c, bool relu, clrn_conv2d_variant variant) {
  clrn_conv2d_desc d = {.in_channels = c->cin,
                        .out_channels = c->cout,
                        .kernel_h = c->kh,
                        .kernel_w = c->kw,
                        .stride_h = c->sh,
                        .stride_w = c->sw,
                        .pad_h = c->ph,
                        .pad_w = c->pw,
                        .groups = c->groups,
                        .relu = relu,
                        .variant = variant};
  return d;
}

static ref_conv2d_shape shape_of(const conv_case *c, bool relu) {
  ref_conv2d_shape s = {c->n,  c->cin, c->h,  c->w,  c->cout,   c->kh, c->kw,
                        c->sh, c->sw,  c->ph, c->pw, c->groups, relu};
  return s;
}

/* Host-side parameters and input of one case. */
typedef struct case_data {
  ref_conv2d_shape shape;
  int oh, ow;
  size_t in_count, out_count, w_count;
  float *input, *weight, *bias, *scale, *shift, *residual;
} case_data;

static void case_data_make(case_data *cd, const conv_case *c, int epilogue) {
  memset(cd, 0, sizeof *cd);
  cd->shape = shape_of(c, epilogue & EPI_RELU);
  ref_conv2d_out_size(&cd->shape, &cd->oh, &cd->ow);
  cd->in_count = (size_t)c->n * c->cin * c->h * c->w;
  cd->out_count = (size_t)c->n * c->cout * cd->oh * cd->ow;
  cd->w_count = (size_t)c->cout * (c->cin / c->groups) * c->kh * c->kw;
  cd->input = random_array(cd->in_count, -1, 1);
  cd->weight = random_array(cd->w_count, -1, 1);
  if (epilogue & EPI_BIAS)
    cd->bias = random_array(c->cout, -1, 1);
  if (epilogue & EPI_SCALE) {
    cd->scale = random_array(c->cout, 0.25f, 2.0f);
    for (int i = 0; i < c->cout; i += 3)
      cd->scale[i] = -cd->scale[i]; /* negative scales too */
  }
  if (epilogue & EPI_SHIFT)
    cd->shift = random_array(c->cout, -1, 1);
  if (epilogue & EPI_RESIDUAL)
    cd->residual = random_array(cd->out_count, -1, 1);
}

static void case_data_free(case_data *cd) {
  free(cd->input);
  free(cd->weight);
  free(cd->bias);
  free(cd->scale);
  free(cd->shift);
  free(cd->residual);
}

/* Compares got with the reference; records the worst ratio under variant. */
static void compare(const case_data *cd, const float *got, clrn_conv2d_variant variant,
                    const char *label) {
  size_t count = cd->out_count;
  double *want = malloc(count * sizeof *want), *mag = malloc(count * sizeof *mag);
  double *epi = malloc(count * sizeof *epi);
  CU_ASSERT_FATAL(want && mag && epi);
  ref_conv2d(&cd->shape, cd->input, cd->weight, cd->bias, cd->scale, cd->shift, cd->residual, want,
             mag, epi);
  int terms = ref_conv2d_terms(&cd->shape);
  if (variant == CLRN_CONV2D_VARIANT_WINOGRAD) {
    /* The tile the context's convolutions run (a forced Winograd without one: 4). */
    int tile = (int)clrn_context_tuning(context, "WINO_TILE", 0);
    tile = tile ? tile : 4;
    ref_winograd_magnitude(&cd->shape, tile, cd->input, cd->weight, cd->scale, mag);
    terms = ref_winograd_terms(&cd->shape, tile);
  }
  size_t bad = 0;
  worst *w = &worst_seen[variant];
  for (size_t i = 0; i < count; i++) {
    double tol = ref_conv2d_tolerance(terms, mag[i], epi[i]);
    double err = fabs((double)got[i] - want[i]);
    if (!(err <= tol)) { /* NaN fails too */
      if (bad++ < 3)
        fprintf(stderr, "\n%s: output %zu is %.9g, want %.9g (error %.3g > tolerance %.3g)", label,
                i, got[i], want[i], err, tol);
      continue;
    }
    double ratio = tol > 0 ? err / tol : 0;
    if (ratio > w->ratio) {
      w->ratio = ratio;
      w->error = err;
      w->tolerance = tol;
      snprintf(w->where, sizeof w->where, "%s", label);
    }
  }
  w->outputs += (long)count;
  if (bad)
    fprintf(stderr, "\n%s: %zu of %zu outputs wrong\n", label, bad, count);
  CU_ASSERT_EQUAL(bad, 0);
  free(want);
  free(mag);
  free(epi);
}

/* Reads count floats plus the guard words and checks the guards are still NaN. */
static float *read_output(cl_mem buffer, size_t count, const char *label) {
  size_t total = count + guard(count);
  float *got = malloc(total * sizeof *got);
  CU_ASSERT_PTR_NOT_NULL_FATAL(got);
  CU_ASSERT_EQUAL_FATAL(
      clEnqueueReadBuffer(queue, buffer, CL_TRUE, 0, total * sizeof *got, got, 0, NULL, NULL),
      CL_SUCCESS);
  for (size_t i = count; i < total; i++)
    if (!isnan(got[i])) {
      fprintf(stderr, "\n%s: wrote past the output tensor (word %zu)\n", label, i - count);
      CU_FAIL("write past the output tensor");
      break;
    }
  return got;
}

/* A NaN-filled output buffer with guard words. */
static cl_mem nan_buffer(size_t count) {
  size_t total = count + guard(count);
  float *fill = malloc(total * sizeof *fill);
  CU_ASSERT_PTR_NOT_NULL_FATAL(fill);
  for (size_t i = 0; i < total; i++)
    fill[i] = NAN;
  cl_mem buffer = upload(fill, total);
  free(fill);
  return buffer;
}

/* Runs case c with the given epilogue on variant; returns the variant AUTO chose
 * (or the forced one). */
static clrn_conv2d_variant run_case(const conv_case *c, int epilogue, clrn_conv2d_variant variant) {
  case_data cd;
  case_data_make(&cd, c, epilogue);
  clrn_conv2d_desc desc = desc_of(c, epilogue & EPI_RELU, variant);
  clrn_conv2d *conv = NULL;
  CLRN_ASSERT_OK(clrn_conv2d_create(context, &desc, cd.weight, cd.bias, cd.scale, cd.shift, &conv));
  const char *name = clrn_conv2d_variant_name(conv);
  clrn_conv2d_variant ran = strcmp(name, "blocked") == 0    ? CLRN_CONV2D_VARIANT_BLOCKED
                            : strcmp(name, "gemm") == 0     ? CLRN_CONV2D_VARIANT_GEMM
                            : strcmp(name, "igemm") == 0    ? CLRN_CONV2D_VARIANT_IGEMM
                            : strcmp(name, "winograd") == 0 ? CLRN_CONV2D_VARIANT_WINOGRAD
                            : strcmp(name, "grouped") == 0  ? CLRN_CONV2D_VARIANT_GROUPED
                                                            : CLRN_CONV2D_VARIANT_DIRECT;
  if (variant != CLRN_CONV2D_VARIANT_AUTO)
    CU_ASSERT_EQUAL(ran, variant);
  char label[160];
  snprintf(label, sizeof label, "%s %dx%dx%dx%d k%dx%d s%dx%d p%dx%d g%d -> %d epilogue %d", name,
           c->n, c->cin, c->h, c->w, c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, c->groups, c->cout,
           epilogue);
  clrn_tensor in = {upload(cd.input, cd.in_count), c->n, c->cin, c->h, c->w};
  clrn_tensor out = {nan_buffer(cd.out_count), c->n, c->cout, cd.oh, cd.ow};
  clrn_tensor res = {NULL, c->n, c->cout, cd.oh, cd.ow};
  if (cd.residual)
    res.buffer = upload(cd.residual, cd.out_count);
  cl_event done = NULL;
  CLRN_ASSERT_OK(
      clrn_conv2d_enqueue(conv, queue, &in, cd.residual ? &res : NULL, &out, 0, NULL, &done));
  CU_ASSERT_EQUAL(clWaitForEvents(1, &done), CL_SUCCESS);
  clReleaseEvent(done);
  float *got = read_output(out.buffer, cd.out_count, label);
  compare(&cd, got, ran, label);
  free(got);
  clReleaseMemObject(in.buffer);
  clReleaseMemObject(out.buffer);
  if (res.buffer)
    clReleaseMemObject(res.buffer);
  clrn_conv2d_release(conv);
  case_data_free(&cd);
  return ran;
}

/* Whether the GEMM variant runs case c (1x1, stride 1, no padding, one group). */
static bool gemm_fits(const conv_case *c) {
  return c->kh == 1 && c->kw == 1 && c->sh == 1 && c->sw == 1 && c->ph == 0 && c->pw == 0 &&
         c->groups == 1;
}

/* Whether the Winograd variant runs case c (3x3, stride 1, one group). */
static bool winograd_fits(const conv_case *c) {
  return c->kh == 3 && c->kw == 3 && c->sh == 1 && c->sw == 1 && c->groups == 1;
}

/* Runs case c on every variant that takes it (grouped takes any shape). */
static void run_variants(const conv_case *c, int epilogue) {
  run_case(c, epilogue, CLRN_CONV2D_VARIANT_DIRECT);
  run_case(c, epilogue, CLRN_CONV2D_VARIANT_BLOCKED);
  run_case(c, epilogue, CLRN_CONV2D_VARIANT_GROUPED);
  if (gemm_fits(c))
    run_case(c, epilogue, CLRN_CONV2D_VARIANT_GEMM);
  run_case(c, epilogue, CLRN_CONV2D_VARIANT_IGEMM);
  if (winograd_fits(c))
    run_case(c, epilogue, CLRN_CONV2D_VARIANT_WINOGRAD);
}

static void run_cases(const conv_case *cases, size_t count, int epilogue) {
  for (size_t i = 0; i < count; i++)
    run_variants(&cases[i], epilogue);
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the shapes -------------------------------------------------------------- */

/* ResNet-18 and ResNet-50 convolutions at reduced spatial sizes (channel counts
 * as in the networks), with the folded-BatchNorm epilogue they run with. */
static const conv_case resnet_cases[] = {
    {1, 3, 56, 56, 64, 7, 7, 2, 2, 3, 3, 1},    /* stem */
    {1, 64, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1},   /* resnet18 layer1 */
    {1, 64, 14, 14, 128, 3, 3, 2, 2, 1, 1, 1},  /* layer2 first */
    {1, 64, 14, 14, 128, 1, 1, 2, 2, 0, 0, 1},  /* layer2 downsample */
    {1, 128, 7, 7, 128, 3, 3, 1, 1, 1, 1, 1},   /* layer2 */
    {1, 128, 7, 7, 256, 3, 3, 2, 2, 1, 1, 1},   /* layer3 first */
    {1, 128, 7, 7, 256, 1, 1, 2, 2, 0, 0, 1},   /* layer3 downsample */
    {1, 256, 4, 4, 256, 3, 3, 1, 1, 1, 1, 1},   /* layer3 */
    {1, 256, 4, 4, 512, 3, 3, 2, 2, 1, 1, 1},   /* layer4 first */
    {1, 512, 2, 2, 512, 3, 3, 1, 1, 1, 1, 1},   /* layer4 */
    {1, 64, 14, 14, 256, 1, 1, 1, 1, 0, 0, 1},  /* resnet50 layer1 expand */
    {1, 256, 14, 14, 64, 1, 1, 1, 1, 0, 0, 1},  /* layer1 reduce */
    {1, 256, 14, 14, 128, 1, 1, 1, 1, 0, 0, 1}, /* layer2 first reduce */
    {1, 128, 14, 14, 128, 3, 3, 2, 2, 1, 1, 1}, /* layer2 3x3 s2 */
    {1, 256, 14, 14, 512, 1, 1, 2, 2, 0, 0, 1}, /* layer2 downsample */
    {1, 512, 7, 7, 128, 1, 1, 1, 1, 0, 0, 1},   /* layer2 reduce */
    {1, 128, 7, 7, 512, 1, 1, 1, 1, 0, 0, 1},   /* layer2 expand */
    {1, 512, 7, 7, 1024, 1, 1, 2, 2, 0, 0, 1},  /* layer3 downsample */
    {1, 1024, 4, 4, 256, 1, 1, 1, 1, 0, 0, 1},  /* layer3 reduce */
    {1, 256, 4, 4, 1024, 1, 1, 1, 1, 0, 0, 1},  /* layer3 expand */
    {1, 1024, 4, 4, 2048, 1, 1, 2, 2, 0, 0, 1}, /* layer4 downsample */
    {1, 2048, 2, 2, 512, 1, 1, 1, 1, 0, 0, 1},  /* layer4 reduce */
    {1, 512, 3, 3, 512, 3, 3, 2, 2, 1, 1, 1},   /* layer4 3x3 s2 */
    {1, 512, 2, 2, 2048, 1, 1, 1, 1, 0, 0, 1},  /* layer4 expand */
    {3, 64, 9, 9, 64, 3, 3, 1, 1, 1, 1, 1},     /* batch 3 */
    {2, 256, 5, 5, 64, 1, 1, 1, 1, 0, 0, 1},    /* batch 2 */
};

/* Awkward shapes: odd sizes and channel counts, 1x1 images, inputs smaller than
 * the kernel, windows wholly in the padding, non-square kernels, groups. */
static const conv_case odd_cases[] = {
    {1, 3, 5, 7, 5, 3, 3, 1, 1, 1, 1, 1},     /* C=3 -> 5 */
    {3, 5, 9, 11, 13, 3, 3, 2, 2, 1, 1, 1},   /* stride 2 on an odd input, batch 3 */
    {2, 7, 1, 1, 19, 1, 1, 1, 1, 0, 0, 1},    /* 1x1 image */
    {3, 16, 1, 1, 33, 3, 3, 1, 1, 1, 1, 1},   /* 1x1 image through a 3x3 kernel */
    {1, 5, 3, 3, 1000, 1, 1, 1, 1, 0, 0, 1},  /* 1000 output channels */
    {1, 4, 2, 2, 6, 3, 3, 1, 1, 1, 1, 1},     /* input smaller than the kernel */
    {2, 3, 3, 3, 8, 7, 7, 2, 2, 3, 3, 1},     /* the stem on a 3x3 image */
    {1, 4, 3, 3, 5, 1, 1, 1, 1, 2, 1, 1},     /* windows wholly in the padding */
    {2, 6, 7, 9, 10, 1, 1, 2, 3, 1, 2, 1},    /* strided 1x1 with padding */
    {2, 6, 7, 10, 9, 1, 3, 1, 2, 0, 1, 1},    /* 1x3, strides 1x2 */
    {1, 6, 8, 5, 7, 3, 1, 2, 1, 1, 0, 1},     /* 3x1, strides 2x1 */
    {1, 4, 9, 9, 17, 5, 5, 1, 1, 2, 2, 1},    /* 5x5 */
    {1, 3, 11, 13, 7, 2, 2, 3, 3, 0, 1, 1},   /* even kernel, stride 3 */
    {1, 17, 13, 13, 31, 3, 3, 1, 1, 1, 1, 1}, /* counts multiples of nothing */
    {2, 8, 7, 7, 6, 3, 3, 1, 1, 1, 1, 2},     /* groups 2 */
    {1, 64, 7, 7, 128, 3, 3, 1, 1, 1, 1, 2},  /* groups 2, full blocks */
    {1, 12, 9, 9, 12, 3, 3, 2, 2, 1, 1, 12},  /* depthwise */
    {2, 4, 6, 6, 8, 3, 3, 1, 1, 1, 1, 4},     /* groups with 2 outputs each */
    {1, 32, 6, 6, 40, 1, 1, 1, 1, 0, 0, 8},   /* grouped 1x1 */
    {1, 3, 23, 23, 64, 7, 7, 2, 2, 3, 3, 1},  /* stem on an odd input */
    {3, 13, 7, 7, 70, 1, 1, 1, 1, 0, 0, 1},   /* 1x1: 49-pixel planes, 70 channels */
    {2, 1, 4, 4, 1, 1, 1, 1, 1, 0, 0, 1},     /* 1x1: one channel in and out */
};

/* ResNeXt's grouped 3x3 convolutions at reduced sizes: 32 and 64 groups of 4, 8
 * and 16 channels (4-channel blocks, 8-channel blocks, several blocks a group),
 * stride 1 and 2, rows shorter than, equal to and longer than the 16-pixel tile,
 * odd sizes, batches. */
static const conv_case grouped_cases[] = {
    {2, 128, 9, 9, 128, 3, 3, 1, 1, 1, 1, 32},   /* resnext50 layer1: 32 x 4 */
    {1, 256, 18, 17, 256, 3, 3, 2, 2, 1, 1, 32}, /* layer2 first: 32 x 8, stride 2 */
    {3, 256, 7, 16, 256, 3, 3, 1, 1, 1, 1, 32},  /* layer2: a row of exactly one tile */
    {2, 512, 5, 5, 512, 3, 3, 1, 1, 1, 1, 32},   /* layer3: 32 x 16 */
    {1, 512, 11, 11, 512, 3, 3, 2, 2, 1, 1, 32}, /* layer3 first, odd input */
    {2, 256, 6, 35, 256, 3, 3, 1, 1, 1, 1, 64},  /* resnext101_64x4d: 64 x 4, 3 tiles */
    {1, 512, 13, 33, 512, 3, 3, 2, 2, 1, 1, 64}, /* 64 x 8, stride 2, odd */
    {2, 96, 5, 19, 120, 3, 3, 1, 1, 1, 1, 8},    /* 12 in, 15 out a group: partial block */
    {1, 64, 9, 23, 64, 5, 3, 3, 3, 2, 1, 16},    /* other window and stride: generic */
    {1, 64, 8, 8, 64, 1, 1, 1, 1, 0, 0, 16},     /* unpadded 1x1 */
};

/* Oclgrind: few and small, yet every kernel (1x1, 3x3, 7x7, any size), interior and
 * edge blocks, partial output-channel and pixel blocks, groups and depthwise. */
static const conv_case small_cases[] = {
    {1, 8, 6, 6, 12, 3, 3, 1, 1, 1, 1, 1},  {2, 5, 5, 5, 9, 1, 1, 2, 2, 0, 0, 1},
    {1, 3, 11, 11, 8, 7, 7, 2, 2, 3, 3, 1}, {1, 4, 5, 6, 6, 2, 3, 1, 2, 1, 0, 1},
    {1, 6, 4, 4, 6, 3, 3, 2, 2, 1, 1, 3},   {2, 3, 1, 1, 5, 3, 3, 1, 1, 1, 1, 1},
    {2, 9, 5, 5, 11, 1, 1, 1, 1, 0, 0, 1}, /* gemm: full and partial tiles and blocks */
};

/* Oclgrind's grouped shapes: 4- and 8-channel blocks, stride 1 (full and partial
 * row tiles) and 2, and the generic kernel. */
static const conv_case small_grouped_cases[] = {
    {2, 16, 3, 18, 16, 3, 3, 1, 1, 1, 1, 4},
    {1, 16, 7, 9, 32, 3, 3, 2, 2, 1, 1, 4},
    {1, 8, 5, 6, 12, 2, 3, 1, 3, 0, 1, 2},
};

/* ---- tests -------------------------------------------------------------------- */

static void test_resnet_shapes(void) {
  if (small)
    run_cases(small_cases, COUNT(small_cases), EPI_BIAS | EPI_SCALE | EPI_SHIFT | EPI_RELU);
  else
    run_cases(resnet_cases, COUNT(resnet_cases), EPI_SCALE | EPI_SHIFT | EPI_RELU);
}

static void test_residual_shapes(void) {
  /* The last convolution of each block adds the shortcut before ReLU. */
  const conv_case *cases = small ? small_cases : resnet_cases;
  size_t count = small ? 2 : 4;
  run_cases(cases + (small ? 0 : 10), count, EPI_ALL);
}

/* The grouped shapes on every variant and with every epilogue. */
static void test_grouped_shapes(void) {
  if (small) {
    run_cases(small_grouped_cases, COUNT(small_grouped_cases), EPI_ALL);
    return;
  }
  run_cases(grouped_cases, COUNT(grouped_cases), EPI_SCALE | EPI_SHIFT | EPI_RELU);
  run_cases(grouped_cases, COUNT(grouped_cases), EPI_ALL);
  for (int e = 0; e <= EPI_ALL; e++)
    run_case(&grouped_cases[1], e, CLRN_CONV2D_VARIANT_GROUPED);
}

static void test_odd_shapes(void) {
  if (small)
    return; /* small_cases already are */
  run_cases(odd_cases, COUNT(odd_cases), EPI_ALL);
  run_cases(odd_cases, COUNT(odd_cases), 0);
}

static void test_epilogues(void) {
  conv_case c = {2, 5, 6, 7, 11, 3, 3, 1, 1, 1, 1, 1};
  conv_case pointwise = {2, 5, 6, 7, 11, 1, 1, 1, 1, 0, 0, 1}; /* also on gemm */
  for (int e = 0; e <= EPI_ALL; e++) {
    /* Oclgrind: each flag alone, none and all. */
    if (small && e != 0 && e != EPI_ALL && (e & (e - 1)))
      continue;
    run_variants(&c, e);
    run_variants(&pointwise, e);
  }
}

static void test_auto(void) {
  const conv_case layer = {1, 64, 7, 7, 64, 3, 3, 1, 1, 1, 1, 1};
  const conv_case depthwise = {1, 12, 9, 9, 12, 3, 3, 2, 2, 1, 1, 12};
  clrn_conv2d_variant chosen = run_case(&layer, EPI_SCALE | EPI_SHIFT, CLRN_CONV2D_VARIANT_AUTO);
  bool prefer_blocked = clrn_context_tuning(context, "CONV_AUTO_BLOCKED", 1) != 0;
  bool prefer_winograd = clrn_context_tuning(context, "WINO_TILE", 0) != 0;
  CU_ASSERT_EQUAL(chosen, prefer_winograd  ? CLRN_CONV2D_VARIANT_WINOGRAD
                          : prefer_blocked ? CLRN_CONV2D_VARIANT_BLOCKED
                                           : CLRN_CONV2D_VARIANT_DIRECT);
  /* One output channel per group would waste most of a block: direct. */
  if (clrn_context_tuning(context, "CONV_COUT_BLOCK", 8) > 2)
    CU_ASSERT_EQUAL(run_case(&depthwise, 0, CLRN_CONV2D_VARIANT_AUTO), CLRN_CONV2D_VARIANT_DIRECT);
  /* A 1x1 stride-1 layer runs on gemm where the profile says so; a strided one
   * only where it also subsamples (CONV_SUBSAMPLE; the plane is unknown here, so
   * GEMM_MIN_PLANE does not apply). */
  const conv_case pointwise = {1, 64, 7, 7, 32, 1, 1, 1, 1, 0, 0, 1};
  const conv_case strided = {1, 64, 7, 7, 32, 1, 1, 2, 2, 0, 0, 1};
  bool prefer_gemm = clrn_context_tuning(context, "CONV_AUTO_GEMM", 0) != 0;
  clrn_conv2d_variant chosen_1x1 = run_case(&pointwise, EPI_ALL, CLRN_CONV2D_VARIANT_AUTO);
  if (prefer_gemm)
    CU_ASSERT_EQUAL(chosen_1x1, CLRN_CONV2D_VARIANT_GEMM);
  bool subsample = clrn_context_tuning(context, "CONV_SUBSAMPLE", 0) != 0;
  CU_ASSERT_EQUAL(run_case(&strided, EPI_ALL, CLRN_CONV2D_VARIANT_AUTO) == CLRN_CONV2D_VARIANT_GEMM,
                  prefer_gemm && subsample);
  /* Grouped convolutions with at most GROUPED_MAX_COUT outputs a group run on
   * the grouped kernel; wider groups and ungrouped layers do not. */
  long max_cout = clrn_context_tuning(context, "GROUPED_MAX_COUT", 0);
  const conv_case narrow = {1, 128, 6, 6, 128, 3, 3, 1, 1, 1, 1, 32};
  const conv_case wide = {1, 64, 6, 6, 64, 3, 3, 1, 1, 1, 1, 1};
  clrn_conv2d_variant chosen_narrow = run_case(&narrow, EPI_ALL, CLRN_CONV2D_VARIANT_AUTO);
  CU_ASSERT_EQUAL(chosen_narrow == CLRN_CONV2D_VARIANT_GROUPED, max_cout >= 4);
  CU_ASSERT_NOT_EQUAL(run_case(&wide, 0, CLRN_CONV2D_VARIANT_AUTO), CLRN_CONV2D_VARIANT_GROUPED);
}

/* The suite's context while use_tuning() has replaced it, and CLRN_TUNE's value. */
static clrn_context *suite_context;
static cl_command_queue suite_queue;
static char *suite_tune;

/* Makes context (and queue) a fresh one under CLRN_TUNE=tuning, keeping the
 * suite's (and releasing the last such context) until restore_tuning(). */
static void use_tuning(const char *tuning) {
  if (!suite_context) {
    suite_context = context;
    suite_queue = queue;
    suite_tune = getenv("CLRN_TUNE") ? strdup(getenv("CLRN_TUNE")) : NULL;
  } else {
    clrn_context_release(context);
  }
  setenv("CLRN_TUNE", tuning, 1);
  context = clrn_test_context(false);
  queue = clrn_context_queue(context, 0);
}

/* Releases use_tuning()'s context and brings back the suite's and CLRN_TUNE. */
static void restore_tuning(void) {
  clrn_context_release(context);
  if (suite_tune)
    setenv("CLRN_TUNE", suite_tune, 1);
  else
    unsetenv("CLRN_TUNE");
  free(suite_tune);
  suite_tune = NULL;
  context = suite_context;
  queue = suite_queue;
  suite_context = NULL;
}

/* Other blockings, through CLRN_TUNE in fresh contexts: vector widths 1, 4 and 8,
 * blocks that are not powers of two, one pixel per work-item, each grid order,
 * the GPU-style values of devices/default.json, and the implicit GEMM's tiles
 * (those also under Oclgrind, on one small case). */
static void test_other_blockings(void) {
  const char *tunings[] = {
      "CONV_VEC=1,CONV_COUT_BLOCK=3,CONV_PIX_BLOCK=1,CONV_BLOCK_WG=3,CONV_PIXELS_FIRST=0",
      "CONV_VEC=4,CONV_COUT_BLOCK=12,CONV_PIX_BLOCK=5,CONV_BLOCK_WG=1,CONV_PIXELS_FIRST=1",
      "CONV_VEC=8,CONV_COUT_BLOCK=16,CONV_PIX_BLOCK=7,CONV_WG=5,CONV_PIXELS_FIRST=2",
      "CONV_VEC=4,CONV_COUT_BLOCK=8,CONV_PIX_BLOCK=4,CONV_BLOCK_WG=64,CONV_PIXELS_FIRST=1",
      "GEMM_MR=3,GEMM_NR=4,GEMM_WG=1,CONV_PIXELS_FIRST=0,CONV_AUTO_GEMM=1",
      "GEMM_MR=16,GEMM_NR=8,GEMM_WG=7,CONV_PIXELS_FIRST=1",
      "GEMM_MR=1,GEMM_NR=16,GEMM_WG=64,CONV_PIXELS_FIRST=2",
      "GEMM_MR=5,GEMM_NR=4,GEMM_NV=3,GEMM_WG=2,CONV_PIXELS_FIRST=0",
      "GEMM_MR=4,GEMM_NR=16,GEMM_NV=4,CONV_PIXELS_FIRST=2",
      /* The implicit GEMM: the tiles of devices/nvidia-hopper.json and intel-gpu.json
       * (an A tile smaller than the work-group; nvidia.json's and amd.json's run in
       * the network tests), the smallest and the largest register tiles, K steps
       * of 4 and 32. */
      "IGEMM_BM=128,IGEMM_BN=64,IGEMM_BK=16,IGEMM_TM=8,IGEMM_TN=4",
      "IGEMM_BM=32,IGEMM_BN=64,IGEMM_BK=8,IGEMM_TM=4,IGEMM_TN=4",
      "IGEMM_BM=16,IGEMM_BN=16,IGEMM_BK=4,IGEMM_TM=2,IGEMM_TN=2",
      "IGEMM_BM=128,IGEMM_BN=128,IGEMM_BK=16,IGEMM_TM=8,IGEMM_TN=8",
      "IGEMM_BM=32,IGEMM_BN=16,IGEMM_BK=32,IGEMM_TM=2,IGEMM_TN=8",
  };
  const conv_case cases[] = {
      {2, 5, 6, 7, 11, 3, 3, 1, 1, 1, 1, 1},
      {1, 16, 9, 9, 20, 1, 1, 2, 2, 0, 0, 1},
      {1, 3, 15, 15, 8, 7, 7, 2, 2, 3, 3, 1},
      {1, 6, 5, 5, 10, 3, 2, 1, 1, 1, 0, 2},
  };
  const conv_case pointwise[] = {{2, 17, 5, 7, 19, 1, 1, 1, 1, 0, 0, 1},
                                 {1, 40, 4, 8, 48, 1, 1, 1, 1, 0, 0, 1}};
  /* Several K steps, channel blocks and pixel tiles, batch > 1, partial tiles of
   * each, groups with full blocks, the stem. */
  const conv_case igemm_cases[] = {{3, 37, 9, 7, 150, 3, 3, 1, 1, 1, 1, 1},
                                   {2, 70, 11, 11, 33, 1, 1, 2, 2, 0, 0, 1},
                                   {2, 64, 6, 5, 256, 3, 3, 1, 1, 1, 1, 2},
                                   {2, 3, 21, 19, 64, 7, 7, 2, 2, 3, 3, 1}};
  /* Oclgrind: the implicit GEMM's tilings on one small case each. */
  size_t first = small ? COUNT(tunings) - 5 : 0;
  const conv_case tiny = {2, 5, 5, 6, 9, 3, 3, 1, 1, 1, 1, 1};
  for (size_t t = first; t < COUNT(tunings); t++) {
    use_tuning(tunings[t]);
    if (small) {
      run_case(&tiny, EPI_ALL, CLRN_CONV2D_VARIANT_IGEMM);
      continue;
    }
    bool igemm = strstr(tunings[t], "IGEMM_") != NULL;
    for (size_t i = 0; i < COUNT(cases); i++)
      run_case(&cases[i], EPI_ALL, igemm ? CLRN_CONV2D_VARIANT_IGEMM : CLRN_CONV2D_VARIANT_BLOCKED);
    run_case(&cases[0], EPI_ALL, CLRN_CONV2D_VARIANT_DIRECT);
    for (size_t i = 0; i < COUNT(pointwise); i++)
      run_case(&pointwise[i], EPI_ALL,
               igemm ? CLRN_CONV2D_VARIANT_IGEMM : CLRN_CONV2D_VARIANT_GEMM);
    for (size_t i = 0; igemm && i < COUNT(igemm_cases); i++)
      run_case(&igemm_cases[i], EPI_ALL, CLRN_CONV2D_VARIANT_IGEMM);
  }
  restore_tuning();
}

/* Both Winograd tiles and other GEMM blockings, through CLRN_TUNE in fresh
 * contexts: F(4x4,3x3) and F(6x6,3x3), channel blocks of 1 to 16 with partial
 * ones, each tile vector width, each grid order, odd work-group sizes; on odd
 * sizes, batches, channel counts that are multiples of nothing, no padding and
 * padding 2, and the residual + ReLU epilogue. */
static void test_winograd_tiles(void) {
  const char *tunings[] = {
      "WINO_TILE=4,WINO_MR=3,WINO_NR=4,WINO_WG=1,CONV_PIXELS_FIRST=0",
      "WINO_TILE=6,WINO_MR=5,WINO_NR=8,WINO_WG=3,WINO_XFORM_WG=5,CONV_PIXELS_FIRST=1",
      "WINO_TILE=6,WINO_MR=16,WINO_NR=16,CONV_PIXELS_FIRST=2",
      "WINO_TILE=4,WINO_MR=8,WINO_NR=16,WINO_XFORM_WG=64,CONV_PIXELS_FIRST=2",
  };
  const conv_case cases[] = {
      {2, 5, 6, 7, 11, 3, 3, 1, 1, 1, 1, 1},    {1, 8, 6, 6, 12, 3, 3, 1, 1, 1, 1, 1},
      {1, 6, 9, 8, 7, 3, 3, 1, 1, 0, 0, 1},     {1, 3, 5, 5, 4, 3, 3, 1, 1, 2, 2, 1},
      {1, 17, 13, 13, 31, 3, 3, 1, 1, 1, 1, 1}, {3, 16, 1, 1, 33, 3, 3, 1, 1, 1, 1, 1},
      {1, 4, 2, 2, 6, 3, 3, 1, 1, 1, 1, 1},     {2, 64, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1},
  };
  size_t tuning_count = small ? 2 : COUNT(tunings), case_count = small ? 2 : COUNT(cases);
  for (size_t t = 0; t < tuning_count; t++) {
    use_tuning(tunings[t]);
    for (size_t i = 0; i < case_count; i++) {
      run_case(&cases[i], EPI_ALL, CLRN_CONV2D_VARIANT_WINOGRAD);
      if (!small)
        run_case(&cases[i], EPI_SCALE | EPI_SHIFT | EPI_RELU, CLRN_CONV2D_VARIANT_WINOGRAD);
    }
    /* AUTO picks Winograd for a shape it fits, not for a strided one. */
    CU_ASSERT_EQUAL(run_case(&cases[0], 0, CLRN_CONV2D_VARIANT_AUTO), CLRN_CONV2D_VARIANT_WINOGRAD);
    const conv_case strided = {1, 8, 7, 7, 8, 3, 3, 2, 2, 1, 1, 1};
    CU_ASSERT_NOT_EQUAL(run_case(&strided, 0, CLRN_CONV2D_VARIANT_AUTO),
                        CLRN_CONV2D_VARIANT_WINOGRAD);
  }
  restore_tuning();
}

/* CONV_SUBSAMPLE: unpadded strided 1x1 convolutions read a copy of every
 * stride-th pixel and run with stride 1, on the GEMM kernel (AUTO, with
 * CONV_AUTO_GEMM) and on the blocked one; odd sizes (the last row and column
 * taken), unequal strides, batches, partial blocks and tiles, every epilogue.
 * Padded and stride-1 ones are unaffected. */
static void test_subsample(void) {
  const conv_case cases[] = {
      {2, 16, 9, 9, 20, 1, 1, 2, 2, 0, 0, 1}, {1, 70, 11, 11, 33, 1, 1, 2, 2, 0, 0, 1},
      {3, 13, 7, 10, 9, 1, 1, 3, 2, 0, 0, 1}, {1, 64, 14, 14, 128, 1, 1, 2, 2, 0, 0, 1},
      {2, 8, 1, 1, 5, 1, 1, 2, 2, 0, 0, 1},   {1, 32, 33, 17, 48, 1, 1, 2, 2, 0, 0, 1},
  };
  const conv_case padded = {2, 6, 7, 9, 10, 1, 1, 2, 3, 1, 2, 1};
  const char *tunings[] = {"CONV_SUBSAMPLE=1,CONV_AUTO_GEMM=1,GEMM_MIN_PLANE=0",
                           "CONV_SUBSAMPLE=1,CONV_AUTO_GEMM=1,GEMM_MIN_PLANE=0,GEMM_MR=3,"
                           "GEMM_NR=4,CONV_PIXELS_FIRST=1"};
  size_t tuning_count = small ? 1 : COUNT(tunings), case_count = small ? 2 : COUNT(cases);
  for (size_t t = 0; t < tuning_count; t++) {
    use_tuning(tunings[t]);
    for (size_t i = 0; i < case_count; i++) {
      CU_ASSERT_EQUAL(run_case(&cases[i], EPI_ALL, CLRN_CONV2D_VARIANT_AUTO),
                      CLRN_CONV2D_VARIANT_GEMM);
      run_case(&cases[i], EPI_ALL, CLRN_CONV2D_VARIANT_BLOCKED);
      if (!small) {
        run_case(&cases[i], 0, CLRN_CONV2D_VARIANT_AUTO);
        run_case(&cases[i], EPI_SCALE | EPI_SHIFT | EPI_RELU, CLRN_CONV2D_VARIANT_BLOCKED);
      }
    }
    /* A padded strided 1x1 convolution is not subsampled: blocked, padded. */
    CU_ASSERT_NOT_EQUAL(run_case(&padded, EPI_ALL, CLRN_CONV2D_VARIANT_AUTO),
                        CLRN_CONV2D_VARIANT_GEMM);
  }
  restore_tuning();
}

/* The wait list reaches the launch: nothing runs before a user event completes. */
static void test_wait_list(void) {
  const conv_case c = {1, 6, 9, 9, 10, 3, 3, 1, 1, 1, 1, 1};
  for (int v = CLRN_CONV2D_VARIANT_DIRECT; v <= CLRN_CONV2D_VARIANT_BLOCKED; v++) {
    case_data cd;
    case_data_make(&cd, &c, EPI_BIAS);
    clrn_conv2d_desc desc = desc_of(&c, false, (clrn_conv2d_variant)v);
    clrn_conv2d *conv = NULL;
    CLRN_ASSERT_OK(clrn_conv2d_create(context, &desc, cd.weight, cd.bias, NULL, NULL, &conv));
    clrn_tensor in = {upload(cd.input, cd.in_count), c.n, c.cin, c.h, c.w};
    clrn_tensor out = {nan_buffer(cd.out_count), c.n, c.cout, cd.oh, cd.ow};
    cl_int err = CL_SUCCESS;
    cl_event gate = clCreateUserEvent(clrn_context_cl(context), &err), done = NULL;
    CU_ASSERT_EQUAL_FATAL(err, CL_SUCCESS);
    CLRN_ASSERT_OK(clrn_conv2d_enqueue(conv, queue, &in, NULL, &out, 1, &gate, &done));
    /* Submit the launch so a driver could start it. Not on Oclgrind: its clFlush
     * runs the queue in this thread and would wait for the gate forever. */
    if (!strstr(clrn_context_device(context)->platform_name, "Oclgrind"))
      CU_ASSERT_EQUAL(clFlush(queue), CL_SUCCESS);
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
    cl_int state = CL_COMPLETE;
    CU_ASSERT_EQUAL(
        clGetEventInfo(done, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof state, &state, NULL),
        CL_SUCCESS);
    CU_ASSERT(state > CL_RUNNING); /* queued or submitted, not running or complete */
    CU_ASSERT_EQUAL(clSetUserEventStatus(gate, CL_COMPLETE), CL_SUCCESS);
    CU_ASSERT_EQUAL(clWaitForEvents(1, &done), CL_SUCCESS);
    float *got = read_output(out.buffer, cd.out_count, "wait list");
    compare(&cd, got, (clrn_conv2d_variant)v, "wait list");
    free(got);
    clReleaseEvent(gate);
    clReleaseEvent(done);
    clReleaseMemObject(in.buffer);
    clReleaseMemObject(out.buffer);
    clrn_conv2d_release(conv);
    case_data_free(&cd);
  }
}

/* Direct, and the variants that keep a padded copy of the input in the object. */
static const clrn_conv2d_variant padded_variants[] = {
    CLRN_CONV2D_VARIANT_DIRECT, CLRN_CONV2D_VARIANT_BLOCKED, CLRN_CONV2D_VARIANT_GROUPED};

/* One object, several input sizes and batches, enqueued back to back. */
static void test_reuse(void) {
  const conv_case sizes[] = {
      {1, 6, 9, 9, 10, 3, 3, 2, 2, 1, 1, 1},
      {3, 6, 5, 7, 10, 3, 3, 2, 2, 1, 1, 1},
      {2, 6, 1, 1, 10, 3, 3, 2, 2, 1, 1, 1},
  };
  enum { N = COUNT(sizes) };
  for (size_t vi = 0; vi < COUNT(padded_variants); vi++) {
    int v = padded_variants[vi];
    case_data cd[N];
    clrn_tensor in[N], out[N];
    cl_event done[N];
    clrn_conv2d *conv = NULL;
    for (int i = 0; i < N; i++) {
      case_data_make(&cd[i], &sizes[i], EPI_BIAS | EPI_RELU);
      if (i > 0) /* the same parameters for every size */
        for (size_t k = 0; k < cd[0].w_count; k++)
          cd[i].weight[k] = cd[0].weight[k];
      if (i > 0)
        for (int k = 0; k < sizes[0].cout; k++)
          cd[i].bias[k] = cd[0].bias[k];
    }
    clrn_conv2d_desc desc = desc_of(&sizes[0], true, (clrn_conv2d_variant)v);
    CLRN_ASSERT_OK(clrn_conv2d_create(context, &desc, cd[0].weight, cd[0].bias, NULL, NULL, &conv));
    for (int i = 0; i < N; i++) {
      const conv_case *c = &sizes[i];
      in[i] = (clrn_tensor){upload(cd[i].input, cd[i].in_count), c->n, c->cin, c->h, c->w};
      out[i] = (clrn_tensor){nan_buffer(cd[i].out_count), c->n, c->cout, cd[i].oh, cd[i].ow};
      CLRN_ASSERT_OK(clrn_conv2d_enqueue(conv, queue, &in[i], NULL, &out[i], 0, NULL, &done[i]));
    }
    CU_ASSERT_EQUAL(clWaitForEvents(N, done), CL_SUCCESS);
    for (int i = 0; i < N; i++) {
      float *got = read_output(out[i].buffer, cd[i].out_count, "reuse");
      compare(&cd[i], got, (clrn_conv2d_variant)v, "reuse");
      free(got);
      clReleaseEvent(done[i]);
      clReleaseMemObject(in[i].buffer);
      clReleaseMemObject(out[i].buffer);
      case_data_free(&cd[i]);
    }
    clrn_conv2d_release(conv);
  }
}

/* Two padded blocked convolutions of different sizes share one lent workspace on
 * one queue; both results must be right, and a workspace too small is refused. */
/* Two convolutions of variant (blocked or winograd) of the given sizes share one
 * lent workspace. */
static void workspace_case(clrn_conv2d_variant variant, const conv_case sizes[2]) {
  enum { N = 2 };
  case_data cd[N];
  clrn_conv2d *conv[N];
  clrn_tensor in[N], out[N];
  size_t bytes = 0;
  for (int i = 0; i < N; i++) {
    case_data_make(&cd[i], &sizes[i], EPI_BIAS);
    clrn_conv2d_desc desc = desc_of(&sizes[i], false, variant);
    CLRN_ASSERT_OK(
        clrn_conv2d_create(context, &desc, cd[i].weight, cd[i].bias, NULL, NULL, &conv[i]));
    size_t need = clrn_conv2d_workspace_size(conv[i], sizes[i].n, sizes[i].h, sizes[i].w);
    CU_ASSERT(need > 0);
    bytes = need > bytes ? need : bytes;
  }
  cl_mem workspace = nan_buffer(bytes / sizeof(float));
  for (int i = 0; i < N; i++) {
    const conv_case *c = &sizes[i];
    CLRN_ASSERT_OK(clrn_conv2d_set_workspace(conv[i], workspace, bytes));
    in[i] = (clrn_tensor){upload(cd[i].input, cd[i].in_count), c->n, c->cin, c->h, c->w};
    out[i] = (clrn_tensor){nan_buffer(cd[i].out_count), c->n, c->cout, cd[i].oh, cd[i].ow};
    CLRN_ASSERT_OK(clrn_conv2d_enqueue(conv[i], queue, &in[i], NULL, &out[i], 0, NULL, NULL));
  }
  CU_ASSERT_EQUAL(clFinish(queue), CL_SUCCESS);
  for (int i = 0; i < N; i++) {
    float *got = read_output(out[i].buffer, cd[i].out_count, "workspace");
    compare(&cd[i], got, variant, "workspace");
    free(got);
  }
  /* Twice the batch does not fit the lent workspace: refused, not grown. */
  clrn_tensor big_in = in[0], big_out = out[0];
  big_in.n = big_out.n = 1;
  big_in.h = 40;
  big_in.w = 40;
  big_out.h = big_out.w = 40;
  cl_mem big_in_buffer = nan_buffer((size_t)6 * 40 * 40), big_out_buffer = nan_buffer(10 * 1600);
  big_in.buffer = big_in_buffer;
  big_out.buffer = big_out_buffer;
  CU_ASSERT(clrn_conv2d_workspace_size(conv[0], 1, 40, 40) > bytes);
  CU_ASSERT_EQUAL(clrn_conv2d_enqueue(conv[0], queue, &big_in, NULL, &big_out, 0, NULL, NULL),
                  CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "workspace"));
  clReleaseMemObject(big_in_buffer);
  clReleaseMemObject(big_out_buffer);
  for (int i = 0; i < N; i++) {
    clReleaseMemObject(in[i].buffer);
    clReleaseMemObject(out[i].buffer);
    clrn_conv2d_release(conv[i]);
    case_data_free(&cd[i]);
  }
  clReleaseMemObject(workspace);
}

static void test_workspace(void) {
  const conv_case blocked[2] = {{2, 6, 9, 11, 10, 3, 3, 1, 1, 1, 1, 1},
                                {1, 10, 13, 7, 5, 3, 3, 2, 2, 1, 1, 1}};
  const conv_case winograd[2] = {{2, 6, 9, 11, 10, 3, 3, 1, 1, 1, 1, 1},
                                 {1, 10, 13, 7, 5, 3, 3, 1, 1, 0, 0, 1}};
  workspace_case(CLRN_CONV2D_VARIANT_BLOCKED, blocked);
  workspace_case(CLRN_CONV2D_VARIANT_WINOGRAD, winograd);
  /* Unpadded and direct convolutions need none. */
  const conv_case plain = {1, 4, 5, 5, 4, 1, 1, 1, 1, 0, 0, 1};
  case_data pd;
  case_data_make(&pd, &plain, 0);
  clrn_conv2d_desc desc = desc_of(&plain, false, CLRN_CONV2D_VARIANT_BLOCKED);
  clrn_conv2d *one = NULL;
  CLRN_ASSERT_OK(clrn_conv2d_create(context, &desc, pd.weight, NULL, NULL, NULL, &one));
  CU_ASSERT_EQUAL(clrn_conv2d_workspace_size(one, 8, 5, 5), 0);
  clrn_conv2d_release(one);
  case_data_free(&pd);
}

/* One object enqueued on two queues: the first launch waits for a user event,
 * the second has nothing to wait for. Both results must be right. The blocked
 * and grouped variants keep the padded input in the object, so the second launch must wait
 * for the first to have read it: it may not complete before the gate opens. */
static void test_two_queues(void) {
  if (clrn_context_queue_count(context) < 2)
    return;
  const conv_case c = {2, 8, 9, 9, 12, 3, 3, 1, 1, 1, 1, 1};
  bool oclgrind = strstr(clrn_context_device(context)->platform_name, "Oclgrind");
  for (size_t vi = 0; vi < COUNT(padded_variants); vi++) {
    int v = padded_variants[vi];
    case_data cd[2];
    clrn_tensor in[2], out[2];
    cl_event done[2];
    case_data_make(&cd[0], &c, EPI_SHIFT);
    case_data_make(&cd[1], &c, EPI_SHIFT);
    memcpy(cd[1].weight, cd[0].weight, cd[0].w_count * sizeof(float));
    memcpy(cd[1].shift, cd[0].shift, c.cout * sizeof(float));
    clrn_conv2d_desc desc = desc_of(&c, false, (clrn_conv2d_variant)v);
    clrn_conv2d *conv = NULL;
    CLRN_ASSERT_OK(
        clrn_conv2d_create(context, &desc, cd[0].weight, NULL, NULL, cd[0].shift, &conv));
    cl_int err = CL_SUCCESS;
    cl_event gate = clCreateUserEvent(clrn_context_cl(context), &err);
    CU_ASSERT_EQUAL_FATAL(err, CL_SUCCESS);
    for (int i = 0; i < 2; i++) {
      in[i] = (clrn_tensor){upload(cd[i].input, cd[i].in_count), c.n, c.cin, c.h, c.w};
      out[i] = (clrn_tensor){nan_buffer(cd[i].out_count), c.n, c.cout, cd[i].oh, cd[i].ow};
      cl_command_queue q = clrn_context_queue(context, (size_t)i);
      CLRN_ASSERT_OK(clrn_conv2d_enqueue(conv, q, &in[i], NULL, &out[i], i == 0 ? 1 : 0,
                                         i == 0 ? &gate : NULL, &done[i]));
      if (!oclgrind) /* see test_wait_list */
        CU_ASSERT_EQUAL(clFlush(q), CL_SUCCESS);
    }
    if (v != CLRN_CONV2D_VARIANT_DIRECT) {
      struct timespec pause = {0, 50 * 1000 * 1000};
      nanosleep(&pause, NULL);
      cl_int state = CL_COMPLETE;
      CU_ASSERT_EQUAL(
          clGetEventInfo(done[1], CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof state, &state, NULL),
          CL_SUCCESS);
      CU_ASSERT(state > CL_RUNNING); /* still waiting for the first launch */
    }
    CU_ASSERT_EQUAL(clSetUserEventStatus(gate, CL_COMPLETE), CL_SUCCESS);
    CU_ASSERT_EQUAL(clWaitForEvents(2, done), CL_SUCCESS);
    for (int i = 0; i < 2; i++) {
      float *got = read_output(out[i].buffer, cd[i].out_count, "two queues");
      compare(&cd[i], got, (clrn_conv2d_variant)v, "two queues");
      free(got);
      clReleaseEvent(done[i]);
      clReleaseMemObject(in[i].buffer);
      clReleaseMemObject(out[i].buffer);
      case_data_free(&cd[i]);
    }
    clReleaseEvent(gate);
    clrn_conv2d_release(conv);
  }
}

static void expect_invalid(clrn_status status, const char *words) {
  CU_ASSERT_EQUAL(status, CLRN_STATUS_INVALID_ARGUMENT);
  if (!strstr(clrn_last_error(), words)) {
    fprintf(stderr, "\nerror \"%s\" lacks \"%s\"\n", clrn_last_error(), words);
    CU_FAIL("error detail");
  }
}

static void test_bad_arguments(void) {
  float weight[8 * 8 * 9] = {0}; /* [out 8][in 8][3][3] */
  const conv_case c = {1, 8, 5, 5, 8, 3, 3, 1, 1, 1, 1, 1};
  clrn_conv2d_desc good = desc_of(&c, false, CLRN_CONV2D_VARIANT_AUTO), d;
  clrn_conv2d *conv = (clrn_conv2d *)&good; /* must come back NULL */
  expect_invalid(clrn_conv2d_create(NULL, &good, weight, NULL, NULL, NULL, &conv), "NULL");
  CU_ASSERT_PTR_NULL(conv);
  expect_invalid(clrn_conv2d_create(context, NULL, weight, NULL, NULL, NULL, &conv), "NULL");
  expect_invalid(clrn_conv2d_create(context, &good, NULL, NULL, NULL, NULL, &conv), "NULL");
  expect_invalid(clrn_conv2d_create(context, &good, weight, NULL, NULL, NULL, NULL), "NULL");
  struct {
    int field_offset, value;
    const char *words;
  } bad[] = {
      {offsetof(clrn_conv2d_desc, in_channels), 0, "input channels"},
      {offsetof(clrn_conv2d_desc, out_channels), -1, "output channels"},
      {offsetof(clrn_conv2d_desc, groups), 0, "groups"},
      {offsetof(clrn_conv2d_desc, groups), 3, "do not divide"},
      {offsetof(clrn_conv2d_desc, kernel_h), 0, "kernel"},
      {offsetof(clrn_conv2d_desc, kernel_w), -2, "kernel"},
      {offsetof(clrn_conv2d_desc, stride_w), 0, "stride"},
      {offsetof(clrn_conv2d_desc, pad_h), -1, "padding"},
      {offsetof(clrn_conv2d_desc, variant), CLRN_CONV2D_VARIANT_COUNT, "variant"},
  };
  for (size_t i = 0; i < COUNT(bad); i++) {
    d = good;
    memcpy((char *)&d + bad[i].field_offset, &bad[i].value, sizeof(int));
    expect_invalid(clrn_conv2d_create(context, &d, weight, NULL, NULL, NULL, &conv), bad[i].words);
    CU_ASSERT_PTR_NULL(conv);
  }
  d = good; /* a 3x3 convolution */
  d.variant = CLRN_CONV2D_VARIANT_GEMM;
  expect_invalid(clrn_conv2d_create(context, &d, weight, NULL, NULL, NULL, &conv), "gemm variant");
  d = good;
  d.variant = CLRN_CONV2D_VARIANT_WINOGRAD;
  d.stride_h = 2;
  expect_invalid(clrn_conv2d_create(context, &d, weight, NULL, NULL, NULL, &conv),
                 "winograd variant");
  d = good;
  d.variant = CLRN_CONV2D_VARIANT_WINOGRAD;
  d.groups = 2;
  expect_invalid(clrn_conv2d_create(context, &d, weight, NULL, NULL, NULL, &conv),
                 "winograd variant");

  int oh = 0, ow = 0;
  d = good;
  d.kernel_h = d.kernel_w = 7;
  d.pad_h = d.pad_w = 0;
  expect_invalid(clrn_conv2d_output_size(&d, 5, 9, &oh, &ow), "smaller than the 7x7 kernel");
  expect_invalid(clrn_conv2d_output_size(&d, 0, 9, &oh, &ow), "input size");
  CLRN_ASSERT_OK(clrn_conv2d_output_size(&good, 5, 5, &oh, &ow));
  CU_ASSERT(oh == 5 && ow == 5);
  d.stride_h = d.stride_w = 2;
  d.pad_h = d.pad_w = 3;
  CLRN_ASSERT_OK(clrn_conv2d_output_size(&d, 224, 225, &oh, &ow));
  CU_ASSERT(oh == 112 && ow == 113);

  CLRN_ASSERT_OK(clrn_conv2d_create(context, &good, weight, NULL, NULL, NULL, &conv));
  size_t count = 2 * 8 * 5 * 5;
  cl_mem a = nan_buffer(count), b = nan_buffer(count), tiny = nan_buffer(1);
  clrn_tensor in = {a, 1, 8, 5, 5}, out = {b, 1, 8, 5, 5}, t;
  cl_event never = NULL;
  expect_invalid(clrn_conv2d_enqueue(NULL, queue, &in, NULL, &out, 0, NULL, NULL), "NULL");
  expect_invalid(clrn_conv2d_enqueue(conv, NULL, &in, NULL, &out, 0, NULL, NULL), "queue");
  expect_invalid(clrn_conv2d_enqueue(conv, queue, &in, NULL, &out, 1, NULL, NULL), "wait");
  expect_invalid(clrn_conv2d_enqueue(conv, queue, NULL, NULL, &out, 0, NULL, &never), "input");
  CU_ASSERT_PTR_NULL(never);
  expect_invalid(clrn_conv2d_enqueue(conv, queue, &in, NULL, NULL, 0, NULL, NULL), "output");
  t = in;
  t.c = 7;
  expect_invalid(clrn_conv2d_enqueue(conv, queue, &t, NULL, &out, 0, NULL, NULL), "7 channels");
  t = in;
  t.n = 0;
  expect_invalid(clrn_conv2d_enqueue(conv, queue, &t, NULL, &out, 0, NULL, NULL), "shape");
  t = in;
  t.buffer = NULL;
  expect_invalid(clrn_conv2d_enqueue(conv, queue, &t, NULL, &out, 0, NULL, NULL), "no buffer");
  t = in;
  t.buffer = tiny;
  expect_invalid(clrn_conv2d_enqueue(conv, queue, &t, NULL, &out, 0, NULL, NULL), "bytes");
  t = in;
  t.n = 9; /* 9x8x5x5 does not fit the buffer of 2x8x5x5 plus guard */
  expect_invalid(clrn_conv2d_enqueue(conv, queue, &t, NULL, &out, 0, NULL, NULL), "bytes");
  t = out;
  t.h = 4;
  expect_invalid(clrn_conv2d_enqueue(conv, queue, &in, NULL, &t, 0, NULL, NULL), "needs");
  t = out;
  t.n = 2;
  expect_invalid(clrn_conv2d_enqueue(conv, queue, &in, NULL, &t, 0, NULL, NULL), "needs");
  t = out;
  t.c = 9;
  expect_invalid(clrn_conv2d_enqueue(conv, queue, &in, NULL, &t, 0, NULL, NULL), "needs");
  t = out;
  t.buffer = a;
  expect_invalid(clrn_conv2d_enqueue(conv, queue, &in, NULL, &t, 0, NULL, NULL), "share");
  expect_invalid(clrn_conv2d_enqueue(conv, queue, &in, &out, &out, 0, NULL, NULL), "share");
  t = out;
  t.w = 4;
  t.buffer = tiny;
  expect_invalid(clrn_conv2d_enqueue(conv, queue, &in, &t, &out, 0, NULL, NULL), "residual");
  t.buffer = a; /* right size, wrong shape */
  expect_invalid(clrn_conv2d_enqueue(conv, queue, &in, &t, &out, 0, NULL, NULL), "residual");

  /* A queue and a buffer of another OpenCL context. */
  clrn_context *other = clrn_test_context(false);
  cl_mem foreign = NULL;
  CLRN_ASSERT_OK(
      clrn_buffer_create(other, CL_MEM_READ_WRITE, count * sizeof(float), NULL, &foreign));
  expect_invalid(
      clrn_conv2d_enqueue(conv, clrn_context_queue(other, 0), &in, NULL, &out, 0, NULL, NULL),
      "another OpenCL context");
  t = in;
  t.buffer = foreign;
  expect_invalid(clrn_conv2d_enqueue(conv, queue, &t, NULL, &out, 0, NULL, NULL),
                 "another OpenCL context");
  clReleaseMemObject(foreign);
  clrn_context_release(other);

  /* Profile values the kernels cannot be built with (through CLRN_TUNE) are refused
   * when the context is made, naming CLRN_TUNE, never the device profile. */
  const char *bad_tunings[][2] = {
      {"CONV_VEC=3", "CLRN_TUNE: CONV_VEC=3 "},
      {"CONV_VEC=8,CONV_COUT_BLOCK=12", "CONV_COUT_BLOCK=12 (from "
                                        "CLRN_TUNE)"},
      {"CONV_PIX_BLOCK=0", "CLRN_TUNE: CONV_PIX_BLOCK=0 "},
      {"CONV_PIXELS_FIRST=3", "CLRN_TUNE: CONV_PIXELS_FIRST=3 "},
      {"CONV_BLOCK_WG=0", "CLRN_TUNE: CONV_BLOCK_WG=0 "},
      {"IGEMM_TM=3", "CLRN_TUNE: IGEMM_TM=3 "},
      {"IGEMM_BM=16,IGEMM_TM=8", "do not fit together"},
      {"IGEMM_BM=128,IGEMM_BN=128,IGEMM_TM=2,IGEMM_TN=2", "do not fit together"},
      {"IGEMM_BK=4,IGEMM_BM=128,IGEMM_TM=4,IGEMM_TN=4", "IGEMM_BK=4 (from CLRN_TUNE)"}};
  char *saved_tune = getenv("CLRN_TUNE") ? strdup(getenv("CLRN_TUNE")) : NULL;
  clrn_device_info device = *clrn_context_device(context);
  for (size_t i = 0; i < COUNT(bad_tunings); i++) {
    setenv("CLRN_TUNE", bad_tunings[i][0], 1);
    other = NULL;
    expect_invalid(clrn_context_create(&device, NULL, &other), bad_tunings[i][1]);
    CU_ASSERT_PTR_NULL(other);
  }
  if (saved_tune)
    setenv("CLRN_TUNE", saved_tune, 1);
  else
    unsetenv("CLRN_TUNE");
  free(saved_tune);

  CLRN_ASSERT_OK(clrn_conv2d_enqueue(conv, queue, &in, NULL, &out, 0, NULL, NULL));
  CU_ASSERT_EQUAL(clFinish(queue), CL_SUCCESS);
  clrn_conv2d_release(conv);
  clrn_conv2d_release(NULL);
  CU_ASSERT_STRING_EQUAL(clrn_conv2d_variant_name(NULL), "none");
  CU_ASSERT_EQUAL(clrn_tensor_elements(&in), count / 2);
  CU_ASSERT_EQUAL(clrn_tensor_elements(NULL), 0);
  clReleaseMemObject(a);
  clReleaseMemObject(b);
  clReleaseMemObject(tiny);
}

/* Implicit-GEMM tiles beyond the device's local memory (64 KiB here; Oclgrind has
 * 32 KiB) are refused when the convolution is made, with a message that says what
 * to change; where they fit, the convolution is right. */
static void test_igemm_limits(void) {
  const char *tune = "IGEMM_BM=128,IGEMM_BN=128,IGEMM_BK=32,IGEMM_TM=8,IGEMM_TN=8";
  char *old = getenv("CLRN_TUNE") ? strdup(getenv("CLRN_TUNE")) : NULL;
  setenv("CLRN_TUNE", tune, 1);
  clrn_context *saved = context;
  cl_command_queue saved_queue = queue;
  context = clrn_test_context(false);
  queue = clrn_context_queue(context, 0);
  const conv_case c = {1, 8, 5, 5, 8, 3, 3, 1, 1, 1, 1, 1};
  if (clrn_context_device(context)->local_mem_bytes >= 65536) {
    run_case(&c, EPI_ALL, CLRN_CONV2D_VARIANT_IGEMM);
  } else {
    float weight[8 * 8 * 9] = {0};
    clrn_conv2d_desc d = desc_of(&c, false, CLRN_CONV2D_VARIANT_IGEMM);
    clrn_conv2d *conv = NULL;
    CU_ASSERT_EQUAL(clrn_conv2d_create(context, &d, weight, NULL, NULL, NULL, &conv),
                    CLRN_STATUS_UNSUPPORTED);
    CU_ASSERT_PTR_NULL(conv);
    CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "65536 bytes of local memory"));
    CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "choose smaller tiles"));
  }
  clrn_context_release(context);
  context = saved;
  queue = saved_queue;
  if (old)
    setenv("CLRN_TUNE", old, 1);
  else
    unsetenv("CLRN_TUNE");
  free(old);
}

static int setup(void) {
  context = clrn_test_context(false);
  queue = clrn_context_queue(context, 0);
  return 0;
}

static int teardown(void) {
  clrn_context_release(context);
  fprintf(stderr, "\nlargest error against its tolerance:\n");
  for (int v = CLRN_CONV2D_VARIANT_DIRECT; v < CLRN_CONV2D_VARIANT_COUNT; v++) {
    const worst *w = &worst_seen[v];
    fprintf(stderr, "  %-8s %.3f of the bound (error %.3g, tolerance %.3g) over %ld outputs; %s\n",
            v == CLRN_CONV2D_VARIANT_DIRECT     ? "direct"
            : v == CLRN_CONV2D_VARIANT_BLOCKED  ? "blocked"
            : v == CLRN_CONV2D_VARIANT_GEMM     ? "gemm"
            : v == CLRN_CONV2D_VARIANT_IGEMM    ? "igemm"
            : v == CLRN_CONV2D_VARIANT_WINOGRAD ? "winograd"
                                                : "grouped",
            w->ratio, w->error, w->tolerance, w->outputs, w->where);
  }
  return 0;
}

int main(void) {
  small = getenv("CLRN_TEST_SMALL") && atoi(getenv("CLRN_TEST_SMALL")) != 0;
  clrn_device_info device;
  clrn_test_require_device(&device);
  clrn_test_add_suite(
      "conv2d", setup, teardown, "resnet shapes", test_resnet_shapes, "residual",
      test_residual_shapes, "grouped shapes", test_grouped_shapes, "odd shapes", test_odd_shapes,
      "epilogues", test_epilogues, "auto", test_auto, "other blockings", test_other_blockings,
      "winograd tiles", test_winograd_tiles, "subsample", test_subsample, "wait list",
      test_wait_list, "reuse", test_reuse, "two queues", test_two_queues, "lent workspace",
      test_workspace, "igemm limits", test_igemm_limits, "bad arguments", test_bad_arguments, NULL);
  return clrn_test_run();
}
