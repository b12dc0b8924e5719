/* recommender/knn.c: neighbourhood collaborative filtering.
 *
 * Values: x_ui = duet_rec_weight(plays, weighting) (binary or log(1 + plays)).
 * user-knn (cosine, the paper's Eq. 2): sim(x, y) = sum_k x_xk x_yk /
 *   (||x_x|| ||x_y||) over all items (missing = 0).
 * user-knn-adj (adjusted cosine, Eq. 3): with m_x the mean of user x's values
 *   over the items x has, sim = sum_{k in I_xy} (x_xk - m_x)(x_yk - m_y) /
 *   (sqrt(sum_{k in I_x} (x_xk - m_x)^2) sqrt(sum_{k in I_y} (x_yk - m_y)^2)).
 * item-knn: cosine between item columns of x.
 * Optional shrinkage: sim * n_common / (n_common + shrink).
 * Each user (item) keeps its k most similar users (items) with sim > 0.
 * Scores: user-based s_ui = sum_{v in N_k(u)} sim(u, v) x_vi;
 *         item-based s_ui = sum_{j in I_u} x_uj sim(j, i) over i in N_k(j). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "model.h"

typedef struct knn_state {
    int item_based;
    int weighting;
    int32_t n_rows, n_items, k;
    int32_t *nbr;  /* (n_rows x k) neighbour index, -1 = none */
    float *sim;    /* (n_rows x k) */
} knn_state;

void duet_rec_knn_free(void *s)
{
    knn_state *p = s;
    if (p) {
        free(p->nbr);
        free(p->sim);
    }
    free(p);
}

/* Row-wise neighbours of the rows of A (n x m, values already transformed),
 * using the transpose At for the inverted index. centre: subtract row means
 * (Eq. 3) with norms over each row's own entries. */
static duet_status neighbours(const duet_rec_csr *A, const duet_rec_csr *At, int centre, int32_t k, float shrink,
                              knn_state *st, duet_err *err)
{
    int32_t n = A->n_rows;
    float *mean = calloc((size_t)n + 1, sizeof *mean), *norm = calloc((size_t)n + 1, sizeof *norm);
    st->nbr = malloc((size_t)n * (size_t)k * sizeof *st->nbr);
    st->sim = malloc((size_t)n * (size_t)k * sizeof *st->sim);
    if (!mean || !norm || !st->nbr || !st->sim) {
        free(mean);
        free(norm);
        return duet_err_set(err, DUET_ERR_NOMEM, "knn: out of memory");
    }
    for (int32_t r = 0; r < n; r++) {
        int64_t b = A->indptr[r], e = A->indptr[r + 1];
        double m = 0, s2 = 0;
        if (centre && e > b) {
            for (int64_t q = b; q < e; q++) m += A->values[q];
            m /= (double)(e - b);
        }
        for (int64_t q = b; q < e; q++) s2 += ((double)A->values[q] - m) * ((double)A->values[q] - m);
        mean[r] = (float)m;
        norm[r] = (float)sqrt(s2);
    }
    int fail = 0;
#pragma omp parallel if ((double)A->nnz * 50 > 2e5)
    {
        float *acc = calloc((size_t)n + 1, sizeof *acc);
        int32_t *cnt = calloc((size_t)n + 1, sizeof *cnt);
        int32_t *touched = malloc(((size_t)n + 1) * sizeof *touched);
        float *cs = malloc(((size_t)n + 1) * sizeof *cs);
        int32_t *sel = malloc(((size_t)k + 1) * sizeof *sel);
        if (!acc || !cnt || !touched || !cs || !sel) {
#pragma omp atomic write
            fail = 1;
        }
#pragma omp for schedule(dynamic, 16)
        for (int32_t r = 0; r < n; r++) {
            int32_t *nb = st->nbr + (size_t)r * k;
            float *sm = st->sim + (size_t)r * k;
            for (int32_t j = 0; j < k; j++) {
                nb[j] = -1;
                sm[j] = 0;
            }
            if (fail) continue;
            int32_t nt = 0;
            for (int64_t q = A->indptr[r]; q < A->indptr[r + 1]; q++) {
                int32_t c = A->indices[q];
                float xr = A->values[q] - mean[r];
                for (int64_t p = At->indptr[c]; p < At->indptr[c + 1]; p++) {
                    int32_t o = At->indices[p];
                    if (o == r) continue;
                    if (!cnt[o]) touched[nt++] = o;
                    cnt[o]++;
                    acc[o] += xr * (At->values[p] - mean[o]);
                }
            }
            for (int32_t t = 0; t < nt; t++) {
                int32_t o = touched[t];
                float den = norm[r] * norm[o];
                float s = den > 0 ? acc[o] / den : 0.0f;
                if (shrink > 0) s *= (float)cnt[o] / ((float)cnt[o] + shrink);
                cs[t] = s > 0 ? s : -INFINITY;
            }
            int got = duet_rec_topk(cs, nt, (const uint32_t *)touched, k, sel);
            for (int j = 0; j < got; j++) {
                nb[j] = touched[sel[j]];
                sm[j] = cs[sel[j]];
            }
            for (int32_t t = 0; t < nt; t++) {
                acc[touched[t]] = 0;
                cnt[touched[t]] = 0;
            }
        }
        free(acc);
        free(cnt);
        free(touched);
        free(cs);
        free(sel);
    }
    free(mean);
    free(norm);
    if (fail) return duet_err_set(err, DUET_ERR_NOMEM, "knn: out of memory");
    return DUET_OK;
}

