/* features/feature_defs.c: the descriptor table (names, units and
 * definitions of everything duet_describe produces), the names list built
 * from it, and the per-name documentation lookup (see describe.h). */
#include "describe.h"

#include <stdio.h>
#include <string.h>

static const char *const CONTRAST_BANDS[] = {"0-200 Hz",      "200-400 Hz",    "400-800 Hz",   "800-1600 Hz",
                                             "1600-3200 Hz",  "3200-6400 Hz",  "6400-11025 Hz"};
static const char *const PITCH_CLASSES[] = {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};

/* In output order: the per-signal descriptors, then the vocal ones. */
static const duet_feature_def DEFS[] = {
    {"duration", 0, DUET_FEAT_SCALAR, 0, "s", "length of the audio", NULL},
    {"peak", 0, DUET_FEAT_SCALAR, 0, "FS",
     "largest absolute sample value over all channels at the file's own rate (1 = digital full scale)", NULL},
    {"clip_fraction", 0, DUET_FEAT_SCALAR, 0, "fraction",
     "share of the samples (all channels) with |x| >= 0.999 (clipped or about to clip)", NULL},
    {"loudness_lufs", 0, DUET_FEAT_SCALAR, 0, "LUFS",
     "EBU R128 integrated loudness (ITU-R BS.1770-4 gating, libebur128) at the file's own rate and channels; "
     "-70 when no 400 ms block passes the gate (silence, shorter than 400 ms)", NULL},
    {"loudness_range", 0, DUET_FEAT_SCALAR, 0, "LU",
     "EBU R128 loudness range (EBU Tech 3342); 0 when no block passes the gate", NULL},
    {"tempo", 0, DUET_FEAT_SCALAR, 0, "BPM",
     "global tempo (librosa.feature.tempo): best lag of the onset envelope's autocorrelation in 8 s windows "
     "under a log-normal prior centred at 120 BPM, at most 320 BPM; 0 when there are no onsets", NULL},
    {"onset_rate", 0, DUET_FEAT_SCALAR, 0, "1/s",
     "onsets per second of audio (librosa.onset.onset_detect peak picking on the onset envelope)", NULL},
    {"rms", 0, DUET_FEAT_SUMMARY, 0, "FS", "root mean square of each 2048-sample frame (librosa.feature.rms)", NULL},
    {"centroid", 0, DUET_FEAT_SUMMARY, 0, "Hz",
     "spectral centroid: magnitude-weighted mean frequency of each frame, 0 for a silent frame "
     "(librosa.feature.spectral_centroid)", NULL},
    {"bandwidth", 0, DUET_FEAT_SUMMARY, 0, "Hz",
     "spectral bandwidth: magnitude-weighted standard deviation of the frequency around the frame's centroid "
     "(librosa.feature.spectral_bandwidth, p = 2)", NULL},
    {"rolloff", 0, DUET_FEAT_SUMMARY, 0, "Hz",
     "spectral roll-off: lowest frequency below which 85% of the frame's magnitude lies, 0 for a silent frame "
     "(librosa.feature.spectral_rolloff)", NULL},
    {"flatness", 0, DUET_FEAT_SUMMARY, 0, "ratio",
     "spectral flatness: geometric over arithmetic mean of the frame's power spectrum, 1 = noise-like (and "
     "silence), near 0 = tonal (librosa.feature.spectral_flatness)", NULL},
    {"zcr", 0, DUET_FEAT_SUMMARY, 0, "fraction",
     "zero-crossing rate: fraction of sign changes in each 2048-sample frame (librosa.feature.zero_crossing_rate)",
     NULL},
    {"contrast", 7, DUET_FEAT_MEAN_STD, 0, "dB",
     "spectral contrast: dB of the band's peak (top 2% of its bins) minus dB of its valley (bottom 2%) in each "
     "frame (librosa.feature.spectral_contrast, fmin 200 Hz, 6 octave bands above [0, 200 Hz])", CONTRAST_BANDS},
    {"chroma", 12, DUET_FEAT_MEAN_STD, 0, "ratio",
     "chroma: energy of the pitch class in each frame (12-bin chroma filterbank on the power spectrum, tuning "
     "fixed at A = 440 Hz) divided by the frame's strongest pitch class (librosa.feature.chroma_stft)",
     PITCH_CLASSES},
    {"mfcc", 20, DUET_FEAT_MEAN_STD, 0, "dB",
     "mel-frequency cepstral coefficient of each frame: orthonormal DCT-II of the 128-band Slaney mel power "
     "spectrum in dB, top_db 80 (librosa.feature.mfcc)", NULL},
    {"onset_strength", 0, DUET_FEAT_MEAN_STD, 0, "dB",
     "onset strength: mean over the 128 mel bands of the positive dB increase from the previous frame "
     "(spectral flux, librosa.onset.onset_strength)", NULL},
    {"presence", 0, DUET_FEAT_SCALAR, 1, "fraction",
     "share of the non-silent mixture frames (mix RMS > 1e-4) in which the vocal frame's energy is at least "
     "-10 dB relative to the mixture frame's (RMS frames 2048/512 at 22050 Hz)", NULL},
    {"to_accompaniment_lu", 0, DUET_FEAT_SCALAR, 1, "LU",
     "integrated loudness of the vocals minus that of the accompaniment (each floored at -70 LUFS)", NULL},
    {"f0.median", 0, DUET_FEAT_SCALAR, 1, "Hz",
     "median fundamental frequency of the vocals over voiced frames (YIN, C2-C6 = 65.4-1046.5 Hz, frame "
     "2048, hop 512, threshold 0.1; a voiced frame also has RMS > 1e-3 within 40 dB of the loudest vocal "
     "frame); 0 when no frame is voiced", NULL},
    {"f0.mean", 0, DUET_FEAT_SCALAR, 1, "Hz",
     "mean fundamental frequency of the vocals over voiced frames (YIN, as f0.median); 0 when none", NULL},
    {"f0.std", 0, DUET_FEAT_SCALAR, 1, "Hz",
     "population standard deviation of the vocal fundamental frequency over voiced frames; 0 when none", NULL},
    {"f0.range_semitones", 0, DUET_FEAT_SCALAR, 1, "semitones",
     "vocal pitch range: 12 log2(p95 / p5) of the voiced fundamental frequencies; 0 with fewer than 2 voiced "
     "frames", NULL},
    {"f0.voiced_fraction", 0, DUET_FEAT_SCALAR, 1, "fraction", "voiced vocal frames over all vocal frames",
     NULL},
};
#define N_DEFS (sizeof DEFS / sizeof DEFS[0])

