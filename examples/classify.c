/* classify: one photo through clresnet's public API. Opens the weights, takes their
 * preprocessing and class names, runs the ResNet on the first OpenCL device and
 * prints the five likeliest classes as `clresnet run` does.
 * Usage: classify WEIGHTS.safetensors PHOTO */
#include <clresnet/clresnet.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(call)                                                                                \
  if ((call) != CLRN_STATUS_SUCCESS)                                                               \
    return fprintf(stderr, "classify: %s\n", clrn_last_error()), 1;

int main(int argc, char **argv) {
  if (argc != 3)
    return fprintf(stderr, "usage: classify WEIGHTS.safetensors PHOTO\n"), 2;
  clrn_weights *weights;
  clrn_labels *labels;
  clrn_preprocess pre;
  clrn_image image;
  clrn_device_info *devices;
  size_t count;
  clrn_engine *engine;
  clrn_engine_options options;
  CHECK(clrn_weights_open(argv[1], CLRN_ARCH_AUTO, &weights));
  CHECK(clrn_weights_preprocess(weights, &pre));
  CHECK(clrn_weights_labels(weights, &labels)); /* NULL when no names are known */
  int classes = clrn_weights_num_classes(weights), best[5];
  float *input = malloc(3 * sizeof(float) * pre.crop * pre.crop);
  float *logits = malloc(sizeof(float) * classes), *probs = malloc(sizeof(float) * classes);
  CHECK(clrn_image_load(argv[2], &image));
  CHECK(clrn_image_preprocess(&image, &pre, input));
  CHECK(clrn_devices_enumerate(&devices, &count));
  clrn_engine_options_default(&options);
  options.model.max_batch = 1;
  options.model.height = options.model.width = pre.crop;
  CHECK(clrn_engine_create(devices, 1, weights, &options, &engine));
  CHECK(clrn_engine_run(engine, input, 1, logits, probs));
  for (int i = 0, k = clrn_top_k(probs, classes, 5, best); i < k; i++) {
    const char *name = clrn_labels_name(labels, best[i]);
    printf("  %6.2f%%  %4d%s%s\n", 100.0 * probs[best[i]], best[i], name ? "  " : "",
           name ? name : "");
  }
  clrn_engine_release(engine);
  clrn_devices_free(devices);
  clrn_image_free(&image);
  clrn_labels_free(labels);
  clrn_weights_close(weights);
  free(input);
  free(logits);
  free(probs);
  return 0;
}
