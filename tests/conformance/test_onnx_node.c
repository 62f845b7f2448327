/* ONNX node conformance suite: every one-node test whose op is named on the command
 * line, from the folders of ONNX's test data given with --data (by default
 * Debian's libonnx-testdata: data/node, ONNX's node tests, and data/pytorch-converted
 * and data/pytorch-operator, PyTorch modules exported by ONNX's own suite), runs
 * through the op API and is compared with ONNX's expected output at ONNX's own
 * tolerance. Each case prints PASS, SKIP with its reason, or FAIL; a summary counts
 * them, skips by reason. The suite fails on any FAIL and when fewer cases pass than
 * --min-pass (so a case that starts being refused shows). Exits 77 (skipped)
 * without the test data or a device.
 *
 *   test_onnx_node [--min-pass N] [--data DIR]... OpType...   e.g. test_onnx_node Conv */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conformance.h"
#include "harness.h"

static const struct {
  const char *op_type;
  conf_runner run;
} runners[] = {
    {"Conv", conf_run_conv},
    {"MaxPool", conf_run_pool},
    {"AveragePool", conf_run_pool},
    {"GlobalAveragePool", conf_run_global_avgpool},
    {"BatchNormalization", conf_run_batchnorm},
    {"Relu", conf_run_relu},
    {"Add", conf_run_add},
    {"Gemm", conf_run_gemm},
    {"MatMul", conf_run_matmul},
    {"Flatten", conf_run_flatten},
    {"Softmax", conf_run_softmax},
};
#define RUNNER_COUNT (sizeof runners / sizeof *runners)

#define MAX_DIRS 8
static const char *default_dirs[] = {"/usr/share/libonnx-testdata/data/node",
                                     "/usr/share/libonnx-testdata/data/pytorch-converted",
                                     "/usr/share/libonnx-testdata/data/pytorch-operator"};
static const char *data_dirs[MAX_DIRS];
static int dir_count;
static const char *const *wanted; /* op types named on the command line */
static int wanted_count;
static long min_pass;
static clrn_context *context;

/* Counts of one run, skips by reason. */
#define MAX_REASONS 32
static struct {
  int passed, skipped, failed;
  int reasons;
  const char *reason[MAX_REASONS];
  int reason_count[MAX_REASONS];
} tally;

static void count_skip(const char *reason) {
  int i = 0;
  while (i < tally.reasons && strcmp(tally.reason[i], reason) != 0)
    i++;
  if (i == tally.reasons && tally.reasons < MAX_REASONS)
    tally.reason[tally.reasons++] = reason;
  if (i < MAX_REASONS)
    tally.reason_count[i]++;
  tally.skipped++;
}

static conf_runner runner_for(const char *op_type) {
  for (int i = 0; i < wanted_count; i++)
    if (strcmp(wanted[i], op_type) == 0)
      for (size_t r = 0; r < RUNNER_COUNT; r++)
        if (strcmp(runners[r].op_type, op_type) == 0)
          return runners[r].run;
  return NULL;
}

static int starts_with_test(const struct dirent *entry) {
  return strncmp(entry->d_name, "test_", 5) == 0;
}

static int is_data_set(const struct dirent *entry) {
  return strncmp(entry->d_name, "test_data_set_", 14) == 0;
}

/* The opset of the default domain ("" or "ai.onnx"). */
static int64_t default_opset(const Onnx__ModelProto *model) {
  for (size_t i = 0; i < model->n_opset_import; i++) {
    const char *domain = model->opset_import[i]->domain;
    if (!domain || !domain[0] || strcmp(domain, "ai.onnx") == 0)
      return model->opset_import[i]->version;
  }
  return 0;
}

/* Runs every data set of one test folder; returns its outcome (skip filled). */
static conf_outcome run_case(const char *dir, const char *name, const Onnx__ModelProto *model,
                             conf_runner run, conf_skip *skip) {
  struct dirent **sets = NULL;
  int count = scandir(dir, &sets, is_data_set, alphasort);
  if (count <= 0) {
    printf("    no test_data_set_* in %s\n", dir);
    free(sets);
    return CONF_ERROR;
  }
  conf_outcome outcome = CONF_RAN;
  for (int i = 0; i < count; i++) {
    char set_dir[8192];
    snprintf(set_dir, sizeof set_dir, "%s/%s", dir, sets[i]->d_name);
    conf_case c = {.name = name, .opset = default_opset(model)};
    conf_tensor got = {0};
    if (outcome == CONF_RAN)
      outcome = conf_case_load(set_dir, model->graph, &c, skip);
    if (outcome == CONF_RAN)
      outcome = run(context, &c, &got, skip);
    char label[4096 + 300];
    snprintf(label, sizeof label, "%s/%s", name, sets[i]->d_name);
    if (outcome == CONF_RAN && !conf_compare(label, &got, &c.outputs[0], CONF_RTOL, CONF_ATOL))
      outcome = CONF_ERROR;
    free(got.data);
    conf_case_free(&c);
    free(sets[i]);
  }
  free(sets);
  return outcome;
}

