/* recommender/word2vec.c: word2vec training (skip-gram / CBOW with negative
 * sampling), word2vec text/binary vector files, nearest neighbours and
 * content vectors. See word2vec.h for the algorithm, its constants (from
 * Mikolov et al. 2013 and the original word2vec.c: unigram^0.75, subsampling
 * formula, 1000-entry sigmoid table over [-6, 6], learning rate updated every
 * 10,000 tokens; from gensim 4: no update for saturated scores, initial
 * vectors uniform in [-1, 1) / dim) and the reasoning behind the lock-free threads. */
#include "word2vec.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../common/atomic_file.h"
#include "../common/mem.h"
#include "../common/progress.h"
#include "../common/rng.h"

#define W2V_MAX_DIM 100000
#define W2V_MAX_IDS 0xFFFFFFFEu
#define W2V_EXP_TABLE 1000
#define W2V_MAX_EXP 6.0f
#define W2V_ALPHA_EVERY 10000

/* ------------------------------------------------------------ utilities */

static uint64_t hash_bytes(const char *s, size_t n)
{
    /* FNV-1a, then a splitmix finaliser for well-mixed low bits. */
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

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
static int token_check(const char *s, size_t n, duet_err *err, duet_status st)
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

/* Strings in one arena (offsets, so the arena may move), a count per token
 * and an open-addressing hash table of ids (slot value id + 1; 0 = empty). */
typedef struct vocab {
    char *arena;
    size_t arena_len, arena_cap;
    size_t *off;
    size_t *len;
    uint64_t *hash;
    uint64_t *count;
    size_t n, cap;
    uint32_t *slots;
    size_t n_slots; /* power of two */
} vocab;

static void vocab_free(vocab *v)
{
    free(v->arena);
    free(v->off);
    free(v->len);
    free(v->hash);
    free(v->count);
    free(v->slots);
    memset(v, 0, sizeof *v);
}

static const char *vocab_str(const vocab *v, size_t i) { return v->arena + v->off[i]; }

static long vocab_find(const vocab *v, const char *s, size_t n, uint64_t h)
{
    if (!v->n_slots) return -1;
    size_t mask = v->n_slots - 1;
    for (size_t p = (size_t)h & mask;; p = (p + 1) & mask) {
        uint32_t e = v->slots[p];
        if (!e) return -1;
        size_t id = e - 1;
        if (v->hash[id] == h && v->len[id] == n && memcmp(vocab_str(v, id), s, n) == 0)
            return (long)id;
    }
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
static duet_status vocab_intern(vocab *v, const char *s, size_t n, uint64_t h, size_t *id)
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

struct duet_w2v_corpus {
    vocab voc;
    uint32_t *ids;
    size_t n_ids, cap_ids;
    size_t *sent_end; /* sentence s covers ids[sent_end[s-1] .. sent_end[s]) */
    size_t n_sent, cap_sent;
};

duet_status duet_w2v_corpus_new(duet_w2v_corpus **out, duet_err *err)
{
    *out = calloc(1, sizeof **out);
    if (!*out) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    return DUET_OK;
}

void duet_w2v_corpus_free(duet_w2v_corpus *c)
{
    if (!c) return;
    vocab_free(&c->voc);
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
    duet_status st = vocab_intern(&c->voc, s, n, hash_bytes(s, n), &id);
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
        if (token_check(tokens[i], strlen(tokens[i]), err, DUET_ERR_ARG)) return DUET_ERR_ARG;
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

/* ------------------------------------------------------ schedules, tables */

void duet_w2v_params_default(duet_w2v_params *p)
{
    memset(p, 0, sizeof *p);
    p->dim = 64;
    p->window = 5;
    p->negative = 5;
    p->sample = 1e-3;
    p->min_count = 1;
    p->epochs = 5;
    p->alpha = 0.025;
    p->min_alpha = 1e-4;
    p->threads = 1;
    p->seed = 1;
}

double duet_w2v_learning_rate(double alpha0, double min_alpha, uint64_t done, uint64_t total)
{
    double frac = total ? (double)done / (double)total : 1.0;
    if (frac > 1) frac = 1;
    double a = alpha0 - (alpha0 - min_alpha) * frac;
    return a < min_alpha ? min_alpha : a;
}

double duet_w2v_keep_probability(uint64_t count, uint64_t total, double sample)
{
    if (!(sample > 0) || count == 0) return 1.0;
    double t = sample * (double)total, c = (double)count;
    double p = (sqrt(c / t) + 1.0) * t / c;
    return p > 1.0 ? 1.0 : p;
}

/* Column c: keep c when the low 32 random bits are < thr (UINT32_MAX =
 * always), else return alias. Packed in one array so a draw touches one
 * cache line. */
typedef struct alias_entry {
    uint32_t thr, alias;
} alias_entry;

struct duet_w2v_negative_table {
    size_t n;
    alias_entry *e;
};

void duet_w2v_negative_table_free(duet_w2v_negative_table *t)
{
    if (!t) return;
    free(t->e);
    free(t);
}

duet_status duet_w2v_negative_table_new(const uint64_t *counts, size_t n, double power,
                                        duet_w2v_negative_table **out, duet_err *err)
{
    *out = NULL;
    if (n == 0 || n > W2V_MAX_IDS || !isfinite(power))
        return duet_err_set(err, DUET_ERR_ARG, "negative table: bad size or power");
    double *p = malloc(n * sizeof *p);
    size_t *small = malloc(n * sizeof *small), *large = malloc(n * sizeof *large);
    duet_w2v_negative_table *t = calloc(1, sizeof *t);
    if (t) t->e = malloc(n * sizeof *t->e);
    if (!p || !small || !large || !t || !t->e) {
        free(p);
        free(small);
        free(large);
        duet_w2v_negative_table_free(t);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    t->n = n;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        p[i] = counts[i] ? pow((double)counts[i], power) : 0.0;
        sum += p[i];
    }
    if (!(sum > 0) || !isfinite(sum)) {
        free(p);
        free(small);
        free(large);
        duet_w2v_negative_table_free(t);
        return duet_err_set(err, DUET_ERR_ARG, "negative table: all counts are zero");
    }
    /* Vose's alias method: scale to mean 1, pair each under-full column with
     * an over-full donor. */
    size_t ns = 0, nl = 0;
    for (size_t i = 0; i < n; i++) {
        p[i] = p[i] / sum * (double)n;
        if (p[i] < 1.0) small[ns++] = i;
        else large[nl++] = i;
    }
    while (ns && nl) {
        size_t s = small[--ns], l = large[nl - 1];
        double v = ldexp(p[s], 32);
        t->e[s].thr = v >= 4294967295.0 ? UINT32_MAX : (uint32_t)v;
        t->e[s].alias = (uint32_t)l;
        p[l] -= 1.0 - p[s];
        if (p[l] < 1.0) {
            nl--;
            small[ns++] = l;
        }
    }
    while (nl) {
        size_t l = large[--nl];
        t->e[l].thr = UINT32_MAX;
        t->e[l].alias = (uint32_t)l;
    }
    while (ns) { /* rounding leftovers: full columns */
        size_t s = small[--ns];
        t->e[s].thr = UINT32_MAX;
        t->e[s].alias = (uint32_t)s;
    }
    free(p);
    free(small);
    free(large);
    *out = t;
    return DUET_OK;
}

static inline uint32_t neg_draw(const alias_entry *e, size_t n, uint64_t bits)
{
    uint32_t col = (uint32_t)(((bits >> 32) * (uint64_t)n) >> 32);
    uint32_t u = (uint32_t)bits;
    alias_entry a = e[col];
    return (a.thr == UINT32_MAX || u < a.thr) ? col : a.alias;
}

uint32_t duet_w2v_negative_table_draw(const duet_w2v_negative_table *t, uint64_t bits)
{
    return neg_draw(t->e, t->n, bits);
}

double duet_w2v_negative_table_prob(const duet_w2v_negative_table *t, size_t i)
{
    double p = 0;
    for (size_t c = 0; c < t->n; c++) {
        double own = t->e[c].thr == UINT32_MAX ? 1.0 : ldexp((double)t->e[c].thr, -32);
        if (c == i) p += own;
        if (t->e[c].alias == i && c != i) p += 1.0 - own;
    }
    return p / (double)t->n;
}

/* ------------------------------------------------------------- vectors */

struct duet_w2v_vectors {
    vocab voc;
    size_t dim;
    float *vec;  /* n x dim */
    float *norm; /* n */
};

size_t duet_w2v_vectors_count(const duet_w2v_vectors *v) { return v->voc.n; }
size_t duet_w2v_vectors_dim(const duet_w2v_vectors *v) { return v->dim; }
const char *duet_w2v_vectors_token(const duet_w2v_vectors *v, size_t i) { return vocab_str(&v->voc, i); }
uint64_t duet_w2v_vectors_token_count(const duet_w2v_vectors *v, size_t i) { return v->voc.count[i]; }
const float *duet_w2v_vectors_row(const duet_w2v_vectors *v, size_t i) { return v->vec + i * v->dim; }
float duet_w2v_vectors_norm(const duet_w2v_vectors *v, size_t i) { return v->norm[i]; }

long duet_w2v_vectors_find(const duet_w2v_vectors *v, const char *token)
{
    if (!token) return -1;
    size_t n = strlen(token);
    return vocab_find(&v->voc, token, n, hash_bytes(token, n));
}

void duet_w2v_vectors_free(duet_w2v_vectors *v)
{
    if (!v) return;
    vocab_free(&v->voc);
    free(v->vec);
    free(v->norm);
    free(v);
}

/* Memory for a weight matrix (freed with free()): large matrices get
 * transparent huge pages (common/mem.h), since training touches rows all
 * over the matrix and with 4 KiB pages the TLB misses cost as much as the
 * arithmetic. */
static void *weights_alloc(size_t bytes) { return duet_alloc_large(bytes); }

static duet_status vectors_alloc(size_t n, size_t dim, duet_w2v_vectors **out)
{
    duet_w2v_vectors *v = calloc(1, sizeof *v);
    if (!v) return DUET_ERR_NOMEM;
    v->dim = dim;
    if (n > SIZE_MAX / sizeof(float) / dim) {
        free(v);
        return DUET_ERR_NOMEM;
    }
    v->vec = weights_alloc(n * dim * sizeof *v->vec);
    v->norm = malloc(n * sizeof *v->norm);
    if (!v->vec || !v->norm) {
        duet_w2v_vectors_free(v);
        return DUET_ERR_NOMEM;
    }
    *out = v;
    return DUET_OK;
}

static void vectors_compute_norms(duet_w2v_vectors *v)
{
    for (size_t i = 0; i < v->voc.n; i++) {
        const float *r = v->vec + i * v->dim;
        double s = 0;
        for (size_t d = 0; d < v->dim; d++) s += (double)r[d] * r[d];
        v->norm[i] = (float)sqrt(s);
    }
}

duet_status duet_w2v_vectors_from_arrays(const char *const *tokens, const float *rows, size_t n,
                                         size_t dim, duet_w2v_vectors **out, duet_err *err)
{
    *out = NULL;
    if (!n || !dim || !tokens || !rows)
        return duet_err_set(err, DUET_ERR_ARG, "need at least one token and dim >= 1");
    if (dim > W2V_MAX_DIM) return duet_err_set(err, DUET_ERR_ARG, "dim %zu too large", dim);
    if (n > W2V_MAX_IDS) return duet_err_set(err, DUET_ERR_RANGE, "too many tokens");
    for (size_t i = 0; i < n * dim; i++)
        if (!isfinite(rows[i]))
            return duet_err_set(err, DUET_ERR_NAN, "non-finite value in row %zu", i / dim);
    duet_w2v_vectors *v;
    if (vectors_alloc(n, dim, &v)) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        size_t len = tokens[i] ? strlen(tokens[i]) : 0;
        duet_err why;
        duet_err_clear(&why);
        if (!tokens[i] || token_check(tokens[i], len, &why, DUET_ERR_ARG)) {
            duet_w2v_vectors_free(v);
            return duet_err_set(err, DUET_ERR_ARG, "token %zu: %.400s", i,
                                tokens[i] ? why.msg : "NULL");
        }
        uint64_t h = hash_bytes(tokens[i], len);
        if (vocab_find(&v->voc, tokens[i], len, h) >= 0) {
            duet_w2v_vectors_free(v);
            return duet_err_set(err, DUET_ERR_FORMAT, "duplicate token '%s'", tokens[i]);
        }
        size_t id;
        if (vocab_intern(&v->voc, tokens[i], len, h, &id)) {
            duet_w2v_vectors_free(v);
            return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        }
    }
    memcpy(v->vec, rows, n * dim * sizeof *rows);
    vectors_compute_norms(v);
    *out = v;
    return DUET_OK;
}

/* ------------------------------------------------------------ training */

/* Small inline generator for the hot loop (splitmix64; seeded per thread
 * from duet_rng so the run depends only on the seed). */
static inline uint64_t fast_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

typedef struct trainer {
    size_t dim;
    int window, negative, cbow, shuffle, threads, epochs;
    double alpha0, min_alpha;
    size_t vocab_n;
    float *syn0, *syn1;
    const uint32_t *ids;      /* in-vocabulary ids, dropped tokens removed */
    const size_t *sent_end;   /* as in duet_w2v_corpus */
    size_t n_sent;
    const size_t *chunk_start; /* threads + 1 sentence indices */
    const uint32_t *keep_thr;  /* subsampling: keep when u32 < thr; UINT32_MAX = always */
    const alias_entry *neg;
    uint64_t total_words;      /* epochs * tokens */
    _Atomic uint64_t words_done;
    _Atomic uint64_t trained;
    float exp_table[W2V_EXP_TABLE];
    double start_s;
    void (*progress)(void *ctx, const duet_w2v_progress_info *info);
    void *progress_ctx;
} trainer;

typedef struct worker_state {
    uint64_t rng;
    uint32_t *buf; /* kept tokens of one sentence */
    float *neu1, *neu1e;
    uint32_t *negs; /* 2 x negative: negatives of the current and the next pair */
    int neg_cur;
} worker_state;

static inline float sigmoid_tab(const float *tab, float f)
{
    int k = (int)((f + W2V_MAX_EXP) * ((float)W2V_EXP_TABLE / W2V_MAX_EXP / 2.0f));
    if (k < 0) k = 0;
    if (k >= W2V_EXP_TABLE) k = W2V_EXP_TABLE - 1;
    return tab[k];
}

/* Vector kernels. With GCC/Clang they use generic vector extensions, which
 * the compiler maps to AVX2 inside the AVX2 clone of the worker below and to
 * SSE elsewhere; a plain loop otherwise. */
#if defined(__GNUC__)
#define W2V_INLINE static inline __attribute__((always_inline))
typedef float w2v_v8 __attribute__((vector_size(32)));

W2V_INLINE float k_dot(const float *a, const float *b, size_t n)
{
    w2v_v8 acc0 = {0, 0, 0, 0, 0, 0, 0, 0}, acc1 = acc0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        w2v_v8 x0, y0, x1, y1;
        memcpy(&x0, a + i, sizeof x0);
        memcpy(&y0, b + i, sizeof y0);
        memcpy(&x1, a + i + 8, sizeof x1);
        memcpy(&y1, b + i + 8, sizeof y1);
        acc0 += x0 * y0;
        acc1 += x1 * y1;
    }
    for (; i + 8 <= n; i += 8) {
        w2v_v8 x0, y0;
        memcpy(&x0, a + i, sizeof x0);
        memcpy(&y0, b + i, sizeof y0);
        acc0 += x0 * y0;
    }
    acc0 += acc1;
    float s = ((acc0[0] + acc0[4]) + (acc0[1] + acc0[5])) + ((acc0[2] + acc0[6]) + (acc0[3] + acc0[7]));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

/* y += a * x */
W2V_INLINE void k_axpy(float *y, float a, const float *x, size_t n)
{
    w2v_v8 av = {a, a, a, a, a, a, a, a};
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        w2v_v8 xv, yv;
        memcpy(&xv, x + i, sizeof xv);
        memcpy(&yv, y + i, sizeof yv);
        yv += av * xv;
        memcpy(y + i, &yv, sizeof yv);
    }
    for (; i < n; i++) y[i] += a * x[i];
}
#else
#define W2V_INLINE static inline
static inline float k_dot(const float *a, const float *b, size_t n)
{
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    float s = (s0 + s1) + (s2 + s3);
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}
static inline void k_axpy(float *y, float a, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] += a * x[i];
}
#endif

