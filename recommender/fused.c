/* recommender/fused.c: the improved NCF with collaborative, factor, content
 * and deep branches fused by weights fitted on held-out interactions (see
 * fused.h). */
#include "fused.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/rng.h"
#include "metrics.h"
#include "split.h"

#define FUSED_SALT 0xE5E5E5ULL  /* the carve of incf.c's own early-stopping set */
#define FUSED_STEPS 300
#define FUSED_BATCH 64
#define FUSED_PRIOR 50.0 /* strength of the prior toward equal weights, in held-out items */

static const char *branch_name[REC_FUSED_N] = {"deep", "ease", "ials", "content"};

struct duet_rec_fused {
    duet_rec_fused_config c;
    int32_t nu, ni;
    int has[REC_FUSED_N];
    float w[REC_FUSED_N];
    duet_rec_incf *deep;
    void *ease, *ials, *content; /* model-table states */
};

void duet_rec_fused_config_default(duet_rec_fused_config *c)
{
    memset(c, 0, sizeof *c);
    for (int b = 0; b < REC_FUSED_N; b++) c->use[b] = 1;
    duet_rec_incf_config_default(&c->deep);
    c->ease_lambda = 200.0f;
    c->ials_dim = 64;
    c->ials_sweeps = 15;
    c->ials_reg = 10.0f;
    c->ials_alpha = 2.0f;
    c->content_feat_weight = 0.5f;
    c->cands = 100;
    c->refit = 1;
}

void duet_rec_fused_free(duet_rec_fused *m)
{
    if (!m) return;
    duet_rec_incf_free(m->deep);
    duet_rec_ease_free(m->ease);
    duet_rec_factors_free(m->ials);
    duet_rec_content_free(m->content);
    free(m);
}

float duet_rec_fused_weight(const duet_rec_fused *m, int b)
{
    return b >= 0 && b < REC_FUSED_N && m->has[b] ? m->w[b] : 0.0f;
}
int duet_rec_fused_has(const duet_rec_fused *m, int b) { return b >= 0 && b < REC_FUSED_N && m->has[b]; }
const duet_rec_incf *duet_rec_fused_deep(const duet_rec_fused *m) { return m->deep; }

static int has_content(const duet_rec_side *sd, int32_t ni)
{
    int tok = sd->item_attr && sd->item_attr->n_rows == ni && sd->item_attr->nnz > 0;
    int feat = sd->item_feats && sd->has_feats && sd->n_feats > 0;
    return tok || feat;
}

/* Fit the shallow branches (ease, ials, content) on X. */
static duet_status fit_shallow(duet_rec_fused *m, const duet_rec_fit_ctx *ctx, const duet_rec_csr *X, duet_err *err)
{
    duet_rec_fit_ctx c2 = *ctx;
    c2.train = X;
    c2.valid = NULL;
    duet_status st = DUET_OK;
    if (m->has[REC_FUSED_EASE]) {
        duet_rec_params p = {0};
        p.reg = m->c.ease_lambda;
        st = duet_rec_ease_fit(&c2, &p, &m->ease, err);
    }
    if (!st && m->has[REC_FUSED_IALS]) {
        duet_rec_params p = {0};
        p.weighting = 1;
        p.k = 3;
        p.dim = m->c.ials_dim;
        p.epochs = m->c.ials_sweeps;
        p.reg = m->c.ials_reg;
        p.alpha = m->c.ials_alpha;
        st = duet_rec_ials_fit(&c2, &p, &m->ials, err);
    }
    if (!st && m->has[REC_FUSED_CONTENT]) {
        duet_rec_params p = {0};
        p.weighting = 1;
        p.alpha = m->c.content_feat_weight;
        st = duet_rec_content_fit(&c2, &p, &m->content, err);
    }
    return st;
}

static void free_shallow(duet_rec_fused *m)
{
    duet_rec_ease_free(m->ease);
    duet_rec_factors_free(m->ials);
    duet_rec_content_free(m->content);
    m->ease = m->ials = m->content = NULL;
}

