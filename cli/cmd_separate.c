/* cli/cmd_separate.c: `duet separate [-o DIR] [--format wav|flac]
 * [--method NAME] FILE...`: split songs into DIR/<track>/vocals.wav and
 * DIR/<track>/accompaniment.wav (or .flac) with any separator of
 * separation/separators.h, keeping the input's rate, channels and length.
 * Each stem is written atomically (temporary file + rename). */
#define _GNU_SOURCE
#include "cli.h"
#include "../audio/audio.h"
#include "../common/progress.h"
#include "../separation/separators.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
            "      --model FILE     weights for a model-based method\n"
            "      --wiener N       Wiener post-filter iterations (methods that support it)\n"
            "  -q, --quiet          no per-file line\n"
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

int cmd_separate(int argc, char **argv)
{
    const char *outdir = "separated", *method = NULL, *format = "wav";
    duet_sep_config cfg;
    memset(&cfg, 0, sizeof cfg);
    int quiet = 0;
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},   {"format", required_argument, 0, 'f'},
                                         {"method", required_argument, 0, 'm'}, {"model", required_argument, 0, 'M'},
                                         {"wiener", required_argument, 0, 'W'}, {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:f:m:qh", opts, NULL)) != -1) {
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
        case 'h': separate_usage(stdout); return 0;
        default: separate_usage(stderr); return 2;
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
    void *state = NULL;
    duet_err err = {0};
    if (sep->open) {
        duet_status st = sep->open(&cfg, &state, &err);
        if (st) return cli_fail(sep->name, st, &err);
    }
    int rc = 0;
    for (int i = optind; i < argc; i++) {
        const char *path = argv[i];
        duet_audio mix;
        duet_err_clear(&err);
        duet_status st = duet_audio_read(path, NULL, &mix, NULL, &err);
        if (st) {
            rc = cli_fail(path, st, &err);
            continue;
        }
        if (mix.frames == 0) {
            cli_error(path, "no samples to separate");
            duet_audio_free(&mix);
            rc = 1;
            continue;
        }
        double t0 = duet_now();
        duet_sep_input in = {&mix, NULL, NULL};
        duet_audio v, a;
        st = duet_sep_check_input(sep, &in, &err);
        if (!st) st = sep->run(state, &in, &v, &a, &err);
        if (st) {
            rc = cli_fail(path, st, &err);
            duet_audio_free(&mix);
            continue;
        }
        char name[256], dir[4096], pv[4400], pa[4400];
        track_name(path, name, sizeof name);
        snprintf(dir, sizeof dir, "%s/%s", outdir, name);
        if (cli_mkdirs(dir) != 0) {
            cli_error(dir, "cannot create the output folder: %s", strerror(errno));
            rc = 1;
        } else {
            snprintf(pv, sizeof pv, "%s/vocals.%s", dir, ext);
            snprintf(pa, sizeof pa, "%s/accompaniment.%s", dir, ext);
            st = duet_audio_write(pv, &v, ft, &err);
            if (st) rc = cli_fail(pv, st, &err);
            if (!st) {
                st = duet_audio_write(pa, &a, ft, &err);
                if (st) {
                    rc = cli_fail(pa, st, &err);
                    remove(pv); /* never leave half a separation */
                }
            }
            if (!st && !quiet)
                fprintf(stderr, "%s: %s -> %s/ (%.1f s of audio in %.2f s)\n", path, sep->name, dir,
                        (double)mix.frames / mix.sample_rate, duet_now() - t0);
        }
        duet_audio_free(&v);
        duet_audio_free(&a);
        duet_audio_free(&mix);
    }
    if (sep->close) sep->close(state);
    return rc;
}
