/* recommender/split.h: seeded splits of an interaction matrix for the
 * evaluation protocols.
 *
 * Per-user holdout (full-ranking protocol): every user with at least
 * `min_inter` interactions gives max(1, round(test_frac * n)) of them, chosen
 * uniformly at random, to the test matrix; users with fewer stay whole in
 * training and are not evaluated. The same function carves the validation
 * split out of a training matrix (used for all hyper-parameter tuning).
 * The random stream of user u depends only on (seed, u), so a split does not
 * change when other users are added.
 *
 * Item cold start: round(item_frac * n) of the items that have at least one
 * interaction are drawn at random; all their interactions go to the test
 * matrix and none to training, so they can be scored only from attributes. */
#ifndef DUET_RECOMMENDER_SPLIT_H
#define DUET_RECOMMENDER_SPLIT_H

#include <stdint.h>
#include "data.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Split `ui` into *train and *test (same shape, caller-owned, free with
 * duet_rec_csr_free). test_frac in (0, 1); min_inter >= 2. Errors: ARG, NOMEM. */
duet_status duet_rec_split_users(const duet_rec_csr *ui, double test_frac, int min_inter, uint64_t seed,
                                 duet_rec_csr *train, duet_rec_csr *test, duet_err *err);

/* Hold out items. `cold` (n_items, caller-allocated) receives 1 for held-out
 * items. item_frac in (0, 1). Errors: ARG (no item would be held out), NOMEM. */
duet_status duet_rec_split_cold_items(const duet_rec_csr *ui, double item_frac, uint64_t seed, duet_rec_csr *train,
                                      duet_rec_csr *test, uint8_t *cold, duet_err *err);

#ifdef __cplusplus
}
#endif

#endif
