/* recommender/model.h: the table of recommendation models behind one
 * interface (fit on a training matrix, score a batch of users against every
 * item), with stable names used by the CLI and the JSON output:
 *
 *   popularity     items by number of training users
 *   user-knn       user-based CF, cosine similarity (the paper's Eq. 2)
 *   user-knn-adj   user-based CF, adjusted (mean-centred) cosine (Eq. 3)
 *   item-knn       item-based CF, cosine between item columns
 *   bpr-mf         matrix factorisation trained with BPR (Rendle et al. 2009)
 *   ials           implicit ALS (Hu, Koren & Volinsky 2008), CG or exact row solves
 *   ease           EASE (Steck 2019), closed form with one Gram-matrix inverse
 *   content        content-based: user profile vs item attribute / feature vectors
 *   neumf          NeuMF (He et al. 2017): GMF + MLP on nn/, BCE with sampled negatives
 *   improved-ncf   the paper's improved NCF (incf.h), and its ablations
 *                  improved-ncf-no-{w2v,outer,group,content}
 *
 * Interaction values seen by the models: the raw weights (play counts) go
 * through duet_rec_params.weighting: 0 = binary (1 per interaction), 1 = log(1 +
 * w). Models that are a dot product (bpr-mf, ials) score with one sgemm per
 * user batch. */
#ifndef DUET_RECOMMENDER_MODEL_H
#define DUET_RECOMMENDER_MODEL_H

#include <math.h>
#include <stdint.h>
#include "../common/rng.h"
#include "../nn/tensor.h"
#include "data.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Side information for content-aware models; all borrowed, any may be NULL/0. */
typedef struct duet_rec_side {
    const duet_rec_csr *item_attr;  /* (n_items x n_tokens) token counts */
    const float *item_feats;   /* (n_items x n_feats) */
    const uint8_t *has_feats;  /* (n_items) */
    int32_t n_feats;
    const duet_rec_csr *user_attr;  /* (n_users x n_tokens) */
    const duet_rec_csr *friends;    /* (n_users x n_users) */
    const char *const *item_names; /* (n_items) display names (entries may be NULL), or NULL */
    const char *const *tokens;     /* (item_attr/user_attr columns) token strings, or NULL */
} duet_rec_side;

/* Hyper-parameters; each model reads the fields it needs (see model.c). */
typedef struct duet_rec_params {
    int weighting;   /* 0 binary, 1 log(1+w) */
    int k;           /* neighbours (knn); negatives per positive (neumf); CG steps (ials, 0 = Cholesky) */
    int dim;         /* latent factors (bpr-mf, ials); predictive factors (neumf) */
    int epochs;      /* sweeps (bpr-mf, ials) */
    float lr;        /* learning rate (bpr-mf) */
    float reg;       /* L2 regularisation (bpr-mf, ials) / EASE lambda */
    float alpha;     /* confidence scale (ials); feature weight (content) */
    float shrink;    /* similarity shrinkage (knn): sim * n / (n + shrink) */
    float decay;     /* weight decay (improved-ncf: AdamW on every tensor; 0 = none) */
} duet_rec_params;

/* Everything fit() may read; borrowed for the duration of the call. */
typedef struct duet_rec_fit_ctx {
    const duet_rec_csr *train; /* (n_users x n_items) raw weights */
    const duet_rec_csr *valid; /* held-out interactions for early stopping, or NULL */
    duet_rec_side side;
    uint64_t seed;
    int progress;         /* duet_progress force flag: 1 draw, 0 tty only, -1 never */
} duet_rec_fit_ctx;

typedef struct duet_rec_model_def {
    const char *name;    /* stable name */
    const char *summary;
    /* Fit; *state is owned by the caller and freed with free_state. NULL when
     * the model is not built yet. Errors: ARG, NOMEM, NAN, model specific. */
    duet_status (*fit)(const duet_rec_fit_ctx *ctx, const duet_rec_params *p, void **state, duet_err *err);
    /* Scores of users[0..n) against all n_items into out (n x n_items,
     * row-major); `train` is the fit matrix (for neighbourhood models).
     * Higher is better. Errors: NOMEM. */
    duet_status (*score)(const void *state, const duet_rec_csr *train, const int32_t *users, int32_t n, float *out,
                         duet_err *err);
    void (*free_state)(void *state);
    const duet_rec_params *grid; /* configurations tried on validation */
    int n_grid;
    int uses_side;          /* 1 when the model reads side information */
    int scores_cold;        /* 1 when items without training interactions are scored from their
                             * attributes; 0: duet_rec_model_score gives them REC_COLD_SCORE */
} duet_rec_model_def;

