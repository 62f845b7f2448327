#!/bin/sh
# The sanitizer suite: builds clresnet with AddressSanitizer and
# UndefinedBehaviorSanitizer (CMake option CLRN_SANITIZE) and runs the unit, I/O,
# weights, ops and device suites under them. Any error stops the program
# (-fno-sanitize-recover) and fails its test. Leak reports from the OpenCL drivers
# are separated from clresnet's own by tests/sanitizers/lsan.supp (see there).
# Usage: tests/sanitizers/run.sh [BUILD_DIR]   (default build-asan)
set -eu
cd "$(dirname "$0")/../.."
build=${1:-build-asan}
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$build" -DCLRN_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j"$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:verify_asan_link_order=0
# use_tls=0: LeakSanitizer's scan of thread-local storage intermittently crashes (gcc 12 and
# clang 14 runtimes, glibc 2.36) while PoCL's worker threads run at exit; clresnet keeps
# nothing only in thread-local storage (see src/base/error.c), so nothing is hidden.
export LSAN_OPTIONS=suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0:use_tls=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The resident-set tests (test_rss, cli_dataset_memory) run in the plain build only:
# AddressSanitizer keeps freed memory in quarantine, so RSS says nothing there. So do
# the mpirun tests (label mpi): Open MPI's own components, loaded with dlopen, leave
# allocations at exit that LeakSanitizer cannot name a library for, so no
# suppression can tell them from clresnet's.
ctest --test-dir "$build" --output-on-failure -j"$jobs" -L 'unit|io|export|ops|device' \
  -LE 'oclgrind|network|multidevice|fuzz|mpi' -E '^(test_rss|cli_dataset_memory)$'