/* Standardise rows (n x ni) in place: z-scores over the items the branch
 * scores; cf branches give cold items (!warm) 0; items a branch does not
 * cover (ease: -1e30) get the row's lowest z. */
static void z_rows(int cf, const uint8_t *warm, float *out, int32_t n, int32_t ni)
{
    for (int32_t r = 0; r < n; r++) {
        float *row = out + (size_t)r * ni;
        double s = 0, s2 = 0;
        int64_t c = 0;
        for (int32_t i = 0; i < ni; i++) {
            if ((cf && !warm[i]) || row[i] < -1e29f || !isfinite(row[i])) continue;
            s += row[i];
            s2 += (double)row[i] * row[i];
            c++;
        }
        double mean = c ? s / (double)c : 0, var = c ? s2 / (double)c - mean * mean : 0;
        double inv = var > 1e-20 ? 1.0 / sqrt(var) : 0;
        float lo = 0;
        for (int32_t i = 0; i < ni; i++) {
            int ok = !((cf && !warm[i]) || row[i] < -1e29f || !isfinite(row[i]));
            if (ok) {
                row[i] = (float)((row[i] - mean) * inv);
                if (row[i] < lo) lo = row[i];
            }
        }
        for (int32_t i = 0; i < ni; i++) {
            if (cf && !warm[i]) row[i] = 0;
            else if (row[i] < -1e29f || !isfinite(row[i])) row[i] = lo;
        }
    }
}

/* z-scores of branch b for users[0..n) into out (n x ni); warm: items with a
 * training interaction in `train` (cold items get 0 in ease and ials). */
static duet_status branch_z(const duet_rec_fused *m, int b, const duet_rec_csr *train, const uint8_t *warm,
                            const int32_t *users, int32_t n, float *out, duet_err *err)
{
    duet_status st;
    switch (b) {
    case REC_FUSED_DEEP: st = duet_rec_incf_score(m->deep, users, n, out, err); break;
    case REC_FUSED_EASE: st = duet_rec_ease_score(m->ease, train, users, n, out, err); break;
    case REC_FUSED_IALS: st = duet_rec_factors_score(m->ials, train, users, n, out, err); break;
    default: st = duet_rec_content_score(m->content, train, users, n, out, err); break;
    }
    if (st) return st;
    z_rows(b == REC_FUSED_EASE || b == REC_FUSED_IALS, warm, out, n, m->ni);
    return DUET_OK;
}

/* out (n x ni) = sum_b w_b z_b; zbuf holds n x ni floats. */
static duet_status fused_scores(const duet_rec_fused *m, const float *w, const duet_rec_csr *train, const uint8_t *warm,
                                const int32_t *users, int32_t n, float *out, float *zbuf, duet_err *err)
{
    size_t tot = (size_t)n * (size_t)m->ni;
    memset(out, 0, tot * sizeof *out);
    for (int b = 0; b < REC_FUSED_N; b++) {
        if (!m->has[b]) continue;
        duet_status st = branch_z(m, b, train, warm, users, n, zbuf, err);
        if (st) return st;
        for (size_t k = 0; k < tot; k++) out[k] += w[b] * zbuf[k];
    }
    return DUET_OK;
}

static uint8_t *warm_of(const duet_rec_csr *X)
{
    uint8_t *w = calloc((size_t)(X->n_cols ? X->n_cols : 1), 1);
    if (w)
        for (int64_t q = 0; q < X->nnz; q++) w[X->indices[q]] = 1;
    return w;
}

/* The fusion loss of weights w (nb) over users' candidate lists: for user
 * q, candidates uptr[q]..uptr[q+1] with features F (row-major, nb per
 * candidate) and weights cw (how many items a candidate stands for); the
 * first npos[q] are the held-out positives. Loss = mean over positives of
 * log sum_c cw_c exp(w . f_c) - w . f_p (the full softmax over items,
 * estimated from the exact top candidates and a weighted uniform sample of
 * the rest), plus l2/2 |w - 1|^2 (a prior toward the equal blend). The
 * gradient goes into g (nb) when not NULL.
 * lg is scratch of the longest list. */
