#!/bin/sh
# Runs a test program under Oclgrind with its checks on (API errors, out-of-bounds
# accesses, data races, uninitialized values) and fails when the program fails or
# Oclgrind reports anything. Oclgrind replaces every OpenCL platform, so the test
# runs on the simulator. Usage: oclgrind_run.sh PROGRAM [ARGS...]
# (Oclgrind's --log option drops kernel errors in the Debian build, so its
# messages are taken from the program's output instead.)
set -u
command -v oclgrind >/dev/null 2>&1 || { echo "oclgrind not installed: skipping"; exit 77; }
out=$(mktemp) || exit 2
trap 'rm -f "$out"' EXIT
oclgrind --check-api --data-races --uninitialized --max-errors 20 "$@" >"$out" 2>&1
status=$?
cat "$out"
pattern='Invalid (read|write)|data race|Uninitialized|Oclgrind - OpenCL runtime error|divergence|Kernel execution|Unaligned|Invalid access'
if grep -Eiq "$pattern" "$out"; then
  echo "--- FAIL: Oclgrind reported errors (above)"
  exit 1
fi
exit $status
