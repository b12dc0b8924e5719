/* cli/cmd_resample.c: `duet resample -r RATE [-q QUALITY] [--format F] IN OUT`:
 * decode IN, resample it with libsamplerate and write OUT, streaming block by
 * block (reader -> resampler -> writer of audio/audio.h, bounded memory);
 * OUT appears only when complete (a failed run leaves neither OUT nor a
 * temporary behind). */
#define _GNU_SOURCE
#include "cli.h"
#include "../audio/audio.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESAMPLE_BLOCK 65536 /* input frames per read */

typedef struct resample_sink {
    duet_audio_writer *w;
    int channels;
    int integer;     /* output format is integer PCM (clips) */
    int64_t clipped; /* samples beyond [-1, 1] going to an integer format */
    duet_status st;  /* the writer's failure, if any */
    duet_err err;
} resample_sink;

/* Resampler output -> writer; a write failure stops the resampler. */
static int sink_write(void *user, const float *const *ch, int64_t n)
{
    resample_sink *k = user;
    if (!k->w) return 1;
    if (k->integer)
        for (int c = 0; c < k->channels; c++)
            for (int64_t i = 0; i < n; i++) k->clipped += fabsf(ch[c][i]) > 1.0f;
    k->st = duet_audio_writer_write(k->w, ch, n, &k->err);
    return k->st != DUET_OK;
}

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
        default: return cli_bad_option("resample", c, argc, argv);
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
    duet_audio_reader *rd;
    duet_status st = duet_audio_reader_open(in_path, &ropts, &rd, &err);
    if (st != DUET_OK) return cli_fail(in_path, st, &err);
    const duet_audio_reader_info *inf = duet_audio_reader_get_info(rd);
    const int nc = inf->channels;
    resample_sink sink = {NULL, nc, type != DUET_FILE_WAV_FLOAT, 0, DUET_OK, {0, {0}}};
    duet_resampler *rs = NULL;
    float **ch = calloc((size_t)nc, sizeof *ch);
    float *block = malloc(sizeof(float) * (size_t)nc * RESAMPLE_BLOCK);
    const char *blame = in_path;
    if (!ch || !block) {
        st = duet_err_set(&err, DUET_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int k = 0; k < nc; k++) ch[k] = block + (size_t)k * RESAMPLE_BLOCK;
    st = duet_resampler_new(nc, inf->sample_rate, (int)rate, q, sink_write, &sink, &rs, &err);
    if (st != DUET_OK) goto done;
    blame = out_path;
    st = duet_audio_writer_open(out_path, nc, (int)rate, (duet_audio_filetype)type, &sink.w, &err);
    if (st != DUET_OK) goto done;
    /* read -> resample -> write, one block at a time (bounded memory) */
    for (;;) {
        int64_t got;
        blame = in_path;
        st = duet_audio_reader_read(rd, ch, RESAMPLE_BLOCK, &got, &err);
        if (st != DUET_OK || got == 0) break;
        st = duet_resampler_feed(rs, (const float *const *)ch, got, &err);
        if (st != DUET_OK) break;
    }
    if (st == DUET_OK) st = duet_resampler_finish(rs, &err);
    if (sink.st != DUET_OK) { /* the writer failed inside the callback */
        st = sink.st;
        err = sink.err;
        blame = out_path;
    }
    if (st == DUET_OK) {
        blame = out_path;
        st = duet_audio_writer_commit(sink.w, &err);
        sink.w = NULL;
    }
done:
    duet_audio_writer_abort(sink.w);
    duet_resampler_free(rs);
    free(ch);
    free(block);
    int64_t nz = duet_audio_reader_nan_replaced(rd);
    duet_audio_reader_close(rd);
    if (st != DUET_OK) return cli_fail(blame, st, &err);
    if (nz > 0) cli_error(in_path, "warning: %lld NaN/Inf samples replaced by 0", (long long)nz);
    if (sink.clipped > 0)
        cli_error(out_path, "warning: %lld samples clipped to [-1, 1]", (long long)sink.clipped);
    return 0;
}