#if defined(__GNUC__)
#define W2V_PREFETCH(p) __builtin_prefetch((p), 1, 3)
#else
#define W2V_PREFETCH(p) ((void)0)
#endif

/* Draw the negatives of the next (input, centre) pair into `next` and start
 * loading their output rows: the rows are scattered over the whole output
 * matrix, so without this the loop waits on memory most of the time. */
W2V_INLINE void draw_next_negatives(trainer *t, worker_state *ws, uint32_t *next)
{
    size_t dim = t->dim;
    for (int d = 0; d < t->negative; d++) {
        uint32_t target = neg_draw(t->neg, t->vocab_n, fast_next(&ws->rng));
        next[d] = target;
        const float *row = t->syn1 + (size_t)target * dim;
        for (size_t off = 0; off < dim; off += 16) W2V_PREFETCH(row + off);
    }
}

/* One (input vector l1, centre token w) negative-sampling step with the
 * negatives drawn beforehand: updates the output rows and accumulates the
 * input gradient into neu1e (+=). */
W2V_INLINE void ns_step(trainer *t, worker_state *ws, const float *l1, uint32_t w, float alpha)
{
    size_t dim = t->dim;
    float *neu1e = ws->neu1e;
    uint32_t *cur = ws->negs + (size_t)ws->neg_cur * (size_t)t->negative;
    ws->neg_cur ^= 1;
    draw_next_negatives(t, ws, ws->negs + (size_t)ws->neg_cur * (size_t)t->negative);
    for (int d = 0; d <= t->negative; d++) {
        uint32_t target;
        float label;
        if (d == 0) {
            target = w;
            label = 1.0f;
        } else {
            target = cur[d - 1];
            if (target == w) continue;
            label = 0.0f;
        }
        float *l2 = t->syn1 + (size_t)target * dim;
        float f = k_dot(l1, l2, dim);
        if (f >= W2V_MAX_EXP || f <= -W2V_MAX_EXP) continue; /* saturated: no update */
        float g = (label - sigmoid_tab(t->exp_table, f)) * alpha;
        k_axpy(neu1e, g, l2, dim);
        k_axpy(l2, g, l1, dim);
    }
}

