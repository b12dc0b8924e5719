/* recommender/incf.c: the improved NCF (see incf.h for the model). */
#include "incf.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/progress.h"
#include "../common/rng.h"
#include "word2vec.h"
#include "../nn/checkpoint.h"
#include "../nn/gemm.h"
#include "../nn/layers.h"
#include "../nn/optim.h"
#include "../nn/safetensors.h"
#include "../nn/tensor.h"
#include "metrics.h"
#include "split.h"

#define INCF_BATCH 256
#define INCF_MAX_TOK 32    /* tokens per item and family */
#define INCF_MAX_FRIENDS 32
#define INCF_VALID_USERS 500
#define INCF_FORMAT "duet-rec-incf"
#define PHASE_REFIT 100000
#define INCF_MIN_STEPS 4000 /* Adam steps before early stopping may choose an epoch (auto min_epochs) */
#define INCF_ES_N 6         /* es.state: best smoothed value, best epoch, epochs without gain, stop, v(e-1), v(e-2) */

static const char *variant_name[] = {"improved-ncf", "improved-ncf-no-w2v", "improved-ncf-no-outer",
                                     "improved-ncf-no-group", "improved-ncf-no-content"};

/* tensor slots (index into P, -1 when absent) */
enum {
    S_UID, S_IID, S_TOK, S_UG0W, S_UG0B, S_UG1W, S_UG1B, S_IG0W, S_IG0B, S_IG1W, S_IG1B,
    S_M0W, S_M0B, S_M1W, S_M1B, S_OW, S_OB, S_FW, S_FB, S_ES, S_N
};
static const char *slot_name[S_N] = {"user.id",       "item.id",       "tok",           "ugrp.0.weight",
                                     "ugrp.0.bias",   "ugrp.1.weight", "ugrp.1.bias",   "igrp.0.weight",
                                     "igrp.0.bias",   "igrp.1.weight", "igrp.1.bias",   "mlp.0.weight",
                                     "mlp.0.bias",    "mlp.1.weight",  "mlp.1.bias",    "outer.weight",
                                     "outer.bias",    "out.weight",    "out.bias",      "es.state"};

struct rec_incf {
    rec_incf_config c;
    int32_t nu, ni, nt;
    int d, dw, H1, H2, Ho, Dz;
    int use_group, use_outer, use_content, learn_tok;
    int has_ut, has_fr, has_ia, has_kg, nf;
    int Du, Di, DmU, DmI;
    /* inputs (training models only) */
    rec_csr itok_a, itok_kg, utok, fr; /* values: normalised weights */
    float *feats;                      /* ni x nf, standardised, 0 where absent */
    uint8_t *has_feats;                /* ni */
    uint8_t *warm;                     /* ni: item had training interactions */
    rec_csr seen;                      /* the fit matrix (binary) */
    duet_params *P;
    int slot[S_N];
    int n_live;                        /* tensors before the best.* copies */
    /* scoring representations */
    float *ua, *um, *ia, *im, *C1;     /* nu x d, nu x DmU, ni x d, ni x DmI, ni x H1 */
    char **user_ids, **item_ids, **item_names;
    char desc[320];
    int best_epoch;
    double best_valid;
};

void rec_incf_config_default(rec_incf_config *c)
{
    memset(c, 0, sizeof *c);
    c->variant = REC_INCF_FULL;
    c->dim = 32;
    c->wdim = 32;
    c->negatives = 16;
    c->max_epochs = 0; /* auto */
    c->patience = 0;   /* auto */
    c->min_epochs = 0; /* auto */
    c->lr = 2e-3f;
    c->id_dropout = 0.2f;
    c->loss = 0;
    c->refit = 0;
    c->w2v_epochs = 10;
    c->weight_decay = 0.0f;
}

static void free_strs(char **s, int32_t n)
{
    if (!s) return;
    for (int32_t i = 0; i < n; i++) free(s[i]);
    free(s);
}

void rec_incf_free(rec_incf *m)
{
    if (!m) return;
    rec_csr_free(&m->itok_a);
    rec_csr_free(&m->itok_kg);
    rec_csr_free(&m->utok);
    rec_csr_free(&m->fr);
    rec_csr_free(&m->seen);
    free(m->feats);
    free(m->has_feats);
    free(m->warm);
    duet_params_free(m->P);
    free(m->ua);
    free(m->um);
    free(m->ia);
    free(m->im);
    free(m->C1);
    free_strs(m->user_ids, m->nu);
    free_strs(m->item_ids, m->ni);
    free_strs(m->item_names, m->ni);
    free(m);
}

int32_t rec_incf_n_users(const rec_incf *m) { return m->nu; }
int32_t rec_incf_n_items(const rec_incf *m) { return m->ni; }
int rec_incf_best_epoch(const rec_incf *m) { return m->best_epoch; }
double rec_incf_best_valid(const rec_incf *m) { return m->best_valid; }
const char *rec_incf_describe(const rec_incf *m) { return m->desc; }

static float *T(const rec_incf *m, int s) { return m->slot[s] < 0 ? NULL : duet_params_data(m->P, (size_t)m->slot[s]); }
static float *G(const rec_incf *m, float *gbase, int s)
{
    return m->slot[s] < 0 || !gbase ? NULL : gbase + m->P->info[m->slot[s]].offset;
}

/* ------------------------------------------------------------ dimensions */

static void set_dims(rec_incf *m)
{
    int d = m->d, dw = m->dw;
    m->H1 = d;
    m->H2 = d / 2 > 4 ? d / 2 : 4;
    m->Ho = d / 4 > 4 ? d / 4 : 4;
    m->Du = d;
    m->Di = d;
    if (m->use_content) {
        if (m->has_ut) m->Du += dw + 1;
        if (m->has_fr) m->Du += d + 1;
        if (m->has_ia) m->Di += dw + 1;
        if (m->has_kg) m->Di += dw + 1;
        if (m->nf) m->Di += m->nf + 1;
    }
    m->DmU = m->use_group ? d : m->Du;
    m->DmI = m->use_group ? d : m->Di;
    m->Dz = d + m->H2 + (m->use_outer ? m->Ho : 0);
    snprintf(m->desc, sizeof m->desc,
             "variant=%s d=%d dw=%d negatives=%d max_epochs=%d min_epochs=%d patience=%d lr=%g id_dropout=%g loss=%s refit=%d "
             "w2v_epochs=%d parts=%s%s%s%s%s",
             variant_name[m->c.variant], d, dw, m->c.negatives, m->c.max_epochs, m->c.min_epochs, m->c.patience, (double)m->c.lr,
             (double)m->c.id_dropout, m->c.loss ? "bpr" : "bce", m->c.refit, m->c.w2v_epochs,
             m->use_content && m->has_ut ? "u" : "", m->use_content && m->has_fr ? "f" : "",
             m->use_content && m->has_ia ? "a" : "", m->use_content && m->has_kg ? "k" : "",
             m->use_content && m->nf ? "n" : "");
    if (m->c.weight_decay > 0) {
        /* appended only when set, so files written before the option still match */
        size_t len = strlen(m->desc);
        snprintf(m->desc + len, sizeof m->desc - len, " wd=%g", (double)m->c.weight_decay);
    }
}

/* Parameter block. training: add best.* copies and es.state. */
static duet_status build_params(rec_incf *m, int training, duet_err *err)
{
    duet_param_spec sp[2 * S_N];
    int n = 0, d = m->d;
    for (int s = 0; s < S_N; s++) m->slot[s] = -1;
#define ADD(S, nd, a, b, fl)                                                                                   \
    do {                                                                                                       \
        m->slot[S] = n;                                                                                        \
        sp[n++] = (duet_param_spec){slot_name[S], nd, {a, b, 0, 0}, fl};                                       \
    } while (0)
    if (training) {
        ADD(S_UID, 2, m->nu, d, DUET_PARAM_SPARSE);
        ADD(S_IID, 2, m->ni, d, DUET_PARAM_SPARSE);
        if (m->use_content && m->nt > 0 && (m->has_ut || m->has_ia || m->has_kg))
            ADD(S_TOK, 2, m->nt, m->dw, m->learn_tok ? DUET_PARAM_SPARSE : DUET_PARAM_BUFFER);
        if (m->use_group) {
            ADD(S_UG0W, 2, d, m->Du, 0);
            ADD(S_UG0B, 1, d, 0, DUET_PARAM_NO_DECAY);
            ADD(S_UG1W, 2, d, d, 0);
            ADD(S_UG1B, 1, d, 0, DUET_PARAM_NO_DECAY);
            ADD(S_IG0W, 2, d, m->Di, 0);
            ADD(S_IG0B, 1, d, 0, DUET_PARAM_NO_DECAY);
            ADD(S_IG1W, 2, d, d, 0);
            ADD(S_IG1B, 1, d, 0, DUET_PARAM_NO_DECAY);
        }
    }
    ADD(S_M0W, 2, m->H1, m->DmU + m->DmI, 0);
    ADD(S_M0B, 1, m->H1, 0, DUET_PARAM_NO_DECAY);
    ADD(S_M1W, 2, m->H2, m->H1, 0);
    ADD(S_M1B, 1, m->H2, 0, DUET_PARAM_NO_DECAY);
    if (m->use_outer) {
        ADD(S_OW, 2, m->Ho, (int64_t)d * d, 0);
        ADD(S_OB, 1, m->Ho, 0, DUET_PARAM_NO_DECAY);
    }
    ADD(S_FW, 2, 1, m->Dz, 0);
    ADD(S_FB, 1, 1, 0, DUET_PARAM_NO_DECAY);
#undef ADD
    m->n_live = n;
    char names[S_N][DUET_PARAM_NAME_MAX];
    if (training) {
        int live = n;
        for (int k = 0; k < live; k++) {
            snprintf(names[k], sizeof names[k], "best.%s", sp[k].name);
            sp[n] = sp[k];
            sp[n].name = names[k];
            sp[n].flags = DUET_PARAM_BUFFER;
            n++;
        }
        m->slot[S_ES] = n;
        sp[n++] = (duet_param_spec){slot_name[S_ES], 1, {INCF_ES_N, 0, 0, 0}, DUET_PARAM_BUFFER};
    }
    return duet_params_new(sp, (size_t)n, &m->P, err);
}

/* ------------------------------------------------------------ inputs */

/* Weighted mean of token rows: out (dw) = sum w tok[t]; returns 1 when the row is not empty. */
static int bag(float *out, const rec_csr *c, int32_t r, const float *tok, int dw)
{
    memset(out, 0, (size_t)dw * sizeof *out);
    if (!tok || r >= c->n_rows) return 0;
    for (int64_t q = c->indptr[r]; q < c->indptr[r + 1]; q++) duet_axpy(out, c->values[q], tok + (size_t)c->indices[q] * dw, (size_t)dw);
    return c->indptr[r + 1] > c->indptr[r];
}

static void bag_back(float *dtok, const rec_csr *c, int32_t r, const float *dout, int dw)
{
    if (!dtok || r >= c->n_rows) return;
    for (int64_t q = c->indptr[r]; q < c->indptr[r + 1]; q++) duet_axpy(dtok + (size_t)c->indices[q] * dw, c->values[q], dout, (size_t)dw);
}

/* Raw user input x (Du). */
static void user_input(const rec_incf *m, int32_t u, float *x)
{
    int d = m->d, dw = m->dw, o = d;
    const float *U = T(m, S_UID);
    memcpy(x, U + (size_t)u * d, (size_t)d * sizeof *x);
    if (!m->use_content) return;
    if (m->has_ut) {
        x[o + dw] = (float)bag(x + o, &m->utok, u, T(m, S_TOK), dw);
        o += dw + 1;
    }
    if (m->has_fr) {
        float *f = x + o;
        memset(f, 0, (size_t)d * sizeof *f);
        for (int64_t q = m->fr.indptr[u]; q < m->fr.indptr[u + 1]; q++)
            duet_axpy(f, m->fr.values[q], U + (size_t)m->fr.indices[q] * d, (size_t)d);
        f[d] = m->fr.indptr[u + 1] > m->fr.indptr[u] ? 1.0f : 0.0f;
        o += d + 1;
    }
}

static void user_input_back(const rec_incf *m, float *gbase, int32_t u, const float *dx)
{
    int d = m->d, dw = m->dw, o = d;
    float *dU = G(m, gbase, S_UID);
    duet_acc(dU + (size_t)u * d, dx, (size_t)d);
    if (!m->use_content) return;
    if (m->has_ut) {
        if (m->learn_tok) bag_back(G(m, gbase, S_TOK), &m->utok, u, dx + o, dw);
        o += dw + 1;
    }
    if (m->has_fr) {
        for (int64_t q = m->fr.indptr[u]; q < m->fr.indptr[u + 1]; q++)
            duet_axpy(dU + (size_t)m->fr.indices[q] * d, m->fr.values[q], dx + o, (size_t)d);
        o += d + 1;
    }
}

