/* cli/cmd_info.c: `duet info FILE...`: format, rate, channels, frames,
 * duration, peak and RMS of audio files, decoded in bounded memory through
 * the streaming reader of audio/audio.h. */
#define _GNU_SOURCE
#include "cli.h"
#include "cli_audio.h"
#include "cli_opts.h"
#include "../audio/audio.h"
#include "../common/progress.h"
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
            "  -r, --recursive  a folder FILE means its audio files and its subfolders' (without\n"
            "                   -r: the audio files directly in it)\n"
            "      --json       the same information as one JSON object on stdout:\n"
            "                   {\"files\": [{\"file\", \"format\", \"sample_rate\", \"channels\", \"frames\",\n"
            "                   \"duration_s\", \"peak\", \"peak_dbfs\", \"rms\", \"rms_dbfs\", \"nan_zeroed\"}]}\n"
            "                   or, with --model, {\"models\": [{\"model\", \"source\", \"size_bytes\",\n"
            "                   \"format\", \"format_version\", \"audio\", \"network\", \"parameters\",\n"
            "                   \"training_data\", \"trained_steps\", \"validation\"}]}; a FILE that\n"
            "                   fails is {\"file\" (or \"model\"), \"error\"} (and the error line on stderr);\n"
            "                   -inf dBFS (silence) is null\n");
    cli_help_quiet_verbose(f, 19);
    fprintf(f, "  -h, --help       show this help\n");
}

static double to_db(double v) { return v > 0 ? 20.0 * log10(v) : -INFINITY; }

/* What `duet info` says about one audio file. */
typedef struct audio_summary {
    duet_audio_reader_info inf;
    int64_t frames, nan_zeroed;
    double peak, rms;
} audio_summary;

static void print_audio_text(const char *path, const audio_summary *a)
{
    printf("%s\n", path);
    printf("  format    %s\n", a->inf.format);
    printf("  rate      %d Hz\n", a->inf.sample_rate);
    printf("  channels  %d\n", a->inf.channels);
    printf("  frames    %lld\n", (long long)a->frames);
    printf("  duration  %.3f s\n", (double)a->frames / a->inf.sample_rate);
    printf("  peak      %.6f (%.2f dBFS)\n", a->peak, to_db(a->peak));
    printf("  rms       %.6f (%.2f dBFS)\n", a->rms, to_db(a->rms));
    if (a->nan_zeroed > 0) printf("  nan-zeroed %lld samples\n", (long long)a->nan_zeroed);
}

static void print_audio_json(const char *path, const audio_summary *a)
{
    fputs("{\"file\": ", stdout);
    cli_json_string(stdout, path);
    fputs(", \"format\": ", stdout);
    cli_json_string(stdout, a->inf.format);
    printf(", \"sample_rate\": %d, \"channels\": %d, \"frames\": %lld, \"duration_s\": ", a->inf.sample_rate,
           a->inf.channels, (long long)a->frames);
    cli_json_number(stdout, (double)a->frames / a->inf.sample_rate, 17);
    fputs(", \"peak\": ", stdout);
    cli_json_number(stdout, a->peak, 9);
    fputs(", \"peak_dbfs\": ", stdout);
    cli_json_number(stdout, to_db(a->peak), 9);
    fputs(", \"rms\": ", stdout);
    cli_json_number(stdout, a->rms, 9);
    fputs(", \"rms_dbfs\": ", stdout);
    cli_json_number(stdout, to_db(a->rms), 9);
    printf(", \"nan_zeroed\": %lld}", (long long)a->nan_zeroed);
}

/* {"<key>": what, "error": message} for a FILE that failed (--json). */
static void print_error_json(const char *key, const char *what, const char *msg)
{
    printf("{\"%s\": ", key);
    cli_json_string(stdout, what);
    fputs(", \"error\": ", stdout);
    cli_json_string(stdout, msg);
    fputs("}", stdout);
}

