/* `clresnet run`: classifies photos (JPEG, PNG) or preprocessed .npy tensors with
 * a ResNet on one or several devices, printing the top-k ImageNet classes. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

#define MAX_NPY_ELEMENTS (1ull << 30)

typedef struct run_args {
  cli_session_args common; /* -w, -m, -d, -b, --json, --no-fuse, --trace */
  const char *output, *save_input;
  long top;
  char **inputs;
  int input_count;
} run_args;

/* The images to classify: one big NCHW array and a name per image. */
typedef struct batch_data {
  float *data;
  int count, height, width;
  char **names;
} batch_data;

enum { OPT_SAVE_INPUT = CLI_OPTION_OWN };

/* run's own options; the shared ones are in options.c. */
static const cli_option run_options[] = {
    {"top", 'k', "K", "classes to show per input, 1..classes (default 5)"},
    {"output", 'o', "FILE", "write the logits as float32 .npy [N, classes]"},
    {"save-input", OPT_SAVE_INPUT, "FILE",
     "write the preprocessed inputs as float32 .npy [N,3,H,W]"},
    {NULL, 0, NULL, NULL}};

static void print_help(void);

static int run_option(int key, const char *value, void *own) {
  run_args *a = own;
  switch (key) {
  case 'k': return cli_int_option("run", "-k", value, 1, 1000000, &a->top);
  case 'o': a->output = value; return CLI_EXIT_OK;
  case OPT_SAVE_INPUT: a->save_input = value; return CLI_EXIT_OK;
  default: return CLI_EXIT_USAGE;
  }
}

static const cli_command run_command = {"run", run_options, print_help, run_option};

static void print_help(void) {
  printf("Usage: clresnet run -w WEIGHTS.safetensors [-m ARCH] [-d SPEC] [-b BATCH] [-k TOPK]\n"
         "                    [-o LOGITS.npy] [--save-input INPUT.npy] [--json] [--no-fuse]\n"
         "                    [--trace FILE] [-v | -q] INPUT...\n"
         "\n"
         "Classifies each INPUT with a torchvision ResNet and prints its top-k ImageNet classes\n"
         "with softmax probabilities. An INPUT is a JPEG or PNG photo, given torchvision's\n"
         "standard preprocessing (resize to 256, center crop 224, normalize), or a .npy float32\n"
         "tensor [N,3,H,W] (or [3,H,W]) that is already preprocessed.\n"
         "\n");
  cli_print_options(&run_command);
  printf("\n"
         "Examples:\n"
         "  clresnet run -w resnet50.safetensors data/dog.jpg\n"
         "  clresnet run -w resnet50.safetensors -d gpu,cpu -k 3 --json photos/*.jpg\n"
         "  clresnet run -w resnet18.safetensors -o logits.npy batch.npy\n"
         "\n"
         "Exit status: 0 success, 1 runtime or input failure, 2 usage error.\n");
}

/* Returns CLI_CONTINUE when run should go on, else its exit status. */
static int parse_args(int argc, char **argv, run_args *a) {
  memset(a, 0, sizeof *a);
  a->top = 5;
  int status = cli_parse_options(&run_command, argc, argv, &a->common, a);
  if (status != CLI_CONTINUE)
    return status;
  if (!a->common.weights)
    return cli_usage_error("run", "no weights: give -w WEIGHTS.safetensors");
  if (optind >= argc)
    return cli_usage_error("run", "no INPUT: give photos or .npy files to classify");
  a->inputs = argv + optind;
  a->input_count = argc - optind;
  return CLI_CONTINUE;
}

static bool is_npy(const char *path) {
  FILE *f = fopen(path, "rb");
  unsigned char magic[6] = {0};
  size_t n = f ? fread(magic, 1, sizeof magic, f) : 0;
  if (f)
    fclose(f);
  return n == sizeof magic && memcmp(magic, "\x93NUMPY", 6) == 0;
}

static void batch_free(batch_data *b) {
  for (int i = 0; i < b->count; i++)
    free(b->names[i]);
  free(b->names);
  free(b->data);
  memset(b, 0, sizeof *b);
}

/* Appends count images of height x width (taking ownership of pixels). */
static int batch_append(batch_data *b, const char *path, float *pixels, int count, int height,
                        int width, bool indexed) {
  if (b->count > 0 && (height != b->height || width != b->width)) {
    free(pixels);
    cli_error("%s: inputs are %dx%d but earlier inputs are %dx%d; run them separately", path,
              height, width, b->height, b->width);
    return CLI_EXIT_FAILURE;
  }
  size_t image = 3 * (size_t)height * (size_t)width;
  float *data = realloc(b->data, ((size_t)b->count + (size_t)count) * image * sizeof *data);
  char **names = realloc(b->names, ((size_t)b->count + (size_t)count) * sizeof *names);
  if (data)
    b->data = data;
  if (names)
    b->names = names;
  if (!data || !names) {
    free(pixels);
    cli_error("%s: out of memory", path);
    return CLI_EXIT_FAILURE;
  }
  memcpy(b->data + (size_t)b->count * image, pixels, (size_t)count * image * sizeof(float));
  free(pixels);
  for (int i = 0; i < count; i++) {
    size_t length = strlen(path) + 24;
    char *name = malloc(length);
    if (name && indexed)
      snprintf(name, length, "%s[%d]", path, i);
    else if (name)
      snprintf(name, length, "%s", path);
    b->names[b->count++] = name ? name : NULL;
  }
  b->height = height;
  b->width = width;
  return CLI_EXIT_OK;
}

