/* The options `run` and `bench` share, declared once with their help lines, and
 * the parser that joins them with a command's own options into one getopt_long
 * table. The same tables print the "Options:" block of each command's --help, so
 * the help cannot drift from what is parsed. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "session.h"

/* Shared options printed before a command's own ones... */
static const cli_option engine_options[] = {
    {"weights", 'w', "FILE",
     "torchvision ResNet state_dict (required): a safetensors file (make one\n"
     "with clresnet-export), a PyTorch .pth checkpoint (torch.save's zip or\n"
     "legacy format, read without Python) or an ONNX model of a ResNet\n"
     "(torch.onnx export)"},
    {"model", 'm', "ARCH",
     "resnet18, resnet34, resnet50, resnet101, resnet152,\n"
     "resnext50_32x4d, resnext101_32x8d, resnext101_64x4d,\n"
     "wide_resnet50_2, wide_resnet101_2 or keras_resnet50 (Keras'\n"
     "ResNet50 v1); checked against the weights\n"
     "(default: inferred from them)"},
    {"device", 'd', "SPEC",
     "device(s) to run on: an index, P:D, a type, all, part of a name,\n"
     "or a list a,b (see 'clresnet devices --help'); must not be empty;\n"
     "env: CLRN_DEVICE (empty counts as unset); default: first GPU, else\n"
     "first device; several devices split each batch by measured speed"},
    {"list-devices", CLI_OPT_LIST, NULL, "list devices and exit"},
    {"batch", 'b', "N", "largest batch a device runs at once, 1..4096 (default 8)"},
    {"precision", CLI_OPT_PRECISION, "MODE",
     "fp32 (default); fp16: weights and activations stored as half,\n"
     "float arithmetic, any device; tf32: tensor cores, NVIDIA GPUs of\n"
     "compute capability 8.0 or later only (fp16 uses them there too)"},
    {NULL, 0, NULL, NULL}};

/* ... and after them. */
static const cli_option output_options[] = {
    {"json", CLI_OPT_JSON, NULL, "print the results as one JSON object"},
    {"no-fuse", CLI_OPT_NO_FUSE, NULL, "keep BatchNorm, ReLU and add as separate kernels"},
    {"trace", CLI_OPT_TRACE, "FILE", "write a Chrome trace (open in https://ui.perfetto.dev)"},
    {"verbose", 'v', NULL,
     "also print devices, memory and timings on stderr (-vv: every\n"
     "kernel launch)"},
    {"quiet", 'q', NULL, "print only results and errors"},
    {"help", 'h', NULL, "show this help"},
    {NULL, 0, NULL, NULL}};

/* Room for every option of a command in one getopt_long table. */
#define MAX_OPTIONS 48

/* Appends the named entries of table to the getopt_long table and optstring; false
 * when they do not fit (raise MAX_OPTIONS). */
static bool add_options(const cli_option *table, struct option *longs, size_t *count,
                        char *shorts) {
  for (; table->key; table++) {
    if (!table->name)
      continue;
    if (*count + 1 >= MAX_OPTIONS)
      return false;
    longs[(*count)++] = (struct option){table->name, table->value ? required_argument : no_argument,
                                        NULL, table->key};
    if (table->key < 128 && isalpha(table->key)) {
      size_t n = strlen(shorts);
      shorts[n++] = (char)table->key;
      if (table->value)
        shorts[n++] = ':';
      shorts[n] = '\0';
    }
  }
  return true;
}

/* Stores a shared option; returns CLI_EXIT_OK, a usage error, or CLI_CONTINUE when
 * key is not a shared option. */
