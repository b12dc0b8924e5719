/* recommender/incf.c: the improved NCF's deep network (incf.h): configuration, training
 * (epochs, early stopping, checkpoints) and the model-table entries. */
#include "incf.h"

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

const char *const duet_incf_variant_name[5] = {"improved-ncf", "improved-ncf-no-w2v", "improved-ncf-no-outer",
                                     "improved-ncf-no-group", "improved-ncf-no-content"};

void duet_rec_incf_config_default(duet_rec_incf_config *c)
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

void duet_incf_free_strs(char **s, int32_t n)
{
    if (!s) return;
    for (int32_t i = 0; i < n; i++) free(s[i]);
    free(s);
}

void duet_rec_incf_free(duet_rec_incf *m)
{
    if (!m) return;
    duet_rec_csr_free(&m->itok_a);
    duet_rec_csr_free(&m->itok_kg);
    duet_rec_csr_free(&m->utok);
    duet_rec_csr_free(&m->fr);
    duet_rec_csr_free(&m->seen);
    free(m->feats);
    free(m->has_feats);
    free(m->warm);
    duet_params_free(m->P);
    free(m->ua);
    free(m->um);
    free(m->ia);
    free(m->im);
    free(m->C1);
    duet_incf_free_strs(m->user_ids, m->nu);
    duet_incf_free_strs(m->item_ids, m->ni);
    duet_incf_free_strs(m->item_names, m->ni);
    free(m);
}

int32_t duet_rec_incf_n_users(const duet_rec_incf *m) { return m->nu; }
int32_t duet_rec_incf_n_items(const duet_rec_incf *m) { return m->ni; }
int duet_rec_incf_best_epoch(const duet_rec_incf *m) { return m->best_epoch; }
double duet_rec_incf_best_valid(const duet_rec_incf *m) { return m->best_valid; }
const char *duet_rec_incf_describe(const duet_rec_incf *m) { return m->desc; }

/* Initial weights (deterministic from seed). The frozen word2vec table is kept. */
static void init_weights(duet_rec_incf *m, uint64_t seed)
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
    float *es = incf_T(m, S_ES);
    if (es) {
        es[0] = -1;
        for (int k = 1; k < INCF_ES_N; k++) es[k] = 0;
    }
}

static void copy_live(duet_rec_incf *m, int to_best)
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
    duet_incf_buf buf;
} train_ws;

static void zero_sparse_rows(float *g, const int32_t *rows, int n, int D)
{
    for (int k = 0; k < n; k++) memset(g + (size_t)rows[k] * D, 0, (size_t)D * sizeof *g);
}

