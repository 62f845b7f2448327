/* Printing text that came from files (metadata, tensor names, file names, and
 * library messages that quote them) without letting it act on the terminal or
 * break JSON: control characters, C1 controls, bidirectional overrides and
 * invalid UTF-8 are shown as escapes instead of being written raw. */
#ifndef CLRN_TOOLS_ESCAPE_H
#define CLRN_TOOLS_ESCAPE_H

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

/** Writes s to f with every byte that could act on a terminal escaped: C0
 * controls and DEL as \xNN (a tab, a newline: \x09, \x0a), C1 controls and the
 * bidirectional controls U+202A..U+202E, U+2066..U+2069 as \uNNNN, and each byte
 * that is not part of valid UTF-8 as \xNN. Printable text, UTF-8 included, is
 * written as it is. */
void cli_put_escaped(FILE *f, const char *s);

/** As cli_put_escaped(), but for multi-line text that is not from files (a
 * kernel build log): newlines and tabs pass, and each line after the first is
 * indented by two spaces, so that no line can pass for one of clresnet's own. */
void cli_put_escaped_lines(FILE *f, const char *s);

/** Formats like vfprintf, then writes the result with cli_put_escaped(). */
void cli_vprint_escaped(FILE *f, const char *fmt, va_list args);

/** Formats, writes the result escaped, then a newline (one line, whatever the
 * arguments hold). */
void cli_print_line(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Writes root as JSON to f, followed by a newline, as valid UTF-8 with no raw
 * control characters: cJSON escapes C0 controls; this also writes DEL, C1 and
 * bidirectional controls as \uNNNN and replaces each invalid UTF-8 byte with
 * \ufffd. Returns false when printing failed (out of memory). */
bool cli_put_json(FILE *f, const cJSON *root);

/** As cli_put_json(), but on one line (a JSON-lines record). */
bool cli_put_json_line(FILE *f, const cJSON *root);

#endif
