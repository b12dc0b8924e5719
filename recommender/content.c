/* recommender/content.c: content-based recommendation. Each item gets a
 * vector from its side information:
 *   token part   v_it = log(1 + count_it) * log(N / df_t), L2-normalised over
 *                the item's tokens (tags, KG relations, generic attributes;
 *                N = items with any token, df_t = items with token t)
 *   feature part alpha * z_if / sqrt(n_feats), z = per-feature standardised
 *                numeric features (e.g. Spotify audio averages); zero for items
 *                without a feature row
 * A user's profile is the weighted mean of the vectors of the user's training
 * items (weights duet_rec_weight(plays, weighting)), and s_ui = profile_u . v_i.
 * Items without any interaction are scored the same way (cold start). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

typedef struct content_state {
    int32_t n_items, n_tokens, n_feats;
    int weighting;
    duet_rec_csr tok;  /* (n_items x n_tokens) normalised tf-idf, or empty */
    float *feat;  /* (n_items x n_feats) scaled z-scores, or NULL */
} content_state;

void duet_rec_content_free(void *s)
{
    content_state *c = s;
    if (c) {
        duet_rec_csr_free(&c->tok);
        free(c->feat);
    }
    free(c);
}

duet_status duet_rec_content_fit(const duet_rec_fit_ctx *ctx, const duet_rec_params *p, void **state, duet_err *err)
{
    const duet_rec_side *sd = &ctx->side;
    int has_tok = sd->item_attr && sd->item_attr->n_rows == ctx->train->n_cols && sd->item_attr->nnz > 0;
    int has_feat = sd->item_feats && sd->has_feats && sd->n_feats > 0 && p->alpha > 0;
    if (!has_tok && !(sd->item_feats && sd->n_feats > 0))
        return duet_err_set(err, DUET_ERR_ARG, "content: the data set has no item attributes or features");
    content_state *c = calloc(1, sizeof *c);
    if (!c) return duet_err_set(err, DUET_ERR_NOMEM, "content: out of memory");
    c->n_items = ctx->train->n_cols;
    c->weighting = p->weighting;
    int32_t ni = c->n_items;
    if (has_tok) {
        const duet_rec_csr *A = sd->item_attr;
        c->n_tokens = A->n_cols;
        float *idf = calloc((size_t)A->n_cols + 1, sizeof *idf);
        duet_status s = idf ? duet_rec_csr_copy(A, &c->tok, err) : duet_err_set(err, DUET_ERR_NOMEM, "content: out of memory");
        if (s) {
            free(idf);
            duet_rec_content_free(c);
            return s;
        }
        int32_t n_with = 0;
        for (int32_t i = 0; i < ni; i++) n_with += A->indptr[i + 1] > A->indptr[i];
        for (int64_t q = 0; q < A->nnz; q++) idf[A->indices[q]] += 1;
        for (int32_t t = 0; t < A->n_cols; t++) idf[t] = idf[t] > 0 ? logf((float)n_with / idf[t]) : 0;
        for (int32_t i = 0; i < ni; i++) {
            double n2 = 0;
            for (int64_t q = A->indptr[i]; q < A->indptr[i + 1]; q++) {
                float v = log1pf(A->values[q]) * idf[A->indices[q]];
                c->tok.values[q] = v;
                n2 += (double)v * v;
            }
            float inv = n2 > 0 ? (float)(1.0 / sqrt(n2)) : 0;
            for (int64_t q = A->indptr[i]; q < A->indptr[i + 1]; q++) c->tok.values[q] *= inv;
        }
        free(idf);
    }
    if (has_feat) {
        int32_t nf = sd->n_feats;
        c->n_feats = nf;
        c->feat = calloc((size_t)ni * (size_t)nf, sizeof *c->feat);
        if (!c->feat) {
            duet_rec_content_free(c);
            return duet_err_set(err, DUET_ERR_NOMEM, "content: out of memory");
        }
        float scale = p->alpha / sqrtf((float)nf);
        for (int32_t f = 0; f < nf; f++) {
            double m = 0, m2 = 0, cnt = 0;
            for (int32_t i = 0; i < ni; i++)
                if (sd->has_feats[i]) {
                    double v = sd->item_feats[(size_t)i * nf + f];
                    m += v;
                    m2 += v * v;
                    cnt++;
                }
            if (cnt < 1) continue;
            m /= cnt;
            double sdv = sqrt(m2 / cnt - m * m > 0 ? m2 / cnt - m * m : 0);
            if (!(sdv > 1e-12)) continue;
            for (int32_t i = 0; i < ni; i++)
                if (sd->has_feats[i])
                    c->feat[(size_t)i * nf + f] = (float)((sd->item_feats[(size_t)i * nf + f] - m) / sdv) * scale;
        }
    }
    *state = c;
    return DUET_OK;
}

