/* separation/separate_file.c: file in, stem files out (separate_file.h). */
#include "separate_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/progress.h"
#include "../common/rng.h"

#define READ_FRAMES 65536

void duet_separate_opts_default(duet_separate_opts *o)
{
    memset(o, 0, sizeof *o);
    o->format.container = -1;
    o->shifts = 1;
}

static int cancelled(const duet_separate_opts *o) { return o->cancel && *o->cancel; }

typedef struct outs {
    duet_audio_writer *w[2];
    const char *path[2];
    duet_separate_result *res;
    const duet_separate_opts *o;
    duet_status st; /* failure inside the stream callback */
    duet_err err;
} outs;

static void outs_abort(outs *s)
{
    for (int k = 0; k < 2; k++) {
        duet_audio_writer_abort(s->w[k]);
        s->w[k] = NULL;
    }
}

static duet_status outs_open(outs *s, int channels, int rate, int in_bits, int in_float, duet_err *err)
{
    const int like = duet_audio_bits_like(in_bits, in_float);
    const duet_separate_hooks *h = &s->o->hooks;
    if (h->start) {
        duet_status st = h->start(h->user, channels, rate, err);
        if (st) {
            s->res->failed = 2;
            return st;
        }
    }
    for (int k = 0; k < 2; k++) {
        if (!s->path[k]) continue;
        duet_audio_outfmt f;
        duet_status st = duet_audio_outfmt_resolve(s->path[k], &s->o->format, like, &f, err);
        if (!st) {
            s->res->format[k] = f;
            st = duet_audio_writer_open_fmt(s->path[k], channels, rate, &f, &s->w[k], err);
        }
        if (st) {
            s->res->failed = k;
            outs_abort(s);
            return st;
        }
    }
    return DUET_OK;
}

static duet_status outs_write(outs *s, const float *const *mix, const float *const *voc, const float *const *acc,
                              int64_t n, duet_err *err)
{
    const float *const *stem[2] = {voc, acc};
    for (int k = 0; k < 2; k++) {
        if (!s->w[k]) continue;
        duet_status st = duet_audio_writer_write(s->w[k], stem[k], n, err);
        if (st) {
            s->res->failed = k;
            return st;
        }
    }
    const duet_separate_hooks *h = &s->o->hooks;
    if (h->block) {
        duet_status st = h->block(h->user, mix, voc, acc, n, err);
        if (st) {
            s->res->failed = 2;
            return st;
        }
    }
    return DUET_OK;
}

/* The hook's file, then vocals, then accompaniment (vocals removed again if
 * the accompaniment fails; the hook's file too). */
static duet_status outs_commit(outs *s, duet_err *err)
{
    const duet_separate_hooks *h = &s->o->hooks;
    if (h->finish) {
        duet_status st = h->finish(h->user, err);
        if (st) {
            s->res->failed = 2;
            outs_abort(s);
            return st;
        }
    }
    for (int k = 0; k < 2; k++) {
        if (!s->w[k]) continue;
        s->res->clipped[k] = duet_audio_writer_clipped(s->w[k]);
        duet_audio_writer *w = s->w[k];
        s->w[k] = NULL;
        duet_status st = duet_audio_writer_commit(w, err);
        if (st) {
            s->res->failed = k;
            outs_abort(s);
            if (k == 1 && s->path[0] && strcmp(s->path[0], "-")) remove(s->path[0]);
            if (h->undo) h->undo(h->user);
            return st;
        }
    }
    return DUET_OK;
}