/* Raw item input x (Di); drop = 1 zeroes the id embedding (also for cold items). */
static void item_input(const rec_incf *m, int32_t i, int drop, float *x)
{
    int d = m->d, dw = m->dw, o = d;
    if (drop || !m->warm[i]) memset(x, 0, (size_t)d * sizeof *x);
    else memcpy(x, T(m, S_IID) + (size_t)i * d, (size_t)d * sizeof *x);
    if (!m->use_content) return;
    const float *tok = T(m, S_TOK);
    if (m->has_ia) {
        x[o + dw] = (float)bag(x + o, &m->itok_a, i, tok, dw);
        o += dw + 1;
    }
    if (m->has_kg) {
        x[o + dw] = (float)bag(x + o, &m->itok_kg, i, tok, dw);
        o += dw + 1;
    }
    if (m->nf) {
        memcpy(x + o, m->feats + (size_t)i * m->nf, (size_t)m->nf * sizeof *x);
        x[o + m->nf] = m->has_feats[i] ? 1.0f : 0.0f;
    }
}

static void item_input_back(const rec_incf *m, float *gbase, int32_t i, int drop, const float *dx)
{
    int d = m->d, dw = m->dw, o = d;
    if (!drop && m->warm[i]) duet_acc(G(m, gbase, S_IID) + (size_t)i * d, dx, (size_t)d);
    if (!m->use_content || !m->learn_tok) return;
    float *dtok = G(m, gbase, S_TOK);
    if (m->has_ia) {
        bag_back(dtok, &m->itok_a, i, dx + o, dw);
        o += dw + 1;
    }
    if (m->has_kg) bag_back(dtok, &m->itok_kg, i, dx + o, dw);
}

/* ------------------------------------------------------------ batch forward/backward */

typedef struct incf_buf {
    int B;
    float *xu, *xi, *hu, *gu, *hi, *gi, *gmf, *min, *h1, *h2, *op, *o, *z, *lg;
    float *dxu, *dxi, *dhu, *dgu, *dhi, *dgi, *dau, *dai, *dmu, *dmi, *dmin, *dh1, *dh2, *dop, *do_, *dz, *dlg;
    float *mem;
} incf_buf;

static duet_status buf_init(incf_buf *b, const rec_incf *m, int B, duet_err *err)
{
    size_t d = (size_t)m->d, Bz = (size_t)B;
    size_t sz[] = {(size_t)m->Du, (size_t)m->Di, d, d, d, d, d, (size_t)(m->DmU + m->DmI), (size_t)m->H1,
                   (size_t)m->H2, m->use_outer ? d * d : 1, (size_t)m->Ho, (size_t)m->Dz, 1,
                   (size_t)m->Du, (size_t)m->Di, d, d, d, d, d, d, (size_t)m->DmU, (size_t)m->DmI,
                   (size_t)(m->DmU + m->DmI), (size_t)m->H1, (size_t)m->H2, m->use_outer ? d * d : 1,
                   (size_t)m->Ho, (size_t)m->Dz, 1};
    float **dst[] = {&b->xu, &b->xi, &b->hu, &b->gu, &b->hi, &b->gi, &b->gmf, &b->min, &b->h1, &b->h2, &b->op,
                     &b->o, &b->z, &b->lg, &b->dxu, &b->dxi, &b->dhu, &b->dgu, &b->dhi, &b->dgi, &b->dau,
                     &b->dai, &b->dmu, &b->dmi, &b->dmin, &b->dh1, &b->dh2, &b->dop, &b->do_, &b->dz, &b->dlg};
    size_t n = sizeof sz / sizeof sz[0], tot = 0;
    for (size_t k = 0; k < n; k++) tot += (sz[k] * Bz + 15) & ~(size_t)15;
    b->mem = duet_alloc_floats(tot);
    if (!b->mem) return duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
    memset(b->mem, 0, tot * sizeof(float));
    float *p = b->mem;
    for (size_t k = 0; k < n; k++) {
        *dst[k] = p;
        p += (sz[k] * Bz + 15) & ~(size_t)15;
    }
    b->B = B;
    return DUET_OK;
}

static void buf_free(incf_buf *b) { duet_free_aligned(b->mem); }

/* In-place ReLU backward: dx[k] = 0 where the forward output was 0. */
static void relu_mask(float *dx, const float *out, size_t n)
{
    for (size_t k = 0; k < n; k++) dx[k] = out[k] > 0 ? dx[k] : 0.0f;
}

/* Group fusion forward: g (B x d) = W1 ReLU(W0 x + b0) + b1. */
static void group_fwd(const rec_incf *m, int w0, const float *x, int D, float *h, float *g, int B)
{
    int d = m->d;
    duet_linear_forward(h, x, T(m, w0), T(m, w0 + 1), B, D, d);
    duet_relu_forward(h, h, (size_t)B * d);
    duet_linear_forward(g, h, T(m, w0 + 2), T(m, w0 + 3), B, d, d);
}

static void group_bwd(const rec_incf *m, float *gbase, int w0, float *dx, float *dh, const float *dg, const float *x,
                      int D, const float *h, int B)
{
    int d = m->d;
    duet_linear_backward(dh, G(m, gbase, w0 + 2), G(m, gbase, w0 + 3), dg, h, T(m, w0 + 2), B, d, d);
    relu_mask(dh, h, (size_t)B * d);
    duet_linear_backward(dx, G(m, gbase, w0), G(m, gbase, w0 + 1), dh, x, T(m, w0), B, D, d);
}

/* Interaction head forward from a (B x d) and m (B x Dm) of both sides: lg (B). */
static void head_fwd(const rec_incf *m, incf_buf *b, const float *au, const float *ai, const float *mu,
                     const float *mi, int B)
{
    int d = m->d;
    size_t n = (size_t)B * d;
    for (size_t k = 0; k < n; k++) b->gmf[k] = au[k] * ai[k];
    duet_concat_forward(b->min, mu, mi, B, m->DmU, m->DmI, 1);
    duet_linear_forward(b->h1, b->min, T(m, S_M0W), T(m, S_M0B), B, m->DmU + m->DmI, m->H1);
    duet_relu_forward(b->h1, b->h1, (size_t)B * m->H1);
    duet_linear_forward(b->h2, b->h1, T(m, S_M1W), T(m, S_M1B), B, m->H1, m->H2);
    duet_relu_forward(b->h2, b->h2, (size_t)B * m->H2);
    if (m->use_outer) {
        duet_outer_forward(b->op, au, ai, B, d, d);
        duet_linear_forward(b->o, b->op, T(m, S_OW), T(m, S_OB), B, d * d, m->Ho);
        duet_relu_forward(b->o, b->o, (size_t)B * m->Ho);
    }
    for (int r = 0; r < B; r++) {
        float *z = b->z + (size_t)r * m->Dz;
        memcpy(z, b->gmf + (size_t)r * d, (size_t)d * sizeof *z);
        memcpy(z + d, b->h2 + (size_t)r * m->H2, (size_t)m->H2 * sizeof *z);
        if (m->use_outer) memcpy(z + d + m->H2, b->o + (size_t)r * m->Ho, (size_t)m->Ho * sizeof *z);
    }
    duet_linear_forward(b->lg, b->z, T(m, S_FW), T(m, S_FB), B, m->Dz, 1);
}

/* Backward of head_fwd from b->dlg: accumulates dau, dai, dmu, dmi (zeroed by the caller). */
static void head_bwd(const rec_incf *m, float *gbase, incf_buf *b, const float *au, const float *ai, float *dau,
                     float *dai, float *dmu, float *dmi, int B)
{
    int d = m->d;
    size_t Bs = (size_t)B;
    memset(b->dz, 0, Bs * m->Dz * sizeof(float));
    memset(b->dh1, 0, Bs * m->H1 * sizeof(float));
    memset(b->dmin, 0, Bs * (m->DmU + m->DmI) * sizeof(float));
    if (m->use_outer) memset(b->dop, 0, Bs * d * d * sizeof(float));
    duet_linear_backward(b->dz, G(m, gbase, S_FW), G(m, gbase, S_FB), b->dlg, b->z, T(m, S_FW), B, m->Dz, 1);
    for (int r = 0; r < B; r++) {
        const float *dz = b->dz + (size_t)r * m->Dz;
        const float *pu = au + (size_t)r * d, *pi = ai + (size_t)r * d;
        float *du = dau + (size_t)r * d, *di = dai + (size_t)r * d;
        for (int k = 0; k < d; k++) {
            du[k] += dz[k] * pi[k];
            di[k] += dz[k] * pu[k];
        }
        memcpy(b->dh2 + (size_t)r * m->H2, dz + d, (size_t)m->H2 * sizeof *dz);
        if (m->use_outer) memcpy(b->do_ + (size_t)r * m->Ho, dz + d + m->H2, (size_t)m->Ho * sizeof *dz);
    }
    relu_mask(b->dh2, b->h2, (size_t)B * m->H2);
    duet_linear_backward(b->dh1, G(m, gbase, S_M1W), G(m, gbase, S_M1B), b->dh2, b->h1, T(m, S_M1W), B, m->H1, m->H2);
    relu_mask(b->dh1, b->h1, (size_t)B * m->H1);
    duet_linear_backward(b->dmin, G(m, gbase, S_M0W), G(m, gbase, S_M0B), b->dh1, b->min, T(m, S_M0W), B,
                         m->DmU + m->DmI, m->H1);
    duet_concat_backward(dmu, dmi, b->dmin, B, m->DmU, m->DmI, 1);
    if (m->use_outer) {
        relu_mask(b->do_, b->o, (size_t)B * m->Ho);
        duet_linear_backward(b->dop, G(m, gbase, S_OW), G(m, gbase, S_OB), b->do_, b->op, T(m, S_OW), B, d * d, m->Ho);
        duet_outer_backward(dau, dai, b->dop, au, ai, B, d, d);
    }
}

/* Loss of lg (B) into dlg (zeroed here). loss 1: BPR over groups of G. */
static double loss_fwd_bwd(const rec_incf *m, incf_buf *b, const float *y, int B)
{
    memset(b->dlg, 0, (size_t)B * sizeof *b->dlg);
    if (m->c.loss == 0) return duet_loss_bce_logits(b->dlg, b->lg, y, (size_t)B, 1.0f);
    int Gs = 1 + m->c.negatives, ng = B / Gs;
    double s = 0;
    int64_t np = (int64_t)ng * m->c.negatives;
    for (int g = 0; g < ng; g++) {
        float pos = b->lg[g * Gs];
        for (int k = 1; k < Gs; k++) {
            double x = (double)pos - b->lg[g * Gs + k];
            double sg = 1.0 / (1.0 + exp(x)); /* sigmoid(-x) */
            s += x > 0 ? log1p(exp(-x)) : -x + log1p(exp(x));
            b->dlg[g * Gs] -= (float)(sg / (double)np);
            b->dlg[g * Gs + k] += (float)(sg / (double)np);
        }
    }
    return np ? s / (double)np : 0;
}

