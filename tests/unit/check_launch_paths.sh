#!/bin/sh
# Checks two rules of the launch path over the sources:
#  - clCreateKernel is called in one place only, the kernel-object cache of
#    src/runtime/context.c (every op takes its kernels from there);
#  - the scheduler (src/sched) calls only the unchecked launchers of
#    src/ops/ops_internal.h, never the public, checked *_enqueue op functions.
# Usage: check_launch_paths.sh SOURCE_DIR   (exit 0: clean; 1: a rule broken)
set -eu
root=${1:-$(dirname "$0")/../..}
bad=0
calls=$(grep -rnE '(^|[^"[:alnum:]_])clCreateKernel[[:space:]]*\(' "$root/src" "$root/tools" "$root/tests" \
  --include='*.c' --include='*.h' | sed "s|^$root/||")
count=$(printf '%s\n' "$calls" | grep -c . || true)
if [ "$count" -ne 1 ] || ! printf '%s\n' "$calls" | grep -q '^src/runtime/context.c:'; then
  echo "clCreateKernel must be called only in the kernel cache (src/runtime/context.c), found:"
  printf '%s\n' "$calls"
  bad=1
fi
ops='conv2d|batchnorm|relu|add|maxpool2d|avgpool2d|adaptive_avgpool2d|linear|softmax'
if checked=$(grep -rnE "\bclrn_($ops)_enqueue[[:space:]]*\(" "$root/src/sched"); then
  echo "src/sched must use the unchecked launchers (ops/ops_internal.h), found:"
  printf '%s\n' "$checked"
  bad=1
fi
[ $bad -eq 0 ] && echo "launch paths: clean"
exit $bad
