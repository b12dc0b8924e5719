/* separation/sep_model.c: the trained network as a separator (`duet
 * separate --method model`, the default): loads the weights once in open()
 * (--model FILE, else sepnet_default_model_path()) and separates with
 * sepnet_separate() (streaming, with cfg->wiener_iters Wiener iterations),
 * which makes its own per-call run state, so one loaded model serves
 * several threads. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "separators.h"
#include "sepnet.h"
#include "sepnet_infer.h"

#ifndef DUET_DATADIR
#define DUET_DATADIR "/usr/local/share/duet"
#endif

const char *sepnet_default_model_path(void)
{
    const char *env = getenv("DUET_MODEL");
    if (env && *env) return env;
    if (access("models/sepnet.safetensors", R_OK) == 0) return "models/sepnet.safetensors";
    if (access(DUET_DATADIR "/sepnet.safetensors", R_OK) == 0) return DUET_DATADIR "/sepnet.safetensors";
    return "models/sepnet.safetensors";
}

typedef struct model_state {
    sepnet *m;
    int wiener_iters;
} model_state;

static duet_status model_open(const duet_sep_config *cfg, void **state, duet_err *err)
{
    const char *path = cfg && cfg->model_path ? cfg->model_path : sepnet_default_model_path();
    sepnet *m = NULL;
    duet_status st = sepnet_load(path, &m, err);
    if (st) {
        if (err) {
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
