/* tests/test_rec_serve.c: defaults that work, model files for every model,
 * and `duet recommend` by id or name.
 *
 *  - the two-cluster sanity set (40 users per cluster, 30 items per cluster,
 *    12 items per user, all in their own cluster; written here from a fixed
 *    LCG): `duet train-rec --interactions clusters.tsv --out m.safetensors`
 *    with no other option, then `duet recommend --user U` for every user:
 *    every top-10 is in the user's own cluster;
 *  - every model of the table: fitted, saved with duet_rec_served_save, loaded:
 *    the loaded model scores users exactly as the fitted one, a history can
 *    be scored (neumf: UNSUPPORTED), and user 0's top-10 is in its cluster
 *    (the quickly trained deep networks, bpr-mf's approximate fold-in and popularity aside);
 *  - `duet train-rec --model NAME` for the nine models of the eval table and
 *    `duet recommend` --user / --history / --similar on each file;
 *  - items by name: exact, then case-insensitive; ambiguous and unknown names
 *    are one error line listing the near names; --json parses; the header.
 * Needs DUET for the CLI parts (`make check` sets it). */
#include "check.h"
#include "json_check.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../recommender/data.h"
#include "../recommender/eval.h"
#include "../recommender/fused.h"
#include "../recommender/incf.h"
#include "../recommender/model.h"
#include "../recommender/serve.h"

static char tmpdir[64];
static char out_buf[65536], err_buf[8192];
static char clusters[128], attrs[128], hetrec[128];

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* clusters.tsv: users u00-u79, u00-u39 take 12 distinct items of a00-a29,
 * u40-u79 of b00-b29; attrs: item<TAB>cluster<TAB>a|b. */
static void write_clusters(void)
{
    snprintf(clusters, sizeof clusters, "%s/clusters.tsv", tmpdir);
    snprintf(attrs, sizeof attrs, "%s/cluster_attrs.tsv", tmpdir);
    FILE *f = fopen(clusters, "w"), *g = fopen(attrs, "w");
    if (!f || !g) return;
    uint32_t s = 12345;
    for (int u = 0; u < 80; u++) {
        int used[30] = {0}, n = 0;
        while (n < 12) {
            int i = (int)(lcg(&s) % 30);
            if (used[i]) continue;
            used[i] = 1;
            n++;
            fprintf(f, "u%02d\t%c%02d\t%u\n", u, u < 40 ? 'a' : 'b', i, 1 + lcg(&s) % 20);
        }
    }
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < 30; i++) fprintf(g, "%c%02d\tcluster\t%c\n", 'a' + c, i, 'a' + c);
    fclose(f);
    fclose(g);
}

/* A HetRec-format folder with names: cluster A artists 100-129 (100 is
 * "Britney Spears"), cluster B 200-229 (228 "Blue", 229 "blue"). */
