"""Golden test of Keras' ResNet50 (ResNet v1) read from .h5 files, against Keras 3
itself (jax CPU backend, pip, in .venv-ref). keras.applications.ResNet50(weights=None,
classifier_activation=None) gets seeded random weights with non-trivial BatchNorm
statistics and is saved in both layouts of the layer-named HDF5 format:
model.save("x.h5") (under model_weights/, Keras 3's variable-length names) and
keras.applications' own file layout (layer groups at the root, fixed-length names
like "conv1_conv/kernel:0", written with h5py the way Keras 2's save_weights does;
Keras itself loads it back as a check). clresnet's logits (NCHW .npy inputs) must
match Keras' (NHWC) within 1e-4 relative, at 224x224 and at 200x168, from both
files, and bit-identically between them. Photos: `run` with the weights' default
preprocessing ('caffe': load_img's nearest resize straight to 224x224, BGR, the
ImageNet mean subtracted) must give exactly keras' preprocess_input(load_img(...))
(--save-input) and Keras' logits on it; `--preprocess torchvision` must change
the input. Keras 3's .weights.h5 must be refused with a message naming the format.
Usage: KERAS_BACKEND=jax python keras_golden.py CLRESNET WORKDIR PHOTO...
(exit 77 without keras/h5py or without an OpenCL device)."""
import os
import subprocess
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
# keras.utils.load_img needs PIL; the venv has none, Debian's is the one our decoder
# matches (appended: the venv's numpy stays first).
sys.path.append("/usr/lib/python3/dist-packages")
try:
    import h5py
    import keras
    import numpy as np
except ImportError as error:
    print(f"keras_golden.py: {error}; skipping", file=sys.stderr)
    sys.exit(77)

CLI, WORK, PHOTOS = sys.argv[1], sys.argv[2], sys.argv[3:]
TOLERANCE = 1e-4
failed = 0


def path(name):
    return os.path.join(WORK, name)


def report(ok, what):
    global failed
    print(f"{'ok  ' if ok else 'FAIL'} {what}")
    failed += not ok