static void report_progress(trainer *t, uint64_t done, double alpha)
{
    if (!t->progress) return;
    duet_w2v_progress_info info;
    info.tokens_done = done;
    info.fraction = t->total_words ? (double)done / (double)t->total_words : 1.0;
    if (info.fraction > 1) info.fraction = 1;
    info.alpha = alpha;
    info.elapsed_s = duet_now() - t->start_s;
    info.tokens_per_s = info.elapsed_s > 0 ? (double)done / info.elapsed_s : 0;
    t->progress(t->progress_ctx, &info);
}

W2V_INLINE void worker_body(trainer *t, worker_state *ws, size_t chunk, int report)
{
    size_t dim = t->dim;
    size_t s0 = t->chunk_start[chunk], s1 = t->chunk_start[chunk + 1];
    float alpha = (float)t->alpha0;
    uint64_t pending = 0, trained = 0;
    ws->neg_cur = 0;
    draw_next_negatives(t, ws, ws->negs);
    for (int ep = 0; ep < t->epochs; ep++) {
        for (size_t s = s0; s < s1; s++) {
            size_t a = s ? t->sent_end[s - 1] : 0, b = t->sent_end[s];
            size_t m = 0;
            for (size_t i = a; i < b; i++) {
                uint32_t w = t->ids[i];
                uint32_t thr = t->keep_thr[w];
                if (thr != UINT32_MAX && (uint32_t)(fast_next(&ws->rng) >> 32) >= thr) continue;
                ws->buf[m++] = w;
            }
            pending += b - a;
            if (pending >= W2V_ALPHA_EVERY) {
                uint64_t done = atomic_fetch_add(&t->words_done, pending) + pending;
                pending = 0;
                alpha = (float)duet_w2v_learning_rate(t->alpha0, t->min_alpha, done, t->total_words);
                if (report) report_progress(t, done, alpha);
            }
            if (t->shuffle)
                for (size_t i = m; i > 1; i--) {
                    size_t j = (size_t)(((fast_next(&ws->rng) >> 32) * (uint64_t)i) >> 32);
                    uint32_t tmp = ws->buf[i - 1];
                    ws->buf[i - 1] = ws->buf[j];
                    ws->buf[j] = tmp;
                }
            trained += m;
            for (size_t pos = 0; pos < m; pos++) {
                uint32_t w = ws->buf[pos];
                size_t bsh = (size_t)(((fast_next(&ws->rng) >> 32) * (uint64_t)t->window) >> 32);
                size_t reach = (size_t)t->window - bsh;
                size_t lo = pos > reach ? pos - reach : 0;
                size_t hi = pos + reach < m - 1 ? pos + reach : m - 1;
                if (!t->cbow) {
                    for (size_t c = lo; c <= hi; c++) {
                        if (c == pos) continue;
                        float *l1 = t->syn0 + (size_t)ws->buf[c] * dim;
                        memset(ws->neu1e, 0, dim * sizeof(float));
                        ns_step(t, ws, l1, w, alpha);
                        k_axpy(l1, 1.0f, ws->neu1e, dim);
                    }
                } else {
                    size_t cw = hi - lo;
                    if (cw == 0) continue;
                    memset(ws->neu1, 0, dim * sizeof(float));
                    for (size_t c = lo; c <= hi; c++)
                        if (c != pos) k_axpy(ws->neu1, 1.0f, t->syn0 + (size_t)ws->buf[c] * dim, dim);
                    float inv = 1.0f / (float)cw;
                    for (size_t d = 0; d < dim; d++) ws->neu1[d] *= inv;
                    memset(ws->neu1e, 0, dim * sizeof(float));
                    ns_step(t, ws, ws->neu1, w, alpha);
                    for (size_t c = lo; c <= hi; c++)
                        if (c != pos) k_axpy(t->syn0 + (size_t)ws->buf[c] * dim, 1.0f, ws->neu1e, dim);
                }
            }
        }
    }
    if (pending) atomic_fetch_add(&t->words_done, pending);
    atomic_fetch_add(&t->trained, trained);
}