/* Forward (and backward when gbase != NULL, accumulating into it) of a batch. */
static double batch_step(const rec_incf *m, incf_buf *b, float *gbase, const int32_t *u, const int32_t *it,
                         const uint8_t *drop, const float *y, int B)
{
    int d = m->d;
    for (int r = 0; r < B; r++) {
        user_input(m, u[r], b->xu + (size_t)r * m->Du);
        item_input(m, it[r], drop ? drop[r] : 0, b->xi + (size_t)r * m->Di);
    }
    const float *au, *ai, *mu, *mi;
    if (m->use_group) {
        group_fwd(m, S_UG0W, b->xu, m->Du, b->hu, b->gu, B);
        group_fwd(m, S_IG0W, b->xi, m->Di, b->hi, b->gi, B);
        au = mu = b->gu;
        ai = mi = b->gi;
    } else {
        for (int r = 0; r < B; r++) {
            memcpy(b->gu + (size_t)r * d, b->xu + (size_t)r * m->Du, (size_t)d * sizeof(float));
            memcpy(b->gi + (size_t)r * d, b->xi + (size_t)r * m->Di, (size_t)d * sizeof(float));
        }
        au = b->gu;
        ai = b->gi;
        mu = b->xu;
        mi = b->xi;
    }
    head_fwd(m, b, au, ai, mu, mi, B);
    double loss = loss_fwd_bwd(m, b, y, B);
    if (!gbase) return loss;
    size_t Bs = (size_t)B;
    memset(b->dau, 0, Bs * d * sizeof(float));
    memset(b->dai, 0, Bs * d * sizeof(float));
    memset(b->dmu, 0, Bs * m->DmU * sizeof(float));
    memset(b->dmi, 0, Bs * m->DmI * sizeof(float));
    memset(b->dxu, 0, Bs * m->Du * sizeof(float));
    memset(b->dxi, 0, Bs * m->Di * sizeof(float));
    head_bwd(m, gbase, b, au, ai, b->dau, b->dai, b->dmu, b->dmi, B);
    if (m->use_group) {
        duet_acc(b->dmu, b->dau, Bs * d); /* dg = da + dm */
        duet_acc(b->dmi, b->dai, Bs * d);
        memset(b->dhu, 0, Bs * d * sizeof(float));
        memset(b->dhi, 0, Bs * d * sizeof(float));
        group_bwd(m, gbase, S_UG0W, b->dxu, b->dhu, b->dmu, b->xu, m->Du, b->hu, B);
        group_bwd(m, gbase, S_IG0W, b->dxi, b->dhi, b->dmi, b->xi, m->Di, b->hi, B);
    } else {
        memcpy(b->dxu, b->dmu, Bs * m->Du * sizeof(float));
        memcpy(b->dxi, b->dmi, Bs * m->Di * sizeof(float));
        for (int r = 0; r < B; r++) {
            duet_acc(b->dxu + (size_t)r * m->Du, b->dau + (size_t)r * d, (size_t)d);
            duet_acc(b->dxi + (size_t)r * m->Di, b->dai + (size_t)r * d, (size_t)d);
        }
    }
    for (int r = 0; r < B; r++) {
        user_input_back(m, gbase, u[r], b->dxu + (size_t)r * m->Du);
        item_input_back(m, gbase, it[r], drop ? drop[r] : 0, b->dxi + (size_t)r * m->Di);
    }
    return loss;
}

/* ------------------------------------------------------------ representations and scoring */

/* Group vectors / MLP inputs of every user and item at the current weights, and C1. */
static duet_status compute_reps(rec_incf *m, duet_err *err)
{
    int d = m->d, CH = 256;
    size_t nu = (size_t)m->nu, ni = (size_t)m->ni;
    if (!m->ua) {
        m->ua = malloc(nu * d * sizeof(float));
        m->um = malloc(nu * m->DmU * sizeof(float));
        m->ia = malloc(ni * d * sizeof(float));
        m->im = malloc(ni * m->DmI * sizeof(float));
        m->C1 = malloc(ni * m->H1 * sizeof(float));
        if (!m->ua || !m->um || !m->ia || !m->im || !m->C1)
            return duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
    }
    float *x = malloc((size_t)CH * (m->Du > m->Di ? m->Du : m->Di) * sizeof *x), *h = malloc((size_t)CH * d * sizeof *h);
    if (!x || !h) {
        free(x);
        free(h);
        return duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
    }
    for (int side = 0; side < 2; side++) {
        int32_t n = side ? m->ni : m->nu;
        int D = side ? m->Di : m->Du;
        float *A = side ? m->ia : m->ua, *M = side ? m->im : m->um;
        for (int32_t s0 = 0; s0 < n; s0 += CH) {
            int B = n - s0 < CH ? n - s0 : CH;
            for (int r = 0; r < B; r++) {
                if (side) item_input(m, s0 + r, 0, x + (size_t)r * D);
                else user_input(m, s0 + r, x + (size_t)r * D);
            }
            if (m->use_group) {
                group_fwd(m, side ? S_IG0W : S_UG0W, x, D, h, A + (size_t)s0 * d, B);
                memcpy(M + (size_t)s0 * d, A + (size_t)s0 * d, (size_t)B * d * sizeof(float));
            } else {
                memcpy(M + (size_t)s0 * D, x, (size_t)B * D * sizeof(float));
                for (int r = 0; r < B; r++) memcpy(A + (size_t)(s0 + r) * d, x + (size_t)r * D, (size_t)d * sizeof(float));
            }
        }
    }
    free(x);
    free(h);
    /* C1 = im W0i^T + b0, W0 (H1, DmU + DmI) */
    const float *w0 = T(m, S_M0W), *b0 = T(m, S_M0B);
    for (size_t i = 0; i < ni; i++) memcpy(m->C1 + i * m->H1, b0, (size_t)m->H1 * sizeof(float));
    duet_sgemm(0, 1, m->ni, m->H1, m->DmI, 1.0f, m->im, m->DmI, w0 + m->DmU, m->DmU + m->DmI, 1.0f, m->C1, m->H1);
    return DUET_OK;
}

/* Scores of one user (a: d, mu: DmU) against all items into out; scratch H (ni x (H1 + H2 + Ho)). */
static void score_one(const rec_incf *m, const float *a, const float *mu, float *H, float *out)
{
    int d = m->d, H1 = m->H1, H2 = m->H2, Ho = m->Ho, Dm = m->DmU + m->DmI;
    size_t ni = (size_t)m->ni;
    const float *w0 = T(m, S_M0W), *w1 = T(m, S_M1W), *b1 = T(m, S_M1B), *wf = T(m, S_FW), *bf = T(m, S_FB);
    float A1[256], Mo[256 * 256 / 2 + 1], pw[256];
    for (int o = 0; o < H1; o++) {
        float s = 0;
        for (int k = 0; k < m->DmU; k++) s += w0[(size_t)o * Dm + k] * mu[k];
        A1[o] = s;
    }
    float *h1 = H, *h2 = H + ni * H1, *oo = h2 + ni * H2;
    for (size_t i = 0; i < ni; i++)
        for (int o = 0; o < H1; o++) {
            float v = m->C1[i * H1 + o] + A1[o];
            h1[i * H1 + o] = v > 0 ? v : 0;
        }
    for (size_t i = 0; i < ni; i++) memcpy(h2 + i * H2, b1, (size_t)H2 * sizeof(float));
    duet_sgemm(0, 1, m->ni, H2, H1, 1.0f, h1, H1, w1, H1, 1.0f, h2, H2);
    if (m->use_outer) {
        const float *wo = T(m, S_OW), *bo = T(m, S_OB);
        /* Mo[o][j] = sum_k a[k] Wo[o][k d + j] */
        for (int o = 0; o < Ho; o++)
            for (int j = 0; j < d; j++) {
                float s = 0;
                for (int k = 0; k < d; k++) s += a[k] * wo[(size_t)o * d * d + (size_t)k * d + j];
                Mo[o * d + j] = s;
            }
        for (size_t i = 0; i < ni; i++) memcpy(oo + i * Ho, bo, (size_t)Ho * sizeof(float));
        duet_sgemm(0, 1, m->ni, Ho, d, 1.0f, m->ia, d, Mo, d, 1.0f, oo, Ho);
    }
    for (int k = 0; k < d; k++) pw[k] = a[k] * wf[k];
    for (size_t i = 0; i < ni; i++) {
        float s = bf[0];
        const float *q = m->ia + i * d, *p2 = h2 + i * H2;
        for (int k = 0; k < d; k++) s += pw[k] * q[k];
        for (int k = 0; k < H2; k++) s += (p2[k] > 0 ? p2[k] : 0) * wf[d + k];
        if (m->use_outer) {
            const float *po = oo + i * Ho;
            for (int k = 0; k < Ho; k++) s += (po[k] > 0 ? po[k] : 0) * wf[d + H2 + k];
        }
        out[i] = s;
    }
}

static size_t score_scratch(const rec_incf *m) { return (size_t)m->ni * (size_t)(m->H1 + m->H2 + m->Ho); }

duet_status rec_incf_score(const rec_incf *m, const int32_t *users, int32_t n, float *out, duet_err *err)
{
    for (int32_t b = 0; b < n; b++)
        if (users[b] < 0 || users[b] >= m->nu) return duet_err_set(err, DUET_ERR_ARG, "improved-ncf: user out of range");
    float *H = malloc(score_scratch(m) * sizeof *H);
    if (!H) return duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory scoring");
    for (int32_t b = 0; b < n; b++)
        score_one(m, m->ua + (size_t)users[b] * m->d, m->um + (size_t)users[b] * m->DmU, H, out + (size_t)b * m->ni);
    free(H);
    return DUET_OK;
}

int rec_incf_user_rep_len(const rec_incf *m) { return m->use_group ? m->d : m->d + m->DmU; }

duet_status rec_incf_score_rep(const rec_incf *m, const float *rep, float *out, duet_err *err)
{
    float *H = malloc(score_scratch(m) * sizeof *H);
    if (!H) return duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory scoring");
    score_one(m, rep, m->use_group ? rep : rep + m->d, H, out);
    free(H);
    return DUET_OK;
}

/* Validation NDCG@10 of the current weights (reps computed by the caller). */
static double valid_ndcg(const rec_incf *m, const rec_csr *train, const rec_csr *valid, const int32_t *vusers,
                         int32_t nv, const uint8_t *cand, float *row, float *H, int32_t *rel)
{
    double s = 0;
    int64_t n = 0;
    int32_t ranked[10];
    for (int32_t k = 0; k < nv; k++) {
        int32_t u = vusers[k];
        score_one(m, m->ua + (size_t)u * m->d, m->um + (size_t)u * m->DmU, H, row);
        if (cand)
            for (int32_t i = 0; i < m->ni; i++)
                if (!cand[i]) row[i] = -INFINITY;
        for (int64_t q = train->indptr[u]; q < train->indptr[u + 1]; q++) row[train->indices[q]] = -INFINITY;
        int nr = 0;
        for (int64_t q = valid->indptr[u]; q < valid->indptr[u + 1]; q++)
            if (row[valid->indices[q]] != -INFINITY) rel[nr++] = valid->indices[q];
        if (!nr) continue;
        int got = rec_topk(row, m->ni, NULL, 10, ranked);
        double met[REC_N_METRICS];
        rec_metrics_at_k(ranked, got, rel, nr, 10, met);
        s += met[REC_NDCG];
        n++;
    }
    return n ? s / (double)n : 0;
}

/* ------------------------------------------------------------ data preparation */

typedef struct strmap {
    char **keys;
    int32_t *vals;
    size_t cap, n;
} strmap;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

/* Value of key, inserting next_val when absent; -1 on out of memory. */
static int32_t strmap_get(strmap *mp, const char *key, int32_t next_val, int insert)
{
    if (insert && (mp->n + 1) * 2 > mp->cap) {
        size_t nc = mp->cap ? mp->cap * 2 : 1024;
        char **nk = calloc(nc, sizeof *nk);
        int32_t *nv = malloc(nc * sizeof *nv);
        if (!nk || !nv) {
            free(nk);
            free(nv);
            return -1;
        }
        for (size_t k = 0; k < mp->cap; k++)
            if (mp->keys[k]) {
                size_t h = hash_str(mp->keys[k]) & (nc - 1);
                while (nk[h]) h = (h + 1) & (nc - 1);
                nk[h] = mp->keys[k];
                nv[h] = mp->vals[k];
            }
        free(mp->keys);
        free(mp->vals);
        mp->keys = nk;
        mp->vals = nv;
        mp->cap = nc;
    }
    if (!mp->cap) return -2;
    size_t h = hash_str(key) & (mp->cap - 1);
    while (mp->keys[h]) {
        if (!strcmp(mp->keys[h], key)) return mp->vals[h];
        h = (h + 1) & (mp->cap - 1);
    }
    if (!insert) return -2;
    if (!(mp->keys[h] = strdup(key))) return -1;
    mp->vals[h] = next_val;
    mp->n++;
    return next_val;
}

static void strmap_free(strmap *mp)
{
    for (size_t k = 0; k < mp->cap; k++) free(mp->keys[k]);
    free(mp->keys);
    free(mp->vals);
}

typedef struct tokc {
    int32_t tok;
    float cnt;
} tokc;

static int cmp_tokc(const void *a, const void *b)
{
    const tokc *x = a, *y = b;
    if (x->cnt != y->cnt) return x->cnt > y->cnt ? -1 : 1;
    return (x->tok > y->tok) - (x->tok < y->tok);
}

/* Build a weight CSR (rows x nt) from per-row token lists: keep known
 * tokens (known == NULL: all), top INCF_MAX_TOK by count, weights
 * log(1 + count) normalised to sum 1. */
