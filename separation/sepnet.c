/* separation/sepnet.c: the SA/FEM encoder-decoder separation network (see
 * sepnet.h for the architecture): its layer and parameter tables, the
 * configuration, creating, saving and loading a model, and the input
 * features (log magnitude + phase derivatives). The forward and backward
 * passes are sepnet_run.c. */
#include "sepnet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../nn/nn.h"
#include "sepnet_impl.h"

#define SN_FORMAT "duet-sepnet"
#define SN_VERSION "1"

/* ------------------------------------------------------------ layer table */

/* Builder of the size table. */
typedef struct sn_builder {
    duet_param_spec *specs;
    char (*names)[DUET_PARAM_NAME_MAX];
    size_t n, cap;
    int oom;
} sn_builder;

static long add_param(sn_builder *b, const char *name, int ndim, const int64_t *shape, int flags)
{
    if (b->oom) return -1;
    if (b->n == b->cap) {
        size_t nc = b->cap ? 2 * b->cap : 128;
        duet_param_spec *s = realloc(b->specs, nc * sizeof *s);
        if (!s) {
            b->oom = 1;
            return -1;
        }
        b->specs = s;
        char(*nm)[DUET_PARAM_NAME_MAX] = realloc(b->names, nc * sizeof *nm);
        if (!nm) {
            b->oom = 1;
            return -1;
        }
        b->names = nm;
        b->cap = nc;
    }
    snprintf(b->names[b->n], DUET_PARAM_NAME_MAX, "%s", name);
    duet_param_spec *s = &b->specs[b->n];
    memset(s, 0, sizeof *s);
    s->ndim = ndim;
    for (int i = 0; i < ndim; i++) s->shape[i] = shape[i];
    s->flags = flags;
    return (long)b->n++;
}

static void def_conv(sn_builder *b, sn_conv *c, const char *pfx, int ci, int co, int k, int dil,
                     int bias)
{
    char nm[DUET_PARAM_NAME_MAX];
    c->ci = ci;
    c->co = co;
    c->k = k;
    c->dil = dil;
    int64_t ws[4] = {co, ci, k, k}, bs[1] = {co};
    snprintf(nm, sizeof nm, "%s.weight", pfx);
    c->w = add_param(b, nm, 4, ws, 0);
    c->b = -1;
    if (bias) {
        snprintf(nm, sizeof nm, "%s.bias", pfx);
        c->b = add_param(b, nm, 1, bs, DUET_PARAM_NO_DECAY);
    }
}

static void def_bn(sn_builder *b, sn_bn *n, const char *pfx, int c)
{
    char nm[DUET_PARAM_NAME_MAX];
    int64_t s[1] = {c};
    n->c = c;
    snprintf(nm, sizeof nm, "%s.weight", pfx);
    n->g = add_param(b, nm, 1, s, DUET_PARAM_NO_DECAY);
    snprintf(nm, sizeof nm, "%s.bias", pfx);
    n->b = add_param(b, nm, 1, s, DUET_PARAM_NO_DECAY);
    snprintf(nm, sizeof nm, "%s.running_mean", pfx);
    n->rm = add_param(b, nm, 1, s, DUET_PARAM_BUFFER);
    snprintf(nm, sizeof nm, "%s.running_var", pfx);
    n->rv = add_param(b, nm, 1, s, DUET_PARAM_BUFFER);
}

static void def_cbr(sn_builder *b, sn_cbr *l, const char *pfx, int ci, int co, int k)
{
    char nm[DUET_PARAM_NAME_MAX];
    snprintf(nm, sizeof nm, "%s.conv", pfx);
    def_conv(b, &l->conv, nm, ci, co, k, 1, 0);
    snprintf(nm, sizeof nm, "%s.bn", pfx);
    def_bn(b, &l->bn, nm, co);
}

