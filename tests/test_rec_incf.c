/* tests/test_rec_incf.c: the improved NCF (recommender/incf.h) on the toy
 * data set of fixtures/gen_rec_incf.py: finite-difference gradients of every
 * variant (BCE and BPR), it learns (beats popularity on held-out items),
 * fold-in ranks a planted item, save/load round-trips scores exactly,
 * bad input fails cleanly. */
#include <math.h>
#include <unistd.h>

#include "check.h"
#include "../recommender/metrics.h"
#include "../common/status.h"
#include "../recommender/data.h"
#include "../recommender/eval.h"
#include "../recommender/incf.h"
#include "../recommender/model.h"
#include "../recommender/split.h"

static duet_rec_dataset *ds;
static duet_rec_side side;

static int load_toy(void)
{
    duet_err e = {0};
    if (duet_rec_load_interactions_tsv(FIXTURE("rec/incf_toy.tsv"), &ds, &e)) return -1;
    if (duet_rec_load_item_attrs_tsv(ds, FIXTURE("rec/incf_toy_attrs.tsv"), &e)) return -1;
    if (duet_rec_load_item_features_tsv(ds, FIXTURE("rec/incf_toy_features.tsv"), 0, 1, &e)) return -1;
    memset(&side, 0, sizeof side);
    side.item_attr = &ds->item_attr;
    side.item_feats = ds->item_feats;
    side.has_feats = ds->has_feats;
    side.n_feats = ds->n_feats;
    side.item_names = (const char *const *)ds->item_ids; /* ids double as names: "a000" */
    side.tokens = (const char *const *)ds->tokens;
    return 0;
}

/* The training matrix without the "zcold" user (its items become cold). */
static void train_matrix(duet_rec_csr *out)
{
    int32_t zc = duet_rec_dataset_find_user(ds, "zcold");
    REQUIRE(duet_rec_csr_copy(&ds->ui, out, NULL) == DUET_OK);
    int64_t lo = out->indptr[zc], hi = out->indptr[zc + 1], gone = hi - lo;
    memmove(out->indices + lo, out->indices + hi, (size_t)(out->nnz - hi) * sizeof(int32_t));
    memmove(out->values + lo, out->values + hi, (size_t)(out->nnz - hi) * sizeof(float));
    for (int32_t u = zc + 1; u <= out->n_rows; u++) out->indptr[u] -= gone;
    out->nnz -= gone;
}

static duet_rec_incf *train_variant(const duet_rec_csr *tr, const duet_rec_csr *va, int variant, int loss, int epochs)
{
    duet_rec_fit_ctx ctx = {0};
    ctx.train = tr;
    ctx.valid = va;
    ctx.side = side;
    ctx.seed = 7;
    ctx.progress = -1;
    duet_rec_incf_config c;
    duet_rec_incf_config_default(&c);
    c.variant = variant;
    c.dim = 8;
    c.wdim = 8;
    c.loss = loss;
    c.max_epochs = epochs;
    c.lr = 0.01f;
    c.patience = 10;
    c.w2v_epochs = 5;
    duet_rec_incf *m = NULL;
    duet_err e = {0};
    duet_status st = duet_rec_incf_train(&ctx, &c, NULL, &m, &e);
    CHECK_MSG(st == DUET_OK, "%s", e.msg);
    return m;
}

