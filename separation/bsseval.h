/* separation/bsseval.h: BSSEval separation metrics, computed the way the
 * reference implementations do.
 *
 * - mir_eval 0.7 (mir_eval.separation): bss_eval_sources, its framewise
 *   variant, bss_eval_images and its framewise variant (BSS Eval v3: the
 *   distortion filters are re-estimated in every window), with the optional
 *   search over source permutations (best mean SIR; first best in
 *   lexicographic order, as itertools.permutations + argmax).
 * - museval (sigsep-mus-eval, BSS Eval v4 as used by SiSEC 2018): the
 *   images decomposition with 512-tap time-invariant distortion filters
 *   estimated once over the whole track, metrics computed in windows
 *   (window = hop = 1 s in SiSEC), frames where any reference or estimate is
 *   silent skipped (NaN), median over the remaining frames.
 *
 * The estimate is projected by least squares on delayed copies (0 .. 511
 * samples) of the references: the correlations are accumulated blockwise
 * with a double-precision FFT (exact linear correlations, bounded memory).
 * The Gram matrix is block Toeplitz (blocks of nsrc x nchan, indexed by the
 * delay difference), so it is solved first by the block Levinson recursion
 * (O(512^2 R^3) instead of O((512 R)^3)); the solution is kept only if its
 * residual is below 1e-10 of the right-hand side, otherwise duet falls back
 * to Cholesky (LAPACK dpotrf/dpotrs from OpenBLAS). mir_eval uses LU
 * (np.linalg.solve) and falls back to lstsq on a singular matrix; museval
 * solves G + eps*I. Where Cholesky finds the Gram matrix not positive
 * definite (exactly dependent references, e.g. one channel copied into
 * another, or signals shorter than the filter), duet adds 1e-12 x the
 * largest diagonal entry and factors again: on mir_eval's regression data
 * (which has such cases) the metrics still agree to 2e-4 dB.
 *
 * Signals are planar float channels given as pointer arrays:
 * src[j * nchan + c] points to n samples of channel c of source j. All
 * arithmetic is in double precision.
 *
 * Silence: like mir_eval, a whole-signal metric refuses a source whose
 * channel sum is zero at every sample, in the references or the estimates
 * (DUET_ERR_EMPTY; the metric is undefined: any number of silent sources
 * could be added). Framewise metrics (v3 and v4) mark such frames NaN, like
 * both references; callers must not print those NaN as numbers.
 * Infinite ratios (a zero error energy) are returned as +INFINITY, as
 * mir_eval's _safe_db does. */
#ifndef DUET_SEPARATION_BSSEVAL_H
#define DUET_SEPARATION_BSSEVAL_H

#include <stdint.h>
#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DUET_BSS_FILTER_LEN 512
#define DUET_BSS_MAX_SOURCES 100

/* Metrics for nsrc sources over nwin windows (nwin = 1 for whole-signal
 * metrics). Arrays are source-major: sdr[j * nwin + t]. isr is NaN in the
 * bss_eval_sources variants. perm[j * nwin + t] is the estimate matched to
 * reference j. Owns its arrays: free with duet_bss_result_free(). */
typedef struct duet_bss_result {
    int nsrc;
    int nwin;
    int64_t win_start0; /* unused by callers; 0 */
    double *sdr, *isr, *sir, *sar;
    int *perm;
} duet_bss_result;

void duet_bss_result_free(duet_bss_result *r);

/* mir_eval.separation.bss_eval_sources for single-channel sources.
 * Errors: DUET_ERR_ARG (nsrc outside 1..100, n < 1), DUET_ERR_NAN (non-finite
 * sample), DUET_ERR_EMPTY (a silent reference or estimate), DUET_ERR_NOMEM,
 * DUET_ERR_INTERNAL (the solve failed). *out is filled only on success. */
duet_status duet_bss_eval_sources(const float *const *ref, const float *const *est, int nsrc,
                                  int64_t n, int compute_permutation, duet_bss_result *out,
                                  duet_err *err);

/* mir_eval.separation.bss_eval_sources_framewise: windows [k*hop,
 * k*hop+window) for k < floor((n - window + hop) / hop); fewer than 2 such
 * windows gives the whole-signal result (nwin = 1). Silent windows are NaN.
 * Errors as duet_bss_eval_sources, plus DUET_ERR_ARG for window/hop < 1. */
duet_status duet_bss_eval_sources_framewise(const float *const *ref, const float *const *est,
                                            int nsrc, int64_t n, int64_t window, int64_t hop,
                                            int compute_permutation, duet_bss_result *out,
                                            duet_err *err);

/* mir_eval.separation.bss_eval_images for nchan-channel sources (SDR, ISR,
 * SIR, SAR). Errors as duet_bss_eval_sources. */
duet_status duet_bss_eval_images(const float *const *ref, const float *const *est, int nsrc,
                                 int nchan, int64_t n, int compute_permutation,
                                 duet_bss_result *out, duet_err *err);

/* mir_eval.separation.bss_eval_images_framewise (window rules as the
 * sources variant; ISR of a silent window is NaN too). */
duet_status duet_bss_eval_images_framewise(const float *const *ref, const float *const *est,
                                           int nsrc, int nchan, int64_t n, int64_t window,
                                           int64_t hop, int compute_permutation,
                                           duet_bss_result *out, duet_err *err);

/* museval.metrics.bss_eval(window, hop, compute_permutation=False,
 * framewise_filters=False, bsseval_sources_version=False): BSS Eval v4.
 * Frames [t*hop, min(t*hop+window, n)), nwin = floor((n - window + hop) /
 * hop) when window < n, else 1. The whole-signal sources must not be silent
 * (DUET_ERR_EMPTY, as museval's validate); silent frames are NaN.
 * Errors as duet_bss_eval_sources. */
duet_status duet_bss_eval_v4(const float *const *ref, const float *const *est, int nsrc,
                             int nchan, int64_t n, int64_t window, int64_t hop,
                             duet_bss_result *out, duet_err *err);

/* Everything duet eval-sep needs for one track in one pass, no
 * permutation: `sources` gets mir_eval's whole-signal bss_eval_sources on
 * the channel mean (downmix) of references and estimates (MIR-1K
 * literature's convention; for mono input the downmix is the signal), and
 * `v4` (may be NULL) museval's v4 frames of the images decomposition with
 * the given window and hop. For mono input both share one Gram matrix.
 * Errors as duet_bss_eval_sources. */
duet_status duet_bss_eval_track(const float *const *ref, const float *const *est, int nsrc,
                                int nchan, int64_t n, int64_t window, int64_t hop,
                                duet_bss_result *sources, duet_bss_result *v4, duet_err *err);

/* Median of the finite (non-NaN) values of x[0..n) (mean of the two middle
 * values for an even count, as numpy's nanmedian); NaN when there are none. */
double duet_nanmedian(const double *x, int n);

#ifdef __cplusplus
}
#endif

#endif