double duet_rec_fused_listwise_loss(const double *w, int nb, const float *F, const float *cw, const int64_t *uptr,
                                    const int32_t *npos, int32_t nv, double l2, double *g, double *lg)
{
    double loss = 0;
    int64_t npos_all = 0;
    if (g)
        for (int k = 0; k < nb; k++) g[k] = 0;
    for (int32_t q = 0; q < nv; q++) {
        int64_t a = uptr[q], e = uptr[q + 1];
        if (npos[q] == 0 || e - a <= npos[q]) continue;
        double mx = -INFINITY;
        for (int64_t c = a; c < e; c++) {
            double v = 0;
            for (int k = 0; k < nb; k++) v += w[k] * F[c * nb + k];
            lg[c - a] = v;
            if (v > mx) mx = v;
        }
        double z = 0;
        for (int64_t c = a; c < e; c++) z += cw[c] * exp(lg[c - a] - mx);
        double lse = mx + log(z);
        for (int64_t c = a; c < a + npos[q]; c++) loss += lse - lg[c - a];
        if (g) {
            for (int64_t c = a; c < e; c++) {
                double p = cw[c] * exp(lg[c - a] - mx) / z;
                for (int k = 0; k < nb; k++) g[k] += npos[q] * p * F[c * nb + k];
            }
            for (int64_t c = a; c < a + npos[q]; c++)
                for (int k = 0; k < nb; k++) g[k] -= F[c * nb + k];
        }
        npos_all += npos[q];
    }
    if (!npos_all) return 0;
    double r = 0;
    for (int k = 0; k < nb; k++) r += (w[k] - 1) * (w[k] - 1);
    if (g)
        for (int k = 0; k < nb; k++) g[k] = g[k] / (double)npos_all + l2 * (w[k] - 1);
    return loss / (double)npos_all + 0.5 * l2 * r;
}

/* Fit the fusion weights on the held-out interactions `held` (branches fitted
 * on fitX): per user, its held-out items, its top m->c.cands candidates (by
 * the unweighted sum of z-scores; training items excluded) and as many items
 * drawn uniformly from the rest, each standing for (rest / drawn) items;
 * Adam on duet_rec_fused_listwise_loss. */
