/* separation/sep_stream.c: the generic separator stream (separators.h):
 * the method's own stream, or the whole-song fallback that collects the
 * input and runs the method once at finish. Also the planar FIFO that
 * native streams use to turn callbacks into pulls. */
#include <stdlib.h>
#include <string.h>

#include "sep_fifo.h"
#include "separators.h"

struct duet_sep_stream {
    const duet_separator *sep;
    void *native;          /* the method's stream, or NULL for the fallback */
    int channels, rate;
    int finished;
    int64_t frames_in;
    /* fallback */
    duet_sep_fifo in;      /* the song so far (channel 0..C-1 of one FIFO) */
    duet_audio mix, v, a;  /* after finish */
    int64_t out_pos;
    void *state;
};

duet_status duet_sep_stream_new(const duet_separator *sep, void *state, int channels, int sample_rate,
                                duet_sep_stream **out, duet_err *err)
{
    *out = NULL;
    if (!sep || channels < 1 || channels > 64 || sample_rate <= 0)
        return duet_err_set(err, DUET_ERR_ARG, "stream: %d channels at %d Hz", channels, sample_rate);
    if (sep->needs_references)
        return duet_err_set(err, DUET_ERR_ARG, "method %s needs the reference stems (evaluation only)", sep->name);
    duet_sep_stream *s = calloc(1, sizeof *s);
    if (!s) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    s->sep = sep;
    s->state = state;
    s->channels = channels;
    s->rate = sample_rate;
    if (sep->stream_new && sep->stream_feed && sep->stream_finish && sep->stream_get && sep->stream_free) {
        duet_status st = sep->stream_new(state, channels, sample_rate, &s->native, err);
        if (st) {
            free(s);
            return st;
        }
    } else if (duet_sep_fifo_init(&s->in, channels) != 0) {
        free(s);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    *out = s;
    return DUET_OK;
}

int duet_sep_stream_native(const duet_sep_stream *s) { return s && s->native; }
int64_t duet_sep_stream_frames_in(const duet_sep_stream *s) { return s ? s->frames_in : 0; }

duet_status duet_sep_stream_feed(duet_sep_stream *s, const float *const *ch, int64_t n, duet_err *err)
{
    if (!s || n < 0 || (n > 0 && !ch)) return duet_err_set(err, DUET_ERR_ARG, "stream: bad feed");
    if (s->finished) return duet_err_set(err, DUET_ERR_ARG, "stream: feed after finish");
    s->frames_in += n;
    if (s->native) return s->sep->stream_feed(s->native, ch, n, err);
    if (duet_sep_fifo_push(&s->in, ch, n) != 0) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    return DUET_OK;
}

duet_status duet_sep_stream_finish(duet_sep_stream *s, duet_err *err)
{
    if (!s) return duet_err_set(err, DUET_ERR_ARG, "stream: no stream");
    if (s->finished) return duet_err_set(err, DUET_ERR_ARG, "stream: finished twice");
    s->finished = 1;
    if (s->native) return s->sep->stream_finish(s->native, err);
    const int64_t n = duet_sep_fifo_len(&s->in);
    if (n == 0) return duet_err_set(err, DUET_ERR_EMPTY, "no samples to separate");
    if (duet_audio_alloc(&s->mix, s->channels, n, s->rate) != DUET_OK)
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    duet_sep_fifo_pop(&s->in, s->mix.ch, n);
    duet_sep_fifo_free(&s->in);
    duet_sep_input in = {&s->mix, NULL, NULL};
    duet_status st = duet_sep_check_input(s->sep, &in, err);
    if (!st) st = s->sep->run(s->state, &in, &s->v, &s->a, err);
    if (!st && (s->v.frames != n || s->a.frames != n || s->v.channels != s->channels || s->a.channels != s->channels))
        st = duet_err_set(err, DUET_ERR_INTERNAL, "separator %s returned stems of the wrong shape", s->sep->name);
    return st;
}

duet_status duet_sep_stream_get(duet_sep_stream *s, float *const *mix, float *const *voc, float *const *acc,
                                int64_t max, int64_t *got, duet_err *err)
{
    *got = 0;
    if (!s || max < 0) return duet_err_set(err, DUET_ERR_ARG, "stream: bad get");
    if (s->native) return s->sep->stream_get(s->native, mix, voc, acc, max, got, err);
    if (!s->finished || !s->v.ch) return DUET_OK; /* everything comes at finish */
    int64_t n = s->mix.frames - s->out_pos;
    if (n > max) n = max;
    for (int c = 0; c < s->channels; c++) {
        if (mix) memcpy(mix[c], s->mix.ch[c] + s->out_pos, sizeof(float) * (size_t)n);
        if (voc) memcpy(voc[c], s->v.ch[c] + s->out_pos, sizeof(float) * (size_t)n);
        if (acc) memcpy(acc[c], s->a.ch[c] + s->out_pos, sizeof(float) * (size_t)n);
    }
    s->out_pos += n;
    *got = n;
    return DUET_OK;
}

void duet_sep_stream_free(duet_sep_stream *s)
{
    if (!s) return;
    if (s->native) s->sep->stream_free(s->native);
    duet_sep_fifo_free(&s->in);
    duet_audio_free(&s->mix);
    duet_audio_free(&s->v);
    duet_audio_free(&s->a);
    free(s);
}
