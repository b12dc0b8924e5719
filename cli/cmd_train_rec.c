/* cli/cmd_train_rec.c: `duet train-rec`: train the improved NCF (or one of
 * its ablations) on a whole data set and save it for `duet recommend`.
 * Thin layer over recommender/incf.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../recommender/data.h"
#include "../recommender/eval.h"
#include "../recommender/fused.h"
#include "../recommender/incf.h"
#include "../recommender/serve.h"
#include "../recommender/model.h"
#include "cli.h"
#include "cli_opts.h"

#include <getopt.h>

static void usage(FILE *f)
{
    duet_rec_incf_config d;
    duet_rec_incf_config_default(&d);
    fprintf(f,
            "usage: duet train-rec (--hetrec DIR | --interactions TSV | --ncf PREFIX) --out MODEL [options]\n"
            "\n"
            "Trains a model (default: the improved NCF) on every interaction of the data set and\n"
            "writes MODEL (safetensors) for `duet recommend`. The improved NCF holds out 10%% of each\n"
            "user's rows (users with >= 5) to early-stop its deep branch and fit its fusion weights,\n"
            "then refits its EASE, iALS and content branches on everything; the other models pick\n"
            "their configuration from eval-rec's grid on a validation split (20%% of each user's rows)\n"
            "and are then fitted on everything.\n"
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
            "  --model NAME         improved-ncf (default), improved-ncf-no-{deep,ease,ials,content},\n"
            "                       improved-ncf-deep[-no-{w2v,outer,group,content}], ease, ials, item-knn,\n"
            "                       user-knn, user-knn-adj, bpr-mf, neumf, content, popularity\n"
            "Improved NCF (the deep branch; not for the other models):\n"
            "  --epochs N           maximum epochs (default: auto, max(12, 2 x min-epochs))\n"
            "  --min-epochs N       epochs before early stopping may pick or stop (default: auto, enough\n"
            "                       epochs for 4,000 Adam steps, 1..200)\n"
            "  --patience N         stop after N epochs without a better smoothed validation NDCG@10 (mean of\n"
            "                       3 epochs; default: auto, max(2, min-epochs / 4))\n"
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
            "Output:\n",
            d.dim, d.negatives, (double)d.lr, (double)d.id_dropout, (double)d.weight_decay);
    cli_help_quiet_verbose(f, 23);
    fprintf(f, "  -h, --help           show this help\n"
               "Options take their value as --opt VALUE or --opt=VALUE.\n");
}

int cmd_train_rec(int argc, char **argv)
{
    const char *inter = NULL, *hetrec = NULL, *ncfp = NULL, *attrs = NULL, *feats = NULL, *spotify = NULL, *kg = NULL;
    const char *out = NULL, *model = "improved-ncf", *ckpt = NULL, *resume = NULL, *loss = "bce";
    duet_rec_incf_config cfg;
    duet_rec_incf_config_default(&cfg);
    long epochs = cfg.max_epochs, seed = 1, dim = cfg.dim, negs = cfg.negatives, patience = cfg.patience,
         min_epochs = cfg.min_epochs;
    double lr = cfg.lr, drop = cfg.id_dropout, wdecay = cfg.weight_decay;
    int no_side = 0, n_quiet = 0, n_verbose = 0, refit = 0, ncf_opts = 0;
    enum {
        O_INTER = 256, O_HETREC, O_NCF, O_ATTRS, O_FEATS, O_SPOTIFY, O_KG, O_OUT, O_MODEL, O_CKPT, O_RESUME,
        O_LOSS, O_EPOCHS, O_MINEP, O_SEED, O_DIM, O_NEGS, O_PATIENCE, O_LR, O_DROP, O_WD, O_NOSIDE, O_REFIT
    };
    static const struct option lo[] = {{"interactions", required_argument, 0, O_INTER},
                                       {"hetrec", required_argument, 0, O_HETREC},
                                       {"ncf", required_argument, 0, O_NCF},
                                       {"item-attrs", required_argument, 0, O_ATTRS},
                                       {"item-features", required_argument, 0, O_FEATS},
                                       {"spotify", required_argument, 0, O_SPOTIFY},
                                       {"kg", required_argument, 0, O_KG},
                                       {"out", required_argument, 0, O_OUT},
                                       {"model", required_argument, 0, O_MODEL},
                                       {"ckpt", required_argument, 0, O_CKPT},
                                       {"resume", required_argument, 0, O_RESUME},
                                       {"loss", required_argument, 0, O_LOSS},
                                       {"epochs", required_argument, 0, O_EPOCHS},
                                       {"min-epochs", required_argument, 0, O_MINEP},
                                       {"seed", required_argument, 0, O_SEED},
                                       {"dim", required_argument, 0, O_DIM},
                                       {"negatives", required_argument, 0, O_NEGS},
                                       {"patience", required_argument, 0, O_PATIENCE},
                                       {"lr", required_argument, 0, O_LR},
                                       {"id-dropout", required_argument, 0, O_DROP},
                                       {"weight-decay", required_argument, 0, O_WD},
                                       {"no-side", no_argument, 0, O_NOSIDE},
                                       {"refit", no_argument, 0, O_REFIT},
                                       CLI_OPT_QUIET_VERBOSE,
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    opterr = 0;
    optind = 1;
    int oc, li = 0;
    while ((oc = getopt_long(argc, argv, ":qvh", lo, &li)) != -1) {
        const char **slot = NULL;
        if (oc == O_LOSS || oc == O_REFIT || (oc >= O_EPOCHS && oc <= O_WD && oc != O_SEED)) ncf_opts++;
        switch (oc) {
        case O_INTER: slot = &inter; break;
        case O_HETREC: slot = &hetrec; break;
        case O_NCF: slot = &ncfp; break;
        case O_ATTRS: slot = &attrs; break;
        case O_FEATS: slot = &feats; break;
        case O_SPOTIFY: slot = &spotify; break;
        case O_KG: slot = &kg; break;
        case O_OUT: slot = &out; break;
        case O_MODEL: slot = &model; break;
        case O_CKPT: slot = &ckpt; break;
        case O_RESUME: slot = &resume; break;
        case O_LOSS: slot = &loss; break;
        case O_EPOCHS:
            if (cli_parse_int("--epochs", optarg, 1, 1000, &epochs)) return 2;
            break;
        case O_MINEP:
            if (cli_parse_int("--min-epochs", optarg, 1, 1000, &min_epochs)) return 2;
            break;
        case O_SEED:
            if (cli_parse_int("--seed", optarg, 0, 2147483647L, &seed)) return 2;
            break;
        case O_DIM:
            if (cli_parse_int("--dim", optarg, 4, 256, &dim)) return 2;
            break;
        case O_NEGS:
            if (cli_parse_int("--negatives", optarg, 1, 50, &negs)) return 2;
            break;
        case O_PATIENCE:
            if (cli_parse_int("--patience", optarg, 1, 1000, &patience)) return 2;
            break;
        case O_LR:
            if (cli_parse_double("--lr", optarg, 1e-7, 1.0, &lr)) return 2;
            break;
        case O_DROP:
            if (cli_parse_double("--id-dropout", optarg, 0.0, 0.95, &drop)) return 2;
            break;
        case O_WD:
            if (cli_parse_double("--weight-decay", optarg, 0.0, 99.0, &wdecay)) return 2;
            break;
        case O_NOSIDE: no_side = 1; break;
        case O_REFIT: refit = 1; break;
        case 'q': n_quiet++; break;
        case 'v': n_verbose++; break;
        case 'h': usage(stdout); return 0;
        default: return cli_bad_option("train-rec", oc, argc, argv);
        }
        if (slot) {
            if (cli_need_value("train-rec", lo[li].name, optarg)) return 2;
            *slot = optarg;
        }
    }
    if (cli_no_operands("train-rec", argc, argv)) return 2;
    int verbosity = cli_verbosity("train-rec", n_quiet, n_verbose);
    if (verbosity < CLI_QUIET) return 2;
    int quiet = verbosity == CLI_QUIET;
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
    const duet_rec_model_def *def = duet_rec_model_find(model);
    if (!def) {
        int nm;
        const duet_rec_model_def *t = duet_rec_models(&nm);
        char list[1024] = "";
        for (int k = 0; k < nm; k++) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s%s", k ? ", " : "", t[k].name);
        }
        cli_error("train-rec", "unknown model '%s' (one of: %s)", model, list);
        return 2;
    }
    /* the improved-ncf models: the fused model and its ablations, or the deep branch alone (incf.h) */
    int is_deep = !strncmp(model, "improved-ncf-deep", 17), is_fused = !is_deep && !strncmp(model, "improved-ncf", 12);
    cfg.variant = REC_INCF_FULL;
    if (is_deep) {
        const char *vn[] = {"improved-ncf-deep", "improved-ncf-deep-no-w2v", "improved-ncf-deep-no-outer",
                            "improved-ncf-deep-no-group", "improved-ncf-deep-no-content"};
        for (int k = 0; k < 5; k++)
            if (!strcmp(model, vn[k])) cfg.variant = k;
    } else if (!strcmp(model, "improved-ncf-no-content")) cfg.variant = REC_INCF_NO_CONTENT;
    if (!is_deep && !is_fused && (ncf_opts || ckpt || resume)) {
        cli_error("train-rec", "--dim/--negatives/--epochs/--min-epochs/--patience/--lr/--loss/--id-dropout/"
                               "--weight-decay/--refit/--ckpt/--resume apply to the improved-ncf models only");
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
    cfg.min_epochs = (int)min_epochs;
    cfg.lr = (float)lr;
    cfg.id_dropout = cfg.variant == REC_INCF_NO_CONTENT ? 0.0f : (float)drop;
    cfg.refit = refit;
    cfg.weight_decay = (float)wdecay;

    duet_err err = {0};
    duet_status st;
    duet_rec_dataset *ds = NULL;
    duet_rec_ncf *ncf = NULL;
    duet_rec_fit_ctx ctx = {0};
    if (ncfp) {
        st = duet_rec_load_ncf(ncfp, &ncf, &err);
        if (st) return cli_fail(NULL, st, &err);
        if (ncf->n_cold_items || ncf->n_cold_users)
            cli_info(verbosity, "train-rec", "%s: %d test items and %d test users have no training interaction (cold)",
                     ncfp, ncf->n_cold_items, ncf->n_cold_users);
        ctx.train = &ncf->train;
    } else {
        duet_rec_sources src = {inter, hetrec, attrs, feats, spotify, kg, no_side};
        st = duet_rec_dataset_open(&src, &ds, &err);
        if (st) return cli_fail(NULL, st, &err);
        spotify = ds->spotify_file;
        kg = ds->kg_dir;
        if (ds->n_cold_items)
            cli_info(verbosity, "train-rec", "%d items appear only in the side files (cold: no interactions)",
                     ds->n_cold_items);
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
    cli_info(verbosity, "train-rec", "%d users, %d items, %lld interactions; %s", ctx.train->n_rows,
             ctx.train->n_cols, (long long)ctx.train->nnz, model);
    cli_debug(verbosity, "train-rec",
              "configuration: dim %d, negatives %d, lr %g, loss %s, epochs <= %d, min epochs %d, patience %d "
              "(improved-ncf deep branch; 0 = auto), id-dropout %g, "
              "weight-decay %g, refit %s, seed %ld; side information: item attributes %s, item features %s, "
              "spotify %s, kg %s; checkpoint %s, resume %s",
              cfg.dim, cfg.negatives, (double)cfg.lr, loss, cfg.max_epochs, cfg.min_epochs, cfg.patience, (double)cfg.id_dropout,
              (double)cfg.weight_decay, refit ? "yes" : "no", seed, attrs ? attrs : "-", feats ? feats : "-",
              spotify ? spotify : "-", kg ? kg : "-", ckpt ? ckpt : "-", resume ? resume : "-");
    duet_rec_incf_train_opts topt = {ckpt, resume};
    void *state = NULL;
    duet_rec_params p = def->grid[0];
    if (is_deep || is_fused) {
        /* the table's mapping of the options (model.h, incf.h) for the file's description */
        p.dim = cfg.dim;
        p.k = cfg.negatives;
        p.epochs = cfg.max_epochs;
        p.lr = cfg.lr;
        p.alpha = cfg.id_dropout;
        p.weighting = cfg.loss;
        p.shrink = (float)cfg.refit;
        p.decay = cfg.weight_decay;
        p.reg = (float)cfg.patience;
    }
    if (is_fused) {
        duet_rec_fused_config fc;
        duet_rec_fused_config_default(&fc);
        fc.deep = cfg;
        fc.use[REC_FUSED_DEEP] = strcmp(model, "improved-ncf-no-deep") != 0;
        fc.use[REC_FUSED_EASE] = strcmp(model, "improved-ncf-no-ease") != 0;
        fc.use[REC_FUSED_IALS] = strcmp(model, "improved-ncf-no-ials") != 0;
        fc.use[REC_FUSED_CONTENT] = strcmp(model, "improved-ncf-no-content") != 0;
        duet_rec_fused *fm = NULL;
        st = duet_rec_fused_train_ex(&ctx, &fc, &topt, &fm, &err);
        state = fm;
        if (!st) {
            char wbuf[160] = "";
            for (int b = 0; b < REC_FUSED_N; b++)
                if (duet_rec_fused_has(fm, b)) {
                    size_t l = strlen(wbuf);
                    snprintf(wbuf + l, sizeof wbuf - l, "%s%s %.3f", l ? ", " : "", duet_rec_fused_branch_name(b),
                             (double)duet_rec_fused_weight(fm, b));
                }
            cli_info(verbosity, "train-rec", "fusion weights: %s", wbuf);
            if (duet_rec_fused_deep(fm))
                cli_info(verbosity, "train-rec", "deep branch: best epoch %d, validation NDCG@10 %.4f",
                         duet_rec_incf_best_epoch(duet_rec_fused_deep(fm)),
                         duet_rec_incf_best_valid(duet_rec_fused_deep(fm)));
        }
    } else if (is_deep) {
        duet_rec_incf *m = NULL;
        st = duet_rec_incf_train(&ctx, &cfg, &topt, &m, &err);
        state = m;
        if (!st)
            cli_info(verbosity, "train-rec", "best epoch %d, validation NDCG@10 %.4f", duet_rec_incf_best_epoch(m),
                     duet_rec_incf_best_valid(m));
    } else {
        st = duet_rec_fit_tuned(def, &ctx, 1, &p, &state, &err);
        if (!st) {
            char desc[256];
            duet_rec_params_describe(def, &p, desc, sizeof desc);
            cli_info(verbosity, "train-rec", "%s: %s (chosen on a validation split)", model, desc);
        }
    }
    int rc = 0;
    if (st) rc = cli_fail(resume ? resume : "train-rec", st, &err);
    if (!rc) {
        if (ds)
            st = duet_rec_served_save(out, def, &p, state, ctx.train, (const char *const *)ds->user_ids,
                                      (const char *const *)ds->item_ids, (const char *const *)ds->item_names, &err);
        else st = duet_rec_served_save(out, def, &p, state, ctx.train, NULL, NULL, NULL, &err);
        if (st) rc = cli_fail(out, st, &err);
        else cli_info(verbosity, "train-rec", "%s: %s written", out, model);
    }
    if (state) def->free_state(state);
    duet_rec_dataset_free(ds);
    duet_rec_ncf_free(ncf);
    return rc;
}
