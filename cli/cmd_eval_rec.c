/* cli/cmd_eval_rec.c: `duet eval-rec`: run recommendation models side by side
 * under one protocol and print a Markdown table (mean ± std over seeds),
 * optionally a JSON file. Thin layer over recommender/eval.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/atomic_file.h"
#include "../recommender/data.h"
#include "../recommender/eval.h"
#include "../recommender/model.h"
#include "cli.h"
#include "cli_opts.h"

#include <getopt.h>

#define MAX_MODELS 32

typedef struct eval_rec_opts {
    const char *interactions, *ncf, *hetrec;
    const char *item_attrs, *item_features, *spotify, *kg;
    const char *models;
    const char *json;
    const char *incf; /* "key=value,..." overriding the improved-ncf configuration */
    long seeds, seed0, k;
    int cold, no_tune, no_side, progress;
    int verbosity; /* CLI_QUIET, CLI_NORMAL or CLI_VERBOSE */
} eval_rec_opts;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: duet eval-rec (--interactions TSV | --hetrec DIR | --ncf PREFIX) [options]\n"
            "\n"
            "Data (one of):\n"
            "  --interactions TSV   `user<TAB>item[<TAB>weight]` rows\n"
            "  --hetrec DIR         HetRec 2011 Last.fm-2k folder (play counts, tags, friends);\n"
            "                       the sibling folders spotify-artist-features/ and kgcn-music/\n"
            "                       are used when present (unless --no-side)\n"
            "  --ncf PREFIX         PREFIX.train.rating/.test.rating/.test.negative (1+N protocol)\n"
            "Side information:\n"
            "  --item-attrs TSV     `item<TAB>key<TAB>value` rows\n"
            "  --item-features TSV  header `item f1 f2 ...`, one numeric row per item\n"
            "  --spotify TSV        HetRec-joined Spotify features (hetrec_artist_spotify_features.tsv)\n"
            "  --kg DIR             KGCN folder (item_index2entity_id.txt, kg.txt)\n"
            "  --no-side            ignore sibling folders found next to --hetrec\n"
            "Protocol:\n"
            "  --models a,b,...     models to run (default: every built model; see below)\n"
            "  --seeds N            seeds, mean and std over them (default 3)\n"
            "  --seed S             first seed (default 1)\n"
            "  --k K                cut-off shown in the table (default 10; metrics at 5, 10, 20 and K)\n"
            "  --cold-start         item cold start: 10%% of items held out entirely\n"
            "  --no-tune            use each model's first configuration instead of tuning on validation\n"
            "  --json FILE          also write {\"models\": {name: {\"HR@10\": .., \"HR@10.std\": ..}}}\n"
            "  --progress           progress on stderr even when it is not a terminal\n"
            "  -q, --quiet          no progress or information lines on stderr, only errors\n"
            "  -v, --verbose        extra diagnostic lines on stderr (each model's fit, scoring and\n"
            "                       tuning times)\n"
            "  --incf k=v,...       improved-ncf* configuration instead of the table's: loss=bce|bpr,\n"
            "                       lr, dim, negatives, epochs, dropout (item id), patience, refit=0|1,\n"
            "                       wd (AdamW weight decay)\n"
            "  -h, --help           show this help\n"
            "Options take their value as --opt VALUE or --opt=VALUE.\n"
            "\nmodels:\n");
    int n;
    const duet_rec_model_def *t = duet_rec_models(&n);
    for (int i = 0; i < n; i++) fprintf(f, "  %-23s %s\n", t[i].name, t[i].summary);
}

