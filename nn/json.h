/* nn/json.h: a small, strict JSON tokenizer (RFC 8259) for schema-directed
 * parsers such as the safetensors header reader.
 *
 * It does not build a tree: the caller walks the text with the functions
 * below, so nesting depth is whatever the caller's grammar allows (no
 * recursion here). Strictness: only the four JSON whitespace bytes, strings
 * must be valid UTF-8 with legal escapes (surrogate pairs combined, lone
 * surrogates and raw control characters rejected, \u0000 rejected because
 * results are C strings), integers follow the JSON grammar (no leading zeros,
 * no sign, fraction or exponent where an unsigned integer is expected) and
 * are range-checked. All state lives in the caller's duet_json; nothing is
 * global. Error messages name the byte offset (pos + base). */
#ifndef DUET_NN_JSON_H
#define DUET_NN_JSON_H

#include <stddef.h>
#include <stdint.h>
#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct duet_json {
    const unsigned char *p; /* the text (not owned, not NUL-terminated) */
    size_t n;               /* its length in bytes */
    size_t pos;             /* current position */
    size_t base;            /* added to positions in error messages */
} duet_json;

/* Start tokenizing `n` bytes at `text`; `base` is the offset of text[0] in
 * the enclosing file (for messages). */
void duet_json_init(duet_json *j, const void *text, size_t n, size_t base);

/* Skip JSON whitespace (space, tab, LF, CR). */
void duet_json_ws(duet_json *j);

/* Skip whitespace, then return the next byte without consuming it, or -1 at
 * the end of the text. */
int duet_json_peek(duet_json *j);

/* Skip whitespace; if the next byte is c, consume it and return 1, else 0. */
int duet_json_accept(duet_json *j, char c);

/* Skip whitespace and require byte c (DUET_ERR_FORMAT naming `what`, the
 * offset and the byte found, otherwise). */
duet_status duet_json_expect(duet_json *j, char c, const char *what, duet_err *err);

/* Skip whitespace and parse a string. On success *out is a malloc'd,
 * NUL-terminated UTF-8 copy with escapes decoded (the caller frees it) and
 * *len its length (optional, may be NULL). Errors: DUET_ERR_FORMAT (not a
 * string, bad escape, invalid UTF-8, control character, \u0000, unterminated),
 * DUET_ERR_NOMEM. *out is NULL on error. */
duet_status duet_json_string(duet_json *j, char **out, size_t *len, duet_err *err);

/* Skip whitespace and parse an unsigned integer (JSON grammar, at most
 * `max`). Errors: DUET_ERR_FORMAT (negative, fraction, exponent, leading
 * zero, not a number), DUET_ERR_RANGE (above max). */
duet_status duet_json_uint(duet_json *j, uint64_t max, uint64_t *out, duet_err *err);

/* 1 when s[0..n) is well-formed UTF-8 (no overlong forms, no surrogates, no
 * code point above U+10FFFF), else 0. */
int duet_json_utf8_valid(const void *s, size_t n);

/* Write s[0..n) as a JSON string literal (with the quotes) into dst, which
 * must hold the returned number of bytes; with dst == NULL only count.
 * Escapes '"', '\\' and control characters the way serde_json and Python's
 * json.dumps(ensure_ascii=False) do (\b \f \n \r \t, others \u00xx); other
 * bytes are copied unchanged. */
size_t duet_json_quote(char *dst, const char *s, size_t n);

#ifdef __cplusplus
}
#endif

#endif
