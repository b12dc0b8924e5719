/* separation/sep_model.c: the trained network as a separator (`duet
 * separate --method model`, the default): loads the weights once in open()
 * (--model FILE, else sepnet_default_model_path()) and separates with
 * sepnet_separate(), which makes its own per-call run state, so one loaded
 * model serves several threads. */
#include <stdlib.h>
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
    *state = m;
    return DUET_OK;
}

static duet_status model_run(void *state, const duet_sep_input *in, duet_audio *vocals,
                             duet_audio *accompaniment, duet_err *err)
{
    return sepnet_separate((const sepnet *)state, in->mixture, NULL, vocals, accompaniment, err);
}

static void model_close(void *state) { sepnet_free((sepnet *)state); }

const duet_separator duet_sep_model = {"model",
                                       "duet's trained SA/FEM encoder-decoder network (the default)",
                                       0, 2, model_open, model_run, model_close};
