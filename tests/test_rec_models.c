/* tests/test_rec_models.c: the baselines against NumPy references
 * (fixtures/rec/scores_golden.tsv from fixtures/gen_rec.py: user-kNN with
 * Eq. 2 and Eq. 3 similarities, item-kNN, EASE, content), structural checks
 * of the learned models (iALS normal equations, BPR ranking of held-in
 * pairs, sgemm scorer vs a plain loop), and the evaluation loop on a model
 * with known scores (masking of training items, candidate restriction). */
#include "check.h"
#include "../recommender/data.h"
#include "../recommender/eval.h"
#include "../recommender/model.h"

static duet_rec_dataset *load_tiny(int with_side)
{
    duet_rec_dataset *ds = NULL;
    duet_err err = {0};
    if (duet_rec_load_interactions_tsv(FIXTURE("rec/tiny.tsv"), &ds, &err) != DUET_OK) return NULL;
    if (with_side && (duet_rec_load_item_attrs_tsv(ds, FIXTURE("rec/tiny_attrs.tsv"), &err) != DUET_OK ||
                      duet_rec_load_item_features_tsv(ds, FIXTURE("rec/tiny_features.tsv"), 0, 1, &err) != DUET_OK)) {
        duet_rec_dataset_free(ds);
        return NULL;
    }
    return ds;
}

/* Fit `name` with p on the whole tiny matrix, score every user, and compare
 * with golden rows tagged `tag`. Returns the max relative difference. */
static double compare_golden(const char *name, const duet_rec_params *p, const char *tag, double tol)
{
    duet_rec_dataset *ds = load_tiny(1);
    if (!ds) {
        CHECK(ds != NULL);
        return 1e9;
    }
    const duet_rec_model_def *m = duet_rec_model_find(name);
    duet_rec_fit_ctx ctx = {0};
    ctx.train = &ds->ui;
    ctx.side.item_attr = &ds->item_attr;
    ctx.side.item_feats = ds->item_feats;
    ctx.side.has_feats = ds->has_feats;
    ctx.side.n_feats = ds->n_feats;
    ctx.seed = 1;
    void *state = NULL;
    duet_err err = {0};
    double worst = 1e9;
    if (!m || m->fit(&ctx, p, &state, &err) != DUET_OK) {
        CHECK_MSG(0, "%s: fit failed: %s", name, err.msg);
        duet_rec_dataset_free(ds);
        return worst;
    }
    int32_t users[10];
    for (int u = 0; u < 10; u++) users[u] = u;
    float S[10 * 12];
    CHECK(m->score(state, &ds->ui, users, 10, S, &err) == DUET_OK);
    FILE *f = fopen(FIXTURE("rec/scores_golden.tsv"), "r");
    int rows = 0;
    worst = 0;
    char line[256], model[64], u[16], it[16];
    double want;
    while (f && fgets(line, sizeof line, f)) {
        if (line[0] == '#' || sscanf(line, "%63s %15s %15s %lf", model, u, it, &want) != 4) continue;
        if (strcmp(model, tag)) continue;
        int32_t ui = duet_rec_dataset_find_user(ds, u), ii = duet_rec_dataset_find_item(ds, it);
        if (ui < 0 || ii < 0) {
            CHECK(ui >= 0 && ii >= 0);
            break;
        }
        double got = S[ui * 12 + ii];
        double d = fabs(got - want) / (1.0 > fabs(want) ? 1.0 : fabs(want));
        if (d > worst) worst = d;
        CHECK_MSG(d <= tol, "%s %s %s: %.7g vs %.7g", tag, u, it, got, want);
        rows++;
    }
    if (f) fclose(f);
    CHECK(rows == 120);
    fprintf(stderr, "# %-18s vs NumPy: max rel diff %.2e (tol %.0e)\n", tag, worst, tol);
    m->free_state(state);
    duet_rec_dataset_free(ds);
    return worst;
}

