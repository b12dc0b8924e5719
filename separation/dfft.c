/* separation/dfft.c: iterative radix-2 complex FFT in double precision with a
 * precomputed twiddle table (each twiddle from cos/sin directly, no
 * recurrence, so errors stay at a few ulp), and the standard packing of a
 * real signal of size m into a complex signal of size m/2. */
#include "dfft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct duet_dfft {
    int m;        /* real size */
    int h;        /* complex size m/2 */
    double *tw;   /* h/2 complex twiddles e^{-2 pi i k / h} */
    double *rt;   /* m/4+1 complex twiddles e^{-2 pi i k / m} for the real split */
    int *rev;     /* bit reversal of h */
};

duet_status duet_dfft_new(int m, duet_dfft **out, duet_err *err)
{
    *out = NULL;
    if (m < 4 || m > (1 << 28) || (m & (m - 1)))
        return duet_err_set(err, DUET_ERR_ARG, "dfft: size %d is not a power of two in [4, 2^28]", m);
    duet_dfft *p = calloc(1, sizeof *p);
    if (!p) return duet_err_set(err, DUET_ERR_NOMEM, "dfft: out of memory");
    p->m = m;
    p->h = m / 2;
    int h = p->h;
    p->tw = malloc(sizeof(double) * 2 * (size_t)(h / 2 + 1));
    p->rt = malloc(sizeof(double) * 2 * (size_t)(m / 2 + 1));
    p->rev = malloc(sizeof(int) * (size_t)h);
    if (!p->tw || !p->rt || !p->rev) {
        duet_dfft_free(p);
        return duet_err_set(err, DUET_ERR_NOMEM, "dfft: out of memory");
    }
    const double pi = 3.14159265358979323846264338327950288;
    for (int k = 0; k <= h / 2; k++) {
        double a = -2.0 * pi * k / h;
        p->tw[2 * k] = cos(a);
        p->tw[2 * k + 1] = sin(a);
    }
    for (int k = 0; k <= m / 2; k++) {
        double a = -2.0 * pi * k / m;
        p->rt[2 * k] = cos(a);
        p->rt[2 * k + 1] = sin(a);
    }
    int bits = 0;
    while ((1 << bits) < h) bits++;
    for (int i = 0; i < h; i++) {
        int r = 0;
        for (int b = 0; b < bits; b++)
            if (i & (1 << b)) r |= 1 << (bits - 1 - b);
        p->rev[i] = r;
    }
    *out = p;
    return DUET_OK;
}

void duet_dfft_free(duet_dfft *p)
{
    if (!p) return;
    free(p->tw);
    free(p->rt);
    free(p->rev);
    free(p);
}

int duet_dfft_size(const duet_dfft *p) { return p->m; }

/* In-place complex FFT of size h on interleaved data; sign -1 forward, +1
 * inverse (unscaled). */
static void cfft(const duet_dfft *p, double *z, int sign)
{
    int h = p->h;
    for (int i = 0; i < h; i++) {
        int r = p->rev[i];
        if (r > i) {
            double t0 = z[2 * i], t1 = z[2 * i + 1];
            z[2 * i] = z[2 * r];
            z[2 * i + 1] = z[2 * r + 1];
            z[2 * r] = t0;
            z[2 * r + 1] = t1;
        }
    }
    for (int len = 2; len <= h; len <<= 1) {
        int half = len >> 1, step = h / len;
        for (int s = 0; s < h; s += len) {
            double *a = z + 2 * s, *b = z + 2 * (s + half);
            for (int k = 0; k < half; k++) {
                double wr = p->tw[2 * k * step], wi = sign < 0 ? p->tw[2 * k * step + 1] : -p->tw[2 * k * step + 1];
                double br = b[2 * k] * wr - b[2 * k + 1] * wi;
                double bi = b[2 * k] * wi + b[2 * k + 1] * wr;
                double ar = a[2 * k], ai = a[2 * k + 1];
                a[2 * k] = ar + br;
                a[2 * k + 1] = ai + bi;
                b[2 * k] = ar - br;
                b[2 * k + 1] = ai - bi;
            }
        }
    }
}

