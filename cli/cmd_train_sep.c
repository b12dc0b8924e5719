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
#include "../separation/sepnet_corpus.h"
#include "../separation/sepnet_train.h"
#include "cli.h"
#include "cli_opts.h"

static void usage(FILE *f, const duet_sepnet_train_opts *d)
{
    fprintf(f,
            "usage: duet train-sep --data DIR --out MODEL [options]\n"
            "       duet train-sep --musdb DIR [--data DIR] --out MODEL [options]\n\n"
            "Train duet's singing-voice separation network in C on CPU.\n"
            "DIR holds MIR-1K-style stereo clips (left = accompaniment, right = voice),\n"
            "either directly or in DIR/mir1k, and optionally DIR/instrumentals (extra\n"
            "accompaniment for remixing).\n"
            "With --musdb, a stereo full-band model (44.1 kHz, n_fft 4096, hop 1024, 2048\n"
            "bins, both channels in) trains on multitrack songs (DIR/<song>/{vocals,drums,\n"
            "bass,other}.ogg) remixed on the fly across songs, every --val-every-th song\n"
            "held out; --data then adds MIR-1K voices and its instrumentals to the pools.\n\n"
            "  --data DIR          MIR-1K-style stem data (required without --musdb)\n"
            "  --musdb DIR         multitrack songs: train the stereo full-band model\n"
            "  --val-every N       with --musdb: every N-th song is held out (default 6)\n"
            "  --val-songs LIST    with --musdb: hold out these songs instead\n"
            "  --extra-other DIR   with --musdb: more voice-free accompaniment (repeatable)\n"
            "  --extra-drums DIR   with --musdb: more drum tracks (repeatable)\n"
            "  --extra-minutes M   at most M minutes from each extra folder (default all)\n"
            "  --channels N        1 (each channel alone) or 2 (stereo; default with --musdb)\n"
            "  --rate HZ           model sample rate (default 16000; 44100 with --musdb)\n"
            "  --n-fft N --hop N   model STFT (defaults 1024/256; 4096/1024 with --musdb)\n"
            "  --bins N            frequency bins the network sees (default n_fft/2)\n"
            "  --phase-ch N        channels of the phase branch (default %d)\n"
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
            "  -q, --quiet         no progress lines (errors only)\n"
            "  -v, --verbose       a progress line every step (default: every 10)\n",
            d->cfg.phase_ch, (long long)d->steps, d->val_clips, d->batch, d->frames, (double)d->lr, d->eval_every,
            d->ckpt_every, d->patience, (unsigned long long)d->seed, d->cfg.base, d->cfg.depth);
}

