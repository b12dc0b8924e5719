/* recommender/w2v_search.c: queries on word2vec vectors (word2vec.h): cosine
 * similarity, the k nearest neighbours of a query vector (a min-heap of the
 * current top k, then a heap sort) and content vectors (weighted means of
 * the vectors of an item's tokens). */
#include "word2vec.h"

#include <math.h>
#include <stdlib.h>

#include "w2v_impl.h"

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
