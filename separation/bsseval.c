/* separation/bsseval.c: BSSEval v3 (mir_eval 0.7) and v4 (museval) metrics.
 * See bsseval.h for the conventions and their sources (mir_eval's
 * separation.py: _bss_decomp_mtifilt, _project, _bss_source_crit,
 * _bss_image_crit; museval's metrics.py: _compute_reference_correlations,
 * _compute_projection_filters, Framing). The filter length (512) is the
 * BSS Eval toolbox's.
 *
 * Notation: R = nsrc * nchan reference signals s_r (r = j * nchan + c), L
 * filter taps. The projection of an estimate channel e_c on the delayed
 * references solves G C = D with
 *   G[(r,a),(q,b)] = sum_n s_r[n-a] s_q[n-b] = x_rq[b-a],
 *   D[(r,a), c]    = sum_n s_r[n-a] e_c[n]   = x_re[-a],
 * where x_uv[d] = sum_n u[n+d] v[n] for |d| < L. The correlations are sums
 * over blocks of B samples of v, each block correlated by FFT (size M >= B +
 * 2L - 2, so no circular wrap reaches the needed lags); the per-block cross
 * spectra are summed and transformed back once. */
#include "bsseval.h"
#include "bss_impl.h"
#include "dfft.h"
#include "../common/mem.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
extern void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *lda,
                    double *b, const int *ldb, int *info);

void duet_bss_result_free(duet_bss_result *r)
{
    if (!r) return;
    free(r->sdr);
    free(r->isr);
    free(r->sir);
    free(r->sar);
    free(r->perm);
    memset(r, 0, sizeof *r);
}

static duet_status result_alloc(duet_bss_result *r, int nsrc, int nwin, duet_err *err)
{
    memset(r, 0, sizeof *r);
    size_t k = (size_t)nsrc * (size_t)nwin;
    r->nsrc = nsrc;
    r->nwin = nwin;
    r->sdr = malloc(k * sizeof(double));
    r->isr = malloc(k * sizeof(double));
    r->sir = malloc(k * sizeof(double));
    r->sar = malloc(k * sizeof(double));
    r->perm = malloc(k * sizeof(int));
    if (!r->sdr || !r->isr || !r->sir || !r->sar || !r->perm) {
        duet_bss_result_free(r);
        return duet_err_set(err, DUET_ERR_NOMEM, "bsseval: out of memory");
    }
    for (size_t i = 0; i < k; i++) r->sdr[i] = r->isr[i] = r->sir[i] = r->sar[i] = NAN;
    for (size_t i = 0; i < k; i++) r->perm[i] = (int)(i / (size_t)nwin);
    return DUET_OK;
}

double duet_nanmedian(const double *x, int n)
{
    double *v = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    if (!v) return NAN;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(x[i])) v[m++] = x[i];
    /* insertion sort: frame counts are small */
    for (int i = 1; i < m; i++) {
        double t = v[i];
        int j = i - 1;
        while (j >= 0 && v[j] > t) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = t;
    }
    double r = NAN;
    if (m > 0) r = (m % 2) ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
    free(v);
    return r;
}

/* 10 log10(num / den), +inf for a zero denominator (mir_eval's _safe_db). */
static double safe_db(double num, double den)
{
    if (den == 0) return INFINITY;
    return 10.0 * log10(num / den);
}

/* ---- projector: the references, their Gram matrices factored ---------- */

/* n doubles on a 64-byte boundary, on huge pages when large (common/mem.h;
 * freed with free()), or NULL */
static double *bss_alloc(size_t n)
{
    if (n > SIZE_MAX / sizeof(double)) return NULL;
    return duet_alloc_large(n * sizeof(double));
}

typedef struct bss_proj {
    int nsrc, nchan, R, L, K;  /* K = R * L */
    int64_t n;
    int M, B;                  /* FFT size, block length */
    int S;                     /* stride of a stored spectrum: M + 8 doubles
                                * (M/2 + 1 complex bins, padded so every
                                * spectrum starts on a 64-byte boundary) */
    duet_dfft *fft;
    const float *const *ref;   /* R pointers, not owned */
    double *xc;                /* R*(R+1)/2 correlations, 2L-1 lags each */
    double *G;                 /* K x K Cholesky factor, or NULL until needed */
    double **Gj;               /* nsrc factors of (nchan L)^2, or NULL */
    double *seg, *spec;        /* scratch: M, S */
    double *su, *sv, *cacc;    /* correlate's spectra and sums: R S, R S,
                                * max(R(R+1)/2, R nchan) S */
    double *H, *hacc;          /* proj_apply's filter spectra and sums:
                                * R nchan S, nchan S */
    int have_chol;             /* G and Gj factored (done on first need) */
    double *ext;               /* cached spectra of the extended reference
                                * segments, [block][r][S], or NULL */
    int n_ext_blocks;
} bss_proj;

/* The spectrum of reference r's segment [b0 - (L-1), b0 + B + L - 1) for
 * block k (b0 = k B): from the cache when there is one, else computed into
 * `scratch`. The same segment serves the correlations and, since only
 * circular outputs L-1 .. L-1+B are kept, the overlap-save filtering. */
