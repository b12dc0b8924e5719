/* cli/cmd_resample.c: `duet resample -r RATE [-q QUALITY] [--format F] IN OUT`:
 * decode IN, resample it with libsamplerate (audio/audio.h) and write OUT
 * atomically (a failed run never leaves OUT or a temporary behind). */
#define _GNU_SOURCE
#include "cli.h"
#include "../audio/audio.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void resample_usage(FILE *f)
{
    fprintf(f,
            "usage: duet resample -r RATE [OPTIONS] IN OUT\n\n"
            "Resample the audio file IN to RATE Hz and write OUT (same channels; length\n"
            "exactly round(frames * RATE / input rate); time-aligned with IN).\n\n"
            "options:\n"
            "  -r, --rate RATE       target sample rate in Hz (required; 1 to 768000)\n"
            "  -q, --quality Q       best | high | fast | linear (default: high)\n"
            "  -f, --format F        wav16 | wav32f | flac | flac24 (default: flac for a .flac\n"
            "                        OUT, otherwise wav16)\n"
            "  -z, --nan-zero        replace NaN/Inf input samples by 0 (default: reject)\n"
            "  -h, --help            show this help\n");
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

int cmd_resample(int argc, char **argv)
{
    static const struct option longopts[] = {{"rate", required_argument, NULL, 'r'},
                                             {"quality", required_argument, NULL, 'q'},
                                             {"format", required_argument, NULL, 'f'},
                                             {"nan-zero", no_argument, NULL, 'z'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    long rate = 0;
    duet_resample_quality q = DUET_RESAMPLE_HIGH;
    int type = -1;
    duet_read_opts ropts = {DUET_NAN_REJECT, 0, 0};
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":r:q:f:zh", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (cli_parse_int("--rate", optarg, 1, 768000, &rate) != 0) return 2;
            break;
        case 'q':
            if (!strcmp(optarg, "best")) q = DUET_RESAMPLE_BEST;
            else if (!strcmp(optarg, "high")) q = DUET_RESAMPLE_HIGH;
            else if (!strcmp(optarg, "fast")) q = DUET_RESAMPLE_FAST;
            else if (!strcmp(optarg, "linear")) q = DUET_RESAMPLE_LINEAR;
            else {
                cli_error(NULL, "--quality: expected best, high, fast or linear, got '%s'", optarg);
                return 2;
            }
            break;
        case 'f':
            if (!strcmp(optarg, "wav16")) type = DUET_FILE_WAV_PCM16;
            else if (!strcmp(optarg, "wav32f")) type = DUET_FILE_WAV_FLOAT;
            else if (!strcmp(optarg, "flac")) type = DUET_FILE_FLAC;
            else if (!strcmp(optarg, "flac24")) type = DUET_FILE_FLAC24;
            else {
                cli_error(NULL, "--format: expected wav16, wav32f, flac or flac24, got '%s'", optarg);
                return 2;
            }
            break;
        case 'z': ropts.nan_policy = DUET_NAN_ZERO; break;
        case 'h': resample_usage(stdout); return 0;
        case ':':
            cli_error("resample", "option '%s' needs a value (see duet resample --help)", argv[optind - 1]);
            return 2;
        default:
            cli_error("resample", "unknown option '%s' (see duet resample --help)", argv[optind - 1]);
            return 2;
        }
    }
    if (rate == 0) {
        cli_error("resample", "missing -r RATE (see duet resample --help)");
        return 2;
    }
    if (argc - optind != 2) {
        cli_error("resample", "expected IN and OUT files, got %d argument(s) (see duet resample --help)",
                  argc - optind);
        return 2;
    }
    const char *in_path = argv[optind], *out_path = argv[optind + 1];
    if (type < 0) type = ends_with(out_path, ".flac") ? DUET_FILE_FLAC : DUET_FILE_WAV_PCM16;

    duet_err err = {0};
    duet_audio in, out;
    int64_t nz = 0;
    duet_status st = duet_audio_read(in_path, &ropts, &in, &nz, &err);
    if (st != DUET_OK) return cli_fail(in_path, st, &err);
    if (nz > 0) cli_error(in_path, "warning: %lld NaN/Inf samples replaced by 0", (long long)nz);
    st = duet_audio_resample(&in, (int)rate, q, &out, &err);
    duet_audio_free(&in);
    if (st != DUET_OK) return cli_fail(in_path, st, &err);
    if (type == DUET_FILE_WAV_PCM16 || type == DUET_FILE_FLAC || type == DUET_FILE_FLAC24) {
        int64_t clipped = 0;
        for (int ch = 0; ch < out.channels; ch++)
            for (int64_t i = 0; i < out.frames; i++) clipped += fabsf(out.ch[ch][i]) > 1.0f;
        if (clipped > 0) cli_error(out_path, "warning: %lld samples clipped to [-1, 1]", (long long)clipped);
    }
    st = duet_audio_write(out_path, &out, (duet_audio_filetype)type, &err);
    duet_audio_free(&out);
    if (st != DUET_OK) return cli_fail(out_path, st, &err);
    return 0;
}
