#!/bin/sh
# Runs a command and checks its exit status and, optionally, that its stderr or
# stdout matches a pattern (grep -E). Used by CTest for the command-line program.
#   expect.sh STATUS [--stderr REGEX] [--stdout REGEX] [--stderr-lines N] -- COMMAND...
# STATUS "skip-if-no-device" accepts 0, and maps "no OpenCL platform" to a skip (77).
set -u
want=$1; shift
err_re=''; out_re=''; err_lines=''
while [ $# -gt 0 ]; do
  case $1 in
    --stderr) err_re=$2; shift 2 ;;
    --stdout) out_re=$2; shift 2 ;;
    --stderr-lines) err_lines=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "expect.sh: bad option $1" >&2; exit 2 ;;
  esac
done
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
"$@" >"$tmp/out" 2>"$tmp/err"
got=$?
echo "--- stdout"; cat "$tmp/out"; echo "--- stderr"; cat "$tmp/err"; echo "--- exit $got"
if [ "$want" = skip-if-no-device ]; then
  if [ $got -ne 0 ] && grep -q 'no OpenCL platform' "$tmp/err"; then exit 77; fi
  want=0
fi
[ "$got" -eq "$want" ] || { echo "FAIL: exit status $got, expected $want"; exit 1; }
if [ -n "$err_re" ] && ! grep -Eq -- "$err_re" "$tmp/err"; then
  echo "FAIL: stderr does not match /$err_re/"; exit 1
fi
if [ -n "$out_re" ] && ! grep -Eq -- "$out_re" "$tmp/out"; then
  echo "FAIL: stdout does not match /$out_re/"; exit 1
fi
if [ -n "$err_lines" ] && [ "$(wc -l <"$tmp/err")" -ne "$err_lines" ]; then
  echo "FAIL: stderr has $(wc -l <"$tmp/err") lines, expected $err_lines"; exit 1
fi
echo PASS
