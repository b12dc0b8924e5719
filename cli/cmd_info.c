/* cli/cmd_info.c: `duet info FILE...`: format, rate, channels, frames,
 * duration, peak and RMS of audio files, decoded in bounded memory through
 * the streaming reader of audio/audio.h. */
#define _GNU_SOURCE
#include "cli.h"
#include "../audio/audio.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INFO_BLOCK 65536

static void info_usage(FILE *f)
{
    fprintf(f,
            "usage: duet info [OPTIONS] FILE...\n\n"
            "Print format, sample rate, channels, frames, duration, peak and RMS of each\n"
            "audio file (anything libsndfile reads: WAV, FLAC, OGG/Vorbis, MP3, AIFF, ...).\n\n"
            "options:\n"
            "  -z, --nan-zero   replace NaN/Inf samples by 0 and count them (default: reject the file)\n"
            "  -h, --help       show this help\n");
}

static double to_db(double v) { return v > 0 ? 20.0 * log10(v) : -INFINITY; }

/* Decode `path` block by block and print its summary. Returns 0 or 1. */
static int info_one(const char *path, const duet_read_opts *opts)
{
    duet_err err = {0};
    duet_audio_reader *r;
    duet_status st = duet_audio_reader_open(path, opts, &r, &err);
    if (st != DUET_OK) return cli_fail(path, st, &err);
    const duet_audio_reader_info *inf = duet_audio_reader_get_info(r);
    const int nc = inf->channels;
    float **ch = calloc((size_t)nc, sizeof *ch);
    float *block = malloc(sizeof(float) * (size_t)nc * INFO_BLOCK);
    if (!ch || !block) {
        free(ch);
        free(block);
        duet_audio_reader_close(r);
        return cli_fail(path, DUET_ERR_NOMEM, NULL);
    }
    for (int c = 0; c < nc; c++) ch[c] = block + (size_t)c * INFO_BLOCK;
    double peak = 0, ss = 0;
    int64_t frames = 0, got;
    while ((st = duet_audio_reader_read(r, ch, INFO_BLOCK, &got, &err)) == DUET_OK && got > 0) {
        for (int c = 0; c < nc; c++)
            for (int64_t i = 0; i < got; i++) {
                double v = ch[c][i];
                if (fabs(v) > peak) peak = fabs(v);
                ss += v * v;
            }
        frames += got;
    }
    int rc = 0;
    if (st != DUET_OK) {
        rc = cli_fail(path, st, &err);
    } else {
        double rms = frames > 0 ? sqrt(ss / ((double)frames * nc)) : 0.0;
        printf("%s\n", path);
        printf("  format    %s\n", inf->format);
        printf("  rate      %d Hz\n", inf->sample_rate);
        printf("  channels  %d\n", nc);
        printf("  frames    %lld\n", (long long)frames);
        printf("  duration  %.3f s\n", (double)frames / inf->sample_rate);
        printf("  peak      %.6f (%.2f dBFS)\n", peak, to_db(peak));
        printf("  rms       %.6f (%.2f dBFS)\n", rms, to_db(rms));
        int64_t nz = duet_audio_reader_nan_replaced(r);
        if (nz > 0) printf("  nan-zeroed %lld samples\n", (long long)nz);
    }
    free(ch);
    free(block);
    duet_audio_reader_close(r);
    return rc;
}

int cmd_info(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"nan-zero", no_argument, NULL, 'z'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    duet_read_opts opts = {DUET_NAN_REJECT, 0, 0};
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":zh", longopts, NULL)) != -1) {
        switch (c) {
        case 'z': opts.nan_policy = DUET_NAN_ZERO; break;
        case 'h': info_usage(stdout); return 0;
        default: return cli_bad_option("info", c, argc, argv);
        }
    }
    if (optind >= argc) {
        cli_error("info", "no input file (see duet info --help)");
        return 2;
    }
    int rc = 0;
    for (int i = optind; i < argc; i++) {
        fflush(stdout);
        rc |= info_one(argv[i], &opts);
    }
    return rc;
}
