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

/* ---- streaming ---- */

#define STREAM_IN_BLOCK 4096   /* input frames per src_process call */
#define STREAM_OUT_BLOCK 4096  /* output frames per callback (at most) */

struct duet_resampler {
    int channels, in_rate, out_rate, conv; /* conv < 0: linear; 0 rates equal: copy */
    double ratio;
    duet_resample_out_cb cb;
    void *user;
    SRC_STATE *src;
    float *inter_in, *inter_out; /* interleaved blocks for libsamplerate */
    float *planar;               /* STREAM_OUT_BLOCK * channels */
    float **ptrs;                /* channel pointers into planar */
    float *last;                 /* linear: the last input sample of each channel */
    int64_t total_in, emitted;
    int finished;
};

void duet_resampler_free(duet_resampler *r)
{
    if (!r) return;
    if (r->src) src_delete(r->src);
    free(r->inter_in);
    free(r->inter_out);
    free(r->planar);
    free(r->ptrs);
    free(r->last);
    free(r);
}

duet_status duet_resampler_new(int channels, int in_rate, int out_rate, duet_resample_quality q,
                               duet_resample_out_cb cb, void *user, duet_resampler **out, duet_err *err)
{
    if (!out) return duet_err_set(err, DUET_ERR_ARG, "no output handle given");
    *out = NULL;
    if (!cb || channels < 1 || channels > 1024 || in_rate <= 0 || out_rate <= 0)
        return duet_err_set(err, DUET_ERR_ARG, "invalid resampler arguments (%d channels, %d Hz -> %d Hz)",
                            channels, in_rate, out_rate);
    if ((double)out_rate > (double)in_rate * MAX_RATIO || (double)out_rate * MAX_RATIO < (double)in_rate)
        return duet_err_set(err, DUET_ERR_ARG, "ratio %d Hz -> %d Hz is beyond 1:%d", in_rate, out_rate, MAX_RATIO);
    int conv;
    switch (q) {
    case DUET_RESAMPLE_BEST: conv = SRC_SINC_BEST_QUALITY; break;
    case DUET_RESAMPLE_HIGH: conv = SRC_SINC_MEDIUM_QUALITY; break;
    case DUET_RESAMPLE_FAST: conv = SRC_SINC_FASTEST; break;
    case DUET_RESAMPLE_LINEAR: conv = -1; break;
    default: return duet_err_set(err, DUET_ERR_ARG, "unknown resampling quality %d", (int)q);
    }
    duet_resampler *r = calloc(1, sizeof *r);
    if (!r) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    r->channels = channels;
    r->in_rate = in_rate;
    r->out_rate = out_rate;
    r->conv = conv;
    r->ratio = (double)out_rate / (double)in_rate;
    r->cb = cb;
    r->user = user;
    size_t nc = (size_t)channels;
    r->planar = malloc(sizeof(float) * nc * STREAM_OUT_BLOCK);
    r->ptrs = malloc(sizeof(float *) * nc);
    r->last = calloc(nc, sizeof(float));
    if (!r->planar || !r->ptrs || !r->last) goto nomem;
    for (int c = 0; c < channels; c++) r->ptrs[c] = r->planar + (size_t)c * STREAM_OUT_BLOCK;
    if (conv >= 0 && in_rate != out_rate) {
        int e = 0;
        r->src = src_new(conv, channels, &e);
        if (!r->src) {
            duet_resampler_free(r);
            return duet_err_set(err, DUET_ERR_INTERNAL, "libsamplerate: %s", src_strerror(e));
        }
        r->inter_in = malloc(sizeof(float) * nc * STREAM_IN_BLOCK);
        r->inter_out = malloc(sizeof(float) * nc * STREAM_OUT_BLOCK);
        if (!r->inter_in || !r->inter_out) goto nomem;
    }
    *out = r;
    return DUET_OK;
nomem:
    duet_resampler_free(r);
    return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
}

/* Hand planar[.][0..n) to the callback. */
static duet_status emit_planar(duet_resampler *r, int64_t n, duet_err *err)
{
    if (n <= 0) return DUET_OK;
    r->emitted += n;
    if (r->cb(r->user, (const float *const *)r->ptrs, n) != 0)
        return duet_err_set(err, DUET_ERR_ARG, "resampler aborted by its callback");
    return DUET_OK;
}

/* Run libsamplerate over `n` interleaved frames in inter_in (end_of_input as
 * given), emitting output; with limit >= 0 emit no more than `limit` frames
 * in total. */
static duet_status src_run(duet_resampler *r, int64_t n, int eoi, int64_t limit, duet_err *err)
{
    const int nc = r->channels;
    const float *in = r->inter_in;
    long left = (long)n;
    for (;;) {
        SRC_DATA d;
        memset(&d, 0, sizeof d);
        d.data_in = in;
        d.input_frames = left;
        d.data_out = r->inter_out;
        d.output_frames = STREAM_OUT_BLOCK;
        d.src_ratio = r->ratio;
        d.end_of_input = eoi;
        int e = src_process(r->src, &d);
        if (e) return duet_err_set(err, DUET_ERR_INTERNAL, "libsamplerate: %s", src_strerror(e));
        in += (size_t)d.input_frames_used * (size_t)nc;
        left -= d.input_frames_used;
        int64_t gen = d.output_frames_gen;
        if (limit >= 0 && r->emitted + gen > limit) gen = limit - r->emitted;
        for (int64_t j = 0; j < gen; j++)
            for (int c = 0; c < nc; c++) r->ptrs[c][j] = r->inter_out[(size_t)j * (size_t)nc + (size_t)c];
        duet_status st = emit_planar(r, gen, err);
        if (st != DUET_OK) return st;
        if (limit >= 0 && r->emitted >= limit) return DUET_OK;
        if (left == 0 && (!eoi || d.output_frames_gen == 0)) return DUET_OK;
        if (d.input_frames_used == 0 && d.output_frames_gen == 0) return DUET_OK;
    }
}

