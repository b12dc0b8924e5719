/* separation/sepnet_infer.c: chunked mask estimation and full-band
 * separation with a trained sepnet (see sepnet_infer.h). */
#include "sepnet_infer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../audio/stft.h"
#include "../nn/nn.h"

#define INFER_BATCH 2

duet_status sepnet_vocal_mask(const sepnet *m, sepnet_run *run, const float *spec, int64_t n_frames,
                              int chunk_frames, float *mask, duet_err *err)
{
    const sepnet_config *c = &m->cfg;
    int Tc = chunk_frames ? chunk_frames : 256;
    int unit = 1 << c->depth;
    if (Tc < unit || Tc % unit || Tc % 2)
        return duet_err_set(err, DUET_ERR_ARG, "chunk of %d frames: must be a multiple of %d", Tc, unit);
    int n_bins = c->n_fft / 2 + 1, F = c->n_freq, H = Tc / 2;
    if (n_frames <= 0) return DUET_OK;
    /* weights sin^2(pi (i + 0.5) / Tc): chunks at hop Tc/2 sum to one */
    float *w = malloc((size_t)Tc * sizeof *w);
    double *acc = calloc((size_t)n_frames * F, sizeof *acc);
    double *wsum = calloc((size_t)n_frames, sizeof *wsum);
    size_t plane = (size_t)F * Tc;
    float *feat = malloc((size_t)INFER_BATCH * 3 * plane * sizeof *feat);
    int64_t starts[INFER_BATCH];
    if (!w || !acc || !wsum || !feat) {
        free(w);
        free(acc);
        free(wsum);
        free(feat);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < Tc; i++) {
        double s = sin(3.14159265358979323846 * (i + 0.5) / Tc);
        w[i] = (float)(s * s);
    }
    duet_status st = DUET_OK;
    int nb = 0;
    for (int64_t s0 = -H;; s0 += H) {
        int last = s0 + Tc >= n_frames + H || s0 >= n_frames;
        if (s0 < n_frames) {
            sepnet_features(feat + (size_t)nb * 3 * plane, spec, n_frames, n_bins, s0, Tc, c);
            starts[nb++] = s0;
        }
        if (nb == INFER_BATCH || (last && nb > 0)) {
            const float *mk;
            st = sepnet_forward(run, feat, nb, Tc, 0, NULL, &mk, err);
            if (st) break;
            for (int b = 0; b < nb; b++) {
                const float *mv = mk + (size_t)b * 2 * plane;
                for (int j = 0; j < Tc; j++) {
                    int64_t t = starts[b] + j;
                    if (t < 0 || t >= n_frames) continue;
                    wsum[t] += w[j];
                    double *row = acc + (size_t)t * F;
                    for (int k = 0; k < F; k++) row[k] += (double)w[j] * mv[(size_t)k * Tc + j];
                }
            }
            nb = 0;
        }
        if (last) break;
    }
    if (!st) {
        int q0 = F - F / 4;
        for (int64_t t = 0; t < n_frames; t++) {
            double ws = wsum[t] > 1e-12 ? wsum[t] : 1.0;
            float *out = mask + (size_t)t * n_bins;
            double top = 0;
            for (int k = 0; k < F; k++) {
                out[k] = (float)(acc[(size_t)t * F + k] / ws);
                if (k >= q0) top += out[k];
            }
            float topm = (float)(top / (F - q0));
            for (int k = F; k < n_bins; k++) out[k] = topm;
        }
    }
    free(w);
    free(acc);
    free(wsum);
    free(feat);
    return st;
}

static int pow2_near(double x)
{
    int p = 16;
    while (p * 2 <= 65536 && fabs(log2(p * 2) - log2(x)) < fabs(log2(p) - log2(x))) p *= 2;
    return p;
}

