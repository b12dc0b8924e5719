/* recommender/neumf.c: NeuMF (He, Liao, Zhang, Nie, Hu & Chua, "Neural
 * Collaborative Filtering", WWW 2017) on duet's nn/ engine, without
 * pre-training:
 *   GMF  g = p_u^G * q_i^G                               (F)
 *   MLP  x0 = [p_u^M, q_i^M] (4F) -> ReLU(Linear 2F) -> ReLU(Linear F)
 *   out  logit = w . [g, h2] + b,  score = logit
 * With F = duet_rec_params.dim (the "predictive factors" of the paper; MLP
 * embeddings are 2F wide, the tower 4F -> 2F -> F as in the reference code).
 * Training: pointwise BCE with logits, every positive with
 * duet_rec_params.k uniformly drawn negatives (items the user has not
 * interacted with) per epoch, mini-batches of 256 shuffled samples, Adam
 * (nn/optim.h; embedding tables updated row-wise, lazily), lr
 * duet_rec_params.lr, duet_rec_params.epochs epochs. Initialisation: embeddings
 * N(0, 0.01^2), linear layers PyTorch's default U(+-1/sqrt(fan_in)).
 * Scoring a user against all items: the GMF part and the first MLP layer
 * split into user and item halves (W1 [p; q] = W1u p + W1i q, the item half
 * precomputed), the second layer one sgemm over all items. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/progress.h"
#include "../common/rng.h"
#include "../nn/gemm.h"
#include "../nn/layers.h"
#include "../nn/optim.h"
#include "../nn/tensor.h"
#include "model.h"

#define NEUMF_BATCH 256

enum { T_GU, T_GI, T_MU, T_MI, T_W1, T_B1, T_W2, T_B2, T_WO, T_BO, T_N };

typedef struct neumf_state {
    int32_t n_users, n_items, F;
    duet_params *P;
    float *C; /* (n_items x 2F): W1i q_i^M + b1 */
} neumf_state;

void duet_rec_neumf_free(void *s)
{
    neumf_state *m = s;
    if (m) {
        duet_params_free(m->P);
        free(m->C);
    }
    free(m);
}

duet_status duet_rec_neumf_params_new(int32_t nu, int32_t ni, int F, duet_params **out, duet_err *err)
{
    duet_param_spec sp[T_N] = {
        {"gmf.user", 2, {nu, F}, DUET_PARAM_SPARSE},      {"gmf.item", 2, {ni, F}, DUET_PARAM_SPARSE},
        {"mlp.user", 2, {nu, 2 * F}, DUET_PARAM_SPARSE},  {"mlp.item", 2, {ni, 2 * F}, DUET_PARAM_SPARSE},
        {"mlp.0.weight", 2, {2 * F, 4 * F}, 0},           {"mlp.0.bias", 1, {2 * F}, DUET_PARAM_NO_DECAY},
        {"mlp.1.weight", 2, {F, 2 * F}, 0},               {"mlp.1.bias", 1, {F}, DUET_PARAM_NO_DECAY},
        {"out.weight", 2, {1, 2 * F}, 0},                 {"out.bias", 1, {1}, DUET_PARAM_NO_DECAY},
    };
    return duet_params_new(sp, T_N, out, err);
}

