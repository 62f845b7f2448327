/* tools/export_torchvision.py read back by the C reader: seeded resnet18 (f32, f16,
 * bf16) and resnet50 with 10 classes are exported, and each file
 * must hold exactly the names, shapes and dtypes of torchvision's state_dict (as
 * derived here from the architecture), non-trivial BatchNorm parameters, the
 * metadata, the reference's layout, and f16/bf16 values that are the float32
 * values rounded to nearest. Needs torch and torchvision under CLRN_TORCH_PYTHON;
 * skipped when they are missing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "weights/safetensors.h"

static char dir[256];
static const char *python, *script;

/* Runs the export script with the given arguments, writing dir/name. */
static bool export(const char *name, const char *arguments) {
  char command[2048];
  snprintf(command, sizeof command, "'%s' '%s' %s -o '%s/%s' >/dev/null", python, script, arguments,
           dir, name);
  int rc = system(command);
  if (rc != 0)
    fprintf(stderr, "\nfailed (%d): %s\n", rc, command);
  return rc == 0;
}

static int setup(void) {
  clrn_test_temp_dir(dir, sizeof dir);
  bool ok = export("r18.safetensors", "--arch resnet18 --seed 7") &&
            export("r18-f16.safetensors", "--arch resnet18 --seed 7 --dtype f16") &&
            export("r18-bf16.safetensors", "--arch resnet18 --seed 7 --dtype bf16") &&
            export("r50.safetensors", "--arch resnet50 --seed 3 --num-classes 10");
  return ok ? 0 : 1;
}

static int teardown(void) {
  clrn_test_remove_dir(dir);
  return 0;
}

static void open_export(const char *name, clrn_safetensors *st) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  CLRN_ASSERT_OK(clrn_safetensors_open(path, st));
}

/* ---- the state_dict torchvision's ResNet has, derived from the architecture --- */

typedef struct expected {
  char name[128];
  int ndim;
  int64_t shape[4];
} expected;

typedef struct expectation {
  expected *items;
  size_t count;
} expectation;

static void add(expectation *e, const char *name, int ndim, int64_t a, int64_t b, int64_t c,
                int64_t d) {
  expected *x = &e->items[e->count++];
  snprintf(x->name, sizeof x->name, "%s", name);
  x->ndim = ndim;
  int64_t shape[4] = {a, b, c, d};
  memcpy(x->shape, shape, sizeof shape);
}

static void add_conv(expectation *e, const char *prefix, int64_t out, int64_t in, int64_t k) {
  char name[128];
  snprintf(name, sizeof name, "%s.weight", prefix);
  add(e, name, 4, out, in, k, k);
}

/* A BatchNorm's five entries; num_batches_tracked is the I64 scalar. */
static void add_bn(expectation *e, const char *prefix, int64_t channels) {
  static const char *const parts[] = {"weight", "bias", "running_mean", "running_var"};
  char name[128];
  for (int i = 0; i < 4; i++) {
    snprintf(name, sizeof name, "%s.%s", prefix, parts[i]);
    add(e, name, 1, channels, 0, 0, 0);
  }
  snprintf(name, sizeof name, "%s.num_batches_tracked", prefix);
  add(e, name, 0, 0, 0, 0, 0);
}

/* torchvision.models.resnet: stem, four stages of blocks with 64 << stage planes,
 * a downsample (1x1 conv + BN) on the first block of a stage whose input differs
 * from its output, then fc. Bottleneck blocks expand planes by 4. */
static expectation resnet_state(bool bottleneck, const int blocks[4], int64_t classes) {
  expectation e = {calloc(1024, sizeof(expected)), 0};
  CU_ASSERT_PTR_NOT_NULL_FATAL(e.items);
  add_conv(&e, "conv1", 64, 3, 7);
  add_bn(&e, "bn1", 64);
  int64_t in = 64, expansion = bottleneck ? 4 : 1;
  for (int s = 0; s < 4; s++) {
    int64_t planes = 64 << s, out = planes * expansion;
    for (int b = 0; b < blocks[s]; b++) {
      char p[32], q[64];
      snprintf(p, sizeof p, "layer%d.%d", s + 1, b);
      int convs = bottleneck ? 3 : 2;
      for (int c = 1; c <= convs; c++) {
        int64_t cin = c == 1 ? in : planes, cout = c == convs ? out : planes;
        int64_t k = bottleneck && c != 2 ? 1 : 3;
        snprintf(q, sizeof q, "%s.conv%d", p, c);
        add_conv(&e, q, cout, cin, k);
        snprintf(q, sizeof q, "%s.bn%d", p, c);
        add_bn(&e, q, cout);
      }
      if (b == 0 && (s > 0 || in != out)) {
        snprintf(q, sizeof q, "%s.downsample.0", p);
        add_conv(&e, q, out, in, 1);
        snprintf(q, sizeof q, "%s.downsample.1", p);
        add_bn(&e, q, out);
      }
      in = out;
    }
  }
  add(&e, "fc.weight", 2, classes, in, 0, 0);
  add(&e, "fc.bias", 1, classes, 0, 0, 0);
  return e;
}

