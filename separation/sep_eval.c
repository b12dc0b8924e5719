/* separation/sep_eval.c: one track's evaluation (see sep_eval.h). */
#include "sep_eval.h"
#include "bsseval.h"
#include "sdr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void duet_track_eval_free(duet_track_eval *e)
{
    if (!e) return;
    for (int j = 0; j < 2; j++) {
        free(e->t[j].f_sdr);
        free(e->t[j].f_isr);
        free(e->t[j].f_sir);
        free(e->t[j].f_sar);
    }
    memset(e, 0, sizeof *e);
}

static duet_status check_est(const duet_audio *ref, const duet_audio *est, const char *what, duet_err *err)
{
    if (!est || !est->ch) return duet_err_set(err, DUET_ERR_ARG, "missing %s estimate", what);
    if (est->sample_rate != ref->sample_rate || est->channels != ref->channels || est->frames != ref->frames)
        return duet_err_set(err, DUET_ERR_SHAPE,
                            "%s estimate (%d Hz, %d ch, %lld frames) does not match the reference (%d Hz, %d ch, %lld frames)",
                            what, est->sample_rate, est->channels, (long long)est->frames, ref->sample_rate,
                            ref->channels, (long long)ref->frames);
    for (int c = 0; c < est->channels; c++)
        for (int64_t i = 0; i < est->frames; i++)
            if (!isfinite(est->ch[c][i]))
                return duet_err_set(err, DUET_ERR_NAN, "%s estimate: non-finite sample in channel %d at frame %lld", what,
                                    c, (long long)i);
    return DUET_OK;
}

static void set_note(duet_target_eval *t, const char *msg)
{
    if (!t->note[0]) snprintf(t->note, sizeof t->note, "%s", msg);
}

duet_status duet_eval_mixture_sdr(const duet_stems *ref, double mix_sdr[2], duet_err *err)
{
    const duet_audio *rv = &ref->vocals, *ra = &ref->accompaniment, *mx = &ref->mixture;
    mix_sdr[0] = mix_sdr[1] = NAN;
    duet_status st = check_est(rv, mx, "mixture", err);
    if (!st) st = check_est(rv, ra, "accompaniment reference vs vocals", err);
    if (st) return st;
    int C = rv->channels;
    const float **ref_p = malloc(sizeof(float *) * (size_t)(2 * C));
    const float **mix_p = malloc(sizeof(float *) * (size_t)(2 * C));
    if (!ref_p || !mix_p) {
        free(ref_p);
        free(mix_p);
        return duet_err_set(err, DUET_ERR_NOMEM, "eval: out of memory");
    }
    for (int c = 0; c < C; c++) {
        ref_p[c] = rv->ch[c];
        ref_p[C + c] = ra->ch[c];
        mix_p[c] = mix_p[C + c] = mx->ch[c];
    }
    duet_bss_result msrc;
    duet_err e2 = {0};
    st = duet_bss_eval_track(ref_p, mix_p, 2, C, rv->frames, 0, 0, &msrc, NULL, &e2);
    if (st == DUET_OK) {
        mix_sdr[0] = msrc.sdr[0];
        mix_sdr[1] = msrc.sdr[1];
        duet_bss_result_free(&msrc);
    } else if (st == DUET_ERR_EMPTY)
        st = DUET_OK;
    else
        duet_err_set(err, st, "%s", e2.msg);
    free(ref_p);
    free(mix_p);
    return st;
}

