#!/bin/sh
# No silent first run. With fresh caches (clresnet's and PoCL's), `run` prints one
# "set-up" line with its times and no compiler chatter; the next (warm) start prints
# nothing; a kernel whose build log has a warning shows that log with -v only.
#   first_run.sh KERNEL_DIR CLI WEIGHTS INPUT
set -u
src=$1 cli=$2 weights=$3 input=$4
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
mkdir -m 700 "$tmp/clrn" "$tmp/pocl" "$tmp/kernels" || exit 2
export CLRN_CACHE_DIR="$tmp/clrn" POCL_CACHE_DIR="$tmp/pocl"
unset POCL_KERNEL_CACHE
fail() { echo "FAIL: $*"; echo "--- stderr"; cat "$tmp/err"; exit 1; }
run() { # run [env...] -- clresnet options: stderr in $tmp/err
  "$@" >"$tmp/out" 2>"$tmp/err"
  got=$?
  if [ $got -ne 0 ] && grep -q 'no OpenCL platform' "$tmp/err"; then exit 77; fi
  [ $got -eq 0 ] || fail "exit status $got"
}

run "$cli" run -w "$weights" "$input"
[ "$(grep -Ec '^clresnet: set-up [0-9.]+ s \(compile [0-9.]+ s: [1-9][0-9]* of [0-9]+ kernel programs on 1 device; warm-up [0-9.]+ s\)$' "$tmp/err")" -eq 1 ] ||
  fail "cold start: not exactly one set-up line"
[ "$(grep -c 'set-up' "$tmp/err")" -eq 1 ] || fail "cold start: set-up reported more than once"
! grep -Eqi 'warning|generated' "$tmp/err" || fail "cold start: compiler chatter on stderr"

run "$cli" run -w "$weights" "$input"
! grep -q 'set-up' "$tmp/err" || fail "warm start: a set-up line"

# A kernel with a warning: its build log goes to -v only.
cp "$src"/*.cl "$tmp/kernels"/ || exit 2
# (PoCL 3.1 leaves the log of a program made of a #warning and kernels alone empty:
# the extra function makes it keep the log.)
printf '#warning clresnet-test-warning\nint clrn_test_unused(int x) { return x; }\n' \
  >>"$tmp/kernels/softmax.cl"
run env CLRN_KERNEL_DIR="$tmp/kernels" "$cli" run -w "$weights" "$input"
! grep -q 'clresnet-test-warning' "$tmp/err" || fail "the build log shown without -v"
echo '/* changed */' >>"$tmp/kernels/softmax.cl"
run env CLRN_KERNEL_DIR="$tmp/kernels" "$cli" run -v -w "$weights" "$input"
grep -q 'build log of kernels/softmax.cl .*clresnet-test-warning' "$tmp/err" ||
  fail "-v: no build log line"
echo PASS
