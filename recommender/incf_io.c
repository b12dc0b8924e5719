/* recommender/incf_io.c: the deep network (incf.h) after training: fold-in
 * of new users, similar items, seen items, files and ids. */
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
#include "state_io.h"

/* ------------------------------------------------------------ fold-in, similar, seen */

duet_status duet_rec_incf_fold_in(const duet_rec_incf *m, const int32_t *items, int n, uint64_t seed, float *rep,
                                  duet_err *err)
{
    if (n < 1) return duet_err_set(err, DUET_ERR_ARG, "improved-ncf: fold-in needs at least one item");
    for (int k = 0; k < n; k++)
        if (items[k] < 0 || items[k] >= m->ni) return duet_err_set(err, DUET_ERR_ARG, "improved-ncf: item out of range");
    int d = m->d, R = duet_rec_incf_user_rep_len(m), nneg = 4, B = n * (1 + nneg);
    int32_t *it = malloc((size_t)B * sizeof *it);
    float *y = malloc((size_t)B * sizeof *y), *au = malloc((size_t)B * d * sizeof *au);
    float *ai = malloc((size_t)B * d * sizeof *ai), *mu = malloc((size_t)B * m->DmU * sizeof *mu);
    float *mi = malloc((size_t)B * m->DmI * sizeof *mi), *dau = malloc((size_t)B * d * sizeof *dau);
    float *dmu = malloc((size_t)B * m->DmU * sizeof *dmu), *dai = malloc((size_t)B * d * sizeof *dai);
    float *dmi = malloc((size_t)B * m->DmI * sizeof *dmi), *gscr = calloc(m->P->total, sizeof *gscr);
    float *g = malloc((size_t)R * sizeof *g), *mo = calloc((size_t)R, sizeof *mo), *vo = calloc((size_t)R, sizeof *vo);
    float *init = malloc((size_t)R * sizeof *init);
    duet_incf_buf b = {0};
    duet_status st = DUET_OK;
    if (!it || !y || !au || !ai || !mu || !mi || !dau || !dmu || !dai || !dmi || !gscr || !g || !mo || !vo || !init)
        st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
    if (!st) st = duet_incf_buf_init(&b, m, B, err);
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
            duet_incf_head_fwd(m, &b, au, ai, mu, mi, B);
            memset(b.dlg, 0, (size_t)B * sizeof(float));
            duet_loss_bce_logits(b.dlg, b.lg, y, (size_t)B, 1.0f);
            memset(dau, 0, (size_t)B * d * sizeof(float));
            memset(dai, 0, (size_t)B * d * sizeof(float));
            memset(dmu, 0, (size_t)B * m->DmU * sizeof(float));
            memset(dmi, 0, (size_t)B * m->DmI * sizeof(float));
            duet_incf_head_bwd(m, gscr, &b, au, ai, dau, dai, dmu, dmi, B);
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
    duet_incf_buf_free(&b);
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

int duet_rec_incf_similar(const duet_rec_incf *m, int32_t item, int k, int32_t *idx, float *sim)
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
    int got = duet_rec_topk(s, m->ni, NULL, k, idx);
    for (int j = 0; j < got; j++) sim[j] = s[idx[j]];
    free(s);
    return got;
}

const int32_t *duet_rec_incf_seen(const duet_rec_incf *m, int32_t u, int64_t *n)
{
    if (u < 0 || u >= m->nu || u >= m->seen.n_rows) {
        *n = 0;
        return NULL;
    }
    *n = m->seen.indptr[u + 1] - m->seen.indptr[u];
    return m->seen.indices + m->seen.indptr[u];
}

/* ------------------------------------------------------------ save / load */


duet_status duet_rec_incf_save(const duet_rec_incf *m, const char *path, const char *const *user_ids,
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
        char *j = duet_rec_join_lines(src, k ? m->ni : m->nu, k == 2);
        if (!j) st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
        else st = duet_st_writer_meta(w, keys[k], j, err);
        free(j);
    }
    if (!st) st = duet_st_writer_save(w, path, err);
    duet_st_writer_free(w);
    return st;
}

duet_status duet_rec_incf_load(const char *path, duet_rec_incf **out, duet_err *err)
{
    *out = NULL;
    duet_st_file *f = NULL;
    duet_status st = duet_st_load(path, &f, err);
    if (st) return st;
    const char *fmt = duet_st_meta(f, "format"), *dims = duet_st_meta(f, "dims"), *cfg = duet_st_meta(f, "config");
    duet_rec_incf *m = calloc(1, sizeof *m);
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
        st = duet_incf_build_params(m, 0, err);
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
        m->user_ids = duet_rec_split_lines(duet_st_meta(f, "user_ids"), nu);
        m->item_ids = duet_rec_split_lines(duet_st_meta(f, "item_ids"), ni);
        m->item_names = duet_rec_split_lines(duet_st_meta(f, "item_names"), ni);
        if (!m->user_ids || !m->item_ids || !m->item_names)
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s: bad id lists in the metadata", path);
    }
    duet_st_free(f);
    if (st) {
        duet_rec_incf_free(m);
        return st;
    }
    *out = m;
    return DUET_OK;
}