static void load_seg(const float *x, int64_t n, int64_t start, int len, double *seg, int M);
static const double *ext_spec(const bss_proj *P, const float *x, int r, int64_t k, double *seg, double *scratch)
{
    if (P->ext && r >= 0 && k < P->n_ext_blocks) return P->ext + ((size_t)k * P->R + r) * (size_t)P->S;
    load_seg(x, P->n, k * P->B - (P->L - 1), P->B + 2 * P->L - 2, seg, P->M);
    duet_dfft_forward(P->fft, seg, scratch);
    return scratch;
}

static void proj_free(bss_proj *P)
{
    if (!P) return;
    duet_dfft_free(P->fft);
    free(P->xc);
    free(P->G);
    if (P->Gj)
        for (int j = 0; j < P->nsrc; j++) free(P->Gj[j]);
    free(P->Gj);
    free(P->seg);
    free(P->spec);
    free(P->su);
    free(P->sv);
    free(P->cacc);
    free(P->H);
    free(P->hacc);
    free(P->ext);
    memset(P, 0, sizeof *P);
}

/* seg[k] = x[start + k] for k < len where inside [0, n), 0 elsewhere, and
 * zero up to M. */
static void load_seg(const float *x, int64_t n, int64_t start, int len, double *seg, int M)
{
    for (int k = 0; k < M; k++) {
        int64_t i = start + k;
        seg[k] = (k < len && i >= 0 && i < n) ? (double)x[i] : 0.0;
    }
}

/* acc += a * conj(b) over nb complex bins */
static void cmac_conj(double *acc, const double *a, const double *b, int nb)
{
    for (int k = 0; k < nb; k++) {
        double ar = a[2 * k], ai = a[2 * k + 1], br = b[2 * k], bi = b[2 * k + 1];
        acc[2 * k] += ar * br + ai * bi;
        acc[2 * k + 1] += ai * br - ar * bi;
    }
}

/* acc += a * b */
static void cmac(double *acc, const double *a, const double *b, int nb)
{
    for (int k = 0; k < nb; k++) {
        double ar = a[2 * k], ai = a[2 * k + 1], br = b[2 * k], bi = b[2 * k + 1];
        acc[2 * k] += ar * br - ai * bi;
        acc[2 * k + 1] += ai * br + ar * bi;
    }
}

static int pair_index(int i, int j, int R)
{
    /* i <= j, row-major upper triangle */
    return i * R - i * (i - 1) / 2 + (j - i);
}

/* Correlations x_uv[d], |d| < L, of `nu` signals u against `nv` signals v:
 * out[(iu * nv + iv) * (2L-1) + d + L-1]. When `sym` is set u == v and
 * only pairs iu <= iv are computed, stored at pair_index. */
static void correlate(bss_proj *P, const float *const *u, int nu, const float *const *v, int nv, int sym,
                      double *out)
{
    int M = P->M, B = P->B, L = P->L, nb = M / 2 + 1, S = P->S;
    int npair = sym ? nu * (nu + 1) / 2 : nu * nv;
    double *su = P->su, *sv = P->sv, *acc = P->cacc;
    memset(acc, 0, sizeof(double) * (size_t)npair * (size_t)S);
    for (int64_t b0 = 0; b0 < P->n; b0 += B) {
        for (int i = 0; i < nu; i++) {
            const double *sp = ext_spec(P, u[i], u == P->ref ? i : -1, b0 / B, P->seg, su + (size_t)i * S);
            if (sp != su + (size_t)i * S) memcpy(su + (size_t)i * S, sp, sizeof(double) * (size_t)S);
        }
        for (int i = 0; i < nv; i++) {
            load_seg(v[i], P->n, b0, B, P->seg, M);
            duet_dfft_forward(P->fft, P->seg, sv + (size_t)i * S);
        }
        for (int i = 0; i < nu; i++)
            for (int j = sym ? i : 0; j < nv; j++) {
                int p = sym ? pair_index(i, j, nu) : i * nv + j;
                cmac_conj(acc + (size_t)p * S, su + (size_t)i * S, sv + (size_t)j * S, nb);
            }
    }
    for (int p = 0; p < npair; p++) {
        duet_dfft_inverse(P->fft, acc + (size_t)p * S, P->seg);
        memcpy(out + (size_t)p * (2 * L - 1), P->seg, sizeof(double) * (size_t)(2 * L - 1));
    }
}

/* x_rq[d] for any r, q from the symmetric pair store */
static double xc_at(const bss_proj *P, int r, int q, int d)
{
    int L = P->L;
    if (r <= q) return P->xc[(size_t)pair_index(r, q, P->R) * (2 * L - 1) + d + L - 1];
    return P->xc[(size_t)pair_index(q, r, P->R) * (2 * L - 1) - d + L - 1];
}

/* Fill the Gram matrix over references r0 .. r0+nr-1 (size nr*L) and factor
 * it, regularising once if needed. */
