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
 * Names (stable; P = mix | vocals | accompaniment):
 *   P.duration (s), P.peak (max |x|), P.clip_fraction (|x| >= 0.999),
 *   P.loudness_lufs, P.loudness_range (LU), P.tempo (BPM, 0 = no onsets),
 *   P.onset_rate (onsets per second),
 *   P.{rms,centroid,bandwidth,rolloff,flatness,zcr}.{mean,std,p10,p50,p90}
 *   P.contrast_{0..6}.{mean,std}   (dB; row 0 = 0-200 Hz)
 *   P.chroma_{0..11}.{mean,std}    (0 = C, 1 = C#, ..., 11 = B)
 *   P.mfcc_{0..19}.{mean,std}
 *   P.onset_strength.{mean,std}
 * With stems, also:
 *   vocals.presence         fraction of non-silent mix frames (mix RMS >
 *                           1e-4) where the vocal frame's energy is at least
 *                           -10 dB relative to the mix frame's (RMS frames
 *                           2048/512 at 22050 Hz)
 *   vocals.to_accompaniment_lu  vocals LUFS - accompaniment LUFS (each
 *                           floored at -70 LUFS)
 *   vocals.f0.{median,mean,std} (Hz, over voiced frames; 0 when none)
 *   vocals.f0.range_semitones   12 log2(p95 / p5) of voiced f0 (0 when < 2)
 *   vocals.f0.voiced_fraction   voiced frames / all frames
 *   A frame is voiced when YIN (C2..C6 = 65.4..1046.5 Hz, frame 2048, hop
 *   512, threshold 0.1) found a trough below the threshold and the vocal
 *   frame RMS is above 1e-3 and within 40 dB of the vocal stem's loudest frame.
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
 * without computing anything: for TSV headers. Appends with value 0. */
duet_status duet_describe_names(int with_stems, duet_feature_set *fs, duet_err *err);

#ifdef __cplusplus
}
#endif

#endif