/* Forward + backward of one batch (see model.h). */
double duet_rec_neumf_step_grads(duet_params *P, int F, const int32_t *u, const int32_t *it, const float *y, int B,
                                 float *logits_out, float *work)
{
    const float *gu_t = duet_params_data(P, T_GU), *gi_t = duet_params_data(P, T_GI);
    const float *mu_t = duet_params_data(P, T_MU), *mi_t = duet_params_data(P, T_MI);
    const float *w1 = duet_params_data(P, T_W1), *b1 = duet_params_data(P, T_B1);
    const float *w2 = duet_params_data(P, T_W2), *b2 = duet_params_data(P, T_B2);
    const float *wo = duet_params_data(P, T_WO), *bo = duet_params_data(P, T_BO);
    int32_t nu = (int32_t)P->info[T_GU].shape[0], ni = (int32_t)P->info[T_GI].shape[0];
    size_t b = (size_t)B, f = (size_t)F;
    /* carve the work area: forward */
    float *gu = work, *gi = gu + b * f, *g = gi + b * f, *mu = g + b * f, *mi = mu + 2 * b * f;
    float *x0 = mi + 2 * b * f, *h1 = x0 + 4 * b * f, *h2 = h1 + 2 * b * f, *z = h2 + b * f, *lg = z + 2 * b * f;
    /* backward (zeroed below) */
    float *dlg = lg + b, *dz = dlg + b, *dg = dz + 2 * b * f, *dh2 = dg + b * f, *da2 = dh2 + b * f;
    float *dh1 = da2 + b * f, *da1 = dh1 + 2 * b * f, *dx0 = da1 + 2 * b * f, *dmu = dx0 + 4 * b * f;
    float *dmi = dmu + 2 * b * f, *dgu = dmi + 2 * b * f, *dgi = dgu + b * f, *end = dgi + b * f;
    memset(dlg, 0, (size_t)(end - dlg) * sizeof *dlg);

    duet_embedding_forward(gu, gu_t, u, B, F, nu);
    duet_embedding_forward(gi, gi_t, it, B, F, ni);
    for (size_t k = 0; k < b * f; k++) g[k] = gu[k] * gi[k];
    duet_embedding_forward(mu, mu_t, u, B, 2 * F, nu);
    duet_embedding_forward(mi, mi_t, it, B, 2 * F, ni);
    duet_concat_forward(x0, mu, mi, B, 2 * F, 2 * F, 1);
    duet_linear_forward(h1, x0, w1, b1, B, 4 * F, 2 * F);
    duet_relu_forward(h1, h1, b * 2 * f);
    duet_linear_forward(h2, h1, w2, b2, B, 2 * F, F);
    duet_relu_forward(h2, h2, b * f);
    duet_concat_forward(z, g, h2, B, F, F, 1);
    duet_linear_forward(lg, z, wo, bo, B, 2 * F, 1);
    if (logits_out) memcpy(logits_out, lg, b * sizeof *lg);
    double loss = duet_loss_bce_logits(dlg, lg, y, b, 1.0f);

    duet_linear_backward(dz, duet_params_grad(P, T_WO), duet_params_grad(P, T_BO), dlg, z, wo, B, 2 * F, 1);
    duet_concat_backward(dg, dh2, dz, B, F, F, 1);
    duet_relu_backward(da2, dh2, h2, b * f);
    duet_linear_backward(dh1, duet_params_grad(P, T_W2), duet_params_grad(P, T_B2), da2, h1, w2, B, 2 * F, F);
    duet_relu_backward(da1, dh1, h1, b * 2 * f);
    duet_linear_backward(dx0, duet_params_grad(P, T_W1), duet_params_grad(P, T_B1), da1, x0, w1, B, 4 * F, 2 * F);
    duet_concat_backward(dmu, dmi, dx0, B, 2 * F, 2 * F, 1);
    for (size_t k = 0; k < b * f; k++) {
        dgu[k] = dg[k] * gi[k];
        dgi[k] = dg[k] * gu[k];
    }
    duet_embedding_backward(duet_params_grad(P, T_GU), dgu, u, B, F);
    duet_embedding_backward(duet_params_grad(P, T_GI), dgi, it, B, F);
    duet_embedding_backward(duet_params_grad(P, T_MU), dmu, u, B, 2 * F);
    duet_embedding_backward(duet_params_grad(P, T_MI), dmi, it, B, 2 * F);
    return loss;
}

/* 36F + 2 floats per sample are used; rounded up. */
size_t duet_rec_neumf_work_floats(int F, int B) { return (size_t)B * (size_t)(50 * F + 8); }

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Sort and deduplicate; returns the new length. */
static int unique_rows(int32_t *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_i32);
    int m = 0;
    for (int k = 0; k < n; k++)
        if (m == 0 || v[m - 1] != v[k]) v[m++] = v[k];
    return m;
}

static void zero_rows(float *t, const int32_t *rows, int n, int D)
{
    for (int k = 0; k < n; k++) memset(t + (size_t)rows[k] * D, 0, (size_t)D * sizeof *t);
}

