#!/bin/sh
# Installs every package clresnet needs to build, test and run, from Debian's
# archive. Idempotent and non-interactive: packages already present are not
# fetched again, and nothing is asked. Runs apt-get through sudo when not root.
# Then makes the project's two Python environments at the repository root:
#   .venv      Debian's python3 with its packages visible, plus scikit-build-core
#              from PyPI (Debian does not package it): builds and tests the module.
#   .venv-ref  isolated, the reference tools only PyPI has: Keras 3 with the jax CPU
#              backend (golden tests of Keras' ResNet50) and ONNX Runtime (the CPU
#              peer benchmark). Pinned, so a golden figure does not drift.
set -eu

packages="
  cmake make gcc pkg-config file help2man dpkg-dev
  ocl-icd-opencl-dev opencl-c-headers clinfo
  pocl-opencl-icd oclgrind
  libclblast-dev libcjson-dev libjpeg62-turbo-dev libpng-dev
  libcunit1-dev
  clang libclang-rt-14-dev
  python3 python3-numpy python3-torchvision python3-pil
  python3-venv python3-cffi python3-pytest
  libhdf5-dev protobuf-c-compiler libprotobuf-c-dev python3-onnx libonnx-testdata
  openmpi-bin libopenmpi-dev
"

missing=""
for p in $packages; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing="$missing $p"
  fi
done

install_packages() {
  if [ "$(id -u)" -eq 0 ]; then
    sudo=""
  elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "setup.sh: need root (or sudo) to install:$missing" >&2
    exit 1
  fi
  echo "setup.sh: installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  # shellcheck disable=SC2086
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
}

if [ -z "$missing" ]; then
  echo "setup.sh: all packages present"
else
  install_packages
fi

# The Python environment: made once, then only checked (a fraction of a second).
venv="$(cd "$(dirname "$0")/.." && pwd)/.venv"
if ! "$venv/bin/python" -c 'import scikit_build_core' 2>/dev/null; then
  echo "setup.sh: making the Python environment $venv"
  /usr/bin/python3 -m venv --system-site-packages "$venv"
  "$venv/bin/python" -m pip install -q 'scikit-build-core>=0.10,<2'
fi

# The reference tools (isolated: their numpy must not shadow Debian's torch).
ref="$(cd "$(dirname "$0")/.." && pwd)/.venv-ref"
ref_pins="keras==3.15.1 jax==0.10.2 jaxlib==0.10.2 onnxruntime==1.32.0 h5py"
if ! "$ref/bin/python" -c 'import os; os.environ["KERAS_BACKEND"] = "jax"; import keras, jax, onnxruntime, h5py' 2>/dev/null; then
  echo "setup.sh: making the reference environment $ref"
  /usr/bin/python3 -m venv "$ref"
  # shellcheck disable=SC2086
  "$ref/bin/python" -m pip install -q $ref_pins
fi