static duet_status run_streaming(const char *in_path, outs *s, duet_err *err)
{
    const duet_separate_opts *o = s->o;
    duet_separate_result *res = s->res;
    duet_audio_reader *rd = NULL;
    duet_status st = duet_audio_reader_open(in_path, o->read, &rd, err);
    if (st) return st;
    const duet_audio_reader_info *info = duet_audio_reader_get_info(rd);
    const int C = info->channels;
    res->channels = C;
    res->sample_rate = info->sample_rate;
    duet_sep_stream *ss = NULL;
    /* one block of input, and one of each output pulled back */
    float *buf = malloc(sizeof(float) * (size_t)C * READ_FRAMES * 4);
    float **chp = calloc((size_t)C * 4, sizeof *chp);
    if (!buf || !chp) {
        st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int c = 0; c < 4 * C; c++) chp[c] = buf + (size_t)c * READ_FRAMES;
    float **om = chp + C, **ov = chp + 2 * C, **oa = chp + 3 * C;
    if (info->frames == 0) {
        st = duet_err_set(err, DUET_ERR_EMPTY, "no samples to separate");
        goto out;
    }
    st = outs_open(s, C, info->sample_rate, info->bits, info->is_float, err);
    if (st) goto out;
    res->failed = -1;
    st = duet_sep_stream_new(o->sep, o->state, C, info->sample_rate, &ss, err);
    if (st) goto out;
    int64_t frames_out = 0;
    for (int done = 0; !st;) {
        if (cancelled(o)) {
            st = duet_err_set(err, DUET_ERR_CANCELLED, "cancelled");
            break;
        }
        if (!done) {
            int64_t got = 0;
            st = duet_audio_reader_read(rd, chp, READ_FRAMES, &got, err);
            if (st) break;
            if (got > 0) {
                st = duet_sep_stream_feed(ss, (const float *const *)chp, got, err);
                if (o->hooks.progress) o->hooks.progress(o->hooks.user, duet_sep_stream_frames_in(ss), info->frames);
            } else {
                done = 1;
                st = duet_sep_stream_frames_in(ss) == 0 ? duet_err_set(err, DUET_ERR_EMPTY, "no samples to separate")
                                                         : duet_sep_stream_finish(ss, err);
            }
            if (st) break;
        }
        /* pull whatever is ready */
        for (;;) {
            int64_t n = 0;
            st = duet_sep_stream_get(ss, om, ov, oa, READ_FRAMES, &n, err);
            if (st || n == 0) break;
            st = outs_write(s, (const float *const *)om, (const float *const *)ov, (const float *const *)oa, n, err);
            if (st) break;
            frames_out += n;
        }
        if (done) break;
    }
    if (!st && cancelled(o)) st = duet_err_set(err, DUET_ERR_CANCELLED, "cancelled");
    if (!st) {
        res->frames = frames_out;
        res->failed = -1;
        st = outs_commit(s, err);
    }
out:
    if (st) outs_abort(s);
    duet_sep_stream_free(ss);
    duet_audio_reader_close(rd);
    free(buf);
    free(chp);
    return st;
}

/* One whole-song separation of mix delayed by `shift` frames, added into
 * (v, a) with weight w. */
static duet_status run_shifted(const duet_separate_opts *o, const duet_audio *mix, int64_t shift, float w,
                               duet_audio *v, duet_audio *a, duet_err *err)
{
    duet_audio pad, pv, pa;
    memset(&pv, 0, sizeof pv);
    memset(&pa, 0, sizeof pa);
    duet_status st = duet_audio_alloc(&pad, mix->channels, mix->frames + shift, mix->sample_rate);
    if (st) return duet_err_set(err, st, "out of memory");
    for (int c = 0; c < mix->channels; c++)
        memcpy(pad.ch[c] + shift, mix->ch[c], sizeof(float) * (size_t)mix->frames);
    duet_sep_input in = {&pad, NULL, NULL};
    st = o->sep->run(o->state, &in, &pv, &pa, err);
    if (!st && (pv.frames != pad.frames || pa.frames != pad.frames || pv.channels != mix->channels))
        st = duet_err_set(err, DUET_ERR_INTERNAL, "separator %s returned stems of the wrong length", o->sep->name);
    if (!st)
        for (int c = 0; c < mix->channels; c++)
            for (int64_t i = 0; i < mix->frames; i++) {
                v->ch[c][i] += w * pv.ch[c][i + shift];
                a->ch[c][i] += w * pa.ch[c][i + shift];
            }
    duet_audio_free(&pad);
    duet_audio_free(&pv);
    duet_audio_free(&pa);
    return st;
}