/* Transformed copy of the training matrix. */
static duet_status transformed(const duet_rec_csr *train, int weighting, duet_rec_csr *out, duet_err *err)
{
    duet_status s = duet_rec_csr_copy(train, out, err);
    if (s) return s;
    for (int64_t q = 0; q < out->nnz; q++) out->values[q] = duet_rec_weight(out->values[q], weighting);
    return DUET_OK;
}

static duet_status knn_fit(const duet_rec_fit_ctx *ctx, const duet_rec_params *p, int item_based, int centre,
                           void **state, duet_err *err)
{
    if (p->k < 1) return duet_err_set(err, DUET_ERR_ARG, "knn: k must be >= 1");
    knn_state *st = calloc(1, sizeof *st);
    if (!st) return duet_err_set(err, DUET_ERR_NOMEM, "knn: out of memory");
    st->item_based = item_based;
    st->weighting = p->weighting;
    st->n_items = ctx->train->n_cols;
    duet_rec_csr X = {0}, Xt = {0};
    duet_status s = transformed(ctx->train, p->weighting, &X, err);
    if (!s) s = duet_rec_csr_transpose(&X, &Xt, err);
    if (!s) {
        const duet_rec_csr *A = item_based ? &Xt : &X, *At = item_based ? &X : &Xt;
        st->n_rows = A->n_rows;
        st->k = p->k < A->n_rows ? p->k : (A->n_rows > 1 ? A->n_rows - 1 : 1);
        s = neighbours(A, At, centre, st->k, p->shrink, st, err);
    }
    duet_rec_csr_free(&X);
    duet_rec_csr_free(&Xt);
    if (s) {
        duet_rec_knn_free(st);
        return s;
    }
    *state = st;
    return DUET_OK;
}

duet_status duet_rec_userknn_fit(const duet_rec_fit_ctx *ctx, const duet_rec_params *p, void **state, duet_err *err)
{
    return knn_fit(ctx, p, 0, 0, state, err);
}

duet_status duet_rec_userknn_adj_fit(const duet_rec_fit_ctx *ctx, const duet_rec_params *p, void **state, duet_err *err)
{
    return knn_fit(ctx, p, 0, 1, state, err);
}

duet_status duet_rec_itemknn_fit(const duet_rec_fit_ctx *ctx, const duet_rec_params *p, void **state, duet_err *err)
{
    return knn_fit(ctx, p, 1, 0, state, err);
}

duet_status duet_rec_userknn_score(const void *state, const duet_rec_csr *train, const int32_t *users, int32_t n,
                                   float *out, duet_err *err)
{
    (void)err;
    const knn_state *st = state;
    size_t ni = (size_t)st->n_items;
#pragma omp parallel for schedule(dynamic, 8) if ((double)n * (double)ni > 2e5)
    for (int32_t b = 0; b < n; b++) {
        float *o = out + (size_t)b * ni;
        memset(o, 0, ni * sizeof *o);
        int32_t u = users[b];
        for (int32_t j = 0; j < st->k; j++) {
            int32_t v = st->nbr[(size_t)u * st->k + j];
            if (v < 0) break;
            float s = st->sim[(size_t)u * st->k + j];
            for (int64_t q = train->indptr[v]; q < train->indptr[v + 1]; q++)
                o[train->indices[q]] += s * duet_rec_weight(train->values[q], st->weighting);
        }
    }
    return DUET_OK;
}