/* Runs the wanted cases of one folder of test folders. */
static void run_folder(const char *folder) {
  const char *label = strrchr(folder, '/') ? strrchr(folder, '/') + 1 : folder;
  struct dirent **tests = NULL;
  int count = scandir(folder, &tests, starts_with_test, alphasort);
  CU_ASSERT(count >= 0);
  for (int i = 0; i < count; i++) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", folder, tests[i]->d_name);
    Onnx__ModelProto *model = conf_model_load(dir);
    conf_runner run = NULL;
    if (!model) {
      printf("FAIL %s/%s: unreadable model\n", label, tests[i]->d_name);
      tally.failed++;
    } else if (model->graph && model->graph->n_node == 1 && model->graph->node[0]->op_type) {
      run = runner_for(model->graph->node[0]->op_type);
    }
    if (run) {
      conf_skip skip = {"", ""};
      conf_outcome outcome = run_case(dir, tests[i]->d_name, model, run, &skip);
      if (outcome == CONF_RAN) {
        printf("PASS %s/%s\n", label, tests[i]->d_name);
        tally.passed++;
      } else if (outcome == CONF_SKIPPED) {
        printf("SKIP %s/%s: %s (%s)\n", label, tests[i]->d_name, skip.reason, skip.detail);
        count_skip(skip.reason);
      } else {
        printf("FAIL %s/%s\n", label, tests[i]->d_name);
        tally.failed++;
      }
    }
    if (model)
      onnx__model_proto__free_unpacked(model, NULL);
    free(tests[i]);
  }
  free(tests);
}

static void test_node_cases(void) {
  for (int i = 0; i < dir_count; i++)
    run_folder(data_dirs[i]);
  printf("ONNX node conformance (");
  for (int i = 0; i < wanted_count; i++)
    printf("%s%s", i ? " " : "", wanted[i]);
  printf("): passed %d, skipped %d, failed %d", tally.passed, tally.skipped, tally.failed);
  for (int i = 0; i < tally.reasons; i++)
    printf("%s%s %d", i ? ", " : "; skipped by reason: ", tally.reason[i], tally.reason_count[i]);
  printf("\nlargest error / tolerance (rtol %g, atol %g) among passing values: %.3g (%s)\n",
         CONF_RTOL, CONF_ATOL, conf_worst_ratio, conf_worst_case[0] ? conf_worst_case : "none");
  CU_ASSERT_EQUAL(tally.failed, 0);
  if (tally.passed < min_pass)
    printf("expected at least %ld passing cases (libonnx-testdata 1.12)\n", min_pass);
  CU_ASSERT(tally.passed >= min_pass);
}

int main(int argc, char **argv) {
  int first = 1;
  for (; first + 1 < argc && argv[first][0] == '-'; first += 2) {
    if (strcmp(argv[first], "--min-pass") == 0) {
      min_pass = strtol(argv[first + 1], NULL, 10);
    } else if (strcmp(argv[first], "--data") == 0 && dir_count < MAX_DIRS) {
      data_dirs[dir_count++] = argv[first + 1];
    } else {
      break;
    }
  }
  if (first >= argc || argv[first][0] == '-') {
    fprintf(stderr, "usage: %s [--min-pass N] [--data DIR]... OpType...\n", argv[0]);
    return 2;
  }
  wanted = (const char *const *)argv + first;
  wanted_count = argc - first;
  for (int i = first; i < argc; i++)
    if (!runner_for(argv[i])) {
      fprintf(stderr, "%s: no runner for op %s\n", argv[0], argv[i]);
      return 2;
    }
  if (!dir_count) /* the installed folders */
    for (size_t i = 0; i < sizeof default_dirs / sizeof *default_dirs; i++) {
      struct stat st;
      if (stat(default_dirs[i], &st) == 0 && S_ISDIR(st.st_mode))
        data_dirs[dir_count++] = default_dirs[i];
    }
  if (!dir_count) {
    printf("no ONNX test data in %s (install libonnx-testdata): skipped\n", default_dirs[0]);
    return CLRN_TEST_SKIP;
  }
  context = clrn_test_context(false);
  printf("device: %s (%s)\n", clrn_context_device(context)->name,
         clrn_context_device(context)->platform_name);
  clrn_test_add_suite("onnx_node", NULL, NULL, "cases", test_node_cases, NULL);
  int result = clrn_test_run();
  clrn_context_release(context);
  return result;
}
