#!/bin/sh
# Installs every package clresnet needs to build, test and run, from Debian's
# archive. Idempotent and non-interactive: packages already present are not
# fetched again, and nothing is asked. Runs apt-get through sudo when not root.
# Then makes the project's Python environment, .venv at the repository root
# (Debian's python3 with its packages visible, plus scikit-build-core from PyPI,
# which Debian does not package), used to build and test the Python module.
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
