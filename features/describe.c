/* features/describe.c: the descriptor pipeline and its summaries (see
 * describe.h; names, units and definitions: the table in feature_defs.c,
 * whose names duet_describe_names lists and the tests compare with the
 * names produced here). */
#include "describe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../audio/stft.h"
#include "loudness.h"
#include "mel.h"
#include "pitch.h"
#include "spectral.h"
#include "tempo.h"

#define N_MELS 128
#define N_MFCC 20
#define N_CHROMA 12
#define N_CONTRAST_BANDS 6
#define N_CONTRAST (N_CONTRAST_BANDS + 1)
#define ONSET_SHIFT (1 + DUET_FEAT_N_FFT / (2 * DUET_FEAT_HOP))
#define YIN_FMIN 65.40639132514966  /* C2 */
#define YIN_FMAX 1046.5022612023945 /* C6 */

/* ---- feature sets ---- */

void duet_feature_set_init(duet_feature_set *fs) { memset(fs, 0, sizeof *fs); }

void duet_feature_set_free(duet_feature_set *fs)
{
    if (!fs) return;
    free(fs->names);
    free(fs->values);
    memset(fs, 0, sizeof *fs);
}

duet_status duet_feature_set_add(duet_feature_set *fs, const char *name, double value)
{
    if (fs->n == fs->cap) {
        size_t cap = fs->cap ? fs->cap * 2 : 256;
        char(*nn)[DUET_FEAT_NAME_MAX] = realloc(fs->names, cap * sizeof *nn);
        if (!nn) return DUET_ERR_NOMEM;
        fs->names = nn;
        double *nv = realloc(fs->values, cap * sizeof *nv);
        if (!nv) return DUET_ERR_NOMEM;
        fs->values = nv;
        fs->cap = cap;
    }
    snprintf(fs->names[fs->n], DUET_FEAT_NAME_MAX, "%s", name);
    fs->values[fs->n] = isfinite(value) ? value : 0.0; /* never NaN in the output */
    fs->n++;
    return DUET_OK;
}

long duet_feature_set_find(const duet_feature_set *fs, const char *name)
{
    for (size_t i = 0; i < fs->n; i++)
        if (strcmp(fs->names[i], name) == 0) return (long)i;
    return -1;
}

void duet_frames_free(duet_frames *f)
{
    if (!f) return;
    free(f->mel_db);
    free(f->mfcc);
    free(f->chroma);
    free(f->contrast);
    free(f->centroid);
    free(f->bandwidth);
    free(f->rolloff);
    free(f->flatness);
    free(f->zcr);
    free(f->rms);
    free(f->onset);
    memset(f, 0, sizeof *f);
}

/* ---- describer ---- */

struct duet_describer {
    duet_stft *stft;
    duet_melfb *mel;
    duet_yin *yin;
    duet_contrast_bands bands;
    int n_bins;
    float *chroma_w; /* (N_CHROMA, n_bins) */
    float *dct;      /* (N_MFCC, N_MELS) */
    float *dct_t;    /* (N_MELS, N_MFCC) */
    float *freq;     /* n_bins */
    float *power, *mag, *scratch;
    float *peak, *valley; /* per analysis: (n_frames, N_CONTRAST) */
};

void duet_describer_free(duet_describer *d)
{
    if (!d) return;
    duet_stft_free(d->stft);
    duet_melfb_free(d->mel);
    duet_yin_free(d->yin);
    free(d->chroma_w);
    free(d->dct);
    free(d->dct_t);
    free(d->freq);
    free(d->power);
    free(d->mag);
    free(d->scratch);
    free(d);
}