/* The statistics of each kind, in output order. */
static const char *const STAT_SUFFIX[] = {"mean", "std", "p10", "p50", "p90"};
static const char *const STAT_TEXT[] = {"mean over frames", "population standard deviation over frames",
                                        "10th percentile over frames", "median over frames",
                                        "90th percentile over frames"};
static int n_stats(duet_feature_stats s) { return s == DUET_FEAT_SUMMARY ? 5 : s == DUET_FEAT_MEAN_STD ? 2 : 0; }

static const char *const SIGNALS[] = {"mix", "vocals", "accompaniment"};
static const char *const SIGNAL_TEXT[] = {"mixture", "vocal stem", "accompaniment stem"};

const duet_feature_def *duet_feature_defs(size_t *n)
{
    if (n) *n = N_DEFS;
    return DEFS;
}

/* "<signal>.<name>[_<index>][.<stat>]" */
static void full_name(char *buf, size_t n, int sig, const duet_feature_def *d, int index, int stat)
{
    char idx[16] = "", st[8] = "";
    if (d->count) snprintf(idx, sizeof idx, "_%d", index);
    if (stat >= 0) snprintf(st, sizeof st, ".%s", STAT_SUFFIX[stat]);
    snprintf(buf, n, "%s.%s%s%s", SIGNALS[sig], d->name, idx, st);
}