void duet_dfft_forward(const duet_dfft *p, const double *x, double *spec)
{
    int h = p->h;
    /* z[n] = x[2n] + i x[2n+1], transformed in the first h complex slots */
    memcpy(spec, x, sizeof(double) * (size_t)p->m);
    cfft(p, spec, -1);
    double z0r = spec[0], z0i = spec[1];
    /* split: X[k] = E[k] + W^k O[k], E = (Z[k] + conj Z[h-k]) / 2,
     * O = (Z[k] - conj Z[h-k]) / (2i); process pairs (k, h-k) together */
    for (int k = 1; k <= h / 2; k++) {
        int q = h - k;
        double ar = spec[2 * k], ai = spec[2 * k + 1];
        double br = spec[2 * q], bi = spec[2 * q + 1];
        double er = 0.5 * (ar + br), ei = 0.5 * (ai - bi);
        double or_ = 0.5 * (ai + bi), oi = -0.5 * (ar - br);
        double wr = p->rt[2 * k], wi = p->rt[2 * k + 1];
        double tr = wr * or_ - wi * oi, ti = wr * oi + wi * or_;
        double xkr = er + tr, xki = ei + ti;
        /* partner q: E[q] = conj E[k], O[q] = conj O[k], W^q = -conj W^k */
        double wqr = p->rt[2 * q], wqi = p->rt[2 * q + 1];
        double tqr = wqr * or_ - wqi * (-oi), tqi = wqr * (-oi) + wqi * or_;
        double xqr = er + tqr, xqi = -ei + tqi;
        spec[2 * k] = xkr;
        spec[2 * k + 1] = xki;
        if (q != k) {
            spec[2 * q] = xqr;
            spec[2 * q + 1] = xqi;
        }
    }
    spec[0] = z0r + z0i;
    spec[1] = 0;
    spec[2 * h] = z0r - z0i;
    spec[2 * h + 1] = 0;
}

void duet_dfft_inverse(const duet_dfft *p, double *spec, double *x)
{
    int h = p->h;
    /* Z[k] = E[k] + i O[k], E = (X[k] + conj X[h-k]) / 2,
     * O = (X[k] - conj X[h-k]) conj(W^k) / 2 */
    double x0 = spec[0], xh = spec[2 * h];
    for (int k = 1; k <= h / 2; k++) {
        int q = h - k;
        double ar = spec[2 * k], ai = spec[2 * k + 1];
        double br = spec[2 * q], bi = spec[2 * q + 1];
        double er = 0.5 * (ar + br), ei = 0.5 * (ai - bi);
        double dr = 0.5 * (ar - br), di = 0.5 * (ai + bi);
        double wr = p->rt[2 * k], wi = -p->rt[2 * k + 1];
        double or_ = dr * wr - di * wi, oi = dr * wi + di * wr;
        /* Z[k] = E + i O */
        double zkr = er - oi, zki = ei + or_;
        /* for q: E[q] = conj E[k]; D[q] = X[q] - conj X[k] = -conj D[k];
         * O[q] = D[q] conj(W^q) with W^q = -conj W^k: O[q] = conj(D[k] conj W^k) = conj O[k] */
        double zqr = er + oi, zqi = -ei + or_;
        spec[2 * k] = zkr;
        spec[2 * k + 1] = zki;
        if (q != k) {
            spec[2 * q] = zqr;
            spec[2 * q + 1] = zqi;
        }
    }
    spec[0] = 0.5 * (x0 + xh);
    spec[1] = 0.5 * (x0 - xh);
    cfft(p, spec, +1);
    double s = 1.0 / h;
    for (int i = 0; i < p->m; i++) x[i] = spec[i] * s;
}
