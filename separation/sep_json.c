/* separation/sep_json.c: recursive-descent JSON reader (see sep_json.h). */
#include "sep_json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct jp {
    const char *s;
    size_t n, pos;
    duet_err *err;
} jp;

static void ws(jp *p)
{
    while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

static duet_status bad(jp *p, const char *what)
{
    return duet_err_set(p->err, DUET_ERR_FORMAT, "JSON: %s at byte %zu", what, p->pos);
}

static int lit(jp *p, const char *w)
{
    size_t k = strlen(w);
    if (p->pos + k <= p->n && memcmp(p->s + p->pos, w, k) == 0) {
        p->pos += k;
        return 1;
    }
    return 0;
}

static duet_status parse_string(jp *p, char **out)
{
    *out = NULL;
    if (p->pos >= p->n || p->s[p->pos] != '"') return bad(p, "expected a string");
    p->pos++;
    size_t cap = 16, len = 0;
    char *b = malloc(cap);
    if (!b) return duet_err_set(p->err, DUET_ERR_NOMEM, "JSON: out of memory");
    while (1) {
        if (p->pos >= p->n) {
            free(b);
            return bad(p, "unterminated string");
        }
        char c = p->s[p->pos++];
        if (c == '"') break;
        if (c == '\\') {
            if (p->pos >= p->n) {
                free(b);
                return bad(p, "bad escape");
            }
            char e = p->s[p->pos++];
            switch (e) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u':
                /* keep non-ASCII escapes as '?': names here are ASCII */
                if (p->pos + 4 > p->n) {
                    free(b);
                    return bad(p, "bad \\u escape");
                }
                p->pos += 4;
                c = '?';
                break;
            default: c = e; break;
            }
        }
        if (len + 2 > cap) {
            cap *= 2;
            char *nb = realloc(b, cap);
            if (!nb) {
                free(b);
                return duet_err_set(p->err, DUET_ERR_NOMEM, "JSON: out of memory");
            }
            b = nb;
        }
        b[len++] = c;
    }
    b[len] = 0;
    *out = b;
    return DUET_OK;
}

static duet_status parse_value(jp *p, duet_sep_json *v, int depth);

static duet_status push(jp *p, duet_sep_json *v, int *cap)
{
    if (v->n + 1 > *cap) {
        int nc = *cap ? *cap * 2 : 8;
        duet_sep_json *ni = realloc(v->items, sizeof(duet_sep_json) * (size_t)nc);
        if (!ni) return duet_err_set(p->err, DUET_ERR_NOMEM, "JSON: out of memory");
        v->items = ni;
        if (v->type == SJ_OBJ) {
            char **nk = realloc(v->keys, sizeof(char *) * (size_t)nc);
            if (!nk) return duet_err_set(p->err, DUET_ERR_NOMEM, "JSON: out of memory");
            v->keys = nk;
        }
        *cap = nc;
    }
    return DUET_OK;
}

static duet_status parse_value(jp *p, duet_sep_json *v, int depth)
{
    memset(v, 0, sizeof *v);
    if (depth > 64) return bad(p, "nesting too deep");
    ws(p);
    if (p->pos >= p->n) return bad(p, "unexpected end");
    char c = p->s[p->pos];
    duet_status st;
    if (c == '{' || c == '[') {
        int obj = c == '{', cap = 0;
        v->type = obj ? SJ_OBJ : SJ_ARR;
        p->pos++;
        ws(p);
        if (p->pos < p->n && p->s[p->pos] == (obj ? '}' : ']')) {
            p->pos++;
            return DUET_OK;
        }
        while (1) {
            if ((st = push(p, v, &cap))) return st;
            char *key = NULL;
            if (obj) {
                ws(p);
                if ((st = parse_string(p, &key))) return st;
                ws(p);
                if (p->pos >= p->n || p->s[p->pos] != ':') {
                    free(key);
                    return bad(p, "expected ':'");
                }
                p->pos++;
                v->keys[v->n] = key;
            }
            st = parse_value(p, &v->items[v->n], depth + 1);
            v->n++;
            if (st) return st;
            ws(p);
            if (p->pos < p->n && p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            if (p->pos < p->n && p->s[p->pos] == (obj ? '}' : ']')) {
                p->pos++;
                return DUET_OK;
            }
            return bad(p, "expected ',' or a closing bracket");
        }
    }
    if (c == '"') {
        v->type = SJ_STR;
        return parse_string(p, &v->str);
    }
    if (lit(p, "null")) return DUET_OK;
    if (lit(p, "true")) {
        v->type = SJ_BOOL;
        v->num = 1;
        return DUET_OK;
    }
    if (lit(p, "false")) {
        v->type = SJ_BOOL;
        return DUET_OK;
    }
    v->type = SJ_NUM;
    if (lit(p, "NaN")) {
        v->num = NAN;
        return DUET_OK;
    }
    if (lit(p, "Infinity")) {
        v->num = INFINITY;
        return DUET_OK;
    }
    if (lit(p, "-Infinity")) {
        v->num = -INFINITY;
        return DUET_OK;
    }
    char buf[64];
    size_t k = 0;
    while (p->pos + k < p->n && k < sizeof buf - 1 && strchr("+-0123456789.eE", p->s[p->pos + k])) {
        buf[k] = p->s[p->pos + k];
        k++;
    }
    buf[k] = 0;
    char *end;
    if (k == 0) return bad(p, "unexpected character");
    v->num = strtod(buf, &end);
    if (*end) return bad(p, "bad number");
    p->pos += k;
    return DUET_OK;
}

duet_status duet_sep_json_parse(const char *text, size_t n, duet_sep_json *out, duet_err *err)
{
    jp p = {text, n, 0, err};
    duet_status st = parse_value(&p, out, 0);
    if (!st) {
        ws(&p);
        if (p.pos != n) st = bad(&p, "trailing data");
    }
    if (st) duet_sep_json_free(out);
    return st;
}

duet_status duet_sep_json_load(const char *path, duet_sep_json *out, duet_err *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return duet_err_set(err, DUET_ERR_IO, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    while (b) {
        size_t k = fread(b + n, 1, cap - n, f);
        n += k;
        if (n < cap) break;
        cap *= 2;
        char *nb = realloc(b, cap);
        if (!nb) {
            free(b);
            b = NULL;
        } else
            b = nb;
    }
    int rerr = ferror(f);
    fclose(f);
    if (!b) return duet_err_set(err, DUET_ERR_NOMEM, "JSON: out of memory");
    if (rerr) {
        free(b);
        return duet_err_set(err, DUET_ERR_IO, "%s: read error", path);
    }
    duet_status st = duet_sep_json_parse(b, n, out, err);
    free(b);
    return st;
}

void duet_sep_json_free(duet_sep_json *v)
{
    if (!v) return;
    for (int i = 0; i < v->n; i++) {
        if (v->items) duet_sep_json_free(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    memset(v, 0, sizeof *v);
}

const duet_sep_json *duet_sep_json_get(const duet_sep_json *v, const char *key)
{
    if (!v || v->type != SJ_OBJ) return NULL;
    for (int i = 0; i < v->n; i++)
        if (strcmp(v->keys[i], key) == 0) return &v->items[i];
    return NULL;
}

const duet_sep_json *duet_sep_json_at(const duet_sep_json *v, int i)
{
    if (!v || v->type != SJ_ARR || i < 0 || i >= v->n) return NULL;
    return &v->items[i];
}

double duet_sep_json_num(const duet_sep_json *v)
{
    if (!v || v->type != SJ_NUM) return NAN;
    return v->num;
}
