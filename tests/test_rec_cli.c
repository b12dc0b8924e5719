/* tests/test_rec_cli.c: `duet eval-rec` end to end on the tiny fixture set
 * (full ranking, cold start, 1+N, JSON output) and its bad-input exits.
 * Needs DUET (the binary's path; `make check` sets it). */
#include "check.h"

#include <sys/wait.h>
#include <unistd.h>

static const char *duet;
static char tmpdir[64];
static char out_buf[65536], err_buf[8192];

/* Run `duet ARGS`, capture stdout and stderr; returns the exit status. */
static int run(const char *args)
{
    char cmd[2048], of[128], ef[128];
    snprintf(of, sizeof of, "%s/stdout", tmpdir);
    snprintf(ef, sizeof ef, "%s/stderr", tmpdir);
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 %s %s >%s 2>%s", duet, args, of, ef);
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

static char *slurp(const char *path)
{
    static char buf[65536];
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

#define TINY "--interactions fixtures/rec/tiny.tsv"
#define SIDE "--item-attrs fixtures/rec/tiny_attrs.tsv --item-features fixtures/rec/tiny_features.tsv"

static void test_full_ranking_table_and_json(void)
{
    char args[1024], json[256];
    snprintf(json, sizeof json, "%s/out.json", tmpdir);
    snprintf(args, sizeof args, "eval-rec " TINY " " SIDE " --seeds 2 --models popularity,item-knn,content --json %s",
             json);
    int rc = run(args);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_buf);
    CHECK(strstr(out_buf, "| model | Precision@10 | Recall@10 | F1@10 | MAP@10 | NDCG@10 | HR@10 |") != NULL);
    CHECK(strstr(out_buf, "| popularity |") && strstr(out_buf, "| item-knn |") && strstr(out_buf, "| content |"));
    CHECK(strstr(out_buf, " ± ") != NULL);
    char *j = slurp(json);
    REQUIRE(j != NULL);
    CHECK(strstr(j, "\"models\": {") != NULL);
    CHECK(strstr(j, "\"item-knn\": {") != NULL);
    CHECK(strstr(j, "\"HR@10\": ") && strstr(j, "\"HR@10.std\": ") && strstr(j, "\"F1@20\": "));
    CHECK(strstr(j, "\"protocol\": \"full\"") != NULL);
}

static void test_cold_start_and_ncf(void)
{
    int rc = run("eval-rec " TINY " " SIDE " --seeds 1 --cold-start --models popularity,content --k 5");
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_buf);
    CHECK(strstr(out_buf, "cold-start protocol") && strstr(out_buf, "| content |") && strstr(out_buf, "NDCG@5"));
    rc = run("eval-rec --ncf fixtures/rec/tiny_ncf --seeds 2 --models popularity,ease");
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_buf);
    CHECK(strstr(out_buf, "| model | HR@10 | NDCG@10 |") && strstr(out_buf, "| ease |"));
    CHECK(strstr(out_buf, "1+5 sampled protocol") != NULL);
    rc = run("eval-rec --help");
    CHECK(rc == 0 && strstr(out_buf, "improved-ncf") && strstr(out_buf, "--cold-start"));
}

static void test_bad_input(void)
{
    char args[1024], p[256];
    /* a missing file: one line on stderr, exit 1 */
    int rc = run("eval-rec --interactions /nonexistent/x.tsv");
    CHECK(rc == 1 && count_lines(err_buf) == 1 && strncmp(err_buf, "duet: ", 6) == 0);
    /* a negative weight: the line number is given */
    snprintf(p, sizeof p, "%s/bad.tsv", tmpdir);
    FILE *f = fopen(p, "w");
    REQUIRE(f);
    fputs("a\tx\t1\nb\tx\t-2\n", f);
    fclose(f);
    snprintf(args, sizeof args, "eval-rec --interactions %s", p);
    rc = run(args);
    CHECK(rc == 1 && count_lines(err_buf) == 1 && strstr(err_buf, "bad.tsv:2: weight -2"));
    /* usage errors exit 2 */
    CHECK(run("eval-rec " TINY " --models nope") == 2 && strstr(err_buf, "unknown model 'nope'"));
    CHECK(run("eval-rec") == 2);
    CHECK(run("eval-rec " TINY " --ncf x") == 2);
    CHECK(run("eval-rec " TINY " --k 0") == 2);
    CHECK(run("eval-rec " TINY " --seeds") == 2);
    CHECK(run("eval-rec " TINY " --bogus") == 2);
    /* a model that needs side information; improved-ncf runs without it */
    CHECK(run("eval-rec --ncf fixtures/rec/tiny_ncf --models improved-ncf --seeds 1") == 0);
    CHECK(run("eval-rec " TINY " --models improved-ncf --incf bogus=1") == 2);
    CHECK(run("eval-rec --ncf fixtures/rec/tiny_ncf --models content") == 1 && strstr(err_buf, "NCF format lacks"));
    CHECK(run("eval-rec " TINY " --models content") == 1 && strstr(err_buf, "needs --item-attrs"));
    /* an unwritable JSON path: exit 1, nothing written */
    rc = run("eval-rec " TINY " --seeds 1 --models popularity --json /nonexistent/dir/out.json");
    CHECK(rc == 1 && strstr(err_buf, "/nonexistent/dir/out.json"));
    CHECK(access("/nonexistent/dir/out.json", F_OK) != 0);
    /* an empty interactions file */
    snprintf(p, sizeof p, "%s/empty.tsv", tmpdir);
    f = fopen(p, "w");
    REQUIRE(f);
    fclose(f);
    snprintf(args, sizeof args, "eval-rec --interactions %s", p);
    CHECK(run(args) == 1 && strstr(err_buf, "no interactions"));
}

