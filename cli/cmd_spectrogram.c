/* cli/cmd_spectrogram.c: `duet spectrogram FILE -o OUT.png`: a log-mel
 * spectrogram picture (features/png.h), with --stems three panels (mix,
 * vocals, accompaniment) from the trained separator or from given stems. */
#define _GNU_SOURCE
#include "cli.h"
#include "cli_opts.h"
#include "../common/pathfmt.h"
#include "../audio/audio.h"
#include "../features/describe.h"
#include "../features/png.h"
#include "../separation/separators.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void spectrogram_usage(FILE *f)
{
    fprintf(f,
            "usage: duet spectrogram [OPTIONS] FILE -o OUT.png\n\n"
            "Draw the log-mel spectrogram (128 Slaney mel bands, 22050 Hz, n_fft 2048,\n"
            "hop 512, 80 dB colour range) of FILE with time and frequency axes.\n\n"
            "options:\n"
            "  -o, --out FILE         the PNG to write (required; a name ending in another\n"
            "                         format's extension, e.g. .jpg, is refused)\n"
            "      --stems            three panels: mix, vocals, accompaniment (separated with\n"
            "                         duet separate's default method, the trained model)\n"
            "      --method NAME      separator for --stems (model, repet-sim, hpss, ...)\n"
            "      --model FILE       weights for --method model (default: $DUET_MODEL, else\n"
            "                         the model built into duet)\n"
            "      --vocals FILE      with --accompaniment: draw these stems instead of separating\n"
            "      --accompaniment FILE\n"
            "      --width N          plot width in pixels (default: one column per frame, 400..1600)\n"
            "      --height N         plot height per panel (default 256)\n"
            "  -q, --quiet            errors only (the command prints nothing else anyway)\n"
            "  -v, --verbose          one line describing the picture written\n"
            "  -h, --help             show this help\n");
}

static duet_status analyse(duet_describer *d, const duet_audio *a, duet_frames *f, duet_err *err)
{
    duet_audio mono;
    duet_status st = duet_features_prepare(a, &mono, err);
    if (st != DUET_OK) return st;
    st = duet_describer_analyze(d, mono.ch[0], mono.frames, f, err);
    duet_audio_free(&mono);
    return st;
}

