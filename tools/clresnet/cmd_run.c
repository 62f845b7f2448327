/* `clresnet run`: classifies photos (JPEG, PNG) or preprocessed .npy tensors with
 * a ResNet on one or several devices, printing the top-k ImageNet classes. Folders,
 * @lists and the dataset options make it a dataset run (dataset.h). */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checks.h"
#include "classify_opts.h"
#include "dataset.h"
#include "escape.h"
#include "mpi_hooks.h"
#include "results.h"
#include "session.h"

#define MAX_NPY_ELEMENTS (1ull << 30)

typedef struct run_args {
  cli_session_args common; /* -w, -m, -d, -b, --json, --no-fuse, --trace */
  const char *output, *save_input;
  long top;
  bool top_given; /* -k was given; else min(5, classes) */
  char **inputs;
  int input_count;
  cli_classify_args classify; /* --preprocess, --resize, --crop, --mean, --std, --labels */
  cli_dataset_args dataset;   /* --jsonl, --csv, --resume, --truth, --decode-threads */
} run_args;

/* The images to classify: one big NCHW array and a name per image. */
typedef struct batch_data {
  float *data;
  int count, height, width;
  char **names;
} batch_data;

enum {
  OPT_SAVE_INPUT = CLI_OPTION_OWN,
  OPT_JSONL,
  OPT_CSV,
  OPT_RESUME,
  OPT_TRUTH,
  OPT_GROUND_TRUTH,
  OPT_DECODE_THREADS
};

/* run's own options; the shared ones are in options.c. */
static const cli_option run_options[] = {
    {"top", 'k', "K",
     "classes to show per input, 1..classes (default 5, or all classes\nwhen the model has "
     "fewer)"},
    {"output", 'o', "FILE",
     "write the logits as float32 .npy [N, classes] (outputs may not\nname an input, the "
     "weights or each other)"},
    {"save-input", OPT_SAVE_INPUT, "FILE",
     "write the preprocessed inputs as float32 .npy [N,3,H,W]"},
    CLI_CLASSIFY_OPTIONS,
    {"jsonl", OPT_JSONL, "FILE",
     "dataset run: write one JSON record per input, in input order,\nas each batch ends"},
    {"csv", OPT_CSV, "FILE", "dataset run: the same as CSV (a header, then one row per input)"},
    {"resume", OPT_RESUME, NULL,
     "skip the inputs already in the --jsonl or --csv file and append\nthe others"},
    {"truth", OPT_TRUTH, "FILE",
     "ground truth (a file name and a class index per line, as\nImageNet's validation "
     "labels): print top-1 and top-5 accuracy"},
    {"ground-truth", OPT_GROUND_TRUTH, "FILE", "same as --truth"},
    {"decode-threads", OPT_DECODE_THREADS, "N",
     "dataset run: threads decoding photos, 1..1024 (default: one\nper core)"},
    {NULL, 0, NULL, NULL}};

static void print_help(void);

static int run_option(int key, const char *value, void *own) {
  run_args *a = own;
  switch (key) {
  case 'k': /* the range depends on the model: check_top() checks it once it is known */
    a->top_given = cli_parse_int(value, LONG_MIN, LONG_MAX, &a->top);
    return a->top_given ? CLI_EXIT_OK : cli_usage_error("run", "-k: '%s' is not an integer", value);
  case 'o': a->output = value; return CLI_EXIT_OK;
  case OPT_SAVE_INPUT: a->save_input = value; return CLI_EXIT_OK;
  case OPT_JSONL: a->dataset.jsonl = value; return CLI_EXIT_OK;
  case OPT_CSV: a->dataset.csv = value; return CLI_EXIT_OK;
  case OPT_RESUME: a->dataset.resume = true; return CLI_EXIT_OK;
  case OPT_TRUTH:
  case OPT_GROUND_TRUTH: a->dataset.truth = value; return CLI_EXIT_OK;
  case OPT_DECODE_THREADS:
    return cli_int_option("run", "--decode-threads", value, 1, 1024, &a->dataset.threads);
  default: return cli_classify_option("run", key, value, &a->classify);
  }
}

static const cli_command run_command = {"run", run_options, print_help, run_option};

