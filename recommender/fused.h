/* recommender/fused.h: the improved NCF ("improved-ncf"), the paper's
 * claim made concrete: collaborative filtering, latent factors and content
 * recommendation integrated into one deep model.
 *
 * Branches (each present only when configured and when the data has it):
 *   deep     the grouped-feature network of incf.h (user group: id embedding,
 *            word2vec of the tags the user applied, friends; item group: id
 *            embedding, word2vec of tags/names, KG tokens, Spotify/audio
 *            features; GMF, MLP and the outer-product interaction map fused
 *            into one logit), trained as incf.h describes
 *   ease     the collaborative item-item branch: s = x_u B, EASE (Steck 2019)
 *            on binary values, lambda ease_lambda
 *   ials     the latent-factor branch: U_u . V_i, implicit ALS (confidence
 *            1 + alpha log(1 + plays)), ials_dim factors
 *   content  tf-idf of the item attribute tokens plus standardised numeric
 *            features (content.c), the user profile the mean of its items
 * Fusion: each branch's scores are standardised per user (z-scores over the
 * items the branch scores); the model's score is w . z(u, i), one weight per
 * branch. The weights are the fusion layer of the deep model, fitted on
 * HELD-OUT interactions: the fit carves 10% of each training row (users with
 * >= 5 interactions; a given ctx->valid is used instead), trains every branch
 * on the rest, and minimises the listwise softmax cross-entropy of each
 * held-out item against the user's top `cands` candidates (by the unweighted
 * sum of z-scores; training items excluded) and a weighted uniform sample of
 * the other items (an estimate of the full softmax), with Adam (300 steps
 * from w = 1, weights kept >= 0, a prior toward w = 1 worth 50 held-out
 * items: strong on tiny data, negligible at HetRec size). The deep branch early-stops on the same held-out set. Then
 * ease, ials and content are refitted on all training interactions (the
 * deep branch keeps its weights), so no interaction is left unused.
 *
 * Cold items (no training interaction): the collaborative branches have no
 * signal and give z = 0 for them; the deep branch scores them from their
 * attributes (id embedding 0) and content from its tf-idf vector. With
 * neither, every cold item gets the same score (ranked by the seeded
 * tie-break).
 *
 * Determinism: bit-exact for a seed with one thread. */
#ifndef DUET_RECOMMENDER_FUSED_H
#define DUET_RECOMMENDER_FUSED_H

#include <stdint.h>

#include "../common/status.h"
#include "incf.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { REC_FUSED_DEEP = 0, REC_FUSED_EASE, REC_FUSED_IALS, REC_FUSED_CONTENT, REC_FUSED_N };

typedef struct duet_rec_fused_config {
    int use[REC_FUSED_N];    /* branches to build (1 = use when the data allows) */
    duet_rec_incf_config deep;    /* the deep branch */
    float ease_lambda;       /* > 0 */
    int ials_dim;            /* 4..256 */
    int ials_sweeps;         /* 1..100 */
    float ials_reg, ials_alpha;
    float content_feat_weight; /* >= 0 */
    int cands;               /* candidates per held-out user in the fusion fit (10..2000) */
    int refit;               /* 1: refit ease/ials/content on all training data (default 1) */
} duet_rec_fused_config;

/* Defaults: every branch; the deep branch as duet_rec_incf_config_default; EASE
 * lambda 200; iALS 64 factors, 15 sweeps, reg 10, alpha 2; content feature
 * weight 0.5; 100 candidates; refit. */
void duet_rec_fused_config_default(duet_rec_fused_config *c);

typedef struct duet_rec_fused duet_rec_fused;

/* Train on ctx. *out is caller-owned (duet_rec_fused_free). Errors: ARG (bad
 * configuration, no branch left), EMPTY (no interactions), NOMEM, NAN, and
 * the branches' own errors. */
duet_status duet_rec_fused_train(const duet_rec_fit_ctx *ctx, const duet_rec_fused_config *cfg, duet_rec_fused **out,
                                 duet_err *err);
