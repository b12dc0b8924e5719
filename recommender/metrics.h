/* recommender/metrics.h: top-K selection and ranking metrics.
 *
 * For one user with relevant set R (the held-out items) and a ranked list
 * L = (l_1, l_2, ...) of recommended items, at cut-off K, with
 * hits = |{l_1..l_K} & R| and rel_i = [l_i in R]:
 *   Precision@K = hits / K
 *   Recall@K    = hits / |R|
 *   F1@K        = 2 P R / (P + R) for this user (0 when hits = 0); the
 *                 reported F1 is the MEAN OVER USERS of the per-user F1,
 *                 not the F1 of the mean precision and recall
 *   MAP@K       = mean over users of AP@K = sum_i rel_i * Precision@i / min(K, |R|)
 *   NDCG@K      = sum_i rel_i / log2(i + 1) divided by the same sum for an
 *                 ideal list (min(K, |R|) hits at the top)
 *   HR@K        = 1 if hits > 0 else 0
 * Users with an empty R are not evaluated. With one relevant item (the 1+99
 * protocol) HR@K is the hit ratio and NDCG@K = 1 / log2(rank + 1) of NCF.
 *
 * Top-K ties: equal scores are ordered by a caller-given tie-break key
 * (lower first; a seeded random permutation in the evaluation, so no model
 * gains from the order of item ids). */
#ifndef DUET_RECOMMENDER_METRICS_H
#define DUET_RECOMMENDER_METRICS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { REC_PREC = 0, REC_RECALL, REC_F1, REC_MAP, REC_NDCG, REC_HR, REC_N_METRICS };
#define REC_MAX_K 8

/* "Precision", "Recall", "F1", "MAP", "NDCG", "HR" (static strings). */
const char *duet_rec_metric_name(int m);

/* Metrics of one ranked list at cut-off k into out[REC_N_METRICS].
 * relevant must be sorted ascending and unique (n_rel > 0); n_ranked may be
 * below k (missing positions count as misses). */
void duet_rec_metrics_at_k(const int32_t *ranked, int n_ranked, const int32_t *relevant, int n_rel, int k,
                           double out[REC_N_METRICS]);

/* Running sums of per-user metrics at several cut-offs. Plain data. */
typedef struct duet_rec_metric_acc {
    int n_k;
    int ks[REC_MAX_K];
    double sum[REC_MAX_K][REC_N_METRICS];
    int64_t n_users;
} duet_rec_metric_acc;

/* ks: n_k cut-offs (1 <= n_k <= REC_MAX_K, each >= 1). */
void duet_rec_acc_init(duet_rec_metric_acc *a, const int *ks, int n_k);
/* Add one user (ranked must hold at least max(ks) entries or all candidates). */
void duet_rec_acc_add(duet_rec_metric_acc *a, const int32_t *ranked, int n_ranked, const int32_t *relevant, int n_rel);
/* Add the sums of b into a (same cut-offs). */
void duet_rec_acc_merge(duet_rec_metric_acc *a, const duet_rec_metric_acc *b);
/* Mean of metric m at the ki-th cut-off (0 when no user). */
double duet_rec_acc_mean(const duet_rec_metric_acc *a, int ki, int m);

/* Indices of the k best scores, best first, into out (k entries at most);
 * returns how many were written. Entries with score -INFINITY are not
 * candidates; NaN counts as the lowest candidate score. Ties: smaller
 * tiebreak[i] first (item index when tiebreak is NULL). A binary min-heap:
 * O(n log k). */
int duet_rec_topk(const float *scores, int32_t n, const uint32_t *tiebreak, int k, int32_t *out);

#ifdef __cplusplus
}
#endif

#endif
