/* recommender/incf.h: the paper's improved neural collaborative filtering
 * ("improved-ncf") and its ablations, on duet's nn/ engine.
 *
 * Inputs, grouped (each part present only when the data has it):
 *   user group: id embedding U_u (d); the mean of the vectors of the tags
 *     the user applied (dw); the mean of the user's friends' id embeddings
 *     (d, gradients flow into the friends' rows); presence flags.
 *   item group: id embedding E_i (d); the weighted mean of the vectors of
 *     its tag/attribute tokens and artist-name words (dw); the mean of its
 *     knowledge-graph tokens "kg:<relation>=<entity>" (dw); standardised
 *     numeric features (Spotify audio averages; 0 where absent); flags.
 *   Token vectors: word2vec (recommender/word2vec.h, skip-gram, trained inside
 *   fit on one "sentence" per item (its tokens) and per user (the tags it
 *   applied), seeded, one thread) and then FROZEN; or, for the no-w2v
 *   ablation, a token embedding table learned from scratch with the model.
 *   Token weights: log(1 + count), normalised to sum 1 per item and family;
 *   at most 32 tokens per item and family (the heaviest).
 * Group fusion: x_u -> Linear(d) -> ReLU -> Linear(d) = g_u; likewise g_i.
 * Interactions, fused into one logit:
 *   GMF      g_u * g_i                                       (d)
 *   MLP      [g_u; g_i] -> ReLU(Linear d) -> ReLU(Linear d/2)
 *   outer    vec(g_u g_i^T) (d*d) -> ReLU(Linear d/4)   (an MLP over the
 *            outer-product interaction map, cf. ConvNCF)
 *   logit  = w . [GMF; MLP; outer] + b
 * Ablations (separate model names): no-w2v (learned token table), no-outer
 * (no outer branch), no-group (GMF and outer over the id embeddings, the MLP
 * over the raw concatenation [x_u; x_i]: no fusion MLPs), no-content (ids
 * only; the group MLPs see only the id embeddings).
 *
 * Training: every positive with `negatives` uniformly drawn items the user
 * has not interacted with, drawn anew each epoch; groups of (1 positive +
 * its negatives) shuffled into batches of about 256 samples; loss BCE with
 * logits (pointwise) or BPR (each positive against each of its negatives);
 * Adam (dense layers) and lazy row-wise Adam (id and token tables). Item id
 * dropout: with probability id_dropout a training sample sees E_i = 0, so the
 * item group learns to stand on its content (cold start; off when items
 * have no attributes or features). Early stopping:
 * after every epoch NDCG@10 on the validation matrix (ctx->valid; up to
 * 500 of its users; when every validation item is absent from training
 * the candidates are those absent items, as in the cold-start protocol),
 * smoothed: the mean of that epoch's value and the two before it. From
 * epoch min_epochs on, the epoch with the best smoothed value is kept (its
 * weights), and training stops after `patience` epochs without a gain. A
 * small validation set is noisy: the schedule is scaled to the data. With
 * S = Adam steps per epoch (positives x (1 + negatives) / 256), the auto
 * values (0 in the configuration) are min_epochs = ceil(4000 / S) in 1..200,
 * max_epochs = max(12, 2 min_epochs), patience = max(2, min_epochs / 4):
 * HetRec (S about 5,600) keeps 1 / 12 / 2, a 1,000-interaction set trains
 * at least about 70 epochs. Without ctx->valid, fit carves 10% of each training
 * row (users with >= 5 interactions) as its own early-stopping set and
 * trains on the rest; with refit = 1 it then retrains from the same
 * initialisation on all training data for the best number of epochs.
 *
 * Cold items (no training interaction in fit) get E_i = 0: their vector
 * comes from attributes/features only. New users: fold-in from a short
 * history (duet_rec_incf_fold_in: Adam steps on a free user group vector with
 * the network frozen).
 *
 * Determinism: for a seed and one thread the result is bit-exact, also
 * across a checkpoint/resume. */
#ifndef DUET_RECOMMENDER_INCF_H
#define DUET_RECOMMENDER_INCF_H

#include <stdint.h>

#include "../common/status.h"
#include "data.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Variants. */
enum { REC_INCF_FULL = 0, REC_INCF_NO_W2V, REC_INCF_NO_OUTER, REC_INCF_NO_GROUP, REC_INCF_NO_CONTENT };

