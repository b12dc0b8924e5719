/* nn/checkpoint.c: weights and training checkpoints over nn/safetensors
 * (layout in checkpoint.h). */
#define _DEFAULT_SOURCE
#include "checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"

#define CKPT_FORMAT "duet-checkpoint"

static duet_status add_weights(duet_st_writer *w, const duet_params *p, const float *block,
                               const char *prefix, duet_err *err)
{
    for (size_t i = 0; i < p->count; i++) {
        const duet_param_info *r = &p->info[i];
        char name[DUET_PARAM_NAME_MAX + 16];
        snprintf(name, sizeof name, "%s%s", prefix, r->name);
        duet_status st = duet_st_writer_add(w, name, DUET_ST_F32, r->ndim, r->shape, block + r->offset, err);
        if (st) return st;
    }
    return DUET_OK;
}

static duet_status add_meta(duet_st_writer *w, const char *format, const duet_meta_kv *meta,
                            size_t n_meta, duet_err *err)
{
    duet_status st = duet_st_writer_meta(w, "format", format, err);
    for (size_t i = 0; st == DUET_OK && i < n_meta; i++)
        if (meta[i].key && meta[i].value && strcmp(meta[i].key, "format"))
            st = duet_st_writer_meta(w, meta[i].key, meta[i].value, err);
    return st;
}

duet_status duet_params_save(const char *path, const duet_params *p, const char *format,
                             const duet_meta_kv *meta, size_t n_meta, duet_err *err)
{
    duet_st_writer *w = NULL;
    duet_status st = duet_st_writer_new(&w, err);
    if (st) return st;
    st = add_meta(w, format ? format : "duet-weights", meta, n_meta, err);
    if (!st) st = add_weights(w, p, p->data, "", err);
    if (!st) st = duet_st_writer_save(w, path, err);
    duet_st_writer_free(w);
    return st;
}

static int ignorable(const char *name) { return !strncmp(name, "adam.", 5) || !strncmp(name, "train.", 6); }

/* Find every row of p in f (F32, exact shape) under prefix; fill ptrs. */
static duet_status find_all(const duet_st_file *f, const duet_params *p, const char *prefix,
                            const float **ptrs, const char *path, duet_err *err)
{
    for (size_t i = 0; i < p->count; i++) {
        const duet_param_info *r = &p->info[i];
        char name[DUET_PARAM_NAME_MAX + 16];
        snprintf(name, sizeof name, "%s%s", prefix, r->name);
        duet_err e2 = {0};
        duet_status st = duet_st_get_f32(f, name, r->ndim, r->shape, &ptrs[i], &e2);
        if (st) return duet_err_set(err, st, "%s: %s", path, duet_err_msg(&e2, st));
    }
    return DUET_OK;
}

static duet_status check_format(const duet_st_file *f, const char *want, const char *path, duet_err *err)
{
    const char *fmt = duet_st_meta(f, "format");
    if (!want) return DUET_OK;
    if (!fmt || (strcmp(fmt, want) && strcmp(fmt, CKPT_FORMAT)))
        return duet_err_set(err, DUET_ERR_FORMAT, "%s: format is \"%s\", expected \"%s\"", path,
                            fmt ? fmt : "(none)", want);
    return DUET_OK;
}

