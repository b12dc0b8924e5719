/* cli/cmd_info.c: `duet info FILE...`: format, rate, channels, frames,
 * duration, peak and RMS of audio files, decoded in bounded memory through
 * the streaming reader of audio/audio.h. */
#define _GNU_SOURCE
#include "cli.h"
#include "../audio/audio.h"
#include "../nn/safetensors.h"
#include "../separation/sepnet.h"

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
            "With --model, describe separation models instead: the one duet uses when\n"
            "no FILE is given ($DUET_MODEL, else the model built into duet), or the\n"
            "model FILEs: source, size, format version, architecture, parameters,\n"
            "training data and steps, validation figures.\n\n"
            "options:\n"
            "  -m, --model      describe separation models (see above)\n"
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

/* Describe one model: `path` NULL = the built-in one. 0 or 1. */
static int info_model(const char *path, const char *origin)
{
    duet_err err = {0};
    const void *buf = NULL;
    size_t len = 0;
    duet_st_file *f = NULL;
    sepnet *m = NULL;
    duet_status st;
    const char *what = path ? path : "built-in model";
    if (path) {
        st = duet_st_load(path, &f, &err);
        if (!st) st = sepnet_load(path, &m, &err);
    } else {
        sepnet_builtin(&buf, &len);
        st = duet_st_parse(buf, len, &f, &err);
        if (!st) st = sepnet_load_builtin(&m, &err);
    }
    if (st) {
        duet_st_free(f);
        return cli_fail(what, st, &err);
    }
    if (path) {
        FILE *fp = fopen(path, "rb");
        if (fp && fseek(fp, 0, SEEK_END) == 0) len = (size_t)ftell(fp);
        if (fp) fclose(fp);
    }
    const sepnet_config *c = &m->cfg;
    const char *v;
    printf("%s\n", path ? path : "built-in");
    printf("  source        %s\n", origin);
    printf("  size          %zu bytes\n", len);
    const char *fmt = duet_st_meta(f, "format"), *ver = duet_st_meta(f, "version");
    printf("  format        %s version %s\n", fmt ? fmt : "?", ver ? ver : "?");
    printf("  audio         %d Hz, %s, n_fft %d, hop %d, %d bins (0-%.0f Hz)\n", c->sample_rate,
           c->channels == 2 ? "stereo (both channels jointly)" : "mono (each channel alone)", c->n_fft, c->hop,
           c->n_freq, (double)c->n_freq * c->sample_rate / c->n_fft);
    printf("  network       depth %d, base %d, %d phase channels, FEM %s, self-attention %s, %s up blocks, "
           "dropout %.2f\n",
           c->depth, c->base, c->phase_ch, c->use_fem ? "on" : "off", c->use_sa ? "on" : "off",
           c->transposed ? "transposed-conv" : "bilinear", (double)c->dropout);
    printf("  parameters    %zu\n", duet_params_trainable(m->params));
    printf("  training data %s\n", (v = duet_st_meta(f, "train_data")) ? v : "(not recorded)");
    if ((v = duet_st_meta(f, "trained_steps"))) printf("  trained steps %s\n", v);
    static const char *const keys[][2] = {{"val_vocal_sdr_gain_db", "validation vocal SDR gain"},
                                          {"val_vocal_sdr_db", "validation vocals SDR"},
                                          {"val_accompaniment_sdr_db", "validation accompaniment SDR"}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if ((v = duet_st_meta(f, keys[i][0]))) printf("  %s %s dB\n", keys[i][1], v);
    sepnet_free(m);
    duet_st_free(f);
    return 0;
}

int cmd_info(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"nan-zero", no_argument, NULL, 'z'}, {"model", no_argument, NULL, 'm'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    duet_read_opts opts = {DUET_NAN_REJECT, 0, 0};
    int c, models = 0;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":zmh", longopts, NULL)) != -1) {
        switch (c) {
        case 'z': opts.nan_policy = DUET_NAN_ZERO; break;
        case 'm': models = 1; break;
        case 'h': info_usage(stdout); return 0;
        default: return cli_bad_option("info", c, argc, argv);
        }
    }
    if (models) {
        if (optind >= argc) {
            const char *path = NULL;
            if (cli_model_path("info", NULL, &path)) return 1;
            return info_model(path, path ? "$DUET_MODEL" : "built into duet (used when no --model or $DUET_MODEL is given)");
        }
        int rc = 0;
        for (int i = optind; i < argc; i++) {
            fflush(stdout);
            rc |= info_model(argv[i], "file");
        }
        return rc;
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
