/* cli/cmd_train_sep.c: `duet train-sep`: train the separation network on
 * stem data (MIR-1K-style clips plus optional instrumentals), with
 * checkpoints, resume and early stopping. Thin over separation/sepnet_train.h. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../nn/gemm.h"
#include "../separation/sepnet_train.h"
#include "cli.h"

static void usage(FILE *f, const sepnet_train_opts *d)
{
    fprintf(f,
            "usage: duet train-sep --data DIR --out MODEL [options]\n\n"
            "Train duet's singing-voice separation network in C on CPU.\n"
            "DIR holds MIR-1K-style stereo clips (left = accompaniment, right = voice),\n"
            "either directly or in DIR/mir1k, and optionally DIR/instrumentals (extra\n"
            "accompaniment for remixing).\n\n"
            "  --data DIR          stem data (required)\n"
            "  -o, --out FILE      best model on validation (required)\n"
            "  --ckpt FILE         checkpoint written during training (default OUT.ckpt)\n"
            "  --resume FILE       continue from a checkpoint (bit-exact with 1 thread)\n"
            "  --steps N           total training steps (default %lld)\n"
            "  --val-singers LIST  singers held out for validation (default bobon,fdps)\n"
            "  --val-clips N       validation clips per evaluation, 0 = all (default %d)\n"
            "  --batch N           chunks per step (default %d)\n"
            "  --frames N          STFT frames per chunk (default %d)\n"
            "  --lr X              Adam learning rate (default %g)\n"
            "  --eval-every N      steps between validations (default %d)\n"
            "  --ckpt-every N      steps between checkpoints (default %d)\n"
            "  --patience N        early stop after N evaluations without gain, 0 = never (default %d)\n"
            "  --seed N            random seed (default %llu)\n"
            "  -j, --threads N     threads (default 2)\n"
            "  --base N            channels at full resolution (default %d)\n"
            "  --depth N           encoder levels (default %d)\n"
            "  --no-fem            ablation: no feature enhancement modules\n"
            "  --no-sa             ablation: no self-attention\n"
            "  --no-phase          ablation: magnitude only, no phase features\n"
            "  --transposed        ablation: transposed-conv up blocks instead of bilinear\n"
            "  -q, --quiet         no progress lines\n",
            (long long)d->steps, d->val_clips, d->batch, d->frames, (double)d->lr, d->eval_every,
            d->ckpt_every, d->patience, (unsigned long long)d->seed, d->cfg.base, d->cfg.depth);
}

int cmd_train_sep(int argc, char **argv)
{
    sepnet_train_opts o = sepnet_train_opts_default();
    const char *data = NULL, *val_singers = "bobon,fdps";
    long threads = 2, v;
    double x;
    enum { O_DATA = 256, O_CKPT, O_RESUME, O_STEPS, O_VALS, O_VALC, O_BATCH, O_FRAMES, O_LR, O_EVAL,
           O_CKPTE, O_PAT, O_SEED, O_BASE, O_DEPTH, O_NOFEM, O_NOSA, O_NOPH, O_TRANS };
    static const struct option lo[] = {
        {"data", 1, 0, O_DATA}, {"out", 1, 0, 'o'}, {"ckpt", 1, 0, O_CKPT}, {"resume", 1, 0, O_RESUME},
        {"steps", 1, 0, O_STEPS}, {"val-singers", 1, 0, O_VALS}, {"val-clips", 1, 0, O_VALC},
        {"batch", 1, 0, O_BATCH}, {"frames", 1, 0, O_FRAMES}, {"lr", 1, 0, O_LR},
        {"eval-every", 1, 0, O_EVAL}, {"ckpt-every", 1, 0, O_CKPTE}, {"patience", 1, 0, O_PAT},
        {"seed", 1, 0, O_SEED}, {"threads", 1, 0, 'j'}, {"base", 1, 0, O_BASE}, {"depth", 1, 0, O_DEPTH},
        {"no-fem", 0, 0, O_NOFEM}, {"no-sa", 0, 0, O_NOSA}, {"no-phase", 0, 0, O_NOPH},
        {"transposed", 0, 0, O_TRANS}, {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":o:j:qh", lo, NULL)) != -1) {
        switch (c) {
        case O_DATA: data = optarg; break;
        case 'o': o.out = optarg; break;
        case O_CKPT: o.ckpt = optarg; break;
        case O_RESUME: o.resume = optarg; break;
        case O_STEPS: if (cli_parse_int("--steps", optarg, 1, 100000000, &v)) return 2; o.steps = v; break;
        case O_VALS: val_singers = optarg; break;
        case O_VALC: if (cli_parse_int("--val-clips", optarg, 0, 100000, &v)) return 2; o.val_clips = (int)v; break;
        case O_BATCH: if (cli_parse_int("--batch", optarg, 1, 256, &v)) return 2; o.batch = (int)v; break;
        case O_FRAMES: if (cli_parse_int("--frames", optarg, 16, 4096, &v)) return 2; o.frames = (int)v; break;
        case O_LR: if (cli_parse_double("--lr", optarg, 1e-7, 1.0, &x)) return 2; o.lr = (float)x; break;
        case O_EVAL: if (cli_parse_int("--eval-every", optarg, 1, 100000000, &v)) return 2; o.eval_every = (int)v; break;
        case O_CKPTE: if (cli_parse_int("--ckpt-every", optarg, 1, 100000000, &v)) return 2; o.ckpt_every = (int)v; break;
        case O_PAT: if (cli_parse_int("--patience", optarg, 0, 100000, &v)) return 2; o.patience = (int)v; break;
        case O_SEED: if (cli_parse_int("--seed", optarg, 0, 2147483647L, &v)) return 2; o.seed = (uint64_t)v; break;
        case 'j': if (cli_parse_int("--threads", optarg, 1, 256, &threads)) return 2; break;
        case O_BASE: if (cli_parse_int("--base", optarg, 2, 256, &v)) return 2; o.cfg.base = (int)v; break;
        case O_DEPTH: if (cli_parse_int("--depth", optarg, 1, 6, &v)) return 2; o.cfg.depth = (int)v; break;
        case O_NOFEM: o.cfg.use_fem = 0; break;
        case O_NOSA: o.cfg.use_sa = 0; break;
        case O_NOPH: o.cfg.phase_ch = 0; break;
        case O_TRANS: o.cfg.transposed = 1; break;
        case 'q': o.progress = 0; break;
        case 'h': usage(stdout, &o); return 0;
        default: return cli_bad_option("train-sep", c, argc, argv);
        }
    }
    if (!data || !o.out || optind != argc) {
        cli_error("train-sep", "--data DIR and --out FILE are required (see duet train-sep --help)");
        return 2;
    }
    if (o.cfg.phase_ch >= o.cfg.base) o.cfg.phase_ch = o.cfg.base / 2;
    duet_err err;
    duet_err_clear(&err);
    duet_status st = sepnet_config_check(&o.cfg, &err);
    if (st) return cli_fail("train-sep", st, &err);
    duet_nn_set_threads(DUET_THREADS_OMP, (int)threads);
    char clips[4096], instr[4096];
    struct stat sb;
    snprintf(clips, sizeof clips, "%s/mir1k", data);
    if (stat(clips, &sb) != 0 || !S_ISDIR(sb.st_mode)) snprintf(clips, sizeof clips, "%s", data);
    snprintf(instr, sizeof instr, "%s/instrumentals", data);
    sepnet_dataset train, val;
    st = sepnet_load_mir1k(clips, o.cfg.sample_rate, val_singers, &train, &val, &err);
    if (st) return cli_fail(data, st, &err);
    if (stat(instr, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        st = sepnet_load_instrumentals(&train, instr, &err);
        if (st) {
            sepnet_dataset_free(&train);
            sepnet_dataset_free(&val);
            return cli_fail(instr, st, &err);
        }
    }
    st = sepnet_train(&o, &train, &val, &err);
    sepnet_dataset_free(&train);
    sepnet_dataset_free(&val);
    if (st) return cli_fail("train-sep", st, &err);
    return 0;
}
