/* The size of .npy inputs checked against the chosen devices from the headers
 * alone, so that an input too large for any batch is refused at once instead of
 * after reading gigabytes and planning the model. The bound is a floor of what one
 * image needs: its input buffer (3 x H x W floats) and the output of the stem
 * convolution every torchvision ResNet starts with (64 channels, stride 2,
 * ceil(H/2) x ceil(W/2)). The model halves its batch until the buffers fit, so
 * only one image has to fit; one that cannot would fail at the model's creation. */
#include <stdio.h>

#include "checks.h"

#define STEM_CHANNELS 64

static int refuse(const char *path, int64_t h, int64_t w, double bytes, const char *what,
                  const clrn_device_info *d, uint64_t limit) {
  cli_error("%s: one %lldx%lld image needs %.0f MiB of device buffers, more than %s's %s "
            "(%.0f MiB); use smaller inputs",
            path, (long long)h, (long long)w, bytes / 1048576.0, d->name, what,
            (double)limit / 1048576.0);
  return CLI_EXIT_FAILURE;
}

int cli_inputs_check(char *const *inputs, int count, const cli_devices *devices) {
  for (int i = 0; i < count; i++) {
    clrn_npy header;
    if (clrn_npy_read_header(inputs[i], &header) != CLRN_STATUS_SUCCESS) {
      clrn_clear_error();
      continue; /* a photo, or a malformed file the loader will report */
    }
    if ((header.ndim != 3 && header.ndim != 4) || header.shape[header.ndim - 3] != 3 ||
        header.shape[header.ndim - 1] < 1 || header.shape[header.ndim - 2] < 1)
      continue; /* not [N,3,H,W] or [3,H,W]: the loader says so */
    int64_t h = header.shape[header.ndim - 2], w = header.shape[header.ndim - 1];
    double input = 3.0 * (double)h * (double)w * sizeof(float);
    double stem = STEM_CHANNELS * (double)((h + 1) / 2) * (double)((w + 1) / 2) * sizeof(float);
    double largest = input > stem ? input : stem;
    for (size_t j = 0; j < devices->count; j++) {
      const clrn_device_info *d = &devices->chosen[j];
      if (largest > (double)d->max_alloc_bytes)
        return refuse(inputs[i], h, w, largest, "largest allocation", d, d->max_alloc_bytes);
      if (input + stem > (double)d->global_mem_bytes)
        return refuse(inputs[i], h, w, input + stem, "global memory", d, d->global_mem_bytes);
    }
  }
  return CLI_EXIT_OK;
}