duet_status duet_describer_new(duet_describer **out, duet_err *err)
{
    *out = NULL;
    duet_describer *d = calloc(1, sizeof *d);
    if (!d) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    duet_status st = duet_stft_new(DUET_FEAT_N_FFT, DUET_FEAT_HOP, DUET_WIN_HANN, &d->stft, err);
    if (st == DUET_OK) st = duet_melfb_new(DUET_FEAT_SR, DUET_FEAT_N_FFT, N_MELS, 0.0, 0.0, &d->mel, err);
    if (st == DUET_OK)
        st = duet_yin_new(DUET_FEAT_SR, YIN_FMIN, YIN_FMAX, DUET_FEAT_N_FFT, DUET_FEAT_HOP, 0.1, &d->yin, err);
    if (st == DUET_OK)
        st = duet_contrast_bands_init(&d->bands, DUET_FEAT_SR, DUET_FEAT_N_FFT, 200.0, N_CONTRAST_BANDS, 0.02,
                                      err);
    if (st != DUET_OK) {
        duet_describer_free(d);
        return st;
    }
    d->n_bins = DUET_FEAT_N_FFT / 2 + 1;
    d->chroma_w = malloc(sizeof(float) * N_CHROMA * (size_t)d->n_bins);
    d->dct = malloc(sizeof(float) * N_MFCC * N_MELS);
    d->dct_t = malloc(sizeof(float) * N_MFCC * N_MELS);
    d->freq = malloc(sizeof(float) * (size_t)d->n_bins);
    d->power = malloc(sizeof(float) * (size_t)d->n_bins);
    d->mag = malloc(sizeof(float) * (size_t)d->n_bins);
    d->scratch = malloc(sizeof(float) * (size_t)d->n_bins);
    if (!d->chroma_w || !d->dct || !d->dct_t || !d->freq || !d->power || !d->mag || !d->scratch) {
        duet_describer_free(d);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    st = duet_chroma_filters(DUET_FEAT_SR, DUET_FEAT_N_FFT, N_CHROMA, d->chroma_w, err);
    if (st != DUET_OK) {
        duet_describer_free(d);
        return st;
    }
    duet_dct2_ortho_matrix(N_MFCC, N_MELS, d->dct);
    for (int k = 0; k < N_MFCC; k++)
        for (int j = 0; j < N_MELS; j++) d->dct_t[j * N_MFCC + k] = d->dct[k * N_MELS + j];
    for (int k = 0; k < d->n_bins; k++) d->freq[k] = (float)((double)DUET_FEAT_SR * k / DUET_FEAT_N_FFT);
    *out = d;
    return DUET_OK;
}

typedef struct frame_ctx {
    duet_describer *d;
    duet_frames *f;
    float *peak, *valley;
    int64_t n_frames, count;
} frame_ctx;

static int on_frame(void *user, int64_t t, const float *frame)
{
    frame_ctx *c = user;
    duet_describer *d = c->d;
    duet_frames *f = c->f;
    if (t != c->count || t >= c->n_frames) return 1;
    c->count++;
    const int nb = d->n_bins;
    for (int k = 0; k < nb; k++) {
        float re = frame[2 * k], im = frame[2 * k + 1];
        float p = re * re + im * im;
        d->power[k] = p;
        d->mag[k] = sqrtf(p);
    }
    duet_melfb_apply(d->mel, d->power, f->mel_db + (size_t)t * N_MELS);
    double total;
    duet_spectral_stats(d->mag, d->freq, nb, 1e-10, &f->centroid[t], &f->bandwidth[t], &f->flatness[t], &total);
    f->rolloff[t] = duet_spectral_rolloff_total(d->mag, d->freq, nb, 0.85, total);
    duet_contrast_frame(&d->bands, d->mag, c->peak + (size_t)t * N_CONTRAST, c->valley + (size_t)t * N_CONTRAST,
                        d->scratch);
    duet_chroma_frame(d->chroma_w, N_CHROMA, nb, d->power, f->chroma + (size_t)t * N_CHROMA);
    return 0;
}

duet_status duet_describer_analyze(duet_describer *d, const float *x, int64_t n, duet_frames *out,
                                   duet_err *err)
{
    memset(out, 0, sizeof *out);
    if (n < 0) return duet_err_set(err, DUET_ERR_ARG, "negative length");
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return duet_err_set(err, DUET_ERR_NAN, "non-finite sample at frame %lld", (long long)i);
    int64_t T = duet_stft_n_frames(d->stft, n);
    out->n_frames = T;
    out->n_mels = N_MELS;
    out->n_mfcc = N_MFCC;
    out->n_chroma = N_CHROMA;
    out->n_contrast = N_CONTRAST;
    size_t t = (size_t)T;
    out->mel_db = malloc(sizeof(float) * t * N_MELS);
    out->mfcc = malloc(sizeof(float) * t * N_MFCC);
    out->chroma = malloc(sizeof(float) * t * N_CHROMA);
    out->contrast = malloc(sizeof(float) * t * N_CONTRAST);
    out->centroid = malloc(sizeof(float) * t);
    out->bandwidth = malloc(sizeof(float) * t);
    out->rolloff = malloc(sizeof(float) * t);
    out->flatness = malloc(sizeof(float) * t);
    out->zcr = malloc(sizeof(float) * t);
    out->rms = malloc(sizeof(float) * t);
    out->onset = malloc(sizeof(float) * t);
    float *peak = malloc(sizeof(float) * t * N_CONTRAST), *valley = malloc(sizeof(float) * t * N_CONTRAST);
    duet_stft_stream *stream = NULL;
    duet_status st = DUET_OK;
    if (!out->mel_db || !out->mfcc || !out->chroma || !out->contrast || !out->centroid || !out->bandwidth ||
        !out->rolloff || !out->flatness || !out->zcr || !out->rms || !out->onset || !peak || !valley) {
        st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        goto done;
    }
    frame_ctx fc = {d, out, peak, valley, T, 0};
    st = duet_stft_stream_new(d->stft, on_frame, &fc, &stream, err);
    if (st != DUET_OK) goto done;
    const int64_t chunk = 1 << 16;
    for (int64_t i = 0; i < n && st == DUET_OK; i += chunk)
        st = duet_stft_stream_feed(stream, x + i, n - i < chunk ? n - i : chunk, err);
    if (st == DUET_OK) st = duet_stft_stream_finish(stream, err);
    if (st != DUET_OK) goto done;
    if (fc.count != T) {
        st = duet_err_set(err, DUET_ERR_INTERNAL, "STFT produced %lld frames, expected %lld", (long long)fc.count,
                          (long long)T);
        goto done;
    }
    /* dB mel (one global top_db floor, as librosa), MFCC, onset strength */
    duet_power_to_db(out->mel_db, t * N_MELS, 1.0, 1e-10, 80.0);
    for (size_t i = 0; i < t; i++) {
        const float *m = out->mel_db + i * N_MELS;
        float acc[N_MFCC] = {0};
        for (int j = 0; j < N_MELS; j++) { /* dct_t: (N_MELS, N_MFCC) */
            const float *col = d->dct_t + (size_t)j * N_MFCC;
            for (int k = 0; k < N_MFCC; k++) acc[k] += col[k] * m[j];
        }
        memcpy(out->mfcc + i * N_MFCC, acc, sizeof acc);
    }
    duet_onset_strength(out->mel_db, T, N_MELS, ONSET_SHIFT, out->onset);
    /* contrast: power_to_db(peak) - power_to_db(valley), each over all frames */
    duet_power_to_db(peak, t * N_CONTRAST, 1.0, 1e-10, 80.0);
    duet_power_to_db(valley, t * N_CONTRAST, 1.0, 1e-10, 80.0);
    for (size_t i = 0; i < t * N_CONTRAST; i++) out->contrast[i] = peak[i] - valley[i];
    duet_zcr(x, n, DUET_FEAT_N_FFT, DUET_FEAT_HOP, out->zcr);
    duet_rms(x, n, DUET_FEAT_N_FFT, DUET_FEAT_HOP, out->rms);
    st = duet_tempo(out->onset, T, DUET_FEAT_SR, DUET_FEAT_HOP, 120.0, 1.0, 8.0, 320.0, &out->tempo, err);
    if (st != DUET_OK) goto done;
    out->n_onsets = duet_onset_detect(out->onset, T, DUET_FEAT_SR, DUET_FEAT_HOP, NULL, 0);
    if (out->n_onsets < 0) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
done:
    duet_stft_stream_free(stream);
    free(peak);
    free(valley);
    if (st != DUET_OK) duet_frames_free(out);
    return st;
}

/* 2:1 decimation by a linear-phase half-band FIR (Kaiser-windowed sinc,
 * cutoff at the new Nyquist, 127 taps, beta 8: about 80 dB stop-band
 * attenuation, pass band flat to about 10 kHz at 44.1 kHz input). Output
 * frame k is centred on input frame 2k (zero padding at the edges), and there
 * are (n + 1) / 2 of them: round(n / 2) as duet_audio_resample gives. The
 * common 44.1 kHz -> 22.05 kHz step runs through this, several times faster
 * than a general sinc resampler. */
#define DEC_HALF 63
static double bessel_i0(double x)
{
    double s = 1, t = 1;
    for (int k = 1; k < 50; k++) {
        t *= (x / (2 * k)) * (x / (2 * k));
        s += t;
        if (t < 1e-17 * s) break;
    }
    return s;
}

static duet_status decimate2(const duet_audio *in, duet_audio *out, duet_err *err)
{
    int64_t n = in->frames, m = (n + 1) / 2;
    duet_status st = duet_audio_alloc(out, 1, m, in->sample_rate / 2);
    if (st != DUET_OK) return duet_err_set(err, st, "out of memory");
    float h[DEC_HALF + 1]; /* h[j] for offsets 0, 1, 3, 5, ...: odd offsets and the centre */
    const double beta = 8.0, i0b = bessel_i0(beta);
    double hs[2 * DEC_HALF + 1], sum = 0;
    for (int j = -DEC_HALF; j <= DEC_HALF; j++) {
        double r = (double)j / DEC_HALF;
        double w = bessel_i0(beta * sqrt(1 - r * r)) / i0b;
        double sinc = j == 0 ? 0.5 : sin(3.14159265358979323846 * j / 2) / (3.14159265358979323846 * j);
        hs[j + DEC_HALF] = sinc * w;
        sum += hs[j + DEC_HALF];
    }
    h[0] = (float)(hs[DEC_HALF] / sum);
    for (int q = 1; q <= (DEC_HALF + 1) / 2; q++) h[q] = (float)(hs[DEC_HALF + 2 * q - 1] / sum);
    const int nq = (DEC_HALF + 1) / 2; /* odd taps on each side */
    const float *x = in->ch[0];
    float *y = out->ch[0];
    for (int64_t k = 0; k < m; k++) {
        int64_t c = 2 * k;
        double acc = (double)h[0] * x[c];
        if (c - (2 * nq - 1) >= 0 && c + (2 * nq - 1) < n) {
            float part[4] = {0};
            int q = 1;
            for (; q + 3 <= nq; q += 4)
                for (int u = 0; u < 4; u++)
                    part[u] += h[q + u] * (x[c - (2 * (q + u) - 1)] + x[c + (2 * (q + u) - 1)]);
            for (; q <= nq; q++) part[0] += h[q] * (x[c - (2 * q - 1)] + x[c + (2 * q - 1)]);
            acc += (double)part[0] + part[1] + part[2] + part[3];
        } else {
            for (int q = 1; q <= nq; q++) {
                int64_t l = c - (2 * q - 1), r = c + (2 * q - 1);
                acc += (double)h[q] * ((l >= 0 ? x[l] : 0.0f) + (r < n ? x[r] : 0.0f));
            }
        }
        y[k] = (float)acc;
    }
    return DUET_OK;
}

duet_status duet_features_prepare(const duet_audio *a, duet_audio *out, duet_err *err)
{
    memset(out, 0, sizeof *out);
    if (a->frames <= 0 || a->channels < 1) return duet_err_set(err, DUET_ERR_EMPTY, "no audio samples");
    duet_audio mono;
    duet_status st = duet_audio_to_mono(a, &mono, err);
    if (st != DUET_OK) return st;
    while (mono.sample_rate == 4 * DUET_FEAT_SR || mono.sample_rate == 2 * DUET_FEAT_SR) {
        duet_audio half;
        st = decimate2(&mono, &half, err);
        duet_audio_free(&mono);
        if (st != DUET_OK) return st;
        mono = half;
    }
    if (mono.sample_rate == DUET_FEAT_SR) {
        *out = mono;
        return DUET_OK;
    }
    st = duet_audio_resample(&mono, DUET_FEAT_SR, DUET_RESAMPLE_HIGH, out, err);
    duet_audio_free(&mono);
    return st;
}

/* ---- summaries ---- */

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* percentile q in [0, 100] of sorted s[0..n), numpy's linear method */
static double pct_sorted(const float *s, size_t n, double q)
{
    if (n == 0) return 0;
    double pos = q / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    if (lo >= n - 1) return s[n - 1];
    double fr = pos - (double)lo;
    return s[lo] + ((double)s[lo + 1] - s[lo]) * fr;
}

/* mean and population std of v[i * stride] for i < n */
static void mean_std(const float *v, size_t n, size_t stride, double *mean, double *sd)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += v[i * stride];
    double m = n ? s / (double)n : 0, ss = 0;
    for (size_t i = 0; i < n; i++) {
        double dv = v[i * stride] - m;
        ss += dv * dv;
    }
    *mean = m;
    *sd = n ? sqrt(ss / (double)n) : 0;
}