/* recommend --all-users: every user once, shards partition the users and
 * together give the unsharded output, rows equal --user's, bad use refused. */
static void test_recommend_all_users(void)
{
    char args[1024], model[128], all[128], cmd[2048];
    snprintf(model, sizeof model, "%s/knn.model", tmpdir);
    snprintf(all, sizeof all, "%s/all.tsv", tmpdir);
    snprintf(args, sizeof args, "train-rec " TINY " --model item-knn --out %s -q", model);
    int rc = run(args);
    CHECK_MSG(rc == 0, "train-rec exit %d: %s", rc, err_buf);
    REQUIRE(rc == 0);
    snprintf(args, sizeof args, "recommend --model %s --all-users -k 3 --out %s", model, all);
    rc = run(args);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_buf);
    REQUIRE(rc == 0);
    char *t = slurp(all);
    REQUIRE(t != NULL);
    CHECK(!strncmp(t, "user\trank\titem\tscore\n", 21));
    /* the first user's rows are what --user gives */
    char u[64] = "";
    REQUIRE(sscanf(t + 21, "%63[^\t]", u) == 1);
    char mine[4096] = "";
    for (char *line = strchr(t, '\n') + 1; *line;) {
        char *nl = strchr(line, '\n');
        if (!nl) break;
        size_t ul = strlen(u);
        if (!strncmp(line, u, ul) && line[ul] == '\t') {
            char item[128];
            int rank;
            if (sscanf(line + ul + 1, "%d\t%127[^\t]", &rank, item) == 2) {
                strcat(mine, item);
                strcat(mine, ",");
            }
        }
        line = nl + 1;
    }
    snprintf(args, sizeof args, "recommend --model %s --user %s -k 3", model, u);
    rc = run(args);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_buf);
    REQUIRE(rc == 0);
    char theirs[4096] = "";
    for (char *line = strchr(out_buf, '\n') ? strchr(out_buf, '\n') + 1 : out_buf; *line;) {
        char *nl = strchr(line, '\n');
        if (!nl) break;
        int rank;
        char item[128];
        if (sscanf(line, "%d\t%127[^\t\n]", &rank, item) == 2) {
            strcat(theirs, item);
            strcat(theirs, ",");
        }
        line = nl + 1;
    }
    CHECK_MSG(mine[0] && !strcmp(mine, theirs), "all-users rows '%s' vs --user '%s'", mine, theirs);
    /* three shards: together exactly the unsharded rows, each user in one shard */
    for (int i = 1; i <= 3; i++) {
        snprintf(args, sizeof args, "recommend --model %s --all-users -k 3 --shard %d/3 --out %s/part-%d.tsv -q", model,
                 i, tmpdir, i);
        rc = run(args);
        CHECK_MSG(rc == 0, "shard %d exit %d: %s", i, rc, err_buf);
    }
    snprintf(cmd, sizeof cmd,
             "cd %s && tail -q -n +2 part-1.tsv part-2.tsv part-3.tsv | sort > parts.sorted && tail -n +2 all.tsv | sort > "
             "all.sorted && cmp -s parts.sorted all.sorted && "
             "test $(for i in 1 2 3; do tail -n +2 part-$i.tsv | cut -f1 | sort -u; done | sort | uniq -d | wc -l) = 0 && "
             "test $(tail -n +2 all.tsv | cut -f1 | sort -u | wc -l) -ge 3",
             tmpdir);
    CHECK_MSG(system(cmd) == 0, "shards do not partition the unsharded output (%s)", tmpdir);
    /* bad use */
    snprintf(args, sizeof args, "recommend --model %s --all-users", model);
    CHECK(run(args) == 2 && strstr(err_buf, "--out"));
    snprintf(args, sizeof args, "recommend --model %s --all-users --shard 0/2 --out %s/x.tsv", model, tmpdir);
    CHECK(run(args) == 2 && strstr(err_buf, "--shard"));
    snprintf(args, sizeof args, "recommend --model %s --user %s --shard 1/2", model, u);
    CHECK(run(args) == 2);
    snprintf(args, sizeof args, "recommend --model %s --all-users --out /nonexistent-dir/recs.tsv", model);
    rc = run(args);
    CHECK(rc != 0 && rc != 2 && count_lines(err_buf) == 1 && access("/nonexistent-dir/recs.tsv", F_OK) != 0);
}

int main(void)
{
    duet = getenv("DUET");
    if (!duet) duet = "build/duet";
    if (access(duet, X_OK) != 0) {
        fprintf(stderr, "# %s not found (build it first)\n", duet);
        printf("not ok - duet binary present\n");
        return 1;
    }
    snprintf(tmpdir, sizeof tmpdir, "/tmp/duet_rcli_XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    RUN(test_full_ranking_table_and_json);
    RUN(test_cold_start_and_ncf);
    RUN(test_bad_input);
    RUN(test_recommend_all_users);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "# could not remove %s\n", tmpdir);
    return check_summary();
}
