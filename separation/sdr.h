/* separation/sdr.h: the simple SDR family beside BSSEval.
 *
 * - SI-SDR (J. Le Roux, S. Wisdom, H. Erdogan, J. Hershey, "SDR - half-baked
 *   or well done?", ICASSP 2019): alpha = <s_hat, s> / <s, s>,
 *   SI-SDR = 10 log10(|alpha s|^2 / |alpha s - s_hat|^2), over all channels
 *   and samples at once, without removing the mean (the paper's definition).
 * - MDX (Music Demixing Challenge 2021) whole-track SDR:
 *   10 log10((sum s^2 + 1e-7) / (sum (s - s_hat)^2 + 1e-7)), all channels.
 * - NSDR = SDR(estimate) - SDR(mixture as the estimate) for one clip;
 *   GNSDR = the length-weighted mean of NSDR over clips; GSIR and GSAR =
 *   the length-weighted means of SIR and SAR (MIR-1K convention, Hsu and
 *   Jang 2010; Huang et al. 2014).
 * Signals are pointer arrays of nchan channels of n samples. */
#ifndef DUET_SEPARATION_SDR_H
#define DUET_SEPARATION_SDR_H

#include <stdint.h>
#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* SI-SDR in dB into *out. +INFINITY for a perfect estimate. Errors:
 * DUET_ERR_ARG (nchan < 1, n < 1), DUET_ERR_NAN, DUET_ERR_EMPTY (silent
 * reference: undefined; silent estimate: alpha = 0, undefined). */
duet_status duet_si_sdr(const float *const *ref, const float *const *est, int nchan, int64_t n, double *out,
                        duet_err *err);

/* MDX whole-track SDR in dB (always finite for finite input; a silent
 * estimate gives about 0 dB). Errors: DUET_ERR_ARG, DUET_ERR_NAN. */
duet_status duet_mdx_sdr(const float *const *ref, const float *const *est, int nchan, int64_t n, double *out,
                         duet_err *err);

/* Length-weighted accumulator for GNSDR / GSIR / GSAR (plain data: zero it
 * to start). Each quantity skips the clips where it is not finite
 * (e.g. an infinite SAR); a non-finite NSDR is counted in `skipped`. */
typedef struct duet_gnsdr {
    double w[3];           /* total weights (samples) of NSDR, SIR, SAR */
    double nsdr, sir, sar; /* weighted sums */
    int n, skipped;        /* clips added; clips with a non-finite NSDR */
} duet_gnsdr;

void duet_gnsdr_add(duet_gnsdr *g, double sdr_est, double sdr_mix, double sir, double sar, double weight);
/* NaN when no clip was added. */
double duet_gnsdr_value(const duet_gnsdr *g);
double duet_gsir_value(const duet_gnsdr *g);
double duet_gsar_value(const duet_gnsdr *g);

#ifdef __cplusplus
}
#endif

#endif
