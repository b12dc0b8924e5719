/* recommender/w2v_impl.h: internals shared by the files of word2vec
 * (w2v_vocab.c: token checks, the vocabulary and the corpus; word2vec.c:
 * schedules, the negative table, the vectors object and training; w2v_io.c:
 * the text and binary vector files; w2v_search.c: cosine, nearest
 * neighbours and content vectors). Not installed, not part of the API. */
#ifndef DUET_RECOMMENDER_W2V_IMPL_H
#define DUET_RECOMMENDER_W2V_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "word2vec.h"
#include "../common/strmap.h"

#define W2V_MAX_DIM 100000
#define W2V_MAX_IDS 0xFFFFFFFEu

/* ------------------------------------------------------------ utilities */

static inline uint64_t hash_bytes(const char *s, size_t n)
{
    /* FNV-1a, then a splitmix finaliser for well-mixed low bits. */
    uint64_t h = duet_hash_bytes(s, n);
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

static inline int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Check a token: non-empty, valid UTF-8, no whitespace or NUL. Returns 0 when
 * fine, else writes a reason into err and returns -1. */
int duet_w2v_token_check(const char *s, size_t n, duet_err *err, duet_status st);

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

void duet_w2v_vocab_free(vocab *v);

static inline const char *vocab_str(const vocab *v, size_t i) { return v->arena + v->off[i]; }

static inline long vocab_find(const vocab *v, const char *s, size_t n, uint64_t h)
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

/* Find or insert; *id receives the index. Returns DUET_OK, NOMEM or RANGE. */
duet_status duet_w2v_vocab_intern(vocab *v, const char *s, size_t n, uint64_t h, size_t *id);

/* ------------------------------------------------------- corpus, vectors */

struct duet_w2v_corpus {
    vocab voc;
    uint32_t *ids;
    size_t n_ids, cap_ids;
    size_t *sent_end; /* sentence s covers ids[sent_end[s-1] .. sent_end[s]) */
    size_t n_sent, cap_sent;
};

struct duet_w2v_vectors {
    vocab voc;
    size_t dim;
    float *vec;  /* n x dim */
    float *norm; /* n */
};

/* New vectors of n rows of dim (vocabulary empty, rows and norms
 * uninitialised). Returns DUET_OK or DUET_ERR_NOMEM. */
duet_status duet_w2v_vectors_alloc(size_t n, size_t dim, duet_w2v_vectors **out);

/* Fill v->norm with the Euclidean norm of every row. */
void duet_w2v_vectors_compute_norms(duet_w2v_vectors *v);

/* ------------------------------------------------------------ kernels */

/* Vector kernels. With GCC/Clang they use generic vector extensions, which
 * the compiler maps to AVX2 inside the AVX2 clone of the training worker
 * (word2vec.c) and to SSE elsewhere; a plain loop otherwise. */
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

#endif
