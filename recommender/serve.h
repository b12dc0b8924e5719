/* recommender/serve.h: model files for every model of the table (`duet
 * train-rec --model NAME` writes them, `duet recommend` serves them).
 *
 * A model file is safetensors with metadata format "duet-rec-model",
 * version 1, the model name, its configuration (duet_rec_params_describe) and
 * the user ids, item ids and item names (one per line); tensors: the
 * configuration (params), the training matrix the model was fitted on
 * (train.indptr/indices/values: the users' histories, to score users and
 * leave their items out) and the fitted state (state.*, state_io.h). Files
 * of the first improved-NCF format ("duet-rec-incf", written by earlier
 * versions) load as the model improved-ncf-deep.
 *
 * What a score means: higher is better; it orders items for one query and
 * is not comparable across queries or models (duet_rec_served_score_doc). */
#ifndef DUET_RECOMMENDER_SERVE_H
#define DUET_RECOMMENDER_SERVE_H

#include <stdint.h>

#include "../common/status.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct duet_rec_served duet_rec_served;

/* Write a fitted model atomically. ids/names: arrays of n_users / n_items
 * strings (any may be NULL: ids default to indices, names to empty); tabs
 * and line breaks become spaces. Errors: IO, NOMEM, UNSUPPORTED (a model
 * without a state format). */
duet_status duet_rec_served_save(const char *path, const duet_rec_model_def *m, const duet_rec_params *p,
                                 const void *state, const duet_rec_csr *train, const char *const *user_ids,
                                 const char *const *item_ids, const char *const *item_names, duet_err *err);
/* Read a model file. Errors: IO, FORMAT (not a model file, unknown model,
 * bad tensors or metadata), NOMEM. */
duet_status duet_rec_served_load(const char *path, duet_rec_served **out, duet_err *err);
void duet_rec_served_free(duet_rec_served *s);

const duet_rec_model_def *duet_rec_served_model(const duet_rec_served *s);
const duet_rec_params *duet_rec_served_params(const duet_rec_served *s);
int32_t duet_rec_served_n_users(const duet_rec_served *s);
int32_t duet_rec_served_n_items(const duet_rec_served *s);
const char *duet_rec_served_user_id(const duet_rec_served *s, int32_t u);
const char *duet_rec_served_item_id(const duet_rec_served *s, int32_t i);
/* NULL when the item has no name. */
const char *duet_rec_served_item_name(const duet_rec_served *s, int32_t i);
/* A one-line description: "model (configuration)". */
const char *duet_rec_served_describe(const duet_rec_served *s);

/* User index by id, or -1. */
int32_t duet_rec_served_find_user(const duet_rec_served *s, const char *id);
/* Item by id, then by exact name, then by case-insensitive name (ASCII
 * letters). Returns the index; -1 when nothing matches, -2 when several
 * items match (ambiguous). near (capacity max_near) receives the matching
 * items when ambiguous, or the items whose name or id contains the query
 * case-insensitively when nothing matches; *n_near their count. */
int32_t duet_rec_served_find_item(const duet_rec_served *s, const char *query, int32_t *near, int max_near,
                                  int *n_near);

/* Scores (n_items) of a training user; the user's own items get -INFINITY.
 * Errors: ARG, the model's scoring errors, NOMEM. */
duet_status duet_rec_served_score_user(const duet_rec_served *s, int32_t u, float *out, duet_err *err);
/* Scores for a new listener with history items[0..n); the history's items
 * get -INFINITY. How each model folds a history in: popularity, item-knn,
 * ease and content read it as a user row; user-knn and user-knn-adj take
 * the k training users most similar to it (cosine of binary rows); bpr-mf
 * and ials solve the user's factors (duet_rec_factors_fold_in); the improved-ncf
 * models as duet_rec_fused_score_history / duet_rec_incf_fold_in (seeded). neumf
 * cannot (UNSUPPORTED). Errors: ARG, UNSUPPORTED, NOMEM. */
duet_status duet_rec_served_score_history(const duet_rec_served *s, const int32_t *items, int n, uint64_t seed,
                                          float *out, duet_err *err);
/* Batch scoring: the top k items of every training user in shard i of n
 * (1 <= shard_i <= shard_n; a user is in the shard its id's string hash
 * (common/strmap.h) picks, hash % n == i - 1, the rule of `duet features
 * --catalog --shard`, so shards are fixed by the ids alone), users in index
 * order, scored in batches through the model's batch scorer, each user's
 * own items left out. Written atomically to `path` (temporary name, then
 * rename) as TSV: the header `user<TAB>rank<TAB>item<TAB>score`, then one
 * line per recommendation (fewer than k for a user with fewer candidates).
 * *n_users (may be NULL) receives the number of users written. Errors: ARG
 * (k < 1, bad shard, NULL path), IO (the output), the model's scoring
 * errors, NOMEM; on error no output file is left. */
duet_status duet_rec_served_recommend_all(const duet_rec_served *s, int k, int shard_i, int shard_n,
                                          const char *path, int64_t *n_users, duet_err *err);

/* What the model's score means, one sentence (static). */
const char *duet_rec_served_score_doc(const char *model_name);

#ifdef __cplusplus
}
#endif

#endif