static duet_status gram_factor(const bss_proj *P, int r0, int nr, double *G, duet_err *err)
{
    int L = P->L, K = nr * L;
    for (int attempt = 0; attempt < 2; attempt++) {
        double dmax = 0;
        for (int r = 0; r < nr; r++)
            for (int q = 0; q < nr; q++)
                for (int a = 0; a < L; a++)
                    for (int b = 0; b < L; b++)
                        G[(size_t)(r * L + a) * K + (q * L + b)] = xc_at(P, r0 + r, r0 + q, b - a);
        for (int i = 0; i < K; i++)
            if (G[(size_t)i * K + i] > dmax) dmax = G[(size_t)i * K + i];
        if (attempt == 1) {
            double lam = 1e-12 * dmax;
            if (lam == 0) lam = 1e-300;
            for (int i = 0; i < K; i++) G[(size_t)i * K + i] += lam;
        }
        int info = 0;
        dpotrf_("L", &K, G, &K, &info);
        if (info == 0) return DUET_OK;
        if (info < 0) break;
    }
    return duet_err_set(err, DUET_ERR_INTERNAL, "bsseval: Gram matrix factorisation failed");
}

static duet_status proj_new(bss_proj *P, const float *const *ref, int nsrc, int nchan, int64_t n,
                            duet_err *err)
{
    memset(P, 0, sizeof *P);
    P->nsrc = nsrc;
    P->nchan = nchan;
    P->R = nsrc * nchan;
    P->L = DUET_BSS_FILTER_LEN;
    P->K = P->R * P->L;
    P->n = n;
    P->ref = ref;
    int L = P->L;
    /* FFT size: one block for short signals, else 16384 */
    int M = 4 * L;
    while (M < 16384 && (int64_t)M < n + 2 * L - 2) M *= 2;
    P->M = M;
    P->B = M - 2 * L + 2;
    P->S = M + 8;
    int S = P->S;
    duet_status st = duet_dfft_new(M, &P->fft, err);
    if (st) return st;
    int R = P->R, npair = R * (R + 1) / 2;
    size_t ncorr = (size_t)(npair > R * nchan ? npair : R * nchan);
    P->seg = bss_alloc((size_t)M);
    P->spec = bss_alloc((size_t)S);
    P->su = bss_alloc((size_t)R * S);
    P->sv = bss_alloc((size_t)R * S);
    P->cacc = bss_alloc(ncorr * S);
    P->H = bss_alloc((size_t)R * nchan * S);
    P->hacc = bss_alloc((size_t)nchan * S);
    P->xc = malloc(sizeof(double) * (size_t)npair * (size_t)(2 * L - 1));
    if (!P->seg || !P->spec || !P->su || !P->sv || !P->cacc || !P->H || !P->hacc || !P->xc) goto nomem;
    /* cache the reference segment spectra when they fit in 256 MB */
    int64_t nbk = (n + L - 1 + P->B - 1) / P->B;
    double bytes = (double)nbk * R * S * sizeof(double);
    if (bytes <= 256.0 * 1024 * 1024) {
        double *ext = bss_alloc((size_t)nbk * R * S);
        if (ext) {
            for (int64_t k = 0; k < nbk; k++)
                for (int r = 0; r < R; r++) {
                    load_seg(ref[r], n, k * P->B - (L - 1), P->B + 2 * L - 2, P->seg, M);
                    duet_dfft_forward(P->fft, P->seg, ext + ((size_t)k * R + r) * (size_t)S);
                }
            P->ext = ext;
            P->n_ext_blocks = (int)nbk;
        }
    }
    correlate(P, ref, R, ref, R, 1, P->xc);
    return DUET_OK;
nomem:
    return duet_err_set(err, DUET_ERR_NOMEM, "bsseval: out of memory");
}

/* The Cholesky factors, allocated and computed on first need (only when
 * the Levinson solve refuses an ill-conditioned system). */
static duet_status ensure_chol(bss_proj *P, duet_err *err)
{
    if (P->have_chol) return DUET_OK;
    if (!P->G) P->G = bss_alloc((size_t)P->K * (size_t)P->K);
    if (!P->Gj) P->Gj = calloc((size_t)P->nsrc, sizeof(double *));
    if (!P->G || !P->Gj) return duet_err_set(err, DUET_ERR_NOMEM, "bsseval: out of memory");
    size_t kj = (size_t)P->nchan * P->L;
    for (int j = 0; j < P->nsrc; j++)
        if (!P->Gj[j] && !(P->Gj[j] = malloc(sizeof(double) * kj * kj)))
            return duet_err_set(err, DUET_ERR_NOMEM, "bsseval: out of memory");
    duet_status st = gram_factor(P, 0, P->R, P->G, err);
    for (int j = 0; j < P->nsrc && !st; j++) st = gram_factor(P, j * P->nchan, P->nchan, P->Gj[j], err);
    if (!st) P->have_chol = 1;
    return st;
}

/* Solve the Gram system of references r0 .. r0+nr-1 for m right-hand sides
 * in place by the block Levinson recursion (bss_levinson.c); 0 on success,
 * else the caller falls back to Cholesky. */
static int levinson_solve(const bss_proj *P, int r0, int nr, double *b, int m)
{
    int L = P->L, W = 2 * L - 1;
    double *A = malloc(sizeof(double) * (size_t)nr * nr * W);
    if (!A) return -1;
    for (int r = 0; r < nr; r++)
        for (int q = 0; q < nr; q++)
            for (int d = -(L - 1); d < L; d++) A[(size_t)(r * nr + q) * W + d + L - 1] = xc_at(P, r0 + r, r0 + q, d);
    int rc = duet_bss_levinson(A, L, nr, b, m);
    free(A);
    return rc;
}