/* Precompute C = W1i q_i^M + b1 for scoring. */
static duet_status neumf_prepare(neumf_state *m, duet_err *err)
{
    int F = m->F;
    m->C = malloc((size_t)m->n_items * 2 * F * sizeof *m->C);
    if (!m->C) return duet_err_set(err, DUET_ERR_NOMEM, "neumf: out of memory");
    const float *w1 = duet_params_data(m->P, T_W1), *b1 = duet_params_data(m->P, T_B1);
    const float *qm = duet_params_data(m->P, T_MI);
    for (int32_t i = 0; i < m->n_items; i++)
        memcpy(m->C + (size_t)i * 2 * F, b1, (size_t)2 * F * sizeof *b1);
    /* C (n_items, 2F) += qm (n_items, 2F) @ W1[:, 2F:]^T, W1 row-major (2F, 4F) */
    duet_sgemm(0, 1, m->n_items, 2 * F, 2 * F, 1.0f, qm, 2 * F, w1 + 2 * F, 4 * F, 1.0f, m->C, 2 * F);
    return DUET_OK;
}

struct duet_rec_neumf_trainer {
    const duet_rec_csr *X; /* borrowed */
    int F, n_neg, dense;
    float lr;
    duet_params *P;        /* owned until taken */
    duet_adam opt;
    duet_rng r;
    int32_t *su, *si, *all;
    float *sy, *work;
    int64_t *perm;
    int32_t bu[NEUMF_BATCH], bi[NEUMF_BATCH], ru[NEUMF_BATCH], ri[NEUMF_BATCH];
    float by[NEUMF_BATCH];
};

void duet_rec_neumf_trainer_free(duet_rec_neumf_trainer *t)
{
    if (!t) return;
    duet_params_free(t->P);
    free(t->su);
    free(t->si);
    free(t->sy);
    free(t->perm);
    free(t->work);
    free(t->all);
    free(t);
}

duet_status duet_rec_neumf_trainer_new(const duet_rec_csr *X, int F, int n_neg, float lr, uint64_t seed,
                                       int dense_adam, duet_rec_neumf_trainer **out, duet_err *err)
{
    *out = NULL;
    if (F < 1 || F > 512 || n_neg < 1 || n_neg > 100 || !(lr > 0))
        return duet_err_set(err, DUET_ERR_ARG, "neumf: dim in [1,512], negatives (k) in [1,100], epochs >= 1, lr > 0");
    if (X->nnz == 0) return duet_err_set(err, DUET_ERR_EMPTY, "neumf: no training interactions");
    duet_rec_neumf_trainer *t = calloc(1, sizeof *t);
    if (!t) return duet_err_set(err, DUET_ERR_NOMEM, "neumf: out of memory");
    t->X = X;
    t->F = F;
    t->n_neg = n_neg;
    t->lr = lr;
    t->dense = dense_adam != 0;
    duet_status st = duet_rec_neumf_params_new(X->n_rows, X->n_cols, F, &t->P, err);
    if (!st) st = duet_params_enable_training(t->P, err);
    int64_t n_samp = X->nnz * (1 + n_neg);
    int32_t nmax = X->n_rows > X->n_cols ? X->n_rows : X->n_cols;
    t->su = malloc((size_t)n_samp * sizeof *t->su);
    t->si = malloc((size_t)n_samp * sizeof *t->si);
    t->sy = malloc((size_t)n_samp * sizeof *t->sy);
    t->perm = malloc((size_t)n_samp * sizeof *t->perm);
    t->work = malloc(duet_rec_neumf_work_floats(F, NEUMF_BATCH) * sizeof *t->work);
    if (t->dense) t->all = malloc((size_t)nmax * sizeof *t->all);
    if (!st && (!t->su || !t->si || !t->sy || !t->perm || !t->work || (t->dense && !t->all)))
        st = duet_err_set(err, DUET_ERR_NOMEM, "neumf: out of memory");
    if (st) {
        duet_rec_neumf_trainer_free(t);
        return st;
    }
    for (int32_t k = 0; t->dense && k < nmax; k++) t->all[k] = k;
    duet_rng_seed(&t->r, seed);
    duet_params *P = t->P;
    duet_init_normal(duet_params_data(P, T_GU), P->info[T_GU].numel, 0, 0.01f, &t->r);
    duet_init_normal(duet_params_data(P, T_GI), P->info[T_GI].numel, 0, 0.01f, &t->r);
    duet_init_normal(duet_params_data(P, T_MU), P->info[T_MU].numel, 0, 0.01f, &t->r);
    duet_init_normal(duet_params_data(P, T_MI), P->info[T_MI].numel, 0, 0.01f, &t->r);
    const int lin[3][3] = {{T_W1, T_B1, 4}, {T_W2, T_B2, 2}, {T_WO, T_BO, 2}};
    for (int l = 0; l < 3; l++) {
        float a = 1.0f / sqrtf((float)(lin[l][2] * F));
        duet_init_uniform(duet_params_data(P, lin[l][0]), P->info[lin[l][0]].numel, -a, a, &t->r);
        duet_init_uniform(duet_params_data(P, lin[l][1]), P->info[lin[l][1]].numel, -a, a, &t->r);
    }
    t->opt = duet_adam_default(0.0f, 0);
    *out = t;
    return DUET_OK;
}