static duet_status add_family(duet_feature_set *fs, int sig, const duet_feature_def *d)
{
    char nm[DUET_FEAT_NAME_MAX];
    int ns = n_stats(d->stats), ni = d->count ? d->count : 1;
    for (int i = 0; i < ni; i++)
        for (int s = ns ? 0 : -1; s < ns; s++) {
            full_name(nm, sizeof nm, sig, d, i, s);
            duet_status st = duet_feature_set_add(fs, nm, 0.0);
            if (st != DUET_OK) return st;
        }
    return DUET_OK;
}

duet_status duet_describe_names(int with_stems, duet_feature_set *fs, duet_err *err)
{
    duet_status st = DUET_OK;
    for (int sig = 0; sig < (with_stems ? 3 : 1) && st == DUET_OK; sig++)
        for (size_t k = 0; k < N_DEFS && st == DUET_OK; k++)
            if (!DEFS[k].vocal_only) st = add_family(fs, sig, &DEFS[k]);
    for (size_t k = 0; with_stems && k < N_DEFS && st == DUET_OK; k++)
        if (DEFS[k].vocal_only) st = add_family(fs, 1, &DEFS[k]);
    if (st != DUET_OK) return duet_err_set(err, st, "out of memory");
    return DUET_OK;
}

/* Match rest (the name after "<signal>.") against d: 1 and *index, *stat
 * (-1 when none) set, or 0. */
static int match(const duet_feature_def *d, const char *rest, int *index, int *stat)
{
    size_t len = strlen(d->name);
    if (strncmp(rest, d->name, len) != 0) return 0;
    const char *p = rest + len;
    *index = -1;
    *stat = -1;
    if (d->count) {
        if (*p++ != '_' || *p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9')) return 0;
        int v = 0;
        while (*p >= '0' && *p <= '9' && v < 1000) v = 10 * v + (*p++ - '0');
        if (v >= d->count) return 0;
        *index = v;
    }
    int ns = n_stats(d->stats);
    if (ns == 0) return *p == '\0';
    if (*p++ != '.') return 0;
    for (int s = 0; s < ns; s++)
        if (strcmp(p, STAT_SUFFIX[s]) == 0) {
            *stat = s;
            return 1;
        }
    return 0;
}

const duet_feature_def *duet_feature_doc(const char *name, const char **unit, char *definition, size_t n)
{
    if (unit) *unit = NULL;
    if (definition && n) definition[0] = '\0';
    if (!name) return NULL;
    int sig = -1;
    const char *rest = NULL;
    for (int s = 0; s < 3 && sig < 0; s++) {
        size_t l = strlen(SIGNALS[s]);
        if (strncmp(name, SIGNALS[s], l) == 0 && name[l] == '.') {
            sig = s;
            rest = name + l + 1;
        }
    }
    if (sig < 0) return NULL;
    for (size_t k = 0; k < N_DEFS; k++) {
        const duet_feature_def *d = &DEFS[k];
        int index, stat;
        if ((d->vocal_only && sig != 1) || !match(d, rest, &index, &stat)) continue;
        if (unit) *unit = d->unit;
        if (definition && n) {
            char what[96] = "";
            if (index >= 0 && d->labels) snprintf(what, sizeof what, ", %s %d (%s)", d->name, index, d->labels[index]);
            else if (index >= 0) snprintf(what, sizeof what, ", coefficient %d", index);
            snprintf(definition, n, "%s%s: %s%s%s", d->vocal_only ? "vocal descriptor (with stems)" : SIGNAL_TEXT[sig],
                     what, d->definition, stat >= 0 ? "; " : "", stat >= 0 ? STAT_TEXT[stat] : "");
        }
        return d;
    }
    return NULL;
}