/* The score of a cold item (no interaction in the fit matrix) under a model
 * that has no signal for it: finite, below every real score, so such items
 * rank after all others and among themselves by the seeded tie-break. */
#define REC_COLD_SCORE (-3.0e38f)

/* m->score, then REC_COLD_SCORE for every item without an interaction in
 * `train` when !m->scores_cold. The entry point every protocol and
 * `duet recommend` use. Errors: those of m->score, NOMEM. */
duet_status duet_rec_model_score(const duet_rec_model_def *m, const void *state, const duet_rec_csr *train,
                                 const int32_t *users, int32_t n, float *out, duet_err *err);

/* The table (stable order) and its size. */
const duet_rec_model_def *duet_rec_models(int *n);
/* A model by name, or NULL. */
const duet_rec_model_def *duet_rec_model_find(const char *name);
/* "k=50 shrink=10 w=log" style description of the fields a model uses. */
void duet_rec_params_describe(const duet_rec_model_def *m, const duet_rec_params *p, char *buf, size_t n);

/* Value of a raw weight under a weighting. */
static inline float duet_rec_weight(float raw, int weighting)
{
    return weighting == 1 ? log1pf(raw) : 1.0f;
}

/* Model entry points (in pop.c, knn.c, mf_bpr.c, ials.c, ease.c, content.c). */
duet_status duet_rec_pop_fit(const duet_rec_fit_ctx *, const duet_rec_params *, void **, duet_err *);
duet_status duet_rec_pop_score(const void *, const duet_rec_csr *, const int32_t *, int32_t, float *, duet_err *);
void duet_rec_pop_free(void *);
duet_status duet_rec_userknn_fit(const duet_rec_fit_ctx *, const duet_rec_params *, void **, duet_err *);
duet_status duet_rec_userknn_adj_fit(const duet_rec_fit_ctx *, const duet_rec_params *, void **, duet_err *);
duet_status duet_rec_userknn_score(const void *, const duet_rec_csr *, const int32_t *, int32_t, float *, duet_err *);
duet_status duet_rec_itemknn_fit(const duet_rec_fit_ctx *, const duet_rec_params *, void **, duet_err *);
duet_status duet_rec_itemknn_score(const void *, const duet_rec_csr *, const int32_t *, int32_t, float *, duet_err *);
void duet_rec_knn_free(void *);
duet_status duet_rec_bpr_fit(const duet_rec_fit_ctx *, const duet_rec_params *, void **, duet_err *);
duet_status duet_rec_ials_fit(const duet_rec_fit_ctx *, const duet_rec_params *, void **, duet_err *);
/* Dot-product factor models share a state and an sgemm scorer. */
duet_status duet_rec_factors_score(const void *, const duet_rec_csr *, const int32_t *, int32_t, float *, duet_err *);
void duet_rec_factors_free(void *);
duet_status duet_rec_ease_fit(const duet_rec_fit_ctx *, const duet_rec_params *, void **, duet_err *);
duet_status duet_rec_ease_score(const void *, const duet_rec_csr *, const int32_t *, int32_t, float *, duet_err *);
void duet_rec_ease_free(void *);
duet_status duet_rec_content_fit(const duet_rec_fit_ctx *, const duet_rec_params *, void **, duet_err *);
duet_status duet_rec_content_score(const void *, const duet_rec_csr *, const int32_t *, int32_t, float *, duet_err *);
void duet_rec_content_free(void *);
duet_status duet_rec_neumf_fit(const duet_rec_fit_ctx *, const duet_rec_params *, void **, duet_err *);
duet_status duet_rec_neumf_score(const void *, const duet_rec_csr *, const int32_t *, int32_t, float *, duet_err *);
void duet_rec_neumf_free(void *);

/* Factor state (public so the NeuMF/bench code can reuse the scorer):
 * score(u, i) = dot(U[u], V[i]) + item_bias[i] (bias may be NULL). */
typedef struct duet_rec_factors {
    int32_t n_users, n_items, dim;
    float *U;         /* (n_users x dim) */
    float *V;         /* (n_items x dim) */
    float *item_bias; /* (n_items) or NULL */
} duet_rec_factors;

