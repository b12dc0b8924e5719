/* recommender/incf_net.c: the deep network of the improved NCF (incf.h):
 * dimensions, parameters, inputs, forward and backward, scoring. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/progress.h"
#include "../common/rng.h"
#include "../nn/checkpoint.h"
#include "../nn/gemm.h"
#include "../nn/layers.h"
#include "../nn/optim.h"
#include "../nn/safetensors.h"
#include "../nn/tensor.h"
#include "incf_impl.h"
#include "metrics.h"
#include "split.h"
#include "word2vec.h"

static const char *const slot_name[S_N] = {"user.id",       "item.id",       "tok",           "ugrp.0.weight",
                                     "ugrp.0.bias",   "ugrp.1.weight", "ugrp.1.bias",   "igrp.0.weight",
                                     "igrp.0.bias",   "igrp.1.weight", "igrp.1.bias",   "mlp.0.weight",
                                     "mlp.0.bias",    "mlp.1.weight",  "mlp.1.bias",    "outer.weight",
                                     "outer.bias",    "out.weight",    "out.bias",      "es.state"};

/* ------------------------------------------------------------ dimensions */

void duet_incf_set_dims(duet_rec_incf *m)
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
             duet_incf_variant_name[m->c.variant], d, dw, m->c.negatives, m->c.max_epochs, m->c.min_epochs, m->c.patience, (double)m->c.lr,
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
duet_status duet_incf_build_params(duet_rec_incf *m, int training, duet_err *err)
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
static int bag(float *out, const duet_rec_csr *c, int32_t r, const float *tok, int dw)
{
    memset(out, 0, (size_t)dw * sizeof *out);
    if (!tok || r >= c->n_rows) return 0;
    for (int64_t q = c->indptr[r]; q < c->indptr[r + 1]; q++) duet_axpy(out, c->values[q], tok + (size_t)c->indices[q] * dw, (size_t)dw);
    return c->indptr[r + 1] > c->indptr[r];
}

static void bag_back(float *dtok, const duet_rec_csr *c, int32_t r, const float *dout, int dw)
{
    if (!dtok || r >= c->n_rows) return;
    for (int64_t q = c->indptr[r]; q < c->indptr[r + 1]; q++) duet_axpy(dtok + (size_t)c->indices[q] * dw, c->values[q], dout, (size_t)dw);
}

