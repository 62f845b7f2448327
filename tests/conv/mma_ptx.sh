#!/bin/sh
# The tensor-core kernel (kernels/conv2d_mma.cl) checked without an NVIDIA GPU:
# compiled for both storages (tf32: float; f16: -DCLRN_HALF_STORAGE) to PTX by
# clang's NVPTX target for sm_80, with the headers every program gets
# (clrn_abi.h, prelude.h) and test-only built-ins (mma_ptx_shim.cl), then
# assembled by NVIDIA's ptxas for sm_80, which checks the inline PTX: the
# mma.sync shapes and types, the operand counts, the register kinds of the
# "r" and "f" constraints. It also checks that the PTX holds the mma.sync (and,
# for tf32, cvt.rna.tf32.f32) it should, and that sm_75 is refused (mma.m16n8k8
# with tf32 needs 8.0). Whether the fragments hold the right elements is not
# checked: that needs the hardware.
# Usage: mma_ptx.sh SOURCE_DIR WORK_DIR   (exit 77: clang's NVPTX target or ptxas missing)
set -u
src=$1/kernels
shim=$(dirname "$0")/mma_ptx_shim.cl
work=$2
clang=${CLANG:-clang}
ptxas=${PTXAS:-$(command -v ptxas || echo /usr/local/cuda/bin/ptxas)}
command -v "$clang" >/dev/null 2>&1 || { echo "no clang: skipping"; exit 77; }
[ -x "$ptxas" ] || { echo "no ptxas (CUDA toolkit): skipping"; exit 77; }
"$clang" -print-targets 2>/dev/null | grep -q nvptx64 || { echo "clang without NVPTX: skipping"; exit 77; }
mkdir -p "$work" || exit 2
cat "$src/clrn_abi.h" "$src/prelude.h" "$shim" "$src/conv2d_mma.cl" >"$work/conv2d_mma_full.cl" || exit 2
status=0
for storage in tf32 f16; do
  defines="-DCLRN_NV_MMA=80"
  [ $storage = f16 ] && defines="$defines -DCLRN_HALF_STORAGE"
  ptx=$work/conv2d_mma_$storage.ptx
  if ! "$clang" -x cl -cl-std=CL1.2 -target nvptx64-nvidia-nvcl -Xclang -finclude-default-header \
      -Xclang -cl-ext=+cl_khr_fp16 -Xclang -target-cpu -Xclang sm_80 -Xclang -target-feature \
      -Xclang +ptx70 -O2 $defines -S "$work/conv2d_mma_full.cl" -o "$ptx"; then
    echo "FAIL: clang could not compile conv2d_mma.cl ($storage) to PTX"; status=1; continue
  fi
  if [ $storage = tf32 ]; then
    want='mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32'
    grep -q 'cvt.rna.tf32.f32' "$ptx" || { echo "FAIL: no cvt.rna.tf32.f32 in the tf32 PTX"; status=1; }
  else
    want='mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32'
  fi
  grep -q "$want" "$ptx" || { echo "FAIL: no $want in the $storage PTX"; status=1; }
  if ! "$ptxas" -arch=sm_80 "$ptx" -o "$work/conv2d_mma_$storage.cubin"; then
    echo "FAIL: ptxas rejected the $storage PTX for sm_80"; status=1; continue
  fi
  echo "$storage: PTX assembled for sm_80 ($(grep -c 'mma.sync' "$ptx") mma.sync)"
  # The same PTX for a Turing GPU (7.5) must not assemble: its tensor cores lack these shapes.
  sed 's/^\.target sm_80/.target sm_75/' "$ptx" >"$work/conv2d_mma_${storage}_sm75.ptx"
  if "$ptxas" -arch=sm_75 "$work/conv2d_mma_${storage}_sm75.ptx" -o /dev/null 2>/dev/null; then
    echo "FAIL: ptxas accepted the $storage kernel for sm_75"; status=1
  fi
done
[ $status -eq 0 ] && echo "conv2d_mma.cl: both storages assemble for sm_80"
exit $status
