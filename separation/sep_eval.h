/* separation/sep_eval.h: evaluating one track's estimated stems against its
 * references, everything `duet eval-sep` reports:
 * - whole-signal SDR / SIR / SAR: mir_eval 0.7 bss_eval_sources (512-tap
 *   filters, no permutation: vocals against vocals) on the channel mean;
 * - NSDR: SDR(estimate) - SDR(mixture used as the estimate of both stems);
 * - SI-SDR and the MDX whole-track SDR (sdr.h), all channels;
 * - frames: museval BSS Eval v4 (images, filters over the whole track, 1 s
 *   windows and hops; NaN where museval skips a silent frame).
 * Undefined values (a silent reference or estimate makes BSSEval and SI-SDR
 * undefined, as mir_eval raises) are NaN with a note; never 0. */
#ifndef DUET_SEPARATION_SEP_EVAL_H
#define DUET_SEPARATION_SEP_EVAL_H

#include "../audio/audio.h"
#include "../common/status.h"
#include "stems_io.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct duet_target_eval {
    double sdr, sir, sar;       /* bss_eval_sources (NaN if undefined) */
    double mix_sdr;             /* SDR of the mixture as the estimate */
    double nsdr;                /* sdr - mix_sdr */
    double si_sdr, mdx_sdr;
    double v4_sdr, v4_isr, v4_sir, v4_sar; /* medians over frames */
    int nwin;                   /* v4 frames (1 s each) */
    double *f_sdr, *f_isr, *f_sir, *f_sar; /* nwin each (owned) */
    char note[512];             /* why something is NaN; "" if nothing */
} duet_target_eval;

typedef struct duet_track_eval {
    char name[256];
    int sample_rate, channels;
    int64_t frames;
    duet_target_eval t[2];      /* 0 = vocals, 1 = accompaniment */
} duet_track_eval;

/* Evaluate estimates (vocals, accompaniment) of one track. The estimates
 * must match the references' rate, channel count and length.
 * Errors: DUET_ERR_SHAPE (mismatch, named), DUET_ERR_NAN, DUET_ERR_NOMEM.
 * Undefined metrics are not errors (NaN + note). Free with
 * duet_track_eval_free(). */
duet_status duet_eval_track(const char *name, const duet_stems *ref, const duet_audio *est_vocals,
                            const duet_audio *est_accompaniment, const double *mix_sdr, duet_track_eval *out,
                            duet_err *err);

/* SDR of the mixture used as the estimate of both stems (bss_eval_sources
 * on the channel mean), for NSDR; pass it as duet_eval_track's `mix_sdr`
 * (NULL there computes it) when evaluating several methods on one track.
 * A silent mixture or reference gives NaN (not an error).
 * Errors: DUET_ERR_NAN, DUET_ERR_SHAPE, DUET_ERR_NOMEM. */
duet_status duet_eval_mixture_sdr(const duet_stems *ref, double mix_sdr[2], duet_err *err);
void duet_track_eval_free(duet_track_eval *e);

#ifdef __cplusplus
}
#endif

#endif
