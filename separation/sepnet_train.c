/* separation/sepnet_train.c: the training loop of the separation network
 * (see sepnet_train.h): augmented chunks, L1 magnitude loss on both stems,
 * Adam with gradient clipping and reduce-on-plateau, validation by vocal SDR
 * gain, early stopping, and checkpoints that resume bit-exactly. */
#include "sepnet_train.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../audio/stft.h"
#include "../common/atomic_file.h"
#include "../common/progress.h"
#include "../nn/nn.h"
#include "sdr.h"
#include "sepnet_infer.h"

#define CKPT_FORMAT "duet-sepnet-ckpt" /* the first format (read only) */
#define CKPT_VERSION "1"
#define SEPNET_CKPT_MODEL "duet-sepnet"   /* "model" of nn/checkpoint.h checkpoints */

duet_sepnet_train_opts duet_sepnet_train_opts_default(void)
{
    duet_sepnet_train_opts o;
    memset(&o, 0, sizeof o);
    o.cfg = duet_sepnet_config_default();
    o.steps = 20000;
    o.batch = 4;
    o.frames = 128;
    o.lr = 1e-3f;
    o.weight_decay = 0.0f;
    o.clip = 5.0f;
    o.eval_every = 250;
    o.ckpt_every = 50;
    o.patience = 8;
    o.val_clips = 24;
    o.seed = 1;
    o.progress = 1;
    o.log_every = 10;
    return o;
}

duet_status duet_sepnet_validate(const sepnet *m, const duet_sepnet_dataset *ds, int n, duet_sepnet_val_result *res,
                            duet_err *err)
{
    const duet_sepnet_config *c = &m->cfg;
    int count = n > 0 && n < ds->n_clips ? n : ds->n_clips;
    memset(res, 0, sizeof *res);
    if (count == 0) return DUET_OK;
    const int D = ds->channels > 1 ? ds->channels : 1, C = c->channels;
    if (D > 2 || (C != 1 && C != D))
        return duet_err_set(err, DUET_ERR_ARG, "a %d-channel model cannot be validated on %d-channel clips", C, D);
    duet_stft *s;
    duet_status st = duet_stft_new(c->n_fft, c->hop, DUET_WIN_HANN, &s, err);
    if (st) return st;
    duet_sepnet_run *run;
    st = duet_sepnet_run_new(m, &run, err);
    if (st) {
        duet_stft_free(s);
        return st;
    }
    int nb = c->n_fft / 2 + 1;
    double gain_sum = 0, vsdr_sum = 0, asdr_sum = 0, loss_sum = 0, loss_n = 0;
    /* spread the evaluated clips over the whole set (every singer / song) */
    for (int q = 0; q < count && !st; q++) {
        const duet_sepnet_clip *cl = &ds->clips[(int)((int64_t)q * ds->n_clips / count)];
        int64_t len = cl->n, T = duet_stft_n_frames(s, len);
        size_t L = (size_t)D * len, S = (size_t)D * T * nb;
        float *x = malloc(L * sizeof *x), *v = malloc(L * sizeof *v), *a = malloc(L * sizeof *a);
        float *spec = malloc(S * 2 * sizeof *spec), *specv = malloc(S * 2 * sizeof *specv);
        float *mask = malloc(S * sizeof *mask);
        if (!x || !v || !a || !spec || !specv || !mask) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        for (int d = 0; d < D && !st; d++) {
            const float *cv = cl->voc + (size_t)d * len, *ca = cl->acc + (size_t)d * len;
            float *xd = x + (size_t)d * len;
            for (int64_t i = 0; i < len; i++) xd[i] = cv[i] + ca[i];
            st = duet_stft_forward(s, xd, len, spec + (size_t)d * T * nb * 2, err);
            if (!st) st = duet_stft_forward(s, cv, len, specv + (size_t)d * T * nb * 2, err);
        }
        for (int d = 0; d < D && !st; d += C) {
            const float *sp[2];
            float *mk[2];
            for (int k = 0; k < C; k++) {
                sp[k] = spec + (size_t)(d + k) * T * nb * 2;
                mk[k] = mask + (size_t)(d + k) * T * nb;
            }
            st = duet_sepnet_masks(m, run, sp, T, 256, mk, err);
        }
        for (int d = 0; d < D && !st; d++) {
            float *sd = spec + (size_t)d * T * nb * 2, *svd = specv + (size_t)d * T * nb * 2;
            const float *md = mask + (size_t)d * T * nb;
            for (int64_t i = 0; i < T * nb; i++) {
                int k = (int)(i % nb);
                float mx = hypotf(sd[2 * i], sd[2 * i + 1]);
                float mv = hypotf(svd[2 * i], svd[2 * i + 1]);
                if (k < c->n_freq) {
                    loss_sum += fabsf(md[i] * mx - mv);
                    loss_n += 1;
                }
                sd[2 * i] *= md[i];
                sd[2 * i + 1] *= md[i];
            }
            st = duet_stft_inverse(s, sd, T, v + (size_t)d * len, len, err);
            for (int64_t i = 0; i < len && !st; i++)
                a[(size_t)d * len + i] = x[(size_t)d * len + i] - v[(size_t)d * len + i];
        }
        if (!st) {
            /* MDX whole-clip SDR; the gain is that of the estimate minus that of the mixture */
            const float *ref[2], *est[2], *mix[2], *refa[2], *esta[2];
            for (int d = 0; d < D; d++) {
                ref[d] = cl->voc + (size_t)d * len;
                refa[d] = cl->acc + (size_t)d * len;
                est[d] = v + (size_t)d * len;
                esta[d] = a + (size_t)d * len;
                mix[d] = x + (size_t)d * len;
            }
            double se, sm, sa;
            st = duet_mdx_sdr(ref, est, D, len, &se, err);
            if (!st) st = duet_mdx_sdr(ref, mix, D, len, &sm, err);
            if (!st) st = duet_mdx_sdr(refa, esta, D, len, &sa, err);
            if (!st) {
                gain_sum += se - sm;
                vsdr_sum += se;
                asdr_sum += sa;
            }
        }
        free(x);
        free(v);
        free(a);
        free(spec);
        free(specv);
        free(mask);
    }
    duet_sepnet_run_free(run);
    duet_stft_free(s);
    res->voc_gain = gain_sum / count;
    res->voc_sdr = vsdr_sum / count;
    res->acc_sdr = asdr_sum / count;
    res->loss = loss_n > 0 ? loss_sum / loss_n : 0;
    return st;
}

