/* separation/wiener.c: multichannel Wiener EM post-filter (wiener.h). */
#include "wiener.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WIENER_EPS 1e-10 /* floor of the power spectral densities */
#define MAX_CH 64        /* channels (stack arrays) */

/* In place inverse of the C x C complex matrix a (row-major, interleaved
 * re/im) by Gauss-Jordan with partial pivoting; w: 2 * C * C * 2 doubles. */
static void cinv(double *a, int C, double *w)
{
    if (C == 1) {
        double re = a[0], im = a[1], d = re * re + im * im;
        if (d < 1e-300) d = 1e-300;
        a[0] = re / d;
        a[1] = -im / d;
        return;
    }
    int n2 = 2 * C;
    /* augmented [a | I], C rows of 2C complex */
    for (int i = 0; i < C; i++)
        for (int j = 0; j < n2; j++) {
            double *e = w + ((size_t)i * n2 + j) * 2;
            if (j < C) {
                e[0] = a[((size_t)i * C + j) * 2];
                e[1] = a[((size_t)i * C + j) * 2 + 1];
            } else {
                e[0] = (j - C == i);
                e[1] = 0;
            }
        }
    for (int col = 0; col < C; col++) {
        int piv = col;
        double best = -1;
        for (int i = col; i < C; i++) {
            double *e = w + ((size_t)i * n2 + col) * 2;
            double mag = e[0] * e[0] + e[1] * e[1];
            if (mag > best) {
                best = mag;
                piv = i;
            }
        }
        if (piv != col)
            for (int j = 0; j < n2; j++)
                for (int r = 0; r < 2; r++) {
                    double t = w[((size_t)col * n2 + j) * 2 + r];
                    w[((size_t)col * n2 + j) * 2 + r] = w[((size_t)piv * n2 + j) * 2 + r];
                    w[((size_t)piv * n2 + j) * 2 + r] = t;
                }
        double *p = w + ((size_t)col * n2 + col) * 2;
        double d = p[0] * p[0] + p[1] * p[1];
        if (d < 1e-300) d = 1e-300;
        double ir = p[0] / d, ii = -p[1] / d;
        for (int j = 0; j < n2; j++) {
            double *e = w + ((size_t)col * n2 + j) * 2;
            double re = e[0] * ir - e[1] * ii, im = e[0] * ii + e[1] * ir;
            e[0] = re;
            e[1] = im;
        }
        for (int i = 0; i < C; i++) {
            if (i == col) continue;
            double *f = w + ((size_t)i * n2 + col) * 2;
            double fr = f[0], fi = f[1];
            if (fr == 0 && fi == 0) continue;
            for (int j = 0; j < n2; j++) {
                double *e = w + ((size_t)i * n2 + j) * 2, *q = w + ((size_t)col * n2 + j) * 2;
                e[0] -= fr * q[0] - fi * q[1];
                e[1] -= fr * q[1] + fi * q[0];
            }
        }
    }
    for (int i = 0; i < C; i++)
        for (int j = 0; j < C; j++) {
            a[((size_t)i * C + j) * 2] = w[((size_t)i * n2 + C + j) * 2];
            a[((size_t)i * C + j) * 2 + 1] = w[((size_t)i * n2 + C + j) * 2 + 1];
        }
}