static void print_help(void) {
  printf("Usage: clresnet run -w WEIGHTS [-m ARCH] [-d SPEC] [-b BATCH] [-k TOPK]\n"
         "                    [-o LOGITS.npy] [--save-input INPUT.npy] [--json] [--no-fuse]\n"
         "                    [--precision fp32|fp16|tf32] [--preprocess MODE]\n"
         "                    [--resize N] [--crop N] [--mean R,G,B] [--std R,G,B]\n"
         "                    [--labels FILE] [--trace FILE] [-v | -q] INPUT...\n"
         "       clresnet run -w WEIGHTS [options] [--jsonl FILE | --csv FILE] [--resume]\n"
         "                    [--truth FILE] [--decode-threads N] DIR|@LIST|INPUT...\n"
         "\n"
         "Classifies each INPUT with a torchvision ResNet and prints its top-k classes with\n"
         "softmax probabilities. An INPUT is a JPEG or PNG photo, or a .npy float32 tensor\n"
         "[N,3,H,W] (or [3,H,W]) that is already preprocessed. Photos get the preprocessing\n"
         "stored in the weights (clresnet-export writes torchvision's: IMAGENET1K_V2 resizes\n"
         "to 232), else the model's own: torchvision's classic ImageNet transform (resize 256,\n"
         "center crop 224, normalize), or Keras' 'caffe' for keras_resnet50 (.h5 weights:\n"
         "straight to 224x224, nearest, BGR, the mean subtracted); --preprocess, --resize,\n"
         "--crop, --mean and --std override it. Classes are named by\n"
         "--labels, else by the names the weights carry, else by ImageNet's for a 1000-class\n"
         "model; otherwise only their indices show.\n"
         "\n"
         "Dataset runs: a folder INPUT gives its .jpg, .jpeg, .png and .npy files (by extension,\n"
         "recursively, sorted by path in byte order; names starting with '.' and links to folders\n"
         "are skipped); @LIST gives the files named in LIST, one per line (relative paths start\n"
         "from LIST's folder; blank lines and lines starting with '#' are skipped). Folders,\n"
         "@lists, --jsonl, --csv, --resume, --truth or --decode-threads make a dataset run:\n"
         "photos are decoded on a pool of threads a few batches ahead of the device, memory\n"
         "stays bounded, each input's record is printed (or written to --jsonl/--csv, flushed\n"
         "per record) in input order as its batch ends, a progress line goes to stderr (every\n"
         "10 s when it is not a terminal; none with -q), and an input that cannot be read or\n"
         "decoded gets a record with its error while the run goes on (exit status 1 when an\n"
         "input of the run failed). A .npy input must hold one [3,crop,crop] image there.\n"
         "--resume reads the output file, drops a last record cut short, skips the inputs it\n"
         "has a record of (failed ones too) and appends the others. The file is written in\n"
         "place, not renamed at the end. --truth (alias --ground-truth; --labels is for class\n"
         "names) matches the inputs by file name and prints top-1 and top-5 accuracy on stdout\n"
         "at the end, resumed records included; failed inputs count as misses.\n"
         "\n"
         "Under mpirun (a build with MPI) a run is a dataset run spread over the ranks: batch\n"
         "k of -b inputs runs on rank k modulo the ranks, each rank on its node-local rank's\n"
         "GPU (else device) unless -d or CLRN_DEVICE says otherwise, and rank 0 writes the one\n"
         "output in input order and the total throughput. When a rank fails, the job ends\n"
         "and --resume continues the output.\n"
         "\n");
  cli_print_options(&run_command);
  printf(
      "\n"
      "Examples:\n"
      "  clresnet run -w resnet50.safetensors data/dog.jpg\n"
      "  clresnet run -w resnet50.safetensors -d gpu,cpu -k 3 --json photos/*.jpg\n"
      "  clresnet run -w ~/.cache/torch/hub/checkpoints/resnet50-11ad3fa6.pth data/dog.jpg\n"
      "  clresnet run -w model.onnx data/dog.jpg\n"
      "  clresnet run -w resnet18.safetensors -o logits.npy batch.npy\n"
      "  clresnet run -w resnet50.safetensors --jsonl val.jsonl --truth val.txt imagenet/val\n"
      "  clresnet run -w resnet50.safetensors --csv out.csv --resume @photos.txt\n"
      "  mpirun -n 4 --hostfile hosts clresnet run -w r50.safetensors --jsonl o.jsonl val\n"
      "\n"
      "Exit status: 0 success, 1 runtime or input failure (an input whose logits are not\n"
      "finite is reported as failed; in a dataset run, any input that failed), 2 usage error.\n");
}

