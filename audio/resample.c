/* audio/resample.c: sample-rate conversion (see duet_audio_resample in audio.h).
 *
 * The sinc qualities go through libsamplerate (src_new / src_process, one
 * converter per channel). Its sinc converters are already time-aligned:
 * output sample j is the band-limited input evaluated at time j / ratio
 * (checked by tests/test_resample.c); at the end of the input they stop a
 * little short of round(n * ratio), so the input is followed by a block of
 * zeros (the same zero extension the converter assumes) and the output is cut
 * at exactly round(n * ratio) frames.
 *
 * libsamplerate's SRC_LINEAR lags by one input sample (it starts from a held
 * copy of the first sample), which cannot be removed by dropping whole output
 * samples; DUET_RESAMPLE_LINEAR therefore does the same linear interpolation
 * here, time-aligned: y[j] = x(j * in_rate / new_rate), zero beyond the end. */
#include "audio.h"

#include <samplerate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest ratio libsamplerate accepts either way (SRC_MAX_RATIO). */
#define MAX_RATIO 256

/* round(frames * num / den) for positive num, den without overflow. */
static int64_t scaled_len(int64_t frames, int num, int den)
{
    int64_t q = frames / den, r = frames % den;
    return q * num + (2 * r * (int64_t)num + den) / (2 * (int64_t)den);
}

static void resample_linear(const float *x, int64_t n, float *y, int64_t m, int in_rate, int new_rate)
{
    for (int64_t j = 0; j < m; j++) {
        /* exact integer position: j * in_rate / new_rate = i + f */
        int64_t num = j * (int64_t)in_rate;
        int64_t i = num / new_rate;
        float f = (float)((double)(num % new_rate) / (double)new_rate);
        float a = i < n ? x[i] : 0.0f;
        float b = i + 1 < n ? x[i + 1] : 0.0f;
        y[j] = a + f * (b - a);
    }
}

/* Convert one channel with libsamplerate. Returns 0 or a libsamplerate error code (> 0), -1 on memory. */
static int resample_sinc(const float *x, int64_t n, float *y, int64_t m, double ratio, int conv)
{
    int e = 0;
    SRC_STATE *st = src_new(conv, 1, &e);
    if (!st) return e ? e : -1;
    /* Zeros after the input: enough to cover the converter's look-ahead at the last output. */
    int64_t pad = 64 + (int64_t)(8.0 / ratio);
    float *zeros = calloc((size_t)pad, sizeof *zeros);
    if (!zeros) {
        src_delete(st);
        return -1;
    }
    int64_t out_pos = 0;
    for (int phase = 0; phase < 2 && out_pos < m && !e; phase++) {
        const float *in = phase == 0 ? x : zeros;
        int64_t left = phase == 0 ? n : pad;
        for (;;) {
            SRC_DATA d;
            memset(&d, 0, sizeof d);
            /* libsamplerate counts frames in long; feed at most 2^30 at a time */
            long in_now = left > (1L << 30) ? (1L << 30) : (long)left;
            int64_t out_room = m - out_pos;
            d.data_in = in;
            d.input_frames = in_now;
            d.data_out = y + out_pos;
            d.output_frames = out_room > (1L << 30) ? (1L << 30) : (long)out_room;
            d.src_ratio = ratio;
            d.end_of_input = phase == 1 && in_now == left;
            e = src_process(st, &d);
            if (e) break;
            in += d.input_frames_used;
            left -= d.input_frames_used;
            out_pos += d.output_frames_gen;
            if (out_pos >= m) break;
            if (phase == 0 && left == 0) break;
            if (phase == 1 && left == 0 && d.output_frames_gen == 0) break;
            if (d.input_frames_used == 0 && d.output_frames_gen == 0) break; /* no progress */
        }
    }
    /* Should not happen with the padding above; keep the length exact regardless. */
    for (; out_pos < m; out_pos++) y[out_pos] = 0.0f;
    free(zeros);
    src_delete(st);
    return e;
}

duet_status duet_audio_resample(const duet_audio *in, int new_rate, duet_resample_quality q, duet_audio *out,
                                duet_err *err)
{
    if (!out) return duet_err_set(err, DUET_ERR_ARG, "no output audio given");
    memset(out, 0, sizeof *out);
    if (!in || in->channels < 1 || in->frames < 0 || in->sample_rate <= 0 || (in->frames > 0 && !in->ch))
        return duet_err_set(err, DUET_ERR_ARG, "invalid input audio");
    if (new_rate <= 0) return duet_err_set(err, DUET_ERR_ARG, "target rate %d Hz is not valid", new_rate);
    if ((double)new_rate > (double)in->sample_rate * MAX_RATIO ||
        (double)new_rate * MAX_RATIO < (double)in->sample_rate)
        return duet_err_set(err, DUET_ERR_ARG, "ratio %d Hz -> %d Hz is beyond 1:%d", in->sample_rate, new_rate,
                            MAX_RATIO);
    int conv;
    switch (q) {
    case DUET_RESAMPLE_BEST: conv = SRC_SINC_BEST_QUALITY; break;
    case DUET_RESAMPLE_HIGH: conv = SRC_SINC_MEDIUM_QUALITY; break;
    case DUET_RESAMPLE_FAST: conv = SRC_SINC_FASTEST; break;
    case DUET_RESAMPLE_LINEAR: conv = -1; break;
    default: return duet_err_set(err, DUET_ERR_ARG, "unknown resampling quality %d", (int)q);
    }
    int64_t m = new_rate == in->sample_rate ? in->frames : scaled_len(in->frames, new_rate, in->sample_rate);
    duet_status st = duet_audio_alloc(out, in->channels, m, new_rate);
    if (st != DUET_OK) return duet_err_set(err, st, "out of memory for %lld frames", (long long)m);
    snprintf(out->format, sizeof out->format, "%s", in->format);
    if (new_rate == in->sample_rate) {
        for (int c = 0; c < in->channels; c++) memcpy(out->ch[c], in->ch[c], sizeof(float) * (size_t)m);
        return DUET_OK;
    }
    if (m == 0) return DUET_OK;
    const double ratio = (double)new_rate / (double)in->sample_rate;
    int fail = 0;
#pragma omp parallel for schedule(static) if (in->channels > 1) reduction(| : fail)
    for (int c = 0; c < in->channels; c++) {
        if (conv < 0) {
            resample_linear(in->ch[c], in->frames, out->ch[c], m, in->sample_rate, new_rate);
        } else {
            int e = resample_sinc(in->ch[c], in->frames, out->ch[c], m, ratio, conv);
            if (e) fail |= e < 0 ? 1 : 2;
        }
    }
    if (fail) {
        duet_audio_free(out);
        if (fail & 1) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        return duet_err_set(err, DUET_ERR_INTERNAL, "libsamplerate failed");
    }
    return DUET_OK;
}