static duet_status weights_csr(rec_csr *out, int32_t rows, int32_t nt, const int64_t *ptr, const tokc *tc,
                               const uint8_t *known, duet_err *err)
{
    int64_t cap = ptr[rows];
    rec_triple *t = malloc((size_t)(cap ? cap : 1) * sizeof *t);
    tokc *tmp = malloc((size_t)(cap ? cap : 1) * sizeof *tmp);
    if (!t || !tmp) {
        free(t);
        free(tmp);
        return duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
    }
    int64_t n = 0;
    for (int32_t r = 0; r < rows; r++) {
        int64_t k = 0;
        for (int64_t q = ptr[r]; q < ptr[r + 1]; q++)
            if (!known || known[tc[q].tok]) tmp[k++] = tc[q];
        qsort(tmp, (size_t)k, sizeof *tmp, cmp_tokc);
        if (k > INCF_MAX_TOK) k = INCF_MAX_TOK;
        double s = 0;
        for (int64_t q = 0; q < k; q++) s += log1p(tmp[q].cnt);
        for (int64_t q = 0; q < k; q++) t[n++] = (rec_triple){r, tmp[q].tok, (float)(log1p(tmp[q].cnt) / s), 0};
    }
    duet_status st = rec_csr_from_triples(out, rows, nt, t, n, 1, "tokens", err);
    free(t);
    free(tmp);
    return st;
}

/* Split an item's name into lower-case words (ASCII letters/digits and any
 * non-ASCII byte), at most 8, each "name:<word>". */
static int name_words(const char *s, char words[8][72])
{
    int n = 0;
    while (s && *s && n < 8) {
        while (*s && !(isalnum((unsigned char)*s) || (unsigned char)*s >= 0x80)) s++;
        int l = 0;
        char w[64];
        while (*s && (isalnum((unsigned char)*s) || (unsigned char)*s >= 0x80)) {
            if (l < 63) w[l++] = (char)tolower((unsigned char)*s);
            s++;
        }
        w[l] = 0;
        if (l >= 2) snprintf(words[n++], 72, "name:%s", w);
    }
    return n;
}

/* Prepare tokens, word2vec, friends, features from ctx->side. */
static duet_status prepare_inputs(rec_incf *m, const rec_fit_ctx *ctx, duet_err *err)
{
    const rec_side *sd = &ctx->side;
    duet_status st = DUET_OK;
    int32_t nu = m->nu, ni = m->ni;
    int32_t nds = (sd->item_attr ? sd->item_attr->n_cols : 0);
    if (sd->user_attr && sd->user_attr->n_cols > nds) nds = sd->user_attr->n_cols;
    /* name tokens: ids after the data set's tokens */
    strmap mp = {0};
    int32_t nt = nds;
    int64_t n_ia = 0, n_kg = 0, n_ut = 0;
    uint8_t *is_kg = NULL;
    /* family of a data-set token: "kg:..." tokens (rec_load_kgcn) are the
     * knowledge-graph family, everything else the tag/attribute family */
    if (sd->tokens && nds > 0) {
        is_kg = calloc((size_t)nds, 1);
        if (!is_kg) return duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
        for (int32_t t = 0; t < nds; t++) is_kg[t] = sd->tokens[t] && !strncmp(sd->tokens[t], "kg:", 3);
    }
    int64_t *pa = calloc((size_t)ni + 1, sizeof *pa), *pk = calloc((size_t)ni + 1, sizeof *pk);
    int64_t *pu = calloc((size_t)nu + 1, sizeof *pu);
    if (!pa || !pk || !pu) st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
    /* count */
    char words[8][72];
    for (int32_t i = 0; !st && i < ni; i++) {
        if (sd->item_attr && i < sd->item_attr->n_rows)
            for (int64_t q = sd->item_attr->indptr[i]; q < sd->item_attr->indptr[i + 1]; q++) {
                if (is_kg && is_kg[sd->item_attr->indices[q]]) pk[i + 1]++;
                else pa[i + 1]++;
            }
        if (sd->item_names && sd->item_names[i]) pa[i + 1] += name_words(sd->item_names[i], words);
    }
    for (int32_t u = 0; !st && u < nu; u++)
        if (sd->user_attr && u < sd->user_attr->n_rows) pu[u + 1] = sd->user_attr->indptr[u + 1] - sd->user_attr->indptr[u];
    for (int32_t i = 0; !st && i < ni; i++) {
        pa[i + 1] += pa[i];
        pk[i + 1] += pk[i];
    }
    for (int32_t u = 0; !st && u < nu; u++) pu[u + 1] += pu[u];
    tokc *ta = NULL, *tk = NULL, *tu = NULL;
    if (!st) {
        n_ia = pa[ni];
        n_kg = pk[ni];
        n_ut = pu[nu];
        ta = malloc((size_t)(n_ia + 1) * sizeof *ta);
        tk = malloc((size_t)(n_kg + 1) * sizeof *tk);
        tu = malloc((size_t)(n_ut + 1) * sizeof *tu);
        if (!ta || !tk || !tu) st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
    }
    for (int32_t i = 0; !st && i < ni; i++) {
        int64_t a = pa[i], k = pk[i];
        if (sd->item_attr && i < sd->item_attr->n_rows)
            for (int64_t q = sd->item_attr->indptr[i]; q < sd->item_attr->indptr[i + 1]; q++) {
                tokc v = {sd->item_attr->indices[q], sd->item_attr->values[q]};
                if (is_kg && is_kg[v.tok]) tk[k++] = v;
                else ta[a++] = v;
            }
        if (sd->item_names && sd->item_names[i]) {
            int nw = name_words(sd->item_names[i], words);
            for (int w = 0; w < nw; w++) {
                int32_t id = strmap_get(&mp, words[w], nt, 1);
                if (id == -1) {
                    st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
                    break;
                }
                if (id == nt) nt++;
                ta[a++] = (tokc){id, 1.0f};
            }
        }
    }
    for (int32_t u = 0; !st && u < nu; u++) {
        int64_t k = pu[u];
        if (sd->user_attr && u < sd->user_attr->n_rows)
            for (int64_t q = sd->user_attr->indptr[u]; q < sd->user_attr->indptr[u + 1]; q++)
                tu[k++] = (tokc){sd->user_attr->indices[q], sd->user_attr->values[q]};
    }
    strmap_free(&mp);
    m->nt = nt;
    m->has_ia = n_ia > 0;
    m->has_kg = n_kg > 0;
    m->has_ut = n_ut > 0;
    /* word2vec over item sentences (all tokens) and user sentences */
    uint8_t *known = NULL;
    float *w2v_tab = NULL;
    if (!st && m->use_content && !m->learn_tok && nt > 0 && (n_ia || n_kg || n_ut)) {
        w2v_corpus *corp = NULL;
        w2v_vectors *vec = NULL;
        st = w2v_corpus_new(&corp, err);
        char (*buf)[16] = malloc((size_t)(2 * INCF_MAX_TOK * 8 + 16) * sizeof *buf);
        const char **ptrs = malloc((size_t)(2 * INCF_MAX_TOK * 8 + 16) * sizeof *ptrs);
        int cap = 2 * INCF_MAX_TOK * 8 + 16;
        if (!st && (!buf || !ptrs)) st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
        for (int32_t r = 0; !st && r < ni + nu; r++) {
            int n = 0;
            const tokc *lists[2];
            int64_t lo[2], hi[2];
            if (r < ni) {
                lists[0] = ta;
                lo[0] = pa[r];
                hi[0] = pa[r + 1];
                lists[1] = tk;
                lo[1] = pk[r];
                hi[1] = pk[r + 1];
            } else {
                lists[0] = tu;
                lo[0] = pu[r - ni];
                hi[0] = pu[r - ni + 1];
                lists[1] = NULL;
                lo[1] = hi[1] = 0;
            }
            for (int f = 0; f < 2; f++)
                for (int64_t q = lo[f]; q < hi[f] && n < cap; q++) {
                    snprintf(buf[n], 16, "t%d", (int)lists[f][q].tok);
                    ptrs[n] = buf[n];
                    n++;
                }
            if (n > 1) st = w2v_corpus_add_sentence(corp, ptrs, (size_t)n, err);
        }
        free(buf);
        free(ptrs);
        w2v_params wp;
        w2v_params_default(&wp);
        wp.dim = (size_t)m->dw;
        wp.window = 8;
        wp.negative = 5;
        wp.min_count = 2;
        wp.epochs = m->c.w2v_epochs;
        wp.threads = 1;
        wp.shuffle = 1;
        wp.seed = ctx->seed * 2654435761ULL + 17;
        if (!st && w2v_corpus_n_tokens(corp) > 0) {
            duet_err e2 = {0};
            duet_status s2 = w2v_train(corp, &wp, &vec, NULL, &e2);
            if (s2 == DUET_ERR_EMPTY || s2 == DUET_ERR_RANGE) vec = NULL; /* too little text: no vectors */
            else if (s2) {
                st = s2;
                if (err) *err = e2;
            }
        }
        w2v_corpus_free(corp);
        known = calloc((size_t)nt, 1);
        w2v_tab = calloc((size_t)nt * m->dw, sizeof *w2v_tab);
        if (!st && (!known || !w2v_tab)) st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
        for (size_t k = 0; !st && vec && k < w2v_vectors_count(vec); k++) {
            int t = atoi(w2v_vectors_token(vec, k) + 1);
            if (t >= 0 && t < nt) {
                known[t] = 1;
                memcpy(w2v_tab + (size_t)t * m->dw, w2v_vectors_row(vec, k), (size_t)m->dw * sizeof(float));
            }
        }
        w2v_vectors_free(vec);
    }
    if (!st) st = weights_csr(&m->itok_a, ni, nt ? nt : 1, pa, ta, known, err);
    if (!st) st = weights_csr(&m->itok_kg, ni, nt ? nt : 1, pk, tk, known, err);
    if (!st) st = weights_csr(&m->utok, nu, nt ? nt : 1, pu, tu, known, err);
    if (!st && known) {
        /* families left empty after dropping unknown tokens */
        m->has_ia = m->itok_a.nnz > 0;
        m->has_kg = m->itok_kg.nnz > 0;
        m->has_ut = m->utok.nnz > 0;
    }
    free(is_kg);
    free(pa);
    free(pk);
    free(pu);
    free(ta);
    free(tk);
    free(tu);
    free(known);
    /* friends: first INCF_MAX_FRIENDS, weight 1/n */
    if (!st) {
        int64_t nn = 0;
        const rec_csr *F = sd->friends;
        rec_triple *t = NULL;
        if (F && F->nnz) t = malloc((size_t)F->nnz * sizeof *t);
        if (F && F->nnz && !t) st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
        for (int32_t u = 0; !st && F && u < nu && u < F->n_rows; u++) {
            int64_t k = 0, lo = F->indptr[u], hi = F->indptr[u + 1];
            for (int64_t q = lo; q < hi && k < INCF_MAX_FRIENDS; q++)
                if (F->indices[q] >= 0 && F->indices[q] < nu && F->indices[q] != u) k++;
            int64_t c = 0;
            for (int64_t q = lo; q < hi && c < k; q++)
                if (F->indices[q] >= 0 && F->indices[q] < nu && F->indices[q] != u)
                    t[nn++] = (rec_triple){u, F->indices[q], 1.0f / (float)k, 0}, c++;
        }
        if (!st) st = rec_csr_from_triples(&m->fr, nu, nu, t, nn, 1, "friends", err);
        free(t);
        m->has_fr = m->fr.nnz > 0;
    }
    /* numeric features, standardised over items that have them */
    m->nf = 0;
    if (!st && sd->item_feats && sd->n_feats > 0 && sd->has_feats) {
        int nf = sd->n_feats;
        m->feats = calloc((size_t)ni * nf, sizeof *m->feats);
        m->has_feats = calloc((size_t)ni, 1);
        if (!m->feats || !m->has_feats) st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
        int64_t cnt = 0;
        for (int32_t i = 0; !st && i < ni; i++) cnt += sd->has_feats[i] != 0;
        if (!st && cnt > 0) {
            m->nf = nf;
            for (int f = 0; f < nf; f++) {
                double s = 0, s2 = 0;
                for (int32_t i = 0; i < ni; i++)
                    if (sd->has_feats[i]) {
                        double v = sd->item_feats[(size_t)i * nf + f];
                        s += v;
                        s2 += v * v;
                    }
                double mean = s / cnt, var = s2 / cnt - mean * mean, sdv = var > 1e-12 ? sqrt(var) : 1;
                for (int32_t i = 0; i < ni; i++)
                    if (sd->has_feats[i]) {
                        double v = (sd->item_feats[(size_t)i * nf + f] - mean) / sdv;
                        if (v > 5) v = 5;
                        if (v < -5) v = -5;
                        m->feats[(size_t)i * nf + f] = (float)v;
                    }
            }
            for (int32_t i = 0; i < ni; i++) m->has_feats[i] = sd->has_feats[i] != 0;
        }
    }
    if (st) {
        free(w2v_tab);
        return st;
    }
    if (!m->use_content) m->has_ia = m->has_kg = m->has_ut = m->has_fr = 0, m->nf = 0;
    /* item id dropout only helps when the item group has content to fall back on */
    if (!m->has_ia && !m->has_kg && !m->nf) m->c.id_dropout = 0;
    set_dims(m);
    st = build_params(m, 1, err);
    if (!st && w2v_tab && m->slot[S_TOK] >= 0)
        memcpy(T(m, S_TOK), w2v_tab, (size_t)m->nt * m->dw * sizeof(float));
    free(w2v_tab);
    return st;
}