const char *duet_rec_incf_user_id(const duet_rec_incf *m, int32_t u)
{
    return m->user_ids && u >= 0 && u < m->nu ? m->user_ids[u] : NULL;
}
const char *duet_rec_incf_item_id(const duet_rec_incf *m, int32_t i)
{
    return m->item_ids && i >= 0 && i < m->ni ? m->item_ids[i] : NULL;
}
const char *duet_rec_incf_item_name(const duet_rec_incf *m, int32_t i)
{
    return m->item_names && i >= 0 && i < m->ni && m->item_names[i][0] ? m->item_names[i] : NULL;
}
int32_t duet_rec_incf_find_user(const duet_rec_incf *m, const char *id)
{
    for (int32_t u = 0; m->user_ids && u < m->nu; u++)
        if (!strcmp(m->user_ids[u], id)) return u;
    return -1;
}
int32_t duet_rec_incf_find_item(const duet_rec_incf *m, const char *id)
{
    for (int32_t i = 0; m->item_ids && i < m->ni; i++)
        if (!strcmp(m->item_ids[i], id)) return i;
    return -1;
}

/* ------------------------------------------------------------ state inside a model file */


duet_status duet_rec_incf_export(const duet_rec_incf *m, duet_st_writer *w, const char *prefix, duet_err *err)
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
    if (!st) st = duet_rec_st_put(w, prefix, "hdr", DUET_ST_I32, 12, 0, hdr, err);
    float bv = (float)m->best_valid;
    if (!st) st = duet_rec_st_put(w, prefix, "best_valid", DUET_ST_F32, 1, 0, &bv, err);
    if (!st) st = duet_rec_st_put(w, prefix, "rep.user.a", DUET_ST_F32, m->nu, m->d, m->ua, err);
    if (!st) st = duet_rec_st_put(w, prefix, "rep.user.m", DUET_ST_F32, m->nu, m->DmU, m->um, err);
    if (!st) st = duet_rec_st_put(w, prefix, "rep.item.a", DUET_ST_F32, m->ni, m->d, m->ia, err);
    if (!st) st = duet_rec_st_put(w, prefix, "rep.item.m", DUET_ST_F32, m->ni, m->DmI, m->im, err);
    if (!st) st = duet_rec_st_put(w, prefix, "rep.item.c1", DUET_ST_F32, m->ni, m->H1, m->C1, err);
    if (!st) st = duet_rec_st_put_csr(w, prefix, "seen", &m->seen, err);
    snprintf(nm, sizeof nm, "%sconfig", prefix);
    if (!st) st = duet_st_writer_meta(w, nm, m->desc, err);
    return st;
}

duet_status duet_rec_incf_import(const duet_st_file *f, const char *prefix, duet_rec_incf **out, duet_err *err)
{
    *out = NULL;
    const void *h, *bv;
    duet_status st = duet_rec_st_get(f, prefix, "hdr", DUET_ST_I32, 12, 0, &h, NULL, NULL, err);
    if (!st) st = duet_rec_st_get(f, prefix, "best_valid", DUET_ST_F32, 1, 0, &bv, NULL, NULL, err);
    if (st) return st;
    const int32_t *x = h;
    int nu = x[0], ni = x[1], d = x[2], H1 = x[3], H2 = x[4], Ho = x[5], Dz = x[6], DmU = x[7], DmI = x[8];
    int ug = x[9], uo = x[10];
    if (nu < 1 || ni < 1 || d < 4 || d > 256 || H1 != d || H2 < 1 || H2 > 256 || Ho < 1 || Ho > 256 || DmU < d ||
        DmI < d || DmU > 100000 || DmI > 100000 || Dz != d + H2 + (uo ? Ho : 0) || (ug && (DmU != d || DmI != d)))
        return duet_err_set(err, DUET_ERR_FORMAT, "model file: bad improved-ncf deep-branch header");
    duet_rec_incf *m = calloc(1, sizeof *m);
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
    st = duet_incf_build_params(m, 0, err);
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
        st = duet_rec_st_get(f, prefix, reps[k].name, DUET_ST_F32, reps[k].r, reps[k].c, &src, NULL, NULL, err);
        if (!st && !(*reps[k].p = malloc((size_t)(reps[k].r * reps[k].c) * sizeof(float))))
            st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        if (!st) memcpy(*reps[k].p, src, (size_t)(reps[k].r * reps[k].c) * sizeof(float));
    }
    if (!st) st = duet_rec_st_get_csr(f, prefix, "seen", nu, ni, &m->seen, err);
    if (st) {
        duet_rec_incf_free(m);
        return st;
    }
    *out = m;
    return DUET_OK;
}