/* Filters of estimate `est` (nchan channels): C (K x nchan, column-major)
 * on all references, and, for each source j with want_j[j] set, Cj[j]
 * (nchan L x nchan) on the references of source j alone. */
static duet_status proj_filters(bss_proj *P, const float *const *est, double *C, double **Cj,
                                const int *want_j, duet_err *err)
{
    int L = P->L, R = P->R, K = P->K, nc = P->nchan;
    double *xr = malloc(sizeof(double) * (size_t)R * nc * (2 * L - 1));
    if (!xr) return duet_err_set(err, DUET_ERR_NOMEM, "bsseval: out of memory");
    correlate(P, P->ref, R, est, nc, 0, xr);
    duet_status st = DUET_OK;
    /* D[(r,a), c] = x_{r,e_c}[-a] */
    for (int c = 0; c < nc; c++)
        for (int r = 0; r < R; r++)
            for (int a = 0; a < L; a++) C[(size_t)c * K + r * L + a] = xr[(size_t)(r * nc + c) * (2 * L - 1) - a + L - 1];
    int kj = nc * L;
    for (int j = 0; j < P->nsrc; j++) {
        if (!want_j[j]) continue;
        for (int c = 0; c < nc; c++)
            memcpy(Cj[j] + (size_t)c * kj, C + (size_t)c * K + (size_t)j * kj, sizeof(double) * (size_t)kj);
        if (levinson_solve(P, j * nc, nc, Cj[j], nc) == 0) continue;
        for (int c = 0; c < nc; c++)
            memcpy(Cj[j] + (size_t)c * kj, C + (size_t)c * K + (size_t)j * kj, sizeof(double) * (size_t)kj);
        if (!st) st = ensure_chol(P, err);
        if (st) break;
        int info = 0;
        dpotrs_("L", &kj, &nc, P->Gj[j], &kj, Cj[j], &kj, &info);
        if (info) st = duet_err_set(err, DUET_ERR_INTERNAL, "bsseval: solve failed");
    }
    double *Cs = st ? NULL : malloc(sizeof(double) * (size_t)K * nc);
    if (!st && !Cs) st = duet_err_set(err, DUET_ERR_NOMEM, "bsseval: out of memory");
    if (!st) {
        memcpy(Cs, C, sizeof(double) * (size_t)K * nc);
        if (levinson_solve(P, 0, R, C, nc) != 0) {
            memcpy(C, Cs, sizeof(double) * (size_t)K * nc);
            st = ensure_chol(P, err);
            if (!st) {
                int info = 0;
                dpotrs_("L", &K, &nc, P->G, &K, C, &K, &info);
                if (info) st = duet_err_set(err, DUET_ERR_INTERNAL, "bsseval: solve failed");
            }
        }
    }
    free(Cs);
    free(xr);
    return st;
}

/* out[c * (n+L-1) + t] = sum_r sum_a coef[c*nr*L + r*L + a] s_{r0+r}[t-a]
 * for t in [0, n+L-1): the projection with filters coef on references
 * r0 .. r0+nr-1 (blockwise overlap-save). */
static void proj_apply(bss_proj *P, int r0, int nr, const double *coef, double *out)
{
    int L = P->L, M = P->M, B = P->B, nc = P->nchan, nb = M / 2 + 1, S = P->S;
    int64_t nout = P->n + L - 1;
    double *H = P->H, *acc = P->hacc;
    for (int r = 0; r < nr; r++)
        for (int c = 0; c < nc; c++) {
            memset(P->seg, 0, sizeof(double) * (size_t)M);
            memcpy(P->seg, coef + (size_t)c * nr * L + (size_t)r * L, sizeof(double) * (size_t)L);
            duet_dfft_forward(P->fft, P->seg, H + (size_t)(r * nc + c) * S);
        }
    for (int64_t b0 = 0; b0 < nout; b0 += B) {
        memset(acc, 0, sizeof(double) * (size_t)nc * S);
        for (int r = 0; r < nr; r++) {
            const double *sp = ext_spec(P, P->ref[r0 + r], r0 + r, b0 / B, P->seg, P->spec);
            for (int c = 0; c < nc; c++) cmac(acc + (size_t)c * S, sp, H + (size_t)(r * nc + c) * S, nb);
        }
        for (int c = 0; c < nc; c++) {
            duet_dfft_inverse(P->fft, acc + (size_t)c * S, P->seg);
            for (int m = L - 1; m < L - 1 + B; m++) {
                int64_t t = b0 + m - (L - 1);
                if (t >= nout) break;
                out[(size_t)c * nout + t] = P->seg[m];
            }
        }
    }
}

/* Frame-local projection: the same filters applied to the references cut
 * to [start, stop) (zero outside), for t in [start, stop + L - 1), written
 * to loc[c * (stop - start + L - 1) + t - start]. Uses the global
 * projection where the two agree and sums the filter directly at the two
 * edges. */
