/* cli/cmd_recommend.c: `duet recommend`: top-k items for a known user, for a
 * new user from a short history (fold-in), or the items nearest to an item,
 * from a model written by `duet train-rec`. Thin layer over
 * recommender/incf.h. Output: one line per item,
 * `rank<TAB>item id<TAB>score<TAB>name` (name empty when unknown). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../recommender/incf.h"
#include "../recommender/metrics.h"
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: duet recommend --model MODEL (--user U | --history \"ITEM,ITEM,...\" | --similar ITEM) [-k N]\n"
            "\n"
            "  --model MODEL        a model written by duet train-rec\n"
            "  --user U             top items for a user of the training data (items it has\n"
            "                       interacted with are left out)\n"
            "  --history LIST       top items for a new user who liked these items (fold-in)\n"
            "  --similar ITEM       items nearest to ITEM (cosine of item group vectors)\n"
            "  -k N                 how many (default 10)\n"
            "  --seed N             fold-in seed (default 1)\n"
            "Output: rank, item id, score, name (tab-separated).\n");
}

static void print_item(const rec_incf *m, int rank, int32_t i, float s)
{
    const char *name = rec_incf_item_name(m, i);
    printf("%d\t%s\t%.6f\t%s\n", rank, rec_incf_item_id(m, i), (double)s, name ? name : "");
}

int cmd_recommend(int argc, char **argv)
{
    const char *model = NULL, *user = NULL, *history = NULL, *similar = NULL;
    long k = 10, seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc || !argv[i + 1][0]) {
            if (a[0] == '-') cli_error("recommend", "%s needs a value", a);
            else cli_error("recommend", "unexpected argument '%s' (see duet recommend --help)", a);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--user")) user = v;
        else if (!strcmp(a, "--history")) history = v;
        else if (!strcmp(a, "--similar")) similar = v;
        else if (!strcmp(a, "-k") || !strcmp(a, "--k")) {
            if (cli_parse_int(a, v, 1, 100000, &k)) return 2;
        } else if (!strcmp(a, "--seed")) {
            if (cli_parse_int(a, v, 0, 2147483647L, &seed)) return 2;
        } else {
            cli_error("recommend", "unknown option '%s' (see duet recommend --help)", a);
            return 2;
        }
    }
    if (!model) {
        cli_error("recommend", "--model MODEL is required");
        return 2;
    }
    if (!!user + !!history + !!similar != 1) {
        cli_error("recommend", "give exactly one of --user, --history, --similar");
        return 2;
    }
    duet_err err = {0};
    rec_incf *m = NULL;
    duet_status st = rec_incf_load(model, &m, &err);
    if (st) return cli_fail(model, st, &err);
    int32_t ni = rec_incf_n_items(m);
    int kk = (int)(k < ni ? k : ni);
    float *scores = malloc((size_t)ni * sizeof *scores), *sim = malloc((size_t)kk * sizeof *sim);
    int32_t *top = malloc((size_t)kk * sizeof *top), *hist = NULL;
    float *rep = malloc((size_t)rec_incf_user_rep_len(m) * sizeof *rep);
    int rc = 0;
    if (!scores || !sim || !top || !rep) {
        rc = cli_fail("recommend", DUET_ERR_NOMEM, NULL);
        goto done;
    }
    if (similar) {
        int32_t it = rec_incf_find_item(m, similar);
        if (it < 0) {
            cli_error("recommend", "unknown item '%s'", similar);
            rc = 1;
            goto done;
        }
        int got = rec_incf_similar(m, it, kk, top, sim);
        for (int j = 0; j < got; j++) print_item(m, j + 1, top[j], sim[j]);
        goto done;
    }
    if (user) {
        int32_t u = rec_incf_find_user(m, user);
        if (u < 0) {
            cli_error("recommend", "unknown user '%s'", user);
            rc = 1;
            goto done;
        }
        st = rec_incf_score(m, &u, 1, scores, &err);
        if (!st) {
            int64_t n;
            const int32_t *seen = rec_incf_seen(m, u, &n);
            for (int64_t q = 0; q < n; q++) scores[seen[q]] = -INFINITY;
        }
    } else {
        /* --history: comma-separated item ids */
        size_t cap = 1;
        for (const char *c = history; *c; c++) cap += *c == ',';
        hist = malloc(cap * sizeof *hist);
        char *list = strdup(history);
        if (!hist || !list) {
            free(list);
            rc = cli_fail("recommend", DUET_ERR_NOMEM, NULL);
            goto done;
        }
        int n = 0;
        for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ') tok++;
            if (!*tok) continue;
            int32_t it = rec_incf_find_item(m, tok);
            if (it < 0) {
                cli_error("recommend", "unknown item '%s' in --history", tok);
                free(list);
                rc = 1;
                goto done;
            }
            hist[n++] = it;
        }
        free(list);
        if (!n) {
            cli_error("recommend", "--history: no items");
            rc = 2;
            goto done;
        }
        st = rec_incf_fold_in(m, hist, n, (uint64_t)seed, rep, &err);
        if (!st) st = rec_incf_score_rep(m, rep, scores, &err);
        if (!st)
            for (int q = 0; q < n; q++) scores[hist[q]] = -INFINITY;
    }
    if (st) {
        rc = cli_fail("recommend", st, &err);
        goto done;
    }
    int got = rec_topk(scores, ni, NULL, kk, top);
    for (int j = 0; j < got; j++) print_item(m, j + 1, top[j], scores[top[j]]);
done:
    free(scores);
    free(sim);
    free(top);
    free(hist);
    free(rep);
    rec_incf_free(m);
    return rc;
}
