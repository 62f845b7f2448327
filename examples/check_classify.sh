#!/bin/sh
# CTest check of examples/classify: it prints five classes, each "  P%  INDEX  NAME",
# and, when the clresnet program is given, exactly the lines `clresnet run` prints.
#   check_classify.sh CLASSIFY WEIGHTS PHOTO [CLRESNET]
set -u
classify=$1 weights=$2 photo=$3 cli=${4:-}
out=$("$classify" "$weights" "$photo" 2>&1)
status=$?
printf '%s\n' "$out"
if [ $status -ne 0 ]; then
  case $out in *"no OpenCL platform"*) exit 77 ;; esac
  echo "FAIL: classify exited $status"; exit 1
fi
lines=$(printf '%s\n' "$out" | grep -cE '^ +[0-9]+\.[0-9]{2}% +[0-9]+  [^ ].*[^ ]$')
[ "$lines" -eq 5 ] || { echo "FAIL: $lines of 5 lines look like a class"; exit 1; }
if [ -n "$cli" ]; then
  want=$("$cli" run -q -k 5 -w "$weights" "$photo" | tail -n +2)
  [ "$out" = "$want" ] || { printf 'FAIL: clresnet run prints\n%s\n' "$want"; exit 1; }
fi
echo PASS