static void write_hetrec(void)
{
    snprintf(hetrec, sizeof hetrec, "%s/hetrec", tmpdir);
    mkdir(hetrec, 0777);
    char p[256];
    snprintf(p, sizeof p, "%s/user_artists.dat", hetrec);
    FILE *f = fopen(p, "w");
    if (!f) return;
    fprintf(f, "userID\tartistID\tweight\n");
    uint32_t s = 777;
    for (int u = 0; u < 40; u++) {
        int used[30] = {0}, n = 0;
        while (n < 10) {
            int i = (int)(lcg(&s) % 30);
            if (used[i]) continue;
            used[i] = 1;
            n++;
            fprintf(f, "%d\t%d\t%u\n", 2 + u, (u < 20 ? 100 : 200) + i, 1 + lcg(&s) % 500);
        }
    }
    fclose(f);
    snprintf(p, sizeof p, "%s/artists.dat", hetrec);
    f = fopen(p, "w");
    if (!f) return;
    fprintf(f, "id\tname\turl\tpictureURL\n");
    for (int i = 0; i < 30; i++) {
        if (i == 0) fprintf(f, "100\tBritney Spears\thttp://x\t\n");
        else fprintf(f, "%d\tPop Singer %d\thttp://x\t\n", 100 + i, i);
    }
    for (int i = 0; i < 30; i++) {
        if (i == 28) fprintf(f, "228\tBlue\thttp://x\t\n");
        else if (i == 29) fprintf(f, "229\tblue\thttp://x\t\n");
        else fprintf(f, "%d\tMetal Band %d\thttp://x\t\n", 200 + i, i);
    }
    fclose(f);
    const char *rest[][2] = {{"tags.dat", "tagID\ttagValue\n1\tpop\n2\tmetal\n"},
                             {"user_taggedartists.dat", "userID\tartistID\ttagID\tday\tmonth\tyear\n2\t100\t1\t1\t4\t2009\n"
                                                        "30\t200\t2\t1\t4\t2009\n"},
                             {"user_friends.dat", "userID\tfriendID\n2\t3\n3\t2\n"}};
    for (int k = 0; k < 3; k++) {
        snprintf(p, sizeof p, "%s/%s", hetrec, rest[k][0]);
        f = fopen(p, "w");
        if (!f) return;
        fputs(rest[k][1], f);
        fclose(f);
    }
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
    size_t n = f ? fread(out_buf, 1, sizeof out_buf - 1, f) : 0;
    out_buf[n] = 0;
    if (f) fclose(f);
    f = fopen(ef, "r");
    n = f ? fread(err_buf, 1, sizeof err_buf - 1, f) : 0;
    err_buf[n] = 0;
    if (f) fclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* Items of a recommend table (after the header) whose id starts with c. */
static int count_prefix(const char *out, char c, int *rows)
{
    int n = 0, r = 0;
    const char *l = strchr(out, '\n');
    while (l && l[1]) {
        l++;
        const char *tab = strchr(l, '\t');
        if (!tab) break;
        r++;
        n += tab[1] == c;
        l = strchr(l, '\n');
    }
    *rows = r;
    return n;
}

static void test_defaults_two_clusters(void)
{
    if (!getenv("DUET")) return;
    char args[512], model[160];
    snprintf(model, sizeof model, "%s/m.safetensors", tmpdir);
    snprintf(args, sizeof args, "train-rec --interactions %s --out %s", clusters, model);
    CHECK_MSG(run(args) == 0, "%s", err_buf);
    int in = 0, users_ok = 0;
    for (int u = 0; u < 80; u++) {
        snprintf(args, sizeof args, "recommend --model %s --user u%02d", model, u);
        CHECK(run(args) == 0);
        CHECK(strncmp(out_buf, "rank\titem\tscore\tname\n", 21) == 0);
        int rows, n = count_prefix(out_buf, u < 40 ? 'a' : 'b', &rows);
        CHECK(rows == 10);
        in += n;
        users_ok += n == 10;
    }
    fprintf(stderr, "  # defaults on the two-cluster set: %d / 800 in-cluster, %d / 80 users all in-cluster\n", in,
            users_ok);
    CHECK_MSG(users_ok == 80, "%d of 80 users have an all-in-cluster top-10", users_ok);
    /* an a-item's neighbours are a-items */
    snprintf(args, sizeof args, "recommend --model %s --similar a03", model);
    int rows;
    CHECK(run(args) == 0 && count_prefix(out_buf, 'a', &rows) == 10 && rows == 10);
}

static void test_every_model_round_trip(void)
{
    duet_rec_dataset *ds = NULL;
    duet_err err = {0};
    REQUIRE(duet_rec_load_interactions_tsv(clusters, &ds, &err) == DUET_OK);
    REQUIRE(duet_rec_load_item_attrs_tsv(ds, attrs, &err) == DUET_OK);
    duet_rec_fit_ctx ctx = {0};
    ctx.train = &ds->ui;
    ctx.side.item_attr = &ds->item_attr;
    ctx.side.tokens = (const char *const *)ds->tokens;
    ctx.seed = 4;
    ctx.progress = -1;
    int n;
    const duet_rec_model_def *t = duet_rec_models(&n);
    int32_t ni = ds->n_items;
    float *a = malloc((size_t)ni * sizeof *a), *b = malloc((size_t)ni * sizeof *b);
    REQUIRE(a && b);
    char path[160];
    snprintf(path, sizeof path, "%s/rt.safetensors", tmpdir);
    for (int k = 0; k < n; k++) {
        const duet_rec_model_def *m = &t[k];
        duet_rec_params p = m->grid[0];
        if (!strncmp(m->name, "improved-ncf", 12)) p.epochs = 3; /* quick */
        void *state = NULL;
        duet_status st = m->fit(&ctx, &p, &state, &err);
        CHECK_MSG(st == DUET_OK, "%s: %s", m->name, err.msg);
        if (st) continue;
        st = duet_rec_served_save(path, m, &p, state, &ds->ui, (const char *const *)ds->user_ids,
                                  (const char *const *)ds->item_ids, NULL, &err);
        CHECK_MSG(st == DUET_OK, "%s: save: %s", m->name, err.msg);
        duet_rec_served *s = NULL;
        if (!st) st = duet_rec_served_load(path, &s, &err);
        CHECK_MSG(st == DUET_OK, "%s: load: %s", m->name, err.msg);
        if (!st) {
            CHECK(!strcmp(duet_rec_served_model(s)->name, m->name) && duet_rec_served_n_items(s) == ni);
            for (int32_t u = 0; u < 80; u += 17) {
                CHECK(duet_rec_model_score(m, state, &ds->ui, &u, 1, a, &err) == DUET_OK);
                for (int64_t q = ds->ui.indptr[u]; q < ds->ui.indptr[u + 1]; q++) a[ds->ui.indices[q]] = -INFINITY;
                CHECK(duet_rec_served_score_user(s, u, b, &err) == DUET_OK);
                CHECK_MSG(memcmp(a, b, (size_t)ni * sizeof *a) == 0, "%s: user %d scores differ after loading",
                          m->name, u);
            }
            int32_t top[10], u0 = 0,
                             h[3] = {duet_rec_dataset_find_item(ds, "a01"), duet_rec_dataset_find_item(ds, "a02"),
                                     duet_rec_dataset_find_item(ds, "a05")};
            duet_rec_served_score_user(s, u0, b, &err);
            int got = duet_rec_topk(b, ni, NULL, 10, top), in = 0;
            for (int j = 0; j < got; j++) in += ds->item_ids[top[j]][0] == 'a';
            /* quality where the quick configuration is a real fit: not popularity, not the deep
             * networks trained 3 epochs (improved-ncf-deep*, neumf's 10), not bpr-mf's approximate fold-in */
            int judge = strcmp(m->name, "popularity") && strcmp(m->name, "neumf") && strcmp(m->name, "bpr-mf") &&
                        strncmp(m->name, "improved-ncf-deep", 17);
            if (judge) CHECK_MSG(in == 10, "%s: user 0 has %d of 10 in its cluster", m->name, in);
            st = duet_rec_served_score_history(s, h, 3, 1, b, &err);
            if (!strcmp(m->name, "neumf")) CHECK(st == DUET_ERR_UNSUPPORTED);
            else {
                CHECK_MSG(st == DUET_OK, "%s: history: %s", m->name, err.msg);
                got = duet_rec_topk(b, ni, NULL, 10, top);
                in = 0;
                for (int j = 0; j < got; j++) in += ds->item_ids[top[j]][0] == 'a';
                CHECK(b[h[0]] == -INFINITY);
                if (judge) CHECK_MSG(in >= 9, "%s: a history of a-items gets %d of 10 a-items", m->name, in);
            }
        }
        duet_rec_served_free(s);
        m->free_state(state);
    }
    /* a broken file is one clear error */
    FILE *f = fopen(path, "r+b");
    if (f) {
        fseek(f, 20, SEEK_SET);
        fputs("garbage", f);
        fclose(f);
    }
    duet_rec_served *s = NULL;
    CHECK(duet_rec_served_load(path, &s, &err) != DUET_OK && s == NULL && strchr(err.msg, '\n') == NULL);
    CHECK(duet_rec_served_load("/nonexistent.safetensors", &s, &err) == DUET_ERR_IO);
    free(a);
    free(b);
    duet_rec_dataset_free(ds);
}

/* A file of the first format (duet_rec_incf_save, "duet-rec-incf") loads as improved-ncf-deep. */
static void test_legacy_file(void)
{
    duet_rec_dataset *ds = NULL;
    duet_err err = {0};
    REQUIRE(duet_rec_load_interactions_tsv(clusters, &ds, &err) == DUET_OK);
    duet_rec_fit_ctx ctx = {0};
    ctx.train = &ds->ui;
    ctx.seed = 2;
    ctx.progress = -1;
    duet_rec_incf_config c;
    duet_rec_incf_config_default(&c);
    c.max_epochs = 2;
    c.dim = 8;
    duet_rec_incf *m = NULL;
    REQUIRE(duet_rec_incf_train(&ctx, &c, NULL, &m, &err) == DUET_OK);
    char path[160];
    snprintf(path, sizeof path, "%s/legacy.safetensors", tmpdir);
    REQUIRE(duet_rec_incf_save(m, path, (const char *const *)ds->user_ids, (const char *const *)ds->item_ids, NULL,
                               &err) == DUET_OK);
    duet_rec_served *s = NULL;
    REQUIRE(duet_rec_served_load(path, &s, &err) == DUET_OK);
    CHECK(!strcmp(duet_rec_served_model(s)->name, "improved-ncf-deep") && duet_rec_served_n_users(s) == 80);
    int32_t ni = ds->n_items, u = 7;
    float *a = malloc((size_t)ni * sizeof *a), *b = malloc((size_t)ni * sizeof *b);
    REQUIRE(a && b);
    CHECK(duet_rec_incf_score(m, &u, 1, a, &err) == DUET_OK);
    for (int64_t q = ds->ui.indptr[u]; q < ds->ui.indptr[u + 1]; q++) a[ds->ui.indices[q]] = -INFINITY;
    CHECK(duet_rec_served_score_user(s, u, b, &err) == DUET_OK);
    CHECK(memcmp(a, b, (size_t)ni * sizeof *a) == 0);
    CHECK(duet_rec_served_find_user(s, "u07") == 7 && !strcmp(duet_rec_served_item_id(s, 0), ds->item_ids[0]));
    free(a);
    free(b);
    duet_rec_served_free(s);
    duet_rec_incf_free(m);
    duet_rec_dataset_free(ds);
}

static void test_cli_every_model(void)
{
    if (!getenv("DUET")) return;
    const char *models[] = {"ease", "ials", "item-knn", "user-knn", "bpr-mf", "neumf", "content", "popularity",
                            "improved-ncf"};
    char args[1024], model[160];
    for (size_t k = 0; k < sizeof models / sizeof models[0]; k++) {
        snprintf(model, sizeof model, "%s/%s.safetensors", tmpdir, models[k]);
        snprintf(args, sizeof args, "train-rec -q --interactions %s --item-attrs %s --model %s --out %s", clusters,
                 attrs, models[k], model);
        CHECK_MSG(run(args) == 0, "%s: %s", models[k], err_buf);
        snprintf(args, sizeof args, "recommend --model %s --user u00 -k 10", model);
        CHECK_MSG(run(args) == 0, "%s: %s", models[k], err_buf);
        int rows, in = count_prefix(out_buf, 'a', &rows);
        CHECK(rows == 10);
        if (strcmp(models[k], "popularity") != 0) CHECK_MSG(in == 10, "%s: %d of 10 in-cluster", models[k], in);
        snprintf(args, sizeof args, "recommend --model %s --history a01,a02 -k 5", model);
        int rc = run(args);
        if (!strcmp(models[k], "neumf"))
            CHECK_MSG(rc == 1 && count_lines(err_buf) == 1 && strstr(err_buf, "--user"), "%s", err_buf);
        else CHECK_MSG(rc == 0 && count_lines(out_buf) == 6, "%s: %s", models[k], err_buf);
        snprintf(args, sizeof args, "recommend --model %s --similar b07 -k 5 --json", model);
        rc = run(args);
        if (strcmp(models[k], "neumf") != 0) {
            CHECK_MSG(rc == 0 && json_valid(out_buf), "%s: %s", models[k], out_buf);
            CHECK(strstr(out_buf, "\"similar\": [\"b07\"]") != NULL);
        }
    }
    /* options of the improved NCF are refused for the others */
    snprintf(args, sizeof args, "train-rec --interactions %s --model ease --dim 8 --out %s/x.safetensors", clusters,
             tmpdir);
    CHECK(run(args) == 2 && count_lines(err_buf) == 1);
    snprintf(args, sizeof args, "train-rec --interactions %s --model nope --out %s/x.safetensors", clusters, tmpdir);
    CHECK(run(args) == 2 && count_lines(err_buf) == 1 && strstr(err_buf, "improved-ncf") && strstr(err_buf, "ease"));
    CHECK(run("recommend --help") == 0 && strstr(out_buf, "score") && strstr(out_buf, "ease"));
}

static void test_names(void)
{
    if (!getenv("DUET")) return;
    char args[1024], model[160];
    snprintf(model, sizeof model, "%s/names.safetensors", tmpdir);
    snprintf(args, sizeof args, "train-rec -q --hetrec %s --no-side --model item-knn --out %s", hetrec, model);
    REQUIRE(run(args) == 0);
    snprintf(args, sizeof args, "recommend --model %s --similar \"Britney Spears\" -k 5", model);
    CHECK_MSG(run(args) == 0, "%s", err_buf);
    CHECK(strstr(out_buf, "Pop Singer") != NULL && strstr(out_buf, "Metal Band") == NULL);
    char first[4096];
    snprintf(first, sizeof first, "%s", out_buf);
    snprintf(args, sizeof args, "recommend --model %s --similar \"britney SPEARS\" -k 5", model);
    CHECK(run(args) == 0 && !strcmp(first, out_buf));
    snprintf(args, sizeof args, "recommend --model %s --similar 100 -k 5", model); /* by id */
    CHECK(run(args) == 0 && !strcmp(first, out_buf));
    snprintf(args, sizeof args, "recommend --model %s --similar Blue -k 3", model); /* exact name wins */
    CHECK(run(args) == 0);
    snprintf(args, sizeof args, "recommend --model %s --similar BLUE -k 3", model);
    CHECK_MSG(run(args) == 1 && count_lines(err_buf) == 1 && strstr(err_buf, "ambiguous") && strstr(err_buf, "228") &&
                  strstr(err_buf, "229"),
              "%s", err_buf);
    snprintf(args, sizeof args, "recommend --model %s --similar britney -k 3", model);
    CHECK_MSG(run(args) == 1 && count_lines(err_buf) == 1 && strstr(err_buf, "unknown item 'britney'") &&
                  strstr(err_buf, "Britney Spears"),
              "%s", err_buf);
    snprintf(args, sizeof args, "recommend --model %s --history \"Britney Spears,Pop Singer 3\" -k 4 --json", model);
    CHECK_MSG(run(args) == 0 && json_valid(out_buf), "%s", out_buf);
    CHECK(strstr(out_buf, "\"history\": [\"100\", \"103\"]") && strstr(out_buf, "\"rank\": 4"));
    snprintf(args, sizeof args, "recommend --model %s --user 2 -k 3", model);
    CHECK(run(args) == 0 && count_lines(out_buf) == 4);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/duet_rec_serve_XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    write_clusters();
    write_hetrec();
    RUN(test_defaults_two_clusters);
    RUN(test_every_model_round_trip);
    RUN(test_legacy_file);
    RUN(test_cli_every_model);
    RUN(test_names);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) return 1;
    return check_summary();
}
