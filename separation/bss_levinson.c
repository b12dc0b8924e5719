/* separation/bss_levinson.c: the block Levinson solver of the BSSEval
 * projections (see bss_impl.h).
 *
 * Layout: every sequence of nr x nr blocks is kept delay-innermost, A as
 * A[(r nr + q)(2L - 1) + d + L - 1], the forward and backward predictors as
 * F[(i nr + k) L + j], the solution as x[(q m + c) L + j], so every sum over
 * delays is a dot product of two contiguous vectors and every update an
 * axpy. The dot product keeps eight partial sums in a fixed order (two
 * 4-lane vectors, GCC's vector extension, no fused multiply-add), so the
 * result is the same on every x86-64 whichever copy runs: on x86-64 the
 * solver is compiled twice, for the library's x86-64-v2 baseline and for
 * AVX2, and the copy is chosen by CPU feature at run time. */
#include "bss_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic")
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LV_DISPATCH 1
#define LV_INLINE static inline __attribute__((always_inline))
#else
#define LV_INLINE static inline
#endif

#if defined(__GNUC__) || defined(__clang__)
typedef double lv_v4 __attribute__((vector_size(32)));

LV_INLINE double lv_dot(const double *a, const double *b, int n)
{
    lv_v4 s0 = {0, 0, 0, 0}, s1 = {0, 0, 0, 0};
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        lv_v4 a0, a1, b0, b1;
        memcpy(&a0, a + j, sizeof a0);
        memcpy(&a1, a + j + 4, sizeof a1);
        memcpy(&b0, b + j, sizeof b0);
        memcpy(&b1, b + j + 4, sizeof b1);
        s0 += a0 * b0;
        s1 += a1 * b1;
    }
    s0 += s1;
    double s = (s0[0] + s0[1]) + (s0[2] + s0[3]);
    for (; j < n; j++) s += a[j] * b[j];
    return s;
}
#else
LV_INLINE double lv_dot(const double *a, const double *b, int n)
{
    double p[8] = {0};
    int j = 0;
    for (; j + 8 <= n; j += 8)
        for (int u = 0; u < 8; u++) p[u] += a[j + u] * b[j + u];
    double s = ((p[0] + p[4]) + (p[1] + p[5])) + ((p[2] + p[6]) + (p[3] + p[7]));
    for (; j < n; j++) s += a[j] * b[j];
    return s;
}
#endif

/* y[0..n) += s x[0..n) */
LV_INLINE void lv_axpy(double *restrict y, double s, const double *restrict x, int n)
{
    for (int j = 0; j < n; j++) y[j] += s * x[j];
}

/* Solve V Z = Z in place for ncol right-hand columns (V: nr x nr, Z: nr x
 * ncol, row-major), Gaussian elimination with partial pivoting; V is
 * destroyed. Returns 0, or -1 on a zero pivot. */
LV_INLINE int lv_gauss(double *V, double *Z, int nr, int ncol)
{
    for (int col = 0; col < nr; col++) {
        int piv = col;
        for (int i = col + 1; i < nr; i++)
            if (fabs(V[i * nr + col]) > fabs(V[piv * nr + col])) piv = i;
        if (!(fabs(V[piv * nr + col]) > 0)) return -1;
        if (piv != col) {
            for (int j = 0; j < nr; j++) {
                double t = V[col * nr + j];
                V[col * nr + j] = V[piv * nr + j];
                V[piv * nr + j] = t;
            }
            for (int j = 0; j < ncol; j++) {
                double t = Z[col * ncol + j];
                Z[col * ncol + j] = Z[piv * ncol + j];
                Z[piv * ncol + j] = t;
            }
        }
        for (int i = 0; i < nr; i++) {
            if (i == col) continue;
            double f = V[i * nr + col] / V[col * nr + col];
            for (int j = col; j < nr; j++) V[i * nr + j] -= f * V[col * nr + j];
            for (int j = 0; j < ncol; j++) Z[i * ncol + j] -= f * Z[col * ncol + j];
        }
    }
    for (int i = 0; i < nr; i++)
        for (int j = 0; j < ncol; j++) Z[i * ncol + j] /= V[i * nr + i];
    return 0;
}