typedef struct duet_rec_incf_config {
    int variant;      /* REC_INCF_* */
    int dim;          /* d: id embeddings and group vectors (4..256) */
    int wdim;         /* dw: token vectors (word2vec or learned) (4..256) */
    int negatives;    /* per positive (1..50) */
    int max_epochs;   /* (1..1000; 0 = auto, see below) */
    int patience;     /* epochs without a gain of the smoothed validation curve before stopping (1..1000; 0 = auto) */
    int min_epochs;   /* epochs before early stopping may choose or stop (1..1000; 0 = auto) */
    float lr;         /* Adam learning rate */
    float id_dropout; /* probability of E_i = 0 per training sample, [0, 1) */
    int loss;         /* 0 BCE, 1 BPR */
    int refit;        /* see above */
    int w2v_epochs;   /* word2vec passes (default 10) */
    float weight_decay; /* decoupled (AdamW) weight decay on every trained tensor, >= 0 (default 0);
                         * embedding rows decay only when they are updated (lazy) */
} duet_rec_incf_config;

/* Defaults: FULL, d 32, dw 32, 16 negatives, auto max_epochs / min_epochs / patience, lr 2e-3,
 * id dropout 0.2, BCE, no refit, 10 word2vec epochs, no weight decay. */
void duet_rec_incf_config_default(duet_rec_incf_config *c);

/* Training options beyond the model (for `duet train-rec`). */
typedef struct duet_rec_incf_train_opts {
    const char *ckpt;    /* write a checkpoint here after every epoch (atomic), or NULL */
    const char *resume;  /* resume from this checkpoint, or NULL */
} duet_rec_incf_train_opts;

typedef struct duet_rec_incf duet_rec_incf;

/* Train on ctx (train, valid, side, seed, progress). *out is caller-owned
 * (duet_rec_incf_free). A resume file must come from the same configuration,
 * data and seed (checked through the stored configuration string).
 * Errors: ARG (bad configuration), EMPTY (no interactions), NAN (diverged),
 * NOMEM, IO/FORMAT/SHAPE (checkpoint files), and word2vec's errors. */
duet_status duet_rec_incf_train(const duet_rec_fit_ctx *ctx, const duet_rec_incf_config *cfg,
                                const duet_rec_incf_train_opts *topt, duet_rec_incf **out, duet_err *err);
void duet_rec_incf_free(duet_rec_incf *m);

/* Sizes. */
int32_t duet_rec_incf_n_users(const duet_rec_incf *m);
int32_t duet_rec_incf_n_items(const duet_rec_incf *m);
/* Epochs trained (the best epoch kept) and its validation NDCG@10. */
int duet_rec_incf_best_epoch(const duet_rec_incf *m);
double duet_rec_incf_best_valid(const duet_rec_incf *m);

/* Scores of users[0..n) against every item (n x n_items). Errors: ARG (user
 * out of range), NOMEM. */
duet_status duet_rec_incf_score(const duet_rec_incf *m, const int32_t *users, int32_t n, float *out, duet_err *err);

/* Length of a user representation (the vector fold-in produces). */
int duet_rec_incf_user_rep_len(const duet_rec_incf *m);
/* Fold-in a new user from items[0..n) (n >= 1, indices in range, repeats
 * allowed): rep (duet_rec_incf_user_rep_len floats) is fitted by 100 Adam steps on
 * BCE (the history against 4 seeded random other items each) with the
 * network frozen, starting from the mean user. Errors: ARG, NOMEM. */
duet_status duet_rec_incf_fold_in(const duet_rec_incf *m, const int32_t *items, int n, uint64_t seed, float *rep,
                                  duet_err *err);
/* Scores of one user representation against every item (n_items floats). */
duet_status duet_rec_incf_score_rep(const duet_rec_incf *m, const float *rep, float *out, duet_err *err);
/* Items most similar to item (cosine of item group vectors), best first,
 * excluding item itself: up to k into idx/sim; returns the count written or
 * -1 on a bad argument. */
int duet_rec_incf_similar(const duet_rec_incf *m, int32_t item, int k, int32_t *idx, float *sim);

/* Training items of user u (the matrix given to fit), for excluding seen
 * items; *n receives the count. */
const int32_t *duet_rec_incf_seen(const duet_rec_incf *m, int32_t u, int64_t *n);

