/* separation/dfft.c: double-precision real FFTs for the BSSEval metrics
 * through fftw3's double plans (libfftw3; the STFT uses libfftw3f).
 *
 * Two r2c and two c2r plans per size, made with FFTW_ESTIMATE: one pair for
 * arrays aligned like fftw_malloc's (SIMD codelets, no copies), one pair
 * with FFTW_UNALIGNED for any other pointer; each call picks by
 * fftw_alignment_of() of its arrays. They run through the new-array execute
 * functions, which fftw documents as thread-safe: a plan is shared by the
 * OpenMP workers of eval-sep. fftw's planner is not thread-safe, so plan creation and
 * destruction run inside the named critical section audio/stft.c uses. */
#include "dfft.h"

#include <fftw3.h>
#include <stdlib.h>
#include <string.h>

struct duet_dfft {
    int m;
    fftw_plan fwd, inv;     /* for arrays with fftw_alignment_of() == 0 */
    fftw_plan fwd_u, inv_u; /* for any arrays */
};

duet_status duet_dfft_new(int m, duet_dfft **out, duet_err *err)
{
    *out = NULL;
    if (m < 4 || m > (1 << 28) || (m & (m - 1)))
        return duet_err_set(err, DUET_ERR_ARG, "dfft: size %d is not a power of two in [4, 2^28]", m);
    duet_dfft *p = calloc(1, sizeof *p);
    double *x = fftw_malloc(sizeof(double) * (size_t)m);
    fftw_complex *c = fftw_malloc(sizeof(fftw_complex) * (size_t)(m / 2 + 1));
    if (!p || !x || !c) {
        free(p);
        fftw_free(x);
        fftw_free(c);
        return duet_err_set(err, DUET_ERR_NOMEM, "dfft: out of memory");
    }
    p->m = m;
#pragma omp critical(duet_fftw_planner)
    {
        p->fwd = fftw_plan_dft_r2c_1d(m, x, c, FFTW_ESTIMATE);
        p->inv = fftw_plan_dft_c2r_1d(m, c, x, FFTW_ESTIMATE | FFTW_DESTROY_INPUT);
        p->fwd_u = fftw_plan_dft_r2c_1d(m, x, c, FFTW_ESTIMATE | FFTW_UNALIGNED);
        p->inv_u = fftw_plan_dft_c2r_1d(m, c, x, FFTW_ESTIMATE | FFTW_UNALIGNED | FFTW_DESTROY_INPUT);
    }
    fftw_free(x);
    fftw_free(c);
    if (!p->fwd || !p->inv || !p->fwd_u || !p->inv_u) {
        duet_dfft_free(p);
        return duet_err_set(err, DUET_ERR_INTERNAL, "dfft: fftw cannot plan size %d", m);
    }
    *out = p;
    return DUET_OK;
}

void duet_dfft_free(duet_dfft *p)
{
    if (!p) return;
#pragma omp critical(duet_fftw_planner)
    {
        if (p->fwd) fftw_destroy_plan(p->fwd);
        if (p->inv) fftw_destroy_plan(p->inv);
        if (p->fwd_u) fftw_destroy_plan(p->fwd_u);
        if (p->inv_u) fftw_destroy_plan(p->inv_u);
    }
    free(p);
}

int duet_dfft_size(const duet_dfft *p) { return p->m; }

void duet_dfft_forward(const duet_dfft *p, const double *x, double *spec)
{
    /* out-of-place r2c preserves its input */
    int al = fftw_alignment_of((double *)x) == 0 && fftw_alignment_of(spec) == 0;
    fftw_execute_dft_r2c(al ? p->fwd : p->fwd_u, (double *)x, (fftw_complex *)spec);
}

void duet_dfft_inverse(const duet_dfft *p, double *spec, double *x)
{
    const int m = p->m;
    spec[1] = 0.0;     /* the imaginary parts of DC and Nyquist are ignored */
    spec[m + 1] = 0.0;
    int al = fftw_alignment_of(spec) == 0 && fftw_alignment_of(x) == 0;
    fftw_execute_dft_c2r(al ? p->inv : p->inv_u, (fftw_complex *)spec, x);
    const double s = 1.0 / m;
    for (int i = 0; i < m; i++) x[i] *= s;
}