static void frame_local(const bss_proj *P, int r0, int nr, const double *coef, const double *glob,
                        int64_t start, int64_t stop, double *loc)
{
    int L = P->L, nc = P->nchan;
    int64_t nout = P->n + L - 1, w = stop - start + L - 1;
    for (int c = 0; c < nc; c++) {
        double *y = loc + (size_t)c * w;
        for (int64_t t = start; t < stop + L - 1; t++) {
            if (t >= start + L - 1 && t < stop) {
                y[t - start] = glob[(size_t)c * nout + t];
                continue;
            }
            int64_t lo = t - stop + 1 > 0 ? t - stop + 1 : 0;
            int64_t hi = t - start < L - 1 ? t - start : L - 1;
            double s = 0;
            for (int r = 0; r < nr; r++) {
                const float *x = P->ref[r0 + r];
                const double *h = coef + (size_t)c * nr * L + (size_t)r * L;
                for (int64_t a = lo; a <= hi; a++) s += h[a] * (double)x[t - a];
            }
            y[t - start] = s;
        }
    }
}

/* ---- validation ------------------------------------------------------- */

static duet_status check_finite(const float *const *x, int nsig, int64_t n, const char *what, duet_err *err)
{
    for (int s = 0; s < nsig; s++)
        for (int64_t i = 0; i < n; i++)
            if (!isfinite(x[s][i]))
                return duet_err_set(err, DUET_ERR_NAN, "bsseval: %s signal %d has a non-finite sample at %lld",
                                    what, s, (long long)i);
    return DUET_OK;
}

/* mir_eval's _any_source_silent on [start, stop): the channel sum of some
 * source is zero at every sample. Returns the source index or -1. */
static int silent_source(const float *const *x, int nsrc, int nchan, int64_t start, int64_t stop)
{
    for (int j = 0; j < nsrc; j++) {
        int silent = 1;
        for (int64_t i = start; i < stop && silent; i++) {
            double s = 0;
            for (int c = 0; c < nchan; c++) s += (double)x[j * nchan + c][i];
            if (s != 0) silent = 0;
        }
        if (silent) return j;
    }
    return -1;
}

static duet_status check_inputs(const float *const *ref, const float *const *est, int nsrc, int nchan,
                                int64_t n, int need_nonsilent, duet_err *err)
{
    if (nsrc < 1 || nsrc > DUET_BSS_MAX_SOURCES)
        return duet_err_set(err, DUET_ERR_ARG, "bsseval: %d sources (1..%d supported)", nsrc, DUET_BSS_MAX_SOURCES);
    if (nchan < 1) return duet_err_set(err, DUET_ERR_ARG, "bsseval: %d channels", nchan);
    if (n < 1) return duet_err_set(err, DUET_ERR_ARG, "bsseval: empty signals");
    duet_status st = check_finite(ref, nsrc * nchan, n, "reference", err);
    if (!st) st = check_finite(est, nsrc * nchan, n, "estimate", err);
    if (st) return st;
    if (need_nonsilent) {
        int j = silent_source(ref, nsrc, nchan, 0, n);
        if (j >= 0)
            return duet_err_set(err, DUET_ERR_EMPTY, "reference source %d is silent (all zeros): BSSEval is undefined", j);
        j = silent_source(est, nsrc, nchan, 0, n);
        if (j >= 0)
            return duet_err_set(err, DUET_ERR_EMPTY, "estimated source %d is silent (all zeros): BSSEval is undefined", j);
    }
    return DUET_OK;
}

/* ---- whole-signal v3 (mir_eval) --------------------------------------- */

typedef struct crit4 {
    double sdr, isr, sir, sar;
} crit4;

/* Criteria from the projections over t in [0, nt) for nchan channels with
 * stride `stride` (projections) and the original signals (length n, zero
 * beyond). images = 0: bss_eval_sources' criteria. */
static crit4 criteria(const float *const *s, const float *const *e, int nchan, int64_t off, int64_t n,
                      const double *pj, const double *pall, int64_t stride, int64_t nt, int images)
{
    double es = 0, ees = 0, epj = 0, eepj = 0, epjs = 0, eint = 0, epall = 0, eart = 0;
    for (int c = 0; c < nchan; c++)
        for (int64_t t = 0; t < nt; t++) {
            double sv = t < n ? (double)s[c][off + t] : 0.0;
            double ev = t < n ? (double)e[c][off + t] : 0.0;
            double a = pj[(size_t)c * stride + t], b = pall[(size_t)c * stride + t];
            es += sv * sv;
            ees += (ev - sv) * (ev - sv);
            epj += a * a;
            eepj += (ev - a) * (ev - a);
            epjs += (a - sv) * (a - sv);
            eint += (b - a) * (b - a);
            epall += b * b;
            eart += (ev - b) * (ev - b);
        }
    crit4 r;
    if (images) {
        r.sdr = safe_db(es, ees);
        r.isr = safe_db(es, epjs);
    } else {
        r.sdr = safe_db(epj, eepj);
        r.isr = NAN;
    }
    r.sir = safe_db(epj, eint);
    r.sar = safe_db(epall, eart);
    return r;
}

