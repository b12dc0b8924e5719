/* separation/sdr.c: SI-SDR, MDX SDR and the GNSDR accumulator (see sdr.h). */
#include "sdr.h"

#include <math.h>

static duet_status scan(const float *const *ref, const float *const *est, int nchan, int64_t n, double *ss,
                        double *ee, double *se, double *dd, duet_err *err)
{
    if (nchan < 1 || n < 1) return duet_err_set(err, DUET_ERR_ARG, "SDR: empty signals");
    double a = 0, b = 0, c = 0, d = 0;
    for (int ch = 0; ch < nchan; ch++)
        for (int64_t i = 0; i < n; i++) {
            double s = ref[ch][i], e = est[ch][i];
            if (!isfinite(s) || !isfinite(e))
                return duet_err_set(err, DUET_ERR_NAN, "SDR: non-finite sample in channel %d at %lld", ch, (long long)i);
            a += s * s;
            b += e * e;
            c += s * e;
            d += (s - e) * (s - e);
        }
    *ss = a;
    *ee = b;
    *se = c;
    *dd = d;
    return DUET_OK;
}

duet_status duet_si_sdr(const float *const *ref, const float *const *est, int nchan, int64_t n, double *out,
                        duet_err *err)
{
    double ss, ee, se, dd;
    duet_status st = scan(ref, est, nchan, n, &ss, &ee, &se, &dd, err);
    if (st) return st;
    if (ss == 0) return duet_err_set(err, DUET_ERR_EMPTY, "SI-SDR: the reference is silent (undefined)");
    if (ee == 0) return duet_err_set(err, DUET_ERR_EMPTY, "SI-SDR: the estimate is silent (undefined)");
    double alpha = se / ss;
    double target = alpha * alpha * ss;
    /* |alpha s - e|^2 = alpha^2 ss - 2 alpha se + ee */
    double noise = target - 2 * alpha * se + ee;
    if (noise < 0) noise = 0;
    if (target == 0) {
        *out = -INFINITY;
        return DUET_OK;
    }
    *out = noise == 0 ? INFINITY : 10.0 * log10(target / noise);
    return DUET_OK;
}

duet_status duet_mdx_sdr(const float *const *ref, const float *const *est, int nchan, int64_t n, double *out,
                         duet_err *err)
{
    double ss, ee, se, dd;
    duet_status st = scan(ref, est, nchan, n, &ss, &ee, &se, &dd, err);
    if (st) return st;
    *out = 10.0 * log10((ss + 1e-7) / (dd + 1e-7));
    return DUET_OK;
}

void duet_gnsdr_add(duet_gnsdr *g, double sdr_est, double sdr_mix, double sir, double sar, double weight)
{
    if (!(weight > 0)) return;
    double nsdr = sdr_est - sdr_mix;
    g->n++;
    if (isfinite(nsdr)) {
        g->w[0] += weight;
        g->nsdr += weight * nsdr;
    } else
        g->skipped++;
    if (isfinite(sir)) {
        g->w[1] += weight;
        g->sir += weight * sir;
    }
    if (isfinite(sar)) {
        g->w[2] += weight;
        g->sar += weight * sar;
    }
}

double duet_gnsdr_value(const duet_gnsdr *g) { return g->w[0] > 0 ? g->nsdr / g->w[0] : NAN; }
double duet_gsir_value(const duet_gnsdr *g) { return g->w[1] > 0 ? g->sir / g->w[1] : NAN; }
double duet_gsar_value(const duet_gnsdr *g) { return g->w[2] > 0 ? g->sar / g->w[2] : NAN; }