duet_status duet_rec_neumf_trainer_epoch(duet_rec_neumf_trainer *t, double *mean_loss, duet_err *err)
{
    const duet_rec_csr *X = t->X;
    const int F = t->F, n_neg = t->n_neg;
    int32_t *su = t->su, *si = t->si, *bu = t->bu, *bi = t->bi, *ru = t->ru, *ri = t->ri;
    float *sy = t->sy, *by = t->by;
    int64_t *perm = t->perm;
    duet_params *P = t->P;
    duet_status st = DUET_OK;
    if (!P) return duet_err_set(err, DUET_ERR_ARG, "neumf: the trainer's parameters were taken");
    /* samples: every positive plus n_neg fresh negatives */
    int64_t s = 0;
    for (int32_t u = 0; u < X->n_rows; u++) {
        int64_t deg = X->indptr[u + 1] - X->indptr[u];
        for (int64_t q = X->indptr[u]; q < X->indptr[u + 1]; q++) {
            su[s] = u;
            si[s] = X->indices[q];
            sy[s++] = 1.0f;
            if (deg >= X->n_cols) continue;
            for (int k = 0; k < n_neg; k++) {
                int32_t j = duet_rec_draw_negative(&t->r, X, u, NULL, 0);
                su[s] = u;
                si[s] = j;
                sy[s++] = 0.0f;
            }
        }
    }
    for (int64_t k = 0; k < s; k++) perm[k] = k;
    duet_rng_shuffle(&t->r, perm, (size_t)s, sizeof *perm);
    double loss_sum = 0;
    int64_t nb = 0;
    for (int64_t b0 = 0; b0 < s && !st; b0 += NEUMF_BATCH) {
        int B = (int)(s - b0 < NEUMF_BATCH ? s - b0 : NEUMF_BATCH);
        for (int k = 0; k < B; k++) {
            int64_t q = perm[b0 + k];
            bu[k] = ru[k] = su[q];
            bi[k] = ri[k] = si[q];
            by[k] = sy[q];
        }
        loss_sum += duet_rec_neumf_step_grads(P, F, bu, bi, by, B, NULL, t->work);
        nb++;
        st = duet_adam_step(&t->opt, P, t->lr, err);
        if (st) break;
        if (t->dense) {
            /* every embedding row, as torch.optim.Adam with dense gradients */
            duet_adam_update_rows(&t->opt, P, T_GU, t->all, (size_t)X->n_rows, t->lr);
            duet_adam_update_rows(&t->opt, P, T_MU, t->all, (size_t)X->n_rows, t->lr);
            duet_adam_update_rows(&t->opt, P, T_GI, t->all, (size_t)X->n_cols, t->lr);
            duet_adam_update_rows(&t->opt, P, T_MI, t->all, (size_t)X->n_cols, t->lr);
            for (int k = T_GU; k <= T_MI; k++) memset(duet_params_grad(P, k), 0, P->info[k].numel * sizeof(float));
        } else {
            int nru = unique_rows(ru, B), nri = unique_rows(ri, B);
            duet_adam_update_rows(&t->opt, P, T_GU, ru, (size_t)nru, t->lr);
            duet_adam_update_rows(&t->opt, P, T_MU, ru, (size_t)nru, t->lr);
            duet_adam_update_rows(&t->opt, P, T_GI, ri, (size_t)nri, t->lr);
            duet_adam_update_rows(&t->opt, P, T_MI, ri, (size_t)nri, t->lr);
            zero_rows(duet_params_grad(P, T_GU), ru, nru, F);
            zero_rows(duet_params_grad(P, T_MU), ru, nru, 2 * F);
            zero_rows(duet_params_grad(P, T_GI), ri, nri, F);
            zero_rows(duet_params_grad(P, T_MI), ri, nri, 2 * F);
        }
        for (int k = T_W1; k < T_N; k++) memset(duet_params_grad(P, k), 0, P->info[k].numel * sizeof(float));
    }
    if (!st && !isfinite(loss_sum)) st = duet_err_set(err, DUET_ERR_NAN, "neumf: loss is not finite");
    if (mean_loss) *mean_loss = nb ? loss_sum / (double)nb : 0.0;
    return st;
}