/* The workers run on a private copy of their state: the states of all
 * threads sit side by side in one array, and the generator is written on
 * every draw. */
static void worker_generic(trainer *t, worker_state *ws, size_t chunk, int report)
{
    worker_state local = *ws;
    worker_body(t, &local, chunk, report);
    *ws = local;
}

#if defined(__GNUC__) && defined(__x86_64__)
#define W2V_HAVE_AVX2 1
__attribute__((target("avx2,fma"))) static void worker_avx2(trainer *t, worker_state *ws,
                                                            size_t chunk, int report)
{
    worker_state local = *ws;
    worker_body(t, &local, chunk, report);
    *ws = local;
}
#endif

static int use_avx2(void)
{
#ifdef W2V_HAVE_AVX2
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

static duet_status check_params(const duet_w2v_params *p, duet_err *err)
{
    if (p->dim == 0) return duet_err_set(err, DUET_ERR_ARG, "dim must be at least 1");
    if (p->dim > W2V_MAX_DIM)
        return duet_err_set(err, DUET_ERR_ARG, "dim %zu is over the limit %d", p->dim, W2V_MAX_DIM);
    if (p->window < 1) return duet_err_set(err, DUET_ERR_ARG, "window must be at least 1");
    if (p->negative < 1) return duet_err_set(err, DUET_ERR_ARG, "negative must be at least 1");
    if (p->epochs < 1) return duet_err_set(err, DUET_ERR_ARG, "epochs must be at least 1");
    if (p->threads < 1) return duet_err_set(err, DUET_ERR_ARG, "threads must be at least 1");
    if (!(p->alpha > 0) || !isfinite(p->alpha))
        return duet_err_set(err, DUET_ERR_ARG, "alpha must be positive and finite");
    if (!(p->min_alpha >= 0) || p->min_alpha > p->alpha)
        return duet_err_set(err, DUET_ERR_ARG, "min_alpha must be in [0, alpha]");
    if (!(p->sample >= 0) || !isfinite(p->sample))
        return duet_err_set(err, DUET_ERR_ARG, "sample must be >= 0");
    return DUET_OK;
}

typedef struct sort_item {
    uint64_t count;
    uint32_t id;
} sort_item;

static int cmp_sort_item(const void *a, const void *b)
{
    const sort_item *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

duet_status duet_w2v_train(const duet_w2v_corpus *corpus, const duet_w2v_params *params, duet_w2v_vectors **out,
                           duet_w2v_train_stats *stats, duet_err *err)
{
    *out = NULL;
    duet_w2v_params defp;
    if (!params) {
        duet_w2v_params_default(&defp);
        params = &defp;
    }
    duet_status st = check_params(params, err);
    if (st) return st;
    if (!corpus || corpus->n_ids == 0) return duet_err_set(err, DUET_ERR_EMPTY, "corpus has no tokens");
    const vocab *cv = &corpus->voc;
    size_t dim = params->dim;
    uint64_t min_count = params->min_count ? params->min_count : 1;

    /* Vocabulary: kept tokens by count, descending. */
    sort_item *items = malloc((cv->n ? cv->n : 1) * sizeof *items);
    uint32_t *remap = malloc((cv->n ? cv->n : 1) * sizeof *remap);
    size_t V = 0;
    duet_w2v_vectors *vec = NULL;
    uint32_t *ids = NULL, *keep = NULL, *bufs = NULL, *negbuf = NULL;
    size_t *sent_end = NULL, *chunk_start = NULL;
    float *syn1 = NULL, *scratch = NULL;
    duet_w2v_negative_table *neg = NULL;
    worker_state *ws = NULL;
    trainer *t = NULL;
    if (!items || !remap) goto nomem;
    for (size_t i = 0; i < cv->n; i++)
        if (cv->count[i] >= min_count) items[V++] = (sort_item){cv->count[i], (uint32_t)i};
    if (V == 0) {
        st = duet_err_set(err, DUET_ERR_EMPTY, "no token occurs at least %llu times",
                          (unsigned long long)min_count);
        goto fail;
    }
    if (V == 1) {
        st = duet_err_set(err, DUET_ERR_RANGE,
                          "the vocabulary has a single token ('%s'); word2vec needs at least 2",
                          vocab_str(cv, items[0].id));
        goto fail;
    }
    qsort(items, V, sizeof *items, cmp_sort_item);
    for (size_t i = 0; i < cv->n; i++) remap[i] = UINT32_MAX;
    for (size_t i = 0; i < V; i++) remap[items[i].id] = (uint32_t)i;

    if (vectors_alloc(V, dim, &vec)) goto nomem;
    for (size_t i = 0; i < V; i++) {
        size_t id, o = items[i].id;
        if (vocab_intern(&vec->voc, vocab_str(cv, o), cv->len[o], cv->hash[o], &id)) goto nomem;
        vec->voc.count[id] = items[i].count;
    }

    /* Token stream without dropped tokens; empty sentences removed. */
    ids = malloc(corpus->n_ids * sizeof *ids);
    sent_end = malloc((corpus->n_sent ? corpus->n_sent : 1) * sizeof *sent_end);
    if (!ids || !sent_end) goto nomem;
    size_t n_ids = 0, n_sent = 0, max_len = 0, start = 0;
    for (size_t s = 0; s < corpus->n_sent; s++) {
        size_t before = n_ids;
        for (size_t i = start; i < corpus->sent_end[s]; i++) {
            uint32_t r = remap[corpus->ids[i]];
            if (r != UINT32_MAX) ids[n_ids++] = r;
        }
        start = corpus->sent_end[s];
        if (n_ids > before) {
            sent_end[n_sent++] = n_ids;
            if (n_ids - before > max_len) max_len = n_ids - before;
        }
    }

    /* Subsampling thresholds and the negative table. */
    keep = malloc(V * sizeof *keep);
    uint64_t *counts = malloc(V * sizeof *counts);
    if (!keep || !counts) {
        free(counts);
        goto nomem;
    }
    for (size_t i = 0; i < V; i++) {
        counts[i] = items[i].count;
        double p = duet_w2v_keep_probability(items[i].count, (uint64_t)n_ids, params->sample);
        keep[i] = p >= 1.0 ? UINT32_MAX : (uint32_t)ldexp(p, 32);
    }
    st = duet_w2v_negative_table_new(counts, V, 0.75, &neg, err);
    free(counts);
    if (st) goto fail;

    /* Weights: input rows uniform in [-1, 1)/dim seeded per token. */
    syn1 = weights_alloc(V * dim * sizeof *syn1);
    if (!syn1) goto nomem;
    memset(syn1, 0, V * dim * sizeof *syn1);
    for (size_t i = 0; i < V; i++) {
        uint64_t s = vec->voc.hash[i] ^ (params->seed * 0x9e3779b97f4a7c15ULL);
        float *row = vec->vec + i * dim;
        for (size_t d = 0; d < dim; d++)
            row[d] = ((float)(fast_next(&s) >> 40) * (2.0f / 16777216.0f) - 1.0f) / (float)dim;
    }

    /* Threads: contiguous chunks of about equal token counts. */
    int T = params->threads;
    chunk_start = malloc(((size_t)T + 1) * sizeof *chunk_start);
    t = calloc(1, sizeof *t);
    ws = calloc((size_t)T, sizeof *ws);
    /* Per-thread scratch in separate 64-byte lines (no false sharing). */
    size_t buf_n = (max_len + 15) / 16 * 16, scr_n = (2 * dim + 15) / 16 * 16,
           neg_n = (2 * (size_t)params->negative + 15) / 16 * 16;
    if (posix_memalign((void **)&bufs, 64, (size_t)T * buf_n * sizeof *bufs)) bufs = NULL;
    if (posix_memalign((void **)&scratch, 64, (size_t)T * scr_n * sizeof *scratch)) scratch = NULL;
    if (posix_memalign((void **)&negbuf, 64, (size_t)T * neg_n * sizeof *negbuf)) negbuf = NULL;
    if (!chunk_start || !t || !ws || !bufs || !scratch || !negbuf) goto nomem;
    chunk_start[0] = 0;
    {
        size_t s = 0;
        for (int k = 1; k < T; k++) {
            uint64_t target = (uint64_t)n_ids * (uint64_t)k / (uint64_t)T;
            while (s < n_sent && sent_end[s] <= target) s++;
            chunk_start[k] = s;
        }
        chunk_start[T] = n_sent;
    }
    duet_rng rng;
    duet_rng_seed(&rng, params->seed);
    for (int k = 0; k < T; k++) {
        ws[k].rng = duet_rng_u64(&rng);
        ws[k].buf = bufs + (size_t)k * buf_n;
        ws[k].neu1 = scratch + (size_t)k * scr_n;
        ws[k].neu1e = ws[k].neu1 + dim;
        ws[k].negs = negbuf + (size_t)k * neg_n;
    }
    t->dim = dim;
    t->window = params->window;
    t->negative = params->negative;
    t->cbow = params->cbow;
    t->shuffle = params->shuffle;
    t->threads = T;
    t->epochs = params->epochs;
    t->alpha0 = params->alpha;
    t->min_alpha = params->min_alpha;
    t->vocab_n = V;
    t->syn0 = vec->vec;
    t->syn1 = syn1;
    t->ids = ids;
    t->sent_end = sent_end;
    t->n_sent = n_sent;
    t->chunk_start = chunk_start;
    t->keep_thr = keep;
    t->neg = neg->e;
    t->total_words = (uint64_t)n_ids * (uint64_t)params->epochs;
    atomic_init(&t->words_done, 0);
    atomic_init(&t->trained, 0);
    for (int i = 0; i < W2V_EXP_TABLE; i++) {
        double x = ((double)i / W2V_EXP_TABLE * 2.0 - 1.0) * W2V_MAX_EXP;
        t->exp_table[i] = (float)(1.0 / (1.0 + exp(-x)));
    }
    t->progress = params->progress;
    t->progress_ctx = params->progress_ctx;
    t->start_s = duet_now();
    int avx2 = use_avx2();

#pragma omp parallel num_threads(T)
    {
        int me = 0, nth = 1;
#ifdef _OPENMP
        me = omp_get_thread_num();
        nth = omp_get_num_threads();
#endif
        for (int k = me; k < T; k += nth) {
#ifdef W2V_HAVE_AVX2
            if (avx2) worker_avx2(t, &ws[k], (size_t)k, k == 0);
            else
#endif
                worker_generic(t, &ws[k], (size_t)k, k == 0);
        }
    }
    (void)avx2;
    double secs = duet_now() - t->start_s;
    report_progress(t, t->total_words, params->min_alpha);

    for (size_t i = 0; i < V * dim; i++)
        if (!isfinite(vec->vec[i])) {
            st = duet_err_set(err, DUET_ERR_NAN, "training diverged (non-finite weights); lower alpha");
            goto fail;
        }
    vectors_compute_norms(vec);
    if (stats) {
        stats->vocab_size = V;
        stats->corpus_tokens = n_ids;
        stats->trained_tokens = atomic_load(&t->trained);
        stats->seconds = secs;
    }
    *out = vec;
    vec = NULL;
    st = DUET_OK;
    goto cleanup;
nomem:
    st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
fail:
cleanup:
    duet_w2v_vectors_free(vec);
    free(items);
    free(remap);
    free(ids);
    free(sent_end);
    free(keep);
    duet_w2v_negative_table_free(neg);
    free(syn1);
    free(chunk_start);
    free(t);
    free(ws);
    free(bufs);
    free(scratch);
    free(negbuf);
    return st;
}

/* ------------------------------------------------------------- file I/O */

static int host_is_le(void)
{
    uint16_t x = 1;
    unsigned char b;
    memcpy(&b, &x, 1);
    return b == 1;
}

duet_status duet_w2v_vectors_save(const duet_w2v_vectors *v, const char *path, duet_w2v_format fmt,
                                  duet_err *err)
{
    if (fmt != W2V_FORMAT_TEXT && fmt != W2V_FORMAT_BINARY)
        return duet_err_set(err, DUET_ERR_ARG, "choose text or binary output");
    duet_atomic_file *af;
    duet_status st = duet_atomic_open(path, &af, err);
    if (st) return st;
    FILE *fp = duet_atomic_fp(af);
    int le = host_is_le();
    fprintf(fp, "%zu %zu\n", v->voc.n, v->dim);
    for (size_t i = 0; i < v->voc.n && !ferror(fp); i++) {
        const float *r = v->vec + i * v->dim;
        fputs(vocab_str(&v->voc, i), fp);
        if (fmt == W2V_FORMAT_TEXT) {
            for (size_t d = 0; d < v->dim; d++) fprintf(fp, " %.9g", (double)r[d]);
        } else {
            fputc(' ', fp);
            if (le) {
                fwrite(r, sizeof *r, v->dim, fp);
            } else {
                for (size_t d = 0; d < v->dim; d++) {
                    unsigned char b[4], o[4];
                    memcpy(b, &r[d], 4);
                    o[0] = b[3];
                    o[1] = b[2];
                    o[2] = b[1];
                    o[3] = b[0];
                    fwrite(o, 1, 4, fp);
                }
            }
        }
        fputc('\n', fp);
    }
    if (ferror(fp)) {
        duet_atomic_abort(af);
        return duet_err_set(err, DUET_ERR_IO, "write error");
    }
    return duet_atomic_commit(af, err);
}

static duet_status read_all(const char *path, char **data, size_t *size, duet_err *err)
{
    *data = NULL;
    *size = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return duet_err_set(err, DUET_ERR_IO, "cannot open: %s", strerror(errno));
    size_t cap = 1 << 16, n = 0;
    struct stat sb;
    if (fstat(fileno(fp), &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0)
        cap = (size_t)sb.st_size + 1;
    char *buf = malloc(cap + 1);
    if (!buf) {
        fclose(fp);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory (file of %zu bytes)", cap);
    }
    for (;;) {
        if (n == cap) {
            size_t nc = cap * 2;
            char *nb = realloc(buf, nc + 1);
            if (!nb) {
                free(buf);
                fclose(fp);
                return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
            }
            buf = nb;
            cap = nc;
        }
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0) {
            if (ferror(fp)) {
                int e = errno;
                free(buf);
                fclose(fp);
                return duet_err_set(err, DUET_ERR_IO, "read error: %s", strerror(e));
            }
            break;
        }
    }
    fclose(fp);
    buf[n] = '\0';
    *data = buf;
    *size = n;
    return DUET_OK;
}

static int parse_size(const char *buf, size_t size, size_t *pos, uint64_t *out)
{
    size_t p = *pos;
    uint64_t v = 0;
    size_t start = p;
    while (p < size && buf[p] >= '0' && buf[p] <= '9') {
        if (v > (UINT64_MAX - 9) / 10) return -1;
        v = v * 10 + (uint64_t)(buf[p] - '0');
        p++;
    }
    if (p == start) return -1;
    *pos = p;
    *out = v;
    return 0;
}

static int is_text_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E' ||
           c == ' ' || c == '\t' || c == '\r' || c == '\n' || strchr("nNaAiIfFtTyY", c) != NULL;
}

/* Parse n records of dim values from buf[p..size) in format fmt (TEXT or
 * BINARY) into new vectors *out (NULL on error); the norms are computed. */
static duet_status parse_records(const char *buf, size_t size, size_t p, size_t n, size_t dim,
                                 duet_w2v_format fmt, duet_w2v_vectors **out, duet_err *err)
{
    duet_w2v_vectors *v;
    *out = NULL;
    if (vectors_alloc(n, dim, &v)) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    duet_status st;
    int le = host_is_le();
    for (size_t i = 0; i < n; i++) {
        while (p < size && (buf[p] == '\n' || (fmt == W2V_FORMAT_TEXT && is_space((unsigned char)buf[p]))))
            p++;
        if (p >= size) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "file ends after %zu of %llu declared vectors", i,
                              (unsigned long long)n);
            goto fail;
        }
        size_t ts = p;
        while (p < size && buf[p] != ' ' && buf[p] != '\n' && buf[p] != '\t') p++;
        if (p >= size || buf[p] == '\n') {
            st = duet_err_set(err, DUET_ERR_FORMAT, "record %zu: token without values", i + 1);
            goto fail;
        }
        size_t tl = p - ts;
        duet_err why;
        duet_err_clear(&why);
        if (token_check(buf + ts, tl, &why, DUET_ERR_FORMAT)) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "record %zu: %.400s", i + 1, why.msg);
            goto fail;
        }
        uint64_t h = hash_bytes(buf + ts, tl);
        if (vocab_find(&v->voc, buf + ts, tl, h) >= 0) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "record %zu: duplicate token '%.*s'", i + 1,
                              (int)(tl > 200 ? 200 : tl), buf + ts);
            goto fail;
        }
        size_t id;
        if (vocab_intern(&v->voc, buf + ts, tl, h, &id)) {
            st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
            goto fail;
        }
        v->voc.count[id] = 0;
        float *row = v->vec + i * dim;
        if (fmt == W2V_FORMAT_BINARY) {
            p++; /* the space */
            if (size - p < 4 * dim) {
                st = duet_err_set(err, DUET_ERR_FORMAT,
                                  "record %zu: truncated (needs %llu bytes of floats, %zu left)",
                                  i + 1, (unsigned long long)(4 * dim), size - p);
                goto fail;
            }
            for (size_t d = 0; d < dim; d++) {
                unsigned char b[4];
                memcpy(b, buf + p + 4 * d, 4);
                if (!le) {
                    unsigned char x = b[0];
                    b[0] = b[3];
                    b[3] = x;
                    x = b[1];
                    b[1] = b[2];
                    b[2] = x;
                }
                memcpy(&row[d], b, 4);
            }
            p += 4 * dim;
        } else {
            for (size_t d = 0; d < dim; d++) {
                while (p < size && (buf[p] == ' ' || buf[p] == '\t')) p++;
                if (p >= size || buf[p] == '\n' || buf[p] == '\r') {
                    st = duet_err_set(err, DUET_ERR_FORMAT, "record %zu: %zu values, expected %llu",
                                      i + 1, d, (unsigned long long)dim);
                    goto fail;
                }
                char *end;
                errno = 0;
                /* strtof would skip a VT or FF and then a line end */
                float x = is_space((unsigned char)buf[p]) ? 0.0f : strtof(buf + p, &end);
                if (is_space((unsigned char)buf[p]) || end == buf + p || (end < buf + size && !is_space((unsigned char)*end))) {
                    st = duet_err_set(err, DUET_ERR_FORMAT, "record %zu: value %zu is not a number",
                                      i + 1, d + 1);
                    goto fail;
                }
                row[d] = x;
                p = (size_t)(end - buf);
            }
            while (p < size && (buf[p] == ' ' || buf[p] == '\t' || buf[p] == '\r')) p++;
            if (p < size && buf[p] != '\n') {
                st = duet_err_set(err, DUET_ERR_FORMAT, "record %zu: more than %llu values", i + 1,
                                  (unsigned long long)dim);
                goto fail;
            }
        }
        for (size_t d = 0; d < dim; d++)
            if (!isfinite(row[d])) {
                st = duet_err_set(err, DUET_ERR_NAN, "record %zu: non-finite value", i + 1);
                goto fail;
            }
    }
    while (p < size && is_space((unsigned char)buf[p])) p++;
    if (p < size) {
        st = duet_err_set(err, DUET_ERR_FORMAT, "data after the %llu declared vectors",
                          (unsigned long long)n);
        goto fail;
    }
    vectors_compute_norms(v);
    *out = v;
    return DUET_OK;