duet_status duet_wiener_em(const float *X, const float *G, int64_t n, int C, int K, int iters, float *Y,
                             duet_err *err)
{
    if (!X || !G || !Y || n < 1 || C < 1 || C > MAX_CH || K < 1 || iters < 1)
        return duet_err_set(err, DUET_ERR_ARG, "wiener: bad arguments (%lld frames, %d channels, %d bins, %d iterations)",
                            (long long)n, C, K, iters);
    size_t N = (size_t)n * C * K;
    double *y = malloc(sizeof(double) * N * 2 * 2); /* two sources */
    double *v = malloc(sizeof(double) * (size_t)n * K * 2);
    double *R = malloc(sizeof(double) * (size_t)K * C * C * 2 * 2);
    double *wt = malloc(sizeof(double) * (size_t)K * 2);
    double *cx = malloc(sizeof(double) * (size_t)C * C * 2 * 3);
    double *wk = malloc(sizeof(double) * (size_t)C * C * 2 * 2 + 16);
    if (!y || !v || !R || !wt || !cx || !wk) {
        free(y);
        free(v);
        free(R);
        free(wt);
        free(cx);
        free(wk);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory (Wiener filter)");
    }
    double peak = 0;
    for (size_t i = 0; i < N; i++) {
        double a = hypot(X[2 * i], X[2 * i + 1]);
        if (a > peak) peak = a;
    }
    double scale = peak / 10 > 1 ? peak / 10 : 1;
    double *yv = y, *ya = y + 2 * N;
    for (size_t i = 0; i < N; i++) {
        double g = G[i], xr = X[2 * i] / scale, xi = X[2 * i + 1] / scale;
        yv[2 * i] = g * xr;
        yv[2 * i + 1] = g * xi;
        ya[2 * i] = (1 - g) * xr;
        ya[2 * i + 1] = (1 - g) * xi;
    }
    const double reg = sqrt(WIENER_EPS);
    size_t CC2 = (size_t)C * C * 2;
    for (int it = 0; it < iters; it++) {
        /* local Gaussian model of each source */
        for (int j = 0; j < 2; j++) {
            double *yj = y + (size_t)j * 2 * N;
            double *Rj = R + (size_t)j * K * CC2;
            memset(Rj, 0, sizeof(double) * (size_t)K * CC2);
            for (int k = 0; k < K; k++) wt[k] = WIENER_EPS;
            for (int64_t t = 0; t < n; t++)
                for (int k = 0; k < K; k++) {
                    double p = 0;
                    for (int c = 0; c < C; c++) {
                        const double *e = yj + (((size_t)t * C + c) * K + k) * 2;
                        p += e[0] * e[0] + e[1] * e[1];
                    }
                    p /= C;
                    v[((size_t)t * K + k) * 2 + j] = p;
                    wt[k] += p;
                    double *Rk = Rj + (size_t)k * CC2;
                    for (int a = 0; a < C; a++) {
                        const double *ea = yj + (((size_t)t * C + a) * K + k) * 2;
                        for (int b = 0; b < C; b++) {
                            const double *eb = yj + (((size_t)t * C + b) * K + k) * 2;
                            /* ea * conj(eb) */
                            Rk[((size_t)a * C + b) * 2] += ea[0] * eb[0] + ea[1] * eb[1];
                            Rk[((size_t)a * C + b) * 2 + 1] += ea[1] * eb[0] - ea[0] * eb[1];
                        }
                    }
                }
            for (int k = 0; k < K; k++)
                for (size_t q = 0; q < CC2; q++) Rj[(size_t)k * CC2 + q] /= wt[k];
        }
        /* new estimates */
        double *Cxx = cx, *Gm = cx + CC2;
        for (int64_t t = 0; t < n; t++)
            for (int k = 0; k < K; k++) {
                double vv = v[((size_t)t * K + k) * 2], va = v[((size_t)t * K + k) * 2 + 1];
                const double *Rv = R + (size_t)k * CC2, *Ra = R + (size_t)K * CC2 + (size_t)k * CC2;
                for (size_t q = 0; q < CC2; q++) Cxx[q] = vv * Rv[q] + va * Ra[q];
                for (int c = 0; c < C; c++) Cxx[((size_t)c * C + c) * 2] += reg;
                cinv(Cxx, C, wk);
                double xs[2 * MAX_CH];
                for (int c = 0; c < C; c++) {
                    const float *xe = X + (((size_t)t * C + c) * K + k) * 2;
                    xs[2 * c] = xe[0] / scale;
                    xs[2 * c + 1] = xe[1] / scale;
                }
                for (int j = 0; j < 2; j++) {
                    const double *Rj = j ? Ra : Rv;
                    double vj = j ? va : vv;
                    /* Gm = vj Rj Cxx^-1 */
                    for (int a = 0; a < C; a++)
                        for (int b = 0; b < C; b++) {
                            double re = 0, im = 0;
                            for (int q = 0; q < C; q++) {
                                const double *r = Rj + ((size_t)a * C + q) * 2, *ci = Cxx + ((size_t)q * C + b) * 2;
                                re += r[0] * ci[0] - r[1] * ci[1];
                                im += r[0] * ci[1] + r[1] * ci[0];
                            }
                            Gm[((size_t)a * C + b) * 2] = vj * re;
                            Gm[((size_t)a * C + b) * 2 + 1] = vj * im;
                        }
                    double *yj = y + (size_t)j * 2 * N;
                    for (int a = 0; a < C; a++) {
                        double re = 0, im = 0;
                        for (int b = 0; b < C; b++) {
                            const double *g = Gm + ((size_t)a * C + b) * 2;
                            re += g[0] * xs[2 * b] - g[1] * xs[2 * b + 1];
                            im += g[0] * xs[2 * b + 1] + g[1] * xs[2 * b];
                        }
                        double *e = yj + (((size_t)t * C + a) * K + k) * 2;
                        e[0] = re;
                        e[1] = im;
                    }
                }
            }
    }
    for (size_t i = 0; i < N; i++) {
        Y[2 * i] = (float)(yv[2 * i] * scale);
        Y[2 * i + 1] = (float)(yv[2 * i + 1] * scale);
    }
    free(y);
    free(v);
    free(R);
    free(wt);
    free(cx);
    free(wk);
    return DUET_OK;
}
