/* nn/json.c: the strict JSON tokenizer of json.h. Grammar from RFC 8259
 * (sections 2, 6, 7); UTF-8 well-formedness from RFC 3629 section 4 (the
 * table of legal byte sequences). */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void duet_json_init(duet_json *j, const void *text, size_t n, size_t base)
{
    j->p = text;
    j->n = n;
    j->pos = 0;
    j->base = base;
}

void duet_json_ws(duet_json *j)
{
    while (j->pos < j->n) {
        unsigned char c = j->p[j->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        j->pos++;
    }
}

int duet_json_peek(duet_json *j)
{
    duet_json_ws(j);
    return j->pos < j->n ? j->p[j->pos] : -1;
}

int duet_json_accept(duet_json *j, char c)
{
    if (duet_json_peek(j) == (unsigned char)c) {
        j->pos++;
        return 1;
    }
    return 0;
}

/* Describe the byte at the current position for a message. */
static void describe_here(const duet_json *j, char *buf, size_t cap)
{
    if (j->pos >= j->n) {
        snprintf(buf, cap, "end of header");
        return;
    }
    unsigned char c = j->p[j->pos];
    if (c >= 0x21 && c < 0x7f)
        snprintf(buf, cap, "'%c'", c);
    else
        snprintf(buf, cap, "byte 0x%02x", c);
}

duet_status duet_json_expect(duet_json *j, char c, const char *what, duet_err *err)
{
    if (duet_json_accept(j, c)) return DUET_OK;
    char here[32];
    describe_here(j, here, sizeof here);
    return duet_err_set(err, DUET_ERR_FORMAT, "expected %s at byte %zu, found %s", what,
                        j->base + j->pos, here);
}

/* Length of the well-formed UTF-8 sequence at s[0..n), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf; /* legal range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) lo = 0xa0;      /* no overlong */
        else if (c == 0xed) hi = 0x9f; /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) lo = 0x90;      /* no overlong */
        else if (c == 0xf4) hi = 0x8f; /* <= U+10FFFF */
    } else {
        return 0;
    }
    if (n < len) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf) return 0;
    return len;
}