static duet_status addf(duet_feature_set *fs, const char *prefix, const char *name, double v)
{
    char buf[DUET_FEAT_NAME_MAX * 2];
    snprintf(buf, sizeof buf, "%s.%s", prefix, name);
    return duet_feature_set_add(fs, buf, v);
}

typedef struct signal_scalars {
    double duration, peak, clip, lufs, lra;
} signal_scalars;

/* Add the per-signal names and values (f, sc NULL: names with zeros). */
static duet_status add_signal(duet_feature_set *fs, const char *p, const duet_frames *f,
                              const signal_scalars *sc, float *scratch)
{
    duet_status st = DUET_OK;
    size_t T = f ? (size_t)f->n_frames : 0;
    double dur = sc ? sc->duration : 0;
#define ADD(name, v)                                                                                    \
    do {                                                                                                \
        if ((st = addf(fs, p, name, (v))) != DUET_OK) return st;                                        \
    } while (0)
    ADD("duration", dur);
    ADD("peak", sc ? sc->peak : 0);
    ADD("clip_fraction", sc ? sc->clip : 0);
    ADD("loudness_lufs", sc ? sc->lufs : 0);
    ADD("loudness_range", sc ? sc->lra : 0);
    ADD("tempo", f ? f->tempo : 0);
    ADD("onset_rate", f && dur > 0 ? (double)f->n_onsets / dur : 0);
    const char *vec_names[] = {"rms", "centroid", "bandwidth", "rolloff", "flatness", "zcr"};
    const float *vecs[6] = {0};
    if (f) {
        vecs[0] = f->rms;
        vecs[1] = f->centroid;
        vecs[2] = f->bandwidth;
        vecs[3] = f->rolloff;
        vecs[4] = f->flatness;
        vecs[5] = f->zcr;
    }
    char nm[DUET_FEAT_NAME_MAX];
    for (int i = 0; i < 6; i++) {
        double m = 0, sd = 0, p10 = 0, p50 = 0, p90 = 0;
        if (f) {
            mean_std(vecs[i], T, 1, &m, &sd);
            memcpy(scratch, vecs[i], T * sizeof(float));
            qsort(scratch, T, sizeof(float), cmp_float);
            p10 = pct_sorted(scratch, T, 10);
            p50 = pct_sorted(scratch, T, 50);
            p90 = pct_sorted(scratch, T, 90);
        }
        snprintf(nm, sizeof nm, "%s.mean", vec_names[i]);
        ADD(nm, m);
        snprintf(nm, sizeof nm, "%s.std", vec_names[i]);
        ADD(nm, sd);
        snprintf(nm, sizeof nm, "%s.p10", vec_names[i]);
        ADD(nm, p10);
        snprintf(nm, sizeof nm, "%s.p50", vec_names[i]);
        ADD(nm, p50);
        snprintf(nm, sizeof nm, "%s.p90", vec_names[i]);
        ADD(nm, p90);
    }
    struct {
        const char *name;
        const float *m;
        int dim;
    } mats[3] = {{"contrast", f ? f->contrast : NULL, N_CONTRAST},
                 {"chroma", f ? f->chroma : NULL, N_CHROMA},
                 {"mfcc", f ? f->mfcc : NULL, N_MFCC}};
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < mats[i].dim; k++) {
            double m = 0, sd = 0;
            if (f) mean_std(mats[i].m + k, T, (size_t)mats[i].dim, &m, &sd);
            snprintf(nm, sizeof nm, "%s_%d.mean", mats[i].name, k);
            ADD(nm, m);
            snprintf(nm, sizeof nm, "%s_%d.std", mats[i].name, k);
            ADD(nm, sd);
        }
    {
        double m = 0, sd = 0;
        if (f) mean_std(f->onset, T, 1, &m, &sd);
        ADD("onset_strength.mean", m);
        ADD("onset_strength.std", sd);
    }