fail:
    duet_w2v_vectors_free(v);
    return st;
}

duet_status duet_w2v_vectors_load(const char *path, duet_w2v_format fmt, duet_w2v_vectors **out,
                                  duet_err *err)
{
    *out = NULL;
    char *buf;
    size_t size;
    duet_status st = read_all(path, &buf, &size, err);
    if (st) return st;
    duet_w2v_vectors *v = NULL;
    size_t p = 0;
    uint64_t n, dim;
    if (size == 0) {
        st = duet_err_set(err, DUET_ERR_EMPTY, "empty file");
        goto out;
    }
    while (p < size && (buf[p] == ' ' || buf[p] == '\t')) p++;
    if (parse_size(buf, size, &p, &n)) {
        st = duet_err_set(err, DUET_ERR_FORMAT, "header: expected '<count> <dim>'");
        goto out;
    }
    while (p < size && (buf[p] == ' ' || buf[p] == '\t')) p++;
    if (parse_size(buf, size, &p, &dim)) {
        st = duet_err_set(err, DUET_ERR_FORMAT, "header: expected '<count> <dim>'");
        goto out;
    }
    while (p < size && (buf[p] == ' ' || buf[p] == '\t' || buf[p] == '\r')) p++;
    if (p >= size || buf[p] != '\n') {
        st = duet_err_set(err, DUET_ERR_FORMAT, "header: expected '<count> <dim>' and a newline");
        goto out;
    }
    p++;
    if (n == 0 || dim == 0) {
        st = duet_err_set(err, DUET_ERR_FORMAT, "header declares %llu vectors of dim %llu",
                          (unsigned long long)n, (unsigned long long)dim);
        goto out;
    }
    if (dim > W2V_MAX_DIM) {
        st = duet_err_set(err, DUET_ERR_RANGE, "dim %llu is over the limit %d",
                          (unsigned long long)dim, W2V_MAX_DIM);
        goto out;
    }
    /* Smallest record: text "t v v ...\n" = 2 * (dim + 1) bytes, binary
     * "t " + 4 * dim bytes; refuse headers the file cannot hold before
     * allocating anything. */
    {
        uint64_t min_rec = 2 + 2 * dim < 2 + 4 * dim ? 2 + 2 * dim : 2 + 4 * dim;
        if (n > (uint64_t)(size - p) / (min_rec - 1) + 1 || n > W2V_MAX_IDS) {
            st = duet_err_set(err, DUET_ERR_RANGE,
                              "header declares %llu vectors of dim %llu but the file has only %zu bytes",
                              (unsigned long long)n, (unsigned long long)dim, size);
            goto out;
        }
    }
    if (fmt == W2V_FORMAT_AUTO) {
        /* Guess from the first record: text when the bytes after the first
         * token, up to the end of its line (at most 4 * dim bytes), look like
         * numbers; then fall back to the other format when the guess does not
         * parse (a binary row can look like text, a text row of few values
         * is shorter than 4 * dim bytes, a hex float does not look like
         * text). */
        size_t q = p;
        while (q < size && buf[q] != ' ' && buf[q] != '\n') q++;
        q++;
        size_t look = 4 * (size_t)dim, textlike = 1;
        for (size_t k = 0; k < look && q + k < size && buf[q + k] != '\n'; k++)
            if (!is_text_byte((unsigned char)buf[q + k])) {
                textlike = 0;
                break;
            }
        duet_w2v_format first = textlike ? W2V_FORMAT_TEXT : W2V_FORMAT_BINARY;
        st = parse_records(buf, size, p, (size_t)n, (size_t)dim, first, &v, err);
        if (st == DUET_ERR_FORMAT || st == DUET_ERR_NAN) {
            duet_err e2;
            duet_err_clear(&e2);
            duet_w2v_format other = first == W2V_FORMAT_TEXT ? W2V_FORMAT_BINARY : W2V_FORMAT_TEXT;
            if (parse_records(buf, size, p, (size_t)n, (size_t)dim, other, &v, &e2) == DUET_OK)
                st = DUET_OK;
        }
    } else {
        st = parse_records(buf, size, p, (size_t)n, (size_t)dim, fmt, &v, err);
    }
    if (st) goto out;
    *out = v;
    v = NULL;
    st = DUET_OK;
out:
    duet_w2v_vectors_free(v);
    free(buf);
    return st;
}

