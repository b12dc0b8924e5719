/* recommender/w2v_vocab.c: the word2vec corpus of word2vec.h: token checks
 * (non-empty, valid UTF-8, no whitespace or NUL), the vocabulary (strings in
 * one arena, counts, an open-addressing hash table of ids) and the corpus
 * (sentences of token ids: adding sentences, reading and writing the
 * one-sentence-a-line text). */
#include "word2vec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/atomic_file.h"
#include "w2v_impl.h"

/* ------------------------------------------------------------ utilities */

/* Offset of the first invalid UTF-8 byte in s[0..n), or n when valid. */
static size_t utf8_invalid_at(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t need;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else {
            return i;
        }
        if (i + need >= n) return i; /* sequence cut short */
        if (s[i + 1] < lo || s[i + 1] > hi) return i;
        for (size_t k = 2; k <= need; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF) return i;
        i += need + 1;
    }
    return n;
}

/* Check a token: non-empty, valid UTF-8, no whitespace or NUL. Returns 0 when
 * fine, else writes a reason into err and returns -1. */
int duet_w2v_token_check(const char *s, size_t n, duet_err *err, duet_status st)
{
    if (n == 0) {
        duet_err_set(err, st, "empty token");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0 || is_space(c)) {
            duet_err_set(err, st, "token contains %s", c ? "whitespace" : "a NUL byte");
            return -1;
        }
    }
    size_t bad = utf8_invalid_at((const unsigned char *)s, n);
    if (bad < n) {
        duet_err_set(err, st, "token has invalid UTF-8 (byte 0x%02x at offset %zu)",
                     (unsigned char)s[bad], bad);
        return -1;
    }
    return 0;
}

/* --------------------------------------------------------- vocabulary */

void duet_w2v_vocab_free(vocab *v)
{
    free(v->arena);
    free(v->off);
    free(v->len);
    free(v->hash);
    free(v->count);
    free(v->slots);
    memset(v, 0, sizeof *v);
}

static int vocab_rehash(vocab *v, size_t n_slots)
{
    uint32_t *s = calloc(n_slots, sizeof *s);
    if (!s) return -1;
    size_t mask = n_slots - 1;
    for (size_t id = 0; id < v->n; id++) {
        size_t p = (size_t)v->hash[id] & mask;
        while (s[p]) p = (p + 1) & mask;
        s[p] = (uint32_t)(id + 1);
    }
    free(v->slots);
    v->slots = s;
    v->n_slots = n_slots;
    return 0;
}

/* Find or insert; *id receives the index. Returns DUET_OK, NOMEM or RANGE. */
duet_status duet_w2v_vocab_intern(vocab *v, const char *s, size_t n, uint64_t h, size_t *id)
{
    long f = vocab_find(v, s, n, h);
    if (f >= 0) {
        *id = (size_t)f;
        return DUET_OK;
    }
    if (v->n >= W2V_MAX_IDS) return DUET_ERR_RANGE;
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 256;
        size_t *no = realloc(v->off, nc * sizeof *no);
        if (!no) return DUET_ERR_NOMEM;
        v->off = no;
        size_t *nl = realloc(v->len, nc * sizeof *nl);
        if (!nl) return DUET_ERR_NOMEM;
        v->len = nl;
        uint64_t *nh = realloc(v->hash, nc * sizeof *nh);
        if (!nh) return DUET_ERR_NOMEM;
        v->hash = nh;
        uint64_t *ncnt = realloc(v->count, nc * sizeof *ncnt);
        if (!ncnt) return DUET_ERR_NOMEM;
        v->count = ncnt;
        v->cap = nc;
    }
    if (n + 1 > v->arena_cap - v->arena_len || !v->arena) {
        size_t need = v->arena_len + n + 1;
        size_t nc = v->arena_cap ? v->arena_cap : 4096;
        while (nc < need) nc *= 2;
        char *na = realloc(v->arena, nc);
        if (!na) return DUET_ERR_NOMEM;
        v->arena = na;
        v->arena_cap = nc;
    }
    if ((v->n + 1) * 2 > v->n_slots) {
        if (vocab_rehash(v, v->n_slots ? v->n_slots * 2 : 1024)) return DUET_ERR_NOMEM;
    }
    size_t i = v->n;
    memcpy(v->arena + v->arena_len, s, n);
    v->arena[v->arena_len + n] = '\0';
    v->off[i] = v->arena_len;
    v->len[i] = n;
    v->hash[i] = h;
    v->count[i] = 0;
    v->arena_len += n + 1;
    v->n++;
    size_t mask = v->n_slots - 1, p = (size_t)h & mask;
    while (v->slots[p]) p = (p + 1) & mask;
    v->slots[p] = (uint32_t)(i + 1);
    *id = i;
    return DUET_OK;
}

