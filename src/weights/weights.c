/* clrn_weights as named host tensors: a safetensors file, a PyTorch checkpoint or
 * an ONNX model or a Keras .h5 file (told apart by their first bytes, not their
 * names), read on request, or seeded
 * random weights produced on request (for benchmarks). Values read from a file are
 * checked (finite, no negative variance) as they are read. Which architecture the
 * tensors belong to is decided a layer up, in nn/weights_bind.c. */
#include "weights/weights.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "io/file.h"

clrn_arch clrn_weights_arch(const clrn_weights *w) { return w->arch; }

const char *clrn_weights_metadata(const clrn_weights *w, const char *key) {
  if (!w || !key)
    return NULL;
  if (w->random)
    return strcmp(key, "source") == 0 ? "generated" : NULL;
  return clrn_safetensors_metadata(&w->file, key);
}
int clrn_weights_num_classes(const clrn_weights *w) { return w->num_classes; }

void clrn_weights_close(clrn_weights *w) {
  if (!w)
    return;
  clrn_safetensors_close(&w->file);
  clrn_pth_close(&w->pth);
  clrn_onnx_close(&w->onnx);
  clrn_h5_close(&w->h5);
  free(w);
}

typedef enum file_kind { KIND_SAFETENSORS, KIND_PTH, KIND_ONNX, KIND_H5 } file_kind;

/* Whether path starts like a PyTorch checkpoint, an ONNX model or an HDF5 file; a
 * file that cannot be read is left to the safetensors reader, which explains why. */
static file_kind kind_of(const char *path) {
  FILE *f = NULL;
  uint64_t size = 0;
  unsigned char head[16];
  if (clrn_file_open_regular(path, &f, &size) != CLRN_STATUS_SUCCESS)
    return KIND_SAFETENSORS;
  size_t n = fread(head, 1, sizeof head, f);
  fclose(f);
  return clrn_pth_detect(head, n)    ? KIND_PTH
         : clrn_onnx_detect(head, n) ? KIND_ONNX
         : clrn_h5_detect(head, n)   ? KIND_H5
                                     : KIND_SAFETENSORS;
}

clrn_status clrn_weights_file_open(const char *path, clrn_weights **out) {
  *out = NULL;
  clrn_weights *w = calloc(1, sizeof *w);
  if (!w)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "weights");
  snprintf(w->path, sizeof w->path, "%s", path);
  file_kind kind = kind_of(path);
  w->is_pth = kind == KIND_PTH;
  w->is_onnx = kind == KIND_ONNX;
  w->is_h5 = kind == KIND_H5;
  clrn_status status = w->is_pth    ? clrn_pth_open(path, &w->pth)
                       : w->is_onnx ? clrn_onnx_open(path, &w->onnx)
                       : w->is_h5   ? clrn_h5_open(path, &w->h5)
                                    : clrn_safetensors_open(path, &w->file);
  if (status != CLRN_STATUS_SUCCESS) {
    clrn_weights_close(w);
    return status;
  }
  *out = w;
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_weights_new_random(uint64_t seed, clrn_weights **out) {
  *out = NULL;
  clrn_weights *w = calloc(1, sizeof *w);
  if (!w)
    return clrn_fail(CLRN_STATUS_OUT_OF_HOST_MEMORY, "weights");
  w->random = true;
  w->seed = seed;
  snprintf(w->path, sizeof w->path, "random(seed %llu)", (unsigned long long)seed);
  *out = w;
  return CLRN_STATUS_SUCCESS;
}

/* splitmix64: a small, well-mixed generator; seeded per tensor from its name. */
static uint64_t next_random(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static double uniform(uint64_t *state) { return (double)(next_random(state) >> 11) * 0x1p-53; }

static double normal(uint64_t *state) {
  double u = uniform(state), v = uniform(state);
  return sqrt(-2.0 * log(u > 0 ? u : 0x1p-53)) * cos(2.0 * M_PI * v);
}

static bool ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Fills a random tensor: He-normal convolutions (fan-out, as torchvision), BatchNorm
 * statistics and affine parameters that are far from the identity, PyTorch's
 * uniform init for fc. */
static void fill_random(const clrn_weights *w, const char *name, int ndim, const int64_t *shape,
                        float *out, size_t n) {
  uint64_t state = w->seed ^ 0x2545f4914f6cdd1dull;
  for (const char *p = name; *p; p++)
    state = (state ^ (unsigned char)*p) * 0x100000001b3ull;
  bool fc = strncmp(name, "fc.", 3) == 0;
  bool conv = !fc && ndim == 4;
  double fan_out = conv ? (double)(shape[0] * shape[2] * shape[3]) : 1.0;
  double fc_in = fc && ndim == 2 ? (double)shape[1] : 1.0;
  for (size_t i = 0; i < n; i++) {
    double v;
    if (fc && ends_with(name, ".weight"))
      v = (2.0 * uniform(&state) - 1.0) / sqrt(fc_in);
    else if (fc)
      v = (2.0 * uniform(&state) - 1.0) * 0.05;
    else if (conv)
      v = normal(&state) * sqrt(2.0 / fan_out);
    else if (ends_with(name, "running_var"))
      v = 0.5 + 1.5 * uniform(&state);
    else if (ends_with(name, "running_mean") || ends_with(name, "bias"))
      v = 0.1 * normal(&state);
    else
      v = 0.5 + uniform(&state); /* BatchNorm weight */
    out[i] = (float)v;
  }
}

/* Refuses values no trained network holds and that would turn every output into
 * NaN: NaN, infinities, and a negative BatchNorm running_var (its square root is
 * taken). Checked as each tensor is read, so a file is never read twice. */
static clrn_status check_values(const char *path, const char *name, const float *v, size_t n) {
  bool variance = ends_with(name, "running_var");
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(v[i]))
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                       "%s: tensor %.*s holds %s at element %zu; weights must be finite", path, 200,
                       name,
                       isnan(v[i]) ? "NaN"
                       : v[i] > 0  ? "+infinity"
                                   : "-infinity",
                       i);
    if (variance && v[i] < 0)
      return clrn_fail(CLRN_STATUS_INVALID_FORMAT,
                       "%s: tensor %.*s holds the negative variance %g at element %zu", path, 200,
                       name, (double)v[i], i);
  }
  return CLRN_STATUS_SUCCESS;
}