/* Initial weights (deterministic from seed). The frozen word2vec table is kept. */
static void init_weights(rec_incf *m, uint64_t seed)
{
    duet_rng r;
    duet_rng_seed(&r, seed ^ 0x1CF1CF1CFULL);
    duet_params *P = m->P;
    for (int t = 0; t < m->n_live; t++) {
        duet_param_info *in = &P->info[t];
        float *w = duet_params_data(P, (size_t)t);
        if (t == m->slot[S_UID] || t == m->slot[S_IID]) duet_init_normal(w, in->numel, 0, 0.05f, &r);
        else if (t == m->slot[S_TOK]) {
            if (m->learn_tok) duet_init_normal(w, in->numel, 0, 0.05f, &r);
        } else {
            /* weight (O, I) then bias (O): U(+-1/sqrt(I)) */
            int64_t fan = in->ndim == 2 ? in->shape[1] : P->info[t - 1].shape[1];
            float a = 1.0f / sqrtf((float)fan);
            duet_init_uniform(w, in->numel, -a, a, &r);
        }
    }
    float *es = T(m, S_ES);
    if (es) {
        es[0] = -1;
        for (int k = 1; k < INCF_ES_N; k++) es[k] = 0;
    }
}

static void copy_live(rec_incf *m, int to_best)
{
    duet_params *P = m->P;
    for (int t = 0; t < m->n_live; t++) {
        float *a = duet_params_data(P, (size_t)t), *b = duet_params_data(P, (size_t)(m->n_live + t));
        if (to_best) memcpy(b, a, P->info[t].numel * sizeof(float));
        else memcpy(a, b, P->info[t].numel * sizeof(float));
    }
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int uniq(int32_t *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_i32);
    int k = 0;
    for (int q = 0; q < n; q++)
        if (!k || v[k - 1] != v[q]) v[k++] = v[q];
    return k;
}

/* ------------------------------------------------------------ training */

typedef struct train_ws {
    int32_t *gu, *gi; /* groups: user, positive item */
    int64_t n_pos;
    int32_t *warm_items;
    int32_t n_warm;
    int32_t *bu, *bi, *ru, *ri, *rt;
    uint8_t *bd;
    float *by;
    incf_buf buf;
} train_ws;

static void zero_sparse_rows(float *g, const int32_t *rows, int n, int D)
{
    for (int k = 0; k < n; k++) memset(g + (size_t)rows[k] * D, 0, (size_t)D * sizeof *g);
}

static void fill_positives(train_ws *w, const rec_csr *X)
{
    int64_t k = 0;
    for (int32_t u = 0; u < X->n_rows; u++)
        for (int64_t q = X->indptr[u]; q < X->indptr[u + 1]; q++) {
            w->gu[k] = u;
            w->gi[k++] = X->indices[q];
        }
    w->n_pos = k;
}

/* One epoch over X. Returns the mean batch loss, NAN on a non-finite step. */
static double run_epoch(rec_incf *m, const rec_csr *X, train_ws *w, duet_adam *opt, uint64_t seed, int phase,
                        int epoch, duet_err *err, duet_status *st)
{
    duet_rng r;
    duet_rng_seed(&r, seed * 0x9E3779B97F4A7C15ULL + (uint64_t)phase * 7919 + (uint64_t)epoch * 104729 + 3);
    int Gs = 1 + m->c.negatives, gpb = INCF_BATCH / Gs;
    if (gpb < 1) gpb = 1;
    /* shuffle the positive list from its canonical order (so an epoch
     * depends only on (seed, phase, epoch): resumable), Fisher-Yates on
     * parallel arrays */
    fill_positives(w, X);
    int64_t np = w->n_pos;
    for (int64_t k = np - 1; k > 0; k--) {
        int64_t j = (int64_t)duet_rng_below(&r, (uint64_t)k + 1);
        int32_t t = w->gu[k];
        w->gu[k] = w->gu[j];
        w->gu[j] = t;
        t = w->gi[k];
        w->gi[k] = w->gi[j];
        w->gi[j] = t;
    }
    double loss_sum = 0;
    int64_t nb = 0;
    int d = m->d;
    float *gb = m->P->grad;
    for (int64_t g0 = 0; g0 < np; g0 += gpb) {
        int ng = (int)(np - g0 < gpb ? np - g0 : gpb), B = 0;
        for (int g = 0; g < ng; g++) {
            int32_t u = w->gu[g0 + g];
            int64_t deg = X->indptr[u + 1] - X->indptr[u];
            for (int k = 0; k < Gs; k++) {
                int32_t it = w->gi[g0 + g];
                if (k > 0) {
                    if (deg >= w->n_warm) it = w->warm_items[duet_rng_below(&r, (uint64_t)w->n_warm)];
                    else
                        do it = w->warm_items[duet_rng_below(&r, (uint64_t)w->n_warm)];
                        while (rec_csr_has(X, u, it));
                }
                w->bu[B] = u;
                w->bi[B] = it;
                w->by[B] = k == 0 ? 1.0f : 0.0f;
                w->bd[B] = m->c.id_dropout > 0 && duet_rng_uniform(&r) < m->c.id_dropout;
                B++;
            }
        }
        loss_sum += batch_step(m, &w->buf, gb, w->bu, w->bi, w->bd, w->by, B);
        nb++;
        /* rows touched */
        int nru = 0, nri = 0, nrt = 0;
        for (int k = 0; k < B; k++) {
            int32_t u = w->bu[k], i = w->bi[k];
            w->ru[nru++] = u;
            if (m->use_content && m->has_fr)
                for (int64_t q = m->fr.indptr[u]; q < m->fr.indptr[u + 1]; q++) w->ru[nru++] = m->fr.indices[q];
            if (!w->bd[k] && m->warm[i]) w->ri[nri++] = i;
            if (m->use_content && m->learn_tok) {
                if (m->has_ut)
                    for (int64_t q = m->utok.indptr[u]; q < m->utok.indptr[u + 1]; q++) w->rt[nrt++] = m->utok.indices[q];
                if (m->has_ia)
                    for (int64_t q = m->itok_a.indptr[i]; q < m->itok_a.indptr[i + 1]; q++) w->rt[nrt++] = m->itok_a.indices[q];
                if (m->has_kg)
                    for (int64_t q = m->itok_kg.indptr[i]; q < m->itok_kg.indptr[i + 1]; q++) w->rt[nrt++] = m->itok_kg.indices[q];
            }
        }
        nru = uniq(w->ru, nru);
        nri = uniq(w->ri, nri);
        nrt = uniq(w->rt, nrt);
        *st = duet_adam_step(opt, m->P, m->c.lr, err);
        if (*st) return NAN;
        duet_adam_update_rows(opt, m->P, (size_t)m->slot[S_UID], w->ru, (size_t)nru, m->c.lr);
        duet_adam_update_rows(opt, m->P, (size_t)m->slot[S_IID], w->ri, (size_t)nri, m->c.lr);
        zero_sparse_rows(G(m, gb, S_UID), w->ru, nru, d);
        zero_sparse_rows(G(m, gb, S_IID), w->ri, nri, d);
        if (m->use_content && m->learn_tok && m->slot[S_TOK] >= 0) {
            duet_adam_update_rows(opt, m->P, (size_t)m->slot[S_TOK], w->rt, (size_t)nrt, m->c.lr);
            zero_sparse_rows(G(m, gb, S_TOK), w->rt, nrt, m->dw);
        }
        for (int t = 0; t < m->n_live; t++)
            if (!(m->P->info[t].flags & (DUET_PARAM_SPARSE | DUET_PARAM_BUFFER)))
                memset(duet_params_grad(m->P, (size_t)t), 0, m->P->info[t].numel * sizeof(float));
    }
    return nb ? loss_sum / (double)nb : 0;
}

/* Auto schedule (0 fields of the configuration), from S = Adam steps per
 * epoch (n_pos (1 + negatives) / batch): min_epochs = ceil(INCF_MIN_STEPS / S)
 * in 1..200 (at most half of an explicit max_epochs), max_epochs = max(12, 2 min_epochs), patience = max(2,
 * min_epochs / 4). */
static void resolve_schedule(rec_incf_config *c, int64_t n_pos)
{
    int64_t S = (n_pos * (1 + c->negatives) + INCF_BATCH - 1) / INCF_BATCH;
    if (S < 1) S = 1;
    int64_t me = (INCF_MIN_STEPS + S - 1) / S;
    if (me > 200) me = 200;
    if (me < 1) me = 1;
    if (c->min_epochs == 0) {
        /* an explicit max_epochs caps the auto minimum at half of it */
        if (c->max_epochs > 0 && me > (c->max_epochs + 1) / 2) me = (c->max_epochs + 1) / 2;
        c->min_epochs = (int)me;
    }
    if (c->max_epochs == 0) c->max_epochs = 2 * c->min_epochs > 12 ? 2 * c->min_epochs : 12;
    if (c->min_epochs > c->max_epochs) c->min_epochs = c->max_epochs;
    if (c->patience == 0) c->patience = c->min_epochs / 4 > 2 ? c->min_epochs / 4 : 2;
}

static duet_status save_ckpt(rec_incf *m, const char *path, const duet_adam *opt, int64_t step, duet_err *err)
{
    duet_rng dummy;
    duet_rng_seed(&dummy, 0);
    duet_meta_kv kv[1] = {{"incf.config", m->desc}};
    return duet_checkpoint_save(path, m->P, opt, step, &dummy, 1, kv, 1, err);
}

static duet_status load_ckpt(rec_incf *m, const char *path, duet_adam *opt, int64_t *step, duet_err *err)
{
    duet_st_file *f = NULL;
    duet_status st = duet_st_load(path, &f, err);
    if (st) return st;
    const char *cfg = duet_st_meta(f, "incf.config");
    if (!cfg || strcmp(cfg, m->desc) != 0) {
        st = duet_err_set(err, DUET_ERR_FORMAT, "%s: checkpoint of another configuration (%s; this run: %s)", path,
                          cfg ? cfg : "none", m->desc);
        duet_st_free(f);
        return st;
    }
    duet_st_free(f);
    duet_rng dummy;
    return duet_checkpoint_load(path, m->P, opt, step, &dummy, 1, err);
}


