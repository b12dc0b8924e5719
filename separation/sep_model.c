/* separation/sep_model.c: the trained network as a separator (`duet
 * separate --method model`, the default): loads the weights once in open()
 * (cfg->model_path, else the model built into the library, see
 * sepnet_blob.S) and separates with
 * sepnet_separate() (streaming, with cfg->wiener_iters Wiener iterations),
 * which makes its own per-call run state, so one loaded model serves
 * several threads. */
#include <stdlib.h>
#include <string.h>

#include "separators.h"
#include "sepnet.h"
#include "sepnet_infer.h"

/* From separation/sepnet_blob.S. */
extern const unsigned char duet_sepnet_blob[];
extern const unsigned long long duet_sepnet_blob_size;

void sepnet_builtin(const void **buf, size_t *len)
{
    if (buf) *buf = duet_sepnet_blob;
    if (len) *len = (size_t)duet_sepnet_blob_size;
}

duet_status sepnet_load_builtin(sepnet **out, duet_err *err)
{
    duet_status st = sepnet_load_buffer(duet_sepnet_blob, (size_t)duet_sepnet_blob_size, out, err);
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
    duet_status st = path ? sepnet_load(path, &m, err) : sepnet_load_builtin(&m, err);
    if (st) {
        if (err && path) {
            duet_err e2 = *err;
            duet_err_set(err, st, "model %s: %s", path, e2.msg[0] ? e2.msg : duet_strerror(st));
        }
        return st;
    }
    model_state *ms = calloc(1, sizeof *ms);
    if (!ms) {
        sepnet_free(m);
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
    sepnet_sep_opts o;
    memset(&o, 0, sizeof o);
    o.wiener_iters = ms->wiener_iters;
    return sepnet_separate(ms->m, in->mixture, &o, vocals, accompaniment, err);
}

static void model_close(void *state)
{
    model_state *ms = state;
    if (!ms) return;
    sepnet_free(ms->m);
    free(ms);
}

const duet_separator duet_sep_model = {"model",
                                       "duet's trained SA/FEM encoder-decoder network (the default)",
                                       0, 2, model_open, model_run, model_close};

const sepnet *sepnet_of_separator(const duet_separator *sep, void *state)
{
    if (sep != &duet_sep_model || !state) return NULL;
    return ((const model_state *)state)->m;
}
