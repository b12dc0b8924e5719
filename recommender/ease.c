/* recommender/ease.c: EASE (Steck, "Embarrassingly Shallow Autoencoders for
 * Sparse Data", WWW 2019). With X the (users x items) training matrix
 * (binary or log values) and G = X^T X + lambda I, P = G^-1, the item-item
 * weights are B_ij = -P_ij / P_jj with a zero diagonal, and s_u = x_u B.
 * The inverse uses LAPACK's spotrf + spotri (OpenBLAS). To bound memory and
 * time (items^2 floats, items^3 flops), B covers the REC_EASE_MAX_ITEMS most
 * popular training items; the other items score -1e30 (ranked after every
 * covered item, in tie-break order). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

#define REC_EASE_MAX_ITEMS 6000

/* LAPACK (Fortran ABI; the trailing size_t is the hidden length of `uplo`). */
void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info, size_t uplo_len);
void spotri_(const char *uplo, const int *n, float *a, const int *lda, int *info, size_t uplo_len);

typedef struct ease_state {
    int32_t n_items, n_kept;
    int weighting;
    int32_t *slot; /* (n_items) index in B or -1 */
    int32_t *kept; /* (n_kept) item of each slot */
    float *B;      /* (n_kept x n_kept) */
} ease_state;

void duet_rec_ease_free(void *s)
{
    ease_state *e = s;
    if (e) {
        free(e->slot);
        free(e->kept);
        free(e->B);
    }
    free(e);
}

typedef struct pop_pair {
    float count;
    int32_t item;
} pop_pair;

static int pop_desc(const void *a, const void *b)
{
    const pop_pair *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
}

duet_status duet_rec_ease_fit(const duet_rec_fit_ctx *ctx, const duet_rec_params *p, void **state, duet_err *err)
{
    const duet_rec_csr *X = ctx->train;
    if (!(p->reg > 0)) return duet_err_set(err, DUET_ERR_ARG, "ease: lambda (reg) must be > 0");
    ease_state *e = calloc(1, sizeof *e);
    pop_pair *pp = calloc((size_t)X->n_cols + 1, sizeof *pp);
    if (!e || !pp) goto nomem;
    e->n_items = X->n_cols;
    e->weighting = p->weighting;
    for (int32_t i = 0; i < X->n_cols; i++) pp[i].item = i;
    for (int64_t q = 0; q < X->nnz; q++) pp[X->indices[q]].count += 1;
    qsort(pp, (size_t)X->n_cols, sizeof *pp, pop_desc);
    int32_t nk = 0;
    while (nk < X->n_cols && nk < REC_EASE_MAX_ITEMS && pp[nk].count > 0) nk++;
    if (nk == 0) {
        free(pp);
        duet_rec_ease_free(e);
        return duet_err_set(err, DUET_ERR_EMPTY, "ease: no training interactions");
    }
    e->n_kept = nk;
    e->slot = malloc((size_t)X->n_cols * sizeof *e->slot);
    e->kept = malloc((size_t)nk * sizeof *e->kept);
    e->B = calloc((size_t)nk * (size_t)nk, sizeof *e->B);
    if (!e->slot || !e->kept || !e->B) goto nomem;
    for (int32_t i = 0; i < X->n_cols; i++) e->slot[i] = -1;
    for (int32_t s = 0; s < nk; s++) {
        e->kept[s] = pp[s].item;
        e->slot[pp[s].item] = s;
    }
    free(pp);
    pp = NULL;
    /* G = X^T X over kept items (full symmetric), accumulated user by user. */
    float *G = e->B;
    size_t n = (size_t)nk;
    for (int32_t u = 0; u < X->n_rows; u++)
        for (int64_t a = X->indptr[u]; a < X->indptr[u + 1]; a++) {
            int32_t sa = e->slot[X->indices[a]];
            if (sa < 0) continue;
            float xa = duet_rec_weight(X->values[a], p->weighting);
            for (int64_t b = X->indptr[u]; b < X->indptr[u + 1]; b++) {
                int32_t sb = e->slot[X->indices[b]];
                if (sb >= 0) G[(size_t)sa * n + (size_t)sb] += xa * duet_rec_weight(X->values[b], p->weighting);
            }
        }
    for (size_t s = 0; s < n; s++) G[s * n + s] += p->reg;
    int nn = nk, info = 0;
    spotrf_("L", &nn, G, &nn, &info, 1);
    if (info == 0) spotri_("L", &nn, G, &nn, &info, 1);
    if (info != 0) {
        duet_rec_ease_free(e);
        return duet_err_set(err, DUET_ERR_NAN, "ease: Gram matrix inversion failed (LAPACK info %d)", info);
    }
    /* spotri filled one triangle (column-major "L" = row-major upper); mirror it. */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) G[j * n + i] = G[i * n + j];
    /* B_ij = -P_ij / P_jj (column j scaled), diagonal 0. */
    float *dinv = malloc(n * sizeof *dinv);
    if (!dinv) goto nomem;
    for (size_t j = 0; j < n; j++) dinv[j] = -1.0f / G[j * n + j];
    for (size_t i = 0; i < n; i++) {
        float *row = G + i * n;
        for (size_t j = 0; j < n; j++) row[j] *= dinv[j];
        row[i] = 0;
    }
    free(dinv);
    *state = e;
    return DUET_OK;