/* ------------------------------------------------------------ queries */

float duet_w2v_vectors_cosine(const duet_w2v_vectors *v, size_t i, size_t j)
{
    float ni = v->norm[i], nj = v->norm[j];
    if (ni == 0 || nj == 0) return 0.0f;
    return k_dot(v->vec + i * v->dim, v->vec + j * v->dim, v->dim) / (ni * nj);
}

/* Min-heap on similarity of the current top k. */
static void heap_sift_down(long *idx, float *sim, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && sim[l] < sim[m]) m = l;
        if (r < n && sim[r] < sim[m]) m = r;
        if (m == i) return;
        float ts = sim[i];
        sim[i] = sim[m];
        sim[m] = ts;
        long ti = idx[i];
        idx[i] = idx[m];
        idx[m] = ti;
        i = m;
    }
}

duet_status duet_w2v_vectors_most_similar(const duet_w2v_vectors *v, const float *query,
                                          const long *exclude, size_t n_exclude, size_t k,
                                          long *idx, float *sim, size_t *n_out, duet_err *err)
{
    if (n_out) *n_out = 0;
    if (!v || !query || !idx || !sim || !n_out || k == 0)
        return duet_err_set(err, DUET_ERR_ARG, "most_similar: NULL argument or k = 0");
    double qn = 0;
    for (size_t d = 0; d < v->dim; d++) {
        if (!isfinite(query[d])) return duet_err_set(err, DUET_ERR_NAN, "query is not finite");
        qn += (double)query[d] * query[d];
    }
    if (qn == 0) return duet_err_set(err, DUET_ERR_RANGE, "query vector has norm 0");
    float qinv = (float)(1.0 / sqrt(qn));
    size_t h = 0;
    for (size_t i = 0; i < v->voc.n; i++) {
        int skip = 0;
        for (size_t e = 0; e < n_exclude; e++)
            if (exclude[e] == (long)i) skip = 1;
        if (skip) continue;
        float s = v->norm[i] > 0 ? k_dot(query, v->vec + i * v->dim, v->dim) * qinv / v->norm[i] : 0.0f;
        if (h < k) {
            idx[h] = (long)i;
            sim[h] = s;
            h++;
            if (h == k)
                for (size_t j = k / 2 + 1; j-- > 0;) heap_sift_down(idx, sim, h, j);
        } else if (s > sim[0]) {
            idx[0] = (long)i;
            sim[0] = s;
            heap_sift_down(idx, sim, h, 0);
        }
    }
    if (h < k)
        for (size_t j = h / 2 + 1; j-- > 0;) heap_sift_down(idx, sim, h, j);
    /* heap sort: repeatedly move the minimum to the end -> descending order */
    for (size_t n = h; n > 1; n--) {
        float ts = sim[0];
        sim[0] = sim[n - 1];
        sim[n - 1] = ts;
        long ti = idx[0];
        idx[0] = idx[n - 1];
        idx[n - 1] = ti;
        heap_sift_down(idx, sim, n - 1, 0);
    }
    *n_out = h;
    return DUET_OK;
}