static void test_knn_golden(void)
{
    duet_rec_params p = {0};
    p.k = 50; /* more than the 9 other users/11 other items: every positive similarity */
    p.weighting = 0;
    compare_golden("user-knn", &p, "user-knn/bin", 1e-5);
    compare_golden("item-knn", &p, "item-knn/bin", 1e-5);
    p.weighting = 1;
    compare_golden("user-knn", &p, "user-knn/log", 1e-5);
    compare_golden("user-knn-adj", &p, "user-knn-adj/log", 1e-5);
    compare_golden("item-knn", &p, "item-knn/log", 1e-5);
}

static void test_ease_golden(void)
{
    duet_rec_params p = {0};
    p.reg = 2;
    compare_golden("ease", &p, "ease/bin/2", 1e-4);
    p.weighting = 1;
    p.reg = 5;
    compare_golden("ease", &p, "ease/log/5", 1e-4);
}

static void test_content_golden(void)
{
    duet_rec_params p = {0};
    p.alpha = 0.5f;
    compare_golden("content", &p, "content/bin/0.5", 1e-5);
    p.weighting = 1;
    p.alpha = 1.0f;
    compare_golden("content", &p, "content/log/1", 1e-5);
}

static void test_knn_keeps_k_neighbours(void)
{
    /* with k = 1 each user is scored from its single most similar user only */
    duet_rec_dataset *ds = load_tiny(0);
    REQUIRE(ds);
    duet_rec_params p = {0};
    p.k = 1;
    duet_rec_fit_ctx ctx = {0};
    ctx.train = &ds->ui;
    void *st = NULL;
    REQUIRE(duet_rec_userknn_fit(&ctx, &p, &st, NULL) == DUET_OK);
    int32_t u = 0;
    float S[12];
    REQUIRE(duet_rec_userknn_score(st, &ds->ui, &u, 1, S, NULL) == DUET_OK);
    /* nonzero scores exactly on one other user's items */
    int best = -1, nz = 0;
    for (int i = 0; i < 12; i++) nz += S[i] != 0;
    for (int v = 1; v < 10 && best < 0; v++) {
        int same = 1;
        for (int i = 0; i < 12; i++) same &= (S[i] != 0) == duet_rec_csr_has(&ds->ui, v, i);
        if (same) best = v;
    }
    CHECK(nz > 0 && best > 0);
    duet_rec_knn_free(st);
    duet_rec_dataset_free(ds);
}

static void test_popularity(void)
{
    duet_rec_dataset *ds = load_tiny(0);
    REQUIRE(ds);
    const duet_rec_model_def *m = duet_rec_model_find("popularity");
    duet_rec_fit_ctx ctx = {0};
    ctx.train = &ds->ui;
    void *st = NULL;
    REQUIRE(m->fit(&ctx, &m->grid[0], &st, NULL) == DUET_OK);
    int32_t users[2] = {0, 9};
    float S[24];
    REQUIRE(m->score(st, &ds->ui, users, 2, S, NULL) == DUET_OK);
    for (int i = 0; i < 12; i++) {
        int c = 0;
        for (int u = 0; u < 10; u++) c += duet_rec_csr_has(&ds->ui, u, i);
        CHECK_NEAR(S[i], c, 0);
        CHECK_NEAR(S[12 + i], c, 0);
    }
    m->free_state(st);
    duet_rec_dataset_free(ds);
}

