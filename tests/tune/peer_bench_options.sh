#!/bin/sh
# tools/peer-bench without running anything: --help, --dry-run's plan (the CPU named,
# every tool of every configuration, the PyTorch settings), and its usage errors.
set -u
pb=$1
fail() { echo "FAIL: $*"; exit 1; }
out=$("$pb" --help) || fail "--help exited $?"
echo "$out" | grep -q -- "--quick" || fail "--help lacks --quick"
out=$("$pb" --dry-run --quick --clresnet /nonexistent/clresnet) || fail "--dry-run exited $?"
echo "$out" | grep -q "^CPU: " || fail "no CPU line"
[ "$(echo "$out" | grep -c '^resnet50 b8 ')" -eq 3 ] || fail "resnet50 b8 lacks a tool: $out"
[ "$(echo "$out" | grep -c '^resnet18 b1 ')" -eq 3 ] || fail "resnet18 b1 lacks a tool: $out"
echo "$out" | grep -q "GLIBC_TUNABLES=glibc.malloc.mmap_threshold" || fail "no GLIBC_TUNABLES"
echo "$out" | grep -q "bench -m resnet50 -b 8" || fail "no clresnet bench command"
out=$("$pb" --dry-run -m resnet18,resnet152 -b 1,8 --tools clresnet) || fail "subset exited $?"
[ "$(echo "$out" | grep -c ' clresnet: ')" -eq 4 ] || fail "subset: $out"
"$pb" --rounds 2 --dry-run >/dev/null 2>&1
[ $? -eq 2 ] || fail "--rounds 2 is not a usage error"
"$pb" --tools nosuchtool --dry-run >/dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown tool is not a usage error"
echo "peer_bench_options: ok"