static void def_attn(sn_builder *b, sn_attn *a, const char *pfx, int c, int axis)
{
    char nm[DUET_PARAM_NAME_MAX];
    a->c = c;
    a->cq = c / 8 > 2 ? c / 8 : 2;
    a->axis = axis;
    int64_t q[2] = {a->cq, c}, qb[1] = {a->cq}, v[2] = {c, c}, vb[1] = {c}, g[1] = {1};
    snprintf(nm, sizeof nm, "%s.query.weight", pfx);
    a->wq = add_param(b, nm, 2, q, 0);
    snprintf(nm, sizeof nm, "%s.query.bias", pfx);
    a->bq = add_param(b, nm, 1, qb, DUET_PARAM_NO_DECAY);
    snprintf(nm, sizeof nm, "%s.key.weight", pfx);
    a->wk = add_param(b, nm, 2, q, 0);
    snprintf(nm, sizeof nm, "%s.key.bias", pfx);
    a->bk = add_param(b, nm, 1, qb, DUET_PARAM_NO_DECAY);
    snprintf(nm, sizeof nm, "%s.value.weight", pfx);
    a->wv = add_param(b, nm, 2, v, 0);
    snprintf(nm, sizeof nm, "%s.value.bias", pfx);
    a->bv = add_param(b, nm, 1, vb, DUET_PARAM_NO_DECAY);
    snprintf(nm, sizeof nm, "%s.gamma", pfx);
    a->gamma = add_param(b, nm, 1, g, DUET_PARAM_NO_DECAY);
}

static void def_fem(sn_builder *b, sn_fem *f, const char *pfx, int c, int axis, int use_sa)
{
    char nm[DUET_PARAM_NAME_MAX];
    f->c = c;
    for (int i = 0; i < 3; i++) {
        snprintf(nm, sizeof nm, "%s.scale%d", pfx, 1 << i);
        def_cbr(b, &f->br[i], nm, c, c, 3);
    }
    memset(&f->sa, 0, sizeof f->sa);
    f->sa.wq = -1;
    if (use_sa) {
        snprintf(nm, sizeof nm, "%s.sam", pfx);
        def_attn(b, &f->sa, nm, c, axis);
    }
}

static void build_arch(sn_builder *b, duet_sepnet_arch *a, const duet_sepnet_config *c)
{
    char nm[DUET_PARAM_NAME_MAX];
    memset(a, 0, sizeof *a);
    for (int l = 0; l <= c->depth; l++) a->ch[l] = c->base << (l < 3 ? l : 3);
    int mag_ch = c->phase_ch > 0 ? c->base - c->phase_ch : c->base;
    def_cbr(b, &a->stem_mag, "stem_mag", c->channels, mag_ch, 3);
    if (c->phase_ch > 0) {
        def_cbr(b, &a->stem_ph, "stem_phase", 2 * c->channels, c->phase_ch, 3);
        if (c->use_fem) def_fem(b, &a->fem_ph, "fem_phase", c->phase_ch, DUET_ATTN_W, c->use_sa);
    }
    int prev = c->base;
    for (int l = 0; l < c->depth; l++) {
        snprintf(nm, sizeof nm, "enc%d.0", l);
        def_cbr(b, &a->enc[l][0], nm, prev, a->ch[l], 3);
        snprintf(nm, sizeof nm, "enc%d.1", l);
        def_cbr(b, &a->enc[l][1], nm, a->ch[l], a->ch[l], 3);
        prev = a->ch[l];
    }
    def_cbr(b, &a->bott, "bottleneck", prev, a->ch[c->depth], 3);
    a->sa_b.wq = -1;
    if (c->use_fem) def_fem(b, &a->fem_b, "fem_bottleneck", a->ch[c->depth], DUET_ATTN_FULL, c->use_sa);
    else if (c->use_sa) def_attn(b, &a->sa_b, "sa_bottleneck", a->ch[c->depth], DUET_ATTN_FULL);
    for (int l = c->depth - 1; l >= 0; l--) {
        snprintf(nm, sizeof nm, "up%d", l);
        {
            char cn[DUET_PARAM_NAME_MAX];
            snprintf(cn, sizeof cn, "%s.conv", nm);
            /* transposed (ablation): ConvTranspose2d(k=2, s=2) as a 1x1 conv
             * to 4 c_l channels + pixel shuffle; the BN follows the shuffle */
            if (c->transposed) def_conv(b, &a->up[l].conv, cn, a->ch[l + 1], 4 * a->ch[l], 1, 1, 0);
            else def_conv(b, &a->up[l].conv, cn, a->ch[l + 1], a->ch[l], 3, 1, 0);
            snprintf(cn, sizeof cn, "%s.bn", nm);
            def_bn(b, &a->up[l].bn, cn, a->ch[l]);
        }
        snprintf(nm, sizeof nm, "dec%d", l);
        def_cbr(b, &a->dec[l], nm, 2 * a->ch[l], a->ch[l], 3);
    }
    def_conv(b, &a->head, "head", a->ch[0], 2 * c->channels, 1, 1, 1);
}

