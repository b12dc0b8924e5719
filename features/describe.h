/* features/describe.h: the full descriptor set of a song (mixture, and with
 * stems also vocals and accompaniment) as a flat list of named numbers.
 *
 * Pipeline per signal: loudness (libebur128) and peak/clipping on the decoded
 * audio at its own rate and channels; then mono (channel mean), resampled to
 * 22050 Hz (librosa's default rate: 44.1 and 88.2 kHz by a half-band FIR
 * decimator, other rates by libsamplerate's medium sinc; librosa uses soxr),
 * and frame-wise analysis with librosa's
 * defaults: STFT n_fft 2048, hop 512, periodic Hann, centred, zero-padded
 * (audio/stft.h); 128-band Slaney mel of |X|^2; MFCC 20 (orthonormal DCT-II of
 * power_to_db(mel), top_db 80); chroma 12; centroid, bandwidth, roll-off 0.85,
 * flatness, contrast (7 rows: [0, 200 Hz] and 6 octaves), ZCR, RMS; onset
 * strength; tempo; onset rate (see spectral.h, tempo.h, mel.h).
 *
 * Names (stable; P = mix | vocals | accompaniment), each with its unit and
 * its definition, are listed once in the descriptor table below
 * (duet_feature_defs, features/feature_defs.c; `duet features --list`
 * prints it name by name):
 *   P.duration, P.peak, P.clip_fraction, P.loudness_lufs, P.loudness_range,
 *   P.tempo, P.onset_rate,
 *   P.{rms,centroid,bandwidth,rolloff,flatness,zcr}.{mean,std,p10,p50,p90}
 *   P.contrast_{0..6}.{mean,std}, P.chroma_{0..11}.{mean,std},
 *   P.mfcc_{0..19}.{mean,std}, P.onset_strength.{mean,std}
 * and with stems vocals.presence, vocals.to_accompaniment_lu,
 * vocals.f0.{median,mean,std,range_semitones,voiced_fraction}.
 * Statistics: mean and population std over frames; percentiles by linear
 * interpolation (numpy's default). Every value is finite. */
#ifndef DUET_FEATURES_DESCRIBE_H
#define DUET_FEATURES_DESCRIBE_H

#include <stddef.h>
#include <stdint.h>
#include "../audio/audio.h"
#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DUET_FEAT_NAME_MAX 64

/* A growable list of (name, value). Zero-initialise (or _init); _free. */
typedef struct duet_feature_set {
    size_t n, cap;
    char (*names)[DUET_FEAT_NAME_MAX];
    double *values;
} duet_feature_set;

void duet_feature_set_init(duet_feature_set *fs);
void duet_feature_set_free(duet_feature_set *fs);
/* Append; the name is truncated to DUET_FEAT_NAME_MAX-1 bytes. Errors: NOMEM. */
duet_status duet_feature_set_add(duet_feature_set *fs, const char *name, double value);
/* Index of `name`, or -1. */
long duet_feature_set_find(const duet_feature_set *fs, const char *name);

/* Frame-wise analysis of one mono signal at the analysis rate. All arrays
 * are owned by the struct (free with duet_frames_free) and frame-major. */
typedef struct duet_frames {
    int64_t n_frames;
    int n_mels, n_mfcc, n_chroma, n_contrast;
    float *mel_db;    /* (n_frames, n_mels) power_to_db of the mel power */
    float *mfcc;      /* (n_frames, n_mfcc) */
    float *chroma;    /* (n_frames, n_chroma) */
    float *contrast;  /* (n_frames, n_contrast) dB */
    float *centroid, *bandwidth, *rolloff, *flatness, *zcr, *rms, *onset; /* (n_frames) */
    double tempo;     /* BPM, 0 when the onset envelope is all zero */
    int64_t n_onsets;
} duet_frames;

void duet_frames_free(duet_frames *f);

/* Reusable analysis state (STFT and YIN plans, filterbanks). One describer
 * serves one thread at a time; make one per thread. */
typedef struct duet_describer duet_describer;

/* Analysis rate and frame sizes used (librosa's defaults). */
#define DUET_FEAT_SR 22050
#define DUET_FEAT_N_FFT 2048
#define DUET_FEAT_HOP 512

/* *out must be freed with duet_describer_free(). Errors: DUET_ERR_NOMEM,
 * DUET_ERR_INTERNAL (FFT planning). */