static int shared_option(const char *command, int key, const char *value, cli_session_args *a) {
  switch (key) {
  case 'w': a->weights = value; return CLI_EXIT_OK;
  case 'm':
    if (clrn_arch_parse(value, &a->arch) != CLRN_STATUS_SUCCESS)
      return cli_usage_error(command, "-m: %s", clrn_last_error());
    return CLI_EXIT_OK;
  case 'd':
    /* An empty spec would silently mean the default device (CLRN_DEVICE or the first
     * GPU): refuse it like any spec that names no device. */
    if (!*value)
      return cli_usage_error(command, "-d: the device spec is empty; give an index, P:D, a "
                                      "type, all or part of a device name");
    a->device = value;
    return CLI_EXIT_OK;
  case 'b': return cli_int_option(command, "-b", value, 1, 4096, &a->batch);
  case CLI_OPT_JSON: a->json = true; return CLI_EXIT_OK;
  case CLI_OPT_NO_FUSE: a->no_fuse = true; return CLI_EXIT_OK;
  case CLI_OPT_TRACE: a->trace = value; return CLI_EXIT_OK;
  case CLI_OPT_PRECISION:
    for (int p = CLRN_PRECISION_FP32; p <= CLRN_PRECISION_TF32; p++)
      if (strcmp(value, clrn_precision_string((clrn_precision)p)) == 0) {
        a->precision = (clrn_precision)p;
        return CLI_EXIT_OK;
      }
    return cli_usage_error(command, "--precision: \"%s\" is not fp32, fp16 or tf32", value);
  default: return CLI_CONTINUE;
  }
}

static bool is_own(const cli_command *command, int key) {
  for (const cli_option *o = command->options; o->key; o++)
    if (o->name && o->key == key)
      return true;
  return false;
}

int cli_parse_options(const cli_command *command, int argc, char **argv, cli_session_args *args,
                      void *own) {
  struct option longs[MAX_OPTIONS];
  char shorts[2 * MAX_OPTIONS + 2] = ":";
  size_t count = 0;
  if (!add_options(engine_options, longs, &count, shorts) ||
      !add_options(command->options, longs, &count, shorts) ||
      !add_options(output_options, longs, &count, shorts)) {
    cli_error("%s: more options than MAX_OPTIONS", command->name);
    return CLI_EXIT_FAILURE;
  }
  longs[count] = (struct option){NULL, 0, NULL, 0};
  memset(args, 0, sizeof *args);
  args->batch = 8;
  opterr = 0;
  optind = 1;
  int status = CLI_EXIT_OK;
  for (int c; status == CLI_EXIT_OK && (c = getopt_long(argc, argv, shorts, longs, NULL)) != -1;) {
    if (c == 'h') {
      command->print_help();
      return CLI_EXIT_OK;
    }
    if (c == CLI_OPT_LIST)
      return cmd_devices(1, argv);
    if (is_own(command, c))
      status = command->own_option(c, optarg, own);
    else if ((status = shared_option(command->name, c, optarg, args)) == CLI_CONTINUE)
      status = cli_common_option(command->name, c, argv);
  }
  return status == CLI_EXIT_OK ? CLI_CONTINUE : status;
}

/* The help text of option o: the command's own text for it when it has one. */
static const char *help_of(const cli_command *command, const cli_option *o) {
  for (const cli_option *c = command->options; c->key; c++)
    if (!c->name && c->key == o->key)
      return c->help;
  return o->help;
}

/* Prints "  -w, --weights FILE   help", continuation lines aligned under the help. */
static void print_table(const cli_command *command, const cli_option *table) {
  enum { HELP_COLUMN = 23 };
  for (; table->key; table++) {
    if (!table->name)
      continue;
    char label[64];
    int n = snprintf(label, sizeof label, "%c%c%c --%s%s%s", table->key < 128 ? '-' : ' ',
                     table->key < 128 ? table->key : ' ', table->key < 128 ? ',' : ' ', table->name,
                     table->value ? " " : "", table->value ? table->value : "");
    int pad = HELP_COLUMN - 2 - n;
    printf("  %s%*s", label, pad < 2 ? 2 : pad, "");
    for (const char *help = help_of(command, table); *help;) {
      const char *end = strchr(help, '\n');
      int length = end ? (int)(end - help) : (int)strlen(help);
      printf("%.*s\n", length, help);
      help += length;
      if (*help == '\n') {
        help++;
        printf("%*s", HELP_COLUMN, "");
      }
    }
  }
}

void cli_print_options(const cli_command *command) {
  printf("Options:\n");
  print_table(command, engine_options);
  print_table(command, command->options);
  print_table(command, output_options);
}