duet_params *duet_rec_neumf_trainer_take(duet_rec_neumf_trainer *t)
{
    duet_params *P = t->P;
    t->P = NULL;
    return P;
}

duet_status duet_rec_neumf_fit(const duet_rec_fit_ctx *ctx, const duet_rec_params *p, void **state, duet_err *err)
{
    const duet_rec_csr *X = ctx->train;
    if (p->epochs < 1)
        return duet_err_set(err, DUET_ERR_ARG, "neumf: dim in [1,512], negatives (k) in [1,100], epochs >= 1, lr > 0");
    duet_rec_neumf_trainer *t = NULL;
    duet_status st = duet_rec_neumf_trainer_new(X, p->dim, p->k, p->lr, ctx->seed ^ 0x4E4D46ULL, 0, &t, err);
    if (st) return st;
    duet_progress pg;
    duet_progress_init(&pg, "neumf", p->epochs, ctx->progress);
    for (int ep = 0; !st && ep < p->epochs; ep++) {
        double loss = 0;
        st = duet_rec_neumf_trainer_epoch(t, &loss, err);
        if (st == DUET_ERR_NAN) st = duet_err_set(err, DUET_ERR_NAN, "neumf: loss is not finite at epoch %d", ep + 1);
        char extra[64];
        snprintf(extra, sizeof extra, "epoch %d loss %.4f", ep + 1, loss);
        duet_progress_update(&pg, ep + 1, extra);
    }
    duet_progress_done(&pg);
    neumf_state *m = st ? NULL : calloc(1, sizeof *m);
    if (!st && !m) st = duet_err_set(err, DUET_ERR_NOMEM, "neumf: out of memory");
    if (!st) {
        m->n_users = X->n_rows;
        m->n_items = X->n_cols;
        m->F = p->dim;
        m->P = duet_rec_neumf_trainer_take(t);
        st = neumf_prepare(m, err);
    }
    duet_rec_neumf_trainer_free(t);
    if (st) {
        if (m) duet_rec_neumf_free(m);
        return st;
    }
    *state = m;
    return DUET_OK;
}

duet_status duet_rec_neumf_score(const void *state, const duet_rec_csr *train, const int32_t *users, int32_t n,
                                 float *out, duet_err *err)
{
    (void)train;
    const neumf_state *m = state;
    int F = m->F;
    size_t ni = (size_t)m->n_items, f = (size_t)F;
    const float *pg_t = duet_params_data(m->P, T_GU), *qg = duet_params_data(m->P, T_GI);
    const float *pm_t = duet_params_data(m->P, T_MU), *w1 = duet_params_data(m->P, T_W1);
    const float *w2 = duet_params_data(m->P, T_W2), *b2 = duet_params_data(m->P, T_B2);
    const float *wo = duet_params_data(m->P, T_WO), *bo = duet_params_data(m->P, T_BO);
    float *H1 = malloc(ni * 2 * f * sizeof *H1), *H2 = malloc(ni * f * sizeof *H2);
    float *a = malloc(2 * f * sizeof *a), *pw = malloc(f * sizeof *pw);
    if (!H1 || !H2 || !a || !pw) {
        free(H1);
        free(H2);
        free(a);
        free(pw);
        return duet_err_set(err, DUET_ERR_NOMEM, "neumf: out of memory scoring");
    }
    for (int32_t b = 0; b < n; b++) {
        int32_t u = users[b];
        const float *pm = pm_t + (size_t)u * 2 * f, *pgu = pg_t + (size_t)u * f;
        /* a = W1u p_u^M (2F) */
        for (size_t o = 0; o < 2 * f; o++) {
            float s = 0;
            for (size_t k = 0; k < 2 * f; k++) s += w1[o * 4 * f + k] * pm[k];
            a[o] = s;
        }
        for (size_t i = 0; i < ni; i++)
            for (size_t o = 0; o < 2 * f; o++) {
                float v = m->C[i * 2 * f + o] + a[o];
                H1[i * 2 * f + o] = v > 0 ? v : 0;
            }
        for (size_t i = 0; i < ni; i++) memcpy(H2 + i * f, b2, f * sizeof *b2);
        duet_sgemm(0, 1, (int)ni, F, 2 * F, 1.0f, H1, 2 * F, w2, 2 * F, 1.0f, H2, F);
        for (size_t k = 0; k < f; k++) pw[k] = pgu[k] * wo[k];
        float *o = out + (size_t)b * ni;
        for (size_t i = 0; i < ni; i++) {
            float s = bo[0];
            const float *h = H2 + i * f, *q = qg + i * f;
            for (size_t k = 0; k < f; k++) s += pw[k] * q[k] + (h[k] > 0 ? h[k] : 0) * wo[f + k];
            o[i] = s;
        }
    }
    free(H1);
    free(H2);
    free(a);
    free(pw);
    return DUET_OK;
}