static int load_npy(batch_data *b, const char *path) {
  clrn_npy array;
  clrn_status status = clrn_npy_read(path, MAX_NPY_ELEMENTS, &array);
  if (status != CLRN_STATUS_SUCCESS)
    return cli_fail(status, "reading input");
  int64_t n = 1, c, h, w;
  if (array.ndim == 4) {
    n = array.shape[0];
    c = array.shape[1];
    h = array.shape[2];
    w = array.shape[3];
  } else if (array.ndim == 3) {
    c = array.shape[0];
    h = array.shape[1];
    w = array.shape[2];
  } else {
    clrn_npy_free(&array);
    cli_error("%s: a .npy input must be [N,3,H,W] or [3,H,W], not %d-dimensional", path,
              array.ndim);
    return CLI_EXIT_FAILURE;
  }
  if (c != 3 || n < 1 || h < 1 || w < 1 || h > 16384 || w > 16384 || n > 1000000) {
    clrn_npy_free(&array);
    cli_error("%s: a .npy input must be [N,3,H,W] with N >= 1, 3 channels and sides in 1..16384",
              path);
    return CLI_EXIT_FAILURE;
  }
  float *pixels = array.data;
  bool indexed = array.ndim == 4 && n > 1;
  array.data = NULL;
  clrn_npy_free(&array);
  return batch_append(b, path, pixels, (int)n, (int)h, (int)w, indexed);
}

static int load_photo(batch_data *b, const char *path) {
  clrn_image image;
  clrn_status status = clrn_image_load(path, &image);
  if (status != CLRN_STATUS_SUCCESS)
    return cli_fail(status, "reading input");
  clrn_preprocess pre;
  clrn_preprocess_default(&pre);
  float *pixels = malloc(3 * (size_t)pre.crop * (size_t)pre.crop * sizeof *pixels);
  status = pixels ? clrn_image_preprocess(&image, &pre, pixels) : CLRN_STATUS_OUT_OF_HOST_MEMORY;
  clrn_image_free(&image);
  if (status != CLRN_STATUS_SUCCESS) {
    free(pixels);
    return cli_fail(status, path);
  }
  return batch_append(b, path, pixels, 1, pre.crop, pre.crop, false);
}

static int load_inputs(const run_args *a, batch_data *b) {
  memset(b, 0, sizeof *b);
  for (int i = 0; i < a->input_count; i++) {
    int status = is_npy(a->inputs[i]) ? load_npy(b, a->inputs[i]) : load_photo(b, a->inputs[i]);
    if (status != CLI_EXIT_OK) {
      batch_free(b);
      return status;
    }
  }
  return CLI_EXIT_OK;
}

/* Indices of the k largest values, largest first. */
static void top_k(const float *values, int n, int k, int *best) {
  for (int j = 0; j < k; j++)
    best[j] = -1;
  for (int i = 0; i < n; i++) {
    int j = k;
    while (j > 0 && (best[j - 1] < 0 || values[i] > values[best[j - 1]]))
      j--;
    if (j < k) {
      memmove(best + j + 1, best + j, (size_t)(k - j - 1) * sizeof *best);
      best[j] = i;
    }
  }
}

static void print_text(const batch_data *b, const float *logits, const float *probs, int classes,
                       int k) {
  int *best = malloc((size_t)k * sizeof *best);
  if (!best)
    return;
  for (int i = 0; i < b->count; i++) {
    const float *p = probs + (size_t)i * classes;
    top_k(p, classes, k, best);
    printf("%s\n", b->names[i] ? b->names[i] : "?");
    for (int j = 0; j < k; j++) {
      const char *label = cli_label(best[j], classes);
      printf("  %6.2f%%  %4d  %s\n", 100.0 * p[best[j]], best[j], label ? label : "");
    }
  }
  (void)logits;
  free(best);
}