#undef ADD
    return DUET_OK;
}

typedef struct vocal_stats {
    double presence, to_acc, f0_median, f0_mean, f0_std, f0_range, voiced;
} vocal_stats;

static duet_status add_vocal(duet_feature_set *fs, const vocal_stats *v)
{
    vocal_stats z = {0};
    if (!v) v = &z;
    duet_status st;
    if ((st = duet_feature_set_add(fs, "vocals.presence", v->presence)) != DUET_OK) return st;
    if ((st = duet_feature_set_add(fs, "vocals.to_accompaniment_lu", v->to_acc)) != DUET_OK) return st;
    if ((st = duet_feature_set_add(fs, "vocals.f0.median", v->f0_median)) != DUET_OK) return st;
    if ((st = duet_feature_set_add(fs, "vocals.f0.mean", v->f0_mean)) != DUET_OK) return st;
    if ((st = duet_feature_set_add(fs, "vocals.f0.std", v->f0_std)) != DUET_OK) return st;
    if ((st = duet_feature_set_add(fs, "vocals.f0.range_semitones", v->f0_range)) != DUET_OK) return st;
    return duet_feature_set_add(fs, "vocals.f0.voiced_fraction", v->voiced);
}

/* Scalars on the original audio; mono 22050 copy; frame analysis. */
static duet_status analyse_signal(duet_describer *d, const duet_audio *a, signal_scalars *sc,
                                  duet_audio *mono, duet_frames *f, duet_err *err)
{
    memset(mono, 0, sizeof *mono);
    memset(f, 0, sizeof *f);
    if (a->frames <= 0 || a->channels < 1) return duet_err_set(err, DUET_ERR_EMPTY, "no audio samples");
    double peak = 0;
    int64_t clip = 0, bad = 0;
    for (int c = 0; c < a->channels; c++)
        for (int64_t i = 0; i < a->frames; i++) {
            float v = a->ch[c][i];
            if (!isfinite(v)) {
                bad++;
                continue;
            }
            double av = fabs((double)v);
            if (av > peak) peak = av;
            if (av >= 0.999) clip++;
        }
    if (bad) return duet_err_set(err, DUET_ERR_NAN, "%lld non-finite samples", (long long)bad);
    sc->duration = (double)a->frames / a->sample_rate;
    sc->peak = peak;
    sc->clip = (double)clip / ((double)a->frames * a->channels);
    duet_status st = duet_loudness(a, &sc->lufs, &sc->lra, err);
    if (st != DUET_OK) return st;
    st = duet_features_prepare(a, mono, err);
    if (st != DUET_OK) return st;
    st = duet_describer_analyze(d, mono->ch[0], mono->frames, f, err);
    if (st != DUET_OK) duet_audio_free(mono);
    return st;
}

