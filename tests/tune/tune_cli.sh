#!/bin/sh
# `clresnet tune` end to end on a tiny shape set (no timing asserted): the tuning file
# is written to the cache folder, bench then marks the tuned layers in --profile,
# CLRN_TUNING=off ignores the file, and a file from another driver version or a
# corrupt one is ignored with a note. Usage: tune_cli.sh CLRESNET. Exit 77: no device.
set -u
cli=$1
"$cli" devices >/dev/null 2>&1 || exit 77
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
chmod 700 "$cache"
export CLRN_CACHE_DIR="$cache"
unset CLRN_TUNE CLRN_TUNING
fail() { echo "FAIL: $*"; exit 1; }
small="-m resnet18 -b 1 -H 32 -W 32"

"$cli" tune $small --quick --max-shapes 3 -v >"$cache/out" 2>"$cache/err" || {
  cat "$cache/err"; fail "tune exited $?"; }
grep -q "3/3 layer" "$cache/err" || { cat "$cache/err"; fail "no progress line for shape 3 of 3"; }
grep -q "written to $cache/tuning-" "$cache/out" || fail "no path on stdout: $(cat "$cache/out")"
file=$(ls "$cache"/tuning-*.txt) || fail "no tuning file in the cache folder"
grep -qx "end 3" "$file" || fail "the file does not end with 'end 3': $(cat "$file")"
grep -q "^driver " "$file" || fail "no driver line"

profile() { "$cli" bench $small -n 1 --warmup 0 --profile -v 2>"$cache/bench_err"; }
profile | grep -q " tuned" || fail "bench --profile shows no tuned layer"
CLRN_TUNING=off profile | grep -q " tuned" && fail "CLRN_TUNING=off still used the file"

cp "$file" "$cache/good"
sed -i 's/^driver .*/driver some-other-driver 0.1/' "$file"
profile | grep -q " tuned" && fail "a file of another driver version was used"
grep -q "ignored: it was measured with another driver version" "$cache/bench_err" ||
  fail "no note on the other driver: $(cat "$cache/bench_err")"

# Measured under other profile values: CLRN_PROFILE runs another profile.
cp "$cache/good" "$file"
CLRN_PROFILE=pocl-cpu profile | grep -q " tuned" && fail "a file of another profile was used"
grep -q "ignored: it was measured under another profile" "$cache/bench_err" ||
  fail "no note on the other profile: $(cat "$cache/bench_err")"

printf 'clresnet-tuning 1\ngarbage\n' >"$file"
profile | grep -q " tuned" && fail "a corrupt file was used"
grep -q "tuning file .* ignored" "$cache/bench_err" ||
  fail "no note on the corrupt file: $(cat "$cache/bench_err")"

# Tuning again over an ignored file replaces it with a good one.
"$cli" tune $small --quick --max-shapes 1 -q >/dev/null 2>&1 || fail "second tune failed"
grep -qx "end 1" "$file" || fail "the second tune did not rewrite the file"
"$cli" tune $small -b 0 >/dev/null 2>&1
[ $? -eq 2 ] || fail "-b 0 is not a usage error"
# Choices other than the profile's, written by hand for ResNet-18 at 224x224 (tile
# sizes as per-layer kernel defines, another variant, a work-group size), give the
# same logits as the profile alone.
root=$(dirname "$0")/../..
/usr/bin/python3 "$root/tools/export_torchvision.py" --arch resnet18 --seed 0 \
  -o "$cache/r18.safetensors" >/dev/null 2>&1 || fail "exporting resnet18 weights"
head -n 5 "$file" >"$cache/head"
{
  cat "$cache/head"
  echo "conv 3 64 7 7 2 2 3 3 1 12544 blocked CONV_VEC=16 CONV_COUT_BLOCK=32 CONV_PIX_BLOCK=6"
  echo "conv 64 64 3 3 1 1 1 1 1 3136 blocked CONV_VEC=16 CONV_COUT_BLOCK=32 CONV_PIX_BLOCK=4 CONV_BLOCK_WG=16"
  echo "conv 64 128 1 1 2 2 0 0 1 784 direct CONV_WG=16"
  echo "conv 256 256 3 3 1 1 1 1 1 196 blocked CONV_VEC=4 CONV_COUT_BLOCK=8 CONV_PIX_BLOCK=2"
  echo "end 4"
} >"$file"
image="$root/data/dog.jpg"
"$cli" run -q -w "$cache/r18.safetensors" -o "$cache/tuned.npy" "$image" >/dev/null ||
  fail "run with the hand-written tuning file"
CLRN_TUNING=off "$cli" run -q -w "$cache/r18.safetensors" -o "$cache/plain.npy" "$image" \
  >/dev/null || fail "run without the tuning file"
"$cli" bench -m resnet18 -b 1 -n 1 --warmup 0 --profile 2>/dev/null | grep -c " tuned" |
  grep -qx 9 || fail "bench --profile does not show the 9 layers of the 4 tuned shapes"
/usr/bin/python3 - "$cache/tuned.npy" "$cache/plain.npy" <<'PY' || fail "tuned logits differ"
import sys, numpy
a, b = numpy.load(sys.argv[1]), numpy.load(sys.argv[2])
err = float(numpy.abs(a - b).max() / max(1e-6, numpy.abs(b).max()))
print(f"tuned vs profile logits: max relative difference {err:.2e}")
sys.exit(0 if err < 1e-4 and a.argmax() == b.argmax() else 1)
PY
echo "tune_cli: ok"
