/* recommender/mf_bpr.c: latent factor model trained with BPR (Rendle,
 * Freudenthaler, Gantner & Schmidt-Thieme 2009): SGD on
 * -ln sigmoid(x_ui - x_uj) + reg (|U_u|^2 + |V_i|^2 + |V_j|^2 + b_i^2 + b_j^2)
 * with x_ui = U_u . V_i + b_i, a positive (u, i) drawn uniformly from the
 * training interactions and j uniform among the items u has not interacted
 * with. One sweep = nnz draws. Single-threaded, so a seed fixes the result.
 * Also holds the shared sgemm scorer of dot-product factor models. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "../common/rng.h"
#include "model.h"

void duet_rec_factors_free(void *s)
{
    duet_rec_factors *f = s;
    if (f) {
        free(f->U);
        free(f->V);
        free(f->item_bias);
    }
    free(f);
}

duet_rec_factors *duet_rec_factors_new(int32_t n_users, int32_t n_items, int dim, float init, int with_bias,
                                       duet_rng *r)
{
    duet_rec_factors *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->n_users = n_users;
    f->n_items = n_items;
    f->dim = dim;
    f->U = malloc((size_t)n_users * (size_t)dim * sizeof *f->U);
    f->V = malloc((size_t)n_items * (size_t)dim * sizeof *f->V);
    f->item_bias = with_bias ? calloc((size_t)n_items, sizeof *f->item_bias) : NULL;
    if (!f->U || !f->V || (with_bias && !f->item_bias)) {
        duet_rec_factors_free(f);
        return NULL;
    }
    for (size_t q = 0; q < (size_t)n_users * (size_t)dim; q++) f->U[q] = init * duet_rng_normal(r);
    for (size_t q = 0; q < (size_t)n_items * (size_t)dim; q++) f->V[q] = init * duet_rng_normal(r);
    return f;
}

duet_status duet_rec_factors_score(const void *state, const duet_rec_csr *train, const int32_t *users, int32_t n,
                                   float *out, duet_err *err)
{
    (void)train;
    const duet_rec_factors *f = state;
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

duet_status duet_rec_bpr_fit(const duet_rec_fit_ctx *ctx, const duet_rec_params *p, void **state, duet_err *err)
{
    const duet_rec_csr *X = ctx->train;
    if (p->dim < 1 || p->epochs < 0 || !(p->lr > 0) || !(p->reg >= 0))
        return duet_err_set(err, DUET_ERR_ARG, "bpr-mf: dim >= 1, epochs >= 0, lr > 0, reg >= 0 required");
    if (X->nnz == 0) return duet_err_set(err, DUET_ERR_EMPTY, "bpr-mf: no training interactions");
    duet_rng r;
    duet_rng_seed(&r, ctx->seed ^ 0xB9B9B9ULL);
    duet_rec_factors *f = duet_rec_factors_new(X->n_rows, X->n_cols, p->dim, 0.1f, 1, &r);
    int32_t *row_of = malloc((size_t)X->nnz * sizeof *row_of);
    float *gu = malloc((size_t)p->dim * sizeof *gu);
    if (!f || !row_of || !gu) {
        duet_rec_factors_free(f);
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
            j = duet_rec_draw_negative(&r, X, u, NULL, 0);
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
            duet_rec_factors_free(f);
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

/* ------------------------------------------------------------ state file */

#include "state_io.h"

duet_status duet_rec_factors_export(const void *state, duet_st_writer *w, const char *prefix, duet_err *err)
{
    const duet_rec_factors *f = state;
    duet_status st = duet_rec_st_put(w, prefix, "U", DUET_ST_F32, f->n_users, f->dim, f->U, err);
    if (!st) st = duet_rec_st_put(w, prefix, "V", DUET_ST_F32, f->n_items, f->dim, f->V, err);
    if (!st && f->item_bias)
        st = duet_rec_st_put(w, prefix, "item_bias", DUET_ST_F32, f->n_items, 0, f->item_bias, err);
    return st;
}