/* ------------------------------------------------------------ checkpoints */

/* Put "path: " in front of err's message unless it already names path. */
static duet_status name_file(duet_err *err, duet_status st, const char *path)
{
    if (err && st && strncmp(err->msg, path, strlen(path)) != 0) {
        char m[sizeof err->msg];
        snprintf(m, sizeof m, "%s", duet_err_msg(err, st));
        duet_err_set(err, st, "%s: %s", path, m);
    }
    return st;
}

/* Fail early, leaving nothing behind, when `path` cannot be written (a
 * missing or read-only folder, a device such as /dev/full): a temporary is
 * created next to it and removed again. */
static duet_status probe_output(const char *path, duet_err *err)
{
    duet_atomic_file *af;
    duet_status st = duet_atomic_open(path, &af, err);
    if (st) return name_file(err, st, path);
    duet_atomic_abort(af);
    return DUET_OK;
}

typedef struct train_state {
    int64_t step;
    duet_adam adam;
    duet_rng rng;
    duet_plateau plateau;
    double best_gain;
    int evals_since_best;
    /* the running mean of the training loss since the last progress line, so
     * that a resumed run prints the same lines as an uninterrupted one (a
     * resume used to restart the mean, so its first line averaged fewer steps) */
    double loss_acc;
    int64_t loss_cnt;
} train_state;