duet_status duet_rec_neumf_score_params(const duet_params *P, int F, const int32_t *users, int32_t n, float *out,
                                        duet_err *err)
{
    neumf_state m = {0};
    m.n_users = (int32_t)P->info[T_GU].shape[0];
    m.n_items = (int32_t)P->info[T_GI].shape[0];
    m.F = F;
    m.P = (duet_params *)P;
    for (int32_t b = 0; b < n; b++)
        if (users[b] < 0 || users[b] >= m.n_users) return duet_err_set(err, DUET_ERR_ARG, "neumf: user out of range");
    duet_status st = neumf_prepare(&m, err);
    if (!st) st = duet_rec_neumf_score(&m, NULL, users, n, out, err);
    free(m.C);
    return st;
}

/* ------------------------------------------------------------ state file */

#include "state_io.h"

duet_status duet_rec_neumf_export(const void *state, duet_st_writer *w, const char *prefix, duet_err *err)
{
    const neumf_state *m = state;
    duet_status st = DUET_OK;
    char nm[256];
    for (size_t t = 0; !st && t < m->P->count; t++) {
        const duet_param_info *in = &m->P->info[t];
        snprintf(nm, sizeof nm, "%s%s", prefix, in->name);
        st = duet_st_writer_add(w, nm, DUET_ST_F32, in->ndim, in->shape, duet_params_data(m->P, t), err);
    }
    if (!st) st = duet_rec_st_put(w, prefix, "C", DUET_ST_F32, m->n_items, 2 * m->F, m->C, err);
    return st;
}

duet_status duet_rec_neumf_import(const duet_st_file *f, const char *prefix, void **state, duet_err *err)
{
    const void *p;
    int64_t nu, ni, F;
    duet_status st = duet_rec_st_get(f, prefix, "gmf.user", DUET_ST_F32, -1, -1, &p, &nu, &F, err);
    if (!st) st = duet_rec_st_get(f, prefix, "gmf.item", DUET_ST_F32, -1, F, &p, &ni, NULL, err);
    if (st) return st;
    if (nu < 1 || ni < 1 || F < 1 || F > 1024 || nu > INT32_MAX || ni > INT32_MAX)
        return duet_err_set(err, DUET_ERR_FORMAT, "model file: bad neumf shapes");
    neumf_state *m = calloc(1, sizeof *m);
    if (!m) return duet_err_set(err, DUET_ERR_NOMEM, "neumf: out of memory");
    m->n_users = (int32_t)nu;
    m->n_items = (int32_t)ni;
    m->F = (int)F;
    st = duet_rec_neumf_params_new(m->n_users, m->n_items, m->F, &m->P, err);
    char nm[256];
    for (size_t t = 0; !st && t < m->P->count; t++) {
        const duet_param_info *in = &m->P->info[t];
        const float *src;
        snprintf(nm, sizeof nm, "%s%s", prefix, in->name);
        st = duet_st_get_f32(f, nm, in->ndim, in->shape, &src, err);
        if (!st) memcpy(duet_params_data(m->P, t), src, in->numel * sizeof(float));
    }
    const void *c;
    if (!st) st = duet_rec_st_get(f, prefix, "C", DUET_ST_F32, ni, 2 * F, &c, NULL, NULL, err);
    if (!st && !(m->C = malloc((size_t)ni * 2 * (size_t)F * sizeof *m->C)))
        st = duet_err_set(err, DUET_ERR_NOMEM, "neumf: out of memory");
    if (!st) memcpy(m->C, c, (size_t)ni * 2 * (size_t)F * sizeof *m->C);
    if (st) {
        duet_rec_neumf_free(m);
        return st;
    }
    *state = m;
    return DUET_OK;
}
