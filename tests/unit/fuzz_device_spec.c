/* libFuzzer target for the device selection spec parser: any bytes, as a spec,
 * against a fixed hand-made list of four devices. The parser must return a status
 * (never crash, read out of bounds or leak), and on success every index it writes
 * must name a listed device, without duplicates. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clresnet/device.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fill(clrn_device_info *d, size_t index, unsigned p, unsigned i, clrn_device_type type,
                 const char *name, const char *vendor, const char *platform) {
  memset(d, 0, sizeof *d);
  d->index = index;
  d->platform_index = p;
  d->device_index = i;
  d->type = type;
  snprintf(d->name, sizeof d->name, "%s", name);
  snprintf(d->vendor, sizeof d->vendor, "%s", vendor);
  snprintf(d->platform_name, sizeof d->platform_name, "%s", platform);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static clrn_device_info devices[4];
  static int ready;
  if (!ready) {
    fill(&devices[0], 0, 0, 0, CLRN_DEVICE_TYPE_CPU, "pthread-haswell", "AuthenticAMD",
         "Portable Computing Language");
    fill(&devices[1], 1, 1, 0, CLRN_DEVICE_TYPE_GPU, "NVIDIA H100", "NVIDIA", "NVIDIA CUDA");
    fill(&devices[2], 2, 1, 1, CLRN_DEVICE_TYPE_GPU, "NVIDIA H100", "NVIDIA", "NVIDIA CUDA");
    fill(&devices[3], 3, 2, 0, CLRN_DEVICE_TYPE_ACCELERATOR, "Oclgrind Simulator", "Oclgrind",
         "Oclgrind");
    ready = 1;
  }
  char *spec = malloc(size + 1);
  if (!spec)
    return 0;
  memcpy(spec, data, size);
  spec[size] = '\0';
  size_t chosen[4], count = 0;
  clrn_status status = clrn_devices_select(devices, 4, spec, chosen, 4, &count);
  if (status == CLRN_STATUS_SUCCESS) {
    if (count < 1 || count > 4)
      abort();
    for (size_t i = 0; i < count; i++)
      for (size_t j = i + 1; j < count; j++)
        if (chosen[i] >= 4 || chosen[i] == chosen[j])
          abort();
  }
  free(spec);
  return 0;
}