/* Save the fitted model (scoring tensors, group vectors, the training
 * matrix, configuration) as safetensors, atomically, with metadata format
 * "duet-rec-incf" and the given ids/names (arrays of n_users / n_items
 * strings; any may be NULL: ids then default to indices). Tabs and line
 * breaks in names are replaced by spaces. Errors: IO, NOMEM, ARG. */
duet_status duet_rec_incf_save(const duet_rec_incf *m, const char *path, const char *const *user_ids,
                               const char *const *item_ids, const char *const *item_names, duet_err *err);
/* Load a saved model. Scores are bit-identical to the saved model's. The
 * ids/names are available through rec_incf_user_id/item_id/item_name.
 * Errors: IO, FORMAT (not a duet-rec-incf file, bad metadata), SHAPE,
 * NOTFOUND (missing tensor), NOMEM. */
duet_status duet_rec_incf_load(const char *path, duet_rec_incf **out, duet_err *err);
/* Ids and names of a loaded model (NULL when absent or out of range). */
const char *duet_rec_incf_user_id(const duet_rec_incf *m, int32_t u);
const char *duet_rec_incf_item_id(const duet_rec_incf *m, int32_t i);
const char *duet_rec_incf_item_name(const duet_rec_incf *m, int32_t i);
int32_t duet_rec_incf_find_user(const duet_rec_incf *m, const char *id);
int32_t duet_rec_incf_find_item(const duet_rec_incf *m, const char *id);
/* The configuration description ("variant=improved-ncf d=32 ..."). */
const char *duet_rec_incf_describe(const duet_rec_incf *m);

/* Model-table entry points (model.c): the fit wrappers map duet_rec_params
 * (dim, k = negatives, epochs = max epochs, lr, alpha = id dropout,
 * weighting = loss 0 BCE / 1 BPR, shrink = refit flag, reg = patience when >= 1,
 * decay = weight decay)
 * onto a variant. */
duet_status duet_rec_incf_fit_full(const duet_rec_fit_ctx *, const duet_rec_params *, void **, duet_err *);
duet_status duet_rec_incf_fit_no_w2v(const duet_rec_fit_ctx *, const duet_rec_params *, void **, duet_err *);
duet_status duet_rec_incf_fit_no_outer(const duet_rec_fit_ctx *, const duet_rec_params *, void **, duet_err *);
duet_status duet_rec_incf_fit_no_group(const duet_rec_fit_ctx *, const duet_rec_params *, void **, duet_err *);
duet_status duet_rec_incf_fit_no_content(const duet_rec_fit_ctx *, const duet_rec_params *, void **, duet_err *);
duet_status duet_rec_incf_table_score(const void *, const duet_rec_csr *, const int32_t *, int32_t, float *,
                                      duet_err *);
void duet_rec_incf_table_free(void *);

/* The fitted model as tensors PREFIX<name> of a model file (state_io.h;
 * ids and names are the file's). Errors: NOMEM; import: FORMAT, NOMEM. */
struct duet_st_writer;
struct duet_st_file;
duet_status duet_rec_incf_export(const duet_rec_incf *m, struct duet_st_writer *w, const char *prefix, duet_err *err);
duet_status duet_rec_incf_import(const struct duet_st_file *f, const char *prefix, duet_rec_incf **out, duet_err *err);

/* Gradient-check hook for tests: the mean loss of one batch (users u, items
 * it, labels y, B samples; y ignored for BPR, where samples come in groups
 * of 1 + negatives) at the current weights, and (when grad != 0) its
 * gradient ACCUMULATED into the training blocks (zeroed first), returned
 * through duet_rec_incf_param_grad. Dropout off. */
double duet_rec_incf_batch_loss(duet_rec_incf *m, const int32_t *u, const int32_t *it, const float *y, int B, int grad);
/* Number of parameter tensors, a tensor's name, data and gradient
 * (training must have happened: models from duet_rec_incf_train). */
int duet_rec_incf_n_params(const duet_rec_incf *m);
const char *duet_rec_incf_param_name(const duet_rec_incf *m, int t);
float *duet_rec_incf_param_data(duet_rec_incf *m, int t, size_t *numel);
float *duet_rec_incf_param_grad(duet_rec_incf *m, int t);

#ifdef __cplusplus
}
#endif

#endif
