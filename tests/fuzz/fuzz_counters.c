/* The bounds of libFuzzer's inline 8-bit coverage counters (the linker's
 * __start_/__stop___sancov_cntrs), for a fuzz target whose code under test runs in
 * a forked child and must copy the child's counts back (fuzz_h5). Compiled without
 * coverage instrumentation (tests.cmake): in an instrumented file, naming these
 * symbols clashes with the instrumentation's own references to them, and libFuzzer
 * then registers no counters at all. */
#include <stddef.h>
#include <stdint.h>

uint8_t *clrn_fuzz_counters(size_t *count);

extern uint8_t __start___sancov_cntrs[] __attribute__((weak, visibility("hidden")));
extern uint8_t __stop___sancov_cntrs[] __attribute__((weak, visibility("hidden")));

/** The counters and their number (NULL and 0 when the program has none). */
uint8_t *clrn_fuzz_counters(size_t *count) {
  *count = __start___sancov_cntrs && __stop___sancov_cntrs > __start___sancov_cntrs
               ? (size_t)(__stop___sancov_cntrs - __start___sancov_cntrs)
               : 0;
  return *count ? __start___sancov_cntrs : NULL;
}
