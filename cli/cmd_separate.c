/* cli/cmd_separate.c: `duet separate [-o DIR] [--format wav|flac]
 * [--method NAME] [--wiener N] [--spectrogram] FILE...`: split songs into
 * DIR/<track>/vocals.wav and DIR/<track>/accompaniment.wav (or .flac) with
 * any separator of separation/separators.h, keeping the input's rate,
 * channels and length. The trained model (the default) streams: the song is
 * decoded, separated and written block by block (sepnet_stream), so memory
 * does not grow with the length; other methods decode the whole song. Both
 * stems are written to temporary files and renamed into place only when both
 * are complete (never one without the other, never a partial file). */
#define _GNU_SOURCE
#include "cli.h"
#include "../audio/audio.h"
#include "../common/progress.h"
#include "../features/specpic.h"
#include "../separation/separators.h"
#include "../separation/sepnet_infer.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_FRAMES 65536

static void separate_usage(FILE *f)
{
    const duet_separator *def = duet_separator_default();
    fprintf(f,
            "usage: duet separate [OPTIONS] FILE...\n\n"
            "Separate each song into its singing voice and its accompaniment, written as\n"
            "DIR/<track>/vocals.<ext> and DIR/<track>/accompaniment.<ext> at the input's\n"
            "sample rate, channel count and exact length.\n\n"
            "options:\n"
            "  -o, --out DIR        output folder (default: separated)\n"
            "  -f, --format FMT     wav (32-bit float, default) or flac (24-bit)\n"
            "  -m, --method NAME    separator (default: %s); one of:\n",
            def ? def->name : "?");
    for (int i = 0; duet_separator_at(i); i++) {
        const duet_separator *s = duet_separator_at(i);
        fprintf(f, "                         %-12s %s%s\n", s->name, s->summary,
                s->needs_references ? " [eval-sep only]" : "");
    }
    fprintf(f,
            "      --model FILE     weights for the model method (default: $DUET_MODEL, else\n"
            "                       the model built into duet; `duet info --model` shows it)\n"
            "      --wiener N       Wiener post-filter iterations (model: multichannel EM as\n"
            "                       norbert/Open-Unmix; 0 = off, the default: on MIR-1K it\n"
            "                       raises SIR but lowers SDR)\n"
            "      --spectrogram    also write DIR/<track>/spectrogram.png (mixture, vocals,\n"
            "                       accompaniment)\n"
            "      --progress       draw the progress line even when stderr is not a terminal\n"
            "  -q, --quiet          no per-file line and no progress\n"
            "  -h, --help           show this help\n");
}

/* basename without extension */
static void track_name(const char *path, char *out, size_t n)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(out, n, "%s", b);
    char *dot = strrchr(out, '.');
    if (dot && dot != out) *dot = 0;
}

typedef struct job {
    const char *path;            /* input */
    char dir[4096], pv[4400], pa[4400], png[4400];
    duet_audio_filetype ft;
    int spectrogram, quiet, progress_force, wiener;
    int made_dir;                /* 1 = this run created dir (removed again on failure) */
} job;

