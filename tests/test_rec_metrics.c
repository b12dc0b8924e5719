/* tests/test_rec_metrics.c: ranking metrics on hand-computed cases, against
 * the independent Python reference in fixtures/rec/metrics_golden.tsv
 * (fixtures/gen_rec.py), and heap top-K against a full sort. */
#include "check.h"
#include "../common/rng.h"
#include "../recommender/metrics.h"

#include <stdint.h>

static void test_hand_cases(void)
{
    double m[REC_N_METRICS];
    /* ranked 3 1 4 2 5, relevant {1, 2}: hits at ranks 2 and 4 */
    const int32_t ranked[] = {3, 1, 4, 2, 5}, rel[] = {1, 2};
    duet_rec_metrics_at_k(ranked, 5, rel, 2, 5, m);
    CHECK_NEAR(m[REC_PREC], 0.4, 1e-12);              /* 2 / 5 */
    CHECK_NEAR(m[REC_RECALL], 1.0, 1e-12);            /* 2 / 2 */
    CHECK_NEAR(m[REC_F1], 2 * 0.4 / 1.4, 1e-12);      /* 0.5714 */
    CHECK_NEAR(m[REC_MAP], (0.5 + 0.5) / 2, 1e-12);   /* (1/2 + 2/4) / min(5, 2) */
    double dcg = 1 / log2(3.0) + 1 / log2(5.0), idcg = 1 + 1 / log2(3.0);
    CHECK_NEAR(m[REC_NDCG], dcg / idcg, 1e-12);       /* 0.650921 */
    CHECK_NEAR(m[REC_NDCG], 0.650921, 1e-6);
    CHECK_NEAR(m[REC_HR], 1.0, 0);
    /* K = 3: one hit at rank 2 */
    duet_rec_metrics_at_k(ranked, 5, rel, 2, 3, m);
    CHECK_NEAR(m[REC_PREC], 1.0 / 3, 1e-12);
    CHECK_NEAR(m[REC_RECALL], 0.5, 1e-12);
    CHECK_NEAR(m[REC_F1], 0.4, 1e-12);                /* 2 (1/3)(1/2) / (5/6) */
    CHECK_NEAR(m[REC_MAP], 0.25, 1e-12);              /* (1/2) / min(3, 2) */
    CHECK_NEAR(m[REC_NDCG], 0.386853, 1e-6);          /* (1/log2 3) / (1 + 1/log2 3) */
    /* K = 1: a miss everywhere */
    duet_rec_metrics_at_k(ranked, 5, rel, 2, 1, m);
    for (int j = 0; j < REC_N_METRICS; j++) CHECK_NEAR(m[j], 0.0, 0);
    /* fewer ranked items than K (1+N style): hit at rank 2 of 3, K = 10 */
    const int32_t r2[] = {7, 9, 2}, rel2[] = {9};
    duet_rec_metrics_at_k(r2, 3, rel2, 1, 10, m);
    CHECK_NEAR(m[REC_PREC], 0.1, 1e-12);
    CHECK_NEAR(m[REC_RECALL], 1.0, 1e-12);
    CHECK_NEAR(m[REC_MAP], 0.5, 1e-12);
    CHECK_NEAR(m[REC_NDCG], 1 / log2(3.0), 1e-12);
    CHECK_NEAR(m[REC_HR], 1.0, 0);
    /* more relevant items than K: a perfect list scores 1 on MAP and NDCG */
    const int32_t r3[] = {1, 2, 3}, rel3[] = {1, 2, 3, 4, 5, 6};
    duet_rec_metrics_at_k(r3, 3, rel3, 6, 3, m);
    CHECK_NEAR(m[REC_PREC], 1.0, 1e-12);
    CHECK_NEAR(m[REC_RECALL], 0.5, 1e-12);
    CHECK_NEAR(m[REC_F1], 2.0 / 3, 1e-12);
    CHECK_NEAR(m[REC_MAP], 1.0, 1e-12);
    CHECK_NEAR(m[REC_NDCG], 1.0, 1e-12);
}

static void test_accumulator_averages_per_user_f1(void)
{
    /* user A: P = 1/2, R = 1 (F1 2/3); user B: P = 1/2, R = 1/4 (F1 1/3).
     * Mean per-user F1 = 1/2, while F1 of the mean P and R would be 0.5454. */
    duet_rec_metric_acc a;
    int ks[] = {2};
    duet_rec_acc_init(&a, ks, 1);
    const int32_t ra[] = {1, 9}, rela[] = {1};
    const int32_t rb[] = {2, 9}, relb[] = {2, 3, 4, 5};
    duet_rec_acc_add(&a, ra, 2, rela, 1);
    duet_rec_acc_add(&a, rb, 2, relb, 4);
    duet_rec_acc_add(&a, rb, 2, relb, 0); /* no relevant items: not counted */
    CHECK(a.n_users == 2);
    CHECK_NEAR(duet_rec_acc_mean(&a, 0, REC_F1), 0.5, 1e-12);
    CHECK_NEAR(duet_rec_acc_mean(&a, 0, REC_PREC), 0.5, 1e-12);
    CHECK_NEAR(duet_rec_acc_mean(&a, 0, REC_RECALL), 0.625, 1e-12);
}

