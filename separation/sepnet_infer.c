/* separation/sepnet_infer.c: chunked mask estimation with a trained sepnet
 * (duet_sepnet_masks), the pieces the whole-song and streaming versions
 * share (sepnet_infer_impl.h) and the whole-song reference separation; the
 * streaming version, in bounded memory, is sepnet_stream.c (see
 * sepnet_infer.h). */
#include "sepnet_infer.h"
#include "wiener.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../audio/stft.h"
#include "../nn/nn.h"
#include "sepnet_infer_impl.h"

/* ---- pieces shared by both versions ------------------------------------ */

/* sin^2(pi (i + 0.5) / n): windows at hop n/2 sum to one */
void duet_sepnet_fade_weights(float *w, int n)
{
    for (int i = 0; i < n; i++) {
        double s = sin(3.14159265358979323846 * (i + 0.5) / n);
        w[i] = (float)(s * s);
    }
}

duet_status duet_sepnet_check_chunk(const duet_sepnet_config *c, int chunk_frames, int *Tc, duet_err *err)
{
    *Tc = chunk_frames ? chunk_frames : 256;
    int unit = 1 << c->depth;
    if (*Tc < unit || *Tc % unit || *Tc % 2)
        return duet_err_set(err, DUET_ERR_ARG, "chunk of %d frames: must be a multiple of %d", *Tc, unit);
    return DUET_OK;
}

/* Accumulate chunk masks (vocals plane of one item, (F, Tc)) into rows. */
void duet_sepnet_accumulate_chunk(double *row, double *wsum, const float *mv, int F, int Tc, int j, float w)
{
    *wsum += w;
    for (int k = 0; k < F; k++) row[k] += (double)w * mv[(size_t)k * Tc + j];
}

/* A final mask row (n_bins values) from the accumulated F values. */
void duet_sepnet_finish_mask_row(const double *acc, double wsum, int F, int n_bins, float *out)
{
    double ws = wsum > 1e-12 ? wsum : 1.0;
    int q0 = F - F / 4;
    double top = 0;
    for (int k = 0; k < F; k++) {
        out[k] = (float)(acc[k] / ws);
        if (k >= q0) top += out[k];
    }
    float topm = (float)(top / (F - q0));
    for (int k = F; k < n_bins; k++) out[k] = topm;
}

