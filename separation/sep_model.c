/* separation/sep_model.c: the trained network as a separator (`duet
 * separate --method model`, the default): loads the weights once in open()
 * (cfg->model_path, else the model built into the library, see
 * sepnet_blob.S) and separates with
 * duet_sepnet_separate() (streaming, with cfg->wiener_iters Wiener iterations),
 * which makes its own per-call run state, so one loaded model serves
 * several threads; and streams (the separator stream interface) through
 * duet_sepnet_stream in bounded memory. */
#include <stdlib.h>
#include <string.h>

#include "sep_fifo.h"
#include "separators.h"
#include "sepnet.h"
#include "sepnet_infer.h"

/* From separation/sepnet_blob.S. */
extern const unsigned char duet_sepnet_blob[];
extern const unsigned long long duet_sepnet_blob_size;

void duet_sepnet_builtin(const void **buf, size_t *len)
{
    if (buf) *buf = duet_sepnet_blob;
    if (len) *len = (size_t)duet_sepnet_blob_size;
}

duet_status duet_sepnet_load_builtin(sepnet **out, duet_err *err)
{
    duet_status st = duet_sepnet_load_buffer(duet_sepnet_blob, (size_t)duet_sepnet_blob_size, out, err);
    if (st && err) {
        duet_err e2 = *err;
        duet_err_set(err, st, "built-in model: %s", e2.msg[0] ? e2.msg : duet_strerror(st));
    }
    return st;
}

typedef struct model_state {
    sepnet *m;
    int wiener_iters;
} model_state;

static duet_status model_open(const duet_sep_config *cfg, void **state, duet_err *err)
{
    const char *path = cfg ? cfg->model_path : NULL;
    sepnet *m = NULL;
    duet_status st = path ? duet_sepnet_load(path, &m, err) : duet_sepnet_load_builtin(&m, err);
    if (st) {
        if (err && path) {
            duet_err e2 = *err;
            duet_err_set(err, st, "model %s: %s", path, e2.msg[0] ? e2.msg : duet_strerror(st));
        }
        return st;
    }
    model_state *ms = calloc(1, sizeof *ms);
    if (!ms) {
        duet_sepnet_free(m);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    ms->m = m;
    ms->wiener_iters = cfg ? cfg->wiener_iters : 0;
    *state = ms;
    return DUET_OK;
}

static duet_status model_run(void *state, const duet_sep_input *in, duet_audio *vocals,
                             duet_audio *accompaniment, duet_err *err)
{
    const model_state *ms = state;
    duet_sepnet_sep_opts o;
    memset(&o, 0, sizeof o);
    o.wiener_iters = ms->wiener_iters;
    return duet_sepnet_separate(ms->m, in->mixture, &o, vocals, accompaniment, err);
}

static void model_close(void *state)
{
    model_state *ms = state;
    if (!ms) return;
    duet_sepnet_free(ms->m);
    free(ms);
}

/* The network's stream (duet_sepnet_stream, callbacks) behind the pull-style
 * separator stream: the callback queues (mixture, vocals, accompaniment)
 * blocks, get takes them out. */
typedef struct model_stream {
    duet_sepnet_stream *ss;
    duet_sep_fifo q[3];
    int oom;
} model_stream;

static int model_stream_cb(void *user, const float *const *mix, const float *const *voc, const float *const *acc,
                           int64_t n)
{
    model_stream *ms = user;
    if (duet_sep_fifo_push(&ms->q[0], mix, n) || duet_sep_fifo_push(&ms->q[1], voc, n) ||
        duet_sep_fifo_push(&ms->q[2], acc, n)) {
        ms->oom = 1;
        return 1;
    }
    return 0;
}

static void model_stream_free(void *stream)
{
    model_stream *ms = stream;
    if (!ms) return;
    duet_sepnet_stream_free(ms->ss);
    for (int k = 0; k < 3; k++) duet_sep_fifo_free(&ms->q[k]);
    free(ms);
}

static duet_status model_stream_new(void *state, int channels, int sample_rate, void **stream, duet_err *err)
{
    const model_state *st = state;
    model_stream *ms = calloc(1, sizeof *ms);
    if (!ms) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    for (int k = 0; k < 3; k++)
        if (duet_sep_fifo_init(&ms->q[k], channels) != 0) {
            model_stream_free(ms);
            return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        }
    duet_sepnet_sep_opts o;
    memset(&o, 0, sizeof o);
    o.wiener_iters = st->wiener_iters;
    duet_status s = duet_sepnet_stream_new(st->m, channels, sample_rate, &o, model_stream_cb, ms, &ms->ss, err);
    if (s) {
        model_stream_free(ms);
        return s;
    }
    *stream = ms;
    return DUET_OK;
}

static duet_status oom_or(const model_stream *ms, duet_status st, duet_err *err)
{
    return ms->oom ? duet_err_set(err, DUET_ERR_NOMEM, "out of memory") : st;
}

static duet_status model_stream_feed(void *stream, const float *const *ch, int64_t n, duet_err *err)
{
    model_stream *ms = stream;
    return oom_or(ms, duet_sepnet_stream_feed(ms->ss, ch, n, err), err);
}

static duet_status model_stream_finish(void *stream, duet_err *err)
{
    model_stream *ms = stream;
    return oom_or(ms, duet_sepnet_stream_finish(ms->ss, err), err);
}

static duet_status model_stream_get(void *stream, float *const *mix, float *const *voc, float *const *acc,
                                    int64_t max, int64_t *got, duet_err *err)
{
    (void)err;
    model_stream *ms = stream;
    float *const *dst[3] = {mix, voc, acc};
    int64_t n = 0;
    for (int k = 0; k < 3; k++) n = duet_sep_fifo_pop(&ms->q[k], dst[k], max);
    *got = n;
    return DUET_OK;
}

const duet_separator duet_sep_model = {"model",
                                       "duet's trained SA/FEM encoder-decoder network (the default)",
                                       0,
                                       2,
                                       model_open,
                                       model_run,
                                       model_close,
                                       model_stream_new,
                                       model_stream_feed,
                                       model_stream_finish,
                                       model_stream_get,
                                       model_stream_free};