static duet_status vocal_features(duet_describer *d, const duet_audio *vmono, const duet_frames *vf,
                                  const duet_frames *mf, const signal_scalars *vsc, const signal_scalars *asc,
                                  vocal_stats *out, duet_err *err)
{
    memset(out, 0, sizeof *out);
    int64_t T = vf->n_frames < mf->n_frames ? vf->n_frames : mf->n_frames;
    int64_t active = 0, present = 0;
    for (int64_t t = 0; t < T; t++) {
        double m = mf->rms[t], v = vf->rms[t];
        if (m > 1e-4) {
            active++;
            if (v * v >= 0.1 * m * m) present++;
        }
    }
    out->presence = active ? (double)present / (double)active : 0;
    out->to_acc = vsc->lufs - asc->lufs;
    int64_t nf = duet_yin_n_frames(d->yin, vmono->frames);
    float *f0 = malloc(sizeof(float) * (size_t)nf);
    unsigned char *tr = malloc((size_t)nf), *gate = malloc((size_t)nf);
    if (!f0 || !tr || !gate) {
        free(f0);
        free(tr);
        free(gate);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    /* frames too quiet to count as voiced are not analysed at all */
    float rmax = 0;
    for (int64_t t = 0; t < vf->n_frames; t++)
        if (vf->rms[t] > rmax) rmax = vf->rms[t];
    for (int64_t t = 0; t < nf; t++) {
        float r = t < vf->n_frames ? vf->rms[t] : 0;
        gate[t] = r > 1e-3f && r >= 0.01f * rmax;
    }
    duet_status st = duet_yin_run_gated(d->yin, vmono->ch[0], vmono->frames, gate, f0, tr, err);
    if (st != DUET_OK) {
        free(f0);
        free(tr);
        free(gate);
        return st;
    }
    size_t nv = 0;
    for (int64_t t = 0; t < nf; t++)
        if (gate[t] && tr[t] && isfinite(f0[t])) f0[nv++] = f0[t];
    free(gate);
    out->voiced = nf ? (double)nv / (double)nf : 0;
    if (nv > 0) {
        mean_std(f0, nv, 1, &out->f0_mean, &out->f0_std);
        qsort(f0, nv, sizeof(float), cmp_float);
        out->f0_median = pct_sorted(f0, nv, 50);
        if (nv >= 2) {
            double lo = pct_sorted(f0, nv, 5), hi = pct_sorted(f0, nv, 95);
            out->f0_range = lo > 0 ? 12.0 * log2(hi / lo) : 0;
        }
    }
    free(f0);
    free(tr);
    return DUET_OK;
}

duet_status duet_describe(duet_describer *d, const duet_audio *mix, const duet_audio *vocals,
                          const duet_audio *accomp, duet_feature_set *fs, duet_err *err)
{
    int stems = vocals && accomp;
    duet_audio summed = {0};
    if (stems) {
        if (vocals->sample_rate != accomp->sample_rate || vocals->frames != accomp->frames ||
            vocals->channels != accomp->channels)
            return duet_err_set(err, DUET_ERR_SHAPE, "vocal and accompaniment stems differ in rate, length or channels");
        if (mix && (mix->sample_rate != vocals->sample_rate || mix->frames != vocals->frames))
            return duet_err_set(err, DUET_ERR_SHAPE, "stems differ from the mixture in rate or length");
        if (!mix) {
            duet_status st = duet_audio_alloc(&summed, vocals->channels, vocals->frames, vocals->sample_rate);
            if (st != DUET_OK) return duet_err_set(err, st, "out of memory");
            for (int c = 0; c < vocals->channels; c++)
                for (int64_t i = 0; i < vocals->frames; i++) summed.ch[c][i] = vocals->ch[c][i] + accomp->ch[c][i];
            mix = &summed;
        }
    } else if (!mix) {
        return duet_err_set(err, DUET_ERR_ARG, "no audio to describe");
    }
    duet_audio mono[3] = {{0}};
    duet_frames fr[3] = {{0}};
    signal_scalars sc[3] = {{0}};
    const duet_audio *sig[3] = {mix, vocals, accomp};
    const char *pref[3] = {"mix", "vocals", "accompaniment"};
    float *scratch = NULL;
    duet_status st = DUET_OK;
    int n_sig = stems ? 3 : 1;
    for (int i = 0; i < n_sig && st == DUET_OK; i++) {
        st = analyse_signal(d, sig[i], &sc[i], &mono[i], &fr[i], err);
        if (st != DUET_OK && i > 0) {
            char tmp[sizeof err->msg];
            snprintf(tmp, sizeof tmp, "%s stem: %s", pref[i], duet_err_msg(err, st));
            duet_err_set(err, st, "%s", tmp);
        }
    }
    if (st == DUET_OK) {
        int64_t most = 0;
        for (int i = 0; i < n_sig; i++)
            if (fr[i].n_frames > most) most = fr[i].n_frames;
        scratch = malloc(sizeof(float) * (size_t)(most + 1));
        if (!scratch) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < n_sig && st == DUET_OK; i++) {
        st = add_signal(fs, pref[i], &fr[i], &sc[i], scratch);
        if (st != DUET_OK) duet_err_set(err, st, "out of memory");
    }
    if (st == DUET_OK && stems) {
        vocal_stats vs;
        st = vocal_features(d, &mono[1], &fr[1], &fr[0], &sc[1], &sc[2], &vs, err);
        if (st == DUET_OK && (st = add_vocal(fs, &vs)) != DUET_OK) duet_err_set(err, st, "out of memory");
    }
    free(scratch);
    for (int i = 0; i < 3; i++) {
        duet_audio_free(&mono[i]);
        duet_frames_free(&fr[i]);
    }
    duet_audio_free(&summed);
    return st;
}
