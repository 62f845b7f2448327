"""Writes tests/fuzz/h5_corpus: Keras .h5 weight files, valid and malformed, with
h5py (in .venv-ref; its files keep libhdf5 1.10's formats: libver "earliest"). They
are the seeds of fuzz_h5 and the corpus test_h5_corpus opens (the README.md table
gives each file's expected status). Usage: .venv-ref/bin/python make_h5_corpus.py"""
import os

import h5py
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "h5_corpus")
rows = []

# Inputs fuzz_h5 found on which libhdf5 1.10 itself crashes (SIGSEGV): kept as
# found, never rewritten; the reader's child process turns the crash into an error.
FOUND = [
    ("libhdf5-crash-local-heap.h5", "INVALID_FORMAT",
     "libhdf5 crashes on it (NULL read in H5F__accum_read under H5HL_protect, from "
     "H5Lexists): its child process dies, the file is refused"),
    ("libhdf5-crash-empty-heap.h5", "INVALID_FORMAT",
     "a local heap with an empty data segment: libhdf5 crashes as above"),
]


def keras_file(name, status, why, layers=None, root="", names_kind="fixed", mutate=None,
               dtype=np.float32):
    """A layer-named Keras file: layers maps a layer name to {weight name: array}."""
    layers = layers if layers is not None else {
        "conv1_conv": {"conv1_conv/kernel:0": np.ones((3, 3, 2, 4)),
                       "conv1_conv/bias:0": np.arange(4.0)},
        "conv1_bn": {"conv1_bn/gamma:0": np.ones(4), "conv1_bn/beta:0": np.zeros(4),
                     "conv1_bn/moving_mean:0": np.zeros(4),
                     "conv1_bn/moving_variance:0": np.ones(4)},
        "conv1_relu": {},
        "predictions": {"predictions/kernel:0": np.ones((4, 3)),
                        "predictions/bias:0": np.zeros(3)}}
    path = os.path.join(OUT, name)
    with h5py.File(path, "w", libver="earliest") as f:
        top = f.create_group(root) if root else f
        encode = ((lambda xs: np.array([x.encode() for x in xs])) if names_kind == "fixed"
                  else (lambda xs: np.array(xs, dtype=h5py.string_dtype())))
        top.attrs["layer_names"] = encode(list(layers))
        for layer, weights in layers.items():
            g = top.create_group(layer)
            g.attrs["weight_names"] = encode(list(weights)) if weights else np.array([])
            for weight, value in weights.items():
                g.create_dataset(weight, data=np.asarray(value, dtype=dtype))
        if mutate:
            mutate(f, top)
    rows.append((name, status, why))
    return path