/* Returns CLI_CONTINUE when run should go on, else its exit status. */
static int parse_args(int argc, char **argv, run_args *a) {
  memset(a, 0, sizeof *a);
  int status = cli_parse_options(&run_command, argc, argv, &a->common, a);
  if (status != CLI_CONTINUE)
    return status;
  if (!a->common.weights)
    return cli_usage_error("run", "no weights: give -w WEIGHTS (.safetensors, .pth or .onnx)");
  if (optind >= argc)
    return cli_usage_error("run", "no INPUT: give photos or .npy files to classify");
  a->inputs = argv + optind;
  a->input_count = argc - optind;
  return CLI_CONTINUE;
}

/* Whether path starts with the .npy magic. Opened without blocking: a FIFO is
 * then taken for a photo, whose reader refuses it (fopen() would wait for a
 * writer forever). */
static bool is_npy(const char *path) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  struct stat st;
  unsigned char magic[6] = {0};
  ssize_t n =
      fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, magic, sizeof magic) : -1;
  if (fd >= 0)
    close(fd);
  return n == (ssize_t)sizeof magic && memcmp(magic, "\x93NUMPY", 6) == 0;
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
    int ndim = array.ndim; /* read before clrn_npy_free() clears it */
    clrn_npy_free(&array);
    cli_error("%s: a .npy input must be [N,3,H,W] or [3,H,W], not %d-dimensional", path, ndim);
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

static int load_photo(batch_data *b, const char *path, const clrn_preprocess *p) {
  clrn_image image;
  clrn_status status = clrn_image_load(path, &image);
  if (status != CLRN_STATUS_SUCCESS)
    return cli_fail(status, "reading input");
  clrn_preprocess pre = *p;
  float *pixels = malloc(3 * (size_t)pre.crop * (size_t)pre.crop * sizeof *pixels);
  status = pixels ? clrn_image_preprocess(&image, &pre, pixels) : CLRN_STATUS_OUT_OF_HOST_MEMORY;
  clrn_image_free(&image);
  if (status != CLRN_STATUS_SUCCESS) {
    free(pixels);
    return cli_fail(status, path);
  }
  return batch_append(b, path, pixels, 1, pre.crop, pre.crop, false);
}

static int load_inputs(const run_args *a, const clrn_preprocess *pre, batch_data *b) {
  memset(b, 0, sizeof *b);
  for (int i = 0; i < a->input_count; i++) {
    int status =
        is_npy(a->inputs[i]) ? load_npy(b, a->inputs[i]) : load_photo(b, a->inputs[i], pre);
    if (status != CLI_EXIT_OK) {
      batch_free(b);
      return status;
    }
  }
  return CLI_EXIT_OK;
}

/* The number of classes to show: -k when given (1..classes), else min(5, classes). */
static int check_top(run_args *a, int classes) {
  if (!a->top_given)
    a->top = classes < 5 ? classes : 5;
  else if (a->top > classes)
    return cli_usage_error("run", "-k: %ld is more than the model's %d classes", a->top, classes);
  else if (a->top < 1)
    return cli_usage_error("run", "-k: %ld is not in 1..%d (the model's classes)", a->top, classes);
  return CLI_EXIT_OK;
}

/* Checks the outputs before any work; a dataset run, which takes none of these,
 * is prepared here (dataset.h). */
static int check_outputs(const run_args *a, bool dataset, cli_dataset *d) {
  const cli_output outputs[] = {
      {"-o", a->output}, {"--save-input", a->save_input}, {"--trace", a->common.trace}};
  size_t count = sizeof outputs / sizeof outputs[0];
  if (!dataset)
    return cli_outputs_check(outputs, count, a->common.weights, a->inputs, (size_t)a->input_count);
  int status =
      cli_dataset_prepare(d, &a->dataset, a->inputs, a->input_count, &a->common, outputs, count);
  return status == CLI_CONTINUE ? CLI_EXIT_OK : status;
}

