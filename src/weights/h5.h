/* Keras weight files (.h5), read through Debian's libhdf5: the layer-named format
 * of Keras 2 and of Keras 3's legacy HDF5 saving, in both of its layouts.
 *
 * - keras.applications' files (resnet50_weights_tf_dim_ordering_tf_kernels.h5)
 *   and Keras 2's save_weights("x.h5"): the root group carries the attribute
 *   layer_names; each layer is a group of that name whose attribute weight_names
 *   lists its datasets by path ("conv1_conv/kernel:0").
 * - model.save("x.h5"): the same under the group model_weights/ (Keras 3 writes
 *   weight names without ":0", and variable-length strings).
 *
 * No attribute is read (layer_names, weight_names): libhdf5 1.10 allocates (and
 * fills) whatever length a hostile variable-length string claims, and decodes a
 * corrupted attribute message out of bounds (both found by fuzz_h5). The layers
 * are the hard links of the weights' group (model_weights/ when there is one,
 * else the root) instead, and a layer's weights the datasets reachable from it
 * through hard links (H5Ovisit; soft and external links are not followed); a
 * weight's leaf is its last path part without ":0". A file where no group holds a
 * dataset is refused.
 *
 * Keras' names are mapped onto the graph's (torchvision's module paths) by
 * h5_names.c: conv2_block1_1_conv/kernel becomes layer1.0.conv1.weight, and
 * channels-last kernels are transposed when read (Conv2D [kh, kw, in, out] to
 * [out, in, kh, kw], Dense [in, out] to [out, in]). Names that map onto nothing
 * keep their Keras path ("dense_7/kernel"), so the architecture check names them.
 *
 * libhdf5 never prints: its automatic error printing is switched off and its
 * error stack becomes one clrn error line. Before a file reaches libhdf5 its
 * signature and superblock version are checked; every attribute and dataset is
 * checked (class, rank, sizes, float type) before it is read, and every count is
 * bounded. Keras 3's .weights.h5 files (layers by class name,
 * "layers/conv2d_4/vars/0") are recognised and refused: their order is not a
 * stable contract.
 *
 * libhdf5 1.10 itself still crashes on some hostile files (fuzz_h5 found NULL
 * reads in H5F__accum_read under H5HL_protect and H5B2_open), which no pre-check
 * here can rule out. So libhdf5 only ever runs in a child process, one per file
 * (see h5.c): it lists the weights, reads every one as float32 in the graph's
 * layout and passes the table and the values back through an anonymous
 * shared-memory file; the parent never calls libhdf5 for the file, checks the
 * child's result as strictly as the file itself, and turns a child killed by a
 * signal into CLRN_STATUS_INVALID_FORMAT ("libhdf5 crashed reading it"). The
 * values of an open file therefore live in memory (at most
 * CLRN_H5_MAX_TOTAL_ELEMENTS floats), and clrn_h5_read_f32() only copies them. */
#ifndef CLRN_WEIGHTS_H5_H
#define CLRN_WEIGHTS_H5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weights/safetensors.h"

#define CLRN_H5_MAX_LAYERS 10000u               /* layer_names entries */
#define CLRN_H5_MAX_WEIGHTS 64u                 /* weight_names entries of one layer */
#define CLRN_H5_MAX_NAME 256u                   /* bytes of one name */
#define CLRN_H5_MAX_DIMS 4                      /* of a weight */
#define CLRN_H5_MAX_ELEMENTS (1ull << 28)       /* of one weight */
#define CLRN_H5_MAX_TOTAL_ELEMENTS (1ull << 28) /* of all weights together: 1 GiB of float32 */

/** How a dataset's values are laid out relative to the graph's tensor. */
typedef enum clrn_h5_layout {
  CLRN_H5_PLAIN,     /**< as is (vectors, unmapped names) */
  CLRN_H5_CONV_HWIO, /**< Conv2D kernel [kh, kw, in, out] -> [out, in, kh, kw] */
  CLRN_H5_DENSE_IO,  /**< Dense kernel [in, out] -> [out, in] */
} clrn_h5_layout;

typedef struct clrn_h5_tensor {
  char *name; /**< the graph's name ("layer1.0.conv1.weight"), or the Keras path */
  char *path; /**< the dataset in the file ("model_weights/conv1_conv/conv1_conv/kernel") */
  clrn_dtype dtype;
  int ndim;
  int64_t shape[CLRN_H5_MAX_DIMS]; /**< as the graph sees it (transposed) */
  clrn_h5_layout layout;           /**< how the file held the values (data is already transposed) */
  const float *data;               /**< product(shape) floats in the graph's layout, in image; NULL
                                        when libhdf5 could not read them */
  clrn_status read_status;         /**< why data is NULL (CLRN_STATUS_SUCCESS when it is not) */
  char *read_error;                /**< that failure's message, naming the file and dataset */
} clrn_h5_tensor;

typedef struct clrn_h5 {
  clrn_h5_tensor *tensors; /**< sorted by name */
  size_t count;
  char *name;        /**< the file's name, for errors */
  void *image;       /**< the reader process's result, mapped read-only: the values */
  size_t image_size; /**< bytes of image */
} clrn_h5;

/** Whether a file starting with these n bytes is an HDF5 file (its signature at
 * offset 0). */
bool clrn_h5_detect(const unsigned char *head, size_t n);

/** Opens and validates a Keras weights file and reads its values, through
 * libhdf5 in a child process (CLRN_STATUS_IO_ERROR when it cannot be read or the
 * process cannot be started, CLRN_STATUS_INVALID_FORMAT when it is malformed or
 * crashes libhdf5, CLRN_STATUS_UNSUPPORTED for an HDF5 file that holds no Keras
 * weights in the layer-named format, or more than the limits above). On failure
 * *h5 is left zeroed. */
clrn_status clrn_h5_open(const char *path, clrn_h5 *h5);

/** As clrn_h5_open(), over size bytes in memory (the child hands them to
 * libhdf5's in-memory file driver). */
clrn_status clrn_h5_parse(const void *bytes, size_t size, const char *name, clrn_h5 *h5);

/** Frees the table and the values, leaving *h5 zeroed. Safe on a zeroed struct
 * and when called twice. */
void clrn_h5_close(clrn_h5 *h5);

/** The tensor with this (graph) name, or NULL. */
const clrn_h5_tensor *clrn_h5_find(const clrn_h5 *h5, const char *name);

/** Copies a tensor's values as float32 into out (product(shape) floats, in the
 * graph's layout); when libhdf5 could not read them, the status and message it
 * gave then (CLRN_STATUS_IO_ERROR for a dataset whose storage is corrupt). */
clrn_status clrn_h5_read_f32(const clrn_h5 *h5, const clrn_h5_tensor *tensor, float *out);

/** A test seam: when set, called in libhdf5's reader process just before it
 * exits (fuzz_h5 copies the coverage the child's code gathered back to the
 * fuzzer). */
extern void (*clrn_h5_reader_exit_hook)(void);

/** Maps Keras' layer name and weight leaf ("conv2_block1_0_conv", "kernel") onto
 * the graph's tensor name ("layer1.0.downsample.0.weight") and the layout its
 * values have; false when they name nothing of keras.applications' ResNets. */
bool clrn_h5_graph_name(const char *layer, const char *leaf, char *out, size_t size,
                        clrn_h5_layout *layout);

#endif
