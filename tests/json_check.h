/* tests/json_check.h: a strict JSON checker for the CLI tests (RFC 8259
 * grammar: objects, arrays, strings with their escapes and valid UTF-8,
 * numbers, true/false/null) and a decoder of one string value, so tests can
 * check that duet's JSON output parses and that escaped strings come back
 * as written. No dependencies beyond libc. */
#ifndef DUET_TESTS_JSON_CHECK_H
#define DUET_TESTS_JSON_CHECK_H

#include <stdio.h>
#include <string.h>

static inline const char *jc_value(const char *p, int depth);

static inline const char *jc_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

static inline int jc_hex(int c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/* Length of the valid UTF-8 sequence at p, or 0. */
static inline int jc_utf8(const unsigned char *p)
{
    unsigned c = p[0], cp;
    int n;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) n = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef) n = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4) n = 4, cp = c & 0x07;
    else return 0;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static inline const char *jc_string(const char *p)
{
    if (*p != '"') return NULL;
    p++;
    while (*p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c == 0 || c < 0x20) return NULL;
        if (c == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!jc_hex(p[i])) return NULL;
                p += 5;
            } else if (*p && strchr("\"\\/bfnrt", *p)) {
                p++;
            } else {
                return NULL;
            }
        } else {
            int n = jc_utf8((const unsigned char *)p);
            if (!n) return NULL;
            p += n;
        }
    }
    return p + 1;
}

static inline const char *jc_number(const char *p)
{
    if (*p == '-') p++;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9') p++;
    else return NULL;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9')) return NULL;
        while (*p >= '0' && *p <= '9') p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return NULL;
        while (*p >= '0' && *p <= '9') p++;
    }
    return p;
}

static inline const char *jc_value(const char *p, int depth)
{
    if (depth > 64) return NULL;
    p = jc_ws(p);
    if (*p == '{') {
        p = jc_ws(p + 1);
        if (*p == '}') return p + 1;
        for (;;) {
            p = jc_string(jc_ws(p));
            if (!p) return NULL;
            p = jc_ws(p);
            if (*p != ':') return NULL;
            p = jc_value(p + 1, depth + 1);
            if (!p) return NULL;
            p = jc_ws(p);
            if (*p == '}') return p + 1;
            if (*p != ',') return NULL;
            p++;
        }
    }
    if (*p == '[') {
        p = jc_ws(p + 1);
        if (*p == ']') return p + 1;
        for (;;) {
            p = jc_value(p, depth + 1);
            if (!p) return NULL;
            p = jc_ws(p);
            if (*p == ']') return p + 1;
            if (*p != ',') return NULL;
            p++;
        }
    }
    if (*p == '"') return jc_string(p);
    if (!strncmp(p, "true", 4)) return p + 4;
    if (!strncmp(p, "false", 5)) return p + 5;
    if (!strncmp(p, "null", 4)) return p + 4;
    return jc_number(p);
}

/* 1 when s[0..len) is exactly one JSON value (whitespace around it allowed). */
static inline int json_valid(const char *s)
{
    const char *e = jc_value(s, 0);
    return e && *jc_ws(e) == '\0';
}

/* Decode the string value that follows the first `"key": ` in json into
 * out (UTF-8; \uXXXX below U+10000 encoded as UTF-8). 1 on success. */
static inline int json_string_after(const char *json, const char *key, char *out, size_t n)
{
    char pat[256];
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    const char *p = strstr(json, pat);
    if (!p || n == 0) return 0;
    p += strlen(pat);
    size_t k = 0;
    while (*p && *p != '"' && k + 4 < n) {
        if (*p != '\\') {
            out[k++] = *p++;
            continue;
        }
        p++;
        unsigned cp;
        switch (*p) {
        case 'n': cp = '\n'; break;
        case 't': cp = '\t'; break;
        case 'r': cp = '\r'; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'u':
            if (sscanf(p + 1, "%4x", &cp) != 1) return 0;
            p += 4;
            break;
        default: cp = (unsigned char)*p; break;
        }
        p++;
        if (cp < 0x80) out[k++] = (char)cp;
        else if (cp < 0x800) {
            out[k++] = (char)(0xc0 | (cp >> 6));
            out[k++] = (char)(0x80 | (cp & 0x3f));
        } else {
            out[k++] = (char)(0xe0 | (cp >> 12));
            out[k++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            out[k++] = (char)(0x80 | (cp & 0x3f));
        }
    }
    out[k] = '\0';
    return *p == '"';
}

#endif