/* Raw user input x (Du). */
static void user_input(const duet_rec_incf *m, int32_t u, float *x)
{
    int d = m->d, dw = m->dw, o = d;
    const float *U = incf_T(m, S_UID);
    memcpy(x, U + (size_t)u * d, (size_t)d * sizeof *x);
    if (!m->use_content) return;
    if (m->has_ut) {
        x[o + dw] = (float)bag(x + o, &m->utok, u, incf_T(m, S_TOK), dw);
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

static void user_input_back(const duet_rec_incf *m, float *gbase, int32_t u, const float *dx)
{
    int d = m->d, dw = m->dw, o = d;
    float *dU = incf_G(m, gbase, S_UID);
    duet_acc(dU + (size_t)u * d, dx, (size_t)d);
    if (!m->use_content) return;
    if (m->has_ut) {
        if (m->learn_tok) bag_back(incf_G(m, gbase, S_TOK), &m->utok, u, dx + o, dw);
        o += dw + 1;
    }
    if (m->has_fr) {
        for (int64_t q = m->fr.indptr[u]; q < m->fr.indptr[u + 1]; q++)
            duet_axpy(dU + (size_t)m->fr.indices[q] * d, m->fr.values[q], dx + o, (size_t)d);
        o += d + 1;
    }
}

/* Raw item input x (Di); drop = 1 zeroes the id embedding (also for cold items). */
static void item_input(const duet_rec_incf *m, int32_t i, int drop, float *x)
{
    int d = m->d, dw = m->dw, o = d;
    if (drop || !m->warm[i]) memset(x, 0, (size_t)d * sizeof *x);
    else memcpy(x, incf_T(m, S_IID) + (size_t)i * d, (size_t)d * sizeof *x);
    if (!m->use_content) return;
    const float *tok = incf_T(m, S_TOK);
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

static void item_input_back(const duet_rec_incf *m, float *gbase, int32_t i, int drop, const float *dx)
{
    int d = m->d, dw = m->dw, o = d;
    if (!drop && m->warm[i]) duet_acc(incf_G(m, gbase, S_IID) + (size_t)i * d, dx, (size_t)d);
    if (!m->use_content || !m->learn_tok) return;
    float *dtok = incf_G(m, gbase, S_TOK);
    if (m->has_ia) {
        bag_back(dtok, &m->itok_a, i, dx + o, dw);
        o += dw + 1;
    }
    if (m->has_kg) bag_back(dtok, &m->itok_kg, i, dx + o, dw);
}

/* ------------------------------------------------------------ batch forward/backward */


duet_status duet_incf_buf_init(duet_incf_buf *b, const duet_rec_incf *m, int B, duet_err *err)
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

void duet_incf_buf_free(duet_incf_buf *b) { duet_free_aligned(b->mem); }

/* In-place ReLU backward: dx[k] = 0 where the forward output was 0. */
static void relu_mask(float *dx, const float *out, size_t n)
{
    for (size_t k = 0; k < n; k++) dx[k] = out[k] > 0 ? dx[k] : 0.0f;
}

/* Group fusion forward: g (B x d) = W1 ReLU(W0 x + b0) + b1. */
static void group_fwd(const duet_rec_incf *m, int w0, const float *x, int D, float *h, float *g, int B)
{
    int d = m->d;
    duet_linear_forward(h, x, incf_T(m, w0), incf_T(m, w0 + 1), B, D, d);
    duet_relu_forward(h, h, (size_t)B * d);
    duet_linear_forward(g, h, incf_T(m, w0 + 2), incf_T(m, w0 + 3), B, d, d);
}

static void group_bwd(const duet_rec_incf *m, float *gbase, int w0, float *dx, float *dh, const float *dg,
                      const float *x, int D, const float *h, int B)
{
    int d = m->d;
    duet_linear_backward(dh, incf_G(m, gbase, w0 + 2), incf_G(m, gbase, w0 + 3), dg, h, incf_T(m, w0 + 2), B, d, d);
    relu_mask(dh, h, (size_t)B * d);
    duet_linear_backward(dx, incf_G(m, gbase, w0), incf_G(m, gbase, w0 + 1), dh, x, incf_T(m, w0), B, D, d);
}

/* Interaction head forward from a (B x d) and m (B x Dm) of both sides: lg (B). */
void duet_incf_head_fwd(const duet_rec_incf *m, duet_incf_buf *b, const float *au, const float *ai, const float *mu,
                     const float *mi, int B)
{
    int d = m->d;
    size_t n = (size_t)B * d;
    for (size_t k = 0; k < n; k++) b->gmf[k] = au[k] * ai[k];
    duet_concat_forward(b->min, mu, mi, B, m->DmU, m->DmI, 1);
    duet_linear_forward(b->h1, b->min, incf_T(m, S_M0W), incf_T(m, S_M0B), B, m->DmU + m->DmI, m->H1);
    duet_relu_forward(b->h1, b->h1, (size_t)B * m->H1);
    duet_linear_forward(b->h2, b->h1, incf_T(m, S_M1W), incf_T(m, S_M1B), B, m->H1, m->H2);
    duet_relu_forward(b->h2, b->h2, (size_t)B * m->H2);
    if (m->use_outer) {
        duet_outer_forward(b->op, au, ai, B, d, d);
        duet_linear_forward(b->o, b->op, incf_T(m, S_OW), incf_T(m, S_OB), B, d * d, m->Ho);
        duet_relu_forward(b->o, b->o, (size_t)B * m->Ho);
    }
    for (int r = 0; r < B; r++) {
        float *z = b->z + (size_t)r * m->Dz;
        memcpy(z, b->gmf + (size_t)r * d, (size_t)d * sizeof *z);
        memcpy(z + d, b->h2 + (size_t)r * m->H2, (size_t)m->H2 * sizeof *z);
        if (m->use_outer) memcpy(z + d + m->H2, b->o + (size_t)r * m->Ho, (size_t)m->Ho * sizeof *z);
    }
    duet_linear_forward(b->lg, b->z, incf_T(m, S_FW), incf_T(m, S_FB), B, m->Dz, 1);
}

/* Backward of duet_incf_head_fwd from b->dlg: accumulates dau, dai, dmu, dmi (zeroed by the caller). */
void duet_incf_head_bwd(const duet_rec_incf *m, float *gbase, duet_incf_buf *b, const float *au, const float *ai,
                        float *dau, float *dai, float *dmu, float *dmi, int B)
{
    int d = m->d;
    size_t Bs = (size_t)B;
    memset(b->dz, 0, Bs * m->Dz * sizeof(float));
    memset(b->dh1, 0, Bs * m->H1 * sizeof(float));
    memset(b->dmin, 0, Bs * (m->DmU + m->DmI) * sizeof(float));
    if (m->use_outer) memset(b->dop, 0, Bs * d * d * sizeof(float));
    duet_linear_backward(b->dz, incf_G(m, gbase, S_FW), incf_G(m, gbase, S_FB), b->dlg, b->z, incf_T(m, S_FW), B, m->Dz, 1);
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
    duet_linear_backward(b->dh1, incf_G(m, gbase, S_M1W), incf_G(m, gbase, S_M1B), b->dh2, b->h1, incf_T(m, S_M1W), B, m->H1, m->H2);
    relu_mask(b->dh1, b->h1, (size_t)B * m->H1);
    duet_linear_backward(b->dmin, incf_G(m, gbase, S_M0W), incf_G(m, gbase, S_M0B), b->dh1, b->min, incf_T(m, S_M0W), B,
                         m->DmU + m->DmI, m->H1);
    duet_concat_backward(dmu, dmi, b->dmin, B, m->DmU, m->DmI, 1);
    if (m->use_outer) {
        relu_mask(b->do_, b->o, (size_t)B * m->Ho);
        duet_linear_backward(b->dop, incf_G(m, gbase, S_OW), incf_G(m, gbase, S_OB), b->do_, b->op, incf_T(m, S_OW), B, d * d, m->Ho);
        duet_outer_backward(dau, dai, b->dop, au, ai, B, d, d);
    }
}

/* Loss of lg (B) into dlg (zeroed here). loss 1: BPR over groups of G. */
static double loss_fwd_bwd(const duet_rec_incf *m, duet_incf_buf *b, const float *y, int B)
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
double duet_incf_batch_step(const duet_rec_incf *m, duet_incf_buf *b, float *gbase, const int32_t *u, const int32_t *it,
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
    duet_incf_head_fwd(m, b, au, ai, mu, mi, B);
    double loss = loss_fwd_bwd(m, b, y, B);
    if (!gbase) return loss;
    size_t Bs = (size_t)B;
    memset(b->dau, 0, Bs * d * sizeof(float));
    memset(b->dai, 0, Bs * d * sizeof(float));
    memset(b->dmu, 0, Bs * m->DmU * sizeof(float));
    memset(b->dmi, 0, Bs * m->DmI * sizeof(float));
    memset(b->dxu, 0, Bs * m->Du * sizeof(float));
    memset(b->dxi, 0, Bs * m->Di * sizeof(float));
    duet_incf_head_bwd(m, gbase, b, au, ai, b->dau, b->dai, b->dmu, b->dmi, B);
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
duet_status duet_incf_compute_reps(duet_rec_incf *m, duet_err *err)
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
    const float *w0 = incf_T(m, S_M0W), *b0 = incf_T(m, S_M0B);
    for (size_t i = 0; i < ni; i++) memcpy(m->C1 + i * m->H1, b0, (size_t)m->H1 * sizeof(float));
    duet_sgemm(0, 1, m->ni, m->H1, m->DmI, 1.0f, m->im, m->DmI, w0 + m->DmU, m->DmU + m->DmI, 1.0f, m->C1, m->H1);
    return DUET_OK;
}

/* Scores of one user (a: d, mu: DmU) against all items into out; scratch H (ni x (H1 + H2 + Ho)). */
static void score_one(const duet_rec_incf *m, const float *a, const float *mu, float *H, float *out)
{
    int d = m->d, H1 = m->H1, H2 = m->H2, Ho = m->Ho, Dm = m->DmU + m->DmI;
    size_t ni = (size_t)m->ni;
    const float *w0 = incf_T(m, S_M0W), *w1 = incf_T(m, S_M1W), *b1 = incf_T(m, S_M1B), *wf = incf_T(m, S_FW), *bf = incf_T(m, S_FB);
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
        const float *wo = incf_T(m, S_OW), *bo = incf_T(m, S_OB);
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

size_t duet_incf_score_scratch(const duet_rec_incf *m) { return (size_t)m->ni * (size_t)(m->H1 + m->H2 + m->Ho); }

duet_status duet_rec_incf_score(const duet_rec_incf *m, const int32_t *users, int32_t n, float *out, duet_err *err)
{
    for (int32_t b = 0; b < n; b++)
        if (users[b] < 0 || users[b] >= m->nu) return duet_err_set(err, DUET_ERR_ARG, "improved-ncf: user out of range");
    float *H = malloc(duet_incf_score_scratch(m) * sizeof *H);
    if (!H) return duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory scoring");
    for (int32_t b = 0; b < n; b++)
        score_one(m, m->ua + (size_t)users[b] * m->d, m->um + (size_t)users[b] * m->DmU, H, out + (size_t)b * m->ni);
    free(H);
    return DUET_OK;
}

int duet_rec_incf_user_rep_len(const duet_rec_incf *m) { return m->use_group ? m->d : m->d + m->DmU; }

duet_status duet_rec_incf_score_rep(const duet_rec_incf *m, const float *rep, float *out, duet_err *err)
{
    float *H = malloc(duet_incf_score_scratch(m) * sizeof *H);
    if (!H) return duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory scoring");
    score_one(m, rep, m->use_group ? rep : rep + m->d, H, out);
    free(H);
    return DUET_OK;
}

/* Validation NDCG@10 of the current weights (reps computed by the caller). */
double duet_incf_valid_ndcg(const duet_rec_incf *m, const duet_rec_csr *train, const duet_rec_csr *valid,
                            const int32_t *vusers, int32_t nv, const uint8_t *cand, float *row, float *H, int32_t *rel)
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
        int got = duet_rec_topk(row, m->ni, NULL, 10, ranked);
        double met[REC_N_METRICS];
        duet_rec_metrics_at_k(ranked, got, rel, nr, 10, met);
        s += met[REC_NDCG];
        n++;
    }
    return n ? s / (double)n : 0;
}

/* ------------------------------------------------------------ gradient-check hooks */

double duet_rec_incf_batch_loss(duet_rec_incf *m, const int32_t *u, const int32_t *it, const float *y, int B, int grad)
{
    duet_incf_buf b = {0};
    if (duet_incf_buf_init(&b, m, B, NULL)) return NAN;
    if (grad) duet_params_zero_grad(m->P);
    double l = duet_incf_batch_step(m, &b, grad ? m->P->grad : NULL, u, it, NULL, y, B);
    duet_incf_buf_free(&b);
    return l;
}

int duet_rec_incf_n_params(const duet_rec_incf *m) { return m->n_live; }
const char *duet_rec_incf_param_name(const duet_rec_incf *m, int t) { return m->P->info[t].name; }
float *duet_rec_incf_param_data(duet_rec_incf *m, int t, size_t *numel)
{
    *numel = m->P->info[t].numel;
    return duet_params_data(m->P, (size_t)t);
}
float *duet_rec_incf_param_grad(duet_rec_incf *m, int t)
{
    return m->P->grad ? duet_params_grad(m->P, (size_t)t) : NULL;
}