duet_status rec_incf_train(const rec_fit_ctx *ctx, const rec_incf_config *cfg, const rec_incf_train_opts *topt,
                           rec_incf **out, duet_err *err)
{
    const rec_csr *X = ctx->train;
    *out = NULL;
    if (cfg->variant < 0 || cfg->variant > REC_INCF_NO_CONTENT || cfg->dim < 4 || cfg->dim > 256 || cfg->wdim < 4 ||
        cfg->wdim > 256 || cfg->negatives < 1 || cfg->negatives > 50 || cfg->max_epochs < 0 ||
        cfg->max_epochs > 1000 || cfg->patience < 0 || cfg->patience > 1000 || cfg->min_epochs < 0 ||
        cfg->min_epochs > 1000 || !(cfg->lr > 0) || !(cfg->id_dropout >= 0) ||
        !(cfg->id_dropout < 1) || cfg->loss < 0 || cfg->loss > 1 || cfg->w2v_epochs < 1 ||
        !(cfg->weight_decay >= 0) || !(cfg->weight_decay < 100))
        return duet_err_set(err, DUET_ERR_ARG,
                            "improved-ncf: bad configuration (dim/wdim 4..256, negatives 1..50, epochs 0..1000, "
                            "patience 0..1000, min epochs 0..1000, lr > 0, id dropout in [0, 1), loss bce/bpr, weight decay in [0, 100))");
    if (!X || X->nnz == 0) return duet_err_set(err, DUET_ERR_EMPTY, "improved-ncf: no training interactions");
    rec_incf *m = calloc(1, sizeof *m);
    if (!m) return duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
    m->c = *cfg;
    m->nu = X->n_rows;
    m->ni = X->n_cols;
    m->d = cfg->dim;
    m->dw = cfg->wdim;
    m->use_group = cfg->variant != REC_INCF_NO_GROUP;
    m->use_outer = cfg->variant != REC_INCF_NO_OUTER;
    m->use_content = cfg->variant != REC_INCF_NO_CONTENT;
    m->learn_tok = cfg->variant == REC_INCF_NO_W2V;
    duet_status st = DUET_OK;
    rec_csr fitX = {0}, esV = {0};
    const rec_csr *trainX = X, *validX = ctx->valid;
    int internal = 0;
    if (!validX) {
        duet_err e2 = {0};
        if (rec_split_users(X, 0.1, 5, ctx->seed ^ 0xE5E5E5ULL, &fitX, &esV, &e2) == DUET_OK && esV.nnz > 0) {
            trainX = &fitX;
            validX = &esV;
            internal = 1;
        } else {
            rec_csr_free(&fitX);
            rec_csr_free(&esV);
        }
    }
    resolve_schedule(&m->c, trainX->nnz);
    m->warm = calloc((size_t)m->ni, 1);
    if (!m->warm) st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
    for (int64_t q = 0; !st && q < X->nnz; q++) m->warm[X->indices[q]] = 1;
    if (!st) st = rec_csr_copy(X, &m->seen, err);
    if (!st) st = prepare_inputs(m, ctx, err);
    if (!st) st = duet_params_enable_training(m->P, err);
    train_ws w = {0};
    int B = INCF_BATCH + 1 + cfg->negatives;
    size_t maxfr = (size_t)B * (1 + INCF_MAX_FRIENDS), maxtok = (size_t)B * 3 * INCF_MAX_TOK;
    if (!st) {
        w.gu = malloc((size_t)X->nnz * sizeof *w.gu);
        w.gi = malloc((size_t)X->nnz * sizeof *w.gi);
        w.warm_items = malloc((size_t)m->ni * sizeof *w.warm_items);
        w.bu = malloc((size_t)B * sizeof *w.bu);
        w.bi = malloc((size_t)B * sizeof *w.bi);
        w.ri = malloc((size_t)B * sizeof *w.ri);
        w.ru = malloc(maxfr * sizeof *w.ru);
        w.rt = malloc(maxtok * sizeof *w.rt);
        w.bd = malloc((size_t)B);
        w.by = malloc((size_t)B * sizeof *w.by);
        if (!w.gu || !w.gi || !w.warm_items || !w.bu || !w.bi || !w.ri || !w.ru || !w.rt || !w.bd || !w.by)
            st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
    }
    if (!st) st = buf_init(&w.buf, m, B, err);
    /* negatives are drawn from items with training interactions (in trainX) */
    if (!st) {
        uint8_t *seenit = calloc((size_t)m->ni, 1);
        if (!seenit) st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
        for (int64_t q = 0; !st && q < trainX->nnz; q++) seenit[trainX->indices[q]] = 1;
        for (int32_t i = 0; !st && i < m->ni; i++)
            if (seenit[i]) w.warm_items[w.n_warm++] = i;
        free(seenit);
    }
    /* validation users (up to INCF_VALID_USERS, seeded) and candidates */
    int32_t *vusers = NULL, nv = 0, *rel = NULL;
    uint8_t *cand = NULL;
    float *row = NULL, *H = NULL;
    if (!st && validX) {
        vusers = malloc((size_t)m->nu * sizeof *vusers);
        rel = malloc((size_t)m->ni * sizeof *rel);
        row = malloc((size_t)m->ni * sizeof *row);
        H = malloc(score_scratch(m) * sizeof *H);
        if (!vusers || !rel || !row || !H) st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
        for (int32_t u = 0; !st && u < m->nu && u < validX->n_rows; u++)
            if (validX->indptr[u + 1] > validX->indptr[u] && trainX->indptr[u + 1] > trainX->indptr[u]) vusers[nv++] = u;
        duet_rng vr;
        duet_rng_seed(&vr, ctx->seed ^ 0xA11DA7EULL);
        for (int32_t k = nv - 1; !st && k > 0; k--) {
            int32_t j = (int32_t)duet_rng_below(&vr, (uint64_t)k + 1), t = vusers[k];
            vusers[k] = vusers[j];
            vusers[j] = t;
        }
        if (nv > INCF_VALID_USERS) nv = INCF_VALID_USERS;
        qsort(vusers, (size_t)nv, sizeof *vusers, cmp_i32);
        /* cold validation: every validation item absent from training */
        int all_cold = validX->nnz > 0;
        uint8_t *tr_has = calloc((size_t)m->ni, 1);
        if (!st && !tr_has) st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
        for (int64_t q = 0; !st && q < trainX->nnz; q++) tr_has[trainX->indices[q]] = 1;
        for (int64_t q = 0; !st && q < validX->nnz && all_cold; q++)
            if (tr_has[validX->indices[q]]) all_cold = 0;
        if (!st && all_cold) {
            cand = tr_has;
            for (int32_t i = 0; i < m->ni; i++) cand[i] = !cand[i];
        } else free(tr_has);
    }
    /* warm flags for training: items of trainX (validation items stay cold in phase 0) */
    uint8_t *warm_all = NULL;
    if (!st && internal) {
        warm_all = m->warm;
        m->warm = calloc((size_t)m->ni, 1);
        if (!m->warm) st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
        for (int64_t q = 0; !st && q < trainX->nnz; q++) m->warm[trainX->indices[q]] = 1;
    } else if (!st && validX && cand) {
        /* ctx->valid of the cold protocol: items of X only (already) */
    }
    duet_adam opt = duet_adam_default(m->c.weight_decay, 1);
    int64_t step = 0;
    if (!st) init_weights(m, ctx->seed);
    if (!st && topt && topt->resume) st = load_ckpt(m, topt->resume, &opt, &step, err);
    int phase = step >= PHASE_REFIT ? 1 : 0;
    int ep0 = (int)(step % PHASE_REFIT);
    float *es = st ? NULL : T(m, S_ES);
    duet_progress pg;
    char label[64];
    snprintf(label, sizeof label, "%s", variant_name[cfg->variant]);
    duet_progress_init(&pg, label, m->c.max_epochs, ctx->progress);
    if (!st && phase == 0) {
        fill_positives(&w, trainX);
        for (int ep = ep0; !st && ep < m->c.max_epochs && es[3] == 0; ep++) {
            double loss = run_epoch(m, trainX, &w, &opt, ctx->seed, 0, ep, err, &st);
            if (st) break;
            if (!isfinite(loss)) {
                st = duet_err_set(err, DUET_ERR_NAN, "improved-ncf: loss is not finite at epoch %d", ep + 1);
                break;
            }
            double v = -1, sm = -1;
            if (validX) {
                st = compute_reps(m, err);
                if (st) break;
                v = valid_ndcg(m, trainX, validX, vusers, nv, cand, row, H, rel);
                /* smoothed curve: mean of this epoch and the (up to) two before it */
                int nh = ep < 2 ? ep : 2;
                sm = (v + (nh > 0 ? es[4] : 0) + (nh > 1 ? es[5] : 0)) / (1 + nh);
                es[5] = es[4];
                es[4] = (float)v;
                if (ep + 1 >= m->c.min_epochs) {
                    if (sm > es[0]) {
                        es[0] = (float)sm;
                        es[1] = (float)(ep + 1);
                        es[2] = 0;
                        copy_live(m, 1);
                    } else if (++es[2] >= (float)m->c.patience) es[3] = 1;
                }
            } else {
                es[1] = (float)(ep + 1);
            }
            char extra[128];
            snprintf(extra, sizeof extra, "epoch %d loss %.4f valid NDCG@10 %.4f (best %.4f at %d)", ep + 1, loss, v,
                     (double)es[0], (int)es[1]);
            duet_progress_update(&pg, ep + 1, extra);
            if (!st && topt && topt->ckpt) st = save_ckpt(m, topt->ckpt, &opt, ep + 1, err);
        }
        if (!st && validX && es[1] > 0) copy_live(m, 0);
        if (!st) {
            m->best_epoch = (int)es[1];
            m->best_valid = es[0];
        }
        if (!st && internal && cfg->refit && m->best_epoch > 0) {
            phase = 1;
            ep0 = 0;
            float keep[4];
            memcpy(keep, es, sizeof keep);
            init_weights(m, ctx->seed);
            memcpy(es, keep, sizeof keep);
            opt = duet_adam_default(m->c.weight_decay, 1);
            memset(m->P->m, 0, m->P->total * sizeof(float));
            memset(m->P->v, 0, m->P->total * sizeof(float));
        }
    }
    if (!st && phase == 1) {
        m->best_epoch = (int)es[1];
        m->best_valid = es[0];
        free(m->warm);
        m->warm = warm_all;
        warm_all = NULL;
        w.n_warm = 0;
        for (int32_t i = 0; i < m->ni; i++)
            if (m->warm[i]) w.warm_items[w.n_warm++] = i;
        fill_positives(&w, X);
        for (int ep = ep0; !st && ep < m->best_epoch; ep++) {
            double loss = run_epoch(m, X, &w, &opt, ctx->seed, 1, ep, err, &st);
            if (st) break;
            if (!isfinite(loss)) {
                st = duet_err_set(err, DUET_ERR_NAN, "improved-ncf: loss is not finite at refit epoch %d", ep + 1);
                break;
            }
            char extra[96];
            snprintf(extra, sizeof extra, "refit epoch %d/%d loss %.4f", ep + 1, m->best_epoch, loss);
            duet_progress_update(&pg, ep + 1, extra);
            if (!st && topt && topt->ckpt) st = save_ckpt(m, topt->ckpt, &opt, PHASE_REFIT + ep + 1, err);
        }
    }
    duet_progress_done(&pg);
    if (warm_all) {
        /* no refit: items held out for early stopping count as warm too (their id rows were trained
         * only through negatives? no: they were never positives; keep them cold) */
        free(warm_all);
    }
    if (!st) st = compute_reps(m, err);
    buf_free(&w.buf);
    free(w.gu);
    free(w.gi);
    free(w.warm_items);
    free(w.bu);
    free(w.bi);
    free(w.ri);
    free(w.ru);
    free(w.rt);
    free(w.bd);
    free(w.by);
    free(vusers);
    free(rel);
    free(row);
    free(H);
    free(cand);
    rec_csr_free(&fitX);
    rec_csr_free(&esV);
    if (st) {
        rec_incf_free(m);
        return st;
    }
    *out = m;
    return DUET_OK;
}

/* ------------------------------------------------------------ fold-in, similar, seen */

