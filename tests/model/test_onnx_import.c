/* The ONNX importer without a device:
 * - every model of tests/fuzz/onnx_corpus (made by tests/fuzz/make_onnx_corpus.py)
 *   is refused by clrn_weights_open() or, for one that binds, by the plan that
 *   reads its tensors, with the status its README.md table gives and
 *   a message naming the file and holding the table's text (the unsupported node
 *   named with its op type, a truncated file, a graph that is no ResNet, ...), and
 *   every file there is listed;
 * - the BatchNorm-free graph (for exports that folded BatchNorm into the
 *   convolutions) keeps torchvision's structure: no BatchNorm node, every reader
 *   rewired to the convolution, values renumbered densely in execution order;
 * - the plan of that graph (weights with biased convolutions, BatchNorm folded)
 *   still fuses each convolution with its residual add and ReLU, so an export
 *   runs in as many launches as the state_dict does, and reads the biases;
 * - a file with ONNX's first bytes is told from safetensors by its content. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "nn/graph.h"
#include "plan/plan.h"
#include "weights/onnx_model.h"
#include "weights/weights.h"

#define MAX_ROWS 128

typedef struct row {
  char file[128], status[64], text[160];
} row;

/* The table rows "| file | STATUS | `text` | why |" of the corpus README. */
static size_t read_table(row *rows) {
  FILE *f = fopen(CLRN_ONNX_CORPUS "/README.md", "r");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  size_t count = 0;
  char *line = NULL;
  size_t size = 0;
  while (getline(&line, &size, f) > 0 && count < MAX_ROWS)
    count += sscanf(line, "| %127s | %63s | `%159[^`]` |", rows[count].file, rows[count].status,
                    rows[count].text) == 3;
  free(line);
  fclose(f);
  return count;
}

/* Builds a plan of w, which reads every tensor; the status. */
static clrn_status read_all(const clrn_weights *w) {
  static const clrn_conv_tuning tuning; /* zero: the direct kernel everywhere */
  clrn_plan plan;
  clrn_status status = clrn_plan_build(&tuning, w, 64, 64, true, &plan);
  if (status == CLRN_STATUS_SUCCESS)
    clrn_plan_free(&plan);
  return status;
}

static void test_corpus_refused(void) {
  static row rows[MAX_ROWS];
  size_t count = read_table(rows);
  CU_ASSERT(count >= 20);
  for (size_t i = 0; i < count; i++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%.127s", CLRN_ONNX_CORPUS, rows[i].file);
    clrn_weights *w = NULL;
    clrn_clear_error();
    clrn_status status = clrn_weights_open(path, CLRN_ARCH_AUTO, &w);
    if (status == CLRN_STATUS_SUCCESS)
      status = read_all(w);
    const char *message = clrn_last_error();
    static const struct {
      const char *name;
      clrn_status status;
    } statuses[] = {{"INVALID_FORMAT", CLRN_STATUS_INVALID_FORMAT},
                    {"UNSUPPORTED", CLRN_STATUS_UNSUPPORTED},
                    {"MISMATCH", CLRN_STATUS_MISMATCH},
                    {"IO_ERROR", CLRN_STATUS_IO_ERROR}};
    bool known = false, ok = true;
    for (size_t k = 0; k < sizeof statuses / sizeof statuses[0]; k++)
      if (strcmp(rows[i].status, statuses[k].name) == 0) {
        known = true;
        ok = ok && status == statuses[k].status;
      }
    ok = ok && known && strstr(message, path) && strstr(message, rows[i].text);
    if (!ok)
      fprintf(stderr, "\n%s: got %s \"%s\", wanted %s with \"%s\"\n", rows[i].file,
              clrn_status_string(status), message, rows[i].status, rows[i].text);
    CU_ASSERT(ok);
    clrn_weights_close(w);
  }
}

/* The table's rows are distinct files that open or fail as listed; so the folder
 * must hold exactly as many files as the table lists. */
static void test_corpus_listed(void) {
  static row rows[MAX_ROWS];
  size_t count = read_table(rows), files = 0;
  DIR *d = opendir(CLRN_ONNX_CORPUS);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  for (struct dirent *e; (e = readdir(d));)
    files += e->d_name[0] != '.' && strcmp(e->d_name, "README.md") != 0;
  closedir(d);
  for (size_t i = 0; i < count; i++)
    for (size_t j = 0; j < i; j++)
      CU_ASSERT(strcmp(rows[i].file, rows[j].file) != 0);
  CU_ASSERT_EQUAL(files, count);
}

