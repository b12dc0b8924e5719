/* recommender/mf_bpr.c: latent factor model trained with BPR (Rendle,
 * Freudenthaler, Gantner & Schmidt-Thieme 2009): SGD on
 * -ln sigmoid(x_ui - x_uj) + reg (|U_u|^2 + |V_i|^2 + |V_j|^2 + b_i^2 + b_j^2)
 * with x_ui = U_u . V_i + b_i, a positive (u, i) drawn uniformly from the
 * training interactions and j uniform among the items u has not interacted
 * with. One sweep = nnz draws. Single-threaded, so a seed fixes the result.
 * Also holds the shared sgemm scorer of dot-product factor models. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "../common/rng.h"
#include "model.h"

void rec_factors_free(void *s)
{
    rec_factors *f = s;
    if (f) {
        free(f->U);
        free(f->V);
        free(f->item_bias);
    }
    free(f);
}

rec_factors *rec_factors_new(int32_t n_users, int32_t n_items, int dim, float init, int with_bias, duet_rng *r)
{
    rec_factors *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->n_users = n_users;
    f->n_items = n_items;
    f->dim = dim;
    f->U = malloc((size_t)n_users * (size_t)dim * sizeof *f->U);
    f->V = malloc((size_t)n_items * (size_t)dim * sizeof *f->V);
    f->item_bias = with_bias ? calloc((size_t)n_items, sizeof *f->item_bias) : NULL;
    if (!f->U || !f->V || (with_bias && !f->item_bias)) {
        rec_factors_free(f);
        return NULL;
    }
    for (size_t q = 0; q < (size_t)n_users * (size_t)dim; q++) f->U[q] = init * duet_rng_normal(r);
    for (size_t q = 0; q < (size_t)n_items * (size_t)dim; q++) f->V[q] = init * duet_rng_normal(r);
    return f;
}

duet_status rec_factors_score(const void *state, const rec_csr *train, const int32_t *users, int32_t n, float *out,
                              duet_err *err)
{
    (void)train;
    const rec_factors *f = state;
    size_t d = (size_t)f->dim;
    float *Ub = malloc((size_t)n * d * sizeof *Ub);
    if (!Ub) return duet_err_set(err, DUET_ERR_NOMEM, "scoring: out of memory");
    for (int32_t b = 0; b < n; b++) memcpy(Ub + (size_t)b * d, f->U + (size_t)users[b] * d, d * sizeof *Ub);
    if (f->item_bias)
        for (int32_t b = 0; b < n; b++) memcpy(out + (size_t)b * f->n_items, f->item_bias, (size_t)f->n_items * sizeof *out);
    /* out (n x n_items) = Ub (n x d) * V^T (d x n_items) [+ bias rows] */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, f->n_items, f->dim, 1.0f, Ub, f->dim, f->V, f->dim,
                f->item_bias ? 1.0f : 0.0f, out, f->n_items);
    free(Ub);
    return DUET_OK;
}

duet_status rec_bpr_fit(const rec_fit_ctx *ctx, const rec_params *p, void **state, duet_err *err)
{
    const rec_csr *X = ctx->train;
    if (p->dim < 1 || p->epochs < 0 || !(p->lr > 0) || !(p->reg >= 0))
        return duet_err_set(err, DUET_ERR_ARG, "bpr-mf: dim >= 1, epochs >= 0, lr > 0, reg >= 0 required");
    if (X->nnz == 0) return duet_err_set(err, DUET_ERR_EMPTY, "bpr-mf: no training interactions");
    duet_rng r;
    duet_rng_seed(&r, ctx->seed ^ 0xB9B9B9ULL);
    rec_factors *f = rec_factors_new(X->n_rows, X->n_cols, p->dim, 0.1f, 1, &r);
    int32_t *row_of = malloc((size_t)X->nnz * sizeof *row_of);
    float *gu = malloc((size_t)p->dim * sizeof *gu);
    if (!f || !row_of || !gu) {
        rec_factors_free(f);
        free(row_of);
        free(gu);
        return duet_err_set(err, DUET_ERR_NOMEM, "bpr-mf: out of memory");
    }
    for (int32_t u = 0; u < X->n_rows; u++)
        for (int64_t q = X->indptr[u]; q < X->indptr[u + 1]; q++) row_of[q] = u;
    const int d = p->dim;
    const float lr = p->lr, reg = p->reg;
    for (int ep = 0; ep < p->epochs; ep++) {
        for (int64_t s = 0; s < X->nnz; s++) {
            int64_t q = (int64_t)duet_rng_below(&r, (uint64_t)X->nnz);
            int32_t u = row_of[q], i = X->indices[q], j;
            int64_t deg = X->indptr[u + 1] - X->indptr[u];
            if (deg >= X->n_cols) continue; /* user has every item */
            do j = (int32_t)duet_rng_below(&r, (uint64_t)X->n_cols);
            while (rec_csr_has(X, u, j));
            float *Uu = f->U + (size_t)u * d, *Vi = f->V + (size_t)i * d, *Vj = f->V + (size_t)j * d;
            float x = f->item_bias[i] - f->item_bias[j];
            for (int t = 0; t < d; t++) x += Uu[t] * (Vi[t] - Vj[t]);
            float g = 1.0f / (1.0f + expf(x)); /* sigmoid(-x) = d(-loss)/dx */
            for (int t = 0; t < d; t++) {
                float uu = Uu[t];
                gu[t] = g * (Vi[t] - Vj[t]) - reg * uu;
                Vi[t] += lr * (g * uu - reg * Vi[t]);
                Vj[t] += lr * (-g * uu - reg * Vj[t]);
            }
            for (int t = 0; t < d; t++) Uu[t] += lr * gu[t];
            f->item_bias[i] += lr * (g - reg * f->item_bias[i]);
            f->item_bias[j] += lr * (-g - reg * f->item_bias[j]);
        }
        if (!isfinite(f->U[0]) || !isfinite(f->V[0])) {
            rec_factors_free(f);
            free(row_of);
            free(gu);
            return duet_err_set(err, DUET_ERR_NAN, "bpr-mf: diverged at epoch %d (lower the learning rate)", ep + 1);
        }
    }
    free(row_of);
    free(gu);
    *state = f;
    return DUET_OK;
}