/* -------------------------------------------------------------- corpus */

duet_status duet_w2v_corpus_new(duet_w2v_corpus **out, duet_err *err)
{
    *out = calloc(1, sizeof **out);
    if (!*out) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    return DUET_OK;
}

void duet_w2v_corpus_free(duet_w2v_corpus *c)
{
    if (!c) return;
    duet_w2v_vocab_free(&c->voc);
    free(c->ids);
    free(c->sent_end);
    free(c);
}

size_t duet_w2v_corpus_n_sentences(const duet_w2v_corpus *c) { return c->n_sent; }
size_t duet_w2v_corpus_n_tokens(const duet_w2v_corpus *c) { return c->n_ids; }
size_t duet_w2v_corpus_n_distinct(const duet_w2v_corpus *c)
{
    size_t k = 0;
    for (size_t i = 0; i < c->voc.n; i++) k += c->voc.count[i] > 0;
    return k;
}

static duet_status corpus_push_id(duet_w2v_corpus *c, uint32_t id)
{
    if (c->n_ids == c->cap_ids) {
        size_t nc = c->cap_ids ? c->cap_ids * 2 : 4096;
        uint32_t *n = realloc(c->ids, nc * sizeof *n);
        if (!n) return DUET_ERR_NOMEM;
        c->ids = n;
        c->cap_ids = nc;
    }
    c->ids[c->n_ids++] = id;
    return DUET_OK;
}

static duet_status corpus_end_sentence(duet_w2v_corpus *c)
{
    size_t start = c->n_sent ? c->sent_end[c->n_sent - 1] : 0;
    if (c->n_ids == start) return DUET_OK;
    if (c->n_sent == c->cap_sent) {
        size_t nc = c->cap_sent ? c->cap_sent * 2 : 1024;
        size_t *n = realloc(c->sent_end, nc * sizeof *n);
        if (!n) return DUET_ERR_NOMEM;
        c->sent_end = n;
        c->cap_sent = nc;
    }
    c->sent_end[c->n_sent++] = c->n_ids;
    return DUET_OK;
}

/* Drop the tokens of an unfinished sentence (after an error). */
static void corpus_rollback(duet_w2v_corpus *c)
{
    size_t start = c->n_sent ? c->sent_end[c->n_sent - 1] : 0;
    for (size_t i = start; i < c->n_ids; i++) c->voc.count[c->ids[i]]--;
    c->n_ids = start;
}

static duet_status corpus_add_token(duet_w2v_corpus *c, const char *s, size_t n)
{
    size_t id;
    duet_status st = duet_w2v_vocab_intern(&c->voc, s, n, hash_bytes(s, n), &id);
    if (st) return st;
    st = corpus_push_id(c, (uint32_t)id);
    if (st) return st;
    c->voc.count[id]++;
    return DUET_OK;
}

static duet_status add_status_err(duet_status st, duet_err *err)
{
    if (st == DUET_ERR_RANGE)
        return duet_err_set(err, st, "more than %u distinct tokens", (unsigned)W2V_MAX_IDS);
    return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
}

duet_status duet_w2v_corpus_add_sentence(duet_w2v_corpus *c, const char *const *tokens, size_t n,
                                         duet_err *err)
{
    if (!c || (n && !tokens)) return duet_err_set(err, DUET_ERR_ARG, "NULL corpus or tokens");
    for (size_t i = 0; i < n; i++) {
        if (!tokens[i]) return duet_err_set(err, DUET_ERR_ARG, "token %zu is NULL", i);
        if (duet_w2v_token_check(tokens[i], strlen(tokens[i]), err, DUET_ERR_ARG)) return DUET_ERR_ARG;
    }
    corpus_rollback(c); /* no-op: every sentence is closed */
    for (size_t i = 0; i < n; i++) {
        duet_status st = corpus_add_token(c, tokens[i], strlen(tokens[i]));
        if (st) {
            corpus_rollback(c);
            return add_status_err(st, err);
        }
    }
    duet_status st = corpus_end_sentence(c);
    if (st) {
        corpus_rollback(c);
        return add_status_err(st, err);
    }
    return DUET_OK;
}

