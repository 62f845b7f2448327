#!/bin/sh
# Runs a command with CLRN_KERNEL_DIR set to a copy of the kernel sources in which
# softmax.cl does not compile, so that the command meets a kernel build failure.
#   broken_kernels.sh KERNEL_DIR COMMAND...
set -u
src=$1; shift
dir=$(mktemp -d) || exit 2
trap 'rm -rf "$dir"' EXIT
cp "$src"/*.cl "$dir"/ || exit 2
echo 'this is not OpenCL C;' >>"$dir/softmax.cl"
CLRN_KERNEL_DIR=$dir "$@"