def raw_file(name, status, why, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    rows.append((name, status, why))


def main():
    os.makedirs(OUT, exist_ok=True)
    kept = {name for name, _, _ in FOUND}
    for old in os.listdir(OUT):
        if old not in kept:
            os.remove(os.path.join(OUT, old))
    good = keras_file("applications-layout.h5", "SUCCESS",
                      "layer groups at the root, fixed-length names with ':0'")
    keras_file("model-save-layout.h5", "SUCCESS",
               "under model_weights/, variable-length names without ':0'", root="model_weights",
               names_kind="variable",
               layers={"conv1_conv": {"conv1_conv/kernel": np.ones((1, 1, 3, 2)),
                                      "conv1_conv/bias": np.ones(2)}, "pool1_pad": {}})
    keras_file("float16.h5", "SUCCESS", "float16 weights", dtype=np.float16)
    keras_file("float64.h5", "SUCCESS", "float64 weights (listed; the ResNet check refuses F64)",
               dtype=np.float64)

    def split_names(f, top):
        names = top.attrs["layer_names"]
        del top.attrs["layer_names"]
        top.attrs["layer_names0"] = names[:2]
        top.attrs["layer_names1"] = names[2:]
    keras_file("split-layer-names.h5", "SUCCESS",
               "layer_names split into layer_names0, layer_names1 as Keras does for long lists",
               mutate=split_names)
    keras_file("unknown-layer.h5", "SUCCESS",
               "a layer that is not ResNet's keeps its Keras path (the ResNet check names it)",
               layers={"dense_7": {"dense_7/kernel:0": np.ones((2, 2))}})

    data = open(good, "rb").read()
    raw_file("truncated.h5", "INVALID_FORMAT", "cut in half", data[:len(data) // 2])
    raw_file("signature-only.h5", "INVALID_FORMAT", "the HDF5 signature and nothing else",
             data[:8])
    raw_file("superblock-version-9.h5", "UNSUPPORTED", "a superblock version libhdf5 does not know",
             data[:8] + b"\x09" + data[9:])
    heap = bytearray(data)
    at = heap.find(b"HEAP")
    heap[at + 24:at + 32] = (at - 8).to_bytes(8, "little")
    raw_file("heap-over-header.h5", "INVALID_FORMAT",
             "a local heap whose data overlaps its own header (libhdf5 1.10 crashes on it)",
             bytes(heap))
    raw_file("offsets-4-bytes.h5", "UNSUPPORTED", "a superblock with 4-byte offsets",
             data[:13] + b"\x04" + data[14:])
    garbage = bytearray(data)
    for i in range(64, min(len(garbage), 4096), 7):
        garbage[i] ^= 0x5A
    raw_file("scrambled.h5", "INVALID_FORMAT", "object headers overwritten", bytes(garbage))

    with h5py.File(os.path.join(OUT, "plain-hdf5.h5"), "w", libver="earliest") as f:
        f.create_dataset("x", data=np.ones(3, np.float32))
    rows.append(("plain-hdf5.h5", "UNSUPPORTED", "an HDF5 file whose groups hold no dataset"))
    with h5py.File(os.path.join(OUT, "keras3-weights.h5"), "w", libver="earliest") as f:
        f.create_dataset("layers/conv2d/vars/0", data=np.ones((1, 1, 3, 2), np.float32))
    rows.append(("keras3-weights.h5", "UNSUPPORTED", "Keras 3's .weights.h5 layout"))
    with h5py.File(os.path.join(OUT, "model-weights-dataset.h5"), "w", libver="earliest") as f:
        f.create_dataset("model_weights", data=np.ones(3, np.float32))
    rows.append(("model-weights-dataset.h5", "INVALID_FORMAT", "model_weights is a dataset"))

    def ghost(f, top):
        top.attrs["layer_names"] = np.array([b"conv1_conv", b"ghost"])
    keras_file("missing-layer-group.h5", "SUCCESS",
               "layer_names lists a layer with no group (not read: layers are the links)",
               mutate=ghost)

    def no_weight_names(f, top):
        del top["conv1_bn"].attrs["weight_names"]
    keras_file("no-weight-names.h5", "SUCCESS",
               "a layer without weight_names (its datasets are found by walking it)",
               mutate=no_weight_names)

    def missing_weight(f, top):
        top["conv1_conv"].attrs["weight_names"] = np.array([b"conv1_conv/kernel:0", b"nope:0"])
    keras_file("missing-weight.h5", "SUCCESS",
               "weight_names lists a missing dataset (the attribute is not read)",
               mutate=missing_weight)

    def int_names(f, top):
        top.attrs["layer_names"] = np.arange(3)
    keras_file("layer-names-not-strings.h5", "SUCCESS",
               "layer_names holds integers (attributes are not read)",
               mutate=int_names)

    def slash(f, top):
        top.attrs["layer_names"] = np.array([b"conv1_conv/conv1_conv"])
    keras_file("slash-in-layer-name.h5", "SUCCESS", "a layer name holding '/' (not read)",
               mutate=slash)

    def twice(f, top):
        top.attrs["layer_names"] = np.array([b"conv1_conv", b"conv1_conv"])
    keras_file("duplicate-layer.h5", "SUCCESS", "the same layer listed twice (not read)",
               mutate=twice)
    keras_file("int-weights.h5", "UNSUPPORTED", "int32 weights", dtype=np.int32)
    keras_file("big-endian.h5", "UNSUPPORTED", "big-endian float32 weights", dtype=">f4")
    keras_file("five-dims.h5", "INVALID_FORMAT", "a weight with 5 dimensions",
               layers={"conv1_conv": {"conv1_conv/kernel:0": np.ones((1, 1, 1, 1, 2))}})

    def huge(f, top):
        del top["predictions"]["predictions/kernel:0"]
        top["predictions"].create_dataset("predictions/kernel:0", shape=(1 << 20, 1 << 20),
                                          dtype=np.float32, chunks=(16, 16))
    keras_file("huge-shape.h5", "UNSUPPORTED", "a 2^40-element weight (unallocated chunks)",
               mutate=huge)

    def external_storage(f, top):
        del top["conv1_bn"]["conv1_bn/beta:0"]
        top["conv1_bn"].create_dataset("conv1_bn/beta:0", shape=(4,), dtype=np.float32,
                                       external=[("/dev/zero", 0, 16)])
    keras_file("external-storage.h5", "UNSUPPORTED", "a weight stored in another file",
               mutate=external_storage)

    def external_link(f, top):
        del top["conv1_bn"]
        top["conv1_bn"] = h5py.ExternalLink("other.h5", "/conv1_bn")
    keras_file("external-link.h5", "SUCCESS",
               "a layer group that is an external link (not followed)",
               mutate=external_link)

    def soft_loop(f, top):
        del top["conv1_bn"]
        top["conv1_bn"] = h5py.SoftLink("/conv1_bn")
    keras_file("soft-link-loop.h5", "SUCCESS",
               "a layer group that is a soft link to itself (not followed)",
               mutate=soft_loop)

    def duplicate_weight(f, top):
        top["conv1_conv"].create_dataset("kernel:0", data=np.ones((3, 3, 2, 4), np.float32))
    keras_file("duplicate-weight.h5", "INVALID_FORMAT", "two datasets of a layer with one leaf",
               mutate=duplicate_weight)

    def many_weights(f, top):
        for i in range(70):
            top["conv1_relu"].create_dataset(f"w{i}:0", data=np.ones(1, np.float32))
    keras_file("too-many-weights.h5", "UNSUPPORTED", "70 datasets in one layer",
               mutate=many_weights)

    def hard_cycle(f, top):
        top["conv1_bn"]["cycle"] = top
    keras_file("hard-link-cycle.h5", "INVALID_FORMAT",
               "a layer group holding a hard link to the root: its weights seen twice",
               mutate=hard_cycle)

    def nan(f, top):
        top["conv1_conv"]["conv1_conv/bias:0"][1] = np.nan
    keras_file("nan-weight.h5", "INVALID_FORMAT", "a NaN, refused when read", mutate=nan)

    def negative(f, top):
        top["conv1_bn"]["conv1_bn/moving_variance:0"][2] = -1.0
    keras_file("negative-variance.h5", "INVALID_FORMAT", "a negative moving_variance, when read",
               mutate=negative)

    rows.extend(FOUND)
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write("# Keras .h5 corpus (fuzz_h5 seeds; test_h5_corpus)\n\n"
                "Written by `tests/fuzz/make_h5_corpus.py`. Each file is opened with\n"
                "clrn_weights_file_open() and its float tensors read; the first failure must\n"
                "be the status given.\n\n"
                "| file | status | what |\n|---|---|---|\n")
        for name, status, why in rows:
            f.write(f"| {name} | {status} | {why} |\n")


if __name__ == "__main__":
    main()