static void check_layout(const clrn_safetensors *st, const expectation *e, clrn_dtype floats) {
  CU_ASSERT_EQUAL(st->count, e->count);
  for (size_t i = 0; i < e->count; i++) {
    const expected *x = &e->items[i];
    const clrn_st_tensor *t = clrn_safetensors_find(st, x->name);
    if (!t) {
      fprintf(stderr, "\nmissing %s\n", x->name);
      CU_FAIL("a tensor is missing");
      continue;
    }
    bool scalar = strstr(x->name, "num_batches_tracked") != NULL;
    bool ok = t->ndim == x->ndim && t->dtype == (scalar ? CLRN_DTYPE_I64 : floats);
    for (int d = 0; d < x->ndim && ok; d++)
      ok = t->shape[d] == x->shape[d];
    /* The reference's order puts I64 first, each tensor aligned to its element. */
    ok = ok && t->offset % clrn_dtype_size(t->dtype) == 0;
    if (!ok)
      fprintf(stderr, "\n%s: %s, %d dims [%lld, %lld, ...]\n", x->name, clrn_dtype_name(t->dtype),
              t->ndim, (long long)t->shape[0], (long long)t->shape[1]);
    CU_ASSERT(ok);
  }
}

static void test_resnet18_names_shapes_dtypes(void) {
  static const int blocks[4] = {2, 2, 2, 2};
  expectation e = resnet_state(false, blocks, 1000);
  CU_ASSERT_EQUAL(e.count, 122); /* len(torchvision.models.resnet18().state_dict()) */
  static const struct {
    const char *file;
    clrn_dtype floats;
    const char *dtype;
  } files[] = {{"r18.safetensors", CLRN_DTYPE_F32, "f32"},
               {"r18-f16.safetensors", CLRN_DTYPE_F16, "f16"},
               {"r18-bf16.safetensors", CLRN_DTYPE_BF16, "bf16"}};
  for (size_t f = 0; f < 3; f++) {
    clrn_safetensors st;
    open_export(files[f].file, &st);
    check_layout(&st, &e, files[f].floats);
    const char *arch = clrn_safetensors_metadata(&st, "arch");
    const char *seed = clrn_safetensors_metadata(&st, "seed");
    const char *dtype = clrn_safetensors_metadata(&st, "dtype");
    const char *source = clrn_safetensors_metadata(&st, "source");
    const char *classes = clrn_safetensors_metadata(&st, "num_classes");
    CU_ASSERT(arch && strcmp(arch, "resnet18") == 0);
    CU_ASSERT(seed && strcmp(seed, "7") == 0);
    CU_ASSERT(dtype && strcmp(dtype, files[f].dtype) == 0);
    CU_ASSERT(source && strcmp(source, "seed") == 0);
    CU_ASSERT(classes && strcmp(classes, "1000") == 0);
    CU_ASSERT_PTR_NULL(clrn_safetensors_metadata(&st, "fallback"));
    clrn_safetensors_close(&st);
  }
  free(e.items);
}

static void test_resnet50_ten_classes(void) {
  static const int blocks[4] = {3, 4, 6, 3};
  expectation e = resnet_state(true, blocks, 10);
  CU_ASSERT_EQUAL(e.count, 320); /* len(torchvision.models.resnet50().state_dict()) */
  clrn_safetensors st;
  open_export("r50.safetensors", &st);
  check_layout(&st, &e, CLRN_DTYPE_F32);
  CU_ASSERT_STRING_EQUAL(clrn_safetensors_metadata(&st, "num_classes"), "10");
  clrn_safetensors_close(&st);
  free(e.items);
}

static float *read_all(const clrn_safetensors *st, const clrn_st_tensor *t) {
  float *v = malloc(t->elements * sizeof *v);
  CU_ASSERT_PTR_NOT_NULL_FATAL(v);
  CLRN_ASSERT_OK(clrn_safetensors_read_f32(st, t, v));
  return v;
}

/* Statistics of one BatchNorm parameter across the network. */
typedef struct spread {
  double min, max;
  size_t count, equal_to_default;
} spread;

