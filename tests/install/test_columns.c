/* The table columns of the program's text output (tools/clresnet/columns.c): a
 * value that fits is padded to the column's width, a longer one is cut and ends
 * with "…", and UTF-8 characters count as one column each and are never split. */
#include <string.h>

#include "cli.h"
#include "harness.h"

static void test_fits(void) {
  char out[64];
  cli_column("pocl", 6, out, sizeof out);
  CU_ASSERT_STRING_EQUAL(out, "pocl  ");
  cli_column("abcdef", 6, out, sizeof out);
  CU_ASSERT_STRING_EQUAL(out, "abcdef");
  cli_column("", 3, out, sizeof out);
  CU_ASSERT_STRING_EQUAL(out, "   ");
}

static void test_cut(void) {
  char out[64];
  cli_column("pthread-skylake-avx512-Intel(R) Xeon(R) Processor", 12, out, sizeof out);
  CU_ASSERT_STRING_EQUAL(out, "pthread-sky\xE2\x80\xA6");
  cli_column("abcdefg", 6, out, sizeof out);
  CU_ASSERT_STRING_EQUAL(out, "abcde\xE2\x80\xA6");
}

static void test_utf8(void) {
  char out[64];
  /* "Gerät" is 5 characters (6 bytes): it fits 6 columns with one space. */
  cli_column("Ger\xC3\xA4t", 6, out, sizeof out);
  CU_ASSERT_STRING_EQUAL(out, "Ger\xC3\xA4t ");
  /* Cut after the 'ä', never inside it. */
  cli_column("Ger\xC3\xA4te und mehr", 5, out, sizeof out);
  CU_ASSERT_STRING_EQUAL(out, "Ger\xC3\xA4\xE2\x80\xA6");
}

static void test_small_buffer(void) {
  char out[4];
  cli_column("abcdefgh", 6, out, sizeof out);
  CU_ASSERT_EQUAL(strlen(out), 3); /* cut to what fits, still terminated */
}

int main(void) {
  clrn_test_add_suite("columns", NULL, NULL, "fits", test_fits, "cut", test_cut, "utf8",
                      test_utf8, "small buffer", test_small_buffer, NULL);
  return clrn_test_run();
}