/* The recursion on prepared storage (see levinson_solve); returns 0 when
 * the recursion completed, -1 on a zero pivot. */
typedef struct lv_work {
    int L, nr, m;
    const double *A;                /* nr^2 x (2L - 1) */
    double *F, *B, *F2, *B2;        /* nr^2 x L each */
    double *x;                      /* nr m x L */
    double *Vf, *Vb, *Vt, *df, *db, *Kf, *Kb; /* nr^2 each */
    double *g;                      /* nr x m */
    const double *b;                /* right-hand sides, as given */
    int K;
} lv_work;

LV_INLINE int levinson_body(lv_work *w)
{
    const int L = w->L, nr = w->nr, m = w->m, R2 = nr * nr, K = w->K, W = 2 * L - 1;
    const double *A = w->A;
    double *F = w->F, *B = w->B, *F2 = w->F2, *B2 = w->B2, *x = w->x, *g = w->g;
#define LV_A(r, q) (A + (size_t)((r) * nr + (q)) * W + (L - 1))
#define LV_S(v, i, k) ((v) + (size_t)((i) * nr + (k)) * L)
    for (int i = 0; i < nr; i++) LV_S(F, i, i)[0] = LV_S(B, i, i)[0] = 1.0;
    for (int i = 0; i < nr; i++)
        for (int k = 0; k < nr; k++) w->Vf[i * nr + k] = w->Vb[i * nr + k] = LV_A(i, k)[0];
    for (int n = 0; n < L; n++) {
        if (n > 0) {
            /* df = sum_{j<n} A_{j-n} F_j, db = sum_{j<n} A_{j+1} B_j */
            for (int i = 0; i < nr; i++)
                for (int k = 0; k < nr; k++) {
                    double sf = 0, sb = 0;
                    for (int l = 0; l < nr; l++) {
                        sf += lv_dot(LV_A(i, l) - n, LV_S(F, l, k), n);
                        sb += lv_dot(LV_A(i, l) + 1, LV_S(B, l, k), n);
                    }
                    w->df[i * nr + k] = sf;
                    w->db[i * nr + k] = sb;
                }
            /* Kf = -Vb^{-1} df, Kb = -Vf^{-1} db */
            for (int i = 0; i < R2; i++) {
                w->Kf[i] = -w->df[i];
                w->Kb[i] = -w->db[i];
            }
            memcpy(w->Vt, w->Vb, sizeof(double) * (size_t)R2);
            if (lv_gauss(w->Vt, w->Kf, nr, nr)) return -1;
            memcpy(w->Vt, w->Vf, sizeof(double) * (size_t)R2);
            if (lv_gauss(w->Vt, w->Kb, nr, nr)) return -1;
            /* F' = [F; 0] + [0; B] Kf, B' = [0; B] + [F; 0] Kb */
            for (int i = 0; i < nr; i++)
                for (int k = 0; k < nr; k++) {
                    double *f2 = LV_S(F2, i, k), *b2 = LV_S(B2, i, k);
                    memcpy(f2, LV_S(F, i, k), sizeof(double) * (size_t)n);
                    f2[n] = 0;
                    b2[0] = 0;
                    memcpy(b2 + 1, LV_S(B, i, k), sizeof(double) * (size_t)n);
                    for (int l = 0; l < nr; l++) {
                        lv_axpy(f2 + 1, w->Kf[l * nr + k], LV_S(B, i, l), n);
                        lv_axpy(b2, w->Kb[l * nr + k], LV_S(F, i, l), n);
                    }
                }
            double *t = F;
            F = F2;
            F2 = t;
            t = B;
            B = B2;
            B2 = t;
            /* Vf += db Kf, Vb += df Kb */
            for (int i = 0; i < nr; i++)
                for (int k = 0; k < nr; k++) {
                    double sf = 0, sb = 0;
                    for (int l = 0; l < nr; l++) {
                        sf += w->db[i * nr + l] * w->Kf[l * nr + k];
                        sb += w->df[i * nr + l] * w->Kb[l * nr + k];
                    }
                    w->Vf[i * nr + k] += sf;
                    w->Vb[i * nr + k] += sb;
                }
        }
        /* g = y_n - sum_{j<n} A_{j-n} x_j */
        for (int r = 0; r < nr; r++)
            for (int c = 0; c < m; c++) {
                double e = 0;
                for (int q = 0; q < nr; q++) e += lv_dot(LV_A(r, q) - n, x + (size_t)(q * m + c) * L, n);
                g[r * m + c] = w->b[(size_t)c * K + (size_t)r * L + n] - e;
            }
        /* z = Vb^{-1} g, x_j += B_j z for j <= n */
        memcpy(w->Vt, w->Vb, sizeof(double) * (size_t)R2);
        if (lv_gauss(w->Vt, g, nr, m)) return -1;
        for (int q = 0; q < nr; q++)
            for (int c = 0; c < m; c++) {
                double *xq = x + (size_t)(q * m + c) * L;
                for (int l = 0; l < nr; l++) lv_axpy(xq, g[l * m + c], LV_S(B, q, l), n + 1);
            }
    }
    w->F = F;
    w->B = B;
    w->F2 = F2;
    w->B2 = B2;
    return 0;
}