static duet_status run_whole(const char *in_path, outs *s, duet_err *err)
{
    const duet_separate_opts *o = s->o;
    duet_separate_result *res = s->res;
    duet_audio mix, v, a;
    memset(&v, 0, sizeof v);
    memset(&a, 0, sizeof a);
    duet_status st;
    st = duet_audio_read(in_path, o->read, &mix, NULL, err);
    if (st) return st;
    res->channels = mix.channels;
    res->sample_rate = mix.sample_rate;
    /* the input's precision, from the decoder's format name ("WAV 24-bit PCM") */
    int bits = 16, is_float = 0;
    if (strstr(mix.format, "float") || strstr(mix.format, "32-bit")) bits = 32, is_float = 1;
    else if (strstr(mix.format, "24-bit")) bits = 24;
    if (mix.frames == 0) {
        st = duet_err_set(err, DUET_ERR_EMPTY, "no samples to separate");
        goto out;
    }
    duet_sep_input in = {&mix, NULL, NULL};
    st = duet_sep_check_input(o->sep, &in, err);
    if (st) goto out;
    st = outs_open(s, mix.channels, mix.sample_rate, bits, is_float, err);
    if (st) goto out;
    res->failed = -1;
    const int shifts = o->shifts > 1 ? o->shifts : 1;
    if (shifts == 1) {
        st = o->sep->run(o->state, &in, &v, &a, err);
    } else {
        st = duet_audio_alloc(&v, mix.channels, mix.frames, mix.sample_rate);
        if (!st) st = duet_audio_alloc(&a, mix.channels, mix.frames, mix.sample_rate);
        if (st) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        duet_rng rng;
        duet_rng_seed(&rng, o->seed);
        double ms = o->max_shift_seconds > 0 ? o->max_shift_seconds : 0.5;
        uint64_t max_shift = (uint64_t)(ms * mix.sample_rate);
        if (max_shift < 1) max_shift = 1;
        for (int k = 0; !st && k < shifts; k++) {
            if (cancelled(o)) {
                st = duet_err_set(err, DUET_ERR_CANCELLED, "cancelled");
                break;
            }
            int64_t off = (int64_t)duet_rng_below(&rng, max_shift);
            st = run_shifted(o, &mix, off, 1.0f / (float)shifts, &v, &a, err);
            if (o->hooks.progress) o->hooks.progress(o->hooks.user, (k + 1) * mix.frames / shifts, mix.frames);
        }
    }
    if (st) goto out;
    if (cancelled(o)) {
        st = duet_err_set(err, DUET_ERR_CANCELLED, "cancelled");
        goto out;
    }
    st = outs_write(s, (const float *const *)mix.ch, (const float *const *)v.ch, (const float *const *)a.ch,
                    mix.frames, err);
    if (st) goto out;
    res->frames = mix.frames;
    res->failed = -1;
    st = outs_commit(s, err);
out:
    if (st) outs_abort(s);
    duet_audio_free(&mix);
    duet_audio_free(&v);
    duet_audio_free(&a);
    return st;
}

duet_status duet_separate_file(const char *in_path, const char *const out_paths[2], const duet_separate_opts *o,
                               duet_separate_result *res, duet_err *err)
{
    duet_separate_result local;
    if (!res) res = &local;
    memset(res, 0, sizeof *res);
    res->failed = -1;
    if (!in_path || !o || !o->sep || !out_paths) return duet_err_set(err, DUET_ERR_ARG, "missing arguments");
    if (o->sep->needs_references)
        return duet_err_set(err, DUET_ERR_ARG, "method %s needs the reference stems (evaluation only)", o->sep->name);
    if (o->shifts < 0 || o->shifts > 100) return duet_err_set(err, DUET_ERR_ARG, "shifts %d: expected 0 to 100", o->shifts);
    if (!out_paths[0] && !out_paths[1]) return duet_err_set(err, DUET_ERR_ARG, "no output to write");
    /* a name that contradicts the format is refused before any work */
    for (int k = 0; k < 2; k++) {
        duet_audio_outfmt f;
        if (out_paths[k] && duet_audio_outfmt_resolve(out_paths[k], &o->format, 16, &f, err) != DUET_OK) {
            res->failed = k;
            return err ? err->status : DUET_ERR_ARG;
        }
    }
    outs s;
    memset(&s, 0, sizeof s);
    s.path[0] = out_paths[0];
    s.path[1] = out_paths[1];
    s.res = res;
    s.o = o;
    double t0 = duet_now();
    /* one pipeline: the separator's stream (the model's bounded-memory one,
     * or the whole-song fallback); shifts need the whole song */
    duet_status st = o->shifts <= 1 ? run_streaming(in_path, &s, err) : run_whole(in_path, &s, err);
    res->streamed = o->shifts <= 1 && o->sep->stream_new != NULL;
    res->seconds = duet_now() - t0;
    return st;
}