static duet_status fit_fusion(duet_rec_fused *m, const duet_rec_csr *fitX, const duet_rec_csr *held, uint64_t seed,
                              duet_err *err)
{
    int32_t ni = m->ni, M = m->c.cands;
    int nb = 0, bi[REC_FUSED_N];
    for (int b = 0; b < REC_FUSED_N; b++)
        if (m->has[b]) bi[nb++] = b;
    for (int b = 0; b < REC_FUSED_N; b++) m->w[b] = m->has[b] ? 1.0f : 0.0f;
    if (nb < 2) return DUET_OK;
    int32_t *users = malloc((size_t)m->nu * sizeof *users), nv = 0;
    for (int32_t u = 0; users && u < m->nu && u < held->n_rows; u++)
        if (held->indptr[u + 1] > held->indptr[u] && fitX->indptr[u + 1] > fitX->indptr[u]) users[nv++] = u;
    if (!users || nv == 0) {
        free(users);
        return users ? DUET_OK : duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
    }
    int64_t cap = (int64_t)nv * (2 * M + 16), nc = 0, maxc = 0;
    int64_t *uptr = calloc((size_t)nv + 1, sizeof *uptr);
    int32_t *npos = calloc((size_t)nv, sizeof *npos);
    float *sc = malloc((size_t)FUSED_BATCH * ni * sizeof *sc);
    float *zall = malloc((size_t)nb * FUSED_BATCH * ni * sizeof *zall);
    int32_t *top = malloc((size_t)M * sizeof *top);
    uint8_t *warm = warm_of(fitX);
    float *F = malloc((size_t)cap * nb * sizeof *F), *cw = malloc((size_t)cap * sizeof *cw);
    duet_rng r;
    duet_rng_seed(&r, seed ^ 0xF0510ULL);
    duet_status st = DUET_OK;
    if (!uptr || !npos || !sc || !zall || !top || !warm || !F || !cw)
        st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory fitting the fusion");
    size_t stride = (size_t)FUSED_BATCH * ni;
#define ADD_CAND(row, item, weight)                                                                            \
    do {                                                                                                       \
        for (int k = 0; k < nb; k++) F[nc * nb + k] = zall[(size_t)k * stride + (size_t)(row) * ni + (item)]; \
        cw[nc++] = (weight);                                                                                   \
    } while (0)
    for (int32_t b0 = 0; !st && b0 < nv; b0 += FUSED_BATCH) {
        int32_t n = nv - b0 < FUSED_BATCH ? nv - b0 : FUSED_BATCH;
        for (int k = 0; !st && k < nb; k++) st = branch_z(m, bi[k], fitX, warm, users + b0, n, zall + (size_t)k * stride, err);
        for (int32_t rr = 0; !st && rr < n; rr++) {
            if (nc + 2 * M + (held->indptr[users[b0 + rr] + 1] - held->indptr[users[b0 + rr]]) > cap) {
                int64_t ncap = cap * 2 + 2 * M + (held->indptr[users[b0 + rr] + 1] - held->indptr[users[b0 + rr]]);
                float *nf = realloc(F, (size_t)ncap * nb * sizeof *nf), *nw = nf ? realloc(cw, (size_t)ncap * sizeof *nw) : NULL;
                if (nf) F = nf;
                if (nw) cw = nw;
                if (!nf || !nw) {
                    st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory fitting the fusion");
                    break;
                }
                cap = ncap;
            }
            int32_t u = users[b0 + rr];
            float *s = sc + (size_t)rr * ni;
            for (int32_t i = 0; i < ni; i++) {
                float v = 0;
                for (int k = 0; k < nb; k++) v += zall[(size_t)k * stride + (size_t)rr * ni + i];
                s[i] = v;
            }
            for (int64_t q = fitX->indptr[u]; q < fitX->indptr[u + 1]; q++) s[fitX->indices[q]] = -INFINITY;
            int64_t start = nc;
            int32_t np = 0;
            for (int64_t q = held->indptr[u]; q < held->indptr[u + 1]; q++) {
                int32_t i = held->indices[q];
                if (s[i] == -INFINITY) continue;
                ADD_CAND(rr, i, 1.0f);
                np++;
            }
            for (int64_t q = held->indptr[u]; q < held->indptr[u + 1]; q++) s[held->indices[q]] = -INFINITY;
            int got = duet_rec_topk(s, ni, NULL, M, top);
            for (int j = 0; j < got; j++) ADD_CAND(rr, top[j], 1.0f);
            for (int j = 0; j < got; j++) s[top[j]] = -INFINITY;
            int64_t rest = 0;
            for (int32_t i = 0; i < ni; i++) rest += s[i] != -INFINITY;
            int draws = rest < M ? (int)rest : M;
            for (int j = 0; j < draws; j++) {
                int32_t i;
                do i = (int32_t)duet_rng_below(&r, (uint64_t)ni);
                while (s[i] == -INFINITY);
                ADD_CAND(rr, i, (float)((double)rest / draws));
            }
            npos[b0 + rr] = np;
            uptr[b0 + rr] = start;
            uptr[b0 + rr + 1] = nc;
            if (nc - start > maxc) maxc = nc - start;
        }
    }
#undef ADD_CAND
    double w[REC_FUSED_N], mo[REC_FUSED_N] = {0}, vo[REC_FUSED_N] = {0}, g[REC_FUSED_N];
    for (int k = 0; k < nb; k++) w[k] = 1.0;
    double *lg = st ? NULL : malloc((size_t)(maxc ? maxc : 1) * sizeof *lg);
    if (!st && !lg) st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory fitting the fusion");
    int64_t npos_all = 0;
    for (int32_t q = 0; q < nv; q++) npos_all += npos[q];
    /* the prior is worth FUSED_PRIOR held-out items: strong on tiny data, weak on large */
    double l2 = npos_all > 0 ? FUSED_PRIOR / (double)npos_all : 0;
    for (int t = 1; !st && t <= FUSED_STEPS; t++) {
        duet_rec_fused_listwise_loss(w, nb, F, cw, uptr, npos, nv, l2, g, lg);
        double bc1 = 1 - pow(0.9, t), bc2 = 1 - pow(0.999, t);
        for (int k = 0; k < nb; k++) {
            mo[k] = 0.9 * mo[k] + 0.1 * g[k];
            vo[k] = 0.999 * vo[k] + 0.001 * g[k] * g[k];
            w[k] -= 0.05 * (mo[k] / bc1) / (sqrt(vo[k] / bc2) + 1e-8);
            if (w[k] < 0) w[k] = 0; /* every branch scores "higher is better": no negative weight */
        }
    }
    if (!st)
        for (int k = 0; k < nb; k++) m->w[bi[k]] = (float)w[k];
    free(lg);
    free(users);
    free(uptr);
    free(npos);
    free(sc);
    free(zall);
    free(top);
    free(warm);
    free(F);
    free(cw);
    return st;
}