static void report_verbose(const cli_session *session, double load_s, double setup_s, double run_s,
                           int images) {
  cli_session_report(session);
  fprintf(stderr,
          "devices, weights and inputs loaded in %.3f s, model ready in %.3f s, %d images in "
          "%.3f s (%.2f ms/image)\n",
          load_s, setup_s, images, run_s, 1000.0 * run_s / images);
}

static int run(int argc, char **argv) {
  run_args a;
  int status = parse_args(argc, argv, &a);
  if (status != CLI_CONTINUE)
    return status;
  cli_install_log();
  /* Under mpirun every run is a dataset run, sharded over the ranks (mpi_hooks.h). */
  bool dataset = cli_dataset_wanted(&a.dataset, a.inputs, a.input_count) || cli_mpi_size() > 1;
  cli_dataset ds = {0};
  if ((status = check_outputs(&a, dataset, &ds)) != CLI_EXIT_OK) {
    cli_dataset_free(&ds);
    return status;
  }
  cli_session session;
  batch_data batch = {0};
  float *logits = NULL, *probs = NULL;
  clrn_labels *labels = NULL;
  clrn_preprocess pre;
  double t0 = cli_now();
  if ((status = cli_session_open(&a.common, &session)) != CLI_EXIT_OK)
    goto done;
  const char *env_device = getenv("CLRN_DEVICE");
  cli_mpi_devices(&session.devices, a.common.device || (env_device && *env_device));
  if (!dataset &&
      (status = cli_inputs_check(a.inputs, a.input_count, &session.devices)) != CLI_EXIT_OK)
    goto done;
  const clrn_weights *weights = session.weights;
  int classes = clrn_weights_num_classes(weights);
  if ((status = check_top(&a, classes)) != CLI_EXIT_OK)
    goto done;
  const char *source = clrn_weights_metadata(weights, "source");
  const char *seed = clrn_weights_metadata(weights, "seed");
  if (source && strcmp(source, "seed") == 0 && cli_verbosity > 0 && cli_mpi_rank() == 0)
    cli_print_line(stderr,
                   "clresnet: note: %s holds random weights (seed %s), not trained ones: the "
                   "classes below are meaningless",
                   a.common.weights, seed ? seed : "?");
  if ((status = cli_classify_resolve(&a.classify, weights, &pre, &labels)) != CLI_EXIT_OK)
    goto done;
  if (dataset) {
    status = cli_dataset_run(&ds, &session, &a.common, (int)a.top, &pre, labels);
    goto done;
  }
  if ((status = load_inputs(&a, &pre, &batch)) != CLI_EXIT_OK)
    goto done;
  double t1 = cli_now();
  clrn_status s;
  if (a.save_input) {
    int64_t shape[4] = {batch.count, 3, batch.height, batch.width};
    if ((status = cli_write_npy("--save-input", a.save_input, batch.data, 4, shape)) != CLI_EXIT_OK)
      goto done;
  }
  if (batch.count < a.common.batch) /* buffers for the inputs there are, no more */
    a.common.batch = batch.count;
  a.common.images = batch.count; /* one engine run of every input */
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
  cli_results results = {batch.names, batch.count,      logits,  probs,  classes,
                         (int)a.top,  a.common.weights, weights, engine, labels};
  status = cli_print_results(&results, a.common.json);
  if (cli_verbosity >= 2)
    report_verbose(&session, t1 - t0, t2 - t1, t3 - t2, batch.count);
  if (a.output) {
    int64_t shape[2] = {batch.count, classes};
    if ((status = cli_write_npy("-o", a.output, logits, 2, shape)) != CLI_EXIT_OK)
      goto done;
  }
  if (a.common.trace) {
    int traced = cli_write_trace(a.common.trace, engine, t2 * 1e6);
    if (traced != CLI_EXIT_OK)
      status = traced;
  }
done:
  clrn_labels_free(labels);
  free(logits);
  free(probs);
  batch_free(&batch);
  cli_dataset_free(&ds);
  cli_session_close(&session);
  return status;
}

int cmd_run(int argc, char **argv) {
  int status = cli_mpi_start(&argc, &argv);
  return status == CLI_EXIT_OK ? cli_mpi_finish(run(argc, argv)) : status;
}