static void fill_positives(train_ws *w, const duet_rec_csr *X)
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
static double run_epoch(duet_rec_incf *m, const duet_rec_csr *X, train_ws *w, duet_adam *opt, uint64_t seed, int phase,
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
    duet_rng_shuffle2(&r, w->gu, sizeof *w->gu, w->gi, sizeof *w->gi, (size_t)np);
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
                    else it = duet_rec_draw_negative(&r, X, u, w->warm_items, w->n_warm);
                }
                w->bu[B] = u;
                w->bi[B] = it;
                w->by[B] = k == 0 ? 1.0f : 0.0f;
                w->bd[B] = m->c.id_dropout > 0 && duet_rng_uniform(&r) < m->c.id_dropout;
                B++;
            }
        }
        loss_sum += duet_incf_batch_step(m, &w->buf, gb, w->bu, w->bi, w->bd, w->by, B);
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
        zero_sparse_rows(incf_G(m, gb, S_UID), w->ru, nru, d);
        zero_sparse_rows(incf_G(m, gb, S_IID), w->ri, nri, d);
        if (m->use_content && m->learn_tok && m->slot[S_TOK] >= 0) {
            duet_adam_update_rows(opt, m->P, (size_t)m->slot[S_TOK], w->rt, (size_t)nrt, m->c.lr);
            zero_sparse_rows(incf_G(m, gb, S_TOK), w->rt, nrt, m->dw);
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
static void resolve_schedule(duet_rec_incf_config *c, int64_t n_pos)
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

static duet_status save_ckpt(duet_rec_incf *m, const char *path, const duet_adam *opt, int64_t step, duet_err *err)
{
    duet_rng dummy;
    duet_rng_seed(&dummy, 0);
    duet_meta_kv kv[1] = {{"incf.config", m->desc}};
    return duet_checkpoint_save(path, m->P, opt, step, &dummy, 1, kv, 1, err);
}

static duet_status load_ckpt(duet_rec_incf *m, const char *path, duet_adam *opt, int64_t *step, duet_err *err)
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

duet_status duet_rec_incf_train(const duet_rec_fit_ctx *ctx, const duet_rec_incf_config *cfg,
                                const duet_rec_incf_train_opts *topt, duet_rec_incf **out, duet_err *err)
{
    const duet_rec_csr *X = ctx->train;
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
    duet_rec_incf *m = calloc(1, sizeof *m);
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
    duet_rec_csr fitX = {0}, esV = {0};
    const duet_rec_csr *trainX = X, *validX = ctx->valid;
    int internal = 0;
    if (!validX) {
        duet_err e2 = {0};
        if (duet_rec_split_users(X, 0.1, 5, ctx->seed ^ 0xE5E5E5ULL, &fitX, &esV, &e2) == DUET_OK && esV.nnz > 0) {
            trainX = &fitX;
            validX = &esV;
            internal = 1;
        } else {
            duet_rec_csr_free(&fitX);
            duet_rec_csr_free(&esV);
        }
    }
    resolve_schedule(&m->c, trainX->nnz);
    m->warm = calloc((size_t)m->ni, 1);
    if (!m->warm) st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
    for (int64_t q = 0; !st && q < X->nnz; q++) m->warm[X->indices[q]] = 1;
    if (!st) st = duet_rec_csr_copy(X, &m->seen, err);
    if (!st) st = duet_incf_prepare_inputs(m, ctx, err);
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
    if (!st) st = duet_incf_buf_init(&w.buf, m, B, err);
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
        H = malloc(duet_incf_score_scratch(m) * sizeof *H);
        if (!vusers || !rel || !row || !H) st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
        for (int32_t u = 0; !st && u < m->nu && u < validX->n_rows; u++)
            if (validX->indptr[u + 1] > validX->indptr[u] && trainX->indptr[u + 1] > trainX->indptr[u]) vusers[nv++] = u;
        duet_rng vr;
        duet_rng_seed(&vr, ctx->seed ^ 0xA11DA7EULL);
        if (!st) duet_rng_shuffle(&vr, vusers, (size_t)nv, sizeof *vusers);
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
    float *es = st ? NULL : incf_T(m, S_ES);
    duet_progress pg;
    char label[64];
    snprintf(label, sizeof label, "%s", duet_incf_variant_name[cfg->variant]);
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
                st = duet_incf_compute_reps(m, err);
                if (st) break;
                v = duet_incf_valid_ndcg(m, trainX, validX, vusers, nv, cand, row, H, rel);
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
    if (!st) st = duet_incf_compute_reps(m, err);
    duet_incf_buf_free(&w.buf);
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
    duet_rec_csr_free(&fitX);
    duet_rec_csr_free(&esV);
    if (st) {
        duet_rec_incf_free(m);
        return st;
    }
    *out = m;
    return DUET_OK;
}

/* ------------------------------------------------------------ model table */

static duet_status table_fit(int variant, const duet_rec_fit_ctx *ctx, const duet_rec_params *p, void **state,
                             duet_err *err)
{
    duet_rec_incf_config c;
    duet_rec_incf_config_default(&c);
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
    duet_rec_incf *m = NULL;
    duet_status st = duet_rec_incf_train(ctx, &c, NULL, &m, err);
    if (st) return st;
    *state = m;
    return DUET_OK;
}

duet_status duet_rec_incf_fit_full(const duet_rec_fit_ctx *c, const duet_rec_params *p, void **s, duet_err *e)
{
    return table_fit(REC_INCF_FULL, c, p, s, e);
}
duet_status duet_rec_incf_fit_no_w2v(const duet_rec_fit_ctx *c, const duet_rec_params *p, void **s, duet_err *e)
{
    return table_fit(REC_INCF_NO_W2V, c, p, s, e);
}
duet_status duet_rec_incf_fit_no_outer(const duet_rec_fit_ctx *c, const duet_rec_params *p, void **s, duet_err *e)
{
    return table_fit(REC_INCF_NO_OUTER, c, p, s, e);
}
duet_status duet_rec_incf_fit_no_group(const duet_rec_fit_ctx *c, const duet_rec_params *p, void **s, duet_err *e)
{
    return table_fit(REC_INCF_NO_GROUP, c, p, s, e);
}
duet_status duet_rec_incf_fit_no_content(const duet_rec_fit_ctx *c, const duet_rec_params *p, void **s, duet_err *e)
{
    return table_fit(REC_INCF_NO_CONTENT, c, p, s, e);
}

duet_status duet_rec_incf_table_score(const void *state, const duet_rec_csr *train, const int32_t *users, int32_t n,
                                      float *out, duet_err *err)
{
    (void)train;
    return duet_rec_incf_score(state, users, n, out, err);
}

void duet_rec_incf_table_free(void *state) { duet_rec_incf_free(state); }