duet_status duet_rec_fused_train(const duet_rec_fit_ctx *ctx, const duet_rec_fused_config *cfg, duet_rec_fused **out,
                                 duet_err *err)
{
    return duet_rec_fused_train_ex(ctx, cfg, NULL, out, err);
}

duet_status duet_rec_fused_train_ex(const duet_rec_fit_ctx *ctx, const duet_rec_fused_config *cfg,
                                    const duet_rec_incf_train_opts *topt, duet_rec_fused **out, duet_err *err)
{
    *out = NULL;
    const duet_rec_csr *X = ctx->train;
    if (!(cfg->ease_lambda > 0) || cfg->ials_dim < 4 || cfg->ials_dim > 256 || cfg->ials_sweeps < 1 ||
        cfg->ials_sweeps > 100 || !(cfg->ials_reg >= 0) || !(cfg->ials_alpha >= 0) || !(cfg->content_feat_weight >= 0) ||
        cfg->cands < 10 || cfg->cands > 2000)
        return duet_err_set(err, DUET_ERR_ARG,
                            "improved-ncf: bad configuration (ease lambda > 0, ials dim 4..256, sweeps 1..100, "
                            "reg/alpha/feature weight >= 0, candidates 10..2000)");
    if (!X || X->nnz == 0) return duet_err_set(err, DUET_ERR_EMPTY, "improved-ncf: no training interactions");
    duet_rec_fused *m = calloc(1, sizeof *m);
    if (!m) return duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
    m->c = *cfg;
    m->nu = X->n_rows;
    m->ni = X->n_cols;
    m->has[REC_FUSED_DEEP] = cfg->use[REC_FUSED_DEEP];
    m->has[REC_FUSED_EASE] = cfg->use[REC_FUSED_EASE];
    m->has[REC_FUSED_IALS] = cfg->use[REC_FUSED_IALS];
    m->has[REC_FUSED_CONTENT] = cfg->use[REC_FUSED_CONTENT] && has_content(&ctx->side, m->ni);
    int any = 0;
    for (int b = 0; b < REC_FUSED_N; b++) any |= m->has[b];
    if (!any) {
        duet_rec_fused_free(m);
        return duet_err_set(err, DUET_ERR_ARG, "improved-ncf: no branch left (the data has no side information for "
                                               "the content branch)");
    }
    /* the held-out set of the fusion and of the deep branch's early stopping */
    duet_rec_csr fitX = {0}, held = {0};
    const duet_rec_csr *trX = X, *hv = ctx->valid;
    int carved = 0;
    duet_status st = DUET_OK;
    if (!hv) {
        duet_err e2 = {0};
        if (duet_rec_split_users(X, 0.1, 5, ctx->seed ^ FUSED_SALT, &fitX, &held, &e2) == DUET_OK && held.nnz > 0) {
            trX = &fitX;
            hv = &held;
            carved = 1;
        }
    }
    if (m->has[REC_FUSED_DEEP]) {
        duet_rec_fit_ctx c2 = *ctx;
        c2.train = trX;
        c2.valid = hv;
        st = duet_rec_incf_train(&c2, &cfg->deep, topt, &m->deep, err);
    }
    if (!st) st = fit_shallow(m, ctx, trX, err);
    if (!st && hv) st = fit_fusion(m, trX, hv, ctx->seed, err);
    else if (!st)
        for (int b = 0; b < REC_FUSED_N; b++) m->w[b] = m->has[b] ? 1.0f : 0.0f;
    if (!st && carved && cfg->refit) {
        free_shallow(m);
        st = fit_shallow(m, ctx, X, err);
    }
    duet_rec_csr_free(&fitX);
    duet_rec_csr_free(&held);
    if (st) {
        duet_rec_fused_free(m);
        return st;
    }
    *out = m;
    return DUET_OK;
}

