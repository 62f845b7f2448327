/* The table columns of the program's text output (tools/clresnet/columns.c): a
 * value that fits is padded to the column's width, a longer one is cut and ends
 * with "…", and UTF-8 characters count as one column each and are never split. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "harness.h"

#define ELLIPSIS "\xE2\x80\xA6"

static void test_columns(void) {
  static const struct {
    const char *text;
    size_t width;
    const char *want;
  } cases[] = {
      {"pocl", 6, "pocl  "},
      {"abcdef", 6, "abcdef"},
      {"", 3, "   "},
      {"abcdefg", 6, "abcde" ELLIPSIS},
      {"pthread-skylake-avx512-Intel(R) Xeon(R) Processor", 12, "pthread-sky" ELLIPSIS},
      /* "Gerät" is 5 characters in 6 bytes: it fits 6 columns with one space... */
      {"Ger\xC3\xA4t", 6, "Ger\xC3\xA4t "},
      /* ... and is cut after the 'ä', never inside it. */
      {"Ger\xC3\xA4te und mehr", 5, "Ger\xC3\xA4" ELLIPSIS},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char out[64];
    cli_column(cases[i].text, cases[i].width, out, sizeof out);
    if (strcmp(out, cases[i].want) != 0)
      fprintf(stderr, "\n'%s' in %zu columns: '%s', expected '%s'\n", cases[i].text, cases[i].width,
              out, cases[i].want);
    CU_ASSERT_STRING_EQUAL(out, cases[i].want);
  }
}

static void test_small_buffer(void) {
  char out[4];
  cli_column("abcdefgh", 6, out, sizeof out);
  CU_ASSERT_EQUAL(strlen(out), 3); /* cut to what fits, still terminated */
}

int main(void) {
  clrn_test_add_suite("columns", NULL, NULL, "columns", test_columns, "small buffer",
                      test_small_buffer, NULL);
  return clrn_test_run();
}
