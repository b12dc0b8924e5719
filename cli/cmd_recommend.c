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
#include "cli_opts.h"

#include <getopt.h>

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
            "  -k, --k N            how many (default 10)\n"
            "  --seed N             fold-in seed (default 1)\n");
    cli_help_quiet_verbose(f, 23);
    fprintf(f, "  -h, --help           show this help\n"
               "Output: rank, item id, score, name (tab-separated). Options take their value as\n"
               "--opt VALUE or --opt=VALUE.\n");
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
    int n_quiet = 0, n_verbose = 0;
    enum { O_MODEL = 256, O_USER, O_HISTORY, O_SIMILAR, O_SEED };
    static const struct option lo[] = {{"model", required_argument, 0, O_MODEL},
                                       {"user", required_argument, 0, O_USER},
                                       {"history", required_argument, 0, O_HISTORY},
                                       {"similar", required_argument, 0, O_SIMILAR},
                                       {"k", required_argument, 0, 'k'},
                                       {"seed", required_argument, 0, O_SEED},
                                       CLI_OPT_QUIET_VERBOSE,
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    opterr = 0;
    optind = 1;
    int oc, li = 0;
    while ((oc = getopt_long(argc, argv, ":k:qvh", lo, &li)) != -1) {
        const char **slot = NULL;
        switch (oc) {
        case O_MODEL: slot = &model; break;
        case O_USER: slot = &user; break;
        case O_HISTORY: slot = &history; break;
        case O_SIMILAR: slot = &similar; break;
        case 'k':
            if (cli_parse_int("-k", optarg, 1, 100000, &k)) return 2;
            break;
        case O_SEED:
            if (cli_parse_int("--seed", optarg, 0, 2147483647L, &seed)) return 2;
            break;
        case 'q': n_quiet++; break;
        case 'v': n_verbose++; break;
        case 'h': usage(stdout); return 0;
        default: return cli_bad_option("recommend", oc, argc, argv);
        }
        if (slot) {
            if (cli_need_value("recommend", lo[li].name, optarg)) return 2;
            *slot = optarg;
        }
    }
    if (cli_no_operands("recommend", argc, argv)) return 2;
    int verbosity = cli_verbosity("recommend", n_quiet, n_verbose);
    if (verbosity < CLI_QUIET) return 2;
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
    cli_debug(verbosity, "recommend", "%s: %s; %d users, %d items", model, rec_incf_describe(m), rec_incf_n_users(m),
              ni);
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
        cli_debug(verbosity, "recommend", "--history: %d known items, fold-in seed %ld", n, seed);
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
