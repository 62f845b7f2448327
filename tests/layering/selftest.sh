#!/bin/sh
# Runs check_layers.sh on two small trees: one whose includes point down must
# pass, one where src/base includes a sched header must fail and name the file.
set -eu
check=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/good/src/base" "$tmp/good/src/sched" "$tmp/bad/src/base" "$tmp/bad/src/sched"
printf '#include "base/error.h"\n' >"$tmp/good/src/sched/a.c"
printf '#include "clresnet/status.h"\n' >"$tmp/good/src/base/b.c"
printf '#include "sched/exec.h"\n' >"$tmp/bad/src/base/b.c"
"$check" "$tmp/good" >/dev/null || { echo "FAIL: a clean tree was refused"; exit 1; }
if out=$("$check" "$tmp/bad"); then
  echo "FAIL: an upward include was not caught"
  exit 1
fi
case $out in *"src/base/b.c includes sched/exec.h"*) ;; *) echo "FAIL: message: $out"; exit 1 ;; esac
echo "1 passed, 0 failed"
