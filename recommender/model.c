/* recommender/model.c: the model table and each model's validation grid.
 * Grids are small on purpose (every configuration is fitted once per seed
 * on the training-minus-validation matrix); the values are the usual ranges
 * from the papers of each method. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fused.h"
#include "incf.h"
#include "model.h"

/* duet_rec_params field order: weighting, k, dim, epochs, lr, reg, alpha, shrink */
static const duet_rec_params grid_pop[] = {{0, 0, 0, 0, 0, 0, 0, 0, 0}};
static const duet_rec_params grid_uknn[] = {
    {0, 20, 0, 0, 0, 0, 0, 0, 0}, {0, 50, 0, 0, 0, 0, 0, 0, 0}, {0, 100, 0, 0, 0, 0, 0, 0, 0}, {0, 200, 0, 0, 0, 0, 0, 0, 0},
    {1, 20, 0, 0, 0, 0, 0, 0, 0}, {1, 50, 0, 0, 0, 0, 0, 0, 0}, {1, 100, 0, 0, 0, 0, 0, 0, 0}, {1, 200, 0, 0, 0, 0, 0, 0, 0}};
/* Eq. 3 needs graded values: with binary values every centred value is 0. */
static const duet_rec_params grid_uknn_adj[] = {
    {1, 20, 0, 0, 0, 0, 0, 0, 0}, {1, 50, 0, 0, 0, 0, 0, 0, 0}, {1, 100, 0, 0, 0, 0, 0, 0, 0}, {1, 200, 0, 0, 0, 0, 0, 0, 0}};
static const duet_rec_params grid_iknn[] = {
    {0, 50, 0, 0, 0, 0, 0, 0, 0}, {0, 100, 0, 0, 0, 0, 0, 0, 0}, {0, 200, 0, 0, 0, 0, 0, 0, 0}, {0, 500, 0, 0, 0, 0, 0, 0, 0},
    {1, 50, 0, 0, 0, 0, 0, 0, 0}, {1, 100, 0, 0, 0, 0, 0, 0, 0}, {1, 200, 0, 0, 0, 0, 0, 0, 0}, {1, 500, 0, 0, 0, 0, 0, 0, 0}};
static const duet_rec_params grid_bpr[] = {{0, 0, 64, 50, 0.05f, 0.001f, 0, 0, 0},
                                      {0, 0, 64, 50, 0.05f, 0.01f, 0, 0, 0},
                                      {0, 0, 64, 150, 0.05f, 0.001f, 0, 0, 0},
                                      {0, 0, 64, 150, 0.05f, 0.01f, 0, 0, 0}};
/* k = 3 conjugate-gradient steps per row solve */
static const duet_rec_params grid_ials[] = {{1, 3, 64, 15, 0, 1.0f, 2.0f, 0, 0},
                                       {1, 3, 64, 15, 0, 10.0f, 2.0f, 0, 0},
                                       {1, 3, 64, 15, 0, 1.0f, 10.0f, 0, 0},
                                       {1, 3, 64, 15, 0, 10.0f, 10.0f, 0, 0}};
static const duet_rec_params grid_neumf[] = {{0, 4, 16, 10, 0.001f, 0, 0, 0, 0}, {0, 4, 16, 20, 0.001f, 0, 0, 0, 0}};
static const duet_rec_params grid_ease[] = {
    {0, 0, 0, 0, 0, 50.0f, 0, 0, 0}, {0, 0, 0, 0, 0, 200.0f, 0, 0, 0}, {0, 0, 0, 0, 0, 500.0f, 0, 0, 0}, {0, 0, 0, 0, 0, 1500.0f, 0, 0, 0}};
static const duet_rec_params grid_content[] = {{0, 0, 0, 0, 0, 0, 0.0f, 0, 0}, {0, 0, 0, 0, 0, 0, 0.5f, 0, 0},
                                          {0, 0, 0, 0, 0, 0, 1.0f, 0, 0}, {1, 0, 0, 0, 0, 0, 0.0f, 0, 0},
                                          {1, 0, 0, 0, 0, 0, 0.5f, 0, 0}, {1, 0, 0, 0, 0, 0, 1.0f, 0, 0}};

/* improved-ncf: weighting = loss (0 BCE, 1 BPR), k = negatives, dim = d,
 * epochs = max epochs (early stopping on validation), lr, alpha = item id
 * dropout, shrink = refit flag, reg = early-stopping patience when >= 1 (see incf.h). */
