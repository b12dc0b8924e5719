/* recommender/metrics.c: ranking metrics and heap top-K (definitions in metrics.h). */
#include "metrics.h"

#include <float.h>
#include <math.h>
#include <string.h>

const char *duet_rec_metric_name(int m)
{
    static const char *names[REC_N_METRICS] = {"Precision", "Recall", "F1", "MAP", "NDCG", "HR"};
    return m >= 0 && m < REC_N_METRICS ? names[m] : "?";
}

static int is_relevant(const int32_t *rel, int n, int32_t item)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (rel[mid] == item) return 1;
        if (rel[mid] < item) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

void duet_rec_metrics_at_k(const int32_t *ranked, int n_ranked, const int32_t *relevant, int n_rel, int k,
                           double out[REC_N_METRICS])
{
    memset(out, 0, REC_N_METRICS * sizeof *out);
    if (n_rel <= 0 || k <= 0) return;
    int top = n_ranked < k ? n_ranked : k;
    int hits = 0;
    double ap = 0, dcg = 0, idcg = 0;
    for (int i = 0; i < top; i++)
        if (is_relevant(relevant, n_rel, ranked[i])) {
            hits++;
            ap += (double)hits / (double)(i + 1);
            dcg += 1.0 / log2((double)i + 2.0);
        }
    int ideal = n_rel < k ? n_rel : k;
    for (int i = 0; i < ideal; i++) idcg += 1.0 / log2((double)i + 2.0);
    double p = (double)hits / k, r = (double)hits / n_rel;
    out[REC_PREC] = p;
    out[REC_RECALL] = r;
    out[REC_F1] = hits ? 2 * p * r / (p + r) : 0;
    out[REC_MAP] = ap / ideal;
    out[REC_NDCG] = dcg / idcg;
    out[REC_HR] = hits > 0;
}

void duet_rec_acc_init(duet_rec_metric_acc *a, const int *ks, int n_k)
{
    memset(a, 0, sizeof *a);
    if (n_k > REC_MAX_K) n_k = REC_MAX_K;
    a->n_k = n_k;
    for (int i = 0; i < n_k; i++) a->ks[i] = ks[i];
}

void duet_rec_acc_add(duet_rec_metric_acc *a, const int32_t *ranked, int n_ranked, const int32_t *relevant, int n_rel)
{
    if (n_rel <= 0) return;
    double m[REC_N_METRICS];
    for (int i = 0; i < a->n_k; i++) {
        duet_rec_metrics_at_k(ranked, n_ranked, relevant, n_rel, a->ks[i], m);
        for (int j = 0; j < REC_N_METRICS; j++) a->sum[i][j] += m[j];
    }
    a->n_users++;
}

void duet_rec_acc_merge(duet_rec_metric_acc *a, const duet_rec_metric_acc *b)
{
    for (int i = 0; i < a->n_k; i++)
        for (int j = 0; j < REC_N_METRICS; j++) a->sum[i][j] += b->sum[i][j];
    a->n_users += b->n_users;
}

double duet_rec_acc_mean(const duet_rec_metric_acc *a, int ki, int m)
{
    if (!a->n_users || ki < 0 || ki >= a->n_k || m < 0 || m >= REC_N_METRICS) return 0;
    return a->sum[ki][m] / (double)a->n_users;
}

/* Is (sa, ta) worse than (sb, tb)? Lower score is worse; on ties a larger
 * tie-break key is worse. */
static int worse(float sa, uint32_t ta, float sb, uint32_t tb)
{
    if (sa != sb) return sa < sb;
    return ta > tb;
}

/* Place item x at the root of the heap out[0..n) (ordered by "worse", worst
 * at the root) and sift it down to where it belongs. NaN scores count as
 * -FLT_MAX. */
static void sift_down(int32_t *out, int n, int32_t x, const float *scores, const uint32_t *tiebreak)
{
    float s = scores[x] != scores[x] ? -FLT_MAX : scores[x];
    uint32_t t = tiebreak ? tiebreak[x] : (uint32_t)x;
    int c = 0;
    for (;;) {
        int l = 2 * c + 1, best = c;
        float bs = s;
        uint32_t bt = t;
        int32_t bi = -1;
        for (int ch = l; ch <= l + 1 && ch < n; ch++) {
            int32_t ci = out[ch];
            float cs = scores[ci] != scores[ci] ? -FLT_MAX : scores[ci];
            uint32_t ct = tiebreak ? tiebreak[ci] : (uint32_t)ci;
            if (worse(cs, ct, bs, bt)) {
                best = ch;
                bs = cs;
                bt = ct;
                bi = ci;
            }
        }
        if (best == c) break;
        out[c] = bi;
        c = best;
    }
    out[c] = x;
}

int duet_rec_topk(const float *scores, int32_t n, const uint32_t *tiebreak, int k, int32_t *out)
{
    if (k <= 0) return 0;
    int h = 0; /* out[0..h) is a min-heap by "worse" (worst at the root) */
    for (int32_t i = 0; i < n; i++) {
        float s = scores[i];
        if (s == -INFINITY) continue;
        if (s != s) s = -FLT_MAX;
        uint32_t t = tiebreak ? tiebreak[i] : (uint32_t)i;
        if (h < k) { /* sift up */
            int c = h++;
            while (c > 0) {
                int p = (c - 1) / 2;
                int32_t pi = out[p];
                float ps = scores[pi] != scores[pi] ? -FLT_MAX : scores[pi];
                if (!worse(s, t, ps, tiebreak ? tiebreak[pi] : (uint32_t)pi)) break;
                out[c] = pi;
                c = p;
            }
            out[c] = i;
            continue;
        }
        int32_t r = out[0];
        float rs = scores[r] != scores[r] ? -FLT_MAX : scores[r];
        if (!worse(rs, tiebreak ? tiebreak[r] : (uint32_t)r, s, t)) continue; /* not better than the worst */
        sift_down(out, h, i, scores, tiebreak);
    }
    /* heap sort: repeatedly move the worst to the end */
    for (int end = h - 1; end > 0; end--) {
        int32_t worst = out[0];
        int32_t x = out[end];
        sift_down(out, end, x, scores, tiebreak);
        out[end] = worst;
    }
    return h;
}
