#!/bin/sh
# The fuzzing suite: builds the libFuzzer targets with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer (CMake options CLRN_FUZZ and CLRN_SANITIZE) and runs
# each for a bounded time (about 30 s) from its committed seed corpus: the
# safetensors parser, the .pth reader, the ONNX importer, the Keras .h5 reader, the
# .npy reader, the image decoder and the device-spec parser.
# fuzz_h5 is built but runs only with CLRN_FUZZ_H5=1: libhdf5 1.10 itself still
# crashes on some hostile files (a NULL read in H5F__accum_read under H5B2_open,
# reached from H5G__obj_get_linfo on a corrupt link-info message), which no check in
# clresnet's reader can yet rule out; the known-bad corpus stays in test_h5_corpus.
# Usage: tests/fuzz/run.sh [BUILD_DIR]   (default build-fuzz)
set -eu
cd "$(dirname "$0")/../.."
build=${1:-build-fuzz}
jobs=$(nproc 2>/dev/null || echo 2)
CC=clang cmake -S . -B "$build" -DCLRN_FUZZ=ON -DCLRN_SANITIZE=address,undefined \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLRN_BUILD_TOOLS=OFF
cmake --build "$build" -j"$jobs" --target fuzz_safetensors fuzz_pth fuzz_onnx fuzz_h5 fuzz_npy fuzz_image fuzz_device_spec
export LSAN_OPTIONS=suppressions=$PWD/tests/sanitizers/lsan.supp
skip='^fuzz_h5$'
[ "${CLRN_FUZZ_H5:-0}" = 1 ] && skip='^$'
ctest --test-dir "$build" --output-on-failure -L fuzz -E "$skip"
