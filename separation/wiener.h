/* separation/wiener.h: the multichannel Wiener / EM post-filter of norbert
 * and Open-Unmix (Nugraha, Liutkus and Vincent 2016), for any separator
 * that produces a vocal mask on a mixture STFT.
 *
 * Two sources (vocals, accompaniment) with spatial covariances R_j (C x C)
 * and power spectral densities v_j; initialised from the masked mixture,
 * each EM iteration re-estimates v_j and R_j and Wiener-filters the
 * mixture. The accompaniment is the mixture minus the vocals. */
#ifndef DUET_SEPARATION_WIENER_H
#define DUET_SEPARATION_WIENER_H

#include <stdint.h>

#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Wiener EM over n frames of C channels and K bins: X[((t * C + c) * K + k)]
 * the complex mixture (interleaved re/im), G the vocal masks (same index,
 * real, in [0, 1]), iters >= 1; Y (caller-owned, layout of X) receives the
 * vocals estimate. Errors: DUET_ERR_ARG, DUET_ERR_NOMEM. */
duet_status duet_wiener_em(const float *X, const float *G, int64_t n, int C, int K, int iters, float *Y,
                           duet_err *err);

#ifdef __cplusplus
}
#endif

#endif