duet_status duet_sepnet_masks(const sepnet *m, duet_sepnet_run *run, const float *const *spec, int64_t n_frames,
                         int chunk_frames, float *const *mask, duet_err *err)
{
    const duet_sepnet_config *c = &m->cfg;
    int Tc;
    duet_status st = duet_sepnet_check_chunk(c, chunk_frames, &Tc, err);
    if (st) return st;
    const int C = c->channels;
    int n_bins = c->n_fft / 2 + 1, F = c->n_freq, H = Tc / 2;
    if (n_frames <= 0) return DUET_OK;
    float *w = malloc((size_t)Tc * sizeof *w);
    double *acc = calloc((size_t)C * n_frames * F, sizeof *acc);
    double *wsum = calloc((size_t)n_frames, sizeof *wsum);
    size_t plane = (size_t)F * Tc;
    float *feat = malloc((size_t)INFER_BATCH * C * 3 * plane * sizeof *feat);
    int64_t starts[INFER_BATCH];
    if (!w || !acc || !wsum || !feat) {
        free(w);
        free(acc);
        free(wsum);
        free(feat);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    duet_sepnet_fade_weights(w, Tc);
    int nb = 0;
    for (int64_t s0 = -H;; s0 += H) {
        int last = s0 + Tc >= n_frames + H || s0 >= n_frames;
        if (s0 < n_frames) {
            for (int ch = 0; ch < C; ch++)
                duet_sepnet_features(feat + ((size_t)nb * C + ch) * 3 * plane, spec[ch], n_frames, n_bins, s0, Tc, c);
            starts[nb++] = s0;
        }
        if (nb == INFER_BATCH || (last && nb > 0)) {
            const float *mk;
            st = duet_sepnet_forward(run, feat, nb, Tc, 0, NULL, &mk, err);
            if (st) break;
            for (int b = 0; b < nb; b++)
                for (int j = 0; j < Tc; j++) {
                    int64_t t = starts[b] + j;
                    if (t < 0 || t >= n_frames) continue;
                    for (int ch = 0; ch < C; ch++) {
                        double dummy = 0;
                        const float *mv = mk + ((size_t)b * C + ch) * 2 * plane;
                        duet_sepnet_accumulate_chunk(acc + ((size_t)ch * n_frames + t) * F, ch ? &dummy : &wsum[t], mv, F, Tc, j,
                                         w[j]);
                    }
                }
            nb = 0;
        }
        if (last) break;
    }
    if (!st)
        for (int ch = 0; ch < C; ch++)
            for (int64_t t = 0; t < n_frames; t++)
                duet_sepnet_finish_mask_row(acc + ((size_t)ch * n_frames + t) * F, wsum[t], F, n_bins,
                                mask[ch] + (size_t)t * n_bins);
    free(w);
    free(acc);
    free(wsum);
    free(feat);
    return st;
}

duet_status duet_sepnet_vocal_mask(const sepnet *m, duet_sepnet_run *run, const float *spec, int64_t n_frames,
                              int chunk_frames, float *mask, duet_err *err)
{
    if (m->cfg.channels != 1)
        return duet_err_set(err, DUET_ERR_ARG, "sepnet_vocal_mask: a %d-channel model needs duet_sepnet_masks",
                            m->cfg.channels);
    const float *sp[1] = {spec};
    float *mk[1] = {mask};
    return duet_sepnet_masks(m, run, sp, n_frames, chunk_frames, mk, err);
}

static int pow2_near(double x)
{
    int p = 16;
    while (p * 2 <= 65536 && fabs(log2(p * 2) - log2(x)) < fabs(log2(p) - log2(x))) p *= 2;
    return p;
}

void duet_sepnet_mask_map_init(mask_map *mp, const duet_sepnet_config *c, int rate)
{
    memset(mp, 0, sizeof *mp);
    mp->nbm = c->n_fft / 2 + 1;
    mp->n_freq = c->n_freq;
    if (rate == c->sample_rate) {
        mp->same = 1;
        mp->nfi = c->n_fft;
        mp->hopi = c->hop;
    } else {
        double ratio = (double)rate / c->sample_rate;
        mp->nfi = pow2_near(c->n_fft * ratio);
        mp->hopi = mp->nfi / 4;
        mp->fscale = (double)rate / mp->nfi * c->n_fft / c->sample_rate;
        mp->tscale = (double)mp->hopi / rate * c->sample_rate / c->hop;
    }
    mp->nbi = mp->nfi / 2 + 1;
}

/* Model frames (t0, t1, weight of t1) that input frame t reads; tm = total
 * model frames (INT64_MAX while unknown). */
void duet_sepnet_mask_map_frames(const mask_map *mp, int64_t t, int64_t tm, int64_t *t0, int64_t *t1, double *ft)
{
    if (mp->same) {
        *t0 = *t1 = t;
        *ft = 0;
        return;
    }
    double tau = t * mp->tscale;
    int64_t a = (int64_t)floor(tau);
    double f = tau - a;
    if (a >= tm - 1) {
        a = tm - 1;
        f = 0;
    }
    *t0 = a;
    *t1 = a + 1 < tm ? a + 1 : a;
    *ft = f;
}

/* The last model frame input frame t needs (for readiness). */
int64_t duet_sepnet_mask_map_need(const mask_map *mp, int64_t t)
{
    if (mp->same) return t;
    return (int64_t)floor(t * mp->tscale) + 1;
}

/* Input-rate vocal mask row g (nbi values) from model rows m0, m1. */
void duet_sepnet_mask_map_row(const mask_map *mp, const float *m0, const float *m1, double ft, float *g)
{
    if (mp->same) {
        memcpy(g, m0, sizeof(float) * (size_t)mp->nbi);
        return;
    }
    for (int k = 0; k < mp->nbi; k++) {
        double kap = k * mp->fscale;
        double v;
        if (kap >= mp->n_freq - 1) {
            /* above the model's band: the top-band mask, stored at bins >= n_freq */
            int kk = mp->n_freq < mp->nbm ? mp->n_freq : mp->nbm - 1;
            v = (1 - ft) * m0[kk] + ft * m1[kk];
        } else {
            int k0 = (int)kap;
            double fk = kap - k0;
            v = (1 - ft) * ((1 - fk) * m0[k0] + fk * m0[k0 + 1]) + ft * ((1 - fk) * m1[k0] + fk * m1[k0 + 1]);
        }
        g[k] = (float)v;
    }
}

/* ---- whole-song reference ---------------------------------------------- */

duet_status duet_sepnet_separate_reference(const sepnet *m, const duet_audio *mix, const duet_sepnet_sep_opts *o,
                                      duet_audio *voc, duet_audio *acc, duet_err *err)
{
    memset(voc, 0, sizeof *voc);
    memset(acc, 0, sizeof *acc);
    const duet_sepnet_config *c = &m->cfg;
    const int C = mix->channels, rate = mix->sample_rate;
    const int64_t n = mix->frames;
    const int wiener = o ? o->wiener_iters : 0;
    if (C < 1 || C > MAX_CH || rate <= 0 || n < 0 || wiener < 0)
        return duet_err_set(err, DUET_ERR_ARG, "audio with %d channels at %d Hz", C, rate);
    int Tc;
    duet_status st = duet_sepnet_check_chunk(c, o ? o->chunk_frames : 0, &Tc, err);
    if (st) return st;
    mask_map mp;
    duet_sepnet_mask_map_init(&mp, c, rate);
    const int nbm = mp.nbm, nbi = mp.nbi;
    duet_stft *sm = NULL, *si = NULL;
    duet_sepnet_run *run = NULL;
    float **mask_m = calloc((size_t)C, sizeof(float *));
    float *X = NULL, *G = NULL, *Y = NULL, *spec = NULL, *row = NULL;
    int64_t tm = 0, ti = 0;
    st = duet_audio_alloc(voc, C, n, rate);
    if (!st) st = duet_audio_alloc(acc, C, n, rate);
    if (st || !mask_m) {
        st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory for the stems");
        goto done;
    }
    st = duet_sepnet_run_new(m, &run, err);
    if (!st) st = duet_stft_new(c->n_fft, c->hop, DUET_WIN_HANN, &sm, err);
    if (!st) st = duet_stft_new(mp.nfi, mp.hopi, DUET_WIN_HANN, &si, err);
    if (st) goto done;
    /* model-rate spectra of every channel, then the masks: per channel
     * (mono model), jointly (stereo model, stereo audio) or each channel
     * doubled into both inputs with the two masks averaged (stereo model,
     * other channel counts) */
    float **spec_m = calloc((size_t)C, sizeof(float *));
    if (!spec_m) {
        st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int ch = 0; ch < C && !st; ch++) {
        duet_audio view = {0}, res = {0};
        float *chp[1] = {mix->ch[ch]};
        const float *xr = mix->ch[ch];
        int64_t nm = n;
        if (rate != c->sample_rate) {
            view.channels = 1;
            view.frames = n;
            view.sample_rate = rate;
            view.ch = chp;
            st = duet_audio_resample(&view, c->sample_rate, DUET_RESAMPLE_HIGH, &res, err);
            if (st) break;
            xr = res.ch[0];
            nm = res.frames;
        }
        tm = duet_stft_n_frames(sm, nm);
        spec_m[ch] = malloc((size_t)tm * nbm * 2 * sizeof(float));
        mask_m[ch] = malloc((size_t)tm * nbm * sizeof(float));
        if (!spec_m[ch] || !mask_m[ch]) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        if (!st) st = duet_stft_forward(sm, xr, nm, spec_m[ch], err);
        duet_audio_free(&res);
    }
    if (!st && c->channels == 1) {
        for (int ch = 0; ch < C && !st; ch++) st = duet_sepnet_vocal_mask(m, run, spec_m[ch], tm, Tc, mask_m[ch], err);
    } else if (!st && C == 2) {
        st = duet_sepnet_masks(m, run, (const float *const *)spec_m, tm, Tc, mask_m, err);
    } else if (!st) {
        float *other = malloc((size_t)tm * nbm * sizeof(float));
        if (!other) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        for (int ch = 0; ch < C && !st; ch++) {
            const float *sp[2] = {spec_m[ch], spec_m[ch]};
            float *mo[2] = {mask_m[ch], other};
            st = duet_sepnet_masks(m, run, sp, tm, Tc, mo, err);
            for (size_t i = 0; !st && i < (size_t)tm * nbm; i++) mask_m[ch][i] = 0.5f * (mask_m[ch][i] + other[i]);
        }
        free(other);
    }
    for (int ch = 0; ch < C; ch++) free(spec_m[ch]);
    free(spec_m);
    if (st) goto done;
    /* input-rate STFT and masks, frame-major over channels: ((t * C + c) * nbi + k) */
    ti = duet_stft_n_frames(si, n);
    size_t per = (size_t)ti * C * nbi;
    X = malloc(per * 2 * sizeof(float));
    G = malloc(per * sizeof(float));
    Y = calloc(per * 2, sizeof(float));
    spec = malloc((size_t)ti * nbi * 2 * sizeof(float));
    row = malloc((size_t)nbi * sizeof(float));
    if (!X || !G || !Y || !spec || !row) {
        st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int ch = 0; ch < C && !st; ch++) {
        st = duet_stft_forward(si, mix->ch[ch], n, spec, err);
        if (st) break;
        for (int64_t t = 0; t < ti; t++) {
            int64_t t0, t1;
            double ft;
            duet_sepnet_mask_map_frames(&mp, t, tm, &t0, &t1, &ft);
            duet_sepnet_mask_map_row(&mp, mask_m[ch] + (size_t)t0 * nbm, mask_m[ch] + (size_t)t1 * nbm, ft, row);
            size_t o0 = ((size_t)t * C + ch) * nbi;
            memcpy(X + o0 * 2, spec + (size_t)t * nbi * 2, sizeof(float) * 2 * (size_t)nbi);
            memcpy(G + o0, row, sizeof(float) * (size_t)nbi);
        }
    }
    if (st) goto done;
    if (wiener > 0) {
        const int W = WIENER_WIN, WH = W / 2;
        float ww[WIENER_WIN];
        duet_sepnet_fade_weights(ww, W);
        size_t fr = (size_t)C * nbi;
        float *Yw = malloc(sizeof(float) * (size_t)W * fr * 2);
        if (!Yw) {
            st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
            goto done;
        }
        for (int64_t s0 = -WH; !st; s0 += WH) {
            int last = s0 >= ti - WH;
            if (s0 < ti) {
                int64_t a = s0 < 0 ? 0 : s0, b = s0 + W < ti ? s0 + W : ti;
                st = duet_wiener_em(X + (size_t)a * fr * 2, G + (size_t)a * fr, b - a, C, nbi, wiener, Yw, err);
                for (int64_t t = a; t < b && !st; t++) {
                    float w = ww[t - s0];
                    const float *ys = Yw + (size_t)(t - a) * fr * 2;
                    float *yd = Y + (size_t)t * fr * 2;
                    for (size_t q = 0; q < fr * 2; q++) yd[q] += w * ys[q];
                }
            }
            if (last) break;
        }
        free(Yw);
        if (st) goto done;
    } else {
        for (size_t i = 0; i < per; i++) {
            Y[2 * i] = G[i] * X[2 * i];
            Y[2 * i + 1] = G[i] * X[2 * i + 1];
        }
    }
    for (int ch = 0; ch < C && !st; ch++) {
        for (int64_t t = 0; t < ti; t++)
            memcpy(spec + (size_t)t * nbi * 2, Y + ((size_t)t * C + ch) * nbi * 2, sizeof(float) * 2 * (size_t)nbi);
        st = duet_stft_inverse(si, spec, ti, voc->ch[ch], n, err);
        for (int64_t i = 0; i < n && !st; i++) acc->ch[ch][i] = mix->ch[ch][i] - voc->ch[ch][i];
    }
done:
    for (int ch = 0; mask_m && ch < C; ch++) free(mask_m[ch]);
    free(mask_m);
    free(X);
    free(G);
    free(Y);
    free(spec);
    free(row);
    duet_stft_free(sm);
    duet_stft_free(si);
    duet_sepnet_run_free(run);
    if (st) {
        duet_audio_free(voc);
        duet_audio_free(acc);
    }
    return st;
}
