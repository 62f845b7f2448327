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

sed -i 's/^driver .*/driver some-other-driver 0.1/' "$file"
profile | grep -q " tuned" && fail "a file of another driver version was used"
grep -q "ignored: it was measured with another driver version" "$cache/bench_err" ||
  fail "no note on the other driver: $(cat "$cache/bench_err")"

printf 'clresnet-tuning 1\ngarbage\n' >"$file"
profile | grep -q " tuned" && fail "a corrupt file was used"
grep -q "tuning file .* ignored" "$cache/bench_err" ||
  fail "no note on the corrupt file: $(cat "$cache/bench_err")"

# Tuning again over an ignored file replaces it with a good one.
"$cli" tune $small --quick --max-shapes 1 -q >/dev/null 2>&1 || fail "second tune failed"
grep -qx "end 1" "$file" || fail "the second tune did not rewrite the file"
"$cli" tune $small -b 0 >/dev/null 2>&1
[ $? -eq 2 ] || fail "-b 0 is not a usage error"
echo "tune_cli: ok"