/* Linear: emit every output j whose two neighbours exist among the input
 * seen so far (new chunk ch[.][0..n) follows total_in - n earlier frames);
 * at the end (final), every j below `limit`, with zeros past the input. */
static duet_status linear_run(duet_resampler *r, const float *const *ch, int64_t n, int final, int64_t limit,
                              duet_err *err)
{
    const int64_t before = r->total_in - n;
    int64_t cnt = 0;
    for (;;) {
        int64_t j = r->emitted + cnt;
        int64_t num = j * (int64_t)r->in_rate;
        int64_t i = num / r->out_rate;
        if (final ? j >= limit : i + 1 >= r->total_in) break;
        float f = (float)((double)(num % r->out_rate) / (double)r->out_rate);
        for (int c = 0; c < r->channels; c++) {
            float a = i < before ? r->last[c] : i < r->total_in ? ch[c][i - before] : 0.0f;
            float b = i + 1 < before ? r->last[c] : i + 1 < r->total_in ? ch[c][i + 1 - before] : 0.0f;
            r->ptrs[c][cnt] = a + f * (b - a);
        }
        if (++cnt == STREAM_OUT_BLOCK) {
            duet_status st = emit_planar(r, cnt, err);
            if (st != DUET_OK) return st;
            cnt = 0;
        }
    }
    return emit_planar(r, cnt, err);
}

duet_status duet_resampler_feed(duet_resampler *r, const float *const *ch, int64_t n, duet_err *err)
{
    if (!r || n < 0 || (n > 0 && !ch)) return duet_err_set(err, DUET_ERR_ARG, "invalid resampler arguments");
    if (r->finished) return duet_err_set(err, DUET_ERR_ARG, "resampler already finished");
    if (n == 0) return DUET_OK;
    const int nc = r->channels;
    if (r->in_rate == r->out_rate) {
        for (int64_t pos = 0; pos < n;) {
            int64_t m = n - pos < STREAM_OUT_BLOCK ? n - pos : STREAM_OUT_BLOCK;
            for (int c = 0; c < nc; c++) memcpy(r->ptrs[c], ch[c] + pos, sizeof(float) * (size_t)m);
            r->total_in += m;
            duet_status st = emit_planar(r, m, err);
            if (st != DUET_OK) return st;
            pos += m;
        }
        return DUET_OK;
    }
    if (r->conv < 0) {
        r->total_in += n;
        duet_status st = linear_run(r, ch, n, 0, 0, err);
        for (int c = 0; c < nc; c++) r->last[c] = ch[c][n - 1];
        return st;
    }
    for (int64_t pos = 0; pos < n;) {
        int64_t m = n - pos < STREAM_IN_BLOCK ? n - pos : STREAM_IN_BLOCK;
        for (int64_t i = 0; i < m; i++)
            for (int c = 0; c < nc; c++) r->inter_in[(size_t)i * (size_t)nc + (size_t)c] = ch[c][pos + i];
        r->total_in += m;
        duet_status st = src_run(r, m, 0, -1, err);
        if (st != DUET_OK) return st;
        pos += m;
    }
    return DUET_OK;
}

duet_status duet_resampler_finish(duet_resampler *r, duet_err *err)
{
    if (!r) return duet_err_set(err, DUET_ERR_ARG, "no resampler");
    if (r->finished) return DUET_OK;
    r->finished = 1;
    if (r->in_rate == r->out_rate) return DUET_OK;
    const int64_t total = scaled_len(r->total_in, r->out_rate, r->in_rate);
    if (r->emitted > total) return duet_err_set(err, DUET_ERR_INTERNAL, "resampler produced too many frames");
    duet_status st;
    if (r->conv < 0) {
        st = linear_run(r, NULL, 0, 1, total, err);
    } else {
        /* zeros after the input, as the whole-signal path, then cut at the exact length */
        int64_t pad = 64 + (int64_t)(8.0 / r->ratio);
        memset(r->inter_in, 0, sizeof(float) * (size_t)r->channels * STREAM_IN_BLOCK);
        st = DUET_OK;
        while (st == DUET_OK && pad > 0 && r->emitted < total) {
            int64_t m = pad < STREAM_IN_BLOCK ? pad : STREAM_IN_BLOCK;
            pad -= m;
            st = src_run(r, m, pad == 0, total, err);
        }
        /* keep the length exact regardless */
        while (st == DUET_OK && r->emitted < total) {
            int64_t m = total - r->emitted < STREAM_OUT_BLOCK ? total - r->emitted : STREAM_OUT_BLOCK;
            for (int c = 0; c < r->channels; c++) memset(r->ptrs[c], 0, sizeof(float) * (size_t)m);
            st = emit_planar(r, m, err);
        }
    }
    return st;
}
