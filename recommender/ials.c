/* recommender/ials.c: implicit-feedback ALS (Hu, Koren & Volinsky, ICDM
 * 2008). Preference p_ui = 1 for observed pairs, 0 otherwise; confidence
 * c_ui = 1 + alpha * x_ui with x_ui = duet_rec_weight(plays, weighting). Each sweep
 * solves, for every user u (then every item, symmetrically),
 *   (V^T V + V^T (C_u - I) V + reg I) U_u = V^T C_u p_u
 * either exactly with a Cholesky factorisation of the dim x dim system
 * (duet_rec_params.k == 0, LAPACK dposv) or with k steps of conjugate gradient warm-started
 * from the current factors (Takacs, Pilaszy & Tikk, RecSys 2011; what the
 * `implicit` library does by default), which costs O(k (dim^2 + n_u dim))
 * per row instead of O(dim^3). V^T V is one sgemm per sweep. Rows are
 * solved in parallel (OpenMP). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "../common/rng.h"
#include "model.h"


/* LAPACK (Fortran ABI, as ease.c; the trailing size_t is the hidden length of `uplo`). */
void dposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda, double *b, const int *ldb,
            int *info, size_t uplo_len);

/* Solve A x = b in place for symmetric positive definite A (d x d, both
 * triangles filled, overwritten by its Cholesky factor) through LAPACK's
 * dposv; x returned in b. -1 if not SPD. */
static int chol_solve(double *A, double *b, int d)
{
    int n = d, one = 1, info = 0;
    dposv_("L", &n, &one, A, &n, b, &n, &info, 1);
    return info == 0 ? 0 : -1;
}

/* y = (G + reg I + sum_k (c_k - 1) h_k h_k^T) x over the row's entries. */
static void apply_A(double *y, const double *x, const float *G, float reg, const duet_rec_csr *X, int32_t u,
                    int weighting, float alpha, const float *H, int d)
{
    for (int i = 0; i < d; i++) {
        double s = reg * x[i];
        for (int j = 0; j < d; j++) s += (double)G[i * d + j] * x[j];
        y[i] = s;
    }
    for (int64_t k = X->indptr[u]; k < X->indptr[u + 1]; k++) {
        const float *h = H + (size_t)X->indices[k] * d;
        double c1 = alpha * duet_rec_weight(X->values[k], weighting), dot = 0;
        for (int i = 0; i < d; i++) dot += h[i] * x[i];
        dot *= c1;
        for (int i = 0; i < d; i++) y[i] += dot * h[i];
    }
}

/* Conjugate-gradient half-sweep (cg_steps > 0). */
static int solve_side_cg(const duet_rec_csr *X, int weighting, float alpha, float reg, const float *H, int32_t m,
                         float *W, int d, int cg_steps)
{
    float *G = malloc((size_t)d * d * sizeof *G);
    if (!G) return -1;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, d, m, 1.0f, H, d, H, d, 0.0f, G, d);
    int fail = 0;
#pragma omp parallel if ((double)X->n_rows * d * d > 1e6)
    {
        double *x = malloc((size_t)d * 5 * sizeof *x);
        if (!x) {
#pragma omp atomic write
            fail = 1;
        }
#pragma omp for schedule(dynamic, 64)
        for (int32_t u = 0; u < X->n_rows; u++) {
            if (!x) continue;
            float *w = W + (size_t)u * d;
            if (X->indptr[u + 1] == X->indptr[u]) {
                memset(w, 0, (size_t)d * sizeof *w);
                continue;
            }
            double *r = x + d, *p = r + d, *Ap = p + d, *b = Ap + d;
            for (int i = 0; i < d; i++) {
                x[i] = w[i];
                b[i] = 0;
            }
            for (int64_t k = X->indptr[u]; k < X->indptr[u + 1]; k++) {
                const float *h = H + (size_t)X->indices[k] * d;
                double c = 1.0 + alpha * duet_rec_weight(X->values[k], weighting);
                for (int i = 0; i < d; i++) b[i] += c * h[i];
            }
            apply_A(Ap, x, G, reg, X, u, weighting, alpha, H, d);
            double rs = 0;
            for (int i = 0; i < d; i++) {
                r[i] = b[i] - Ap[i];
                p[i] = r[i];
                rs += r[i] * r[i];
            }
            for (int it = 0; it < cg_steps && rs > 1e-20; it++) {
                apply_A(Ap, p, G, reg, X, u, weighting, alpha, H, d);
                double pAp = 0;
                for (int i = 0; i < d; i++) pAp += p[i] * Ap[i];
                if (!(pAp > 0)) break;
                double a = rs / pAp, rs2 = 0;
                for (int i = 0; i < d; i++) {
                    x[i] += a * p[i];
                    r[i] -= a * Ap[i];
                    rs2 += r[i] * r[i];
                }
                for (int i = 0; i < d; i++) p[i] = r[i] + (rs2 / rs) * p[i];
                rs = rs2;
            }
            for (int i = 0; i < d; i++) w[i] = (float)x[i];
        }
        free(x);
    }
    free(G);
    return fail ? -1 : 0;
}