static int parse_list(char *s, int32_t *out, int max)
{
    int n = 0;
    for (char *t = strtok(s, ","); t && n < max; t = strtok(NULL, ",")) out[n++] = (int32_t)atoi(t);
    return n;
}

static void test_golden_python(void)
{
    FILE *f = fopen(FIXTURE("rec/metrics_golden.tsv"), "r");
    REQUIRE(f != NULL);
    char line[4096];
    int cases = 0;
    double worst = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        char *fields[10];
        int nf = 0;
        for (char *t = strtok(line, "\t\n"); t && nf < 10; t = strtok(NULL, "\t\n")) fields[nf++] = t;
        REQUIRE(nf == 9);
        int k = atoi(fields[0]);
        char rk[2048], rl[2048];
        snprintf(rk, sizeof rk, "%s", fields[1]);
        snprintf(rl, sizeof rl, "%s", fields[2]);
        double want[REC_N_METRICS];
        for (int j = 0; j < REC_N_METRICS; j++) want[j] = atof(fields[3 + j]);
        int32_t ranked[64], rel[64];
        int nr = parse_list(rk, ranked, 64), nl = parse_list(rl, rel, 64);
        double m[REC_N_METRICS];
        duet_rec_metrics_at_k(ranked, nr, rel, nl, k, m);
        for (int j = 0; j < REC_N_METRICS; j++) {
            double d = fabs(m[j] - want[j]);
            if (d > worst) worst = d;
            CHECK_MSG(d < 1e-9, "case %d metric %s: %.12g vs %.12g", cases, duet_rec_metric_name(j), m[j], want[j]);
        }
        cases++;
    }
    fclose(f);
    CHECK(cases == 60);
    fprintf(stderr, "# metrics vs Python: %d cases, max |diff| %.3g\n", cases, worst);
}

/* Reference ordering for top-K: score descending, then tie key ascending. */
static const float *g_scores;
static const uint32_t *g_tb;
static int ref_cmp(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    float sx = g_scores[x] != g_scores[x] ? -3e38f : g_scores[x];
    float sy = g_scores[y] != g_scores[y] ? -3e38f : g_scores[y];
    if (sx != sy) return sx > sy ? -1 : 1;
    return g_tb[x] < g_tb[y] ? -1 : g_tb[x] > g_tb[y];
}

static void test_topk_against_sort(void)
{
    duet_rng r;
    duet_rng_seed(&r, 99);
    enum { N = 500 };
    float s[N];
    uint32_t tb[N];
    int32_t idx[N], got[N];
    for (int trial = 0; trial < 200; trial++) {
        int n = 1 + (int)duet_rng_below(&r, N);
        int k = 1 + (int)duet_rng_below(&r, 60);
        for (int i = 0; i < n; i++) {
            s[i] = (float)duet_rng_below(&r, 20); /* many ties */
            if (duet_rng_below(&r, 10) == 0) s[i] = -INFINITY;
            if (duet_rng_below(&r, 50) == 0) s[i] = NAN;
            tb[i] = (uint32_t)duet_rng_below(&r, 1u << 30);
        }
        int nc = 0;
        for (int i = 0; i < n; i++)
            if (s[i] != -INFINITY) idx[nc++] = i;
        g_scores = s;
        g_tb = tb;
        qsort(idx, (size_t)nc, sizeof *idx, ref_cmp);
        int h = duet_rec_topk(s, n, tb, k, got);
        CHECK(h == (nc < k ? nc : k));
        for (int j = 0; j < h; j++) CHECK_MSG(got[j] == idx[j], "trial %d pos %d: %d vs %d", trial, j, got[j], idx[j]);
    }
    /* without tie keys ties go to the smaller index */
    float t[] = {1, 3, 3, 2, 3};
    int32_t o[3];
    CHECK(duet_rec_topk(t, 5, NULL, 3, o) == 3);
    CHECK(o[0] == 1 && o[1] == 2 && o[2] == 4);
    CHECK(duet_rec_topk(t, 5, NULL, 0, o) == 0);
}

int main(void)
{
    RUN(test_hand_cases);
    RUN(test_accumulator_averages_per_user_f1);
    RUN(test_golden_python);
    RUN(test_topk_against_sort);
    return check_summary();
}