duet_status duet_rec_content_score(const void *state, const duet_rec_csr *train, const int32_t *users, int32_t n,
                                   float *out, duet_err *err)
{
    const content_state *c = state;
    size_t ni = (size_t)c->n_items, nt = (size_t)c->n_tokens, nf = (size_t)c->n_feats;
    int fail = 0;
#pragma omp parallel if ((double)n * (double)(ni + c->tok.nnz) > 2e5)
    {
        float *pt = calloc(nt + 1, sizeof *pt), *pf = calloc(nf + 1, sizeof *pf);
        if (!pt || !pf) {
#pragma omp atomic write
            fail = 1;
        }
#pragma omp for schedule(dynamic, 8)
        for (int32_t b = 0; b < n; b++) {
            float *o = out + (size_t)b * ni;
            memset(o, 0, ni * sizeof *o);
            if (!pt || !pf) continue;
            int32_t u = users[b];
            double wsum = 0;
            for (int64_t q = train->indptr[u]; q < train->indptr[u + 1]; q++) {
                int32_t j = train->indices[q];
                float w = duet_rec_weight(train->values[q], c->weighting);
                wsum += w;
                if (nt)
                    for (int64_t r = c->tok.indptr[j]; r < c->tok.indptr[j + 1]; r++) pt[c->tok.indices[r]] += w * c->tok.values[r];
                if (nf)
                    for (size_t f = 0; f < nf; f++) pf[f] += w * c->feat[(size_t)j * nf + f];
            }
            float inv = wsum > 0 ? (float)(1.0 / wsum) : 0;
            for (size_t i = 0; i < ni; i++) {
                float s = 0;
                if (nt)
                    for (int64_t r = c->tok.indptr[i]; r < c->tok.indptr[i + 1]; r++) s += pt[c->tok.indices[r]] * c->tok.values[r];
                if (nf)
                    for (size_t f = 0; f < nf; f++) s += pf[f] * c->feat[i * nf + f];
                o[i] = s * inv;
            }
            if (nt)
                for (int64_t q = train->indptr[u]; q < train->indptr[u + 1]; q++) {
                    int32_t j = train->indices[q];
                    for (int64_t r = c->tok.indptr[j]; r < c->tok.indptr[j + 1]; r++) pt[c->tok.indices[r]] = 0;
                }
            memset(pf, 0, (nf + 1) * sizeof *pf);
        }
        free(pt);
        free(pf);
    }
    if (fail) return duet_err_set(err, DUET_ERR_NOMEM, "content: out of memory");
    return DUET_OK;
}

/* ------------------------------------------------------------ state file */

#include "state_io.h"

duet_status duet_rec_content_export(const void *state, duet_st_writer *w, const char *prefix, duet_err *err)
{
    const content_state *c = state;
    int32_t hdr[4] = {c->n_items, c->n_tokens, c->n_feats, c->weighting};
    duet_status st = duet_rec_st_put(w, prefix, "hdr", DUET_ST_I32, 4, 0, hdr, err);
    if (!st && c->tok.n_rows) st = duet_rec_st_put_csr(w, prefix, "tok", &c->tok, err);
    if (!st && c->feat) st = duet_rec_st_put(w, prefix, "feat", DUET_ST_F32, c->n_items, c->n_feats, c->feat, err);
    return st;
}

duet_status duet_rec_content_import(const duet_st_file *f, const char *prefix, void **state, duet_err *err)
{
    const void *h, *ft = NULL;
    duet_status st = duet_rec_st_get(f, prefix, "hdr", DUET_ST_I32, 4, 0, &h, NULL, NULL, err);
    if (st) return st;
    const int32_t *hdr = h;
    if (hdr[0] < 1 || hdr[1] < 0 || hdr[2] < 0 || hdr[2] > 4096 || hdr[3] < 0 || hdr[3] > 1)
        return duet_err_set(err, DUET_ERR_FORMAT, "model file: bad content header");
    content_state *c = calloc(1, sizeof *c);
    if (!c) return duet_err_set(err, DUET_ERR_NOMEM, "content: out of memory");
    c->n_items = hdr[0];
    c->n_tokens = hdr[1];
    c->n_feats = hdr[2];
    c->weighting = hdr[3];
    char nm[256];
    snprintf(nm, sizeof nm, "%stok.indptr", prefix);
    if (duet_st_get(f, nm)) st = duet_rec_st_get_csr(f, prefix, "tok", c->n_items, c->n_tokens, &c->tok, err);
    if (!st && c->n_feats > 0) {
        st = duet_rec_st_get(f, prefix, "feat", DUET_ST_F32, c->n_items, c->n_feats, &ft, NULL, NULL, err);
        if (!st && !(c->feat = malloc((size_t)c->n_items * (size_t)c->n_feats * sizeof *c->feat)))
            st = duet_err_set(err, DUET_ERR_NOMEM, "content: out of memory");
        if (!st) memcpy(c->feat, ft, (size_t)c->n_items * (size_t)c->n_feats * sizeof *c->feat);
    }
    if (st) {
        duet_rec_content_free(c);
        return st;
    }
    *state = c;
    return DUET_OK;
}