clrn_status clrn_weights_read(const clrn_weights *w, const char *name, int ndim,
                              const int64_t *shape, float *out) {
  size_t elements = 1;
  for (int i = 0; i < ndim; i++)
    elements *= (size_t)shape[i];
  if (w->random) {
    fill_random(w, name, ndim, shape, out, elements);
    return CLRN_STATUS_SUCCESS;
  }
  clrn_tensor_info t;
  bool same = clrn_weights_find(w, name, &t) && t.ndim == ndim;
  for (int i = 0; same && i < ndim; i++)
    same = t.shape[i] == shape[i];
  if (!same)
    return clrn_fail(CLRN_STATUS_MISMATCH, "%s: tensor %s is missing or has another shape", w->path,
                     name);
  if (w->is_pth)
    CLRN_TRY(clrn_pth_read_f32(&w->pth, clrn_pth_find(&w->pth, name), out));
  else if (w->is_onnx)
    CLRN_TRY(clrn_onnx_read_f32(&w->onnx, clrn_onnx_find(&w->onnx, name), out));
  else if (w->is_h5)
    CLRN_TRY(clrn_h5_read_f32(&w->h5, clrn_h5_find(&w->h5, name), out));
  else
    CLRN_TRY(clrn_safetensors_read_f32(&w->file, clrn_safetensors_find(&w->file, name), out));
  return check_values(w->path, name, out, elements);
}

static clrn_tensor_info info_of_st(const clrn_st_tensor *t) {
  return (clrn_tensor_info){t->name, t->dtype, t->ndim, t->shape};
}

static clrn_tensor_info info_of_pth(const clrn_pth_tensor *t) {
  return (clrn_tensor_info){t->name, t->dtype, t->ndim, t->shape};
}

static clrn_tensor_info info_of_onnx(const clrn_onnx_entry *e) {
  return (clrn_tensor_info){e->name, clrn_onnx_entry_dtype(e), e->ndim, e->shape};
}

static clrn_tensor_info info_of_h5(const clrn_h5_tensor *t) {
  return (clrn_tensor_info){t->name, t->dtype, t->ndim, t->shape};
}

size_t clrn_weights_count(const clrn_weights *w) {
  return w->random    ? 0
         : w->is_pth  ? w->pth.count
         : w->is_onnx ? w->onnx.count
         : w->is_h5   ? w->h5.count
                      : w->file.count;
}

clrn_tensor_info clrn_weights_at(const clrn_weights *w, size_t i) {
  return w->is_pth    ? info_of_pth(&w->pth.tensors[i])
         : w->is_onnx ? info_of_onnx(&w->onnx.entries[i])
         : w->is_h5   ? info_of_h5(&w->h5.tensors[i])
                      : info_of_st(&w->file.tensors[i]);
}

bool clrn_weights_batchnorm_eps(const clrn_weights *w, const char *module, double *eps) {
  return w->is_onnx && clrn_onnx_find_eps(&w->onnx, module, eps);
}

bool clrn_weights_find(const clrn_weights *w, const char *name, clrn_tensor_info *info) {
  if (w->random)
    return false;
  if (w->is_pth) {
    const clrn_pth_tensor *t = clrn_pth_find(&w->pth, name);
    if (t)
      *info = info_of_pth(t);
    return t != NULL;
  }
  if (w->is_onnx) {
    const clrn_onnx_entry *e = clrn_onnx_find(&w->onnx, name);
    if (e)
      *info = info_of_onnx(e);
    return e != NULL;
  }
  if (w->is_h5) {
    const clrn_h5_tensor *t = clrn_h5_find(&w->h5, name);
    if (t)
      *info = info_of_h5(t);
    return t != NULL;
  }
  const clrn_st_tensor *t = clrn_safetensors_find(&w->file, name);
  if (t)
    *info = info_of_st(t);
  return t != NULL;
}