int cmd_train_sep(int argc, char **argv)
{
    duet_sepnet_train_opts o = duet_sepnet_train_opts_default();
    const char *data = NULL, *val_singers = "bobon,fdps", *musdb = NULL, *val_songs = NULL;
    const char *extra_other[8] = {0}, *extra_drums[8] = {0};
    int n_other = 0, n_drums = 0;
    long val_every = 6, channels = 0, rate = 0, n_fft = 0, hop = 0, bins = 0, phase_ch = -1;
    double extra_min = 0;
    long threads = 2, v;
    double x;
    enum { O_DATA = 256, O_CKPT, O_RESUME, O_STEPS, O_VALS, O_VALC, O_BATCH, O_FRAMES, O_LR, O_EVAL,
           O_CKPTE, O_PAT, O_SEED, O_BASE, O_DEPTH, O_NOFEM, O_NOSA, O_NOPH, O_TRANS, O_MUSDB, O_VEVERY,
           O_VSONGS, O_XOTHER, O_XDRUMS, O_XMIN, O_CHAN, O_RATE, O_NFFT, O_HOP, O_BINS, O_PHCH };
    static const struct option lo[] = {
        {"data", 1, 0, O_DATA}, {"out", 1, 0, 'o'}, {"ckpt", 1, 0, O_CKPT}, {"resume", 1, 0, O_RESUME},
        {"steps", 1, 0, O_STEPS}, {"val-singers", 1, 0, O_VALS}, {"val-clips", 1, 0, O_VALC},
        {"batch", 1, 0, O_BATCH}, {"frames", 1, 0, O_FRAMES}, {"lr", 1, 0, O_LR},
        {"eval-every", 1, 0, O_EVAL}, {"ckpt-every", 1, 0, O_CKPTE}, {"patience", 1, 0, O_PAT},
        {"seed", 1, 0, O_SEED}, {"threads", 1, 0, 'j'}, {"base", 1, 0, O_BASE}, {"depth", 1, 0, O_DEPTH},
        {"no-fem", 0, 0, O_NOFEM}, {"no-sa", 0, 0, O_NOSA}, {"no-phase", 0, 0, O_NOPH},
        {"transposed", 0, 0, O_TRANS}, {"musdb", 1, 0, O_MUSDB}, {"val-every", 1, 0, O_VEVERY},
        {"val-songs", 1, 0, O_VSONGS}, {"extra-other", 1, 0, O_XOTHER}, {"extra-drums", 1, 0, O_XDRUMS},
        {"extra-minutes", 1, 0, O_XMIN}, {"channels", 1, 0, O_CHAN}, {"rate", 1, 0, O_RATE},
        {"n-fft", 1, 0, O_NFFT}, {"hop", 1, 0, O_HOP}, {"bins", 1, 0, O_BINS}, {"phase-ch", 1, 0, O_PHCH}, {"quiet", 0, 0, 'q'}, {"verbose", 0, 0, 'v'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    opterr = 0;
    optind = 1;
    int c, n_quiet = 0, n_verbose = 0;
    while ((c = getopt_long(argc, argv, ":o:j:qvh", lo, NULL)) != -1) {
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
        case O_MUSDB: musdb = optarg; break;
        case O_VEVERY: if (cli_parse_int("--val-every", optarg, 0, 1000000, &val_every)) return 2; break;
        case O_VSONGS: val_songs = optarg; break;
        case O_XOTHER:
            if (n_other == 8) { cli_error("train-sep", "at most 8 --extra-other folders"); return 2; }
            extra_other[n_other++] = optarg;
            break;
        case O_XDRUMS:
            if (n_drums == 8) { cli_error("train-sep", "at most 8 --extra-drums folders"); return 2; }
            extra_drums[n_drums++] = optarg;
            break;
        case O_XMIN: if (cli_parse_double("--extra-minutes", optarg, 0, 1e6, &extra_min)) return 2; break;
        case O_CHAN: if (cli_parse_int("--channels", optarg, 1, 2, &channels)) return 2; break;
        case O_RATE: if (cli_parse_int("--rate", optarg, 4000, 192000, &rate)) return 2; break;
        case O_NFFT: if (cli_parse_int("--n-fft", optarg, 64, 16384, &n_fft)) return 2; break;
        case O_HOP: if (cli_parse_int("--hop", optarg, 1, 8192, &hop)) return 2; break;
        case O_BINS: if (cli_parse_int("--bins", optarg, 16, 8193, &bins)) return 2; break;
        case O_PHCH: if (cli_parse_int("--phase-ch", optarg, 0, 255, &phase_ch)) return 2; break;
        case 'q': n_quiet++; break;
        case 'v': n_verbose++; break;
        case 'h': usage(stdout, &o); return 0;
        default: return cli_bad_option("train-sep", c, argc, argv);
        }
    }
    int verbosity = cli_verbosity("train-sep", n_quiet, n_verbose);
    if (verbosity == -2) return 2;
    if (verbosity == CLI_QUIET) o.progress = 0;
    if (verbosity == CLI_VERBOSE) o.log_every = 1;
    if ((!data && !musdb) || !o.out || optind != argc) {
        cli_error("train-sep", "--data DIR (or --musdb DIR) and --out FILE are required (see duet train-sep --help)");
        return 2;
    }
    if (musdb) { /* the stereo full-band model */
        o.cfg.sample_rate = 44100;
        o.cfg.channels = 2;
        o.cfg.n_fft = 4096;
        o.cfg.hop = 1024;
    }
    if (channels) o.cfg.channels = (int)channels;
    if (rate) o.cfg.sample_rate = (int)rate;
    if (n_fft) o.cfg.n_fft = (int)n_fft;
    if (hop) o.cfg.hop = (int)hop;
    if (musdb || n_fft) o.cfg.n_freq = o.cfg.n_fft / 2;
    if (bins) o.cfg.n_freq = (int)bins;
    if (phase_ch >= 0) o.cfg.phase_ch = (int)phase_ch;
    if (o.cfg.phase_ch >= o.cfg.base) o.cfg.phase_ch = o.cfg.base / 2;
    duet_err err;
    duet_err_clear(&err);
    duet_status st = duet_sepnet_config_check(&o.cfg, &err);
    if (st) return cli_fail("train-sep", st, &err);
    duet_nn_set_threads(DUET_THREADS_OMP, (int)threads);
    /* --data DIR: MIR-1K clips in DIR/mir1k (or DIR itself), instrumentals in DIR/instrumentals */
    char clips[4096], instr[4096], desc[1024];
    struct stat sb;
    int have_instr = 0;
    if (data) {
        snprintf(clips, sizeof clips, "%s/mir1k", data);
        if (stat(clips, &sb) != 0 || !S_ISDIR(sb.st_mode)) snprintf(clips, sizeof clips, "%s", data);
        snprintf(instr, sizeof instr, "%s/instrumentals", data);
        have_instr = stat(instr, &sb) == 0 && S_ISDIR(sb.st_mode);
    }
    duet_sepnet_dataset train, val;
    if (musdb) {
        duet_sepnet_corpus_opts co = duet_sepnet_corpus_opts_default();
        co.sample_rate = o.cfg.sample_rate;
        co.musdb = musdb;
        co.val_every = (int)val_every;
        co.val_songs = val_songs;
        co.max_minutes_extra = (float)extra_min;
        int no = 0;
        if (data) {
            co.mir1k = clips;
            co.mir1k_val = val_singers;
            if (have_instr) co.other_dirs[no++] = instr;
        }
        if (no + n_other > 8) {
            cli_error("train-sep", "at most %d --extra-other folders with --data (its instrumentals take one)", 8 - no);
            return 2;
        }
        for (int i = 0; i < n_other; i++) co.other_dirs[no++] = extra_other[i];
        for (int i = 0; i < n_drums; i++) co.drum_dirs[i] = extra_drums[i];
        st = duet_sepnet_corpus_load(&co, &train, &val, &err);
        if (st) return cli_fail(musdb, st, &err);
        int nk[SEPNET_KINDS];
        double sk[SEPNET_KINDS];
        duet_sepnet_corpus_stats(&train, nk, sk);
        if (o.progress)
            fprintf(stderr,
                    "train-sep: %d training songs (%.1f min), %d held out; pools: vocals %d (%.1f min), drums %d "
                    "(%.1f min), bass %d (%.1f min), other %d (%.1f min)\n",
                    train.n_clips, train.seconds / 60, val.n_clips, nk[0], sk[0] / 60, nk[1], sk[1] / 60, nk[2],
                    sk[2] / 60, nk[3], sk[3] / 60);
        snprintf(desc, sizeof desc,
                 "musdb %s: %d songs (%.1f min) remixed, %d held out; %s%s; pools vocals %.1f min, drums %.1f "
                 "min, bass %.1f min, other %.1f min",
                 musdb, train.n_clips, train.seconds / 60, val.n_clips, data ? "MIR-1K + instrumentals from " : "",
                 data ? data : "no MIR-1K", sk[0] / 60, sk[1] / 60, sk[2] / 60, sk[3] / 60);
    } else {
        st = duet_sepnet_load_mir1k(clips, o.cfg.sample_rate, val_singers, &train, &val, &err);
        if (st) return cli_fail(data, st, &err);
        if (have_instr && (st = duet_sepnet_load_instrumentals(&train, instr, &err)) != DUET_OK) {
            duet_sepnet_dataset_free(&train);
            duet_sepnet_dataset_free(&val);
            return cli_fail(instr, st, &err);
        }
        snprintf(desc, sizeof desc, "MIR-1K-style clips %s: %d training clips (%.1f min), %d validation clips%s",
                 clips, train.n_clips, train.seconds / 60, val.n_clips, have_instr ? " + instrumentals" : "");
    }
    o.train_data = desc;
    st = duet_sepnet_train(&o, &train, &val, &err);
    duet_sepnet_dataset_free(&train);
    duet_sepnet_dataset_free(&val);
    if (st) return cli_fail("train-sep", st, &err);
    return 0;
}
