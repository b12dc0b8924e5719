/* cli/cmd_recommend.c: `duet recommend`: top-k items for a known user, for a
 * new listener from a short history, or the items a listener of one item
 * would get next (--similar), from any model file written by `duet
 * train-rec`. Thin layer over recommender/serve.h. Output: a header line
 * `rank<TAB>item<TAB>score<TAB>name`, then one line per item; or with
 * --json one JSON object. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/progress.h"
#include "../recommender/metrics.h"
#include "../recommender/serve.h"
#include "cli.h"
#include "cli_opts.h"

#include <getopt.h>

#define MAX_NEAR 8

static void usage(FILE *f)
{
    fprintf(f,
            "usage: duet recommend --model MODEL (--user U | --history \"ITEM,ITEM,...\" | --similar ITEM) [-k N]\n"
            "       duet recommend --model MODEL --all-users --out RECS.tsv [--shard i/N] [-k N]\n"
            "\n"
            "  --model MODEL        a model file written by duet train-rec (any model)\n"
            "  --user U             top items for a user of the training data, by id (items the user\n"
            "                       has interacted with are left out)\n"
            "  --history LIST       top items for a new listener who liked these items (comma-separated)\n"
            "  --similar ITEM       the items the model recommends to a listener of ITEM alone\n"
            "  --all-users          top items for every training user (batch scoring), to --out as\n"
            "                       TSV `user rank item score`, written atomically\n"
            "  --shard i/N          with --all-users: only users whose id hashes to shard i of N\n"
            "                       (1 <= i <= N; the rule of features --catalog --shard)\n"
            "  -o, --out FILE       the --all-users output\n"
            "  -k, --k N            how many (default 10)\n"
            "  --json               one JSON object instead of the table\n"
            "  --seed N             fold-in seed of the neural models (default 1)\n");
    cli_help_quiet_verbose(f, 23);
    fprintf(f,
            "  -h, --help           show this help\n"
            "Items are given by id or by name: an id first, then the exact name, then the name ignoring\n"
            "case (\"britney spears\"); several matches or none are an error that lists the near names.\n"
            "Output: a header line `rank item score name`, then one tab-separated line per item.\n"
            "The score orders the items for this one query, higher is better; it is not a probability\n"
            "and not comparable across queries or models. Per model:\n");
    int n;
    const duet_rec_model_def *t = duet_rec_models(&n);
    for (int i = 0; i < n; i++)
        if (!strstr(t[i].name, "-no-")) fprintf(f, "  %-18s %s\n", t[i].name, duet_rec_served_score_doc(t[i].name));
    fprintf(f, "Options take their value as --opt VALUE or --opt=VALUE.\n");
}

static void json_str(const char *s)
{
    putchar('"');
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

/* Resolve an item by id or name; prints the error and returns -1 when it fails. */
static int32_t resolve_item(const duet_rec_served *s, const char *q, const char *what)
{
    int32_t near[MAX_NEAR];
    int nn = 0;
    int32_t it = duet_rec_served_find_item(s, q, near, MAX_NEAR, &nn);
    if (it >= 0) return it;
    char list[1024] = "";
    for (int j = 0; j < nn; j++) {
        size_t l = strlen(list);
        const char *nm = duet_rec_served_item_name(s, near[j]);
        snprintf(list + l, sizeof list - l, "%s%s%s%s%s", j ? ", " : "", duet_rec_served_item_id(s, near[j]),
                 nm ? " \"" : "", nm ? nm : "", nm ? "\"" : "");
    }
    if (it == -2)
        cli_error("recommend", "%s '%s' is ambiguous: %s (give the id)", what, q, list);
    else if (nn)
        cli_error("recommend", "unknown %s '%s'; near: %s", what, q, list);
    else
        cli_error("recommend", "unknown %s '%s'", what, q);
    return -1;
}

