/* cli/cmd_eval_rec.c: `duet eval-rec`: run recommendation models side by side
 * under one protocol and print a Markdown table (mean ± std over seeds),
 * optionally a JSON file. Thin layer over recommender/eval.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/atomic_file.h"
#include "../recommender/data.h"
#include "../recommender/eval.h"
#include "../recommender/model.h"
#include "cli.h"

#define MAX_MODELS 32

typedef struct eval_rec_opts {
    const char *interactions, *ncf, *hetrec;
    const char *item_attrs, *item_features, *spotify, *kg;
    const char *models;
    const char *json;
    const char *incf; /* "key=value,..." overriding the improved-ncf configuration */
    long seeds, seed0, k;
    int cold, no_tune, no_side, progress;
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
            "  --incf k=v,...       improved-ncf* configuration instead of the table's: loss=bce|bpr,\n"
            "                       lr, dim, negatives, epochs, dropout (item id), patience, refit=0|1,\n"
            "                       wd (AdamW weight decay)\n"
            "\nmodels:\n");
    int n;
    const rec_model_def *t = rec_models(&n);
    for (int i = 0; i < n; i++) fprintf(f, "  %-23s %s\n", t[i].name, t[i].summary);
}

static int parse(int argc, char **argv, eval_rec_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seeds = 3;
    o->seed0 = 1;
    o->k = 10;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        }
        if (!strcmp(a, "--interactions")) slot = &o->interactions;
        else if (!strcmp(a, "--ncf")) slot = &o->ncf;
        else if (!strcmp(a, "--hetrec")) slot = &o->hetrec;
        else if (!strcmp(a, "--item-attrs")) slot = &o->item_attrs;
        else if (!strcmp(a, "--item-features")) slot = &o->item_features;
        else if (!strcmp(a, "--spotify")) slot = &o->spotify;
        else if (!strcmp(a, "--kg")) slot = &o->kg;
        else if (!strcmp(a, "--models")) slot = &o->models;
        else if (!strcmp(a, "--json")) slot = &o->json;
        else if (!strcmp(a, "--incf")) slot = &o->incf;
        else if (!strcmp(a, "--cold-start")) o->cold = 1;
        else if (!strcmp(a, "--no-tune")) o->no_tune = 1;
        else if (!strcmp(a, "--no-side")) o->no_side = 1;
        else if (!strcmp(a, "--progress")) o->progress = 1;
        else if (!strcmp(a, "--seeds") || !strcmp(a, "--seed") || !strcmp(a, "--k")) {
            if (i + 1 >= argc) {
                cli_error("eval-rec", "%s needs a value", a);
                return 2;
            }
            long *dst = !strcmp(a, "--seeds") ? &o->seeds : !strcmp(a, "--seed") ? &o->seed0 : &o->k;
            long hi = !strcmp(a, "--seeds") ? 100 : !strcmp(a, "--k") ? 1000 : 1000000000L;
            if (cli_parse_int(a, argv[++i], !strcmp(a, "--seed") ? 0 : 1, hi, dst) != 0) return 2;
        } else {
            cli_error("eval-rec", "unknown option '%s' (see duet eval-rec --help)", a);
            return 2;
        }
        if (slot) {
            if (i + 1 >= argc || !argv[i + 1][0]) {
                cli_error("eval-rec", "%s needs a value", a);
                return 2;
            }
            *slot = argv[++i];
        }
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