/* Make the track folder, remembering whether it is new. */
static int make_dir(job *j)
{
    struct stat sb;
    j->made_dir = stat(j->dir, &sb) != 0;
    if (cli_mkdirs(j->dir) != 0) {
        cli_error(j->dir, "cannot create the output folder: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* After a failure: leave nothing behind (the folder only if we made it and it is empty). */
static void cleanup_dir(job *j)
{
    if (j->made_dir) rmdir(j->dir);
}

typedef struct stream_out {
    duet_audio_writer *wv, *wa;
    duet_specpic *pic;
    duet_status st;
    duet_err err;
    const char *what;            /* file the error is about */
    const job *j;
} stream_out;

static int on_stems(void *user, const float *const *mix, const float *const *voc, const float *const *acc, int64_t n)
{
    stream_out *o = user;
    duet_status st = duet_audio_writer_write(o->wv, voc, n, &o->err);
    if (st) o->what = o->j->pv;
    if (!st) {
        st = duet_audio_writer_write(o->wa, acc, n, &o->err);
        if (st) o->what = o->j->pa;
    }
    if (!st && o->pic) {
        st = duet_specpic_feed(o->pic, 0, mix, n, &o->err);
        if (!st) st = duet_specpic_feed(o->pic, 1, voc, n, &o->err);
        if (!st) st = duet_specpic_feed(o->pic, 2, acc, n, &o->err);
        if (st) o->what = o->j->png;
    }
    o->st = st;
    return st != DUET_OK;
}

static const char *const PANELS[3] = {"mixture", "vocals", "accompaniment"};

/* Commit both stems (vocals first; if the accompaniment fails the new
 * vocals are removed again). */
static int commit_both(job *j, duet_audio_writer *wv, duet_audio_writer *wa)
{
    duet_err err = {0};
    duet_status st = duet_audio_writer_commit(wv, &err);
    if (st) {
        duet_audio_writer_abort(wa);
        return cli_fail(j->pv, st, &err);
    }
    st = duet_audio_writer_commit(wa, &err);
    if (st) {
        remove(j->pv);
        return cli_fail(j->pa, st, &err);
    }
    return 0;
}

/* The trained model, streamed from the file to the stems. */
static int separate_streaming(job *j, const sepnet *net)
{
    duet_err err = {0};
    duet_audio_reader *rd = NULL;
    duet_status st = duet_audio_reader_open(j->path, NULL, &rd, &err);
    if (st) return cli_fail(j->path, st, &err);
    const duet_audio_reader_info *info = duet_audio_reader_get_info(rd);
    const int C = info->channels;
    if (info->frames == 0) {
        duet_audio_reader_close(rd);
        cli_error(j->path, "no samples to separate");
        return 1;
    }
    int rc = 1;
    stream_out o;
    memset(&o, 0, sizeof o);
    o.j = j;
    sepnet_stream *ss = NULL;
    float *buf = NULL;
    float **chp = calloc((size_t)C, sizeof *chp);
    duet_progress prog;
    double t0 = duet_now();
    if (make_dir(j) != 0) {
        free(chp);
        duet_audio_reader_close(rd);
        return 1;
    }
    buf = malloc(sizeof(float) * (size_t)C * READ_FRAMES);
    if (!chp || !buf) {
        cli_error(j->path, "out of memory");
        goto out;
    }
    for (int c = 0; c < C; c++) chp[c] = buf + (size_t)c * READ_FRAMES;
    st = duet_audio_writer_open(j->pv, C, info->sample_rate, j->ft, &o.wv, &err);
    if (st) {
        rc = cli_fail(j->pv, st, &err);
        goto out;
    }
    st = duet_audio_writer_open(j->pa, C, info->sample_rate, j->ft, &o.wa, &err);
    if (st) {
        rc = cli_fail(j->pa, st, &err);
        goto out;
    }
    if (j->spectrogram) {
        st = duet_specpic_new(3, C, info->sample_rate, &o.pic, &err);
        if (st) {
            rc = cli_fail(j->png, st, &err);
            goto out;
        }
    }
    sepnet_sep_opts so;
    memset(&so, 0, sizeof so);
    so.wiener_iters = j->wiener;
    st = sepnet_stream_new(net, C, info->sample_rate, &so, on_stems, &o, &ss, &err);
    if (st) {
        rc = cli_fail(j->path, st, &err);
        goto out;
    }
    const char *base = strrchr(j->path, '/');
    duet_progress_init(&prog, base ? base + 1 : j->path, (double)info->frames, j->progress_force);
    for (;;) {
        int64_t got = 0;
        st = duet_audio_reader_read(rd, chp, READ_FRAMES, &got, &err);
        if (st || got == 0) break;
        st = sepnet_stream_feed(ss, (const float *const *)chp, got, &err);
        if (st) break;
        duet_progress_update(&prog, (double)sepnet_stream_frames_in(ss), NULL);
    }
    if (!st && sepnet_stream_frames_in(ss) == 0) {
        duet_progress_done(&prog);
        cli_error(j->path, "no samples to separate");
        goto out;
    }
    if (!st) st = sepnet_stream_finish(ss, &err);
    duet_progress_done(&prog);
    if (st) {
        if (o.st) rc = cli_fail(o.what, o.st, &o.err); /* the output side failed */
        else rc = cli_fail(j->path, st, &err);
        goto out;
    }
    if (o.pic) {
        st = duet_specpic_write(o.pic, j->png, PANELS, &err);
        if (st) {
            rc = cli_fail(j->png, st, &err);
            goto out;
        }
    }
    rc = commit_both(j, o.wv, o.wa);
    o.wv = o.wa = NULL;
    if (rc != 0) {
        if (o.pic) remove(j->png);
    } else if (!j->quiet) {
        int64_t n = sepnet_stream_frames_out(ss);
        double secs = duet_now() - t0;
        fprintf(stderr, "%s: model%s -> %s/ (%.1f s of audio in %.2f s, real-time factor %.3f)\n", j->path,
                j->wiener ? " + Wiener" : "", j->dir, (double)n / info->sample_rate, secs,
                secs / ((double)n / info->sample_rate));
    }
out:
    if (o.wv) duet_audio_writer_abort(o.wv);
    if (o.wa) duet_audio_writer_abort(o.wa);
    if (rc != 0) cleanup_dir(j);
    duet_specpic_free(o.pic);
    sepnet_stream_free(ss);
    duet_audio_reader_close(rd);
    free(buf);
    free(chp);
    return rc;
}

/* Any other separator: the whole song in memory. */
static int separate_whole(job *j, const duet_separator *sep, void *state)
{
    duet_err err = {0};
    duet_audio mix, v, a;
    duet_status st = duet_audio_read(j->path, NULL, &mix, NULL, &err);
    if (st) return cli_fail(j->path, st, &err);
    if (mix.frames == 0) {
        cli_error(j->path, "no samples to separate");
        duet_audio_free(&mix);
        return 1;
    }
    double t0 = duet_now();
    duet_sep_input in = {&mix, NULL, NULL};
    st = duet_sep_check_input(sep, &in, &err);
    if (!st) st = sep->run(state, &in, &v, &a, &err);
    if (st) {
        duet_audio_free(&mix);
        return cli_fail(j->path, st, &err);
    }
    int rc = 1;
    duet_audio_writer *wv = NULL, *wa = NULL;
    duet_specpic *pic = NULL;
    if (make_dir(j) != 0) goto out;
    const float *const *pm = (const float *const *)mix.ch, *const *pv = (const float *const *)v.ch,
                       *const *pa = (const float *const *)a.ch;
    st = duet_audio_writer_open(j->pv, mix.channels, mix.sample_rate, j->ft, &wv, &err);
    if (st) {
        rc = cli_fail(j->pv, st, &err);
        goto out;
    }
    st = duet_audio_writer_write(wv, pv, v.frames, &err);
    if (st) {
        rc = cli_fail(j->pv, st, &err);
        goto out;
    }
    st = duet_audio_writer_open(j->pa, mix.channels, mix.sample_rate, j->ft, &wa, &err);
    if (!st) st = duet_audio_writer_write(wa, pa, a.frames, &err);
    if (st) {
        rc = cli_fail(j->pa, st, &err);
        goto out;
    }
    if (j->spectrogram) {
        st = duet_specpic_new(3, mix.channels, mix.sample_rate, &pic, &err);
        if (!st) st = duet_specpic_feed(pic, 0, pm, mix.frames, &err);
        if (!st) st = duet_specpic_feed(pic, 1, pv, v.frames, &err);
        if (!st) st = duet_specpic_feed(pic, 2, pa, a.frames, &err);
        if (!st) st = duet_specpic_write(pic, j->png, PANELS, &err);
        if (st) {
            rc = cli_fail(j->png, st, &err);
            goto out;
        }
    }
    rc = commit_both(j, wv, wa);
    wv = wa = NULL;
    if (rc != 0) {
        if (pic) remove(j->png);
    } else if (!j->quiet)
        fprintf(stderr, "%s: %s -> %s/ (%.1f s of audio in %.2f s)\n", j->path, sep->name, j->dir,
                (double)mix.frames / mix.sample_rate, duet_now() - t0);
out:
    if (wv) duet_audio_writer_abort(wv);
    if (wa) duet_audio_writer_abort(wa);
    if (rc != 0) cleanup_dir(j);
    duet_specpic_free(pic);
    duet_audio_free(&v);
    duet_audio_free(&a);
    duet_audio_free(&mix);
    return rc;
}

int cmd_separate(int argc, char **argv)
{
    const char *outdir = "separated", *method = NULL, *format = "wav";
    duet_sep_config cfg;
    memset(&cfg, 0, sizeof cfg);
    int quiet = 0, spectrogram = 0, progress = 0;
    enum { O_SPEC = 256, O_PROGRESS };
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},   {"format", required_argument, 0, 'f'},
                                         {"method", required_argument, 0, 'm'}, {"model", required_argument, 0, 'M'},
                                         {"wiener", required_argument, 0, 'W'}, {"quiet", no_argument, 0, 'q'},
                                         {"spectrogram", no_argument, 0, O_SPEC},
                                         {"progress", no_argument, 0, O_PROGRESS},
                                         {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":o:f:m:qh", opts, NULL)) != -1) {
        long v;
        switch (c) {
        case 'o': outdir = optarg; break;
        case 'f': format = optarg; break;
        case 'm': method = optarg; break;
        case 'M': cfg.model_path = optarg; break;
        case 'W':
            if (cli_parse_int("--wiener", optarg, 0, 100, &v)) return 2;
            cfg.wiener_iters = (int)v;
            break;
        case 'q': quiet = 1; break;
        case O_SPEC: spectrogram = 1; break;
        case O_PROGRESS: progress = 1; break;
        case 'h': separate_usage(stdout); return 0;
        default: return cli_bad_option("separate", c, argc, argv);
        }
    }
    if (optind >= argc) {
        cli_error("separate", "no input file (see duet separate --help)");
        return 2;
    }
    duet_audio_filetype ft;
    const char *ext;
    if (!strcmp(format, "wav")) {
        ft = DUET_FILE_WAV_FLOAT;
        ext = "wav";
    } else if (!strcmp(format, "flac")) {
        ft = DUET_FILE_FLAC24;
        ext = "flac";
    } else {
        cli_error("separate", "--format: expected wav or flac, got '%s'", format);
        return 2;
    }
    const duet_separator *sep = method ? duet_separator_find(method) : duet_separator_default();
    if (!sep) {
        cli_error("separate", "unknown method '%s' (see duet separate --help)", method);
        return 2;
    }
    if (sep->needs_references) {
        cli_error("separate", "method %s needs the reference stems: use it with duet eval-sep", sep->name);
        return 2;
    }
    if (strcmp(sep->name, "model") == 0 && cli_model_path("separate", cfg.model_path, &cfg.model_path)) return 1;
    void *state = NULL;
    duet_err err = {0};
    if (sep->open) {
        duet_status st = sep->open(&cfg, &state, &err);
        if (st) return cli_fail(sep->name, st, &err);
    }
    const sepnet *net = sepnet_of_separator(sep, state);
    int rc = 0;
    for (int i = optind; i < argc; i++) {
        job j;
        memset(&j, 0, sizeof j);
        j.path = argv[i];
        j.ft = ft;
        j.spectrogram = spectrogram;
        j.quiet = quiet;
        j.progress_force = quiet ? -1 : progress ? 1 : 0;
        j.wiener = cfg.wiener_iters;
        char name[256];
        track_name(j.path, name, sizeof name);
        snprintf(j.dir, sizeof j.dir, "%s/%s", outdir, name);
        snprintf(j.pv, sizeof j.pv, "%s/vocals.%s", j.dir, ext);
        snprintf(j.pa, sizeof j.pa, "%s/accompaniment.%s", j.dir, ext);
        snprintf(j.png, sizeof j.png, "%s/spectrogram.png", j.dir);
        int r = net ? separate_streaming(&j, net) : separate_whole(&j, sep, state);
        if (r) rc = r;
    }
    if (sep->close) sep->close(state);
    return rc;
}