int duet_json_utf8_valid(const void *s, size_t n)
{
    const unsigned char *p = s;
    size_t i = 0;
    while (i < n) {
        size_t k = utf8_seq(p + i, n - i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

static int hex4(const unsigned char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
        else return 0;
        v = v * 16 + d;
    }
    *out = v;
    return 1;
}

static size_t put_utf8(unsigned char *d, unsigned cp)
{
    if (cp < 0x80) {
        d[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (unsigned char)(0xc0 | (cp >> 6));
        d[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (unsigned char)(0xe0 | (cp >> 12));
        d[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        d[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    d[0] = (unsigned char)(0xf0 | (cp >> 18));
    d[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    d[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    d[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

duet_status duet_json_string(duet_json *j, char **out, size_t *len, duet_err *err)
{
    *out = NULL;
    if (len) *len = 0;
    duet_status st = duet_json_expect(j, '"', "a string", err);
    if (st) return st;
    size_t start = j->pos;
    /* First pass: find the closing quote and validate; the decoded string is
     * never longer than the raw text (every escape shrinks or keeps size). */
    size_t i = start;
    while (i < j->n && j->p[i] != '"') {
        if (j->p[i] == '\\') i++; /* skip the escaped byte (validated below) */
        i++;
    }
    if (i >= j->n)
        return duet_err_set(err, DUET_ERR_FORMAT, "unterminated string starting at byte %zu",
                            j->base + start - 1);
    size_t raw = i - start;
    unsigned char *d = malloc(raw + 1);
    if (!d) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    size_t o = 0;
    i = start;
    while (j->p[i] != '"') {
        unsigned char c = j->p[i];
        if (c < 0x20) {
            free(d);
            return duet_err_set(err, DUET_ERR_FORMAT,
                                "raw control character 0x%02x in a string at byte %zu", c,
                                j->base + i);
        }
        if (c != '\\') {
            size_t k = utf8_seq(j->p + i, j->n - i);
            if (!k) {
                free(d);
                return duet_err_set(err, DUET_ERR_FORMAT, "invalid UTF-8 in a string at byte %zu",
                                    j->base + i);
            }
            memcpy(d + o, j->p + i, k);
            o += k;
            i += k;
            continue;
        }
        size_t esc = i;
        unsigned char e = j->p[i + 1]; /* exists: the scan found a closing quote after it */
        i += 2;
        switch (e) {
        case '"': d[o++] = '"'; break;
        case '\\': d[o++] = '\\'; break;
        case '/': d[o++] = '/'; break;
        case 'b': d[o++] = '\b'; break;
        case 'f': d[o++] = '\f'; break;
        case 'n': d[o++] = '\n'; break;
        case 'r': d[o++] = '\r'; break;
        case 't': d[o++] = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (j->n - i < 4 || !hex4(j->p + i, &cp)) goto bad_escape;
            i += 4;
            if (cp >= 0xdc00 && cp <= 0xdfff) goto bad_surrogate;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (j->n - i < 6 || j->p[i] != '\\' || j->p[i + 1] != 'u' ||
                    !hex4(j->p + i + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
                    goto bad_surrogate;
                i += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            if (cp == 0) {
                free(d);
                return duet_err_set(err, DUET_ERR_FORMAT,
                                    "\\u0000 (NUL) in a string at byte %zu is not supported",
                                    j->base + esc);
            }
            o += put_utf8(d + o, cp);
            break;
        }
        default:
            goto bad_escape;
        }
        continue;
    bad_escape:
        free(d);
        return duet_err_set(err, DUET_ERR_FORMAT, "invalid escape in a string at byte %zu",
                            j->base + esc);
    bad_surrogate:
        free(d);
        return duet_err_set(err, DUET_ERR_FORMAT,
                            "unpaired UTF-16 surrogate escape in a string at byte %zu",
                            j->base + esc);
    }
    /* An escaped quote could have fooled the first scan only if the escape
     * itself was the last byte before i; the loop above ends at the real
     * closing quote, which is at or before the scanned one. */
    j->pos = i + 1;
    d[o] = '\0';
    *out = (char *)d;
    if (len) *len = o;
    return DUET_OK;
}

duet_status duet_json_uint(duet_json *j, uint64_t max, uint64_t *out, duet_err *err)
{
    *out = 0;
    int c = duet_json_peek(j);
    size_t at = j->base + j->pos;
    if (c == '-') {
        /* say "negative" only when a number follows */
        if (j->pos + 1 < j->n && j->p[j->pos + 1] >= '0' && j->p[j->pos + 1] <= '9')
            return duet_err_set(err, DUET_ERR_FORMAT, "negative number at byte %zu", at);
    }
    if (c < '0' || c > '9') {
        char here[32];
        describe_here(j, here, sizeof here);
        return duet_err_set(err, DUET_ERR_FORMAT,
                            "expected a non-negative integer at byte %zu, found %s", at, here);
    }
    uint64_t v = 0;
    size_t i = j->pos;
    int overflow = 0;
    if (j->p[i] == '0' && i + 1 < j->n && j->p[i + 1] >= '0' && j->p[i + 1] <= '9')
        return duet_err_set(err, DUET_ERR_FORMAT, "number with a leading zero at byte %zu", at);
    while (i < j->n && j->p[i] >= '0' && j->p[i] <= '9') {
        unsigned dgt = (unsigned)(j->p[i] - '0');
        if (v > (UINT64_MAX - dgt) / 10) overflow = 1;
        else v = v * 10 + dgt;
        i++;
    }
    if (i < j->n && (j->p[i] == '.' || j->p[i] == 'e' || j->p[i] == 'E'))
        return duet_err_set(err, DUET_ERR_FORMAT, "expected an integer at byte %zu, found a fraction or exponent", at);
    if (overflow || v > max)
        return duet_err_set(err, DUET_ERR_RANGE, "integer at byte %zu is too large (limit %llu)",
                            at, (unsigned long long)max);
    j->pos = i;
    *out = v;
    return DUET_OK;
}

size_t duet_json_quote(char *dst, const char *s, size_t n)
{
    static const char hexd[] = "0123456789abcdef";
    size_t o = 0;
#define PUT(ch) do { if (dst) dst[o] = (char)(ch); o++; } while (0)
    PUT('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': PUT('\\'); PUT('"'); break;
        case '\\': PUT('\\'); PUT('\\'); break;
        case '\b': PUT('\\'); PUT('b'); break;
        case '\f': PUT('\\'); PUT('f'); break;
        case '\n': PUT('\\'); PUT('n'); break;
        case '\r': PUT('\\'); PUT('r'); break;
        case '\t': PUT('\\'); PUT('t'); break;
        default:
            if (c < 0x20) {
                PUT('\\'); PUT('u'); PUT('0'); PUT('0');
                PUT(hexd[c >> 4]); PUT(hexd[c & 15]);
            } else {
                PUT(c);
            }
        }
    }
    PUT('"');
#undef PUT
    return o;
}