duet_status duet_rec_factors_import(const duet_st_file *file, const char *prefix, void **state, duet_err *err)
{
    const void *U, *V, *b = NULL;
    int64_t nu, ni, d, d2;
    duet_status st = duet_rec_st_get(file, prefix, "U", DUET_ST_F32, -1, -1, &U, &nu, &d, err);
    if (!st) st = duet_rec_st_get(file, prefix, "V", DUET_ST_F32, -1, d, &V, &ni, &d2, err);
    if (st) return st;
    char nm[256];
    snprintf(nm, sizeof nm, "%sitem_bias", prefix);
    if (duet_st_get(file, nm)) st = duet_rec_st_get(file, prefix, "item_bias", DUET_ST_F32, ni, 0, &b, NULL, NULL, err);
    if (st) return st;
    if (d < 1 || d > 4096 || nu > INT32_MAX || ni > INT32_MAX)
        return duet_err_set(err, DUET_ERR_FORMAT, "model file: bad factor shapes");
    duet_rng r;
    duet_rng_seed(&r, 0);
    duet_rec_factors *f = duet_rec_factors_new((int32_t)nu, (int32_t)ni, (int)d, 0, b != NULL, &r);
    if (!f) return duet_err_set(err, DUET_ERR_NOMEM, "factors: out of memory");
    memcpy(f->U, U, (size_t)(nu * d) * sizeof *f->U);
    memcpy(f->V, V, (size_t)(ni * d) * sizeof *f->V);
    if (b) memcpy(f->item_bias, b, (size_t)ni * sizeof *f->item_bias);
    *state = f;
    return DUET_OK;
}

/* ------------------------------------------------------------ fold-in */

duet_status duet_rec_factors_fold_in(const duet_rec_factors *f, const int32_t *items, int n, float reg, float conf,
                                     float *u, duet_err *err)
{
    int d = f->dim;
    if (n < 1) return duet_err_set(err, DUET_ERR_ARG, "fold-in needs at least one item");
    for (int k = 0; k < n; k++)
        if (items[k] < 0 || items[k] >= f->n_items) return duet_err_set(err, DUET_ERR_ARG, "fold-in: item out of range");
    double *A = calloc((size_t)d * d, sizeof *A), *b = calloc((size_t)d, sizeof *b);
    if (!A || !b) {
        free(A);
        free(b);
        return duet_err_set(err, DUET_ERR_NOMEM, "fold-in: out of memory");
    }
    /* (V^T V + (conf - 1) sum_h v_h v_h^T + reg I) u = conf sum_h v_h */
    for (int32_t i = 0; i < f->n_items; i++) {
        const float *v = f->V + (size_t)i * d;
        for (int a = 0; a < d; a++)
            for (int c = 0; c < d; c++) A[a * d + c] += (double)v[a] * v[c];
    }
    for (int k = 0; k < n; k++) {
        const float *v = f->V + (size_t)items[k] * d;
        for (int a = 0; a < d; a++) {
            b[a] += conf * v[a];
            for (int c = 0; c < d; c++) A[a * d + c] += (conf - 1.0) * v[a] * v[c];
        }
    }
    for (int a = 0; a < d; a++) A[a * d + a] += reg > 1e-6f ? reg : 1e-6;
    /* Cholesky A = L L^T in place (lower), then two triangular solves */
    int ok = 1;
    for (int j = 0; j < d && ok; j++) {
        double s = A[j * d + j];
        for (int k = 0; k < j; k++) s -= A[j * d + k] * A[j * d + k];
        if (!(s > 0)) ok = 0;
        else {
            double l = sqrt(s);
            A[j * d + j] = l;
            for (int i = j + 1; i < d; i++) {
                double t = A[i * d + j];
                for (int k = 0; k < j; k++) t -= A[i * d + k] * A[j * d + k];
                A[i * d + j] = t / l;
            }
        }
    }
    if (ok) {
        for (int i = 0; i < d; i++) {
            double t = b[i];
            for (int k = 0; k < i; k++) t -= A[i * d + k] * b[k];
            b[i] = t / A[i * d + i];
        }
        for (int i = d - 1; i >= 0; i--) {
            double t = b[i];
            for (int k = i + 1; k < d; k++) t -= A[k * d + i] * b[k];
            b[i] = t / A[i * d + i];
        }
        for (int a = 0; a < d; a++) u[a] = (float)b[a];
    }
    free(A);
    free(b);
    return ok ? DUET_OK : duet_err_set(err, DUET_ERR_NAN, "fold-in: the system is not positive definite");
}

duet_status duet_rec_factors_score_vec(const duet_rec_factors *f, const float *u, float *out)
{
    for (int32_t i = 0; i < f->n_items; i++) {
        const float *v = f->V + (size_t)i * f->dim;
        float s = f->item_bias ? f->item_bias[i] : 0.0f;
        for (int a = 0; a < f->dim; a++) s += u[a] * v[a];
        out[i] = s;
    }
    return DUET_OK;
}