/* A training checkpoint in nn/checkpoint.h's format (named tensors with
 * their shapes: the weights, "adam.m.<name>", "adam.v.<name>", "adam.t",
 * "train.step", "train.rng"), with the network's configuration and the
 * trainer's own state (plateau schedule, best validation gain, running loss)
 * as metadata under "model": "duet-sepnet". Checkpoints of the first format
 * ("duet-sepnet-ckpt": one flat unnamed "params" blob) are still read. */
static duet_status save_ckpt(const char *path, const sepnet *m, const train_state *ts, duet_err *err)
{
    enum { N_META = 24 };
    char buf[N_META][48];
    duet_meta_kv meta[N_META];
    size_t n = 0;
    const duet_sepnet_config *c = &m->cfg;
#define META(k, fmt, v)                                 \
    do {                                                \
        snprintf(buf[n], sizeof buf[n], fmt, v);        \
        meta[n].key = k;                                \
        meta[n].value = buf[n];                         \
        n++;                                            \
    } while (0)
    META("model", "%s", SEPNET_CKPT_MODEL);
    META("sepnet_ckpt_version", "%s", "2");
    META("sample_rate", "%d", c->sample_rate);
    META("channels", "%d", c->channels);
    META("n_fft", "%d", c->n_fft);
    META("hop", "%d", c->hop);
    META("n_freq", "%d", c->n_freq);
    META("depth", "%d", c->depth);
    META("base", "%d", c->base);
    META("phase_ch", "%d", c->phase_ch);
    META("use_fem", "%d", c->use_fem);
    META("use_sa", "%d", c->use_sa);
    META("transposed", "%d", c->transposed);
    META("dropout", "%.9g", (double)c->dropout);
    META("plateau_lr", "%.9g", (double)ts->plateau.lr);
    META("plateau_best", "%.17g", ts->plateau.best);
    META("plateau_bad", "%d", ts->plateau.bad);
    META("plateau_cooldown_left", "%d", ts->plateau.cooldown_left);
    META("best_gain", "%.17g", ts->best_gain);
    META("evals_since_best", "%d", ts->evals_since_best);
    META("loss_acc", "%.17g", ts->loss_acc);
    META("loss_cnt", "%" PRId64, ts->loss_cnt);
#undef META
    duet_status st = duet_checkpoint_save(path, m->params, &ts->adam, ts->step, &ts->rng, 1, meta, n, err);
    return name_file(err, st, path);
}

static int meta_i64(const duet_st_file *f, const char *k, int64_t *out)
{
    const char *v = duet_st_meta(f, k);
    if (!v) return -1;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end) return -1;
    *out = x;
    return 0;
}

static int meta_u64(const duet_st_file *f, const char *k, uint64_t *out)
{
    const char *v = duet_st_meta(f, k);
    if (!v) return -1;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (end == v || *end) return -1;
    *out = x;
    return 0;
}

static int meta_dbl(const duet_st_file *f, const char *k, double *out)
{
    const char *v = duet_st_meta(f, k);
    if (!v) return -1;
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end) return -1;
    *out = x;
    return 0;
}

static duet_status load_ckpt_file(const char *path, sepnet **out, train_state *ts, duet_err *err);

/* Load a checkpoint; every error names the file. */
static duet_status load_ckpt(const char *path, sepnet **out, train_state *ts, duet_err *err)
{
    return name_file(err, load_ckpt_file(path, out, ts, err), path);
}

