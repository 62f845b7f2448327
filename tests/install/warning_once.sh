#!/bin/sh
# The program prints each warning once: with a cache folder that cannot be made,
# every kernel program build meets it, and stderr must still hold it a single time.
#   warning_once.sh CLRESNET
set -u
cli=$1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
touch "$tmp/file"
CLRN_CACHE_DIR=$tmp/file/cache "$cli" bench -m resnet18 -H 32 -W 32 -b 1 -n 1 --warmup 0 \
  >"$tmp/out" 2>"$tmp/err"
status=$?
cat "$tmp/err"
if [ $status -ne 0 ] && grep -q 'no OpenCL platform' "$tmp/err"; then exit 77; fi
[ $status -eq 0 ] || { echo "FAIL: exit $status"; exit 1; }
grep -q 'warning: .*cache' "$tmp/err" || { echo "FAIL: no cache warning"; exit 1; }
repeated=$(grep 'warning:' "$tmp/err" | sort | uniq -d)
[ -z "$repeated" ] || { echo "FAIL: printed more than once: $repeated"; exit 1; }
echo PASS