/* One half-sweep: solve the rows of X (n x m) for factors W (n x d) given H (m x d). */
static int solve_side(const duet_rec_csr *X, int weighting, float alpha, float reg, const float *H, int32_t m, float *W,
                      int d, int cg_steps)
{
    if (cg_steps > 0) return solve_side_cg(X, weighting, alpha, reg, H, m, W, d, cg_steps);
    float *G = malloc((size_t)d * d * sizeof *G);
    if (!G) return -1;
    /* G = H^T H (d x d) */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, d, m, 1.0f, H, d, H, d, 0.0f, G, d);
    int fail = 0;
#pragma omp parallel if ((double)X->n_rows * d * d * d > 1e6)
    {
        double *A = malloc((size_t)d * d * sizeof *A), *b = malloc((size_t)d * sizeof *b);
        if (!A || !b) {
#pragma omp atomic write
            fail = 1;
        }
#pragma omp for schedule(dynamic, 32)
        for (int32_t u = 0; u < X->n_rows; u++) {
            if (!A || !b) continue;
            float *w = W + (size_t)u * d;
            if (X->indptr[u + 1] == X->indptr[u]) {
                memset(w, 0, (size_t)d * sizeof *w);
                continue;
            }
            for (int q = 0; q < d * d; q++) A[q] = G[q];
            for (int q = 0; q < d; q++) {
                A[q * d + q] += reg;
                b[q] = 0;
            }
            for (int64_t k = X->indptr[u]; k < X->indptr[u + 1]; k++) {
                const float *h = H + (size_t)X->indices[k] * d;
                double c = 1.0 + alpha * duet_rec_weight(X->values[k], weighting);
                for (int i = 0; i < d; i++) {
                    double ci = (c - 1.0) * h[i];
                    for (int j = 0; j <= i; j++) A[i * d + j] += ci * h[j];
                    b[i] += c * h[i];
                }
            }
            for (int i = 0; i < d; i++)
                for (int j = i + 1; j < d; j++) A[i * d + j] = A[j * d + i];
            if (chol_solve(A, b, d) != 0) {
#pragma omp atomic write
                fail = 1;
                continue;
            }
            for (int i = 0; i < d; i++) w[i] = (float)b[i];
        }
        free(A);
        free(b);
    }
    free(G);
    return fail ? -1 : 0;
}

duet_status duet_rec_ials_fit(const duet_rec_fit_ctx *ctx, const duet_rec_params *p, void **state, duet_err *err)
{
    const duet_rec_csr *X = ctx->train;
    if (p->dim < 1 || p->dim > 1024 || p->epochs < 1 || !(p->reg > 0) || !(p->alpha >= 0) || p->k < 0)
        return duet_err_set(err, DUET_ERR_ARG,
                            "ials: dim in [1,1024], epochs >= 1, reg > 0, alpha >= 0, cg steps (k) >= 0 required");
    duet_rng r;
    duet_rng_seed(&r, ctx->seed ^ 0xA15A15ULL);
    duet_rec_factors *f = duet_rec_factors_new(X->n_rows, X->n_cols, p->dim, 0.01f, 0, &r);
    duet_rec_csr Xt = {0};
    duet_status s = f ? duet_rec_csr_transpose(X, &Xt, err) : duet_err_set(err, DUET_ERR_NOMEM, "ials: out of memory");
    for (int ep = 0; !s && ep < p->epochs; ep++) {
        if (solve_side(X, p->weighting, p->alpha, p->reg, f->V, X->n_cols, f->U, p->dim, p->k) != 0 ||
            solve_side(&Xt, p->weighting, p->alpha, p->reg, f->U, X->n_rows, f->V, p->dim, p->k) != 0)
            s = duet_err_set(err, DUET_ERR_NAN, "ials: a system was not positive definite at sweep %d", ep + 1);
    }
    duet_rec_csr_free(&Xt);
    if (s) {
        duet_rec_factors_free(f);
        return s;
    }
    *state = f;
    return DUET_OK;
}