duet_status duet_params_load(const char *path, duet_params *p, const char *format, duet_err *err)
{
    duet_st_file *f = NULL;
    duet_status st = duet_st_load(path, &f, err);
    if (st) return st;
    const float **ptrs = calloc(p->count ? p->count : 1, sizeof *ptrs);
    if (!ptrs) {
        duet_st_free(f);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    st = check_format(f, format, path, err);
    if (!st) st = find_all(f, p, "", ptrs, path, err);
    for (size_t i = 0; !st && i < duet_st_count(f); i++) {
        const char *name = duet_st_at(f, i)->name;
        if (!ignorable(name) && duet_params_find(p, name) < 0)
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s: unexpected tensor %s (a different model?)", path, name);
    }
    if (!st)
        for (size_t i = 0; i < p->count; i++)
            memcpy(p->data + p->info[i].offset, ptrs[i], p->info[i].numel * sizeof(float));
    free(ptrs);
    duet_st_free(f);
    return st;
}

static char *fmt_g(char *buf, size_t n, double v)
{
    snprintf(buf, n, "%.9g", v);
    return buf;
}

duet_status duet_checkpoint_save(const char *path, const duet_params *p, const duet_adam *opt,
                                 int64_t step, const duet_rng *rngs, size_t n_rng,
                                 const duet_meta_kv *meta, size_t n_meta, duet_err *err)
{
    if (!p->m || !p->v)
        return duet_err_set(err, DUET_ERR_ARG, "checkpoint: parameters have no optimiser state");
    duet_st_writer *w = NULL;
    duet_status st = duet_st_writer_new(&w, err);
    if (st) return st;
    char b1[32], b2[32], b3[32], b4[32];
    st = add_meta(w, CKPT_FORMAT, meta, n_meta, err);
    if (!st) st = duet_st_writer_meta(w, "version", "1", err);
    if (!st) st = duet_st_writer_meta(w, "adam.beta1", fmt_g(b1, sizeof b1, opt->beta1), err);
    if (!st) st = duet_st_writer_meta(w, "adam.beta2", fmt_g(b2, sizeof b2, opt->beta2), err);
    if (!st) st = duet_st_writer_meta(w, "adam.eps", fmt_g(b3, sizeof b3, opt->eps), err);
    if (!st) st = duet_st_writer_meta(w, "adam.weight_decay", fmt_g(b4, sizeof b4, opt->weight_decay), err);
    if (!st) st = duet_st_writer_meta(w, "adam.decoupled", opt->decoupled ? "1" : "0", err);
    if (!st) st = add_weights(w, p, p->data, "", err);
    if (!st) st = add_weights(w, p, p->m, "adam.m.", err);
    if (!st) st = add_weights(w, p, p->v, "adam.v.", err);
    int64_t one = 1, t = opt->t;
    if (!st) st = duet_st_writer_add(w, "adam.t", DUET_ST_I64, 1, &one, &t, err);
    if (!st) st = duet_st_writer_add(w, "train.step", DUET_ST_I64, 1, &one, &step, err);
    if (!st && n_rng) {
        uint64_t *words = malloc(n_rng * 4 * sizeof(uint64_t));
        if (!words) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        else {
            for (size_t i = 0; i < n_rng; i++) memcpy(words + 4 * i, rngs[i].s, 4 * sizeof(uint64_t));
            int64_t shape[2] = {(int64_t)n_rng, 4};
            st = duet_st_writer_add(w, "train.rng", DUET_ST_U64, 2, shape, words, err);
            free(words);
        }
    }
    if (!st) st = duet_st_writer_save(w, path, err);
    duet_st_writer_free(w);
    return st;
}

static duet_status get_scalar_i64(const duet_st_file *f, const char *name, int64_t *out,
                                  const char *path, duet_err *err)
{
    const duet_st_tensor *t = duet_st_get(f, name);
    if (!t) return duet_err_set(err, DUET_ERR_NOTFOUND, "%s: missing %s", path, name);
    if (t->dtype != DUET_ST_I64 || t->numel != 1)
        return duet_err_set(err, DUET_ERR_SHAPE, "%s: %s must be one I64", path, name);
    memcpy(out, t->data, sizeof *out);
    return DUET_OK;
}

static duet_status meta_float(const duet_st_file *f, const char *key, float *out, const char *path,
                              duet_err *err)
{
    const char *v = duet_st_meta(f, key);
    char *end = NULL;
    double d = v ? strtod(v, &end) : 0;
    if (!v || end == v || *end) return duet_err_set(err, DUET_ERR_FORMAT, "%s: metadata %s missing or not a number", path, key);
    *out = (float)d;
    return DUET_OK;
}

duet_status duet_checkpoint_load(const char *path, duet_params *p, duet_adam *opt, int64_t *step,
                                 duet_rng *rngs, size_t n_rng, duet_err *err)
{
    duet_status st = duet_params_enable_training(p, err);
    if (st) return st;
    duet_st_file *f = NULL;
    st = duet_st_load(path, &f, err);
    if (st) return st;
    const float **ptrs = calloc(3 * (p->count ? p->count : 1), sizeof *ptrs);
    if (!ptrs) {
        duet_st_free(f);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    const char *fmt = duet_st_meta(f, "format");
    duet_adam o = *opt;
    int64_t t = 0, s = 0;
    const duet_st_tensor *rt = NULL;
    if (!fmt || strcmp(fmt, CKPT_FORMAT))
        st = duet_err_set(err, DUET_ERR_FORMAT, "%s: not a duet checkpoint (format \"%s\")", path, fmt ? fmt : "(none)");
    if (!st) st = find_all(f, p, "", ptrs, path, err);
    if (!st) st = find_all(f, p, "adam.m.", ptrs + p->count, path, err);
    if (!st) st = find_all(f, p, "adam.v.", ptrs + 2 * p->count, path, err);
    if (!st) st = get_scalar_i64(f, "adam.t", &t, path, err);
    if (!st) st = get_scalar_i64(f, "train.step", &s, path, err);
    if (!st && (t < 0 || s < 0)) st = duet_err_set(err, DUET_ERR_RANGE, "%s: negative step counter", path);
    if (!st) st = meta_float(f, "adam.beta1", &o.beta1, path, err);
    if (!st) st = meta_float(f, "adam.beta2", &o.beta2, path, err);
    if (!st) st = meta_float(f, "adam.eps", &o.eps, path, err);
    if (!st) st = meta_float(f, "adam.weight_decay", &o.weight_decay, path, err);
    if (!st) {
        const char *dc = duet_st_meta(f, "adam.decoupled");
        if (!dc || (strcmp(dc, "0") && strcmp(dc, "1")))
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s: metadata adam.decoupled missing or not 0/1", path);
        else
            o.decoupled = dc[0] == '1';
    }
    if (!st) {
        rt = duet_st_get(f, "train.rng");
        if (n_rng && !rt) st = duet_err_set(err, DUET_ERR_NOTFOUND, "%s: missing train.rng", path);
        else if (rt && (rt->dtype != DUET_ST_U64 || rt->ndim != 2 || rt->shape[1] != 4 ||
                        rt->shape[0] != (int64_t)n_rng))
            st = duet_err_set(err, DUET_ERR_SHAPE, "%s: train.rng must be U64 [%zu, 4]", path, n_rng);
    }
    for (size_t i = 0; !st && i < duet_st_count(f); i++) {
        const char *name = duet_st_at(f, i)->name;
        if (ignorable(name)) continue;
        if (duet_params_find(p, name) < 0)
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s: unexpected tensor %s (a different model?)", path, name);
    }
    if (!st) {
        float *blocks[3] = {p->data, p->m, p->v};
        for (int b = 0; b < 3; b++)
            for (size_t i = 0; i < p->count; i++)
                memcpy(blocks[b] + p->info[i].offset, ptrs[(size_t)b * p->count + i],
                       p->info[i].numel * sizeof(float));
        o.t = t;
        *opt = o;
        *step = s;
        for (size_t i = 0; i < n_rng; i++) memcpy(rngs[i].s, (const uint64_t *)rt->data + 4 * i, 4 * sizeof(uint64_t));
    }
    free(ptrs);
    duet_st_free(f);
    return st;
}