duet_status duet_w2v_corpus_read_stream(duet_w2v_corpus *c, FILE *fp, duet_err *err)
{
    enum { CHUNK = 1 << 16 };
    char *chunk = malloc(CHUNK);
    size_t tcap = 256, tlen = 0;
    char *tok = malloc(tcap);
    duet_status st = DUET_OK;
    uint64_t line = 1;
    if (!chunk || !tok) {
        st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (;;) {
        size_t got = fread(chunk, 1, CHUNK, fp);
        if (got == 0 && ferror(fp)) {
            st = duet_err_set(err, DUET_ERR_IO, "read error: %s", strerror(errno));
            goto done;
        }
        int eof = got == 0;
        size_t i = 0;
        for (;;) {
            int boundary = 0, newline = 0;
            if (i < got) {
                unsigned char ch = (unsigned char)chunk[i];
                if (is_space(ch)) {
                    boundary = 1;
                    newline = ch == '\n';
                } else {
                    if (ch == 0) {
                        st = duet_err_set(err, DUET_ERR_FORMAT, "line %llu: NUL byte",
                                          (unsigned long long)line);
                        goto done;
                    }
                    /* copy the run of token bytes in this chunk */
                    size_t j = i;
                    while (j < got && !is_space((unsigned char)chunk[j]) && chunk[j]) j++;
                    size_t run = j - i;
                    if (tlen + run > tcap) {
                        size_t nc = tcap;
                        while (nc < tlen + run) nc *= 2;
                        char *nt = realloc(tok, nc);
                        if (!nt) {
                            st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
                            goto done;
                        }
                        tok = nt;
                        tcap = nc;
                    }
                    memcpy(tok + tlen, chunk + i, run);
                    tlen += run;
                    i = j;
                    continue;
                }
                i++;
            } else if (eof) {
                boundary = newline = 1;
            } else {
                break;
            }
            if (boundary && tlen) {
                size_t bad = utf8_invalid_at((const unsigned char *)tok, tlen);
                if (bad < tlen) {
                    st = duet_err_set(err, DUET_ERR_FORMAT,
                                      "line %llu: invalid UTF-8 (byte 0x%02x)",
                                      (unsigned long long)line, (unsigned char)tok[bad]);
                    goto done;
                }
                st = corpus_add_token(c, tok, tlen);
                if (st) {
                    add_status_err(st, err);
                    goto done;
                }
                tlen = 0;
            }
            if (newline) {
                st = corpus_end_sentence(c);
                if (st) {
                    add_status_err(st, err);
                    goto done;
                }
                line++;
            }
            if (i >= got && eof) goto done;
        }
    }
done:
    if (st) corpus_rollback(c);
    free(chunk);
    free(tok);
    return st;
}

duet_status duet_w2v_corpus_read_file(const char *path, duet_w2v_corpus **out, duet_err *err)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) return duet_err_set(err, DUET_ERR_IO, "cannot open: %s", strerror(errno));
    duet_w2v_corpus *c;
    duet_status st = duet_w2v_corpus_new(&c, err);
    if (!st) st = duet_w2v_corpus_read_stream(c, fp, err);
    fclose(fp);
    if (st) {
        duet_w2v_corpus_free(c);
        return st;
    }
    *out = c;
    return DUET_OK;
}

duet_status duet_w2v_corpus_write_file(const duet_w2v_corpus *c, const char *path, duet_err *err)
{
    duet_atomic_file *af;
    duet_status st = duet_atomic_open(path, &af, err);
    if (st) return st;
    FILE *fp = duet_atomic_fp(af);
    size_t start = 0;
    for (size_t s = 0; s < c->n_sent; s++) {
        for (size_t i = start; i < c->sent_end[s]; i++) {
            if (i > start) fputc(' ', fp);
            fputs(vocab_str(&c->voc, c->ids[i]), fp);
        }
        fputc('\n', fp);
        start = c->sent_end[s];
    }
    if (ferror(fp)) {
        duet_atomic_abort(af);
        return duet_err_set(err, DUET_ERR_IO, "write error");
    }
    return duet_atomic_commit(af, err);
}