static void ials_check(int cg_steps, double tol)
{
    /* After the last sweep the item factors solve their exact equations
     * (U^T C_i U + reg I) V_i = U^T C_i p_i given the final U. */
    duet_rec_dataset *ds = load_tiny(0);
    REQUIRE(ds);
    duet_rec_params p = {0};
    p.weighting = 1;
    p.dim = 4;
    p.epochs = 5;
    p.reg = 0.5f;
    p.alpha = 3.0f;
    p.k = cg_steps;
    duet_rec_fit_ctx ctx = {0};
    ctx.train = &ds->ui;
    ctx.seed = 3;
    void *st = NULL;
    REQUIRE(duet_rec_ials_fit(&ctx, &p, &st, NULL) == DUET_OK);
    const duet_rec_factors *f = st;
    double worst = 0;
    for (int32_t i = 0; i < 12; i++) {
        double A[4][4] = {{0}}, b[4] = {0};
        for (int32_t u = 0; u < 10; u++) {
            double x = 0;
            int has = 0;
            for (int64_t q = ds->ui.indptr[u]; q < ds->ui.indptr[u + 1]; q++)
                if (ds->ui.indices[q] == i) {
                    has = 1;
                    x = log1p(ds->ui.values[q]);
                }
            double c = has ? 1 + p.alpha * x : 1;
            const float *uu = f->U + u * 4;
            for (int a = 0; a < 4; a++) {
                for (int bb = 0; bb < 4; bb++) A[a][bb] += c * uu[a] * uu[bb];
                if (has) b[a] += c * uu[a];
            }
        }
        for (int a = 0; a < 4; a++) {
            double r = -b[a] + p.reg * f->V[i * 4 + a];
            for (int bb = 0; bb < 4; bb++) r += A[a][bb] * f->V[i * 4 + bb];
            if (fabs(r) > worst) worst = fabs(r);
        }
    }
    CHECK_MSG(worst < tol, "residual %.3g", worst);
    fprintf(stderr, "# ials (%s) normal-equation residual %.2e\n", cg_steps ? "CG, dim steps" : "Cholesky", worst);
    /* the sgemm scorer equals the plain dot product */
    int32_t users[3] = {7, 0, 4};
    float S[36];
    REQUIRE(duet_rec_factors_score(st, &ds->ui, users, 3, S, NULL) == DUET_OK);
    double sd = 0;
    for (int b = 0; b < 3; b++)
        for (int i = 0; i < 12; i++) {
            double d = 0;
            for (int a = 0; a < 4; a++) d += (double)f->U[users[b] * 4 + a] * f->V[i * 4 + a];
            if (fabs(d - S[b * 12 + i]) > sd) sd = fabs(d - S[b * 12 + i]);
        }
    CHECK(sd < 1e-5);
    duet_rec_factors_free(st);
    duet_rec_dataset_free(ds);
}

static void test_ials_normal_equations(void)
{
    ials_check(0, 1e-4); /* exact Cholesky */
    ials_check(4, 1e-3); /* CG converges in dim steps (up to rounding) */
}

static void test_bpr_learns_clusters(void)
{
    /* Trained on everything, BPR ranks a user's own items above the items of
     * the other cluster (AUC over (positive, negative) pairs > 0.9), and the
     * same seed gives the same factors. */
    duet_rec_dataset *ds = load_tiny(0);
    REQUIRE(ds);
    duet_rec_params p = {0};
    p.dim = 8;
    p.epochs = 200;
    p.lr = 0.05f;
    p.reg = 0.01f;
    duet_rec_fit_ctx ctx = {0};
    ctx.train = &ds->ui;
    ctx.seed = 11;
    void *a = NULL, *b = NULL;
    REQUIRE(duet_rec_bpr_fit(&ctx, &p, &a, NULL) == DUET_OK);
    REQUIRE(duet_rec_bpr_fit(&ctx, &p, &b, NULL) == DUET_OK);
    const duet_rec_factors *fa = a, *fb = b;
    CHECK(memcmp(fa->V, fb->V, 12 * 8 * sizeof(float)) == 0);
    int32_t users[10];
    for (int u = 0; u < 10; u++) users[u] = u;
    float S[120];
    REQUIRE(duet_rec_factors_score(a, &ds->ui, users, 10, S, NULL) == DUET_OK);
    long good = 0, all = 0;
    for (int u = 0; u < 10; u++)
        for (int i = 0; i < 12; i++)
            for (int j = 0; j < 12; j++)
                if (duet_rec_csr_has(&ds->ui, u, i) && !duet_rec_csr_has(&ds->ui, u, j)) {
                    good += S[u * 12 + i] > S[u * 12 + j];
                    all++;
                }
    CHECK_MSG((double)good / all > 0.9, "AUC %.3f", (double)good / all);
    fprintf(stderr, "# bpr training AUC %.3f\n", (double)good / all);
    duet_rec_factors_free(a);
    duet_rec_factors_free(b);
    duet_rec_dataset_free(ds);
}