duet_status duet_describer_new(duet_describer **out, duet_err *err);
void duet_describer_free(duet_describer *d);

/* Analyse x[0..n) (mono, DUET_FEAT_SR Hz, n >= 0) into *out (zeroed first).
 * Errors: DUET_ERR_NAN (non-finite sample), DUET_ERR_NOMEM. */
duet_status duet_describer_analyze(duet_describer *d, const float *x, int64_t n, duet_frames *out,
                                   duet_err *err);

/* Mono at DUET_FEAT_SR of `a` into *out (a new buffer; free with
 * duet_audio_free). Errors: those of duet_audio_to_mono/_resample,
 * DUET_ERR_EMPTY (0 frames). */
duet_status duet_features_prepare(const duet_audio *a, duet_audio *out, duet_err *err);

/* Describe the mixture, and when `vocals` and `accomp` are both non-NULL the
 * stems too (they must have the mix's rate and length; `mix` may then be
 * NULL, meaning vocals + accomp). Appends to *fs. Errors: DUET_ERR_EMPTY (no
 * samples), DUET_ERR_NAN (non-finite samples), DUET_ERR_SHAPE (stems that do
 * not match), DUET_ERR_ARG, DUET_ERR_NOMEM. */
duet_status duet_describe(duet_describer *d, const duet_audio *mix, const duet_audio *vocals,
                          const duet_audio *accomp, duet_feature_set *fs, duet_err *err);

/* The feature names duet_describe produces (with stems or not), in order,
 * without computing anything: for TSV headers. Appends with value 0. The
 * names are made from the descriptor table below: the mixture's per-signal
 * families, then (with stems) the vocals' and the accompaniment's, then the
 * vocal-only ones. Errors: DUET_ERR_NOMEM. */
duet_status duet_describe_names(int with_stems, duet_feature_set *fs, duet_err *err);

/* ---- the descriptor table: names, units, definitions ----
 *
 * One entry per descriptor family, in output order. A per-signal family
 * (vocal_only 0) gives names "P.<name>" for P = mix (and, with stems,
 * vocals and accompaniment); a vocal-only family gives "vocals.<name>" with
 * stems only. An indexed family (count n > 0) gives <name>_0 ..
 * <name>_{n-1}; the statistics add a suffix: DUET_FEAT_MEAN_STD ".mean",
 * ".std" (mean and population standard deviation over frames),
 * DUET_FEAT_SUMMARY those and ".p10", ".p50", ".p90" (percentiles over
 * frames, numpy's linear interpolation). Statistics keep the unit of the
 * frame value.
 *
 * Units: s (seconds), FS (linear amplitude, 1 = digital full scale),
 * fraction (0..1 share of samples or frames), ratio (dimensionless), LUFS,
 * LU, BPM, 1/s, Hz, dB, semitones. */
typedef enum duet_feature_stats {
    DUET_FEAT_SCALAR = 0,   /* one value per signal: no suffix */
    DUET_FEAT_MEAN_STD = 1, /* .mean, .std over frames */
    DUET_FEAT_SUMMARY = 2   /* .mean, .std, .p10, .p50, .p90 over frames */
} duet_feature_stats;

typedef struct duet_feature_def {
    const char *name;          /* "centroid", "mfcc" (indexed), "f0.median" */
    int count;                 /* 0: one descriptor; n: name_0 .. name_{n-1} */
    duet_feature_stats stats;  /* which statistics over frames */
    int vocal_only;            /* 1: only "vocals.<name>", with stems */
    const char *unit;          /* one word, see above */
    const char *definition;    /* one line (no tab or newline) */
    const char *const *labels; /* count labels of an indexed family (chroma pitch
                                * classes, contrast bands), or NULL */
} duet_feature_def;

/* The table (static storage); *n receives its length. */
const duet_feature_def *duet_feature_defs(size_t *n);

/* The documentation of one full name as duet_describe produces it
 * ("mix.centroid.p90", "accompaniment.chroma_1.std", "vocals.f0.median"):
 * returns its table entry, sets *unit (may be NULL) to the entry's unit, and
 * writes into definition[0..n) (may be NULL) one line: the signal, the
 * family's definition, the index and its label, and the statistic. Returns
 * NULL (and *unit NULL, definition "") for a name duet does not produce. */
const duet_feature_def *duet_feature_doc(const char *name, const char **unit, char *definition, size_t n);

#ifdef __cplusplus
}
#endif

#endif