static void print_json(const run_args *a, const batch_data *b, const clrn_weights *w,
                       const clrn_engine *engine, const float *logits, const float *probs,
                       int classes, int k) {
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "model", clrn_arch_name(clrn_weights_arch(w)));
  cJSON_AddStringToObject(root, "weights", a->common.weights);
  const char *source = clrn_weights_metadata(w, "source");
  cJSON_AddBoolToObject(root, "random_weights", source && strcmp(source, "seed") == 0);
  cJSON *devices = cJSON_AddArrayToObject(root, "devices");
  for (size_t i = 0; i < clrn_engine_device_count(engine); i++) {
    const clrn_device_info *d =
        clrn_context_device(clrn_model_context(clrn_engine_model(engine, i)));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddStringToObject(o, "platform", d->platform_name);
    cJSON_AddNumberToObject(o, "images", clrn_engine_last_shard(engine, i));
    cJSON_AddItemToArray(devices, o);
  }
  cJSON *results = cJSON_AddArrayToObject(root, "results");
  int *best = malloc((size_t)k * sizeof *best);
  for (int i = 0; best && i < b->count; i++) {
    const float *p = probs + (size_t)i * classes;
    top_k(p, classes, k, best);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "input", b->names[i] ? b->names[i] : "?");
    cJSON *top = cJSON_AddArrayToObject(r, "top");
    for (int j = 0; j < k; j++) {
      cJSON *t = cJSON_CreateObject();
      const char *label = cli_label(best[j], classes);
      cJSON_AddNumberToObject(t, "class", best[j]);
      if (label)
        cJSON_AddStringToObject(t, "label", label);
      cJSON_AddNumberToObject(t, "probability", p[best[j]]);
      cJSON_AddNumberToObject(t, "logit", logits[(size_t)i * classes + best[j]]);
      cJSON_AddItemToArray(top, t);
    }
    cJSON_AddItemToArray(results, r);
  }
  free(best);
  cli_print_json(root);
}

static int check_outputs(const run_args *a) {
  const char *paths[] = {a->output, a->save_input, a->common.trace};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
    if (paths[i] && clrn_output_check(paths[i]) != CLRN_STATUS_SUCCESS)
      return cli_fail(CLRN_STATUS_IO_ERROR, "output");
  return CLI_EXIT_OK;
}

static void report_verbose(const cli_session *session, double load_s, double setup_s, double run_s,
                           int images) {
  cli_session_report(session);
  fprintf(stderr,
          "devices, weights and inputs loaded in %.3f s, model ready in %.3f s, %d images in "
          "%.3f s (%.2f ms/image)\n",
          load_s, setup_s, images, run_s, 1000.0 * run_s / images);
}

int cmd_run(int argc, char **argv) {
  run_args a;
  int status = parse_args(argc, argv, &a);
  if (status != CLI_CONTINUE)
    return status;
  cli_install_log();
  if ((status = check_outputs(&a)) != CLI_EXIT_OK)
    return status;
  cli_session session;
  batch_data batch = {0};
  float *logits = NULL, *probs = NULL;
  double t0 = cli_now();
  if ((status = cli_session_open(&a.common, &session)) != CLI_EXIT_OK)
    goto done;
  const clrn_weights *weights = session.weights;
  int classes = clrn_weights_num_classes(weights);
  if (a.top > classes) {
    status = cli_usage_error("run", "-k: %ld is more than the model's %d classes", a.top, classes);
    goto done;
  }
  const char *source = clrn_weights_metadata(weights, "source");
  const char *seed = clrn_weights_metadata(weights, "seed");
  if (source && strcmp(source, "seed") == 0 && cli_verbosity > 0)
    fprintf(stderr,
            "clresnet: note: %s holds random weights (seed %s), not trained ones: the classes "
            "below are meaningless\n",
            a.common.weights, seed ? seed : "?");
  if ((status = load_inputs(&a, &batch)) != CLI_EXIT_OK)
    goto done;
  double t1 = cli_now();
  clrn_status s;
  if (a.save_input) {
    int64_t shape[4] = {batch.count, 3, batch.height, batch.width};
    s = clrn_npy_write(a.save_input, batch.data, 4, shape);
    if (s != CLRN_STATUS_SUCCESS) {
      status = cli_fail(s, "--save-input");
      goto done;
    }
  }
  if ((status = cli_session_start(&session, &a.common, batch.height, batch.width, false)) !=
      CLI_EXIT_OK)
    goto done;
  const clrn_engine *engine = session.engine;
  size_t out = (size_t)batch.count * (size_t)classes;
  logits = malloc(out * sizeof *logits);
  probs = malloc(out * sizeof *probs);
  if (!logits || !probs) {
    cli_error("out of memory");
    status = CLI_EXIT_FAILURE;
    goto done;
  }
  double t2 = cli_now();
  s = clrn_engine_run(session.engine, batch.data, batch.count, logits, probs);
  double t3 = cli_now();
  if (s != CLRN_STATUS_SUCCESS) {
    status = cli_fail(s, "inference");
    goto done;
  }
  if (a.common.json)
    print_json(&a, &batch, weights, engine, logits, probs, classes, (int)a.top);
  else
    print_text(&batch, logits, probs, classes, (int)a.top);
  if (cli_verbosity >= 2)
    report_verbose(&session, t1 - t0, t2 - t1, t3 - t2, batch.count);
  if (a.output) {
    int64_t shape[2] = {batch.count, classes};
    s = clrn_npy_write(a.output, logits, 2, shape);
    if (s != CLRN_STATUS_SUCCESS) {
      status = cli_fail(s, "-o");
      goto done;
    }
  }
  if (a.common.trace)
    status = cli_write_trace(a.common.trace, engine, t2 * 1e6);
done:
  free(logits);
  free(probs);
  batch_free(&batch);
  cli_session_close(&session);
  return status;
}