int cmd_spectrogram(int argc, char **argv)
{
    const char *out = NULL, *model_path = NULL, *method = NULL, *vpath = NULL, *apath = NULL;
    int stems = 0, n_quiet = 0, n_verbose = 0;
    long width = 0, height = 0;
    enum { O_STEMS = 256, O_MODEL, O_METHOD, O_VOC, O_ACC, O_W, O_H };
    static const struct option lo[] = {{"out", required_argument, 0, 'o'},
                                       {"stems", no_argument, 0, O_STEMS},
                                       {"model", required_argument, 0, O_MODEL},
                                       {"method", required_argument, 0, O_METHOD},
                                       {"vocals", required_argument, 0, O_VOC},
                                       {"accompaniment", required_argument, 0, O_ACC},
                                       {"width", required_argument, 0, O_W},
                                       {"height", required_argument, 0, O_H},
                                       {"help", no_argument, 0, 'h'},
                                       CLI_OPT_QUIET_VERBOSE,
                                       {0, 0, 0, 0}};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":o:qvh", lo, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case O_STEMS: stems = 1; break;
        case O_MODEL: model_path = optarg; break;
        case O_METHOD: method = optarg; break;
        case O_VOC: vpath = optarg; break;
        case O_ACC: apath = optarg; break;
        case O_W:
            if (cli_parse_int("--width", optarg, 64, 8192, &width) != 0) return 2;
            break;
        case O_H:
            if (cli_parse_int("--height", optarg, 32, 4096, &height) != 0) return 2;
            break;
        case 'q': n_quiet++; break;
        case 'v': n_verbose++; break;
        case 'h': spectrogram_usage(stdout); return 0;
        default: return cli_bad_option("spectrogram", c, argc, argv);
        }
    }
    const int verbosity = cli_verbosity("spectrogram", n_quiet, n_verbose);
    if (verbosity == -2) return 2;
    if (argc - optind != 1 || !out) {
        spectrogram_usage(stderr);
        return 2;
    }
    if ((vpath != NULL) != (apath != NULL) || (vpath && stems)) {
        cli_error("spectrogram", "use either --stems or both --vocals and --accompaniment");
        return 2;
    }
    const char *fmt = duet_path_format(out);
    if (fmt && strcmp(fmt, "png")) {
        const char *dot = strrchr(out, '.');
        cli_error(out, "duet draws PNG, but the name ends in %s: name it .png", dot ? dot : fmt);
        return 2;
    }
    const char *path = argv[optind];
    duet_err err = {0};
    duet_audio mix = {0}, voc = {0}, acc = {0};
    duet_status st = duet_audio_read(path, NULL, &mix, NULL, &err);
    if (st != DUET_OK) return cli_fail(path, st, &err);
    int n_panels = 1;
    if (stems) {
        const duet_separator *sep = method ? duet_separator_find(method) : duet_separator_default();
        if (!sep || sep->needs_references) {
            duet_audio_free(&mix);
            cli_error("spectrogram", "--method: unknown or reference-needing separator '%s'", method ? method : "");
            return 2;
        }
        duet_sep_config cfg = {model_path, 0, 0};
        if (strcmp(sep->name, "model") == 0 && cli_model_path("spectrogram", model_path, &cfg.model_path)) {
            duet_audio_free(&mix);
            return 1;
        }
        duet_sep_input in = {&mix, NULL, NULL};
        st = duet_separate_once(sep, &cfg, &in, &voc, &acc, &err);
        if (st != DUET_OK) {
            duet_audio_free(&mix);
            cli_error("spectrogram", "--stems: separator '%s' failed: %s (pass "
                      "--model FILE, use --method repet-sim, or give --vocals and --accompaniment)",
                      sep->name, duet_err_msg(&err, st));
            return 1;
        }
        n_panels = 3;
    } else if (vpath) {
        st = duet_audio_read(vpath, NULL, &voc, NULL, &err);
        if (st != DUET_OK) {
            duet_audio_free(&mix);
            return cli_fail(vpath, st, &err);
        }
        st = duet_audio_read(apath, NULL, &acc, NULL, &err);
        if (st != DUET_OK) {
            duet_audio_free(&mix);
            duet_audio_free(&voc);
            return cli_fail(apath, st, &err);
        }
        n_panels = 3;
    }
    duet_describer *d = NULL;
    duet_frames fr[3] = {{0}};
    const duet_audio *sig[3] = {&mix, &voc, &acc};
    const char *titles[3] = {"mix", "vocals", "accompaniment"};
    const char *names[3] = {path, vpath ? vpath : "vocals", apath ? apath : "accompaniment"};
    int rc = 0;
    st = duet_describer_new(&d, &err);
    if (st != DUET_OK) rc = cli_fail(NULL, st, &err);
    for (int i = 0; i < n_panels && rc == 0; i++) {
        st = analyse(d, sig[i], &fr[i], &err);
        if (st != DUET_OK) rc = cli_fail(names[i], st, &err);
    }
    if (rc == 0) {
        duet_spec_panel panels[3];
        for (int i = 0; i < n_panels; i++) {
            panels[i].title = n_panels > 1 ? titles[i] : NULL;
            panels[i].mel_db = fr[i].mel_db;
            panels[i].n_frames = fr[i].n_frames;
            panels[i].n_mels = fr[i].n_mels;
            panels[i].seconds_per_frame = (double)DUET_FEAT_HOP / DUET_FEAT_SR;
            panels[i].fmin = 0;
            panels[i].fmax = DUET_FEAT_SR / 2.0;
        }
        if (n_panels == 1) {
            const char *base = strrchr(path, '/');
            panels[0].title = base ? base + 1 : path;
        }
        st = duet_png_spectrogram(out, panels, n_panels, (int)width, (int)height, &err);
        if (st != DUET_OK) rc = cli_fail(out, st, &err);
        else cli_debug(verbosity, "spectrogram", "%s: %d panel(s), %lld frames x %d mel bands -> %s", path, n_panels,
                       (long long)fr[0].n_frames, fr[0].n_mels, out);
    }
    for (int i = 0; i < 3; i++) duet_frames_free(&fr[i]);
    duet_describer_free(d);
    duet_audio_free(&mix);
    duet_audio_free(&voc);
    duet_audio_free(&acc);
    return rc;
}
