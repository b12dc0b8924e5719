/* cli/cmd_resample.c: `duet resample -r RATE [-Q QUALITY] [-f FMT] IN OUT`:
 * decode IN, resample it with libsamplerate and write OUT, streaming block by
 * block (reader -> resampler -> writer of audio/audio.h, bounded memory);
 * OUT appears only when complete (a failed run leaves neither OUT nor a
 * temporary behind). */
#define _GNU_SOURCE
#include "cli.h"
#include "cli_audio.h"
#include "../audio/audio.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESAMPLE_BLOCK 65536 /* input frames per read */

typedef struct resample_sink {
    duet_audio_writer *w;
    duet_status st;  /* the writer's failure, if any */
    duet_err err;
} resample_sink;

/* Resampler output -> writer; a write failure stops the resampler. */
static int sink_write(void *user, const float *const *ch, int64_t n)
{
    resample_sink *k = user;
    if (!k->w) return 1;
    k->st = duet_audio_writer_write(k->w, ch, n, &k->err);
    return k->st != DUET_OK;
}

static void resample_usage(FILE *f)
{
    fprintf(f,
            "usage: duet resample -r RATE [OPTIONS] IN OUT\n\n"
            "Resample the audio file IN to RATE Hz and write OUT (same channels; length\n"
            "exactly round(frames * RATE / input rate); time-aligned with IN). IN may be\n"
            "- (standard input, any format); OUT may be - (standard output, WAV unless -f).\n\n"
            "options:\n"
            "  -r, --rate RATE      target sample rate in Hz (required; 1 to 768000)\n"
            "  -Q, --quality Q      best | high | fast | linear (default: high)\n"
            CLI_AUDIO_FORMAT_HELP
            "  -z, --nan-zero       replace NaN/Inf input samples by 0 (default: reject)\n"
            "  -q, --quiet          no warnings (clipping, replaced samples), errors only\n"
            "  -v, --verbose        one line describing what was written\n"
            "  -h, --help           show this help\n");
}

int cmd_resample(int argc, char **argv)
{
    static const struct option longopts[] = {{"rate", required_argument, NULL, 'r'},
                                             {"quality", required_argument, NULL, 'Q'},
                                             {"format", required_argument, NULL, 'f'},
                                             {"bits", required_argument, NULL, 'B'},
                                             {"bitrate", required_argument, NULL, 'K'},
                                             {"nan-zero", no_argument, NULL, 'z'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"verbose", no_argument, NULL, 'v'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    long rate = 0;
    duet_resample_quality q = DUET_RESAMPLE_HIGH;
    duet_audio_outfmt_req req = {-1, 0, 0};
    int quiet = 0, verbose = 0;
    duet_read_opts ropts = {DUET_NAN_REJECT, 0, 0};
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":r:Q:f:zqvh", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (cli_parse_int("--rate", optarg, 1, 768000, &rate) != 0) return 2;
            break;
        case 'Q':
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
            if (cli_parse_format(optarg, &req)) return 2;
            break;
        case 'B':
            if (cli_parse_bits(optarg, &req)) return 2;
            break;
        case 'K':
            if (cli_parse_bitrate(optarg, &req)) return 2;
            break;
        case 'q': quiet = 1; break;
        case 'v': verbose = 1; break;
        case 'z': ropts.nan_policy = DUET_NAN_ZERO; break;
        case 'h': resample_usage(stdout); return 0;
        default: return cli_bad_option("resample", c, argc, argv);
        }
    }
    if (quiet && verbose) {
        cli_error("resample", "-q/--quiet and -v/--verbose contradict each other");
        return 2;
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
    duet_err err = {0};
    duet_audio_outfmt fmt;
    /* the name is checked before anything is read (the input may be a pipe) */
    duet_status st = duet_audio_outfmt_resolve(out_path, &req, 16, &fmt, &err);
    if (st != DUET_OK) {
        cli_fail(out_path, st, &err);
        return 2;
    }
    duet_audio_reader *rd;
    st = duet_audio_reader_open(in_path, &ropts, &rd, &err);
    if (st != DUET_OK) return cli_fail(in_path, st, &err);
    const duet_audio_reader_info *inf = duet_audio_reader_get_info(rd);
    const int nc = inf->channels;
    /* again, now that the input's precision is known (the default bits follow it) */
    duet_audio_outfmt_resolve(out_path, &req, duet_audio_bits_like(inf->bits, inf->is_float), &fmt, NULL);
    resample_sink sink = {NULL, DUET_OK, {0, {0}}};
    int64_t clipped = 0;
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
    st = duet_audio_writer_open_fmt(out_path, nc, (int)rate, &fmt, &sink.w, &err);
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
        clipped = duet_audio_writer_clipped(sink.w);
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
    if (nz > 0 && !quiet) cli_error(in_path, "warning: %lld NaN/Inf samples replaced by 0", (long long)nz);
    if (clipped > 0 && !quiet)
        cli_error(out_path, "warning: %lld samples clipped to [-1, 1]", (long long)clipped);
    if (verbose) {
        const char *bits = fmt.bits == 32 ? " 32-bit float" : fmt.bits == 24 ? " 24-bit" : fmt.bits == 16 ? " 16-bit" : "";
        fprintf(stderr, "duet: %s -> %s (%s%s, %d Hz, %d channels)\n", in_path, out_path,
                duet_audio_container_ext(fmt.container), bits, duet_audio_outfmt_rate(&fmt, (int)rate), nc);
    }
    return 0;
}