/* As duet_rec_fused_train, with the deep branch's checkpoint/resume options
 * (incf.h; the other branches are deterministic and recomputed). */
duet_status duet_rec_fused_train_ex(const duet_rec_fit_ctx *ctx, const duet_rec_fused_config *cfg,
                                    const duet_rec_incf_train_opts *topt, duet_rec_fused **out, duet_err *err);
void duet_rec_fused_free(duet_rec_fused *m);

/* Scores (n x n_items) of users against every item; `train` is the matrix
 * the model was fitted on (the users' histories). Errors: ARG, NOMEM. */
duet_status duet_rec_fused_score(const duet_rec_fused *m, const duet_rec_csr *train, const int32_t *users, int32_t n,
                                 float *out, duet_err *err);

/* Scores (n_items) for a new listener whose history is items[0..n) (repeats
 * count once): the deep branch folds the history in (duet_rec_incf_fold_in, seed),
 * ease and content read it as a user row, ials solves the user's factors
 * (duet_rec_factors_fold_in with the model's reg and the confidence of one play);
 * then the same standardisation and weights. `train` gives the warm items.
 * Errors: ARG, NOMEM, the branches' errors. */
duet_status duet_rec_fused_score_history(const duet_rec_fused *m, const duet_rec_csr *train, const int32_t *items,
                                         int n, uint64_t seed, float *out, duet_err *err);

/* The fusion weight of a branch (0 when the branch is absent) and whether
 * it is present. */
float duet_rec_fused_weight(const duet_rec_fused *m, int branch);
int duet_rec_fused_has(const duet_rec_fused *m, int branch);
/* The deep branch (NULL when absent); borrowed. */
const duet_rec_incf *duet_rec_fused_deep(const duet_rec_fused *m);

/* Model-table entry points (model.c): improved-ncf and its ablations
 * improved-ncf-no-{deep,ease,ials,content} (no-content: no content branch
 * and a deep branch on ids only). duet_rec_params: dim, k (negatives), epochs,
 * lr, alpha (id dropout), weighting (deep loss), reg (patience) and decay
 * as for the deep model (incf.h). */
duet_status duet_rec_fused_fit_full(const duet_rec_fit_ctx *, const duet_rec_params *, void **, duet_err *);
duet_status duet_rec_fused_fit_no_deep(const duet_rec_fit_ctx *, const duet_rec_params *, void **, duet_err *);
duet_status duet_rec_fused_fit_no_ease(const duet_rec_fit_ctx *, const duet_rec_params *, void **, duet_err *);
duet_status duet_rec_fused_fit_no_ials(const duet_rec_fit_ctx *, const duet_rec_params *, void **, duet_err *);
duet_status duet_rec_fused_fit_no_content(const duet_rec_fit_ctx *, const duet_rec_params *, void **, duet_err *);
duet_status duet_rec_fused_table_score(const void *, const duet_rec_csr *, const int32_t *, int32_t, float *,
                                       duet_err *);
/* The fitted model as tensors PREFIX<name> of a model file (state_io.h).
 * Errors: NOMEM; import: FORMAT, NOMEM. */
struct duet_st_writer;
struct duet_st_file;
duet_status duet_rec_fused_export(const duet_rec_fused *m, struct duet_st_writer *w, const char *prefix, duet_err *err);
duet_status duet_rec_fused_import(const struct duet_st_file *f, const char *prefix, duet_rec_fused **out,
                                  duet_err *err);

/* The fusion loss (fused.c: the listwise softmax of held-out items against
 * weighted candidates) and its gradient, exposed for the gradient check. */
double duet_rec_fused_listwise_loss(const double *w, int nb, const float *F, const float *cw, const int64_t *uptr,
                                    const int32_t *npos, int32_t nv, double l2, double *g, double *lg);
/* "deep", "ease", "ials", "content" (static). */
const char *duet_rec_fused_branch_name(int branch);
void duet_rec_fused_table_free(void *);

#ifdef __cplusplus
}
#endif

#endif
