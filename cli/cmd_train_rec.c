/* cli/cmd_train_rec.c: `duet train-rec`: train the improved NCF (or one of
 * its ablations) on a whole data set and save it for `duet recommend`.
 * Thin layer over recommender/incf.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../recommender/data.h"
#include "../recommender/incf.h"
#include "../recommender/model.h"
#include "cli.h"

static void usage(FILE *f)
{
    rec_incf_config d;
    rec_incf_config_default(&d);
    fprintf(f,
            "usage: duet train-rec (--hetrec DIR | --interactions TSV | --ncf PREFIX) --out MODEL [options]\n"
            "\n"
            "Trains the improved NCF on every interaction of the data set (10%% of each user's rows,\n"
            "users with >= 5, are held out for early stopping) and writes MODEL (safetensors) for\n"
            "`duet recommend`.\n"
            "Data (one of):\n"
            "  --interactions TSV   `user<TAB>item[<TAB>weight]` rows\n"
            "  --hetrec DIR         HetRec 2011 Last.fm-2k folder (sibling spotify-artist-features/ and\n"
            "                       kgcn-music/ folders are used when present, unless --no-side)\n"
            "  --ncf PREFIX         PREFIX.train.rating (ids are the integers of the file)\n"
            "Side information:\n"
            "  --item-attrs TSV     `item<TAB>key<TAB>value` rows\n"
            "  --item-features TSV  header `item f1 f2 ...`, one numeric row per item\n"
            "  --spotify TSV, --kg DIR, --no-side   as in duet eval-rec\n"
            "Model and training:\n"
            "  --model NAME         improved-ncf (default), improved-ncf-no-w2v, -no-outer, -no-group, -no-content\n"
            "  --epochs N           maximum epochs (default %d; early stopping with --patience, default %d)\n"
            "  --dim N              group vector size (default %d)\n"
            "  --negatives N        sampled negatives per positive (default %d)\n"
            "  --lr X               Adam learning rate (default %g)\n"
            "  --loss bce|bpr       (default bce)\n"
            "  --id-dropout X       probability of hiding an item's id in training (default %g)\n"
            "  --weight-decay X     AdamW weight decay on weights and embedding rows (default %g)\n"
            "  --refit              retrain on all interactions for the best number of epochs\n"
            "  --seed N             (default 1)\n"
            "  --ckpt FILE          write a training checkpoint after every epoch (atomically)\n"
            "  --resume FILE        continue from a checkpoint (same data, options and seed)\n"
            "  --quiet              no progress on stderr\n",
            d.max_epochs, d.patience, d.dim, d.negatives, (double)d.lr, (double)d.id_dropout, (double)d.weight_decay);
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

int cmd_train_rec(int argc, char **argv)
{
    const char *inter = NULL, *hetrec = NULL, *ncfp = NULL, *attrs = NULL, *feats = NULL, *spotify = NULL, *kg = NULL;
    const char *out = NULL, *model = "improved-ncf", *ckpt = NULL, *resume = NULL, *loss = "bce";
    rec_incf_config cfg;
    rec_incf_config_default(&cfg);
    long epochs = cfg.max_epochs, seed = 1, dim = cfg.dim, negs = cfg.negatives, patience = cfg.patience;
    double lr = cfg.lr, drop = cfg.id_dropout, wdecay = cfg.weight_decay;
    int no_side = 0, quiet = 0, refit = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--no-side")) {
            no_side = 1;
            continue;
        }
        if (!strcmp(a, "--quiet")) {
            quiet = 1;
            continue;
        }
        if (!strcmp(a, "--refit")) {
            refit = 1;
            continue;
        }
        if (i + 1 >= argc || !argv[i + 1][0]) {
            if (a[0] == '-') cli_error("train-rec", "%s needs a value", a);
            else cli_error("train-rec", "unexpected argument '%s' (see duet train-rec --help)", a);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--interactions")) inter = v;
        else if (!strcmp(a, "--hetrec")) hetrec = v;
        else if (!strcmp(a, "--ncf")) ncfp = v;
        else if (!strcmp(a, "--item-attrs")) attrs = v;
        else if (!strcmp(a, "--item-features")) feats = v;
        else if (!strcmp(a, "--spotify")) spotify = v;
        else if (!strcmp(a, "--kg")) kg = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--ckpt")) ckpt = v;
        else if (!strcmp(a, "--resume")) resume = v;
        else if (!strcmp(a, "--loss")) loss = v;
        else if (!strcmp(a, "--epochs")) {
            if (cli_parse_int(a, v, 1, 1000, &epochs)) return 2;
        } else if (!strcmp(a, "--seed")) {
            if (cli_parse_int(a, v, 0, 2147483647L, &seed)) return 2;
        } else if (!strcmp(a, "--dim")) {
            if (cli_parse_int(a, v, 4, 256, &dim)) return 2;
        } else if (!strcmp(a, "--negatives")) {
            if (cli_parse_int(a, v, 1, 50, &negs)) return 2;
        } else if (!strcmp(a, "--patience")) {
            if (cli_parse_int(a, v, 1, 1000, &patience)) return 2;
        } else if (!strcmp(a, "--lr")) {
            if (cli_parse_double(a, v, 1e-7, 1.0, &lr)) return 2;
        } else if (!strcmp(a, "--id-dropout")) {
            if (cli_parse_double(a, v, 0.0, 0.95, &drop)) return 2;
        } else if (!strcmp(a, "--weight-decay")) {
            if (cli_parse_double(a, v, 0.0, 99.0, &wdecay)) return 2;
        } else {
            cli_error("train-rec", "unknown option '%s' (see duet train-rec --help)", a);
            return 2;
        }
    }
    if (!!inter + !!hetrec + !!ncfp != 1) {
        cli_error("train-rec", "give exactly one of --interactions, --hetrec, --ncf (see --help)");
        return 2;
    }
    if (!out) {
        cli_error("train-rec", "--out MODEL is required");
        return 2;
    }
    if (ncfp && (attrs || feats || spotify || kg)) {
        cli_error("train-rec", "--ncf data has no side information (no --item-attrs/--item-features/--spotify/--kg)");
        return 2;
    }
    const char *vn[] = {"improved-ncf", "improved-ncf-no-w2v", "improved-ncf-no-outer", "improved-ncf-no-group",
                        "improved-ncf-no-content"};
    cfg.variant = -1;
    for (int k = 0; k < 5; k++)
        if (!strcmp(model, vn[k])) cfg.variant = k;
    if (cfg.variant < 0) {
        cli_error("train-rec", "unknown model '%s' (improved-ncf or improved-ncf-no-{w2v,outer,group,content})", model);
        return 2;
    }
    if (strcmp(loss, "bce") && strcmp(loss, "bpr")) {
        cli_error("train-rec", "--loss must be bce or bpr");
        return 2;
    }
    cfg.loss = !strcmp(loss, "bpr");
    cfg.max_epochs = (int)epochs;
    cfg.dim = (int)dim;
    cfg.negatives = (int)negs;
    cfg.patience = (int)patience;
    cfg.lr = (float)lr;
    cfg.id_dropout = cfg.variant == REC_INCF_NO_CONTENT ? 0.0f : (float)drop;
    cfg.refit = refit;
    cfg.weight_decay = (float)wdecay;

    duet_err err = {0};
    duet_status st;
    rec_dataset *ds = NULL;
    rec_ncf *ncf = NULL;
    rec_fit_ctx ctx = {0};
    char spot_buf[4096], kg_buf[4096];
    if (ncfp) {
        st = rec_load_ncf(ncfp, &ncf, &err);
        if (st) return cli_fail(NULL, st, &err);
        ctx.train = &ncf->train;
    } else {
        st = hetrec ? rec_load_hetrec(hetrec, &ds, &err) : rec_load_interactions_tsv(inter, &ds, &err);
        if (st) return cli_fail(NULL, st, &err);
        if (hetrec && !no_side) {
            snprintf(spot_buf, sizeof spot_buf, "%s/../spotify-artist-features/hetrec_artist_spotify_features.tsv",
                     hetrec);
            snprintf(kg_buf, sizeof kg_buf, "%s/../kgcn-music", hetrec);
            if (!spotify && is_file(spot_buf)) spotify = spot_buf;
            if (!kg && is_dir(kg_buf)) kg = kg_buf;
        }
        if (!st && attrs) st = rec_load_item_attrs_tsv(ds, attrs, &err);
        if (!st && kg) st = rec_load_kgcn(ds, kg, &err);
        if (!st && feats) st = rec_load_item_features_tsv(ds, feats, 0, 1, &err);
        if (!st && spotify) st = rec_load_spotify_tsv(ds, spotify, &err);
        if (st) {
            rec_dataset_free(ds);
            return cli_fail(NULL, st, &err);
        }
        ctx.train = &ds->ui;
        ctx.side.item_attr = ds->item_attr.n_rows ? &ds->item_attr : NULL;
        ctx.side.item_feats = ds->item_feats;
        ctx.side.has_feats = ds->has_feats;
        ctx.side.n_feats = ds->n_feats;
        ctx.side.user_attr = ds->user_attr.n_rows ? &ds->user_attr : NULL;
        ctx.side.friends = ds->friends.n_rows ? &ds->friends : NULL;
        ctx.side.item_names = (const char *const *)ds->item_names;
        ctx.side.tokens = (const char *const *)ds->tokens;
    }
    ctx.seed = (uint64_t)seed;
    ctx.progress = quiet ? -1 : 1;
    if (!quiet)
        fprintf(stderr, "duet: train-rec: %d users, %d items, %lld interactions; %s\n", ctx.train->n_rows,
            ctx.train->n_cols, (long long)ctx.train->nnz, model);
    rec_incf_train_opts topt = {ckpt, resume};
    rec_incf *m = NULL;
    st = rec_incf_train(&ctx, &cfg, &topt, &m, &err);
    int rc = 0;
    if (st) rc = cli_fail(resume ? resume : "train-rec", st, &err);
    if (!rc) {
        if (ds)
            st = rec_incf_save(m, out, (const char *const *)ds->user_ids, (const char *const *)ds->item_ids,
                               (const char *const *)ds->item_names, &err);
        else st = rec_incf_save(m, out, NULL, NULL, NULL, &err);
        if (st) rc = cli_fail(out, st, &err);
        else if (!quiet)
            fprintf(stderr, "duet: train-rec: %s: best epoch %d, validation NDCG@10 %.4f\n", out,
                    rec_incf_best_epoch(m), rec_incf_best_valid(m));
    }
    rec_incf_free(m);
    rec_dataset_free(ds);
    rec_ncf_free(ncf);
    return rc;
}
