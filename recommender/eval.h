/* recommender/eval.h: the evaluation protocols of `duet eval-rec`.
 *
 * Full ranking (warm): for each seed s, a per-user 80/20 split of the
 * interactions (users with >= min_inter), then a validation split carved out
 * of training the same way (seed-derived). Every configuration of the
 * model's grid is fitted on training-minus-validation and scored on
 * validation (target: NDCG at the tuning cut-off); the best one is refitted
 * on the whole training matrix and scored on test. Candidates are all items
 * the user has no training interaction with. The test matrix is never seen
 * by tuning.
 *
 * Item cold start: round(cold_frac * items) items held out entirely (their
 * interactions form the test matrix); validation holds out another
 * cold_frac of the remaining items from training the same way. Candidates
 * are the held-out items only, so the metrics are "restricted to those
 * items"; users with a held-out interaction and >= 1 training interaction
 * are evaluated.
 *
 * Sampled 1+N (NCF format): the given test item is ranked against the
 * file's N negatives. Validation for tuning: one random training item per
 * user (users with >= 2) against N items drawn uniformly from the items the
 * user has not interacted with. Seeds vary the model initialisation and the
 * validation draw; the test split is fixed by the files.
 *
 * Mean and standard deviation (sample, n - 1) over seeds of per-seed means.
 * Ties between equal scores are broken by a seeded random permutation of
 * the items. */
#ifndef DUET_RECOMMENDER_EVAL_H
#define DUET_RECOMMENDER_EVAL_H

#include <stdint.h>
#include "data.h"
#include "metrics.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct duet_rec_eval_opts {
    int ks[REC_MAX_K]; /* cut-offs, ascending */
    int n_k;
    int n_seeds;
    uint64_t seed0;        /* seeds seed0, seed0 + 1, ... */
    double test_frac;      /* 0.2 */
    double valid_frac;     /* 0.2 of training */
    int min_inter;         /* 5 */
    double cold_frac;      /* 0.1 */
    int tune_k;            /* cut-off used for tuning (10) */
    int tune_metric;       /* REC_NDCG */
    int batch;             /* users per scoring batch (256) */
    int progress;          /* duet_progress force flag */
    int no_tune;           /* 1: use the grid's first configuration */
} duet_rec_eval_opts;

/* Defaults: K = 5, 10, 20; 3 seeds from 1; 80/20; validation 20%; >= 5
 * interactions; cold 10%; tune on NDCG@10; batch 256; progress on a tty. */
void duet_rec_eval_opts_default(duet_rec_eval_opts *o);

typedef struct duet_rec_eval_result {
    const char *model;                        /* static name */
    int n_runs;                               /* seeds completed */
    int n_k;
    int ks[REC_MAX_K];
    double mean[REC_MAX_K][REC_N_METRICS];
    double std[REC_MAX_K][REC_N_METRICS];
    int64_t n_users;                          /* users evaluated (last seed) */
    double fit_s, eval_s;                     /* seconds, summed over seeds (final fits and test scoring) */
    double tune_s;                            /* seconds spent tuning */
    char chosen[512];                         /* configuration picked per seed, "; "-separated */
} duet_rec_eval_result;

/* Run a model under the full-ranking (cold = 0) or item cold-start (cold =
 * 1) protocol on ui (users x items raw weights). side may hold item
 * attributes/features (borrowed). Errors: ARG (model not built, bad
 * options), the model's own errors, NOMEM. */
duet_status duet_rec_eval_full(const duet_rec_model_def *m, const duet_rec_csr *ui, const duet_rec_side *side, int cold,
                               const duet_rec_eval_opts *o, duet_rec_eval_result *res, duet_err *err);

/* Run a model under the sampled 1+N protocol. Errors as above. */
duet_status duet_rec_eval_sampled(const duet_rec_model_def *m, const duet_rec_ncf *d, const duet_rec_eval_opts *o,
                                  duet_rec_eval_result *res, duet_err *err);

/* Score a fitted model on one split into acc: for every user with test
 * interactions, rank the candidate items (cand == NULL: all items; else
 * cand[i] = 1 marks a candidate) the user has not interacted with in train,
 * top max(K) with tie-break keys `tiebreak` (n_items, may be NULL).
 * Errors: NOMEM, the model's scoring errors. */
duet_status duet_rec_eval_split(const duet_rec_model_def *m, const void *state, const duet_rec_csr *train,
                                const duet_rec_csr *test, const uint8_t *cand, const uint32_t *tiebreak, int batch,
                                duet_rec_metric_acc *acc, duet_err *err);

/* Fit model m on ctx->train for serving. With tune and a grid of more than
 * one configuration, each is fitted on 80% of every user's rows (users with
 * >= 5; seeded) and scored by NDCG@10 on the other 20%; the best one
 * (*chosen) is then fitted on all of ctx->train. Otherwise the grid's first
 * configuration. *state is caller-owned (m->free_state). Errors: the
 * model's, ARG (no user to split off), NOMEM. */
duet_status duet_rec_fit_tuned(const duet_rec_model_def *m, const duet_rec_fit_ctx *ctx, int tune,
                               duet_rec_params *chosen, void **state, duet_err *err);

/* Top-k items for the given users (out: n x k, -1 padded), excluding each
 * user's training items; for `duet recommend` and the benchmark.
 * Errors: NOMEM, scoring errors. */
duet_status duet_rec_recommend(const duet_rec_model_def *m, const void *state, const duet_rec_csr *train,
                               const int32_t *users, int32_t n, int k, int batch, int32_t *out, duet_err *err);

#ifdef __cplusplus
}
#endif

#endif