duet_status duet_rec_fused_score(const duet_rec_fused *m, const duet_rec_csr *train, const int32_t *users, int32_t n,
                                 float *out, duet_err *err)
{
    for (int32_t k = 0; k < n; k++)
        if (users[k] < 0 || users[k] >= m->nu) return duet_err_set(err, DUET_ERR_ARG, "improved-ncf: user out of range");
    if (!train || train->n_cols != m->ni || train->n_rows != m->nu)
        return duet_err_set(err, DUET_ERR_ARG, "improved-ncf: the history matrix does not match the model");
    float *zb = malloc((size_t)(n ? n : 1) * (size_t)m->ni * sizeof *zb);
    uint8_t *warm = warm_of(train);
    duet_status st = DUET_OK;
    if (!zb || !warm) st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory scoring");
    if (!st) st = fused_scores(m, m->w, train, warm, users, n, out, zb, err);
    free(zb);
    free(warm);
    return st;
}

duet_status duet_rec_fused_score_history(const duet_rec_fused *m, const duet_rec_csr *train, const int32_t *items,
                                         int n, uint64_t seed, float *out, duet_err *err)
{
    int32_t ni = m->ni;
    if (n < 1) return duet_err_set(err, DUET_ERR_ARG, "improved-ncf: a history needs at least one item");
    for (int k = 0; k < n; k++)
        if (items[k] < 0 || items[k] >= ni) return duet_err_set(err, DUET_ERR_ARG, "improved-ncf: item out of range");
    if (!train || train->n_cols != ni) return duet_err_set(err, DUET_ERR_ARG, "improved-ncf: bad history matrix");
    float *z = malloc((size_t)ni * sizeof *z), *rep = NULL;
    uint8_t *warm = warm_of(train);
    duet_rec_triple *t = malloc((size_t)n * sizeof *t);
    duet_rec_csr h = {0};
    duet_status st = DUET_OK;
    if (!z || !warm || !t) st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
    for (int k = 0; !st && k < n; k++) t[k] = (duet_rec_triple){0, items[k], 1.0f, 0};
    if (!st) st = duet_rec_csr_from_triples(&h, 1, ni, t, n, 1, "history", err);
    for (int k = 0; !st && k < h.nnz; k++) h.values[k] = 1.0f; /* repeats count once */
    memset(out, 0, (size_t)ni * sizeof *out);
    int32_t u0 = 0;
    for (int b = 0; !st && b < REC_FUSED_N; b++) {
        if (!m->has[b]) continue;
        switch (b) {
        case REC_FUSED_DEEP:
            rep = malloc((size_t)duet_rec_incf_user_rep_len(m->deep) * sizeof *rep);
            if (!rep) st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
            if (!st) st = duet_rec_incf_fold_in(m->deep, items, n, seed, rep, err);
            if (!st) st = duet_rec_incf_score_rep(m->deep, rep, z, err);
            free(rep);
            rep = NULL;
            break;
        case REC_FUSED_EASE: st = duet_rec_ease_score(m->ease, &h, &u0, 1, z, err); break;
        case REC_FUSED_IALS: {
            const duet_rec_factors *f = m->ials;
            float *u = malloc((size_t)f->dim * sizeof *u);
            if (!u) st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
            /* confidence of one play: 1 + alpha log(2) */
            if (!st)
                st = duet_rec_factors_fold_in(f, items, n, m->c.ials_reg, 1.0f + m->c.ials_alpha * logf(2.0f), u, err);
            if (!st) st = duet_rec_factors_score_vec(f, u, z);
            free(u);
            break;
        }
        default: st = duet_rec_content_score(m->content, &h, &u0, 1, z, err); break;
        }
        if (st) break;
        z_rows(b == REC_FUSED_EASE || b == REC_FUSED_IALS, warm, z, 1, ni);
        for (int32_t i = 0; i < ni; i++) out[i] += m->w[b] * z[i];
    }
    duet_rec_csr_free(&h);
    free(t);
    free(z);
    free(warm);
    return st;
}