static void test_gradients(void)
{
    duet_rec_csr tr = {0};
    train_matrix(&tr);
    duet_rng r;
    duet_rng_seed(&r, 3);
    for (int variant = 0; variant <= REC_INCF_NO_CONTENT; variant++)
        for (int loss = 0; loss < 2; loss++) {
            duet_rec_incf *m = train_variant(&tr, NULL, variant, loss, 1);
            REQUIRE(m);
            /* a batch of 3 groups of (1 positive + 4 negatives) */
            int B = 15;
            int32_t u[15], it[15];
            float y[15];
            for (int k = 0; k < B; k++) {
                u[k] = (int32_t)(k / 5 * 7 % tr.n_rows);
                it[k] = (int32_t)duet_rng_below(&r, (uint64_t)tr.n_cols);
                y[k] = k % 5 == 0;
            }
            /* move the weights off the small-weight start, where many hidden
             * units sit next to their ReLU kink */
            for (int t = 0; t < duet_rec_incf_n_params(m); t++) {
                size_t n;
                float *w = duet_rec_incf_param_data(m, t, &n);
                for (size_t i = 0; i < n; i++) w[i] += 0.2f * (duet_rng_uniform(&r) - 0.5f);
            }
            duet_rec_incf_batch_loss(m, u, it, y, B, 1);
            int n_checked = 0, n_bad = 0;
            for (int t = 0; t < duet_rec_incf_n_params(m); t++) {
                size_t n;
                float *w = duet_rec_incf_param_data(m, t, &n), *g = duet_rec_incf_param_grad(m, t);
                const char *name = duet_rec_incf_param_name(m, t);
                if (!strcmp(name, "tok") && variant != REC_INCF_NO_W2V) continue; /* frozen word2vec */
                /* gradient rows are sparse for tables: test touched and random entries */
                for (int q = 0; q < 12; q++) {
                    size_t i = (size_t)duet_rng_below(&r, (uint64_t)n);
                    if (q < 6 && (!strcmp(name, "user.id") || !strcmp(name, "item.id") || !strcmp(name, "tok"))) {
                        /* find a touched entry */
                        for (size_t s = 0; s < n; s++) {
                            size_t j = (i + s) % n;
                            if (g[j] != 0) {
                                i = j;
                                break;
                            }
                        }
                    }
                    /* central differences at three step sizes: a ReLU kink inside a
                     * step (e.g. a hidden unit whose input is all zero sits at its
                     * bias, which is near 0) shows as a disagreement there only */
                    int ok = 0;
                    double fd = 0;
                    for (int hs = 0; hs < 3 && !ok; hs++) {
                        float keep = w[i], h = (hs == 0 ? 2e-3f : hs == 1 ? 5e-4f : 1e-4f) * (fabsf(keep) > 1 ? fabsf(keep) : 1);
                        w[i] = keep + h;
                        double lp = duet_rec_incf_batch_loss(m, u, it, y, B, 0);
                        w[i] = keep - h;
                        double lm = duet_rec_incf_batch_loss(m, u, it, y, B, 0);
                        w[i] = keep;
                        fd = (lp - lm) / (2.0 * (double)h);
                        ok = fabs(fd - g[i]) <= 1e-3 + 2e-2 * fabs(fd);
                    }
                    n_checked++;
                    if (!ok) {
                        n_bad++;
                        fprintf(stderr, "  # variant %d loss %d %s[%zu]: analytic %.6g numeric %.6g\n", variant, loss,
                                name, i, (double)g[i], fd);
                    }
                }
            }
            /* ReLU kinks can make a rare central difference disagree */
            CHECK_MSG(n_bad * 50 <= n_checked, "variant %d loss %d: %d of %d gradient entries off", variant, loss,
                      n_bad, n_checked);
            duet_rec_incf_free(m);
        }
    duet_rec_csr_free(&tr);
}

static void test_learns(void)
{
    const duet_rec_model_def *tab = duet_rec_model_find("improved-ncf-deep"), *pop = duet_rec_model_find("popularity");
    REQUIRE(tab && pop && tab->fit);
    /* the table's model with a configuration for a data set this small
     * (more epochs: a toy epoch is a handful of batches) */
    static const duet_rec_params toy_grid[] = {{0, 4, 16, 40, 1e-2f, 8, 0.2f, 0, 0}}; /* reg = patience */
    duet_rec_model_def incd = *tab;
    incd.grid = toy_grid;
    incd.n_grid = 1;
    const duet_rec_model_def *inc = &incd;
    duet_rec_eval_opts o;
    duet_rec_eval_opts_default(&o);
    o.n_seeds = 1;
    o.progress = -1;
    duet_rec_eval_result ri, rp;
    duet_err e = {0};
    REQUIRE(duet_rec_eval_full(pop, &ds->ui, &side, 0, &o, &rp, &e) == DUET_OK);
    duet_status st = duet_rec_eval_full(inc, &ds->ui, &side, 0, &o, &ri, &e);
    CHECK_MSG(st == DUET_OK, "%s", e.msg);
    int k10 = 1; /* ks 5, 10, 20 */
    fprintf(stderr, "  # toy NDCG@10: improved-ncf %.4f, popularity %.4f\n", ri.mean[k10][REC_NDCG],
            rp.mean[k10][REC_NDCG]);
    CHECK(ri.mean[k10][REC_NDCG] > rp.mean[k10][REC_NDCG] + 0.02);
    /* the ablations run too */
    const char *abl[] = {"improved-ncf-deep-no-w2v", "improved-ncf-deep-no-outer", "improved-ncf-deep-no-group",
                         "improved-ncf-deep-no-content"};
    for (int k = 0; k < 4; k++) {
        duet_rec_model_def md = *duet_rec_model_find(abl[k]);
        md.grid = toy_grid;
        const duet_rec_model_def *m = &md;
        REQUIRE(m->fit);
        duet_rec_eval_result r;
        CHECK(duet_rec_eval_full(m, &ds->ui, &side, 0, &o, &r, &e) == DUET_OK);
        CHECK(r.mean[k10][REC_NDCG] > 0);
    }
    /* cold start: runs and ranks held-out items from content */
    duet_rec_eval_result rc;
    CHECK(duet_rec_eval_full(inc, &ds->ui, &side, 1, &o, &rc, &e) == DUET_OK);
}