/* Next permutation in lexicographic order; 0 when done. */
static int next_perm(int *p, int n)
{
    int i = n - 2;
    while (i >= 0 && p[i] >= p[i + 1]) i--;
    if (i < 0) return 0;
    int j = n - 1;
    while (p[j] <= p[i]) j--;
    int t = p[i];
    p[i] = p[j];
    p[j] = t;
    for (int a = i + 1, b = n - 1; a < b; a++, b--) {
        t = p[a];
        p[a] = p[b];
        p[b] = t;
    }
    return 1;
}

/* Whole-signal v3 metrics of ref/est over [off, off+n), written to column
 * `col` of out (nwin columns). */
static duet_status v3_whole(const float *const *ref0, const float *const *est0, int nsrc, int nchan, int64_t off,
                            int64_t n, int compute_perm, int images, duet_bss_result *out, int col, duet_err *err)
{
    int R = nsrc * nchan, L = DUET_BSS_FILTER_LEN;
    const float **ref = malloc(sizeof(float *) * (size_t)R);
    const float **est = malloc(sizeof(float *) * (size_t)R);
    int np = compute_perm ? nsrc : 1;
    crit4 *cr = malloc(sizeof(crit4) * (size_t)nsrc * np);
    int *want = calloc((size_t)nsrc, sizeof(int));
    double **Cj = calloc((size_t)nsrc, sizeof(double *));
    bss_proj P;
    memset(&P, 0, sizeof P);
    double *C = NULL, *pall = NULL, *pj = NULL;
    duet_status st = DUET_OK;
    if (!ref || !est || !cr || !want || !Cj) {
        st = duet_err_set(err, DUET_ERR_NOMEM, "bsseval: out of memory");
        goto done;
    }
    for (int i = 0; i < R; i++) {
        ref[i] = ref0[i] + off;
        est[i] = est0[i] + off;
    }
    st = proj_new(&P, ref, nsrc, nchan, n, err);
    if (st) goto done;
    int64_t nt = n + L - 1;
    C = malloc(sizeof(double) * (size_t)P.K * nchan);
    pall = bss_alloc((size_t)nchan * nt);
    pj = bss_alloc((size_t)nchan * nt);
    if (!C || !pall || !pj) {
        st = duet_err_set(err, DUET_ERR_NOMEM, "bsseval: out of memory");
        goto done;
    }
    for (int j = 0; j < nsrc; j++) {
        Cj[j] = malloc(sizeof(double) * (size_t)nchan * L * nchan);
        if (!Cj[j]) {
            st = duet_err_set(err, DUET_ERR_NOMEM, "bsseval: out of memory");
            goto done;
        }
    }
    /* cr[jest * np + k]: estimate jest against reference jtrue (k = jtrue
     * when permuting, else jtrue = jest) */
    for (int jest = 0; jest < nsrc; jest++) {
        for (int j = 0; j < nsrc; j++) want[j] = compute_perm ? 1 : (j == jest);
        st = proj_filters(&P, est + (size_t)jest * nchan, C, Cj, want, err);
        if (st) goto done;
        proj_apply(&P, 0, R, C, pall);
        for (int k = 0; k < np; k++) {
            int jtrue = compute_perm ? k : jest;
            proj_apply(&P, jtrue * nchan, nchan, Cj[jtrue], pj);
            cr[jest * np + k] = criteria(ref + (size_t)jtrue * nchan, est + (size_t)jest * nchan, nchan, 0, n, pj,
                                         pall, nt, nt, images);
        }
    }
    int nw = out->nwin;
    if (!compute_perm) {
        for (int j = 0; j < nsrc; j++) {
            out->sdr[j * nw + col] = cr[j].sdr;
            out->isr[j * nw + col] = cr[j].isr;
            out->sir[j * nw + col] = cr[j].sir;
            out->sar[j * nw + col] = cr[j].sar;
            out->perm[j * nw + col] = j;
        }
    } else {
        int *p = malloc(sizeof(int) * (size_t)nsrc), *best = malloc(sizeof(int) * (size_t)nsrc);
        if (!p || !best) {
            free(p);
            free(best);
            st = duet_err_set(err, DUET_ERR_NOMEM, "bsseval: out of memory");
            goto done;
        }
        for (int j = 0; j < nsrc; j++) p[j] = best[j] = j;
        double bestv = -INFINITY;
        int first = 1;
        do {
            double m = 0;
            for (int j = 0; j < nsrc; j++) m += cr[p[j] * np + j].sir;
            m /= nsrc;
            if (first || m > bestv) {
                bestv = m;
                memcpy(best, p, sizeof(int) * (size_t)nsrc);
                first = 0;
            }
        } while (next_perm(p, nsrc));
        for (int j = 0; j < nsrc; j++) {
            crit4 c = cr[best[j] * np + j];
            out->sdr[j * nw + col] = c.sdr;
            out->isr[j * nw + col] = c.isr;
            out->sir[j * nw + col] = c.sir;
            out->sar[j * nw + col] = c.sar;
            out->perm[j * nw + col] = best[j];
        }
        free(p);
        free(best);
    }
done:
    if (Cj)
        for (int j = 0; j < nsrc; j++) free(Cj[j]);
    free(Cj);
    free(want);
    free(cr);
    free(C);
    free(pall);
    free(pj);
    free(ref);
    free(est);
    proj_free(&P);
    return st;
}