/* ------------------------------------------------------------ model table */

static duet_status table_fit(const int use[REC_FUSED_N], int deep_ids_only, const duet_rec_fit_ctx *ctx,
                             const duet_rec_params *p, void **state, duet_err *err)
{
    duet_rec_fused_config c;
    duet_rec_fused_config_default(&c);
    for (int b = 0; b < REC_FUSED_N; b++) c.use[b] = use[b];
    duet_rec_incf_config *d = &c.deep;
    d->variant = deep_ids_only ? REC_INCF_NO_CONTENT : REC_INCF_FULL;
    if (p->dim > 0) d->dim = p->dim;
    if (p->k > 0) d->negatives = p->k;
    if (p->epochs > 0) d->max_epochs = p->epochs;
    if (p->lr > 0) d->lr = p->lr;
    d->id_dropout = deep_ids_only ? 0.0f : p->alpha;
    d->loss = p->weighting;
    d->weight_decay = p->decay;
    if (p->reg >= 1) d->patience = (int)p->reg;
    duet_rec_fused *m = NULL;
    duet_status st = duet_rec_fused_train(ctx, &c, &m, err);
    if (st) return st;
    *state = m;
    return DUET_OK;
}

duet_status duet_rec_fused_fit_full(const duet_rec_fit_ctx *c, const duet_rec_params *p, void **s, duet_err *e)
{
    static const int use[REC_FUSED_N] = {1, 1, 1, 1};
    return table_fit(use, 0, c, p, s, e);
}
duet_status duet_rec_fused_fit_no_deep(const duet_rec_fit_ctx *c, const duet_rec_params *p, void **s, duet_err *e)
{
    static const int use[REC_FUSED_N] = {0, 1, 1, 1};
    return table_fit(use, 0, c, p, s, e);
}
duet_status duet_rec_fused_fit_no_ease(const duet_rec_fit_ctx *c, const duet_rec_params *p, void **s, duet_err *e)
{
    static const int use[REC_FUSED_N] = {1, 0, 1, 1};
    return table_fit(use, 0, c, p, s, e);
}
duet_status duet_rec_fused_fit_no_ials(const duet_rec_fit_ctx *c, const duet_rec_params *p, void **s, duet_err *e)
{
    static const int use[REC_FUSED_N] = {1, 1, 0, 1};
    return table_fit(use, 0, c, p, s, e);
}
duet_status duet_rec_fused_fit_no_content(const duet_rec_fit_ctx *c, const duet_rec_params *p, void **s, duet_err *e)
{
    static const int use[REC_FUSED_N] = {1, 1, 1, 0};
    return table_fit(use, 1, c, p, s, e);
}
duet_status duet_rec_fused_table_score(const void *state, const duet_rec_csr *train, const int32_t *users, int32_t n,
                                       float *out, duet_err *err)
{
    return duet_rec_fused_score(state, train, users, n, out, err);
}
void duet_rec_fused_table_free(void *state) { duet_rec_fused_free(state); }

const char *duet_rec_fused_branch_name(int b) { return b >= 0 && b < REC_FUSED_N ? branch_name[b] : "?"; }

/* ------------------------------------------------------------ state inside a model file */

#include "state_io.h"