duet_status rec_incf_fold_in(const rec_incf *m, const int32_t *items, int n, uint64_t seed, float *rep,
                             duet_err *err)
{
    if (n < 1) return duet_err_set(err, DUET_ERR_ARG, "improved-ncf: fold-in needs at least one item");
    for (int k = 0; k < n; k++)
        if (items[k] < 0 || items[k] >= m->ni) return duet_err_set(err, DUET_ERR_ARG, "improved-ncf: item out of range");
    int d = m->d, R = rec_incf_user_rep_len(m), nneg = 4, B = n * (1 + nneg);
    int32_t *it = malloc((size_t)B * sizeof *it);
    float *y = malloc((size_t)B * sizeof *y), *au = malloc((size_t)B * d * sizeof *au);
    float *ai = malloc((size_t)B * d * sizeof *ai), *mu = malloc((size_t)B * m->DmU * sizeof *mu);
    float *mi = malloc((size_t)B * m->DmI * sizeof *mi), *dau = malloc((size_t)B * d * sizeof *dau);
    float *dmu = malloc((size_t)B * m->DmU * sizeof *dmu), *dai = malloc((size_t)B * d * sizeof *dai);
    float *dmi = malloc((size_t)B * m->DmI * sizeof *dmi), *gscr = calloc(m->P->total, sizeof *gscr);
    float *g = malloc((size_t)R * sizeof *g), *mo = calloc((size_t)R, sizeof *mo), *vo = calloc((size_t)R, sizeof *vo);
    float *init = malloc((size_t)R * sizeof *init);
    incf_buf b = {0};
    duet_status st = DUET_OK;
    if (!it || !y || !au || !ai || !mu || !mi || !dau || !dmu || !dai || !dmi || !gscr || !g || !mo || !vo || !init)
        st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
    if (!st) st = buf_init(&b, m, B, err);
    if (!st) {
        /* start: the mean user */
        memset(init, 0, (size_t)R * sizeof *init);
        for (int32_t u = 0; u < m->nu; u++) {
            duet_axpy(init, 1.0f / (float)m->nu, m->ua + (size_t)u * d, (size_t)d);
            if (!m->use_group) duet_axpy(init + d, 1.0f / (float)m->nu, m->um + (size_t)u * m->DmU, (size_t)m->DmU);
        }
        memcpy(rep, init, (size_t)R * sizeof *rep);
        duet_rng r;
        duet_rng_seed(&r, seed ^ 0xF01D1AULL);
        int Bn = 0;
        for (int k = 0; k < n; k++) {
            it[Bn] = items[k];
            y[Bn++] = 1;
            for (int j = 0; j < nneg; j++) {
                int32_t c;
                int again, tries = 0;
                do {
                    c = (int32_t)duet_rng_below(&r, (uint64_t)m->ni);
                    again = 0;
                    for (int q = 0; q < n && !again; q++) again = items[q] == c;
                } while (again && ++tries < 100);
                it[Bn] = c;
                y[Bn++] = 0;
            }
        }
        for (int k = 0; k < B; k++) {
            memcpy(ai + (size_t)k * d, m->ia + (size_t)it[k] * d, (size_t)d * sizeof(float));
            memcpy(mi + (size_t)k * m->DmI, m->im + (size_t)it[k] * m->DmI, (size_t)m->DmI * sizeof(float));
        }
        const float lr = 0.05f, l2 = 1e-3f;
        for (int t = 1; t <= 100; t++) {
            for (int k = 0; k < B; k++) {
                memcpy(au + (size_t)k * d, rep, (size_t)d * sizeof(float));
                memcpy(mu + (size_t)k * m->DmU, m->use_group ? rep : rep + d, (size_t)m->DmU * sizeof(float));
            }
            head_fwd(m, &b, au, ai, mu, mi, B);
            memset(b.dlg, 0, (size_t)B * sizeof(float));
            duet_loss_bce_logits(b.dlg, b.lg, y, (size_t)B, 1.0f);
            memset(dau, 0, (size_t)B * d * sizeof(float));
            memset(dai, 0, (size_t)B * d * sizeof(float));
            memset(dmu, 0, (size_t)B * m->DmU * sizeof(float));
            memset(dmi, 0, (size_t)B * m->DmI * sizeof(float));
            head_bwd(m, gscr, &b, au, ai, dau, dai, dmu, dmi, B);
            for (int q = 0; q < R; q++) g[q] = l2 * (rep[q] - init[q]);
            for (int k = 0; k < B; k++) {
                duet_acc(g, dau + (size_t)k * d, (size_t)d);
                duet_acc(m->use_group ? g : g + d, dmu + (size_t)k * m->DmU, (size_t)m->DmU);
            }
            double bc1 = 1 - pow(0.9, t), bc2 = 1 - pow(0.999, t);
            for (int q = 0; q < R; q++) {
                mo[q] = 0.9f * mo[q] + 0.1f * g[q];
                vo[q] = 0.999f * vo[q] + 0.001f * g[q] * g[q];
                rep[q] -= (float)(lr * (mo[q] / bc1) / (sqrt(vo[q] / bc2) + 1e-8));
            }
        }
    }
    buf_free(&b);
    free(it);
    free(y);
    free(au);
    free(ai);
    free(mu);
    free(mi);
    free(dau);
    free(dmu);
    free(dai);
    free(dmi);
    free(gscr);
    free(g);
    free(mo);
    free(vo);
    free(init);
    return st;
}

int rec_incf_similar(const rec_incf *m, int32_t item, int k, int32_t *idx, float *sim)
{
    if (item < 0 || item >= m->ni || k < 1) return -1;
    int d = m->d;
    const float *q = m->ia + (size_t)item * d;
    float *s = malloc((size_t)m->ni * sizeof *s);
    if (!s) return -1;
    double qn = 0;
    for (int j = 0; j < d; j++) qn += (double)q[j] * q[j];
    qn = sqrt(qn);
    for (int32_t i = 0; i < m->ni; i++) {
        const float *p = m->ia + (size_t)i * d;
        double dot = 0, pn = 0;
        for (int j = 0; j < d; j++) {
            dot += (double)p[j] * q[j];
            pn += (double)p[j] * p[j];
        }
        s[i] = pn > 0 && qn > 0 ? (float)(dot / (sqrt(pn) * qn)) : 0.0f;
    }
    s[item] = -INFINITY;
    int got = rec_topk(s, m->ni, NULL, k, idx);
    for (int j = 0; j < got; j++) sim[j] = s[idx[j]];
    free(s);
    return got;
}

const int32_t *rec_incf_seen(const rec_incf *m, int32_t u, int64_t *n)
{
    if (u < 0 || u >= m->nu || u >= m->seen.n_rows) {
        *n = 0;
        return NULL;
    }
    *n = m->seen.indptr[u + 1] - m->seen.indptr[u];
    return m->seen.indices + m->seen.indptr[u];
}

/* ------------------------------------------------------------ save / load */

static char *join_strs(const char *const *s, int32_t n, int names)
{
    size_t len = 1;
    char num[24];
    for (int32_t i = 0; i < n; i++) {
        if (s && s[i]) len += strlen(s[i]) + 1;
        else len += (size_t)snprintf(num, sizeof num, "%d", (int)i) + 1;
    }
    char *o = malloc(len), *p = o;
    if (!o) return NULL;
    for (int32_t i = 0; i < n; i++) {
        const char *v = s && s[i] ? s[i] : NULL;
        if (!v) {
            if (names) num[0] = 0;
            else snprintf(num, sizeof num, "%d", (int)i);
            v = num;
        }
        for (; *v; v++) *p++ = (*v == '\n' || *v == '\r' || *v == '\t') ? ' ' : *v;
        *p++ = '\n';
    }
    *p = 0;
    return o;
}

static char **split_strs(const char *s, int32_t n)
{
    char **o = calloc((size_t)(n ? n : 1), sizeof *o);
    if (!o) return NULL;
    for (int32_t i = 0; i < n; i++) {
        const char *e = s ? strchr(s, '\n') : NULL;
        if (!e) {
            free_strs(o, n);
            return NULL;
        }
        o[i] = strndup(s, (size_t)(e - s));
        if (!o[i]) {
            free_strs(o, n);
            return NULL;
        }
        s = e + 1;
    }
    if (s && *s) {
        free_strs(o, n);
        return NULL;
    }
    return o;
}

duet_status rec_incf_save(const rec_incf *m, const char *path, const char *const *user_ids,
                          const char *const *item_ids, const char *const *item_names, duet_err *err)
{
    duet_st_writer *w = NULL;
    duet_status st = duet_st_writer_new(&w, err);
    if (st) return st;
    int heads[] = {S_M0W, S_M0B, S_M1W, S_M1B, S_OW, S_OB, S_FW, S_FB};
    for (size_t k = 0; !st && k < sizeof heads / sizeof heads[0]; k++) {
        int t = m->slot[heads[k]];
        if (t < 0) continue;
        const duet_param_info *in = &m->P->info[t];
        st = duet_st_writer_add(w, in->name, DUET_ST_F32, in->ndim, in->shape, duet_params_data(m->P, (size_t)t), err);
    }
    int64_t sh[2];
    struct {
        const char *name;
        const float *p;
        int64_t r, c;
    } reps[] = {{"rep.user.a", m->ua, m->nu, m->d},
                {"rep.user.m", m->um, m->nu, m->DmU},
                {"rep.item.a", m->ia, m->ni, m->d},
                {"rep.item.m", m->im, m->ni, m->DmI},
                {"rep.item.c1", m->C1, m->ni, m->H1}};
    for (size_t k = 0; !st && k < sizeof reps / sizeof reps[0]; k++) {
        sh[0] = reps[k].r;
        sh[1] = reps[k].c;
        st = duet_st_writer_add(w, reps[k].name, DUET_ST_F32, 2, sh, reps[k].p, err);
    }
    sh[0] = m->seen.n_rows + 1;
    if (!st) st = duet_st_writer_add(w, "seen.indptr", DUET_ST_I64, 1, sh, m->seen.indptr, err);
    sh[0] = m->seen.nnz;
    if (!st) st = duet_st_writer_add(w, "seen.indices", DUET_ST_I32, 1, sh, m->seen.nnz ? (const void *)m->seen.indices : (const void *)"", err);
    char num[64];
    if (!st) st = duet_st_writer_meta(w, "format", INCF_FORMAT, err);
    if (!st) st = duet_st_writer_meta(w, "version", "1", err);
    if (!st) st = duet_st_writer_meta(w, "config", m->desc, err);
    snprintf(num, sizeof num, "%d %d %d %d %d %d %d %d %d %d %d", m->nu, m->ni, m->d, m->H1, m->H2, m->Ho, m->Dz,
             m->DmU, m->DmI, m->use_group, m->use_outer);
    if (!st) st = duet_st_writer_meta(w, "dims", num, err);
    snprintf(num, sizeof num, "%d %.9g", m->best_epoch, m->best_valid);
    if (!st) st = duet_st_writer_meta(w, "best", num, err);
    const char *const *lists[3] = {user_ids, item_ids, item_names};
    const char *keys[3] = {"user_ids", "item_ids", "item_names"};
    for (int k = 0; k < 3 && !st; k++) {
        const char *const *src = lists[k];
        if (!src && k == 0 && m->user_ids) src = (const char *const *)m->user_ids;
        if (!src && k == 1 && m->item_ids) src = (const char *const *)m->item_ids;
        if (!src && k == 2 && m->item_names) src = (const char *const *)m->item_names;
        char *j = join_strs(src, k ? m->ni : m->nu, k == 2);
        if (!j) st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
        else st = duet_st_writer_meta(w, keys[k], j, err);
        free(j);
    }
    if (!st) st = duet_st_writer_save(w, path, err);
    duet_st_writer_free(w);
    return st;
}

