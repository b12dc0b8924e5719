/* recommender/incf_inputs.c: the deep network's inputs (incf.h): tokens of
 * items and users, word2vec, friends, standardised features. */
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
#include "../common/strmap.h"

/* ------------------------------------------------------------ data preparation */

/* Value of key in mp (keys owned: strdup'ed here, freed by strmap_clear),
 * inserting next_val when absent; -1 on out of memory. */
static int32_t strmap_intern(duet_strmap *mp, const char *key, int32_t next_val)
{
    int32_t v = duet_strmap_get(mp, key);
    if (v >= 0) return v;
    char *copy = strdup(key);
    if (!copy) return -1;
    if (duet_strmap_put(mp, copy, next_val) != 0) {
        free(copy);
        return -1;
    }
    return next_val;
}

static void strmap_clear(duet_strmap *mp)
{
    for (size_t k = 0; k < mp->cap; k++) free((char *)mp->keys[k]);
    duet_strmap_free(mp);
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
static duet_status weights_csr(duet_rec_csr *out, int32_t rows, int32_t nt, const int64_t *ptr, const tokc *tc,
                               const uint8_t *known, duet_err *err)
{
    int64_t cap = ptr[rows];
    duet_rec_triple *t = malloc((size_t)(cap ? cap : 1) * sizeof *t);
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
        for (int64_t q = 0; q < k; q++) t[n++] = (duet_rec_triple){r, tmp[q].tok, (float)(log1p(tmp[q].cnt) / s), 0};
    }
    duet_status st = duet_rec_csr_from_triples(out, rows, nt, t, n, 1, "tokens", err);
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
duet_status duet_incf_prepare_inputs(duet_rec_incf *m, const duet_rec_fit_ctx *ctx, duet_err *err)
{
    const duet_rec_side *sd = &ctx->side;
    duet_status st = DUET_OK;
    int32_t nu = m->nu, ni = m->ni;
    int32_t nds = (sd->item_attr ? sd->item_attr->n_cols : 0);
    if (sd->user_attr && sd->user_attr->n_cols > nds) nds = sd->user_attr->n_cols;
    /* name tokens: ids after the data set's tokens */
    duet_strmap mp = {0};
    int32_t nt = nds;
    int64_t n_ia = 0, n_kg = 0, n_ut = 0;
    uint8_t *is_kg = NULL;
    /* family of a data-set token: "kg:..." tokens (duet_rec_load_kgcn) are the
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
                int32_t id = strmap_intern(&mp, words[w], nt);
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
    strmap_clear(&mp);
    m->nt = nt;
    m->has_ia = n_ia > 0;
    m->has_kg = n_kg > 0;
    m->has_ut = n_ut > 0;
    /* word2vec over item sentences (all tokens) and user sentences */
    uint8_t *known = NULL;
    float *w2v_tab = NULL;
    if (!st && m->use_content && !m->learn_tok && nt > 0 && (n_ia || n_kg || n_ut)) {
        duet_w2v_corpus *corp = NULL;
        duet_w2v_vectors *vec = NULL;
        st = duet_w2v_corpus_new(&corp, err);
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
            if (n > 1) st = duet_w2v_corpus_add_sentence(corp, ptrs, (size_t)n, err);
        }
        free(buf);
        free(ptrs);
        duet_w2v_params wp;
        duet_w2v_params_default(&wp);
        wp.dim = (size_t)m->dw;
        wp.window = 8;
        wp.negative = 5;
        wp.min_count = 2;
        wp.epochs = m->c.w2v_epochs;
        wp.threads = 1;
        wp.shuffle = 1;
        wp.seed = ctx->seed * 2654435761ULL + 17;
        if (!st && duet_w2v_corpus_n_tokens(corp) > 0) {
            duet_err e2 = {0};
            duet_status s2 = duet_w2v_train(corp, &wp, &vec, NULL, &e2);
            if (s2 == DUET_ERR_EMPTY || s2 == DUET_ERR_RANGE) vec = NULL; /* too little text: no vectors */
            else if (s2) {
                st = s2;
                if (err) *err = e2;
            }
        }
        duet_w2v_corpus_free(corp);
        known = calloc((size_t)nt, 1);
        w2v_tab = calloc((size_t)nt * m->dw, sizeof *w2v_tab);
        if (!st && (!known || !w2v_tab)) st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
        for (size_t k = 0; !st && vec && k < duet_w2v_vectors_count(vec); k++) {
            int t = atoi(duet_w2v_vectors_token(vec, k) + 1);
            if (t >= 0 && t < nt) {
                known[t] = 1;
                memcpy(w2v_tab + (size_t)t * m->dw, duet_w2v_vectors_row(vec, k), (size_t)m->dw * sizeof(float));
            }
        }
        duet_w2v_vectors_free(vec);
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
        const duet_rec_csr *F = sd->friends;
        duet_rec_triple *t = NULL;
        if (F && F->nnz) t = malloc((size_t)F->nnz * sizeof *t);
        if (F && F->nnz && !t) st = duet_err_set(err, DUET_ERR_NOMEM, "improved-ncf: out of memory");
        for (int32_t u = 0; !st && F && u < nu && u < F->n_rows; u++) {
            int64_t k = 0, lo = F->indptr[u], hi = F->indptr[u + 1];
            for (int64_t q = lo; q < hi && k < INCF_MAX_FRIENDS; q++)
                if (F->indices[q] >= 0 && F->indices[q] < nu && F->indices[q] != u) k++;
            int64_t c = 0;
            for (int64_t q = lo; q < hi && c < k; q++)
                if (F->indices[q] >= 0 && F->indices[q] < nu && F->indices[q] != u)
                    t[nn++] = (duet_rec_triple){u, F->indices[q], 1.0f / (float)k, 0}, c++;
        }
        if (!st) st = duet_rec_csr_from_triples(&m->fr, nu, nu, t, nn, 1, "friends", err);
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
    duet_incf_set_dims(m);
    st = duet_incf_build_params(m, 1, err);
    if (!st && w2v_tab && m->slot[S_TOK] >= 0)
        memcpy(incf_T(m, S_TOK), w2v_tab, (size_t)m->nt * m->dw * sizeof(float));
    free(w2v_tab);
    return st;
}