static duet_status load_ckpt_file(const char *path, sepnet **out, train_state *ts, duet_err *err)
{
    duet_st_file *f;
    duet_status st = duet_st_load(path, &f, err);
    if (st) return st;
    const char *fmt = duet_st_meta(f, "format"), *ver = duet_st_meta(f, "version"), *model = duet_st_meta(f, "model");
    const int named = fmt && !strcmp(fmt, "duet-checkpoint") && model && !strcmp(model, SEPNET_CKPT_MODEL);
    const int flat = fmt && !strcmp(fmt, CKPT_FORMAT);
    if (!named && !flat) {
        duet_st_free(f);
        return duet_err_set(err, DUET_ERR_FORMAT, "%s: not a duet separation checkpoint", path);
    }
    const char *sver = named ? duet_st_meta(f, "sepnet_ckpt_version") : "2";
    if (!ver || strcmp(ver, named ? "1" : CKPT_VERSION) || !sver || strcmp(sver, "2")) {
        st = duet_err_set(err, DUET_ERR_FORMAT, "%s: unsupported checkpoint version %s (this duet reads 1)",
                                      path, ver ? ver : "(none)");
        duet_st_free(f); /* ver points into f */
        return st;
    }
    duet_sepnet_config c;
    int64_t v[11] = {0};
    const char *keys[11] = {"sample_rate", "n_fft", "hop", "n_freq", "depth", "base", "phase_ch",
                            "use_fem", "use_sa", "transposed", "step"};
    for (int i = 0; i < (named ? 10 : 11); i++)
        if (meta_i64(f, keys[i], &v[i]) || v[i] < 0 || v[i] > 1000000000) {
            duet_st_free(f);
            return duet_err_set(err, DUET_ERR_FORMAT, "%s: checkpoint metadata \"%s\" missing or bad", path, keys[i]);
        }
    c.sample_rate = (int)v[0];
    c.n_fft = (int)v[1];
    c.hop = (int)v[2];
    c.n_freq = (int)v[3];
    c.depth = (int)v[4];
    c.base = (int)v[5];
    c.phase_ch = (int)v[6];
    c.use_fem = (int)v[7];
    c.use_sa = (int)v[8];
    c.transposed = (int)v[9];
    double d;
    c.dropout = meta_dbl(f, "dropout", &d) ? 0.0f : (float)d;
    int64_t nch = 1; /* absent in checkpoints of mono models written before stereo */
    if (duet_st_meta(f, "channels") && (meta_i64(f, "channels", &nch) || nch < 1 || nch > 2)) {
        duet_st_free(f);
        return duet_err_set(err, DUET_ERR_FORMAT, "%s: checkpoint metadata \"channels\" bad", path);
    }
    c.channels = (int)nch;
    memset(ts, 0, sizeof *ts);
    ts->step = v[10];
    duet_rng rng0;
    duet_rng_seed(&rng0, 0);
    sepnet *m = NULL;
    st = duet_sepnet_new(&c, &rng0, &m, err);
    if (!st) st = duet_params_enable_training(m->params, err);
    int bad = 0;
    int64_t t64 = 0, i64;
    if (named) {
        if (!st) {
            duet_adam a = duet_adam_default(0, 1);
            int64_t step = 0;
            st = duet_checkpoint_load(path, m->params, &a, &step, &ts->rng, 1, err);
            t64 = a.t;
            ts->step = step;
        }
    } else {
        bad |= meta_i64(f, "adam_t", &t64);
    }
    for (int i = 0; i < 4 && !bad && !named; i++) {
        char k[8];
        snprintf(k, sizeof k, "rng%d", i);
        bad |= meta_u64(f, k, &ts->rng.s[i]);
    }
    double plr = 0, pbest = 0, best = 0;
    bad |= meta_dbl(f, "plateau_lr", &plr);
    bad |= meta_dbl(f, "plateau_best", &pbest);
    bad |= meta_dbl(f, "best_gain", &best);
    if (!st && bad) st = duet_err_set(err, DUET_ERR_FORMAT, "%s: checkpoint training state missing or bad", path);
    if (!st && flat) {
        const duet_params *p = m->params;
        int64_t shape[1] = {(int64_t)p->total};
        const float *src;
        const char *names[3] = {"params", "adam_m", "adam_v"};
        float *dst[3] = {p->data, p->m, p->v};
        for (int i = 0; i < 3 && !st; i++) {
            st = duet_st_get_f32(f, names[i], 1, shape, &src, err);
            if (!st) memcpy(dst[i], src, p->total * sizeof(float));
        }
    }
    if (!st) {
        ts->adam.t = t64;
        ts->plateau.lr = (float)plr;
        ts->plateau.best = pbest;
        ts->plateau.bad = meta_i64(f, "plateau_bad", &i64) ? 0 : (int)i64;
        ts->plateau.cooldown_left = meta_i64(f, "plateau_cooldown_left", &i64) ? 0 : (int)i64;
        ts->best_gain = best;
        ts->evals_since_best = meta_i64(f, "evals_since_best", &i64) ? 0 : (int)i64;
        /* absent from checkpoints written before they were saved: restart the mean */
        double la;
        if (!meta_dbl(f, "loss_acc", &la) && !meta_i64(f, "loss_cnt", &i64) && i64 >= 0 && isfinite(la)) {
            ts->loss_acc = la;
            ts->loss_cnt = i64;
        }
    }
    duet_st_free(f);
    if (st) {
        duet_sepnet_free(m);
        return st;
    }
    *out = m;
    return DUET_OK;
}