nomem:
    free(pp);
    duet_rec_ease_free(e);
    return duet_err_set(err, DUET_ERR_NOMEM, "ease: out of memory");
}

duet_status duet_rec_ease_score(const void *state, const duet_rec_csr *train, const int32_t *users, int32_t n,
                                float *out, duet_err *err)
{
    (void)err;
    const ease_state *e = state;
    size_t nk = (size_t)e->n_kept, ni = (size_t)e->n_items;
#pragma omp parallel if ((double)n * (double)nk > 2e5)
    {
        float *acc = malloc(nk * sizeof *acc);
#pragma omp for schedule(dynamic, 8)
        for (int32_t b = 0; b < n; b++) {
            float *o = out + (size_t)b * ni;
            for (size_t i = 0; i < ni; i++) o[i] = -1e30f;
            if (!acc) continue;
            memset(acc, 0, nk * sizeof *acc);
            int32_t u = users[b];
            for (int64_t q = train->indptr[u]; q < train->indptr[u + 1]; q++) {
                int32_t s = e->slot[train->indices[q]];
                if (s < 0) continue;
                float x = duet_rec_weight(train->values[q], e->weighting);
                const float *row = e->B + (size_t)s * nk;
                for (size_t j = 0; j < nk; j++) acc[j] += x * row[j];
            }
            for (size_t j = 0; j < nk; j++) o[e->kept[j]] = acc[j];
        }
        free(acc);
    }
    return DUET_OK;
}

/* ------------------------------------------------------------ state file */

#include "state_io.h"

duet_status duet_rec_ease_export(const void *state, duet_st_writer *w, const char *prefix, duet_err *err)
{
    const ease_state *e = state;
    int32_t hdr[3] = {e->n_items, e->n_kept, e->weighting};
    duet_status st = duet_rec_st_put(w, prefix, "hdr", DUET_ST_I32, 3, 0, hdr, err);
    if (!st) st = duet_rec_st_put(w, prefix, "kept", DUET_ST_I32, e->n_kept, 0, e->kept, err);
    if (!st) st = duet_rec_st_put(w, prefix, "B", DUET_ST_F32, e->n_kept, e->n_kept, e->B, err);
    return st;
}

duet_status duet_rec_ease_import(const duet_st_file *f, const char *prefix, void **state, duet_err *err)
{
    const void *h, *k, *b;
    duet_status st = duet_rec_st_get(f, prefix, "hdr", DUET_ST_I32, 3, 0, &h, NULL, NULL, err);
    if (st) return st;
    const int32_t *hdr = h;
    if (hdr[0] < 1 || hdr[1] < 1 || hdr[1] > hdr[0] || hdr[1] > REC_EASE_MAX_ITEMS || hdr[2] < 0 || hdr[2] > 1)
        return duet_err_set(err, DUET_ERR_FORMAT, "model file: bad ease header");
    st = duet_rec_st_get(f, prefix, "kept", DUET_ST_I32, hdr[1], 0, &k, NULL, NULL, err);
    if (!st) st = duet_rec_st_get(f, prefix, "B", DUET_ST_F32, hdr[1], hdr[1], &b, NULL, NULL, err);
    if (st) return st;
    ease_state *e = calloc(1, sizeof *e);
    size_t nk = (size_t)hdr[1];
    if (e) {
        e->slot = malloc((size_t)hdr[0] * sizeof *e->slot);
        e->kept = malloc(nk * sizeof *e->kept);
        e->B = malloc(nk * nk * sizeof *e->B);
    }
    if (!e || !e->slot || !e->kept || !e->B) {
        duet_rec_ease_free(e);
        return duet_err_set(err, DUET_ERR_NOMEM, "ease: out of memory");
    }
    e->n_items = hdr[0];
    e->n_kept = hdr[1];
    e->weighting = hdr[2];
    for (int32_t i = 0; i < e->n_items; i++) e->slot[i] = -1;
    const int32_t *kept = k;
    for (size_t s = 0; s < nk; s++) {
        if (kept[s] < 0 || kept[s] >= e->n_items || e->slot[kept[s]] >= 0) {
            duet_rec_ease_free(e);
            return duet_err_set(err, DUET_ERR_FORMAT, "model file: bad ease item list");
        }
        e->kept[s] = kept[s];
        e->slot[kept[s]] = (int32_t)s;
    }
    memcpy(e->B, b, nk * nk * sizeof *e->B);
    *state = e;
    return DUET_OK;
}
