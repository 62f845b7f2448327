/* Internal: decoding one UTF-8 sequence by RFC 3629's rules (no overlong forms, no
 * surrogates, nothing above U+10FFFF), shared by the safetensors header check and
 * the command-line program's escaping of text from files. */
#ifndef CLRN_BASE_UTF8_H
#define CLRN_BASE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/** Length (1..4) of the valid UTF-8 sequence at the start of the size bytes at s,
 * with its code point in *code, or 0 when those bytes do not start one (size 0
 * included). */
size_t clrn_utf8_sequence(const unsigned char *s, size_t size, uint32_t *code);

#endif