static void test_batchnorm_randomized(void) {
  clrn_safetensors st;
  open_export("r18.safetensors", &st);
  static const char *const parts[] = {".weight", ".bias", ".running_mean", ".running_var"};
  static const double defaults[] = {1, 0, 0, 1}; /* a freshly built BatchNorm's values */
  spread s[4];
  for (int p = 0; p < 4; p++)
    s[p] = (spread){INFINITY, -INFINITY, 0, 0};
  for (size_t i = 0; i < st.count; i++) {
    const clrn_st_tensor *t = &st.tensors[i];
    if (!strstr(t->name, "bn") && !strstr(t->name, "downsample.1"))
      continue;
    for (int p = 0; p < 4; p++) {
      size_t n = strlen(t->name), m = strlen(parts[p]);
      if (n < m || strcmp(t->name + n - m, parts[p]) != 0)
        continue;
      float *v = read_all(&st, t);
      for (uint64_t k = 0; k < t->elements; k++) {
        s[p].min = fmin(s[p].min, v[k]);
        s[p].max = fmax(s[p].max, v[k]);
        s[p].equal_to_default += v[k] == defaults[p];
        s[p].count++;
      }
      free(v);
    }
  }
  /* resnet18 has 20 BatchNorms with 4800 channels in all. */
  for (int p = 0; p < 4; p++) {
    CU_ASSERT_EQUAL(s[p].count, 4800);
    CU_ASSERT(s[p].equal_to_default == 0);
  }
  CU_ASSERT(s[0].min >= 0.5 && s[0].max <= 1.5 && s[0].max - s[0].min > 0.9); /* U(0.5, 1.5) */
  CU_ASSERT(s[1].min < -0.2 && s[1].max > 0.2);                               /* N(0, 0.1) */
  CU_ASSERT(s[2].min < 0 && s[2].max > 0);
  CU_ASSERT(s[3].min > 0 && isfinite(s[3].max) && s[3].max / s[3].min > 4);
  clrn_safetensors_close(&st);
}

/* |h - x| <= half an ulp of the narrow format at x proves h is x rounded to
 * nearest (for a tie either neighbour passes). mantissa_bits: 10 for binary16,
 * 7 for bfloat16; min_exponent: the smallest normal exponent (-14, -126). */
static bool rounded_to_nearest(float x, float h, int mantissa_bits, int min_exponent) {
  if (x == 0)
    return h == 0;
  int e;
  frexp(x, &e); /* |x| in [2^(e-1), 2^e) */
  int exponent = e - 1 < min_exponent ? min_exponent : e - 1;
  double half_ulp = ldexp(1.0, exponent - mantissa_bits - 1);
  return isfinite(h) && fabs((double)h - (double)x) <= half_ulp;
}

static void check_rounding(const char *file, int mantissa_bits, int min_exponent) {
  clrn_safetensors exact, narrow;
  open_export("r18.safetensors", &exact);
  open_export(file, &narrow);
  size_t checked = 0, changed = 0, wrong = 0;
  for (size_t i = 0; i < exact.count; i++) {
    const clrn_st_tensor *a = &exact.tensors[i];
    const clrn_st_tensor *b = clrn_safetensors_find(&narrow, a->name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL_FATAL(a->elements, b->elements);
    if (a->dtype == CLRN_DTYPE_I64) { /* integers are copied, not converted */
      int64_t x = 0, y = 1;
      CU_ASSERT_FATAL(a->bytes == sizeof x && b->bytes == sizeof y);
      CLRN_ASSERT_OK(clrn_safetensors_read_bytes(&exact, a, &x));
      CLRN_ASSERT_OK(clrn_safetensors_read_bytes(&narrow, b, &y));
      CU_ASSERT(b->dtype == CLRN_DTYPE_I64 && x == y);
      continue;
    }
    float *x = read_all(&exact, a), *h = read_all(&narrow, b);
    for (uint64_t k = 0; k < a->elements; k++, checked++) {
      changed += x[k] != h[k];
      if (!rounded_to_nearest(x[k], h[k], mantissa_bits, min_exponent) && wrong++ < 5)
        fprintf(stderr, "\n%s %s[%llu]: %a became %a\n", file, a->name, (unsigned long long)k, x[k],
                h[k]);
    }
    free(x);
    free(h);
  }
  CU_ASSERT_EQUAL(wrong, 0);
  CU_ASSERT(checked > 11000000);    /* resnet18's 11.7 M parameters */
  CU_ASSERT(changed > checked / 2); /* the narrow file really is narrower */
  clrn_safetensors_close(&exact);
  clrn_safetensors_close(&narrow);
}

static void test_f16_round_trip(void) { check_rounding("r18-f16.safetensors", 10, -14); }
static void test_bf16_round_trip(void) { check_rounding("r18-bf16.safetensors", 7, -126); }

int main(void) {
  python = getenv("CLRN_TORCH_PYTHON");
  script = getenv("CLRN_EXPORT_SCRIPT");
  if (!python || !script) {
    fprintf(stderr, "CLRN_TORCH_PYTHON and CLRN_EXPORT_SCRIPT must be set\n");
    return 1;
  }
  char probe[1024];
  snprintf(probe, sizeof probe, "'%s' -c 'import torch, torchvision' 2>/dev/null", python);
  if (system(probe) != 0) {
    fprintf(stderr, "%s has no torch and torchvision: skipping\n", python);
    return CLRN_TEST_SKIP;
  }
  clrn_test_add_suite("export_torchvision", setup, teardown, "resnet18 names, shapes, dtypes",
                      test_resnet18_names_shapes_dtypes, "resnet50 with 10 classes",
                      test_resnet50_ten_classes, "BatchNorm randomized", test_batchnorm_randomized,
                      "f16 round trip", test_f16_round_trip, "bf16 round trip",
                      test_bf16_round_trip, NULL);
  return clrn_test_run();
}