/* A model whose score is -item index: the ranking is 0, 1, 2, ... */
static duet_status fixed_fit(const duet_rec_fit_ctx *c, const duet_rec_params *p, void **s, duet_err *e)
{
    (void)c;
    (void)p;
    (void)e;
    *s = malloc(1);
    return DUET_OK;
}
static duet_status fixed_score(const void *s, const duet_rec_csr *tr, const int32_t *users, int32_t n, float *out,
                               duet_err *e)
{
    (void)s;
    (void)users;
    (void)e;
    for (int32_t b = 0; b < n; b++)
        for (int32_t i = 0; i < tr->n_cols; i++) out[b * tr->n_cols + i] = (float)-i;
    return DUET_OK;
}

static void make_csr(duet_rec_csr *m, int nr, int nc, const int *pairs, int np)
{
    duet_rec_triple t[32];
    for (int k = 0; k < np; k++) t[k] = (duet_rec_triple){pairs[2 * k], pairs[2 * k + 1], 1.0f, k + 1};
    duet_status st = duet_rec_csr_from_triples(m, nr, nc, t, np, 0, "test", NULL);
    CHECK(st == DUET_OK);
}

static void test_eval_split_masks_training_items(void)
{
    static const duet_rec_params g = {0};
    /* scores_cold = 1: its ranking covers items without training rows (2, 4, 5) */
    duet_rec_model_def m = {"fixed", "", fixed_fit, fixed_score, free, &g, 1, 0, 1};
    duet_rec_csr tr, te;
    /* user 0 trained on items 0, 1; test items 2 and 5. Ranking after masking:
     * 2, 3, 4, 5, ... -> K=2: hits {2}: P 1/2, R 1/2, AP (1/1)/2 = 0.5.
     * user 1 trained on 3; test 0 -> rank 1: P@2 1/2, R 1, AP 1, NDCG 1.
     * user 2 has no training row: not evaluated. */
    const int trp[] = {0, 0, 0, 1, 1, 3}, tep[] = {0, 2, 0, 5, 1, 0, 2, 4};
    make_csr(&tr, 3, 8, trp, 3);
    make_csr(&te, 3, 8, tep, 4);
    duet_rec_metric_acc acc;
    int ks[] = {2, 4};
    duet_rec_acc_init(&acc, ks, 2);
    void *s = NULL;
    REQUIRE(m.fit(NULL, &g, &s, NULL) == DUET_OK);
    REQUIRE(duet_rec_eval_split(&m, s, &tr, &te, NULL, NULL, 2, &acc, NULL) == DUET_OK);
    CHECK(acc.n_users == 2);
    CHECK_NEAR(duet_rec_acc_mean(&acc, 0, REC_PREC), 0.5, 1e-12);
    CHECK_NEAR(duet_rec_acc_mean(&acc, 0, REC_RECALL), (0.5 + 1) / 2, 1e-12);
    CHECK_NEAR(duet_rec_acc_mean(&acc, 0, REC_MAP), (0.5 + 1) / 2, 1e-12);
    /* K=4 for user 0: ranked 2 3 4 5 -> hits at 1 and 4: AP = (1 + 2/4)/2 */
    CHECK_NEAR(acc.sum[1][REC_MAP], (1 + 0.5) / 2 + 1, 1e-12);
    /* candidates restricted to items {4, 5}: user 0 ranks 4, 5 -> hit at 2 */
    uint8_t cand[8] = {0, 0, 0, 0, 1, 1, 0, 0};
    duet_rec_acc_init(&acc, ks, 2);
    REQUIRE(duet_rec_eval_split(&m, s, &tr, &te, cand, NULL, 64, &acc, NULL) == DUET_OK);
    CHECK(acc.n_users == 1); /* user 1's test item 0 is not a candidate */
    CHECK_NEAR(duet_rec_acc_mean(&acc, 0, REC_RECALL), 1.0, 1e-12);
    CHECK_NEAR(duet_rec_acc_mean(&acc, 0, REC_NDCG), (1 / log2(3.0)) / 1.0, 1e-12);
    /* top-k recommendation excludes training items */
    int32_t users[2] = {0, 1}, out[6];
    REQUIRE(duet_rec_recommend(&m, s, &tr, users, 2, 3, 1, out, NULL) == DUET_OK);
    CHECK(out[0] == 2 && out[1] == 3 && out[2] == 4);
    CHECK(out[3] == 0 && out[4] == 1 && out[5] == 2);
    free(s);
    duet_rec_csr_free(&tr);
    duet_rec_csr_free(&te);
}