/* Decode `path` block by block into *a. Returns DUET_OK or the error (err set). */
static duet_status summarise_audio(const char *path, const duet_read_opts *opts, audio_summary *a, duet_err *err)
{
    memset(a, 0, sizeof *a);
    duet_audio_reader *r;
    duet_status st = duet_audio_reader_open(path, opts, &r, err);
    if (st != DUET_OK) return st;
    a->inf = *duet_audio_reader_get_info(r);
    const int nc = a->inf.channels;
    float **ch = calloc((size_t)nc, sizeof *ch);
    float *block = malloc(sizeof(float) * (size_t)nc * INFO_BLOCK);
    if (!ch || !block) {
        free(ch);
        free(block);
        duet_audio_reader_close(r);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    for (int c = 0; c < nc; c++) ch[c] = block + (size_t)c * INFO_BLOCK;
    double peak = 0, ss = 0;
    int64_t frames = 0, got;
    while ((st = duet_audio_reader_read(r, ch, INFO_BLOCK, &got, err)) == DUET_OK && got > 0) {
        for (int c = 0; c < nc; c++)
            for (int64_t i = 0; i < got; i++) {
                double v = ch[c][i];
                if (fabs(v) > peak) peak = fabs(v);
                ss += v * v;
            }
        frames += got;
    }
    if (st == DUET_OK) {
        a->frames = frames;
        a->peak = peak;
        a->rms = frames > 0 ? sqrt(ss / ((double)frames * nc)) : 0.0;
        a->nan_zeroed = duet_audio_reader_nan_replaced(r);
    }
    free(ch);
    free(block);
    duet_audio_reader_close(r);
    return st;
}

/* Summarise and print one audio file (text, or one JSON array element).
 * Returns 0 or 1. */
static int info_one(const char *path, const duet_read_opts *opts, int json, int verbosity)
{
    duet_err err = {0};
    audio_summary a;
    double t0 = duet_now();
    duet_status st = summarise_audio(path, opts, &a, &err);
    if (st != DUET_OK) {
        if (json) print_error_json("file", path, duet_err_msg(&err, st));
        return cli_fail(path, st, &err);
    }
    cli_debug(verbosity, "info", "%s: %lld frames declared, %lld decoded in %.3f s", path, (long long)a.inf.frames,
              (long long)a.frames, duet_now() - t0);
    if (json) print_audio_json(path, &a);
    else print_audio_text(path, &a);
    return 0;
}

/* A metadata value as a JSON number when it is one, else as a string (null when absent). */
static void json_meta(const char *v)
{
    if (cli_json_is_number(v)) fputs(v, stdout);
    else cli_json_string(stdout, v);
}

static const char *const VAL_KEYS[][3] = {
    {"val_vocal_sdr_gain_db", "validation vocal SDR gain", "vocal_sdr_gain_db"},
    {"val_vocal_sdr_db", "validation vocals SDR", "vocals_sdr_db"},
    {"val_accompaniment_sdr_db", "validation accompaniment SDR", "accompaniment_sdr_db"}};
#define N_VAL_KEYS (sizeof VAL_KEYS / sizeof VAL_KEYS[0])

/* Describe one model: `path` NULL = the built-in one. 0 or 1. */
static int info_model(const char *path, const char *origin, int json, int verbosity)
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
        if (!st) st = duet_sepnet_load(path, &m, &err);
    } else {
        duet_sepnet_builtin(&buf, &len);
        st = duet_st_parse(buf, len, &f, &err);
        if (!st) st = duet_sepnet_load_builtin(&m, &err);
    }
    if (st) {
        duet_st_free(f);
        if (json) print_error_json("model", path ? path : "built-in", duet_err_msg(&err, st));
        return cli_fail(what, st, &err);
    }
    if (path) {
        FILE *fp = fopen(path, "rb");
        if (fp && fseek(fp, 0, SEEK_END) == 0) len = (size_t)ftell(fp);
        if (fp) fclose(fp);
    }
    for (size_t i = 0; i < duet_st_meta_count(f); i++) {
        const char *k, *v;
        duet_st_meta_at(f, i, &k, &v);
        cli_debug(verbosity, "info", "%s: metadata %s = %s", what, k, v);
    }
    const duet_sepnet_config *c = &m->cfg;
    const char *v;
    const char *fmt = duet_st_meta(f, "format"), *ver = duet_st_meta(f, "version");
    double max_hz = (double)c->n_freq * c->sample_rate / c->n_fft;
    if (json) {
        fputs("{\"model\": ", stdout);
        cli_json_string(stdout, path ? path : "built-in");
        fputs(", \"source\": ", stdout);
        cli_json_string(stdout, origin);
        printf(", \"size_bytes\": %zu, \"format\": ", len);
        cli_json_string(stdout, fmt);
        fputs(", \"format_version\": ", stdout);
        cli_json_string(stdout, ver);
        printf(", \"audio\": {\"sample_rate\": %d, \"channels\": %d, \"joint_stereo\": %s, \"n_fft\": %d, "
               "\"hop\": %d, \"bins\": %d, \"max_hz\": ",
               c->sample_rate, c->channels, c->channels == 2 ? "true" : "false", c->n_fft, c->hop, c->n_freq);
        cli_json_number(stdout, max_hz, 9);
        printf("}, \"network\": {\"depth\": %d, \"base\": %d, \"phase_channels\": %d, \"fem\": %s, "
               "\"self_attention\": %s, \"up_blocks\": \"%s\", \"dropout\": ",
               c->depth, c->base, c->phase_ch, c->use_fem ? "true" : "false", c->use_sa ? "true" : "false",
               c->transposed ? "transposed-conv" : "bilinear");
        cli_json_number(stdout, (double)c->dropout, 6);
        printf("}, \"parameters\": %zu, \"training_data\": ", duet_params_trainable(m->params));
        cli_json_string(stdout, duet_st_meta(f, "train_data"));
        fputs(", \"trained_steps\": ", stdout);
        json_meta(duet_st_meta(f, "trained_steps"));
        fputs(", \"validation\": {", stdout);
        int first = 1;
        for (size_t i = 0; i < N_VAL_KEYS; i++)
            if ((v = duet_st_meta(f, VAL_KEYS[i][0]))) {
                printf("%s\"%s\": ", first ? "" : ", ", VAL_KEYS[i][2]);
                json_meta(v);
                first = 0;
            }
        fputs("}}", stdout);
    } else {
        printf("%s\n", path ? path : "built-in");
        printf("  source        %s\n", origin);
        printf("  size          %zu bytes\n", len);
        printf("  format        %s version %s\n", fmt ? fmt : "?", ver ? ver : "?");
        printf("  audio         %d Hz, %s, n_fft %d, hop %d, %d bins (0-%.0f Hz)\n", c->sample_rate,
               c->channels == 2 ? "stereo (both channels jointly)" : "mono (each channel alone)", c->n_fft, c->hop,
               c->n_freq, max_hz);
        printf("  network       depth %d, base %d, %d phase channels, FEM %s, self-attention %s, %s up blocks, "
               "dropout %.2f\n",
               c->depth, c->base, c->phase_ch, c->use_fem ? "on" : "off", c->use_sa ? "on" : "off",
               c->transposed ? "transposed-conv" : "bilinear", (double)c->dropout);
        printf("  parameters    %zu\n", duet_params_trainable(m->params));
        printf("  training data %s\n", (v = duet_st_meta(f, "train_data")) ? v : "(not recorded)");
        if ((v = duet_st_meta(f, "trained_steps"))) printf("  trained steps %s\n", v);
        for (size_t i = 0; i < N_VAL_KEYS; i++)
            if ((v = duet_st_meta(f, VAL_KEYS[i][0]))) printf("  %s %s dB\n", VAL_KEYS[i][1], v);
    }
    duet_sepnet_free(m);
    duet_st_free(f);
    return 0;
}

