/* tests/test_rec_cold.c: users and items that appear only in the test files
 * of an NCF-format split (fixtures/rec/cold_ncf.*, written by
 * fixtures/gen_rec_cold_ncf.sh): the loader indexes the union of the files
 * and counts the cold ones, models without attributes give cold items
 * REC_COLD_SCORE (ranked after every warm item, among themselves by the
 * seeded tie-break), every model of the table runs the 1+N protocol on such
 * data, and `duet eval-rec` / `duet train-rec` say how many are cold in one
 * stderr line. Needs DUET for the CLI part (`make check` sets it). */
#include "check.h"

#include <sys/wait.h>
#include <unistd.h>

#include "../recommender/data.h"
#include "../recommender/eval.h"
#include "../recommender/model.h"

static char tmpdir[64];
static char err_buf[8192], out_buf[65536];

static void test_load_union(void)
{
    duet_rec_ncf *d = NULL;
    duet_err err = {0};
    REQUIRE(duet_rec_load_ncf(FIXTURE("rec/cold_ncf"), &d, &err) == DUET_OK);
    CHECK(d->n_users == 21 && d->n_items == 30 && d->n_neg == 5);
    CHECK_MSG(d->n_cold_items == 4 && d->n_cold_users == 1, "cold items %d users %d", d->n_cold_items,
              d->n_cold_users);
    CHECK(d->test_item[0] == 26 && d->test_item[10] == 27 && d->test_item[20] == 3);
    CHECK(d->train.n_cols == 30 && d->train.indptr[21] == d->train.indptr[20]); /* user 20: no training row */
    int col26 = 0;
    for (int64_t q = 0; q < d->train.nnz; q++) col26 += d->train.indices[q] >= 26;
    CHECK(col26 == 0);
    duet_rec_ncf_free(d);
}

/* Cold items of a collaborative model: REC_COLD_SCORE, below every warm item. */
static void test_cold_score_constant(void)
{
    duet_rec_ncf *d = NULL;
    duet_err err = {0};
    REQUIRE(duet_rec_load_ncf(FIXTURE("rec/cold_ncf"), &d, &err) == DUET_OK);
    const char *names[] = {"popularity", "item-knn", "user-knn", "bpr-mf", "ials", "ease", "neumf"};
    float *s = malloc(30 * sizeof *s);
    REQUIRE(s);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        const duet_rec_model_def *m = duet_rec_model_find(names[k]);
        REQUIRE(m);
        duet_rec_fit_ctx ctx = {0};
        ctx.train = &d->train;
        ctx.seed = 3;
        ctx.progress = -1;
        void *state = NULL;
        REQUIRE(m->fit(&ctx, &m->grid[0], &state, &err) == DUET_OK);
        int32_t u = 1;
        CHECK(duet_rec_model_score(m, state, &d->train, &u, 1, s, &err) == DUET_OK);
        float lo_warm = INFINITY;
        for (int i = 0; i < 26; i++)
            if (s[i] < lo_warm) lo_warm = s[i];
        for (int i = 26; i < 30; i++) CHECK_MSG(s[i] == REC_COLD_SCORE, "%s item %d: %g", names[k], i, (double)s[i]);
        CHECK_MSG(lo_warm > REC_COLD_SCORE && isfinite(lo_warm), "%s: lowest warm score %g", names[k],
                  (double)lo_warm);
        int32_t top[30];
        CHECK(duet_rec_recommend(m, state, &d->train, &u, 1, 30, 8, top, &err) == DUET_OK);
        /* 30 items - 6 seen = 24 ranked; the 4 cold ones last */
        for (int j = 20; j < 24; j++) CHECK_MSG(top[j] >= 26, "%s: rank %d is item %d", names[k], j + 1, top[j]);
        m->free_state(state);
    }
    free(s);
    duet_rec_ncf_free(d);
}

/* Every model of the table under 1+N on data with cold test users and items. */
static void test_sampled_protocol_runs(void)
{
    duet_rec_ncf *d = NULL;
    duet_err err = {0};
    REQUIRE(duet_rec_load_ncf(FIXTURE("rec/cold_ncf"), &d, &err) == DUET_OK);
    int n;
    const duet_rec_model_def *t = duet_rec_models(&n);
    duet_rec_eval_opts o;
    duet_rec_eval_opts_default(&o);
    o.n_seeds = 1;
    o.no_tune = 1;
    o.progress = -1;
    for (int k = 0; k < n; k++) {
        if (t[k].uses_side) continue; /* content: needs attributes, NCF files have none */
        duet_rec_eval_result res;
        duet_status st = duet_rec_eval_sampled(&t[k], d, &o, &res, &err);
        CHECK_MSG(st == DUET_OK, "%s: %s", t[k].name, err.msg);
        if (st) continue;
        /* users 0 and 10 (cold test items) can never hit with a collaborative model: HR@10 over 20
         * evaluated users (user 20 has no history but is scored: 21) stays below 1 */
        CHECK_MSG(res.n_users >= 20, "%s: %lld users", t[k].name, (long long)res.n_users);
        CHECK(res.mean[1][REC_HR] >= 0 && res.mean[1][REC_HR] <= 1);
    }
    duet_rec_ncf_free(d);
}

static int run(const char *args)
{
    char cmd[4096], of[128], ef[128];
    snprintf(of, sizeof of, "%s/stdout", tmpdir);
    snprintf(ef, sizeof ef, "%s/stderr", tmpdir);
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 %s %s >%s 2>%s", getenv("DUET"), args, of,
             ef);
    int st = system(cmd);
    FILE *f = fopen(of, "r");
    size_t k = f ? fread(out_buf, 1, sizeof out_buf - 1, f) : 0;
    out_buf[k] = 0;
    if (f) fclose(f);
    f = fopen(ef, "r");
    k = f ? fread(err_buf, 1, sizeof err_buf - 1, f) : 0;
    err_buf[k] = 0;
    if (f) fclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli_reports_cold(void)
{
    if (!getenv("DUET")) {
        printf("# DUET not set: skipped\n");
        return;
    }
    CHECK_MSG(run("eval-rec --ncf fixtures/rec/cold_ncf --models popularity,item-knn --seeds 1") == 0, "%s", err_buf);
    CHECK_MSG(strstr(err_buf, "4 test items and 1 test users have no training interaction (cold)") != NULL, "%s",
              err_buf);
    CHECK(strstr(out_buf, "| item-knn |") != NULL);
    char args[512];
    snprintf(args, sizeof args, "train-rec --ncf fixtures/rec/cold_ncf --out %s/m.safetensors --epochs 2", tmpdir);
    CHECK_MSG(run(args) == 0, "%s", err_buf);
    CHECK(strstr(err_buf, "4 test items and 1 test users") != NULL);
    /* -q: no information line */
    CHECK(run("eval-rec -q --ncf fixtures/rec/cold_ncf --models popularity --seeds 1") == 0 && err_buf[0] == 0);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/duet_rec_cold_XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    RUN(test_load_union);
    RUN(test_cold_score_constant);
    RUN(test_sampled_protocol_runs);
    RUN(test_cli_reports_cold);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) return 1;
    return check_summary();
}