duet_sepnet_config duet_sepnet_config_default(void)
{
    duet_sepnet_config c;
    c.sample_rate = 16000;
    c.channels = 1;
    c.n_fft = 1024;
    c.hop = 256;
    c.n_freq = 512;
    c.depth = 4;
    c.base = 16;
    c.phase_ch = 8;
    c.use_fem = 1;
    c.use_sa = 1;
    c.transposed = 0;
    c.dropout = 0.1f;
    return c;
}

duet_status duet_sepnet_config_check(const duet_sepnet_config *c, duet_err *err)
{
    if (c->sample_rate < 4000 || c->sample_rate > 192000)
        return duet_err_set(err, DUET_ERR_ARG, "sample_rate %d out of range", c->sample_rate);
    if (c->channels < 1 || c->channels > 2)
        return duet_err_set(err, DUET_ERR_ARG, "channels %d must be 1 or 2", c->channels);
    if (c->n_fft < 64 || c->n_fft > 16384 || c->n_fft % 2)
        return duet_err_set(err, DUET_ERR_ARG, "n_fft %d must be even, 64..16384", c->n_fft);
    if (c->hop < 1 || c->hop > c->n_fft / 2)
        return duet_err_set(err, DUET_ERR_ARG, "hop %d must be 1..n_fft/2", c->hop);
    if (c->depth < 1 || c->depth > SN_MAX_LEVELS)
        return duet_err_set(err, DUET_ERR_ARG, "depth %d must be 1..%d", c->depth, SN_MAX_LEVELS);
    if (c->n_freq < 1 || c->n_freq > c->n_fft / 2 + 1 || c->n_freq % (1 << c->depth))
        return duet_err_set(err, DUET_ERR_ARG, "n_freq %d must be <= n_fft/2+1 and divisible by 2^depth",
                            c->n_freq);
    if (c->base < 2 || c->base > 256)
        return duet_err_set(err, DUET_ERR_ARG, "base %d must be 2..256", c->base);
    if (c->phase_ch < 0 || c->phase_ch >= c->base)
        return duet_err_set(err, DUET_ERR_ARG, "phase_ch %d must be 0..base-1", c->phase_ch);
    if (!(c->dropout >= 0.0f && c->dropout < 1.0f))
        return duet_err_set(err, DUET_ERR_ARG, "dropout must be in [0, 1)");
    return DUET_OK;
}

static void init_conv(duet_params *p, const sn_conv *c, duet_rng *rng)
{
    float bound = 1.0f / sqrtf((float)(c->ci * c->k * c->k));
    duet_init_uniform(duet_params_data(p, (size_t)c->w), p->info[c->w].numel, -bound, bound, rng);
    if (c->b >= 0) duet_init_uniform(duet_params_data(p, (size_t)c->b), p->info[c->b].numel, -bound, bound, rng);
}