static void test_drop_batchnorm(void) {
  static const clrn_arch archs[] = {CLRN_ARCH_RESNET18, CLRN_ARCH_RESNEXT50_32X4D};
  for (size_t a = 0; a < sizeof archs / sizeof archs[0]; a++) {
    clrn_graph full, folded;
    CLRN_ASSERT_OK(clrn_graph_build(archs[a], 1000, 99, 117, &full));
    CLRN_ASSERT_OK(clrn_graph_build(archs[a], 1000, 99, 117, &folded));
    clrn_graph_drop_batchnorm(&folded);
    size_t batchnorms = 0;
    for (size_t i = 0; i < full.node_count; i++)
      batchnorms += full.nodes[i].kind == CLRN_NODE_BATCHNORM;
    CU_ASSERT(batchnorms > 0);
    CU_ASSERT_EQUAL(folded.node_count, full.node_count - batchnorms);
    CU_ASSERT_EQUAL(folded.value_count, full.value_count - batchnorms);
    /* Values in execution order: each node reads values made before it. */
    CU_ASSERT_EQUAL(folded.input, 0);
    for (size_t i = 0, j = 0; i < folded.node_count; i++, j++) {
      const clrn_node *n = &folded.nodes[i];
      CU_ASSERT_NOT_EQUAL(n->kind, CLRN_NODE_BATCHNORM);
      CU_ASSERT_EQUAL(n->output, (int)i + 1);
      CU_ASSERT(n->inputs[0] >= 0 && n->inputs[0] <= (int)i);
      CU_ASSERT(n->inputs[1] <= (int)i);
      while (full.nodes[j].kind == CLRN_NODE_BATCHNORM)
        j++;
      /* The same node, with the same output shape. */
      CU_ASSERT_STRING_EQUAL(n->name, full.nodes[j].name);
      CU_ASSERT_EQUAL(folded.values[n->output].c, full.values[full.nodes[j].output].c);
      CU_ASSERT_EQUAL(folded.values[n->output].h, full.values[full.nodes[j].output].h);
      /* A ReLU or add that followed a BatchNorm now reads its convolution. */
      if (n->kind == CLRN_NODE_RELU && full.nodes[j - 1].kind == CLRN_NODE_BATCHNORM)
        CU_ASSERT_EQUAL(folded.nodes[n->inputs[0] - 1].kind, CLRN_NODE_CONV);
    }
    CU_ASSERT_EQUAL(folded.output, (int)folded.value_count - 1);
    CU_ASSERT_EQUAL(folded.nodes[folded.node_count - 1].kind, CLRN_NODE_LINEAR);
    clrn_graph_free(&full);
    clrn_graph_free(&folded);
  }
}

static void test_folded_plan(void) {
  static const clrn_conv_tuning tuning; /* zero: the direct kernel everywhere */
  clrn_weights *plain = NULL, *folded = NULL;
  CLRN_ASSERT_OK(clrn_weights_random(CLRN_ARCH_RESNET50, 10, 7, &plain));
  CLRN_ASSERT_OK(clrn_weights_random(CLRN_ARCH_RESNET50, 10, 7, &folded));
  folded->batchnorm_folded = folded->conv_bias = true;
  clrn_plan a, b;
  CLRN_ASSERT_OK(clrn_plan_build(&tuning, plain, 64, 64, true, &a));
  CLRN_ASSERT_OK(clrn_plan_build(&tuning, folded, 64, 64, true, &b));
  CU_ASSERT_EQUAL(b.step_count, a.step_count);
  for (size_t i = 0; i < a.step_count && i < b.step_count; i++) {
    CU_ASSERT_EQUAL(a.steps[i].kind, b.steps[i].kind);
    CU_ASSERT_STRING_EQUAL(a.steps[i].name, b.steps[i].name);
    CU_ASSERT_EQUAL(a.steps[i].conv.relu, b.steps[i].conv.relu);
    CU_ASSERT_EQUAL(a.steps[i].inputs[1] >= 0, b.steps[i].inputs[1] >= 0);
  }
  /* The biases reach the epilogue: random biases are not zero. */
  const clrn_step *first = &b.steps[0];
  CU_ASSERT_EQUAL(first->kind, CLRN_STEP_CONV);
  bool nonzero = false;
  for (size_t i = 0; i < first->packed.epilogue_count / 3; i++)
    nonzero = nonzero || first->packed.epilogue[i] != 0.0f;
  CU_ASSERT(nonzero);
  clrn_plan_free(&a);
  clrn_plan_free(&b);
  clrn_weights_close(plain);
  clrn_weights_close(folded);
}

static void test_detect(void) {
  static const unsigned char torch_onnx[] = {0x08, 0x07, 0x12, 0x07, 'p', 'y',
                                             't',  'o',  'r',  'c',  'h'};
  CU_ASSERT(clrn_onnx_detect(torch_onnx, sizeof torch_onnx));
  /* A safetensors header of length 0x120708: its JSON starts at byte 8. */
  static const unsigned char st[] = {0x08, 0x07, 0x12, 0, 0, 0, 0, 0, '{', '"'};
  CU_ASSERT(!clrn_onnx_detect(st, sizeof st));
  static const unsigned char other[] = {0x08, 0x07, 0x99, 0x07};
  CU_ASSERT(!clrn_onnx_detect(other, sizeof other));
  CU_ASSERT(!clrn_onnx_detect(torch_onnx, 2));
}

int main(void) {
  clrn_test_add_suite("onnx import", NULL, NULL, "corpus refused with reasons", test_corpus_refused,
                      "every corpus file listed", test_corpus_listed, "BatchNorm-free graph",
                      test_drop_batchnorm, "its plan fused", test_folded_plan,
                      "ONNX told by content", test_detect, NULL);
  return clrn_test_run();
}