static duet_status v3_run(const float *const *ref, const float *const *est, int nsrc, int nchan, int64_t n,
                          int64_t window, int64_t hop, int framewise, int compute_perm, int images,
                          duet_bss_result *out, duet_err *err)
{
    memset(out, 0, sizeof *out);
    if (framewise && (window < 1 || hop < 1))
        return duet_err_set(err, DUET_ERR_ARG, "bsseval: window and hop must be >= 1");
    duet_status st = check_inputs(ref, est, nsrc, nchan, n, 1, err);
    if (st) return st;
    int64_t nwin = framewise ? (n - window + hop) / hop : 1;
    if (framewise && n - window + hop < 0) nwin = 0;
    if (nwin < 2) {
        st = result_alloc(out, nsrc, 1, err);
        if (!st) st = v3_whole(ref, est, nsrc, nchan, 0, n, compute_perm, images, out, 0, err);
        if (st) duet_bss_result_free(out);
        return st;
    }
    if (nwin > 1000000) return duet_err_set(err, DUET_ERR_RANGE, "bsseval: too many windows");
    st = result_alloc(out, nsrc, (int)nwin, err);
    if (st) return st;
    for (int64_t k = 0; k < nwin; k++) {
        int64_t a = k * hop;
        if (silent_source(ref, nsrc, nchan, a, a + window) >= 0 || silent_source(est, nsrc, nchan, a, a + window) >= 0)
            continue; /* NaN */
        st = v3_whole(ref, est, nsrc, nchan, a, window, compute_perm, images, out, (int)k, err);
        if (st) {
            duet_bss_result_free(out);
            return st;
        }
    }
    return DUET_OK;
}

duet_status duet_bss_eval_sources(const float *const *ref, const float *const *est, int nsrc, int64_t n,
                                  int compute_permutation, duet_bss_result *out, duet_err *err)
{
    return v3_run(ref, est, nsrc, 1, n, 0, 0, 0, compute_permutation, 0, out, err);
}

duet_status duet_bss_eval_sources_framewise(const float *const *ref, const float *const *est, int nsrc, int64_t n,
                                            int64_t window, int64_t hop, int compute_permutation,
                                            duet_bss_result *out, duet_err *err)
{
    return v3_run(ref, est, nsrc, 1, n, window, hop, 1, compute_permutation, 0, out, err);
}

duet_status duet_bss_eval_images(const float *const *ref, const float *const *est, int nsrc, int nchan, int64_t n,
                                 int compute_permutation, duet_bss_result *out, duet_err *err)
{
    return v3_run(ref, est, nsrc, nchan, n, 0, 0, 0, compute_permutation, 1, out, err);
}

duet_status duet_bss_eval_images_framewise(const float *const *ref, const float *const *est, int nsrc, int nchan,
                                           int64_t n, int64_t window, int64_t hop, int compute_permutation,
                                           duet_bss_result *out, duet_err *err)
{
    return v3_run(ref, est, nsrc, nchan, n, window, hop, 1, compute_permutation, 1, out, err);
}

/* ---- v4 (museval) and the combined track evaluation -------------------- */

/* v4 frames for all sources with an existing projector (no permutation).
 * If `sources` is non-NULL (nchan must be 1) the whole-signal sources
 * criteria are filled from the same projections. */
static duet_status v4_with(bss_proj *P, const float *const *est, int64_t window, int64_t hop,
                           duet_bss_result *v4, duet_bss_result *sources, duet_err *err)
{
    int nsrc = P->nsrc, nchan = P->nchan, L = P->L, R = P->R;
    int64_t n = P->n, nt = n + L - 1;
    int64_t nwin = 1;
    if (v4) {
        if (window < n) nwin = (n - window + hop) / hop;
        if (nwin < 1) nwin = 1;
        if (nwin > 1000000) return duet_err_set(err, DUET_ERR_RANGE, "bsseval: too many windows");
    }
    duet_status st = DUET_OK;
    double *C = malloc(sizeof(double) * (size_t)P->K * nchan);
    double *pall = bss_alloc((size_t)nchan * nt);
    double *pj = bss_alloc((size_t)nchan * nt);
    int64_t wmax = (window < n ? window : n) + L - 1;
    double *la = bss_alloc((size_t)nchan * wmax);
    double *lj = bss_alloc((size_t)nchan * wmax);
    int *want = calloc((size_t)nsrc, sizeof(int));
    double **Cj = calloc((size_t)nsrc, sizeof(double *));
    if (!C || !pall || !pj || !la || !lj || !want || !Cj) {
        st = duet_err_set(err, DUET_ERR_NOMEM, "bsseval: out of memory");
        goto done;
    }
    if (v4) {
        st = result_alloc(v4, nsrc, (int)nwin, err);
        if (st) goto done;
    }
    if (sources) {
        st = result_alloc(sources, nsrc, 1, err);
        if (st) goto done;
    }
    for (int j = 0; j < nsrc; j++) {
        memset(want, 0, sizeof(int) * (size_t)nsrc);
        want[j] = 1;
        free(Cj[j]);
        Cj[j] = malloc(sizeof(double) * (size_t)nchan * L * nchan);
        if (!Cj[j]) {
            st = duet_err_set(err, DUET_ERR_NOMEM, "bsseval: out of memory");
            goto done;
        }
        const float *const *ej = est + (size_t)j * nchan;
        const float *const *sj = P->ref + (size_t)j * nchan;
        st = proj_filters(P, ej, C, Cj, want, err);
        if (st) goto done;
        proj_apply(P, 0, R, C, pall);
        proj_apply(P, j * nchan, nchan, Cj[j], pj);
        if (sources) {
            crit4 c = criteria(sj, ej, nchan, 0, n, pj, pall, nt, nt, 0);
            sources->sdr[j] = c.sdr;
            sources->sir[j] = c.sir;
            sources->sar[j] = c.sar;
        }
        if (!v4) continue;
        for (int64_t t = 0; t < nwin; t++) {
            int64_t a = t * hop, b = window < n ? a + window : n;
            if (b > n) b = n;
            if (silent_source(P->ref, nsrc, nchan, a, b) >= 0 || silent_source(est, nsrc, nchan, a, b) >= 0) continue;
            int64_t w = b - a + L - 1;
            frame_local(P, 0, R, C, pall, a, b, la);
            frame_local(P, j * nchan, nchan, Cj[j], pj, a, b, lj);
            crit4 c = criteria(sj, ej, nchan, a, b - a, lj, la, w, w, 1);
            v4->sdr[j * nwin + t] = c.sdr;
            v4->isr[j * nwin + t] = c.isr;
            v4->sir[j * nwin + t] = c.sir;
            v4->sar[j * nwin + t] = c.sar;
        }
    }
done:
    if (st) {
        if (v4) duet_bss_result_free(v4);
        if (sources) duet_bss_result_free(sources);
    }
    if (Cj)
        for (int j = 0; j < nsrc; j++) free(Cj[j]);
    free(Cj);
    free(want);
    free(C);
    free(pall);
    free(pj);
    free(la);
    free(lj);
    return st;
}