/* |G x - b|^2 into *rn and |b|^2 into *bn:
 * (G x)[(r,a),c] = sum_q sum_b x_rq[b - a] x[(b,q),c] */
LV_INLINE void levinson_residual_body(const lv_work *w, double *rn, double *bn)
{
    const int L = w->L, nr = w->nr, m = w->m, K = w->K, W = 2 * L - 1;
    const double *A = w->A;
    double r2 = 0, b2 = 0;
    for (int c = 0; c < m; c++)
        for (int r = 0; r < nr; r++)
            for (int a = 0; a < L; a++) {
                double s = 0;
                for (int q = 0; q < nr; q++) s += lv_dot(LV_A(r, q) - a, w->x + (size_t)(q * m + c) * L, L);
                double bv = w->b[(size_t)c * K + (size_t)r * L + a];
                r2 += (s - bv) * (s - bv);
                b2 += bv * bv;
            }
    *rn = r2;
    *bn = b2;
#undef LV_A
#undef LV_S
}

static int levinson_base(lv_work *w, double *rn, double *bn)
{
    if (levinson_body(w)) return -1;
    levinson_residual_body(w, rn, bn);
    return 0;
}

#ifdef LV_DISPATCH
__attribute__((target("avx2"))) static int levinson_avx2(lv_work *w, double *rn, double *bn)
{
    if (levinson_body(w)) return -1;
    levinson_residual_body(w, rn, bn);
    return 0;
}
#endif


int duet_bss_levinson(const double *A, int L, int nr, double *b, int m)
{
    int K = nr * L, R2 = nr * nr;
    size_t ns = (size_t)R2 * L;
    double *pred = calloc(4 * ns, sizeof(double));
    double *x = calloc((size_t)nr * m * L, sizeof(double));
    double *small = malloc(sizeof(double) * ((size_t)7 * R2 + (size_t)nr * m));
    int result = -1;
    if (pred && x && small) {
        lv_work w = {L, nr, m, A, pred, pred + ns, pred + 2 * ns, pred + 3 * ns, x,
                     small, small + R2, small + 2 * R2, small + 3 * R2, small + 4 * R2, small + 5 * R2, small + 6 * R2,
                     small + 7 * R2, b, K};
        double rn = 0, bn = 0;
        int rc;
#ifdef LV_DISPATCH
        __builtin_cpu_init();
        rc = __builtin_cpu_supports("avx2") ? levinson_avx2(&w, &rn, &bn) : levinson_base(&w, &rn, &bn);
#else
        rc = levinson_base(&w, &rn, &bn);
#endif
        if (rc == 0 && isfinite(rn) && rn <= 1e-20 * bn) {
            for (int c = 0; c < m; c++)
                for (int r = 0; r < nr; r++)
                    for (int a = 0; a < L; a++) b[(size_t)c * K + (size_t)r * L + a] = x[(size_t)(r * m + c) * L + a];
            result = 0;
        }
    }
    free(pred);
    free(x);
    free(small);
    return result;
}