/* New factors with N(0, init^2) entries drawn from r and zero biases (when
 * with_bias); NULL when out of memory. Free with duet_rec_factors_free(). */
duet_rec_factors *duet_rec_factors_new(int32_t n_users, int32_t n_items, int dim, float init, int with_bias,
                                       duet_rng *r);
/* A new user from items[0..n): the implicit-ALS user solve (V^T V + (conf - 1)
 * sum_h v_h v_h^T + reg I) u = conf sum_h v_h (exact, Cholesky) into u (dim).
 * Errors: ARG (n < 1, item out of range), NAN, NOMEM. */
duet_status duet_rec_factors_fold_in(const duet_rec_factors *f, const int32_t *items, int n, float reg, float conf,
                                     float *u, duet_err *err);
/* Scores of a user vector u against every item (n_items floats). */
duet_status duet_rec_factors_score_vec(const duet_rec_factors *f, const float *u, float *out);

/* NeuMF internals, for the PyTorch golden test and the benchmark.
 * duet_rec_neumf_params_new: the zeroed parameter block, tensors in this order:
 * gmf.user (n_users, F), gmf.item (n_items, F), mlp.user (n_users, 2F),
 * mlp.item (n_items, 2F), mlp.0.weight (2F, 4F), mlp.0.bias (2F),
 * mlp.1.weight (F, 2F), mlp.1.bias (F), out.weight (1, 2F), out.bias (1).
 * Free with duet_params_free(). Errors: as duet_params_new.
 * duet_rec_neumf_step_grads: forward and backward of one batch (users u, items
 * it, labels y; B samples), ACCUMULATING into P->grad (training blocks must
 * be enabled); logits_out (B) may be NULL; work must hold
 * duet_rec_neumf_work_floats(F, B) floats. Returns the mean BCE loss. */
duet_status duet_rec_neumf_params_new(int32_t n_users, int32_t n_items, int F, duet_params **out, duet_err *err);
size_t duet_rec_neumf_work_floats(int F, int B);
double duet_rec_neumf_step_grads(duet_params *P, int F, const int32_t *u, const int32_t *it, const float *y, int B,
                                 float *logits_out, float *work);
/* NeuMF training epoch by epoch: the loop of duet_rec_neumf_fit (the fit is
 * new + epochs + take), which bench/bench_rec.c times against PyTorch.
 * duet_rec_neumf_trainer_new: F predictive factors, n_neg sampled negatives
 * per positive, Adam learning rate lr, the seed of the initialisation and
 * the sampling; dense_adam 0 updates the embedding tables only in the rows
 * of the batch (duet_adam_update_rows, the library's choice, as
 * torch.optim.SparseAdam), 1 every row at every step (torch.optim.Adam with
 * dense gradients). X is borrowed and must outlive the trainer; *out is
 * owned by the caller (duet_rec_neumf_trainer_free). Errors: ARG (F outside
 * [1,512], n_neg outside [1,100], lr <= 0), EMPTY (no interactions), NOMEM.
 * duet_rec_neumf_trainer_epoch: one epoch (fresh negatives, shuffle, every
 * batch's forward, backward and update); *mean_loss (may be NULL) the mean
 * batch BCE. Errors: NAN (loss not finite), ARG (parameters taken), those of
 * duet_adam_step.
 * duet_rec_neumf_trainer_take: the trained parameters, now owned by the
 * caller (duet_params_free); the trainer keeps none (free it still). */
typedef struct duet_rec_neumf_trainer duet_rec_neumf_trainer;
duet_status duet_rec_neumf_trainer_new(const duet_rec_csr *X, int F, int n_neg, float lr, uint64_t seed,
                                       int dense_adam, duet_rec_neumf_trainer **out, duet_err *err);
duet_status duet_rec_neumf_trainer_epoch(duet_rec_neumf_trainer *t, double *mean_loss, duet_err *err);
duet_params *duet_rec_neumf_trainer_take(duet_rec_neumf_trainer *t);
void duet_rec_neumf_trainer_free(duet_rec_neumf_trainer *t);

/* Scores (n x n_items) of users from a parameter block (P is not changed).
 * Errors: ARG (user out of range), NOMEM. */
duet_status duet_rec_neumf_score_params(const duet_params *P, int F, const int32_t *users, int32_t n, float *out,
                                        duet_err *err);

#ifdef __cplusplus
}
#endif

#endif