duet_status duet_bss_eval_v4(const float *const *ref, const float *const *est, int nsrc, int nchan, int64_t n,
                             int64_t window, int64_t hop, duet_bss_result *out, duet_err *err)
{
    memset(out, 0, sizeof *out);
    if (window < 1 || hop < 1) return duet_err_set(err, DUET_ERR_ARG, "bsseval: window and hop must be >= 1");
    duet_status st = check_inputs(ref, est, nsrc, nchan, n, 1, err);
    if (st) return st;
    bss_proj P;
    st = proj_new(&P, ref, nsrc, nchan, n, err);
    if (!st) st = v4_with(&P, est, window, hop, out, NULL, err);
    proj_free(&P);
    return st;
}

duet_status duet_bss_eval_track(const float *const *ref, const float *const *est, int nsrc, int nchan, int64_t n,
                                int64_t window, int64_t hop, duet_bss_result *sources, duet_bss_result *v4,
                                duet_err *err)
{
    memset(sources, 0, sizeof *sources);
    if (v4) memset(v4, 0, sizeof *v4);
    if (v4 && (window < 1 || hop < 1)) return duet_err_set(err, DUET_ERR_ARG, "bsseval: window and hop must be >= 1");
    duet_status st = check_inputs(ref, est, nsrc, nchan, n, 1, err);
    if (st) return st;
    bss_proj P;
    if (nchan == 1) {
        st = proj_new(&P, ref, nsrc, 1, n, err);
        if (!st) st = v4_with(&P, est, window, hop, v4, sources, err);
        proj_free(&P);
        return st;
    }
    /* multichannel: v4 on the images, sources on the downmix */
    if (v4) {
        st = proj_new(&P, ref, nsrc, nchan, n, err);
        if (!st) st = v4_with(&P, est, window, hop, v4, NULL, err);
        proj_free(&P);
        if (st) return st;
    }
    float *mix = malloc(sizeof(float) * (size_t)n * 2 * nsrc);
    const float **mr = malloc(sizeof(float *) * (size_t)nsrc), **me = malloc(sizeof(float *) * (size_t)nsrc);
    if (!mix || !mr || !me) {
        free(mix);
        free(mr);
        free(me);
        if (v4) duet_bss_result_free(v4);
        return duet_err_set(err, DUET_ERR_NOMEM, "bsseval: out of memory");
    }
    for (int j = 0; j < nsrc; j++) {
        float *a = mix + (size_t)(2 * j) * n, *b = mix + (size_t)(2 * j + 1) * n;
        for (int64_t i = 0; i < n; i++) {
            double sa = 0, sb = 0;
            for (int c = 0; c < nchan; c++) {
                sa += ref[j * nchan + c][i];
                sb += est[j * nchan + c][i];
            }
            a[i] = (float)(sa / nchan);
            b[i] = (float)(sb / nchan);
        }
        mr[j] = a;
        me[j] = b;
    }
    st = check_inputs(mr, me, nsrc, 1, n, 1, err);
    if (!st) {
        st = proj_new(&P, mr, nsrc, 1, n, err);
        if (!st) st = v4_with(&P, me, 0, 0, NULL, sources, err);
        proj_free(&P);
    }
    if (st && v4) duet_bss_result_free(v4);
    free(mix);
    free(mr);
    free(me);
    return st;
}