/* Vocals of one channel x[0..n) at rate `rate` into v[0..n). */
static duet_status separate_channel(const sepnet *m, sepnet_run *run, const float *x, int64_t n, int rate,
                                    int chunk_frames, float *v, duet_err *err)
{
    const sepnet_config *c = &m->cfg;
    duet_status st = DUET_OK;
    duet_stft *sm = NULL, *si = NULL;
    float *spec_m = NULL, *mask_m = NULL, *spec_i = NULL;
    duet_audio view = {0}, res = {0};
    float *chp[1] = {(float *)x};
    int64_t nm = n;
    const float *xr = x;
    if (rate != c->sample_rate) {
        view.channels = 1;
        view.frames = n;
        view.sample_rate = rate;
        view.ch = chp;
        st = duet_audio_resample(&view, c->sample_rate, DUET_RESAMPLE_HIGH, &res, err);
        if (st) return st;
        xr = res.ch[0];
        nm = res.frames;
    }
    st = duet_stft_new(c->n_fft, c->hop, DUET_WIN_HANN, &sm, err);
    if (st) goto done;
    int nbm = c->n_fft / 2 + 1;
    int64_t tm = duet_stft_n_frames(sm, nm);
    spec_m = malloc((size_t)tm * nbm * 2 * sizeof(float));
    mask_m = malloc((size_t)tm * nbm * sizeof(float));
    if (!spec_m || !mask_m) {
        st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        goto done;
    }
    st = duet_stft_forward(sm, xr, nm, spec_m, err);
    if (!st) st = sepnet_vocal_mask(m, run, spec_m, tm, chunk_frames, mask_m, err);
    if (st) goto done;
    if (rate == c->sample_rate) {
        for (int64_t i = 0; i < tm * nbm; i++) {
            spec_m[2 * i] *= mask_m[i];
            spec_m[2 * i + 1] *= mask_m[i];
        }
        st = duet_stft_inverse(sm, spec_m, tm, v, n, err);
        goto done;
    }
    {
        /* the original signal's own STFT, about the same window duration */
        double ratio = (double)rate / c->sample_rate;
        int nfi = pow2_near(c->n_fft * ratio), hopi = nfi / 4;
        int nbi = nfi / 2 + 1;
        st = duet_stft_new(nfi, hopi, DUET_WIN_HANN, &si, err);
        if (st) goto done;
        int64_t ti = duet_stft_n_frames(si, n);
        spec_i = malloc((size_t)ti * nbi * 2 * sizeof(float));
        if (!spec_i) {
            st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
            goto done;
        }
        st = duet_stft_forward(si, x, n, spec_i, err);
        if (st) goto done;
        double fscale = (double)rate / nfi * c->n_fft / c->sample_rate; /* model bins per input bin */
        double tscale = (double)hopi / rate * c->sample_rate / c->hop;  /* model frames per input frame */
        for (int64_t t = 0; t < ti; t++) {
            double tau = t * tscale;
            int64_t t0 = (int64_t)floor(tau);
            double ft = tau - t0;
            if (t0 >= tm - 1) {
                t0 = tm - 1;
                ft = 0;
            }
            int64_t t1 = t0 + 1 < tm ? t0 + 1 : t0;
            const float *m0 = mask_m + (size_t)t0 * nbm, *m1 = mask_m + (size_t)t1 * nbm;
            float *row = spec_i + (size_t)t * nbi * 2;
            for (int k = 0; k < nbi; k++) {
                double kap = k * fscale;
                double g;
                if (kap >= c->n_freq - 1) {
                    /* above the model's band: the top-band mask, stored at bins >= n_freq */
                    int kk = c->n_freq < nbm ? c->n_freq : nbm - 1;
                    g = (1 - ft) * m0[kk] + ft * m1[kk];
                } else {
                    int k0 = (int)kap;
                    double fk = kap - k0;
                    g = (1 - ft) * ((1 - fk) * m0[k0] + fk * m0[k0 + 1]) + ft * ((1 - fk) * m1[k0] + fk * m1[k0 + 1]);
                }
                row[2 * k] *= (float)g;
                row[2 * k + 1] *= (float)g;
            }
        }
        st = duet_stft_inverse(si, spec_i, ti, v, n, err);
    }
done:
    duet_stft_free(sm);
    duet_stft_free(si);
    free(spec_m);
    free(mask_m);
    free(spec_i);
    duet_audio_free(&res);
    return st;
}

duet_status sepnet_separate(const sepnet *m, const duet_audio *mix, const sepnet_sep_opts *o,
                            duet_audio *voc, duet_audio *acc, duet_err *err)
{
    memset(voc, 0, sizeof *voc);
    memset(acc, 0, sizeof *acc);
    if (mix->channels < 1 || mix->sample_rate <= 0)
        return duet_err_set(err, DUET_ERR_ARG, "audio with %d channels at %d Hz", mix->channels, mix->sample_rate);
    duet_status st = duet_audio_alloc(voc, mix->channels, mix->frames, mix->sample_rate);
    if (!st) st = duet_audio_alloc(acc, mix->channels, mix->frames, mix->sample_rate);
    if (st) {
        duet_audio_free(voc);
        return duet_err_set(err, st, "out of memory for the stems");
    }
    sepnet_run *run = NULL;
    st = sepnet_run_new(m, &run, err);
    for (int ch = 0; ch < mix->channels && !st; ch++) {
        if (mix->frames > 0)
            st = separate_channel(m, run, mix->ch[ch], mix->frames, mix->sample_rate,
                                  o ? o->chunk_frames : 0, voc->ch[ch], err);
        for (int64_t i = 0; i < mix->frames && !st; i++) acc->ch[ch][i] = mix->ch[ch][i] - voc->ch[ch][i];
        if (o && o->progress) duet_progress_update(o->progress, (double)(ch + 1) * mix->frames, NULL);
    }
    sepnet_run_free(run);
    if (st) {
        duet_audio_free(voc);
        duet_audio_free(acc);
    }
    return st;
}