static int genre_of(int32_t i) { return atoi(ds->item_ids[i] + 1) / 20; }

static void test_fold_in_and_save(void)
{
    duet_rec_csr tr = {0};
    train_matrix(&tr);
    duet_rec_incf *m = train_variant(&tr, NULL, REC_INCF_FULL, 0, 40);
    REQUIRE(m);
    const char *hist_ids[] = {"a041", "a042", "a043"};
    int32_t hist[3];
    for (int k = 0; k < 3; k++) hist[k] = duet_rec_dataset_find_item(ds, hist_ids[k]);
    int R = duet_rec_incf_user_rep_len(m);
    int32_t ni = duet_rec_incf_n_items(m);
    float *rep = malloc((size_t)R * sizeof *rep), *sc = malloc((size_t)ni * sizeof *sc);
    REQUIRE(rep && sc);
    REQUIRE(duet_rec_incf_fold_in(m, hist, 3, 1, rep, NULL) == DUET_OK);
    REQUIRE(duet_rec_incf_score_rep(m, rep, sc, NULL) == DUET_OK);
    for (int k = 0; k < 3; k++) sc[hist[k]] = -INFINITY;
    int32_t top[5];
    int got = duet_rec_topk(sc, ni, NULL, 5, top);
    int32_t planted = duet_rec_dataset_find_item(ds, "a040");
    int in_top = 0, same = 0;
    for (int k = 0; k < got; k++) {
        in_top |= top[k] == planted;
        same += genre_of(top[k]) == 2;
    }
    CHECK_MSG(in_top, "the planted item a040 is not in the fold-in top 5");
    CHECK_MSG(same >= 3, "%d of the fold-in top 5 are of the history's genre", same);
    /* cold items (a076..a079, genre 3, no training interaction) rank from content */
    const char *h3[] = {"a060", "a061", "a062"};
    for (int k = 0; k < 3; k++) hist[k] = duet_rec_dataset_find_item(ds, h3[k]);
    REQUIRE(duet_rec_incf_fold_in(m, hist, 3, 1, rep, NULL) == DUET_OK);
    REQUIRE(duet_rec_incf_score_rep(m, rep, sc, NULL) == DUET_OK);
    double cold3 = 0, warm0 = 0;
    int nc = 0, nw = 0;
    for (int32_t i = 0; i < ni; i++) {
        int idn = atoi(ds->item_ids[i] + 1);
        if (idn >= 76) cold3 += sc[i], nc++;
        else if (genre_of(i) == 0) warm0 += sc[i], nw++;
    }
    REQUIRE(nc == 4 && nw > 0);
    CHECK_MSG(cold3 / nc > warm0 / nw, "cold genre-3 items %.3f vs warm genre-0 items %.3f", cold3 / nc, warm0 / nw);

    /* save / load: identical scores, ids and fold-in */
    char path[] = "/tmp/duet_incf_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    duet_err e = {0};
    REQUIRE(duet_rec_incf_save(m, path, (const char *const *)ds->user_ids, (const char *const *)ds->item_ids, NULL,
                               &e) == DUET_OK);
    duet_rec_incf *l = NULL;
    CHECK_MSG(duet_rec_incf_load(path, &l, &e) == DUET_OK, "%s", e.msg);
    REQUIRE(l);
    int32_t nu = duet_rec_incf_n_users(m);
    float *a = malloc((size_t)nu * ni * sizeof *a), *b = malloc((size_t)nu * ni * sizeof *b);
    int32_t *us = malloc((size_t)nu * sizeof *us);
    REQUIRE(a && b && us);
    for (int32_t u = 0; u < nu; u++) us[u] = u;
    REQUIRE(duet_rec_incf_score(m, us, nu, a, NULL) == DUET_OK);
    REQUIRE(duet_rec_incf_score(l, us, nu, b, NULL) == DUET_OK);
    CHECK(memcmp(a, b, (size_t)nu * ni * sizeof *a) == 0);
    CHECK(!strcmp(duet_rec_incf_user_id(l, 3), ds->user_ids[3]));
    CHECK(duet_rec_incf_find_item(l, "a040") == planted);
    CHECK(duet_rec_incf_item_name(l, 0) == NULL);
    float *rep2 = malloc((size_t)R * sizeof *rep2);
    REQUIRE(rep2);
    REQUIRE(duet_rec_incf_fold_in(m, hist, 3, 1, rep, NULL) == DUET_OK);
    REQUIRE(duet_rec_incf_fold_in(l, hist, 3, 1, rep2, NULL) == DUET_OK);
    CHECK(memcmp(rep, rep2, (size_t)R * sizeof *rep) == 0);
    int32_t s1[5], s2[5];
    float v1[5], v2[5];
    CHECK(duet_rec_incf_similar(m, planted, 5, s1, v1) == 5);
    CHECK(duet_rec_incf_similar(l, planted, 5, s2, v2) == 5);
    CHECK(memcmp(s1, s2, sizeof s1) == 0);
    int same_sim = 0;
    for (int k = 0; k < 5; k++) same_sim += genre_of(s1[k]) == 2;
    CHECK(same_sim >= 3);
    /* bad input */
    CHECK(duet_rec_incf_fold_in(m, (int32_t[]){ni}, 1, 1, rep, &e) == DUET_ERR_ARG);
    CHECK(duet_rec_incf_fold_in(m, hist, 0, 1, rep, &e) == DUET_ERR_ARG);
    CHECK(duet_rec_incf_score(m, (int32_t[]){nu}, 1, a, &e) == DUET_ERR_ARG);
    CHECK(duet_rec_incf_similar(m, -1, 5, s1, v1) == -1);
    duet_rec_incf_free(l);
    l = NULL;
    CHECK(duet_rec_incf_load("/nonexistent/model.safetensors", &l, &e) == DUET_ERR_IO && !l);
    FILE *f = fopen(path, "wb");
    REQUIRE(f);
    fputs("not a model", f);
    fclose(f);
    CHECK(duet_rec_incf_load(path, &l, &e) != DUET_OK && !l);
    CHECK(duet_rec_incf_load(FIXTURE("nn/golden.safetensors"), &l, &e) == DUET_ERR_FORMAT && !l);
    remove(path);
    free(a);
    free(b);
    free(us);
    free(rep);
    free(rep2);
    free(sc);
    duet_rec_incf_free(m);
    duet_rec_csr_free(&tr);
}

