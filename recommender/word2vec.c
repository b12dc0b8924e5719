/* recommender/word2vec.c: word2vec training (skip-gram / CBOW with negative
 * sampling): the learning-rate and subsampling schedules, the negative table,
 * the vectors object and the lock-free training threads (the corpus is
 * w2v_vocab.c, the vector files w2v_io.c, the queries w2v_search.c). See
 * word2vec.h for the algorithm, its constants (from Mikolov et al. 2013 and
 * the original word2vec.c: unigram^0.75, subsampling formula, 1000-entry
 * sigmoid table over [-6, 6], learning rate updated every 10,000 tokens; from
 * gensim 4: no update for saturated scores, initial vectors uniform in
 * [-1, 1) / dim) and the reasoning behind the lock-free threads. */
#include "word2vec.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../common/mem.h"
#include "../common/progress.h"
#include "../common/rng.h"
#include "w2v_impl.h"

#define W2V_EXP_TABLE 1000
#define W2V_MAX_EXP 6.0f
#define W2V_ALPHA_EVERY 10000

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
    duet_w2v_vocab_free(&v->voc);
    free(v->vec);
    free(v->norm);
    free(v);
}

/* Memory for a weight matrix (freed with free()): large matrices get
 * transparent huge pages (common/mem.h), since training touches rows all
 * over the matrix and with 4 KiB pages the TLB misses cost as much as the
 * arithmetic. */
static void *weights_alloc(size_t bytes) { return duet_alloc_large(bytes); }

duet_status duet_w2v_vectors_alloc(size_t n, size_t dim, duet_w2v_vectors **out)
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

void duet_w2v_vectors_compute_norms(duet_w2v_vectors *v)
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
    if (duet_w2v_vectors_alloc(n, dim, &v)) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        size_t len = tokens[i] ? strlen(tokens[i]) : 0;
        duet_err why;
        duet_err_clear(&why);
        if (!tokens[i] || duet_w2v_token_check(tokens[i], len, &why, DUET_ERR_ARG)) {
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
        if (duet_w2v_vocab_intern(&v->voc, tokens[i], len, h, &id)) {
            duet_w2v_vectors_free(v);
            return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        }
    }
    memcpy(v->vec, rows, n * dim * sizeof *rows);
    duet_w2v_vectors_compute_norms(v);
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

    if (duet_w2v_vectors_alloc(V, dim, &vec)) goto nomem;
    for (size_t i = 0; i < V; i++) {
        size_t id, o = items[i].id;
        if (duet_w2v_vocab_intern(&vec->voc, vocab_str(cv, o), cv->len[o], cv->hash[o], &id)) goto nomem;
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
    duet_w2v_vectors_compute_norms(vec);
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
