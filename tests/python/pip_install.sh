#!/bin/sh
# Installs the Python module from the source tree the way a user does, `pip install .`,
# offline: scikit-build-core comes from the environment tools/setup.sh made, and cffi
# and numpy are Debian's. Usage: pip_install.sh PYTHON SOURCE_DIR WORK_DIR; the package
# lands in WORK_DIR/site, CMake's build folder is WORK_DIR/build (kept: reruns are
# incremental). Fails, saying what to run, when PYTHON is missing.
set -eu
python=$1 source=$2 work=$3
if [ ! -x "$python" ]; then
  echo "pip_install.sh: no $python: run tools/setup.sh to make the Python environment" >&2
  exit 1
fi
rm -rf "$work/site"
mkdir -p "$work"
cd "$source"
"$python" -m pip install --no-build-isolation --no-index --no-deps --disable-pip-version-check \
  --target "$work/site" --config-settings=build-dir="$work/build" .
test -f "$work/site/clresnet/libclresnet.so"
test -f "$work/site/clresnet/imagenet_classes.txt"