static void test_bad_config(void)
{
    duet_rec_fit_ctx ctx = {0};
    ctx.train = &ds->ui;
    ctx.progress = -1;
    duet_rec_incf_config c;
    duet_rec_incf *m = NULL;
    duet_err e = {0};
    duet_rec_incf_config_default(&c);
    c.dim = 2;
    CHECK(duet_rec_incf_train(&ctx, &c, NULL, &m, &e) == DUET_ERR_ARG && !m);
    duet_rec_incf_config_default(&c);
    c.id_dropout = 1.0f;
    CHECK(duet_rec_incf_train(&ctx, &c, NULL, &m, &e) == DUET_ERR_ARG && !m);
    duet_rec_incf_config_default(&c);
    c.variant = 9;
    CHECK(duet_rec_incf_train(&ctx, &c, NULL, &m, &e) == DUET_ERR_ARG && !m);
    duet_rec_csr empty = {0};
    int64_t ptr[2] = {0, 0};
    empty.n_rows = 1;
    empty.n_cols = 3;
    empty.indptr = ptr;
    duet_rec_incf_config_default(&c);
    ctx.train = &empty;
    CHECK(duet_rec_incf_train(&ctx, &c, NULL, &m, &e) == DUET_ERR_EMPTY && !m);
    /* a checkpoint of another configuration is refused */
    ctx.train = &ds->ui;
    ctx.side = side;
    char path[] = "/tmp/duet_incf_ck_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    c.dim = 8;
    c.wdim = 8;
    c.max_epochs = 1;
    duet_rec_incf_train_opts t = {path, NULL};
    REQUIRE(duet_rec_incf_train(&ctx, &c, &t, &m, &e) == DUET_OK);
    duet_rec_incf_free(m);
    m = NULL;
    c.negatives = 3;
    duet_rec_incf_train_opts t2 = {NULL, path};
    CHECK(duet_rec_incf_train(&ctx, &c, &t2, &m, &e) == DUET_ERR_FORMAT && !m);
    CHECK(strstr(e.msg, "another configuration") != NULL);
    remove(path);
}