duet_status duet_w2v_content_vector_ids(const duet_w2v_vectors *v, const long *ids, const float *weights,
                                        size_t n, unsigned flags, float *out, size_t *n_known,
                                        duet_err *err)
{
    if (n_known) *n_known = 0;
    if (!v || !out || (n && !ids))
        return duet_err_set(err, DUET_ERR_ARG, "content vector: NULL argument");
    size_t dim = v->dim, known = 0;
    for (size_t d = 0; d < dim; d++) out[d] = 0.0f;
    double wsum = 0;
    for (size_t i = 0; i < n; i++) {
        float w = weights ? weights[i] : 1.0f;
        if (!isfinite(w) || w < 0)
            return duet_err_set(err, DUET_ERR_ARG, "content vector: weight %zu is negative or not finite", i);
        if (ids[i] < 0 || w == 0) continue;
        if ((size_t)ids[i] >= v->voc.n) {
            for (size_t d = 0; d < dim; d++) out[d] = 0.0f;
            return duet_err_set(err, DUET_ERR_RANGE, "content vector: index %ld out of range", ids[i]);
        }
        size_t r = (size_t)ids[i];
        float scale = w;
        if (flags & W2V_CONTENT_UNIT_TOKENS) {
            if (v->norm[r] == 0) continue;
            scale = w / v->norm[r];
        }
        k_axpy(out, scale, v->vec + r * dim, dim);
        wsum += w;
        known++;
    }
    if (n_known) *n_known = known;
    if (known == 0)
        return duet_err_set(err, DUET_ERR_NOTFOUND, "none of the %zu tokens is in the vocabulary", n);
    float inv = (float)(1.0 / wsum);
    double nn = 0;
    for (size_t d = 0; d < dim; d++) {
        out[d] *= inv;
        nn += (double)out[d] * out[d];
    }
    if ((flags & W2V_CONTENT_UNIT_RESULT) && nn > 0) {
        float s = (float)(1.0 / sqrt(nn));
        for (size_t d = 0; d < dim; d++) out[d] *= s;
    }
    return DUET_OK;
}

duet_status duet_w2v_content_vector(const duet_w2v_vectors *v, const char *const *tokens,
                                    const float *weights, size_t n, unsigned flags, float *out,
                                    size_t *n_known, duet_err *err)
{
    if (n_known) *n_known = 0;
    if (!v || !out || (n && !tokens))
        return duet_err_set(err, DUET_ERR_ARG, "content vector: NULL argument");
    long stack_ids[64] = {0};
    long *ids = n <= 64 ? stack_ids : malloc(n * sizeof *ids);
    if (!ids) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) ids[i] = duet_w2v_vectors_find(v, tokens[i]);
    duet_status st = duet_w2v_content_vector_ids(v, ids, weights, n, flags, out, n_known, err);
    if (ids != stack_ids) free(ids);
    return st;
}