static int is_dir(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int is_file(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static void print_cell(double m, double s) { printf(" %.4f ± %.4f |", m, s); }

static int write_json(const char *path, const char *protocol, const eval_rec_opts *o, const rec_eval_result *res,
                      int n)
{
    duet_atomic_file *af;
    duet_err err = {0};
    duet_status st = duet_atomic_open(path, &af, &err);
    if (st) return cli_fail(path, st, &err);
    FILE *f = duet_atomic_fp(af);
    fprintf(f, "{\n  \"protocol\": \"%s\",\n  \"seeds\": %ld,\n  \"models\": {", protocol, o->seeds);
    for (int r = 0; r < n; r++) {
        fprintf(f, "%s\n    \"%s\": {", r ? "," : "", res[r].model);
        int first = 1;
        for (int i = 0; i < res[r].n_k; i++)
            for (int m = 0; m < REC_N_METRICS; m++) {
                fprintf(f, "%s\"%s@%d\": %.6f, \"%s@%d.std\": %.6f", first ? "" : ", ", rec_metric_name(m),
                        res[r].ks[i], res[r].mean[i][m], rec_metric_name(m), res[r].ks[i], res[r].std[i][m]);
                first = 0;
            }
        fprintf(f, ", \"users\": %lld, \"runs\": %d, \"fit_seconds\": %.3f, \"eval_seconds\": %.3f, "
                   "\"tune_seconds\": %.3f, \"config\": \"",
                (long long)res[r].n_users, res[r].n_runs, res[r].fit_s, res[r].eval_s, res[r].tune_s);
        for (const char *c = res[r].chosen; *c; c++)
            if (*c == '"' || *c == '\\') fprintf(f, "\\%c", *c);
            else fputc(*c, f);
        fprintf(f, "\"}");
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
    const rec_model_def *run[MAX_MODELS];
    int n_run = 0, explicit_models = o.models != NULL;
    if (o.models) {
        char *list = strdup(o.models);
        if (!list) return cli_fail("eval-rec", DUET_ERR_NOMEM, NULL);
        for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
            const rec_model_def *m = rec_model_find(tok);
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
        const rec_model_def *t = rec_models(&n);
        for (int i = 0; i < n && n_run < MAX_MODELS; i++)
            if (t[i].fit) run[n_run++] = &t[i];
    }

    /* --incf: one configuration for the improved-ncf models */
    static rec_model_def incf_defs[MAX_MODELS];
    static rec_params incf_grid[1];
    if (o.incf) {
        /* the table's configuration, overridden key by key */
        const rec_model_def *base = rec_model_find("improved-ncf");
        if (!base || base->n_grid < 1) {
            cli_error("eval-rec", "--incf: this build has no improved-ncf model");
            return 2;
        }
        rec_params p = base->grid[0];
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

    rec_eval_opts eo;
    rec_eval_opts_default(&eo);
    eo.n_seeds = (int)o.seeds;
    eo.seed0 = (uint64_t)o.seed0;
    eo.no_tune = o.no_tune;
    eo.progress = o.progress ? 1 : 0;
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
    rec_dataset *ds = NULL;
    rec_ncf *ncf = NULL;
    const char *protocol;
    char spot_buf[4096], kg_buf[4096];
    if (o.ncf) {
        st = rec_load_ncf(o.ncf, &ncf, &err);
        if (st) return cli_fail(NULL, st, &err);
        protocol = "sampled";
        printf("# eval-rec: %s, %d users, %d items, %lld training interactions, 1+%d sampled protocol, %ld seeds\n\n",
               o.ncf, ncf->n_users, ncf->n_items, (long long)ncf->train.nnz, ncf->n_neg, o.seeds);
    } else {
        st = o.hetrec ? rec_load_hetrec(o.hetrec, &ds, &err) : rec_load_interactions_tsv(o.interactions, &ds, &err);
        if (st) return cli_fail(NULL, st, &err);
        if (o.hetrec && !o.no_side) {
            snprintf(spot_buf, sizeof spot_buf, "%s/../spotify-artist-features/hetrec_artist_spotify_features.tsv",
                     o.hetrec);
            snprintf(kg_buf, sizeof kg_buf, "%s/../kgcn-music", o.hetrec);
            if (!o.spotify && is_file(spot_buf)) o.spotify = spot_buf;
            if (!o.kg && is_dir(kg_buf)) o.kg = kg_buf;
        }
        if (!st && o.item_attrs) st = rec_load_item_attrs_tsv(ds, o.item_attrs, &err);
        if (!st && o.kg) st = rec_load_kgcn(ds, o.kg, &err);
        if (!st && o.item_features) st = rec_load_item_features_tsv(ds, o.item_features, 0, 1, &err);
        if (!st && o.spotify) st = rec_load_spotify_tsv(ds, o.spotify, &err);
        if (st) {
            rec_dataset_free(ds);
            return cli_fail(NULL, st, &err);
        }
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
                    rec_dataset_free(ds);
                    rec_ncf_free(ncf);
                    return 1;
                }
                continue;
            }
            run[w++] = run[i];
        }
        n_run = w;
    }

    rec_eval_result res[MAX_MODELS];
    rec_side side = {0};
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
        st = ncf ? rec_eval_sampled(run[i], ncf, &eo, &res[i], &err)
                 : rec_eval_full(run[i], &ds->ui, &side, o.cold, &eo, &res[i], &err);
        if (st) {
            cli_fail("eval-rec", st, &err);
            failed = 1;
            break;
        }
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
    rec_dataset_free(ds);
    rec_ncf_free(ncf);
    return failed ? 1 : 0;
}