duet_status duet_rec_fused_export(const duet_rec_fused *m, duet_st_writer *w, const char *prefix, duet_err *err)
{
    int32_t hdr[2 + REC_FUSED_N] = {m->nu, m->ni};
    for (int b = 0; b < REC_FUSED_N; b++) hdr[2 + b] = m->has[b];
    duet_status st = duet_rec_st_put(w, prefix, "hdr", DUET_ST_I32, 2 + REC_FUSED_N, 0, hdr, err);
    if (!st) st = duet_rec_st_put(w, prefix, "weights", DUET_ST_F32, REC_FUSED_N, 0, m->w, err);
    float icfg[2] = {m->c.ials_reg, m->c.ials_alpha};
    if (!st) st = duet_rec_st_put(w, prefix, "ials_fold_in", DUET_ST_F32, 2, 0, icfg, err);
    char p[200];
    for (int b = 0; !st && b < REC_FUSED_N; b++) {
        if (!m->has[b]) continue;
        snprintf(p, sizeof p, "%s%s.", prefix, branch_name[b]);
        switch (b) {
        case REC_FUSED_DEEP: st = duet_rec_incf_export(m->deep, w, p, err); break;
        case REC_FUSED_EASE: st = duet_rec_ease_export(m->ease, w, p, err); break;
        case REC_FUSED_IALS: st = duet_rec_factors_export(m->ials, w, p, err); break;
        default: st = duet_rec_content_export(m->content, w, p, err); break;
        }
    }
    return st;
}

duet_status duet_rec_fused_import(const duet_st_file *f, const char *prefix, duet_rec_fused **out, duet_err *err)
{
    *out = NULL;
    const void *h, *wt;
    duet_status st = duet_rec_st_get(f, prefix, "hdr", DUET_ST_I32, 2 + REC_FUSED_N, 0, &h, NULL, NULL, err);
    if (!st) st = duet_rec_st_get(f, prefix, "weights", DUET_ST_F32, REC_FUSED_N, 0, &wt, NULL, NULL, err);
    if (st) return st;
    const int32_t *hdr = h;
    if (hdr[0] < 1 || hdr[1] < 1) return duet_err_set(err, DUET_ERR_FORMAT, "model file: bad improved-ncf header");
    duet_rec_fused *m = calloc(1, sizeof *m);
    if (!m) return duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
    duet_rec_fused_config_default(&m->c);
    m->nu = hdr[0];
    m->ni = hdr[1];
    memcpy(m->w, wt, sizeof m->w);
    const void *ic;
    st = duet_rec_st_get(f, prefix, "ials_fold_in", DUET_ST_F32, 2, 0, &ic, NULL, NULL, err);
    if (!st) {
        m->c.ials_reg = ((const float *)ic)[0];
        m->c.ials_alpha = ((const float *)ic)[1];
    }
    char p[200];
    for (int b = 0; !st && b < REC_FUSED_N; b++) {
        m->has[b] = hdr[2 + b] != 0;
        if (!m->has[b]) continue;
        snprintf(p, sizeof p, "%s%s.", prefix, branch_name[b]);
        void *s = NULL;
        switch (b) {
        case REC_FUSED_DEEP:
            st = duet_rec_incf_import(f, p, &m->deep, err);
            if (!st && (duet_rec_incf_n_users(m->deep) != m->nu || duet_rec_incf_n_items(m->deep) != m->ni))
                st = duet_err_set(err, DUET_ERR_FORMAT, "model file: the deep branch does not match the model");
            break;
        case REC_FUSED_EASE: st = duet_rec_ease_import(f, p, &m->ease, err); break;
        case REC_FUSED_IALS:
            st = duet_rec_factors_import(f, p, &s, err);
            m->ials = s;
            if (!st && (((duet_rec_factors *)s)->n_users != m->nu || ((duet_rec_factors *)s)->n_items != m->ni))
                st = duet_err_set(err, DUET_ERR_FORMAT, "model file: the factor branch does not match the model");
            break;
        default: st = duet_rec_content_import(f, p, &m->content, err); break;
        }
    }
    if (st) {
        duet_rec_fused_free(m);
        return st;
    }
    *out = m;
    return DUET_OK;
}