duet_status duet_eval_track(const char *name, const duet_stems *ref, const duet_audio *est_vocals,
                            const duet_audio *est_accompaniment, const double *mix_sdr, duet_track_eval *out,
                            duet_err *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", name ? name : "");
    const duet_audio *rv = &ref->vocals, *ra = &ref->accompaniment, *mx = &ref->mixture;
    duet_status st = check_est(rv, est_vocals, "vocals", err);
    if (!st) st = check_est(ra, est_accompaniment, "accompaniment", err);
    if (!st) st = check_est(rv, mx, "mixture", err);
    if (!st) st = check_est(rv, ra, "accompaniment reference vs vocals", err);
    if (st) return st;
    int C = rv->channels;
    int64_t n = rv->frames;
    out->sample_rate = rv->sample_rate;
    out->channels = C;
    out->frames = n;
    for (int j = 0; j < 2; j++) {
        duet_target_eval *t = &out->t[j];
        t->sdr = t->sir = t->sar = t->mix_sdr = t->nsdr = t->si_sdr = t->mdx_sdr = NAN;
        t->v4_sdr = t->v4_isr = t->v4_sir = t->v4_sar = NAN;
    }
    const float **ref_p = malloc(sizeof(float *) * (size_t)(2 * C));
    const float **est_p = malloc(sizeof(float *) * (size_t)(2 * C));
    if (!ref_p || !est_p) {
        free(ref_p);
        free(est_p);
        return duet_err_set(err, DUET_ERR_NOMEM, "eval: out of memory");
    }
    for (int c = 0; c < C; c++) {
        ref_p[c] = rv->ch[c];
        ref_p[C + c] = ra->ch[c];
        est_p[c] = est_vocals->ch[c];
        est_p[C + c] = est_accompaniment->ch[c];
    }
    duet_bss_result src, v4;
    duet_err e2 = {0};
    int64_t win = rv->sample_rate;
    duet_status bs = duet_bss_eval_track(ref_p, est_p, 2, C, n, win, win, &src, &v4, &e2);
    if (bs == DUET_OK) {
        for (int j = 0; j < 2; j++) {
            duet_target_eval *t = &out->t[j];
            t->sdr = src.sdr[j];
            t->sir = src.sir[j];
            t->sar = src.sar[j];
            t->nwin = v4.nwin;
            size_t bytes = sizeof(double) * (size_t)v4.nwin;
            t->f_sdr = malloc(bytes);
            t->f_isr = malloc(bytes);
            t->f_sir = malloc(bytes);
            t->f_sar = malloc(bytes);
            if (!t->f_sdr || !t->f_isr || !t->f_sir || !t->f_sar) {
                st = duet_err_set(err, DUET_ERR_NOMEM, "eval: out of memory");
                break;
            }
            memcpy(t->f_sdr, v4.sdr + (size_t)j * v4.nwin, bytes);
            memcpy(t->f_isr, v4.isr + (size_t)j * v4.nwin, bytes);
            memcpy(t->f_sir, v4.sir + (size_t)j * v4.nwin, bytes);
            memcpy(t->f_sar, v4.sar + (size_t)j * v4.nwin, bytes);
            t->v4_sdr = duet_nanmedian(t->f_sdr, v4.nwin);
            t->v4_isr = duet_nanmedian(t->f_isr, v4.nwin);
            t->v4_sir = duet_nanmedian(t->f_sir, v4.nwin);
            t->v4_sar = duet_nanmedian(t->f_sar, v4.nwin);
            if (isnan(t->v4_sdr)) set_note(t, "every 1 s frame has a silent reference or estimate");
        }
        duet_bss_result_free(&src);
        duet_bss_result_free(&v4);
    } else if (bs == DUET_ERR_EMPTY) {
        for (int j = 0; j < 2; j++) set_note(&out->t[j], e2.msg);
    } else {
        st = duet_err_set(err, bs, "%s", e2.msg);
    }
    if (!st && bs == DUET_OK) {
        double ms[2];
        if (mix_sdr) {
            ms[0] = mix_sdr[0];
            ms[1] = mix_sdr[1];
        } else
            st = duet_eval_mixture_sdr(ref, ms, err);
        for (int j = 0; j < 2 && !st; j++) {
            out->t[j].mix_sdr = ms[j];
            out->t[j].nsdr = out->t[j].sdr - ms[j];
            if (isnan(ms[j])) set_note(&out->t[j], "the mixture is silent: NSDR undefined");
        }
    }
    for (int j = 0; j < 2 && !st; j++) {
        duet_target_eval *t = &out->t[j];
        duet_status s2 = duet_si_sdr(ref_p + (size_t)j * C, est_p + (size_t)j * C, C, n, &t->si_sdr, &e2);
        if (s2 == DUET_ERR_EMPTY)
            set_note(t, e2.msg);
        else if (s2)
            st = duet_err_set(err, s2, "%s", e2.msg);
        if (!st) st = duet_mdx_sdr(ref_p + (size_t)j * C, est_p + (size_t)j * C, C, n, &t->mdx_sdr, err);
    }
    free(ref_p);
    free(est_p);
    if (st) duet_track_eval_free(out);
    return st;
}