duet_status duet_rec_itemknn_score(const void *state, const duet_rec_csr *train, const int32_t *users, int32_t n,
                                   float *out, duet_err *err)
{
    (void)err;
    const knn_state *st = state;
    size_t ni = (size_t)st->n_items;
#pragma omp parallel for schedule(dynamic, 8) if ((double)n * (double)ni > 2e5)
    for (int32_t b = 0; b < n; b++) {
        float *o = out + (size_t)b * ni;
        memset(o, 0, ni * sizeof *o);
        int32_t u = users[b];
        for (int64_t q = train->indptr[u]; q < train->indptr[u + 1]; q++) {
            int32_t j = train->indices[q];
            float x = duet_rec_weight(train->values[q], st->weighting);
            for (int32_t t = 0; t < st->k; t++) {
                int32_t i = st->nbr[(size_t)j * st->k + t];
                if (i < 0) break;
                o[i] += x * st->sim[(size_t)j * st->k + t];
            }
        }
    }
    return DUET_OK;
}

/* ------------------------------------------------------------ state file */

#include "state_io.h"

duet_status duet_rec_knn_export(const void *state, duet_st_writer *w, const char *prefix, duet_err *err)
{
    const knn_state *s = state;
    int32_t hdr[5] = {s->item_based, s->weighting, s->n_rows, s->n_items, s->k};
    duet_status st = duet_rec_st_put(w, prefix, "hdr", DUET_ST_I32, 5, 0, hdr, err);
    if (!st) st = duet_rec_st_put(w, prefix, "nbr", DUET_ST_I32, s->n_rows, s->k, s->nbr, err);
    if (!st) st = duet_rec_st_put(w, prefix, "sim", DUET_ST_F32, s->n_rows, s->k, s->sim, err);
    return st;
}

duet_status duet_rec_knn_import(const duet_st_file *f, const char *prefix, void **state, duet_err *err)
{
    const void *h, *nb, *sm;
    duet_status st = duet_rec_st_get(f, prefix, "hdr", DUET_ST_I32, 5, 0, &h, NULL, NULL, err);
    if (st) return st;
    const int32_t *hdr = h;
    if (hdr[0] < 0 || hdr[0] > 1 || hdr[1] < 0 || hdr[1] > 1 || hdr[2] < 0 || hdr[3] < 0 || hdr[4] < 1)
        return duet_err_set(err, DUET_ERR_FORMAT, "model file: bad knn header");
    st = duet_rec_st_get(f, prefix, "nbr", DUET_ST_I32, hdr[2], hdr[4], &nb, NULL, NULL, err);
    if (!st) st = duet_rec_st_get(f, prefix, "sim", DUET_ST_F32, hdr[2], hdr[4], &sm, NULL, NULL, err);
    if (st) return st;
    size_t n = (size_t)hdr[2] * (size_t)hdr[4];
    const int32_t *nbr = nb;
    int32_t lim = hdr[0] ? hdr[3] : hdr[2];
    for (size_t q = 0; q < n; q++)
        if (nbr[q] < -1 || nbr[q] >= lim) return duet_err_set(err, DUET_ERR_FORMAT, "model file: knn neighbour out of range");
    knn_state *s = calloc(1, sizeof *s);
    if (s) {
        s->nbr = malloc((n ? n : 1) * sizeof *s->nbr);
        s->sim = malloc((n ? n : 1) * sizeof *s->sim);
    }
    if (!s || !s->nbr || !s->sim) {
        duet_rec_knn_free(s);
        return duet_err_set(err, DUET_ERR_NOMEM, "knn: out of memory");
    }
    s->item_based = hdr[0];
    s->weighting = hdr[1];
    s->n_rows = hdr[2];
    s->n_items = hdr[3];
    s->k = hdr[4];
    memcpy(s->nbr, nbr, n * sizeof *s->nbr);
    memcpy(s->sim, sm, n * sizeof *s->sim);
    *state = s;
    return DUET_OK;
}
