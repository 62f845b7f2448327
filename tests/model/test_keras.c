/* Keras' ResNet50 (v1) without a device: the graph (stride on a block's first 1x1
 * conv and on the shortcut, a bias on every conv, BatchNorm eps 1.001e-5, the same
 * names as torchvision's), the mapping of Keras' layer names onto them, the
 * architecture's name, and the 'caffe' preprocessing (nearest resize as PIL's,
 * BGR, the mean subtracted in float32). The golden test against Keras itself is
 * keras_golden.py. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clresnet/io.h"
#include "harness.h"
#include "nn/graph.h"
#include "weights/h5.h"

static const clrn_node *find(const clrn_graph *g, const char *name) {
  for (size_t i = 0; i < g->node_count; i++)
    if (strcmp(g->nodes[i].name, name) == 0)
      return &g->nodes[i];
  return NULL;
}

static void test_graph(void) {
  clrn_graph g;
  CLRN_ASSERT_OK(clrn_graph_build(CLRN_ARCH_KERAS_RESNET50, 1000, 224, 224, &g));
  int convs = 0, bns = 0;
  for (size_t i = 0; i < g.node_count; i++) {
    const clrn_node *n = &g.nodes[i];
    if (n->kind == CLRN_NODE_CONV) {
      convs++;
      CU_ASSERT(n->bias);
    }
    if (n->kind == CLRN_NODE_BATCHNORM) {
      bns++;
      CU_ASSERT_DOUBLE_EQUAL(n->eps, 1.001e-5, 1e-12);
    }
  }
  CU_ASSERT_EQUAL(convs, 53);
  CU_ASSERT_EQUAL(bns, 53);
  /* The stride sits on the first 1x1 conv and on the shortcut, not on the 3x3. */
  static const struct {
    const char *name;
    int kernel, stride, pad, out;
  } want[] = {{"conv1", 7, 2, 3, 112},
              {"layer1.0.conv1", 1, 1, 0, 56},
              {"layer1.0.downsample.0", 1, 1, 0, 56},
              {"layer2.0.conv1", 1, 2, 0, 28},
              {"layer2.0.conv2", 3, 1, 1, 28},
              {"layer2.0.downsample.0", 1, 2, 0, 28},
              {"layer4.0.conv1", 1, 2, 0, 7},
              {"layer4.2.conv2", 3, 1, 1, 7}};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const clrn_node *n = find(&g, want[i].name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(n->kernel, want[i].kernel);
    CU_ASSERT_EQUAL(n->stride, want[i].stride);
    CU_ASSERT_EQUAL(n->pad, want[i].pad);
    CU_ASSERT_EQUAL(g.values[n->output].h, want[i].out);
  }
  clrn_graph_free(&g);
  /* torchvision's ResNet-50 keeps no bias and its stride on the 3x3. */
  CLRN_ASSERT_OK(clrn_graph_build(CLRN_ARCH_RESNET50, 1000, 224, 224, &g));
  CU_ASSERT(!find(&g, "conv1")->bias);
  CU_ASSERT_EQUAL(find(&g, "layer2.0.conv1")->stride, 1);
  CU_ASSERT_EQUAL(find(&g, "layer2.0.conv2")->stride, 2);
  CU_ASSERT_DOUBLE_EQUAL(find(&g, "bn1")->eps, 1e-5, 1e-12);
  clrn_graph_free(&g);
  /* v1 does its 1x1 convs at the lower resolution: fewer multiply-adds. */
  double v1 = clrn_arch_macs(CLRN_ARCH_KERAS_RESNET50, 1000, 224, 224);
  double v15 = clrn_arch_macs(CLRN_ARCH_RESNET50, 1000, 224, 224);
  CU_ASSERT(v1 > 3.8e9 && v1 < v15);
}