static duet_status make_model(const duet_sepnet_config *cfg, sepnet **out, duet_err *err)
{
    *out = NULL;
    duet_status st = duet_sepnet_config_check(cfg, err);
    if (st) return st;
    sepnet *m = calloc(1, sizeof *m);
    duet_sepnet_arch *a = calloc(1, sizeof *a);
    sn_builder b = {0};
    if (!m || !a) {
        free(m);
        free(a);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    m->cfg = *cfg;
    m->arch = a;
    build_arch(&b, a, cfg);
    if (b.oom) {
        st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    } else {
        for (size_t i = 0; i < b.n; i++) b.specs[i].name = b.names[i];
        st = duet_params_new(b.specs, b.n, &m->params, err);
    }
    free(b.specs);
    free(b.names);
    if (st) {
        duet_sepnet_free(m);
        return st;
    }
    *out = m;
    return DUET_OK;
}

duet_status duet_sepnet_new(const duet_sepnet_config *cfg, duet_rng *rng, sepnet **out, duet_err *err)
{
    duet_status st = make_model(cfg, out, err);
    if (st) return st;
    duet_params *p = (*out)->params;
    /* Convs and attention projections: PyTorch default U(+-1/sqrt(fan_in));
     * BN weight and running variance 1, everything else 0 (incl. SA gains). */
    for (size_t i = 0; i < p->count; i++) {
        const duet_param_info *in = &p->info[i];
        float *d = duet_params_data(p, i);
        size_t len = strlen(in->name);
        if (in->ndim >= 2) {
            size_t fan_in = in->numel / (size_t)in->shape[0];
            float bound = 1.0f / sqrtf((float)fan_in);
            duet_init_uniform(d, in->numel, -bound, bound, rng);
        } else if ((len >= 9 && strcmp(in->name + len - 9, "bn.weight") == 0) ||
                   (len >= 11 && strcmp(in->name + len - 11, "running_var") == 0)) {
            duet_init_const(d, in->numel, 1.0f);
        } else {
            duet_init_const(d, in->numel, 0.0f);
        }
    }
    /* the head conv again, bias included, as PyTorch initialises a biased conv
     * (kept: the shipped model was trained from this initialisation) */
    init_conv(p, &(*out)->arch->head, rng);
    return DUET_OK;
}

void duet_sepnet_free(sepnet *m)
{
    if (!m) return;
    duet_params_free(m->params);
    free(m->arch);
    free(m);
}

/* ------------------------------------------------------------- save/load */

#define CFG_INT_FIELDS(X) X(sample_rate) X(n_fft) X(hop) X(n_freq) X(depth) X(base) \
    X(phase_ch) X(use_fem) X(use_sa) X(transposed)

duet_status duet_sepnet_save(const sepnet *m, const char *path, const char *const *extra_kv, int n_extra,
                        duet_err *err)
{
    if (n_extra < 0 || n_extra > 64) return duet_err_set(err, DUET_ERR_ARG, "sepnet_save: %d extra metadata pairs", n_extra);
    enum { N_CFG = 14 };
    char buf[N_CFG][32];
    duet_meta_kv meta[N_CFG + 64];
    size_t n = 0;
    meta[n].key = "version", meta[n].value = SN_VERSION, n++;
#define PUT(f)                                                 \
    snprintf(buf[n], sizeof buf[n], "%d", m->cfg.f);           \
    meta[n].key = #f, meta[n].value = buf[n], n++;
    CFG_INT_FIELDS(PUT)
#undef PUT
    if (m->cfg.channels != 1) { /* absent = 1: files of mono models stay as they were */
        snprintf(buf[n], sizeof buf[n], "%d", m->cfg.channels);
        meta[n].key = "channels", meta[n].value = buf[n], n++;
    }
    snprintf(buf[n], sizeof buf[n], "%.9g", (double)m->cfg.dropout);
    meta[n].key = "dropout", meta[n].value = buf[n], n++;
    for (int i = 0; i < n_extra; i++) meta[n].key = extra_kv[2 * i], meta[n].value = extra_kv[2 * i + 1], n++;
    return duet_params_save(path, m->params, SN_FORMAT, meta, n, err);
}

static int meta_int(const duet_st_file *f, const char *key, int *out)
{
    const char *v = duet_st_meta(f, key);
    if (!v) return -1;
    char *end;
    long x = strtol(v, &end, 10);
    if (end == v || *end || x < -1000000 || x > 1000000) return -1;
    *out = (int)x;
    return 0;
}

static duet_status load_from(duet_st_file *f, sepnet **out, duet_err *err);

duet_status duet_sepnet_load(const char *path, sepnet **out, duet_err *err)
{
    *out = NULL;
    duet_st_file *f;
    duet_status st = duet_st_load(path, &f, err);
    if (st) return st;
    return load_from(f, out, err);
}

duet_status duet_sepnet_load_buffer(const void *buf, size_t len, sepnet **out, duet_err *err)
{
    *out = NULL;
    duet_st_file *f;
    duet_status st = duet_st_parse(buf, len, &f, err);
    if (st) return st;
    return load_from(f, out, err);
}

/* Takes ownership of f (freed on every path). */
static duet_status load_from(duet_st_file *f, sepnet **out, duet_err *err)
{
    duet_status st = DUET_OK;
    const char *fmt = duet_st_meta(f, "format"), *ver = duet_st_meta(f, "version");
    /* format the message before duet_st_free: fmt and ver belong to f */
    if (!fmt || strcmp(fmt, SN_FORMAT) != 0) {
        st = duet_err_set(err, DUET_ERR_FORMAT, "not a duet separation model (metadata format is %s%s%s)",
                          fmt ? "\"" : "", fmt ? fmt : "missing", fmt ? "\"" : "");
        duet_st_free(f);
        return st;
    }
    if (!ver || strcmp(ver, SN_VERSION) != 0) {
        st = duet_err_set(err, DUET_ERR_FORMAT, "unsupported model version %s (this duet reads %s)",
                          ver ? ver : "(missing)", SN_VERSION);
        duet_st_free(f);
        return st;
    }
    duet_sepnet_config c;
    memset(&c, 0, sizeof c);
#define GET(fld)                                                                        \
    if (meta_int(f, #fld, &c.fld)) {                                                    \
        duet_st_free(f);                                                                \
        return duet_err_set(err, DUET_ERR_FORMAT, "model metadata: missing or bad \"%s\"", #fld); \
    }
    CFG_INT_FIELDS(GET)
#undef GET
    c.channels = 1;
    if (duet_st_meta(f, "channels") && meta_int(f, "channels", &c.channels)) {
        duet_st_free(f);
        return duet_err_set(err, DUET_ERR_FORMAT, "model metadata: bad \"channels\"");
    }
    const char *dr = duet_st_meta(f, "dropout");
    c.dropout = dr ? strtof(dr, NULL) : 0.0f;
    sepnet *m;
    st = make_model(&c, &m, err);
    if (st) {
        duet_st_free(f);
        return st;
    }
    const duet_params *p = m->params;
    for (size_t i = 0; i < p->count && !st; i++) {
        const float *src;
        st = duet_st_get_f32(f, p->info[i].name, p->info[i].ndim, p->info[i].shape, &src, err);
        if (!st) {
            memcpy(duet_params_data(p, i), src, p->info[i].numel * sizeof(float));
            for (size_t j = 0; j < p->info[i].numel; j++)
                if (!isfinite(src[j])) {
                    st = duet_err_set(err, DUET_ERR_NAN, "tensor \"%s\" holds NaN or Inf", p->info[i].name);
                    break;
                }
        }
    }
    if (!st && duet_st_count(f) != p->count)
        st = duet_err_set(err, DUET_ERR_SHAPE, "model file has %zu tensors, the architecture %zu",
                          duet_st_count(f), p->count);
    duet_st_free(f);
    if (st) {
        duet_sepnet_free(m);
        return st;
    }
    *out = m;
    return DUET_OK;
}

/* ---------------------------------------------------------------- features */

static float wrap_pi(float x)
{
    const float pi = 3.14159265358979f;
    x = fmodf(x + pi, 2.0f * pi);
    if (x < 0) x += 2.0f * pi;
    return x - pi;
}

void duet_sepnet_features(float *feat, const float *spec, int64_t n_frames, int n_bins, int64_t t0, int T,
                     const duet_sepnet_config *c)
{
    const float pi = 3.14159265358979f;
    int F = c->n_freq;
    size_t plane = (size_t)F * T;
    float *mag = feat, *ifd = feat + plane, *gd = feat + 2 * plane;
    for (int j = 0; j < T; j++) {
        int64_t t = t0 + j;
        int in = t >= 0 && t < n_frames;
        const float *fr = in ? spec + (size_t)t * n_bins * 2 : NULL;
        const float *pv = in && t > 0 ? spec + (size_t)(t - 1) * n_bins * 2 : NULL;
        float peak = 0;
        if (in)
            for (int k = 0; k < F; k++) {
                float m = hypotf(fr[2 * k], fr[2 * k + 1]);
                if (m > peak) peak = m;
            }
        float floor_ = peak * 1e-6f;
        float prev_ph = 0;
        for (int k = 0; k < F; k++) {
            size_t o = (size_t)k * T + j;
            if (!in) {
                mag[o] = ifd[o] = gd[o] = 0.0f;
                continue;
            }
            float re = fr[2 * k], im = fr[2 * k + 1];
            float m = hypotf(re, im);
            float ph = atan2f(im, re);
            mag[o] = log1pf(m);
            if (m <= floor_ || m == 0.0f) {
                ifd[o] = gd[o] = 0.0f;
            } else {
                float dt = 0.0f;
                if (pv) {
                    float pph = atan2f(pv[2 * k + 1], pv[2 * k]);
                    dt = wrap_pi(ph - pph - 2.0f * pi * (float)k * (float)c->hop / (float)c->n_fft) / pi;
                }
                ifd[o] = dt;
                gd[o] = k > 0 ? wrap_pi(-(ph - prev_ph)) / pi : 0.0f;
            }
            prev_ph = ph;
        }
    }
}