/* Weight decay: same seed and data, the decayed run ends with smaller id
 * embeddings and different scores, and its description records it; wd = 0
 * leaves the description as before (old model files still match). */
static double table_norm(duet_rec_incf *m, const char *name)
{
    for (int t = 0; t < duet_rec_incf_n_params(m); t++)
        if (!strcmp(duet_rec_incf_param_name(m, t), name)) {
            size_t n = 0;
            const float *x = duet_rec_incf_param_data(m, t, &n);
            double s = 0;
            for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
            return sqrt(s);
        }
    return -1;
}

static void test_weight_decay(void)
{
    duet_rec_fit_ctx ctx = {0};
    ctx.train = &ds->ui;
    ctx.side = side;
    ctx.seed = 3;
    ctx.progress = -1;
    duet_rec_incf_config c;
    duet_rec_incf_config_default(&c);
    c.dim = 8;
    c.wdim = 8;
    c.max_epochs = 4;
    c.patience = 10;
    c.w2v_epochs = 2;
    duet_rec_incf *a = NULL, *b = NULL;
    duet_err e = {0};
    REQUIRE(duet_rec_incf_train(&ctx, &c, NULL, &a, &e) == DUET_OK);
    c.weight_decay = 20.0f;
    REQUIRE(duet_rec_incf_train(&ctx, &c, NULL, &b, &e) == DUET_OK);
    CHECK(strstr(duet_rec_incf_describe(a), "wd=") == NULL);
    CHECK(strstr(duet_rec_incf_describe(b), " wd=20") != NULL);
    const char *tabs[] = {"user.id", "item.id"};
    int found = 0, halved = 0;
    for (int k = 0; k < 2; k++) {
        double na = table_norm(a, tabs[k]), nb = table_norm(b, tabs[k]);
        if (na < 0 || nb < 0) continue;
        found++;
        fprintf(stderr, "  # |%s|: no decay %.4f, wd 20 %.4f\n", tabs[k], na, nb);
        CHECK(nb < na);
        halved += nb < 0.5 * na;
    }
    CHECK(found == 2 && halved >= 1);
    duet_rec_incf_free(a);
    duet_rec_incf_free(b);
    b = NULL;
    c.weight_decay = -1.0f;
    CHECK(duet_rec_incf_train(&ctx, &c, NULL, &b, &e) == DUET_ERR_ARG && !b);
}

/* eval-rec's table configuration (model.c's grid_incf, also the base of
 * --incf) is the library default that train-rec uses (duet_rec_incf_config_default):
 * one configuration, written twice only because a static table cannot call a
 * function. */
static void test_table_matches_default(void)
{
    duet_rec_incf_config d;
    duet_rec_incf_config_default(&d);
    const char *names[] = {"improved-ncf-deep", "improved-ncf-deep-no-w2v", "improved-ncf-deep-no-outer", "improved-ncf-deep-no-group"};
    for (int v = 0; v < 4; v++) {
        const duet_rec_model_def *m = duet_rec_model_find(names[v]);
        REQUIRE(m && m->n_grid == 1);
        const duet_rec_params *p = &m->grid[0];
        CHECK(p->weighting == d.loss && p->k == d.negatives && p->dim == d.dim && p->epochs == d.max_epochs);
        CHECK(p->lr == d.lr && p->alpha == d.id_dropout && (p->shrink > 0) == d.refit && p->decay == d.weight_decay);
        CHECK(p->reg < 1 || (int)p->reg == d.patience);
    }
}

int main(void)
{
    if (load_toy() != 0) {
        fprintf(stderr, "cannot load the toy fixtures\n");
        return 1;
    }
    RUN(test_gradients);
    RUN(test_learns);
    RUN(test_fold_in_and_save);
    RUN(test_bad_config);
    RUN(test_weight_decay);
    RUN(test_table_matches_default);
    duet_rec_dataset_free(ds);
    return check_summary();
}