static int parse(int argc, char **argv, eval_rec_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seeds = 3;
    o->seed0 = 1;
    o->k = 10;
    int n_quiet = 0, n_verbose = 0;
    enum {
        O_INTER = 256, O_NCF, O_HETREC, O_ATTRS, O_FEATS, O_SPOTIFY, O_KG, O_MODELS, O_JSON, O_INCF, O_COLD,
        O_NOTUNE, O_NOSIDE, O_PROGRESS, O_SEEDS, O_SEED, O_K
    };
    static const struct option lo[] = {{"interactions", required_argument, 0, O_INTER},
                                       {"ncf", required_argument, 0, O_NCF},
                                       {"hetrec", required_argument, 0, O_HETREC},
                                       {"item-attrs", required_argument, 0, O_ATTRS},
                                       {"item-features", required_argument, 0, O_FEATS},
                                       {"spotify", required_argument, 0, O_SPOTIFY},
                                       {"kg", required_argument, 0, O_KG},
                                       {"models", required_argument, 0, O_MODELS},
                                       {"json", required_argument, 0, O_JSON},
                                       {"incf", required_argument, 0, O_INCF},
                                       {"cold-start", no_argument, 0, O_COLD},
                                       {"no-tune", no_argument, 0, O_NOTUNE},
                                       {"no-side", no_argument, 0, O_NOSIDE},
                                       {"progress", no_argument, 0, O_PROGRESS},
                                       {"seeds", required_argument, 0, O_SEEDS},
                                       {"seed", required_argument, 0, O_SEED},
                                       {"k", required_argument, 0, O_K},
                                       CLI_OPT_QUIET_VERBOSE,
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    opterr = 0;
    optind = 1;
    int oc, li = 0;
    while ((oc = getopt_long(argc, argv, ":qvh", lo, &li)) != -1) {
        const char **slot = NULL;
        switch (oc) {
        case O_INTER: slot = &o->interactions; break;
        case O_NCF: slot = &o->ncf; break;
        case O_HETREC: slot = &o->hetrec; break;
        case O_ATTRS: slot = &o->item_attrs; break;
        case O_FEATS: slot = &o->item_features; break;
        case O_SPOTIFY: slot = &o->spotify; break;
        case O_KG: slot = &o->kg; break;
        case O_MODELS: slot = &o->models; break;
        case O_JSON: slot = &o->json; break;
        case O_INCF: slot = &o->incf; break;
        case O_COLD: o->cold = 1; break;
        case O_NOTUNE: o->no_tune = 1; break;
        case O_NOSIDE: o->no_side = 1; break;
        case O_PROGRESS: o->progress = 1; break;
        case O_SEEDS:
            if (cli_parse_int("--seeds", optarg, 1, 100, &o->seeds)) return 2;
            break;
        case O_SEED:
            if (cli_parse_int("--seed", optarg, 0, 1000000000L, &o->seed0)) return 2;
            break;
        case O_K:
            if (cli_parse_int("--k", optarg, 1, 1000, &o->k)) return 2;
            break;
        case 'q': n_quiet++; break;
        case 'v': n_verbose++; break;
        case 'h': usage(stdout); return 1;
        default: return cli_bad_option("eval-rec", oc, argc, argv);
        }
        if (slot) {
            if (cli_need_value("eval-rec", lo[li].name, optarg)) return 2;
            *slot = optarg;
        }
    }
    if (cli_no_operands("eval-rec", argc, argv)) return 2;
    o->verbosity = cli_verbosity("eval-rec", n_quiet, n_verbose);
    if (o->verbosity < CLI_QUIET) return 2;
    if (o->verbosity == CLI_QUIET && o->progress) {
        cli_error("eval-rec", "--progress and -q/--quiet contradict each other");
        return 2;
    }
    int n_src = !!o->interactions + !!o->ncf + !!o->hetrec;
    if (n_src != 1) {
        cli_error("eval-rec", "give exactly one of --interactions, --hetrec, --ncf (see --help)");
        return 2;
    }
    if (o->ncf && (o->cold || o->item_attrs || o->item_features || o->spotify || o->kg)) {
        cli_error("eval-rec", "--ncf runs the sampled 1+N protocol only (no --cold-start or side files)");
        return 2;
    }
    return 0;
}

static void print_cell(double m, double s) { printf(" %.4f ± %.4f |", m, s); }

static int write_json(const char *path, const char *protocol, const eval_rec_opts *o, const duet_rec_eval_result *res,
                      int n)
{
    duet_atomic_file *af;
    duet_err err = {0};
    duet_status st = duet_atomic_open(path, &af, &err);
    if (st) return cli_fail(path, st, &err);
    FILE *f = duet_atomic_fp(af);
    fprintf(f, "{\n  \"protocol\": \"%s\",\n  \"seeds\": %ld,\n  \"models\": {", protocol, o->seeds);
    for (int r = 0; r < n; r++) {
        fprintf(f, "%s\n    ", r ? "," : "");
        cli_json_string(f, res[r].model);
        fputs(": {", f);
        int first = 1;
        for (int i = 0; i < res[r].n_k; i++)
            for (int m = 0; m < REC_N_METRICS; m++) {
                fprintf(f, "%s\"%s@%d\": %.6f, \"%s@%d.std\": %.6f", first ? "" : ", ", duet_rec_metric_name(m),
                        res[r].ks[i], res[r].mean[i][m], duet_rec_metric_name(m), res[r].ks[i], res[r].std[i][m]);
                first = 0;
            }
        fprintf(f, ", \"users\": %lld, \"runs\": %d, \"fit_seconds\": %.3f, \"eval_seconds\": %.3f, "
                   "\"tune_seconds\": %.3f, \"config\": ",
                (long long)res[r].n_users, res[r].n_runs, res[r].fit_s, res[r].eval_s, res[r].tune_s);
        cli_json_string(f, res[r].chosen);
        fputs("}", f);
    }
    fprintf(f, "\n  }\n}\n");
    if (ferror(f)) {
        duet_atomic_abort(af);
        cli_error(path, "write failed");
        return 1;
    }
    st = duet_atomic_commit(af, &err);
    if (st) return cli_fail(path, st, &err);
    return 0;
}

int cmd_eval_rec(int argc, char **argv)
{
    eval_rec_opts o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc == 1 ? 0 : rc;

    /* models to run */
    const duet_rec_model_def *run[MAX_MODELS];
    int n_run = 0, explicit_models = o.models != NULL;
    if (o.models) {
        char *list = strdup(o.models);
        if (!list) return cli_fail("eval-rec", DUET_ERR_NOMEM, NULL);
        for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
            const duet_rec_model_def *m = duet_rec_model_find(tok);
            if (!m) {
                cli_error("eval-rec", "unknown model '%s' (see duet eval-rec --help)", tok);
                free(list);
                return 2;
            }
            if (!m->fit) {
                cli_error("eval-rec", "model '%s' is not built yet", tok);
                free(list);
                return 1;
            }
            if (n_run < MAX_MODELS) run[n_run++] = m;
        }
        free(list);
        if (!n_run) {
            cli_error("eval-rec", "--models: empty list");
            return 2;
        }
    } else {
        int n;
        const duet_rec_model_def *t = duet_rec_models(&n);
        for (int i = 0; i < n && n_run < MAX_MODELS; i++)
            if (t[i].fit) run[n_run++] = &t[i];
    }

    /* --incf: one configuration for the improved-ncf models */
    static duet_rec_model_def incf_defs[MAX_MODELS];
    static duet_rec_params incf_grid[1];
    if (o.incf) {
        /* the table's configuration, overridden key by key */
        const duet_rec_model_def *base = duet_rec_model_find("improved-ncf");
        if (!base || base->n_grid < 1) {
            cli_error("eval-rec", "--incf: this build has no improved-ncf model");
            return 2;
        }
        duet_rec_params p = base->grid[0];
        char *list = strdup(o.incf);
        if (!list) return cli_fail("eval-rec", DUET_ERR_NOMEM, NULL);
        int bad = 0;
        for (char *save = NULL, *kv = strtok_r(list, ",", &save); kv && !bad; kv = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(kv, '=');
            if (!eq) {
                bad = 1;
                break;
            }
            *eq = 0;
            const char *key = kv, *val = eq + 1;
            char *end;
            double v = strtod(val, &end);
            int num_ok = end != val && *end == 0;
            if (!strcmp(key, "loss") && (!strcmp(val, "bce") || !strcmp(val, "bpr"))) p.weighting = !strcmp(val, "bpr");
            else if (!num_ok) bad = 1;
            else if (!strcmp(key, "lr") && v > 0 && v < 1) p.lr = (float)v;
            else if (!strcmp(key, "dim") && v >= 4 && v <= 256) p.dim = (int)v;
            else if (!strcmp(key, "negatives") && v >= 1 && v <= 50) p.k = (int)v;
            else if (!strcmp(key, "epochs") && v >= 1 && v <= 1000) p.epochs = (int)v;
            else if (!strcmp(key, "dropout") && v >= 0 && v < 1) p.alpha = (float)v;
            else if (!strcmp(key, "patience") && v >= 1 && v <= 1000) p.reg = (float)(int)v;
            else if (!strcmp(key, "refit") && (v == 0 || v == 1)) p.shrink = (float)v;
            else if (!strcmp(key, "wd") && v >= 0 && v < 100) p.decay = (float)v;
            else bad = 1;
        }
        free(list);
        if (bad) {
            cli_error("eval-rec", "--incf: expected key=value,... with loss=bce|bpr, lr, dim, negatives, epochs, "
                                  "dropout, patience, refit=0|1, wd in range");
            return 2;
        }
        incf_grid[0] = p;
        for (int i = 0; i < n_run; i++)
            if (!strncmp(run[i]->name, "improved-ncf", 12)) {
                incf_defs[i] = *run[i];
                incf_defs[i].grid = incf_grid;
                incf_defs[i].n_grid = 1;
                run[i] = &incf_defs[i];
            }
    }

    duet_rec_eval_opts eo;
    duet_rec_eval_opts_default(&eo);
    eo.n_seeds = (int)o.seeds;
    eo.seed0 = (uint64_t)o.seed0;
    eo.no_tune = o.no_tune;
    eo.progress = o.verbosity == CLI_QUIET ? -1 : o.progress ? 1 : 0;
    if (o.k != 5 && o.k != 10 && o.k != 20) {
        /* keep ascending order */
        int ks[4] = {5, 10, 20, (int)o.k}, n = 0;
        for (int i = 0; i < 4; i++)
            for (int j = i + 1; j < 4; j++)
                if (ks[j] < ks[i]) {
                    int t = ks[i];
                    ks[i] = ks[j];
                    ks[j] = t;
                }
        for (int i = 0; i < 4; i++) eo.ks[n++] = ks[i];
        eo.n_k = n;
    }
    int kshow = 0;
    for (int i = 0; i < eo.n_k; i++)
        if (eo.ks[i] == o.k) kshow = i;

    duet_err err = {0};
    duet_status st;
    duet_rec_dataset *ds = NULL;
    duet_rec_ncf *ncf = NULL;
    const char *protocol;
    if (o.ncf) {
        st = duet_rec_load_ncf(o.ncf, &ncf, &err);
        if (st) return cli_fail(NULL, st, &err);
        if (ncf->n_cold_items || ncf->n_cold_users)
            cli_info(o.verbosity, "eval-rec", "%s: %d test items and %d test users have no training interaction (cold)",
                     o.ncf, ncf->n_cold_items, ncf->n_cold_users);
        protocol = "sampled";
        printf("# eval-rec: %s, %d users, %d items, %lld training interactions, 1+%d sampled protocol, %ld seeds\n\n",
               o.ncf, ncf->n_users, ncf->n_items, (long long)ncf->train.nnz, ncf->n_neg, o.seeds);
    } else {
        duet_rec_sources src = {o.interactions, o.hetrec, o.item_attrs, o.item_features, o.spotify, o.kg, o.no_side};
        st = duet_rec_dataset_open(&src, &ds, &err);
        if (st) return cli_fail(NULL, st, &err);
        if (ds->n_cold_items)
            cli_info(o.verbosity, "eval-rec", "%d items appear only in the side files (cold: no interactions)",
                     ds->n_cold_items);
        protocol = o.cold ? "cold-start" : "full";
        int64_t nf = 0;
        for (int32_t i = 0; ds->has_feats && i < ds->n_items; i++) nf += ds->has_feats[i];
        printf("# eval-rec: %d users, %d items, %lld interactions; %d attribute tokens on %lld item-token pairs; "
               "%lld items with %d numeric features; %s protocol, %ld seeds\n\n",
               ds->n_users, ds->n_items, (long long)ds->ui.nnz, ds->n_tokens, (long long)ds->item_attr.nnz,
               (long long)nf, ds->n_feats, protocol, o.seeds);
    }

    /* content-aware models need side information (none in the NCF format) */
    int has_side = ds && (ds->item_attr.nnz > 0 || ds->n_feats > 0);
    if (!has_side) {
        int w = 0;
        for (int i = 0; i < n_run; i++) {
            if (run[i]->uses_side) {
                if (explicit_models) {
                    cli_error("eval-rec", "model '%s' needs %s", run[i]->name,
                              ncf ? "side information, which the NCF format lacks" : "--item-attrs or --item-features");
                    duet_rec_dataset_free(ds);
                    duet_rec_ncf_free(ncf);
                    return 1;
                }
                continue;
            }
            run[w++] = run[i];
        }
        n_run = w;
    }

    duet_rec_eval_result res[MAX_MODELS];
    duet_rec_side side = {0};
    if (ds) {
        side.item_attr = ds->item_attr.n_rows ? &ds->item_attr : NULL;
        side.item_feats = ds->item_feats;
        side.has_feats = ds->has_feats;
        side.n_feats = ds->n_feats;
        side.user_attr = ds->user_attr.n_rows ? &ds->user_attr : NULL;
        side.friends = ds->friends.n_rows ? &ds->friends : NULL;
        side.item_names = (const char *const *)ds->item_names;
        side.tokens = (const char *const *)ds->tokens;
    }
    int failed = 0;
    for (int i = 0; i < n_run; i++) {
        duet_err_clear(&err);
        st = ncf ? duet_rec_eval_sampled(run[i], ncf, &eo, &res[i], &err)
                 : duet_rec_eval_full(run[i], &ds->ui, &side, o.cold, &eo, &res[i], &err);
        if (st) {
            cli_fail("eval-rec", st, &err);
            failed = 1;
            break;
        }
        cli_debug(o.verbosity, "eval-rec", "%s: %d runs, %lld users, fit %.3f s, scoring %.3f s, tuning %.3f s; %s",
                  res[i].model, res[i].n_runs, (long long)res[i].n_users, res[i].fit_s, res[i].eval_s, res[i].tune_s,
                  res[i].chosen);
    }
    if (!failed) {
        int K = eo.ks[kshow];
        if (ncf) {
            printf("| model | HR@%d | NDCG@%d | users | config (per seed) |\n|---|---|---|---|---|\n", K, K);
        } else {
            printf("| model | Precision@%d | Recall@%d | F1@%d | MAP@%d | NDCG@%d | HR@%d | users | config (per seed) |\n"
                   "|---|---|---|---|---|---|---|---|---|\n",
                   K, K, K, K, K, K);
        }
        for (int i = 0; i < n_run; i++) {
            printf("| %s |", res[i].model);
            if (ncf) {
                print_cell(res[i].mean[kshow][REC_HR], res[i].std[kshow][REC_HR]);
                print_cell(res[i].mean[kshow][REC_NDCG], res[i].std[kshow][REC_NDCG]);
            } else {
                for (int m = 0; m < REC_N_METRICS; m++) print_cell(res[i].mean[kshow][m], res[i].std[kshow][m]);
            }
            printf(" %lld | %s |\n", (long long)res[i].n_users, res[i].chosen);
        }
        fflush(stdout);
        if (o.json) failed = write_json(o.json, protocol, &o, res, n_run) != 0;
    }
    duet_rec_dataset_free(ds);
    duet_rec_ncf_free(ncf);
    return failed ? 1 : 0;
}