/* ---------------------------------------------------------------- training */

duet_status duet_sepnet_train(const duet_sepnet_train_opts *o, const duet_sepnet_dataset *train,
                         const duet_sepnet_dataset *val, duet_err *err)
{
    if (train->n_clips == 0) return duet_err_set(err, DUET_ERR_EMPTY, "no training clips");
    if (o->batch < 1 || o->frames < 16) return duet_err_set(err, DUET_ERR_ARG, "batch >= 1 and frames >= 16 needed");
    char ckpt_default[4096];
    const char *ckpt = o->ckpt;
    if (!ckpt) {
        snprintf(ckpt_default, sizeof ckpt_default, "%s.ckpt", o->out);
        ckpt = ckpt_default;
    }
    sepnet *m = NULL;
    train_state ts;
    memset(&ts, 0, sizeof ts);
    duet_status st;
    if (o->resume) {
        st = load_ckpt(o->resume, &m, &ts, err);
        if (st) return st;
        /* hyper-parameters from the options, state from the checkpoint */
        duet_adam a = duet_adam_default(o->weight_decay, 1);
        a.t = ts.adam.t;
        ts.adam = a;
        duet_plateau pl = duet_plateau_make(o->lr, 0.5f, 2, o->lr / 64);
        pl.lr = ts.plateau.lr;
        pl.best = ts.plateau.best;
        pl.bad = ts.plateau.bad;
        pl.cooldown_left = ts.plateau.cooldown_left;
        ts.plateau = pl;
    } else {
        duet_rng_seed(&ts.rng, o->seed);
        st = duet_sepnet_new(&o->cfg, &ts.rng, &m, err);
        if (!st) st = duet_params_enable_training(m->params, err);
        if (st) {
            duet_sepnet_free(m);
            return st;
        }
        ts.adam = duet_adam_default(o->weight_decay, 1);
        ts.plateau = duet_plateau_make(o->lr, 0.5f, 2, o->lr / 64);
        ts.best_gain = -1e30;
    }
    /* refuse unwritable outputs before any work */
    st = probe_output(o->out, err);
    if (!st) st = probe_output(ckpt, err);
    if (st) {
        duet_sepnet_free(m);
        return st;
    }
    const duet_sepnet_config *c = &m->cfg;
    if (train->sample_rate != c->sample_rate) {
        duet_sepnet_free(m);
        return duet_err_set(err, DUET_ERR_ARG, "data at %d Hz, model at %d Hz", train->sample_rate, c->sample_rate);
    }
    int B = o->batch, T = o->frames, F = c->n_freq, nb = c->n_fft / 2 + 1;
    /* D channels per drawn chunk; a mono model (C = 1) on stereo data takes
     * the left and right channels of a chunk as two items */
    const int C = c->channels, D = train->channels > 1 ? train->channels : 1, per_draw = D / C;
    if (C != 1 && C != D) {
        duet_sepnet_free(m);
        return duet_err_set(err, DUET_ERR_ARG, "a %d-channel model cannot train on %d-channel data", C, D);
    }
    if (T % (1 << c->depth)) {
        duet_sepnet_free(m);
        return duet_err_set(err, DUET_ERR_ARG, "frames %d must be a multiple of %d", T, 1 << c->depth);
    }
    int64_t ns = (int64_t)(T - 1) * c->hop; /* samples giving exactly T frames */
    size_t plane = (size_t)F * T;
    duet_stft *s = NULL;
    duet_sepnet_run *run = NULL;
    float *voc = malloc((size_t)D * ns * sizeof(float)), *acc = malloc((size_t)D * ns * sizeof(float));
    float *sv = malloc((size_t)T * nb * 2 * sizeof(float)), *sa = malloc((size_t)T * nb * 2 * sizeof(float));
    float *feat = malloc((size_t)B * C * 3 * plane * sizeof(float));
    float *mags = malloc((size_t)B * C * 3 * plane * sizeof(float)); /* |X|, |V|, |A| per item and channel */
    float *dm = malloc((size_t)B * C * 2 * plane * sizeof(float));
    if (!voc || !acc || !sv || !sa || !feat || !mags || !dm) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    if (!st) st = duet_stft_new(c->n_fft, c->hop, DUET_WIN_HANN, &s, err);
    if (!st) st = duet_sepnet_run_new(m, &run, err);
    duet_sepnet_aug aug = duet_sepnet_aug_default();
    double t_start = duet_now();
    int64_t first_step = ts.step;
    if (o->progress)
        fprintf(stderr, "train-sep: %d training clips (%.1f min), %d validation clips, %zu parameters, step %" PRId64 " of %" PRId64 "\n",
                train->n_clips, train->seconds / 60, val ? val->n_clips : 0,
                duet_params_trainable(m->params), ts.step, o->steps);
    int stop = 0;
    while (!st && !stop && ts.step < o->steps) {
        /* batch */
        for (int q = 0; q < B * C && !st; q++) {
            int b = q / C, qc = q % C, sub = b % per_draw;
            if (qc == 0 && sub == 0) duet_sepnet_draw_chunk(train, &aug, &ts.rng, ns, voc, acc);
            int d = sub * C + qc; /* audio channel of the chunk */
            st = duet_stft_forward(s, voc + (size_t)d * ns, ns, sv, err);
            if (!st) st = duet_stft_forward(s, acc + (size_t)d * ns, ns, sa, err);
            if (st) break;
            for (size_t i = 0; i < (size_t)T * nb * 2; i++) sa[i] += sv[i]; /* sa := mixture */
            duet_sepnet_features(feat + (size_t)q * 3 * plane, sa, T, nb, 0, T, c);
            float *mx = mags + (size_t)q * 3 * plane, *mv = mx + plane, *ma = mv + plane;
            for (int t = 0; t < T; t++)
                for (int k = 0; k < F; k++) {
                    size_t i = (size_t)t * nb + k, o2 = (size_t)k * T + t;
                    float xr = sa[2 * i], xi = sa[2 * i + 1], vr = sv[2 * i], vi = sv[2 * i + 1];
                    mx[o2] = hypotf(xr, xi);
                    mv[o2] = hypotf(vr, vi);
                    ma[o2] = hypotf(xr - vr, xi - vi);
                }
        }
        if (st) break;
        const float *mk;
        st = duet_sepnet_forward(run, feat, B, T, 1, &ts.rng, &mk, err);
        if (st) break;
        double loss = 0;
        double inv = 1.0 / (2.0 * B * C * plane);
        for (int q = 0; q < B * C; q++) {
            const float *mx = mags + (size_t)q * 3 * plane, *mv = mx + plane, *ma = mv + plane;
            const float *kv = mk + (size_t)q * 2 * plane, *ka = kv + plane;
            float *dv = dm + (size_t)q * 2 * plane, *da = dv + plane;
            for (size_t i = 0; i < plane; i++) {
                float ev = kv[i] * mx[i] - mv[i], ea = ka[i] * mx[i] - ma[i];
                loss += fabsf(ev) + fabsf(ea);
                dv[i] = (float)(inv * (ev > 0 ? mx[i] : ev < 0 ? -mx[i] : 0.0f));
                da[i] = (float)(inv * (ea > 0 ? mx[i] : ea < 0 ? -mx[i] : 0.0f));
            }
        }
        loss *= inv;
        if (!isfinite(loss)) {
            st = duet_err_set(err, DUET_ERR_NAN, "training diverged at step %" PRId64 " (loss is not finite)", ts.step);
            break;
        }
        duet_params_zero_grad(m->params);
        duet_sepnet_backward(run, dm);
        if (o->clip > 0) duet_clip_grad_norm(m->params, o->clip);
        st = duet_adam_step(&ts.adam, m->params, ts.plateau.lr, err);
        if (st) break;
        ts.step++;
        ts.loss_acc += loss;
        ts.loss_cnt++;
        if (o->progress && (ts.step % o->log_every == 0 || ts.step == o->steps)) {
            double el = duet_now() - t_start;
            double sps = (double)(ts.step - first_step) / (el > 0 ? el : 1);
            double eta = sps > 0 ? (double)(o->steps - ts.step) / sps : 0;
            fprintf(stderr, "step %" PRId64 "/%" PRId64 "  loss %.5f  lr %.2e  %.2f steps/s  ETA %dh%02dm\n", ts.step,
                    o->steps, ts.loss_acc / (double)ts.loss_cnt, (double)ts.plateau.lr, sps, (int)(eta / 3600),
                    (int)(eta / 60) % 60);
            ts.loss_acc = 0;
            ts.loss_cnt = 0;
        }
        int do_eval = val && val->n_clips > 0 && (ts.step % o->eval_every == 0 || ts.step == o->steps);
        if (do_eval) {
            duet_sepnet_val_result vr;
            st = duet_sepnet_validate(m, val, o->val_clips, &vr, err);
            if (st) break;
            double gain = vr.voc_gain, vloss = vr.loss;
            ts.plateau.lr = duet_plateau_update(&ts.plateau, vloss);
            int better = gain > ts.best_gain;
            if (better) {
                ts.best_gain = gain;
                ts.evals_since_best = 0;
                char sbuf[32], gbuf[32], vbuf[32], abuf[32];
                snprintf(sbuf, sizeof sbuf, "%" PRId64, ts.step);
                snprintf(gbuf, sizeof gbuf, "%.3f", gain);
                snprintf(vbuf, sizeof vbuf, "%.3f", vr.voc_sdr);
                snprintf(abuf, sizeof abuf, "%.3f", vr.acc_sdr);
                const char *kv[] = {"trained_steps", sbuf, "val_vocal_sdr_gain_db", gbuf,
                                    "val_vocal_sdr_db", vbuf, "val_accompaniment_sdr_db", abuf,
                                    "train_data", o->train_data};
                st = name_file(err, duet_sepnet_save(m, o->out, kv, o->train_data ? 5 : 4, err), o->out);
                if (st) break;
            } else {
                ts.evals_since_best++;
            }
            if (o->progress)
                fprintf(stderr,
                        "eval step %" PRId64 ": validation vocal SDR gain %.2f dB (vocals %.2f, accompaniment %.2f dB), L1 %.5f%s\n",
                        ts.step, gain, vr.voc_sdr, vr.acc_sdr, vloss, better ? " (best, saved)" : "");
            if (o->patience > 0 && ts.evals_since_best >= o->patience) {
                if (o->progress) fprintf(stderr, "early stop: no improvement in %d evaluations\n", o->patience);
                stop = 1;
            }
        }
        if (ts.step % o->ckpt_every == 0 || ts.step == o->steps || stop) {
            st = save_ckpt(ckpt, m, &ts, err);
            if (st) break;
        }
    }
    if (!st && !(val && val->n_clips > 0)) {
        char sbuf[32];
        snprintf(sbuf, sizeof sbuf, "%" PRId64, ts.step);
        const char *kv[] = {"trained_steps", sbuf, "train_data", o->train_data};
        st = name_file(err, duet_sepnet_save(m, o->out, kv, o->train_data ? 2 : 1, err), o->out);
    }
    duet_stft_free(s);
    duet_sepnet_run_free(run);
    free(voc);
    free(acc);
    free(sv);
    free(sa);
    free(feat);
    free(mags);
    free(dm);
    duet_sepnet_free(m);
    return st;
}