def clresnet(*args, expect_ok=True):
    r = subprocess.run([CLI, *args], capture_output=True, text=True)
    if r.returncode != 0 and "no OpenCL platform" in r.stderr:
        print("keras_golden.py: no OpenCL device; skipping", file=sys.stderr)
        sys.exit(77)
    if expect_ok and r.returncode != 0:
        sys.exit(f"FAIL: clresnet {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def model(height, width):
    return keras.applications.ResNet50(weights=None, classifier_activation=None,
                                       input_shape=(height, width, 3))


def randomize(m, seed):
    """He-normal kernels, small biases, BatchNorm statistics far from the identity."""
    rng = np.random.default_rng(seed)
    values = []
    for w in m.weights:
        shape, leaf = tuple(w.shape), w.path.split("/")[-1]
        if leaf == "kernel":
            fan_in = int(np.prod(shape[:-1]))
            v = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
        elif leaf == "moving_variance":
            v = 0.5 + 1.5 * rng.random(shape)
        elif leaf == "gamma":
            v = 0.5 + rng.random(shape)
        else:  # bias, beta, moving_mean
            v = 0.1 * rng.standard_normal(shape)
        values.append(v.astype(np.float32))
    m.set_weights(values)


def save_applications_layout(m, name):
    """What keras.applications' resnet50_weights_tf_dim_ordering_tf_kernels.h5 holds
    (Keras 2's save_weights): root attributes, one group per layer, names with ':0'."""
    with h5py.File(name, "w") as f:
        f.attrs["layer_names"] = np.array([l.name.encode() for l in m.layers])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        for layer in m.layers:
            g = f.create_group(layer.name)
            names = [f"{w.path}:0".encode() for w in layer.weights]
            g.attrs["weight_names"] = np.array(names) if names else np.array([])
            for n, w in zip(names, layer.weights):
                g.create_dataset(n.decode(), data=np.asarray(w.numpy(), dtype=np.float32))


def logits_of(weights, inputs, *extra):
    out = path(os.path.basename(weights) + ".logits.npy")
    clresnet("run", "-q", "-w", weights, "-o", out, *extra, inputs)
    return np.load(out)


def compare(got, want, what):
    error = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
    report(got.shape == want.shape and error <= TOLERANCE,
           f"{what}: max |diff| / max |logit| = {error:.2e} (tolerance {TOLERANCE:g})")


def main():
    os.makedirs(WORK, exist_ok=True)
    m = model(224, 224)
    randomize(m, 13)
    m.save(path("model.h5"))
    save_applications_layout(m, path("applications.h5"))
    check = model(224, 224)
    check.load_weights(path("applications.h5"))
    report(all(np.array_equal(a, b) for a, b in zip(m.get_weights(), check.get_weights())),
           "Keras itself loads the applications-layout file")
    m.save_weights(path("model.weights.h5"))

    rng = np.random.default_rng(5)
    for height, width in ((224, 224), (200, 168)):
        net = m if (height, width) == (224, 224) else model(height, width)
        if net is not m:
            net.set_weights(m.get_weights())
        x = (rng.random((2, 3, height, width)) * 255.0 - 120.0).astype(np.float32)
        inputs = path(f"input-{height}x{width}.npy")
        np.save(inputs, x)
        want = np.asarray(net.predict(x.transpose(0, 2, 3, 1), verbose=0))
        by_layout = {}
        for name in ("model.h5", "applications.h5"):
            by_layout[name] = logits_of(path(name), inputs)
            compare(by_layout[name], want, f"{name} at {height}x{width}")
        report(np.array_equal(by_layout["model.h5"], by_layout["applications.h5"]),
               f"both layouts give bit-identical logits at {height}x{width}")

    r = clresnet("run", "-q", "-w", path("model.weights.h5"), path("input-224x224.npy"),
                 expect_ok=False)
    report(r.returncode != 0 and ".weights.h5" in r.stderr and r.stderr.count("\n") == 1,
           f"Keras 3 .weights.h5 refused in one line: {r.stderr.strip()}")

    r = clresnet("run", "-q", "-m", "resnet50", "-w", path("model.h5"),
                 path("input-224x224.npy"), expect_ok=False)
    report(r.returncode != 0 and "holds keras_resnet50 weights, not resnet50" in r.stderr,
           "-m resnet50 on Keras weights refused: the architecture comes from the file")
    r = clresnet("run", "--preprocess", "vgg", "-w", path("model.h5"), PHOTOS[0] if PHOTOS
                 else "x.jpg", expect_ok=False)
    report(r.returncode == 2 and "--preprocess: 'vgg' is not torchvision or caffe" in r.stderr,
           "--preprocess takes torchvision or caffe only")

    from keras.applications.resnet50 import preprocess_input
    for photo in PHOTOS:
        image = keras.utils.img_to_array(keras.utils.load_img(photo, target_size=(224, 224)))
        want = preprocess_input(image[None])  # NHWC, BGR, mean subtracted
        saved = path("photo-input.npy")
        got_logits = logits_of(path("model.h5"), photo, "--save-input", saved)
        got = np.load(saved)
        report(np.array_equal(got, want.transpose(0, 3, 1, 2)),
               f"{os.path.basename(photo)}: caffe preprocessing equals keras' "
               f"preprocess_input(load_img(target_size=(224, 224)))")
        compare(got_logits, np.asarray(m.predict(want, verbose=0)),
                f"{os.path.basename(photo)}: logits")
        clresnet("run", "-q", "-w", path("model.h5"), "--preprocess", "torchvision",
                 "--save-input", saved, photo)
        report(not np.array_equal(np.load(saved), want.transpose(0, 3, 1, 2)),
               f"{os.path.basename(photo)}: --preprocess torchvision overrides the default")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