int cmd_recommend(int argc, char **argv)
{
    const char *model = NULL, *user = NULL, *history = NULL, *similar = NULL;
    long k = 10, seed = 1;
    const char *out = NULL;
    int n_quiet = 0, n_verbose = 0, json = 0, all_users = 0, shard_i = 1, shard_n = 1;
    enum { O_MODEL = 256, O_USER, O_HISTORY, O_SIMILAR, O_SEED, O_JSON, O_ALL, O_SHARD };
    static const struct option lo[] = {{"model", required_argument, 0, O_MODEL},
                                       {"user", required_argument, 0, O_USER},
                                       {"history", required_argument, 0, O_HISTORY},
                                       {"similar", required_argument, 0, O_SIMILAR},
                                       {"k", required_argument, 0, 'k'},
                                       {"seed", required_argument, 0, O_SEED},
                                       {"json", no_argument, 0, O_JSON},
                                       {"all-users", no_argument, 0, O_ALL},
                                       {"shard", required_argument, 0, O_SHARD},
                                       {"out", required_argument, 0, 'o'},
                                       CLI_OPT_QUIET_VERBOSE,
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    opterr = 0;
    optind = 1;
    int oc, li = 0;
    while ((oc = getopt_long(argc, argv, ":k:o:qvh", lo, &li)) != -1) {
        const char **slot = NULL;
        switch (oc) {
        case O_MODEL: slot = &model; break;
        case O_USER: slot = &user; break;
        case O_HISTORY: slot = &history; break;
        case O_SIMILAR: slot = &similar; break;
        case O_JSON: json = 1; break;
        case O_ALL: all_users = 1; break;
        case 'o': slot = &out; break;
        case O_SHARD:
            if (cli_parse_shard(optarg, &shard_i, &shard_n)) return 2;
            break;
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
    if (!!user + !!history + !!similar + all_users != 1) {
        cli_error("recommend", "give exactly one of --user, --history, --similar, --all-users");
        return 2;
    }
    if (all_users ? (!out || json) : (out || shard_n != 1)) {
        cli_error("recommend", all_users ? "--all-users needs --out FILE (and no --json)"
                                         : "--out and --shard go with --all-users");
        return 2;
    }
    duet_err err = {0};
    duet_rec_served *s = NULL;
    duet_status st = duet_rec_served_load(model, &s, &err);
    if (!st && all_users) {
        int64_t nu = 0;
        double t0 = duet_now();
        st = duet_rec_served_recommend_all(s, (int)k, shard_i, shard_n, out, &nu, &err);
        if (!st)
            cli_info(verbosity, "recommend", "%s: top %ld for %lld of %d users (shard %d/%d) in %.2f s", out, k,
                     (long long)nu, duet_rec_served_n_users(s), shard_i, shard_n, duet_now() - t0);
        duet_rec_served_free(s);
        return st ? cli_fail(NULL, st, &err) : 0;
    }
    if (st) return cli_fail(NULL, st, &err); /* the message names the file */
    int32_t ni = duet_rec_served_n_items(s);
    cli_debug(verbosity, "recommend", "%s: %s; %d users, %d items", model, duet_rec_served_describe(s),
              duet_rec_served_n_users(s), ni);
    int kk = (int)(k < ni ? k : ni);
    float *scores = malloc((size_t)ni * sizeof *scores);
    int32_t *top = malloc((size_t)kk * sizeof *top), *hist = NULL;
    int rc = 0, n = 0;
    if (!scores || !top) {
        rc = cli_fail("recommend", DUET_ERR_NOMEM, NULL);
        goto done;
    }
    if (user) {
        int32_t u = duet_rec_served_find_user(s, user);
        if (u < 0) {
            cli_error("recommend", "unknown user '%s'", user);
            rc = 1;
            goto done;
        }
        st = duet_rec_served_score_user(s, u, scores, &err);
    } else {
        const char *list_src = history ? history : similar;
        size_t cap = 1;
        for (const char *c = list_src; *c; c++) cap += *c == ',';
        hist = malloc(cap * sizeof *hist);
        char *list = strdup(list_src);
        if (!hist || !list) {
            free(list);
            rc = cli_fail("recommend", DUET_ERR_NOMEM, NULL);
            goto done;
        }
        if (similar) {
            /* one item: its name may hold commas */
            int32_t it = resolve_item(s, similar, "item");
            if (it < 0) rc = 1;
            else hist[n++] = it;
        } else {
            for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                while (*tok == ' ') tok++;
                if (!*tok) continue;
                int32_t it = resolve_item(s, tok, "item");
                if (it < 0) {
                    rc = 1;
                    break;
                }
                hist[n++] = it;
            }
        }
        free(list);
        if (rc) goto done;
        if (!n) {
            cli_error("recommend", "--history: no items");
            rc = 2;
            goto done;
        }
        cli_debug(verbosity, "recommend", "history of %d items, fold-in seed %ld", n, seed);
        st = duet_rec_served_score_history(s, hist, n, (uint64_t)seed, scores, &err);
    }
    if (st) {
        rc = cli_fail("recommend", st, &err);
        goto done;
    }
    int got = duet_rec_topk(scores, ni, NULL, kk, top);
    if (json) {
        printf("{\"model\": ");
        json_str(duet_rec_served_model(s)->name);
        printf(", \"query\": {\"%s\": ", user ? "user" : history ? "history" : "similar");
        if (user) json_str(user);
        else {
            printf("[");
            for (int j = 0; j < n; j++) {
                printf("%s", j ? ", " : "");
                json_str(duet_rec_served_item_id(s, hist[j]));
            }
            printf("]");
        }
        printf("}, \"items\": [");
        for (int j = 0; j < got; j++) {
            const char *nm = duet_rec_served_item_name(s, top[j]);
            printf("%s{\"rank\": %d, \"item\": ", j ? ", " : "", j + 1);
            json_str(duet_rec_served_item_id(s, top[j]));
            printf(", \"score\": %.6g, \"name\": ", (double)scores[top[j]]);
            if (nm) json_str(nm);
            else printf("null");
            printf("}");
        }
        printf("]}\n");
    } else {
        printf("rank\titem\tscore\tname\n");
        for (int j = 0; j < got; j++) {
            const char *nm = duet_rec_served_item_name(s, top[j]);
            printf("%d\t%s\t%.6f\t%s\n", j + 1, duet_rec_served_item_id(s, top[j]), (double)scores[top[j]],
                   nm ? nm : "");
        }
    }
done:
    free(scores);
    free(top);
    free(hist);
    duet_rec_served_free(s);
    return rc;
}