static void test_names(void) {
  static const struct {
    const char *layer, *leaf, *graph;
    clrn_h5_layout layout;
  } good[] = {{"conv1_conv", "kernel", "conv1.weight", CLRN_H5_CONV_HWIO},
              {"conv1_conv", "bias", "conv1.bias", CLRN_H5_PLAIN},
              {"conv1_bn", "gamma", "bn1.weight", CLRN_H5_PLAIN},
              {"conv1_bn", "moving_variance", "bn1.running_var", CLRN_H5_PLAIN},
              {"conv2_block1_0_conv", "kernel", "layer1.0.downsample.0.weight", CLRN_H5_CONV_HWIO},
              {"conv2_block1_0_bn", "beta", "layer1.0.downsample.1.bias", CLRN_H5_PLAIN},
              {"conv3_block4_3_bn", "moving_mean", "layer2.3.bn3.running_mean", CLRN_H5_PLAIN},
              {"conv5_block3_2_conv", "kernel", "layer4.2.conv2.weight", CLRN_H5_CONV_HWIO},
              {"predictions", "kernel", "fc.weight", CLRN_H5_DENSE_IO},
              {"predictions", "bias", "fc.bias", CLRN_H5_PLAIN}};
  char out[96];
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    clrn_h5_layout layout = CLRN_H5_PLAIN;
    CU_ASSERT_FATAL(clrn_h5_graph_name(good[i].layer, good[i].leaf, out, sizeof out, &layout));
    CU_ASSERT_STRING_EQUAL(out, good[i].graph);
    CU_ASSERT_EQUAL(layout, good[i].layout);
  }
  static const char *const bad[][2] = {{"conv1_conv", "gamma"},
                                       {"conv1_bn", "kernel"},
                                       {"conv6_block1_1_conv", "kernel"},
                                       {"conv1_block1_1_conv", "kernel"},
                                       {"conv2_block0_1_conv", "kernel"},
                                       {"conv2_block01_1_conv", "kernel"},
                                       {"conv2_block1_4_conv", "kernel"},
                                       {"conv2_block1_1_relu", "kernel"},
                                       {"conv2_block1_1_conv_", "kernel"},
                                       {"predictions", "gamma"},
                                       {"dense", "kernel"},
                                       {"conv2_block1_1_conv", "kernel:0"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    clrn_h5_layout layout;
    CU_ASSERT(!clrn_h5_graph_name(bad[i][0], bad[i][1], out, sizeof out, &layout));
  }
}

static void test_arch_name(void) {
  clrn_arch arch = CLRN_ARCH_AUTO;
  CLRN_ASSERT_OK(clrn_arch_parse("Keras-ResNet50", &arch));
  CU_ASSERT_EQUAL(arch, CLRN_ARCH_KERAS_RESNET50);
  CU_ASSERT_STRING_EQUAL(clrn_arch_name(arch), "keras_resnet50");
  CU_ASSERT_EQUAL(CLRN_ARCH_KERAS_RESNET50, 11); /* appended */
  CLRN_ASSERT_OK(clrn_arch_parse("50", &arch));
  CU_ASSERT_EQUAL(arch, CLRN_ARCH_RESNET50);
}

static void test_caffe(void) {
  clrn_preprocess p;
  clrn_preprocess_caffe(&p);
  CU_ASSERT_EQUAL(p.mode, CLRN_PREPROCESS_CAFFE);
  CU_ASSERT_EQUAL(p.crop, 224);
  clrn_preprocess_default(&p);
  CU_ASSERT_EQUAL(p.mode, CLRN_PREPROCESS_TORCHVISION);
  /* A 4 x 1 image to 2 x 2: PIL's nearest takes columns int(2 * (j + 0.5)) = 1, 3
   * and row 0 twice. */
  unsigned char rgb[4 * 3] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120};
  clrn_image image = {4, 1, rgb};
  clrn_preprocess_caffe(&p);
  p.crop = 2;
  float out[3 * 4];
  CLRN_ASSERT_OK(clrn_image_preprocess(&image, &p, out));
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) {
      const unsigned char *px = rgb + (2 * j + 1) * 3;
      CU_ASSERT_EQUAL(out[0 * 4 + i * 2 + j], (float)px[2] - 103.939f); /* B */
      CU_ASSERT_EQUAL(out[1 * 4 + i * 2 + j], (float)px[1] - 116.779f); /* G */
      CU_ASSERT_EQUAL(out[2 * 4 + i * 2 + j], (float)px[0] - 123.68f);  /* R */
    }
  /* The same image in torchvision's mode differs; an unknown mode is refused. */
  float tv[3 * 4];
  clrn_preprocess_default(&p);
  p.resize = 2;
  p.crop = 2;
  CLRN_ASSERT_OK(clrn_image_preprocess(&image, &p, tv));
  CU_ASSERT(memcmp(tv, out, sizeof tv) != 0);
  p.mode = (clrn_preprocess_mode)7;
  CU_ASSERT_EQUAL(clrn_image_preprocess(&image, &p, tv), CLRN_STATUS_INVALID_ARGUMENT);
}

int main(void) {
  clrn_test_add_suite("keras", NULL, NULL, "graph", test_graph, "layer names", test_names,
                      "architecture name", test_arch_name, "caffe preprocessing", test_caffe, NULL);
  return clrn_test_run();
}
