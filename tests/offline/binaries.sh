#!/bin/sh
# Devices without an online compiler: kernel sources exported by `clresnet kernels
# export`, compiled by a stand-in for a vendor's offline compiler (offline_compile,
# on PoCL), then loaded by a run that pretends the compiler is missing
# (CLRN_TEST_NO_COMPILER=1). The logits equal those of a normal run, and without the
# binaries the run is refused with a message that says what to do.
# Usage: binaries.sh CLRESNET OFFLINE_COMPILE FIXTURE_DIR WORK_DIR
set -u
cli=$1 compile=$2 fix=$3 work=$4
rm -rf "$work" && mkdir -p "$work" || exit 1
"$cli" devices >/dev/null 2>&1 || exit 77
fail() { echo "binaries.sh: $*" >&2; exit 1; }
w=$fix/r18.safetensors x=$fix/input64.npy
# A fresh binary cache, so no program can come from an earlier run.
export CLRN_CACHE_DIR="$work/cache"

"$cli" kernels export -q -w "$w" -H 64 -W 64 -o "$work/src" || fail "export failed"
ls "$work/src"/*.cl >/dev/null 2>&1 || fail "export wrote no .cl file"
ls "$work/src"/*.options >/dev/null 2>&1 || fail "export wrote no .options file"
mkdir -p "$work/bin"
"$compile" "$work/src" "$work/bin" || fail "offline compilation failed"

"$cli" run -q -w "$w" -o "$work/normal.npy" "$x" >/dev/null || fail "normal run failed"

# Without binaries: refused, one clear line naming what is missing.
CLRN_CACHE_DIR="$work/cache-empty" CLRN_TEST_NO_COMPILER=1 \
  "$cli" run -q -w "$w" -o "$work/none.npy" "$x" >/dev/null 2>"$work/err.txt"
status=$?
[ "$status" -eq 1 ] || fail "a run without compiler nor binaries exited $status, not 1"
grep -q "has no OpenCL C compiler" "$work/err.txt" || fail "unclear refusal: $(cat "$work/err.txt")"
grep -q "kernels export" "$work/err.txt" || fail "the refusal does not say what to do"
[ ! -e "$work/none.npy" ] || fail "a refused run left an output file"

# With them: the same logits, every program from the offline binaries.
CLRN_CACHE_DIR="$work/cache-empty2" CLRN_TEST_NO_COMPILER=1 CLRN_KERNEL_BINARIES="$work/bin" \
  "$cli" run -q -w "$w" -o "$work/offline.npy" "$x" >/dev/null || fail "binary-only run failed"
cmp -s "$work/normal.npy" "$work/offline.npy" || fail "binary-only logits differ from a normal run"

# A binary for another program's source is never used: a damaged one is refused
# and, with the compiler present, rebuilt from source.
for f in "$work/bin"/*.bin; do printf 'garbage' > "$f"; done
CLRN_CACHE_DIR="$work/cache-empty3" CLRN_KERNEL_BINARIES="$work/bin" \
  "$cli" run -q -w "$w" -o "$work/rebuilt.npy" "$x" >/dev/null 2>&1 || fail "a damaged binary broke a run that can compile"
cmp -s "$work/normal.npy" "$work/rebuilt.npy" || fail "rebuilt logits differ"
echo "binaries.sh: binary-only loading matches a normal run"