int cmd_info(int argc, char **argv)
{
    enum { O_JSON = 256 };
    static const struct option longopts[] = {{"nan-zero", no_argument, NULL, 'z'},
                                             {"model", no_argument, NULL, 'm'},
                                             {"json", no_argument, NULL, O_JSON},
                                             CLI_OPT_QUIET_VERBOSE,
                                             {"recursive", no_argument, NULL, 'r'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    duet_read_opts opts = {DUET_NAN_REJECT, 0, 0};
    int c, models = 0, json = 0, n_quiet = 0, n_verbose = 0, recursive = 0;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":zmrqvh", longopts, NULL)) != -1) {
        switch (c) {
        case 'r': recursive = 1; break;
        case 'z': opts.nan_policy = DUET_NAN_ZERO; break;
        case 'm': models = 1; break;
        case O_JSON: json = 1; break;
        case 'q': n_quiet++; break;
        case 'v': n_verbose++; break;
        case 'h': info_usage(stdout); return 0;
        default: return cli_bad_option("info", c, argc, argv);
        }
    }
    int verbosity = cli_verbosity("info", n_quiet, n_verbose);
    if (verbosity < CLI_QUIET) return 2;
    if (!models && optind >= argc) {
        cli_error("info", "no input file (see duet info --help)");
        return 2;
    }
    int rc = 0;
    if (json) fputs(models ? "{\"models\": [" : "{\"files\": [", stdout);
    if (models && optind >= argc) {
        const char *path = NULL;
        if (cli_model_path("info", NULL, &path)) {
            if (json) {
                print_error_json("model", getenv("DUET_MODEL"), "cannot open the model named by $DUET_MODEL");
                fputs("]}\n", stdout);
            }
            return 1;
        }
        rc = info_model(path, path ? "$DUET_MODEL" : "built into duet (used when no --model or $DUET_MODEL is given)",
                        json, verbosity);
    } else {
        char **in = argv + optind, **expanded = NULL;
        int n_in = argc - optind;
        if (!models) {
            if (cli_expand_inputs(argc - optind, argv + optind, recursive, &expanded, &n_in) != 0) {
                if (json) fputs("]}\n", stdout);
                return 1;
            }
            in = expanded;
        }
        for (int i = 0; i < n_in; i++) {
            if (json && i > 0) fputs(", ", stdout);
            fflush(stdout);
            rc |= models ? info_model(in[i], "file", json, verbosity) : info_one(in[i], &opts, json, verbosity);
        }
        cli_free_inputs(expanded, expanded ? n_in : 0);
    }
    if (json) fputs("]}\n", stdout);
    if (fflush(stdout) != 0) rc = 1;
    return rc;
}