static void test_protocols_run_and_repeat(void)
{
    duet_rec_dataset *ds = load_tiny(1);
    REQUIRE(ds);
    duet_rec_eval_opts o;
    duet_rec_eval_opts_default(&o);
    o.n_seeds = 2;
    o.progress = -1;
    duet_rec_side side = {&ds->item_attr, ds->item_feats, ds->has_feats, ds->n_feats, NULL, NULL, NULL, NULL};
    const char *names[] = {"popularity", "item-knn", "ease", "content", "bpr-mf"};
    for (int n = 0; n < 5; n++) {
        const duet_rec_model_def *m = duet_rec_model_find(names[n]);
        duet_rec_eval_result r1, r2;
        duet_err err = {0};
        REQUIRE(duet_rec_eval_full(m, &ds->ui, &side, 0, &o, &r1, &err) == DUET_OK);
        REQUIRE(duet_rec_eval_full(m, &ds->ui, &side, 0, &o, &r2, &err) == DUET_OK);
        CHECK(r1.n_runs == 2 && r1.n_users == 10);
        for (int k = 0; k < r1.n_k; k++) /* seeded: identical reruns (up to summation order) */
            for (int q = 0; q < REC_N_METRICS; q++) CHECK_NEAR(r1.mean[k][q], r2.mean[k][q], 1e-12);
        for (int k = 0; k < r1.n_k; k++)
            for (int q = 0; q < REC_N_METRICS; q++) CHECK(r1.mean[k][q] >= 0 && r1.mean[k][q] <= 1);
        CHECK(r1.chosen[0] != '\0');
        o.cold_frac = 0.25;
        REQUIRE(duet_rec_eval_full(m, &ds->ui, &side, 1, &o, &r1, &err) == DUET_OK);
        CHECK(r1.n_users > 0);
        o.cold_frac = 0.1;
    }
    /* a model entry without a fit function is refused */
    duet_rec_eval_result r;
    duet_err err = {0};
    duet_rec_model_def unbuilt = *duet_rec_model_find("popularity");
    unbuilt.fit = NULL;
    CHECK(duet_rec_eval_full(&unbuilt, &ds->ui, &side, 0, &o, &r, &err) == DUET_ERR_UNSUPPORTED);
    duet_rec_dataset_free(ds);

    duet_rec_ncf *d = NULL;
    REQUIRE(duet_rec_load_ncf(FIXTURE("rec/tiny_ncf"), &d, &err) == DUET_OK);
    REQUIRE(duet_rec_eval_sampled(duet_rec_model_find("item-knn"), d, &o, &r, &err) == DUET_OK);
    CHECK(r.n_users == 10);
    /* 6 candidates per user: HR@5 < 1 unless perfect, HR@10 = 1 always */
    CHECK_NEAR(r.mean[1][REC_HR], 1.0, 1e-12);
    CHECK(r.mean[0][REC_HR] > 0 && r.mean[0][REC_HR] <= 1);
    duet_rec_ncf_free(d);
}

int main(void)
{
    RUN(test_knn_golden);
    RUN(test_ease_golden);
    RUN(test_content_golden);
    RUN(test_knn_keeps_k_neighbours);
    RUN(test_popularity);
    RUN(test_ials_normal_equations);
    RUN(test_bpr_learns_clusters);
    RUN(test_eval_split_masks_training_items);
    RUN(test_protocols_run_and_repeat);
    return check_summary();
}
