/* features/loudness.c: EBU R128 loudness through libebur128 (see loudness.h). */
#include "loudness.h"

#include <ebur128.h>
#include <math.h>
#include <stdlib.h>

duet_status duet_loudness(const duet_audio *a, double *lufs, double *lra, duet_err *err)
{
    return duet_loudness_planar((const float *const *)a->ch, a->channels, a->frames, a->sample_rate,
                                lufs, lra, err);
}

duet_status duet_loudness_planar(const float *const *ch, int n_ch, int64_t n, int sample_rate,
                                 double *lufs, double *lra, duet_err *err)
{
    if (lufs) *lufs = DUET_LOUDNESS_FLOOR;
    if (lra) *lra = 0;
    if (n_ch < 1 || n_ch > 64 || sample_rate < 8000 || sample_rate > 2822400 || n < 0)
        return duet_err_set(err, DUET_ERR_ARG, "loudness: unsupported layout (%d channels at %d Hz)", n_ch,
                            sample_rate);
    if (n == 0) return DUET_OK;
    ebur128_state *st = ebur128_init((unsigned)n_ch, (unsigned long)sample_rate,
                                     EBUR128_MODE_I | EBUR128_MODE_LRA);
    if (!st) return duet_err_set(err, DUET_ERR_NOMEM, "loudness: cannot create meter");
    if (n_ch == 1) ebur128_set_channel(st, 0, EBUR128_DUAL_MONO);
    else {
        for (int c = 0; c < n_ch; c++) {
            int role;
            if (c == 0) role = EBUR128_LEFT;
            else if (c == 1) role = EBUR128_RIGHT;
            else if (c == 2 && (n_ch == 3 || n_ch == 5 || n_ch == 6)) role = EBUR128_CENTER;
            else if (n_ch == 6 && c == 3) role = EBUR128_UNUSED;
            else role = EBUR128_LEFT_SURROUND; /* surround weighting (+1.5 dB) */
            ebur128_set_channel(st, (unsigned)c, role);
        }
    }
    const int64_t chunk = 8192;
    float *buf = malloc(sizeof(float) * (size_t)chunk * (size_t)n_ch);
    if (!buf) {
        ebur128_destroy(&st);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    for (int64_t i = 0; i < n; i += chunk) {
        int64_t m = n - i < chunk ? n - i : chunk;
        for (int64_t j = 0; j < m; j++)
            for (int c = 0; c < n_ch; c++) {
                float v = ch[c][i + j];
                buf[j * n_ch + c] = isfinite(v) ? v : 0.0f;
            }
        if (ebur128_add_frames_float(st, buf, (size_t)m) != EBUR128_SUCCESS) {
            free(buf);
            ebur128_destroy(&st);
            return duet_err_set(err, DUET_ERR_INTERNAL, "loudness: libebur128 failed");
        }
    }
    free(buf);
    double l = -HUGE_VAL, r = 0;
    if (ebur128_loudness_global(st, &l) != EBUR128_SUCCESS) l = -HUGE_VAL;
    if (ebur128_loudness_range(st, &r) != EBUR128_SUCCESS) r = 0;
    ebur128_destroy(&st);
    if (!isfinite(l) || l < DUET_LOUDNESS_FLOOR) l = DUET_LOUDNESS_FLOOR;
    if (!isfinite(r) || r < 0) r = 0;
    if (lufs) *lufs = l;
    if (lra) *lra = r;
    return DUET_OK;
}