static const duet_rec_params grid_incf[] = {{0, 16, 32, 0, 2e-3f, 0, 0.2f, 0, 0}}; /* epochs 0: auto schedule */

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const duet_rec_model_def table[] = {
    {"popularity", "items by number of training users", duet_rec_pop_fit, duet_rec_pop_score, duet_rec_pop_free,
     grid_pop, N_OF(grid_pop), 0, 0},
    {"user-knn", "user-based CF, cosine (Eq. 2)", duet_rec_userknn_fit, duet_rec_userknn_score, duet_rec_knn_free,
     grid_uknn, N_OF(grid_uknn), 0, 0},
    {"user-knn-adj", "user-based CF, adjusted cosine (Eq. 3)", duet_rec_userknn_adj_fit, duet_rec_userknn_score,
     duet_rec_knn_free, grid_uknn_adj, N_OF(grid_uknn_adj), 0, 0},
    {"item-knn", "item-based CF, cosine", duet_rec_itemknn_fit, duet_rec_itemknn_score, duet_rec_knn_free, grid_iknn,
     N_OF(grid_iknn), 0, 0},
    {"bpr-mf", "matrix factorisation, BPR", duet_rec_bpr_fit, duet_rec_factors_score, duet_rec_factors_free, grid_bpr,
     N_OF(grid_bpr), 0, 0},
    {"ials", "matrix factorisation, implicit ALS", duet_rec_ials_fit, duet_rec_factors_score, duet_rec_factors_free,
     grid_ials, N_OF(grid_ials), 0, 0},
    {"content", "user profile vs item attribute/feature vectors", duet_rec_content_fit, duet_rec_content_score,
     duet_rec_content_free, grid_content, N_OF(grid_content), 1, 1},
    {"neumf", "NeuMF, GMF + MLP (He et al. 2017), BCE with 4 negatives", duet_rec_neumf_fit, duet_rec_neumf_score,
     duet_rec_neumf_free, grid_neumf, N_OF(grid_neumf), 0, 0},
    {"ease", "EASE, closed-form item-item model", duet_rec_ease_fit, duet_rec_ease_score, duet_rec_ease_free, grid_ease,
     N_OF(grid_ease), 0, 0},
    /* uses_side 0: the improved NCF reads side information when present and
     * degrades to ids without it (NCF-format data) */
    {"improved-ncf", "the improved NCF: deep grouped-feature network + EASE item-item + iALS factors + content, fused",
     duet_rec_fused_fit_full, duet_rec_fused_table_score, duet_rec_fused_table_free, grid_incf, N_OF(grid_incf), 0, 1},
    {"improved-ncf-no-deep", "improved NCF without the deep branch", duet_rec_fused_fit_no_deep,
     duet_rec_fused_table_score, duet_rec_fused_table_free, grid_incf, N_OF(grid_incf), 0, 1},
    {"improved-ncf-no-ease", "improved NCF without the EASE item-item branch", duet_rec_fused_fit_no_ease,
     duet_rec_fused_table_score, duet_rec_fused_table_free, grid_incf, N_OF(grid_incf), 0, 1},
    {"improved-ncf-no-ials", "improved NCF without the iALS factor branch", duet_rec_fused_fit_no_ials,
     duet_rec_fused_table_score, duet_rec_fused_table_free, grid_incf, N_OF(grid_incf), 0, 1},
    {"improved-ncf-no-content", "improved NCF without content (no content branch, deep branch on ids)",
     duet_rec_fused_fit_no_content, duet_rec_fused_table_score, duet_rec_fused_table_free, grid_incf, N_OF(grid_incf),
     0, 0},
    {"improved-ncf-deep", "the deep branch alone: grouped features, word2vec, GMF, MLP, outer product",
     duet_rec_incf_fit_full, duet_rec_incf_table_score, duet_rec_incf_table_free, grid_incf, N_OF(grid_incf), 0, 1},
    {"improved-ncf-deep-no-w2v", "deep branch, attribute embeddings learned from scratch", duet_rec_incf_fit_no_w2v,
     duet_rec_incf_table_score, duet_rec_incf_table_free, grid_incf, N_OF(grid_incf), 0, 1},
    {"improved-ncf-deep-no-outer", "deep branch without the outer-product map", duet_rec_incf_fit_no_outer,
     duet_rec_incf_table_score, duet_rec_incf_table_free, grid_incf, N_OF(grid_incf), 0, 1},
    {"improved-ncf-deep-no-group", "deep branch without group fusion (raw features concatenated)",
     duet_rec_incf_fit_no_group, duet_rec_incf_table_score, duet_rec_incf_table_free, grid_incf, N_OF(grid_incf), 0, 1},
    {"improved-ncf-deep-no-content", "deep branch on ids only", duet_rec_incf_fit_no_content, duet_rec_incf_table_score,
     duet_rec_incf_table_free, grid_incf, N_OF(grid_incf), 0, 0},
};