duet_status rec_incf_load(const char *path, rec_incf **out, duet_err *err)
{
    *out = NULL;
    duet_st_file *f = NULL;
    duet_status st = duet_st_load(path, &f, err);
    if (st) return st;
    const char *fmt = duet_st_meta(f, "format"), *dims = duet_st_meta(f, "dims"), *cfg = duet_st_meta(f, "config");
    rec_incf *m = calloc(1, sizeof *m);
    if (!m) {
        duet_st_free(f);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    int nu, ni, d, H1, H2, Ho, Dz, DmU, DmI, ug, uo;
    if (!fmt || strcmp(fmt, INCF_FORMAT) != 0)
        st = duet_err_set(err, DUET_ERR_FORMAT, "%s: not an improved-ncf model (format %s)", path, fmt ? fmt : "missing");
    else if (!dims || !cfg ||
             sscanf(dims, "%d %d %d %d %d %d %d %d %d %d %d", &nu, &ni, &d, &H1, &H2, &Ho, &Dz, &DmU, &DmI, &ug, &uo) != 11 ||
             nu < 1 || ni < 1 || d < 4 || d > 256 || H1 != d || H2 < 1 || H2 > 256 || Ho < 1 || Ho > 256 || DmU < d ||
             DmI < d || DmU > 100000 || DmI > 100000 || Dz != d + H2 + (uo ? Ho : 0) || (ug && (DmU != d || DmI != d)))
        st = duet_err_set(err, DUET_ERR_FORMAT, "%s: bad model metadata", path);
    if (!st) {
        m->nu = nu;
        m->ni = ni;
        m->d = d;
        m->H1 = H1;
        m->H2 = H2;
        m->Ho = Ho;
        m->Dz = Dz;
        m->DmU = DmU;
        m->DmI = DmI;
        m->use_group = ug != 0;
        m->use_outer = uo != 0;
        snprintf(m->desc, sizeof m->desc, "%s", cfg);
        const char *b = duet_st_meta(f, "best");
        if (b) sscanf(b, "%d %lf", &m->best_epoch, &m->best_valid);
        st = build_params(m, 0, err);
    }
    for (int t = 0; !st && t < (int)m->P->count; t++) {
        const float *src;
        st = duet_st_get_f32(f, m->P->info[t].name, m->P->info[t].ndim, m->P->info[t].shape, &src, err);
        if (!st) memcpy(duet_params_data(m->P, (size_t)t), src, m->P->info[t].numel * sizeof(float));
    }
    struct {
        const char *name;
        float **p;
        int64_t r, c;
    } reps[] = {{"rep.user.a", &m->ua, nu, d},
                {"rep.user.m", &m->um, nu, DmU},
                {"rep.item.a", &m->ia, ni, d},
                {"rep.item.m", &m->im, ni, DmI},
                {"rep.item.c1", &m->C1, ni, H1}};
    for (size_t k = 0; !st && k < sizeof reps / sizeof reps[0]; k++) {
        const float *src;
        int64_t sh[2] = {reps[k].r, reps[k].c};
        st = duet_st_get_f32(f, reps[k].name, 2, sh, &src, err);
        if (!st && !(*reps[k].p = malloc((size_t)(sh[0] * sh[1]) * sizeof(float))))
            st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        if (!st) memcpy(*reps[k].p, src, (size_t)(sh[0] * sh[1]) * sizeof(float));
    }
    if (!st) {
        const duet_st_tensor *ip = duet_st_get(f, "seen.indptr"), *ix = duet_st_get(f, "seen.indices");
        if (!ip || !ix || ip->dtype != DUET_ST_I64 || ix->dtype != DUET_ST_I32 || ip->ndim != 1 || ix->ndim != 1 ||
            ip->shape[0] != (int64_t)nu + 1)
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s: bad seen-items tensors", path);
        else {
            const int64_t *p = ip->data;
            const int32_t *x = ix->data;
            int ok = p[0] == 0 && p[nu] == ix->shape[0];
            for (int32_t u = 0; ok && u < nu; u++) ok = p[u + 1] >= p[u];
            for (int64_t q = 0; ok && q < ix->shape[0]; q++) ok = x[q] >= 0 && x[q] < ni;
            if (!ok) st = duet_err_set(err, DUET_ERR_FORMAT, "%s: bad seen-items tensors", path);
            else {
                m->seen.n_rows = nu;
                m->seen.n_cols = ni;
                m->seen.nnz = ix->shape[0];
                m->seen.indptr = malloc((size_t)(nu + 1) * sizeof(int64_t));
                m->seen.indices = malloc((size_t)(ix->shape[0] ? ix->shape[0] : 1) * sizeof(int32_t));
                m->seen.values = malloc((size_t)(ix->shape[0] ? ix->shape[0] : 1) * sizeof(float));
                if (!m->seen.indptr || !m->seen.indices || !m->seen.values)
                    st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
                else {
                    memcpy(m->seen.indptr, p, (size_t)(nu + 1) * sizeof(int64_t));
                    memcpy(m->seen.indices, x, (size_t)ix->shape[0] * sizeof(int32_t));
                    for (int64_t q = 0; q < ix->shape[0]; q++) m->seen.values[q] = 1;
                }
            }
        }
    }
    if (!st) {
        m->user_ids = split_strs(duet_st_meta(f, "user_ids"), nu);
        m->item_ids = split_strs(duet_st_meta(f, "item_ids"), ni);
        m->item_names = split_strs(duet_st_meta(f, "item_names"), ni);
        if (!m->user_ids || !m->item_ids || !m->item_names)
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s: bad id lists in the metadata", path);
    }
    duet_st_free(f);
    if (st) {
        rec_incf_free(m);
        return st;
    }
    *out = m;
    return DUET_OK;
}

const char *rec_incf_user_id(const rec_incf *m, int32_t u)
{
    return m->user_ids && u >= 0 && u < m->nu ? m->user_ids[u] : NULL;
}
const char *rec_incf_item_id(const rec_incf *m, int32_t i)
{
    return m->item_ids && i >= 0 && i < m->ni ? m->item_ids[i] : NULL;
}
const char *rec_incf_item_name(const rec_incf *m, int32_t i)
{
    return m->item_names && i >= 0 && i < m->ni && m->item_names[i][0] ? m->item_names[i] : NULL;
}
int32_t rec_incf_find_user(const rec_incf *m, const char *id)
{
    for (int32_t u = 0; m->user_ids && u < m->nu; u++)
        if (!strcmp(m->user_ids[u], id)) return u;
    return -1;
}
int32_t rec_incf_find_item(const rec_incf *m, const char *id)
{
    for (int32_t i = 0; m->item_ids && i < m->ni; i++)
        if (!strcmp(m->item_ids[i], id)) return i;
    return -1;
}

/* ------------------------------------------------------------ gradient-check hooks */

double rec_incf_batch_loss(rec_incf *m, const int32_t *u, const int32_t *it, const float *y, int B, int grad)
{
    incf_buf b = {0};
    if (buf_init(&b, m, B, NULL)) return NAN;
    if (grad) duet_params_zero_grad(m->P);
    double l = batch_step(m, &b, grad ? m->P->grad : NULL, u, it, NULL, y, B);
    buf_free(&b);
    return l;
}

int rec_incf_n_params(const rec_incf *m) { return m->n_live; }
const char *rec_incf_param_name(const rec_incf *m, int t) { return m->P->info[t].name; }
float *rec_incf_param_data(rec_incf *m, int t, size_t *numel)
{
    *numel = m->P->info[t].numel;
    return duet_params_data(m->P, (size_t)t);
}
float *rec_incf_param_grad(rec_incf *m, int t) { return m->P->grad ? duet_params_grad(m->P, (size_t)t) : NULL; }

/* ------------------------------------------------------------ model table */

static duet_status table_fit(int variant, const rec_fit_ctx *ctx, const rec_params *p, void **state, duet_err *err)
{
    rec_incf_config c;
    rec_incf_config_default(&c);
    c.variant = variant;
    if (p->dim > 0) c.dim = p->dim;
    if (p->k > 0) c.negatives = p->k;
    if (p->epochs > 0) c.max_epochs = p->epochs;
    if (p->lr > 0) c.lr = p->lr;
    c.id_dropout = variant == REC_INCF_NO_CONTENT ? 0.0f : p->alpha;
    c.loss = p->weighting;
    c.refit = p->shrink > 0;
    c.weight_decay = p->decay;
    if (p->reg >= 1) c.patience = (int)p->reg;
    rec_incf *m = NULL;
    duet_status st = rec_incf_train(ctx, &c, NULL, &m, err);
    if (st) return st;
    *state = m;
    return DUET_OK;
}

duet_status rec_incf_fit_full(const rec_fit_ctx *c, const rec_params *p, void **s, duet_err *e)
{
    return table_fit(REC_INCF_FULL, c, p, s, e);
}
duet_status rec_incf_fit_no_w2v(const rec_fit_ctx *c, const rec_params *p, void **s, duet_err *e)
{
    return table_fit(REC_INCF_NO_W2V, c, p, s, e);
}
duet_status rec_incf_fit_no_outer(const rec_fit_ctx *c, const rec_params *p, void **s, duet_err *e)
{
    return table_fit(REC_INCF_NO_OUTER, c, p, s, e);
}
duet_status rec_incf_fit_no_group(const rec_fit_ctx *c, const rec_params *p, void **s, duet_err *e)
{
    return table_fit(REC_INCF_NO_GROUP, c, p, s, e);
}
duet_status rec_incf_fit_no_content(const rec_fit_ctx *c, const rec_params *p, void **s, duet_err *e)
{
    return table_fit(REC_INCF_NO_CONTENT, c, p, s, e);
}

duet_status rec_incf_table_score(const void *state, const rec_csr *train, const int32_t *users, int32_t n, float *out,
                                 duet_err *err)
{
    (void)train;
    return rec_incf_score(state, users, n, out, err);
}

void rec_incf_table_free(void *state) { rec_incf_free(state); }

/* ------------------------------------------------------------ state inside a model file */

#include "state_io.h"

duet_status rec_incf_export(const rec_incf *m, duet_st_writer *w, const char *prefix, duet_err *err)
{
    char nm[256];
    duet_status st = DUET_OK;
    int heads[] = {S_M0W, S_M0B, S_M1W, S_M1B, S_OW, S_OB, S_FW, S_FB};
    for (size_t k = 0; !st && k < sizeof heads / sizeof heads[0]; k++) {
        int t = m->slot[heads[k]];
        if (t < 0) continue;
        const duet_param_info *in = &m->P->info[t];
        snprintf(nm, sizeof nm, "%s%s", prefix, in->name);
        st = duet_st_writer_add(w, nm, DUET_ST_F32, in->ndim, in->shape, duet_params_data(m->P, (size_t)t), err);
    }
    int32_t hdr[12] = {m->nu, m->ni, m->d, m->H1, m->H2, m->Ho, m->Dz, m->DmU, m->DmI, m->use_group, m->use_outer,
                       m->best_epoch};
    if (!st) st = rec_st_put(w, prefix, "hdr", DUET_ST_I32, 12, 0, hdr, err);
    float bv = (float)m->best_valid;
    if (!st) st = rec_st_put(w, prefix, "best_valid", DUET_ST_F32, 1, 0, &bv, err);
    if (!st) st = rec_st_put(w, prefix, "rep.user.a", DUET_ST_F32, m->nu, m->d, m->ua, err);
    if (!st) st = rec_st_put(w, prefix, "rep.user.m", DUET_ST_F32, m->nu, m->DmU, m->um, err);
    if (!st) st = rec_st_put(w, prefix, "rep.item.a", DUET_ST_F32, m->ni, m->d, m->ia, err);
    if (!st) st = rec_st_put(w, prefix, "rep.item.m", DUET_ST_F32, m->ni, m->DmI, m->im, err);
    if (!st) st = rec_st_put(w, prefix, "rep.item.c1", DUET_ST_F32, m->ni, m->H1, m->C1, err);
    if (!st) st = rec_st_put_csr(w, prefix, "seen", &m->seen, err);
    snprintf(nm, sizeof nm, "%sconfig", prefix);
    if (!st) st = duet_st_writer_meta(w, nm, m->desc, err);
    return st;
}

duet_status rec_incf_import(const duet_st_file *f, const char *prefix, rec_incf **out, duet_err *err)
{
    *out = NULL;
    const void *h, *bv;
    duet_status st = rec_st_get(f, prefix, "hdr", DUET_ST_I32, 12, 0, &h, NULL, NULL, err);
    if (!st) st = rec_st_get(f, prefix, "best_valid", DUET_ST_F32, 1, 0, &bv, NULL, NULL, err);
    if (st) return st;
    const int32_t *x = h;
    int nu = x[0], ni = x[1], d = x[2], H1 = x[3], H2 = x[4], Ho = x[5], Dz = x[6], DmU = x[7], DmI = x[8];
    int ug = x[9], uo = x[10];
    if (nu < 1 || ni < 1 || d < 4 || d > 256 || H1 != d || H2 < 1 || H2 > 256 || Ho < 1 || Ho > 256 || DmU < d ||
        DmI < d || DmU > 100000 || DmI > 100000 || Dz != d + H2 + (uo ? Ho : 0) || (ug && (DmU != d || DmI != d)))
        return duet_err_set(err, DUET_ERR_FORMAT, "model file: bad improved-ncf deep-branch header");
    rec_incf *m = calloc(1, sizeof *m);
    if (!m) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    m->nu = nu;
    m->ni = ni;
    m->d = d;
    m->H1 = H1;
    m->H2 = H2;
    m->Ho = Ho;
    m->Dz = Dz;
    m->DmU = DmU;
    m->DmI = DmI;
    m->use_group = ug != 0;
    m->use_outer = uo != 0;
    m->best_epoch = x[11];
    m->best_valid = *(const float *)bv;
    char nm[256];
    snprintf(nm, sizeof nm, "%sconfig", prefix);
    const char *cfg = duet_st_meta(f, nm);
    snprintf(m->desc, sizeof m->desc, "%s", cfg ? cfg : "");
    st = build_params(m, 0, err);
    for (int t = 0; !st && t < (int)m->P->count; t++) {
        const float *src;
        snprintf(nm, sizeof nm, "%s%s", prefix, m->P->info[t].name);
        st = duet_st_get_f32(f, nm, m->P->info[t].ndim, m->P->info[t].shape, &src, err);
        if (!st) memcpy(duet_params_data(m->P, (size_t)t), src, m->P->info[t].numel * sizeof(float));
    }
    struct {
        const char *name;
        float **p;
        int64_t r, c;
    } reps[] = {{"rep.user.a", &m->ua, nu, d},
                {"rep.user.m", &m->um, nu, DmU},
                {"rep.item.a", &m->ia, ni, d},
                {"rep.item.m", &m->im, ni, DmI},
                {"rep.item.c1", &m->C1, ni, H1}};
    for (size_t k = 0; !st && k < sizeof reps / sizeof reps[0]; k++) {
        const void *src;
        st = rec_st_get(f, prefix, reps[k].name, DUET_ST_F32, reps[k].r, reps[k].c, &src, NULL, NULL, err);
        if (!st && !(*reps[k].p = malloc((size_t)(reps[k].r * reps[k].c) * sizeof(float))))
            st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        if (!st) memcpy(*reps[k].p, src, (size_t)(reps[k].r * reps[k].c) * sizeof(float));
    }
    if (!st) st = rec_st_get_csr(f, prefix, "seen", nu, ni, &m->seen, err);
    if (st) {
        rec_incf_free(m);
        return st;
    }
    *out = m;
    return DUET_OK;
}
