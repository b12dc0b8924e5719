/* separation/dfft.h: double-precision real FFTs for the BSSEval metrics
 * (internal to separation/). mir_eval and museval compute their correlations
 * in double precision with scipy.fftpack; this goes through fftw3's double
 * plans (dfft.c).
 *
 * Real transforms of size m (a power of two >= 4). Spectra are interleaved
 * (re, im) pairs for bins 0 .. m/2. Arrays need no particular alignment;
 * arrays aligned like fftw_malloc's (16 bytes or more) take fftw's faster
 * SIMD path. The plan is immutable after creation and may be shared by
 * threads. */
#ifndef DUET_SEPARATION_DFFT_H
#define DUET_SEPARATION_DFFT_H

#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct duet_dfft duet_dfft;

/* Plan for real transforms of size m (power of two, 4 .. 2^28).
 * *out must be freed with duet_dfft_free(). Errors: DUET_ERR_ARG, DUET_ERR_NOMEM. */
duet_status duet_dfft_new(int m, duet_dfft **out, duet_err *err);
void duet_dfft_free(duet_dfft *p);
int duet_dfft_size(const duet_dfft *p);

/* X[k] = sum_n x[n] e^{-2 pi i k n / m}, k = 0 .. m/2. x: m doubles (read
 * only); spec: (m/2 + 1) * 2 doubles (written). */
void duet_dfft_forward(const duet_dfft *p, const double *x, double *spec);

/* x[n] = (1/m) sum_k X[k] e^{+2 pi i k n / m} over the Hermitian-extended
 * spectrum (imaginary parts of bins 0 and m/2 are ignored). spec is used as
 * scratch and destroyed; x: m doubles written. */
void duet_dfft_inverse(const duet_dfft *p, double *spec, double *x);

#ifdef __cplusplus
}
#endif

#endif