const duet_rec_model_def *duet_rec_models(int *n)
{
    *n = N_OF(table);
    return table;
}

const duet_rec_model_def *duet_rec_model_find(const char *name)
{
    for (int i = 0; i < N_OF(table); i++)
        if (strcmp(table[i].name, name) == 0) return &table[i];
    return NULL;
}

void duet_rec_params_describe(const duet_rec_model_def *m, const duet_rec_params *p, char *buf, size_t n)
{
    const char *w = p->weighting ? "log" : "bin";
    const char *name = m ? m->name : "";
    if (!strcmp(name, "popularity")) snprintf(buf, n, "-");
    else if (!strncmp(name, "user-knn", 8) || !strcmp(name, "item-knn"))
        snprintf(buf, n, "k=%d w=%s%s", p->k, w, p->shrink > 0 ? " shrink" : "");
    else if (!strcmp(name, "bpr-mf"))
        snprintf(buf, n, "dim=%d epochs=%d lr=%g reg=%g", p->dim, p->epochs, p->lr, p->reg);
    else if (!strcmp(name, "ials"))
        snprintf(buf, n, "dim=%d sweeps=%d reg=%g alpha=%g w=%s %s", p->dim, p->epochs, p->reg, p->alpha, w,
                 p->k ? "cg3" : "chol");
    else if (!strcmp(name, "ease")) snprintf(buf, n, "lambda=%g w=%s", p->reg, w);
    else if (!strcmp(name, "content")) snprintf(buf, n, "feat_weight=%g w=%s", p->alpha, w);
    else if (!strcmp(name, "neumf"))
        snprintf(buf, n, "factors=%d negatives=%d epochs=%d lr=%g", p->dim, p->k, p->epochs, p->lr);
    else if (!strncmp(name, "improved-ncf", 12))
    {
        char wd[32] = "", ep[16] = "auto", pa[16] = "auto";
        if (p->decay > 0) snprintf(wd, sizeof wd, " wd=%g", p->decay);
        if (p->epochs > 0) snprintf(ep, sizeof ep, "%d", p->epochs);
        if (p->reg >= 1) snprintf(pa, sizeof pa, "%d", (int)p->reg);
        snprintf(buf, n, "d=%d negatives=%d max_epochs=%s patience=%s lr=%g id_dropout=%g loss=%s%s%s", p->dim, p->k,
                 ep, pa, p->lr, p->alpha, p->weighting ? "bpr" : "bce",
                 p->shrink > 0 ? " refit" : "", wd);
    }
    else snprintf(buf, n, "w=%s k=%d dim=%d epochs=%d lr=%g reg=%g alpha=%g", w, p->k, p->dim, p->epochs, p->lr,
                  p->reg, p->alpha);
}

duet_status duet_rec_model_score(const duet_rec_model_def *m, const void *state, const duet_rec_csr *train,
                                 const int32_t *users, int32_t n, float *out, duet_err *err)
{
    duet_status st = m->score(state, train, users, n, out, err);
    if (st || m->scores_cold) return st;
    int32_t ni = train->n_cols;
    uint8_t *warm = calloc((size_t)(ni ? ni : 1), 1);
    if (!warm) return duet_err_set(err, DUET_ERR_NOMEM, "%s: out of memory scoring", m->name);
    for (int64_t q = 0; q < train->nnz; q++) warm[train->indices[q]] = 1;
    for (int32_t i = 0; i < ni; i++)
        if (!warm[i])
            for (int32_t b = 0; b < n; b++) out[(size_t)b * ni + i] = REC_COLD_SCORE;
    free(warm);
    return DUET_OK;
}
