/* separation/sepnet.c: the SA/FEM encoder-decoder separation network (see
 * sepnet.h for the architecture), its parameter table, forward and backward
 * passes through a small tape of nn/ layer calls, save/load, and the input
 * features (log magnitude + phase derivatives).
 *
 * Every forward runs twice through the same code: a counting pass that only
 * sizes the activation arena and the scratch buffer, then the real pass.
 * Each node of the tape keeps what its backward needs; backward walks the
 * tape in reverse and accumulates gradients (nn/ convention). */
#include "sepnet.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../nn/nn.h"
#include "../nn/dnnl_conv.h"

#define SN_FORMAT "duet-sepnet"
#define SN_VERSION "1"
#define SN_MAX_LEVELS 6
#define SN_MAX_NODES 256
#define SN_MAX_TENSORS 256
#define SN_MAX_SPLIT 8 /* workers an evaluation batch is split over */

/* ------------------------------------------------------------ layer table */

typedef struct sn_conv {
    long w, b; /* parameter indices; b = -1 without bias */
    int ci, co, k, dil;
} sn_conv;

typedef struct sn_bn {
    long g, b, rm, rv;
    int c;
} sn_bn;

typedef struct sn_cbr { /* conv 3x3 (no bias) + BN + [dropout] + ReLU */
    sn_conv conv;
    sn_bn bn;
} sn_cbr;

typedef struct sn_attn {
    long wq, bq, wk, bk, wv, bv, gamma;
    int c, cq, axis;
} sn_attn;

typedef struct sn_fem {
    sn_cbr br[3];
    sn_attn sa;
    int c;
} sn_fem;

struct duet_sepnet_arch {
    int ch[SN_MAX_LEVELS + 1]; /* channels per level */
    sn_cbr stem_mag, stem_ph;
    sn_fem fem_ph, fem_b;
    sn_attn sa_b;              /* bottleneck SA when there is no FEM */
    sn_cbr enc[SN_MAX_LEVELS][2];
    sn_cbr bott;
    sn_cbr up[SN_MAX_LEVELS];  /* bilinear: 3x3 conv c_{l+1} -> c_l; transposed: 1x1 -> 4 c_l */
    sn_cbr dec[SN_MAX_LEVELS];
    sn_conv head;
};

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

/* ------------------------------------------------------------------ tape */

typedef struct sn_t {
    float *x, *g;
    int B, C, H, W;
} sn_t;

enum { OP_CONV, OP_BDR, OP_MAXPOOL, OP_AVGPOOL, OP_UP, OP_CONCAT, OP_ADD, OP_ATTN, OP_SHUFFLE, OP_MASK };

typedef struct sn_node {
    int op, out, a, b;
    const sn_conv *conv;
    const sn_bn *bn;
    const sn_attn *attn;
    duet_conv2d_dims cd;
    duet_pool2d_dims pd;
    duet_attn_dims ad;
    float *c1, *c2;     /* caches: BN mean/invstd, attention cache */
    int32_t *argmax;
    uint8_t *mask;
    float p;            /* dropout rate */
} sn_node;

struct duet_sepnet_run {
    const sepnet *m;
    sn_t t[SN_MAX_TENSORS];
    int nt;
    sn_node n[SN_MAX_NODES];
    int nn;
    int counting, train;
    duet_rng *rng;
    /* activation arena (floats; int32/uint8 caches are carved as floats) */
    float *arena;
    size_t cap, used;
    float *garena;     /* gradients */
    size_t gcap;
    float *work;       /* scratch shared by all nodes */
    size_t work_cap, work_need;
    const float *masks;
    int out_t;
    /* evaluation split over items: one sub-run per worker, masks gathered */
    duet_sepnet_run *sub[SN_MAX_SPLIT];
    /* evaluation convolutions through oneDNN where it wins (nn/dnnl_conv.h) */
    duet_dnnl *dnnl;
    int reference;     /* 1 = the reference engine only */
    float *split_out;
    size_t split_cap;
};

duet_status duet_sepnet_run_new(const sepnet *m, duet_sepnet_run **out, duet_err *err)
{
    duet_sepnet_run *r = calloc(1, sizeof *r);
    if (!r) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    r->m = m;
    *out = r;
    return DUET_OK;
}

void duet_sepnet_run_free(duet_sepnet_run *r)
{
    if (!r) return;
    duet_free_aligned(r->arena);
    duet_free_aligned(r->garena);
    duet_free_aligned(r->work);
    for (int i = 0; i < SN_MAX_SPLIT; i++) duet_sepnet_run_free(r->sub[i]);
    duet_dnnl_free(r->dnnl);
    free(r->split_out);
    free(r);
}

static float *take(duet_sepnet_run *r, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (r->counting) {
        r->used += n;
        return NULL;
    }
    DUET_CHECK(r->used + n <= r->cap);
    float *p = r->arena + r->used;
    r->used += n;
    return p;
}

static void need_work(duet_sepnet_run *r, size_t n)
{
    if (n > r->work_need) r->work_need = n;
}

static int new_t(duet_sepnet_run *r, int B, int C, int H, int W)
{
    DUET_CHECK(r->nt < SN_MAX_TENSORS);
    sn_t *t = &r->t[r->nt];
    t->B = B;
    t->C = C;
    t->H = H;
    t->W = W;
    t->g = NULL;
    t->x = take(r, (size_t)B * C * H * W);
    return r->nt++;
}

static size_t numel(const sn_t *t) { return (size_t)t->B * t->C * t->H * t->W; }

static sn_node *new_node(duet_sepnet_run *r, int op)
{
    DUET_CHECK(r->nn < SN_MAX_NODES);
    sn_node *n = &r->n[r->nn++];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->b = -1;
    return n;
}

static const float *P(const duet_sepnet_run *r, long i) { return duet_params_data(r->m->params, (size_t)i); }

/* An evaluation convolution: oneDNN where it wins and works, else the reference. */
static void eval_conv(duet_sepnet_run *r, float *y, const float *x, const float *w, const float *b,
                      const duet_conv2d_dims *d, int relu)
{
    if (!r->train && !r->reference && duet_dnnl_conv_wins(d)) {
        if (!r->dnnl && duet_dnnl_new(&r->dnnl, NULL) != DUET_OK) r->reference = 1;
        if (r->dnnl && duet_dnnl_conv2d_forward_relu(r->dnnl, y, x, w, b, d, relu, NULL) == DUET_OK) return;
        r->reference = 1; /* oneDNN refused this machine or shape: stay on the reference */
    }
    duet_conv2d_forward(y, r->work, r->work_cap, x, w, b, d);
    if (relu) duet_relu_forward(y, y, (size_t)d->B * d->Co * d->Ho * d->Wo);
}

void duet_sepnet_run_set_reference(duet_sepnet_run *r, int on)
{
    if (!r) return;
    r->reference = on ? 1 : 0;
    for (int i = 0; i < SN_MAX_SPLIT; i++)
        if (r->sub[i]) duet_sepnet_run_set_reference(r->sub[i], on);
}

static int op_conv(duet_sepnet_run *r, int a, const sn_conv *c)
{
    const sn_t *x = &r->t[a];
    int pad = c->dil * (c->k - 1) / 2;
    sn_node *n = new_node(r, OP_CONV);
    DUET_CHECK(x->C == c->ci);
    DUET_CHECK(duet_conv2d_dims_make(&n->cd, x->B, x->C, x->H, x->W, c->co, c->k, 1, pad, c->dil) == 0);
    n->a = a;
    n->conv = c;
    n->out = new_t(r, x->B, c->co, n->cd.Ho, n->cd.Wo);
    need_work(r, duet_conv2d_work_floats(&n->cd, duet_nn_workers()));
    if (r->counting) return n->out;
    eval_conv(r, r->t[n->out].x, r->t[a].x, P(r, c->w), c->b >= 0 ? P(r, c->b) : NULL, &n->cd, 0);
    return n->out;
}

/* BN -> dropout (p) -> ReLU, out-of-place. */
static int op_bdr(duet_sepnet_run *r, int a, const sn_bn *bn, float p)
{
    const sn_t x = r->t[a];
    sn_node *n = new_node(r, OP_BDR);
    DUET_CHECK(x.C == bn->c);
    n->a = a;
    n->bn = bn;
    n->p = r->train ? p : 0.0f;
    n->out = new_t(r, x.B, x.C, x.H, x.W);
    size_t cnt = numel(&x);
    if (r->train) {
        n->c1 = take(r, (size_t)x.C);
        n->c2 = take(r, (size_t)x.C);
        if (n->p > 0) n->mask = (uint8_t *)take(r, (cnt + 3) / 4);
    }
    need_work(r, cnt);
    if (r->counting) return n->out;
    float *y = r->t[n->out].x;
    duet_params *pp = r->m->params;
    int HW = x.H * x.W;
    if (r->train)
        duet_bn2d_forward_train(y, n->c1, n->c2, duet_params_data(pp, (size_t)bn->rm),
                                duet_params_data(pp, (size_t)bn->rv), x.x, P(r, bn->g), P(r, bn->b),
                                x.B, x.C, HW, 0.1f, 1e-5f);
    else
        duet_bn2d_forward_eval(y, x.x, P(r, bn->g), P(r, bn->b), P(r, bn->rm), P(r, bn->rv), x.B,
                               x.C, HW, 1e-5f);
    if (n->p > 0) duet_dropout_forward(y, n->mask, y, cnt, n->p, r->rng);
    duet_relu_forward(y, y, cnt);
    return n->out;
}

/* conv (no bias) -> BN -> dropout (p) -> ReLU. In evaluation the BN is
 * folded into the conv (w' = w g / sqrt(var + eps), bias' = b - mean g /
 * sqrt(var + eps)) and the ReLU runs in place: one pass over the output
 * instead of three, one activation instead of two. */
static int op_conv_bdr(duet_sepnet_run *r, int a, const sn_conv *c, const sn_bn *bn, float p)
{
    if (r->train || c->b >= 0) return op_bdr(r, op_conv(r, a, c), bn, p);
    const sn_t *x = &r->t[a];
    int pad = c->dil * (c->k - 1) / 2;
    sn_node *n = new_node(r, OP_CONV);
    DUET_CHECK(x->C == c->ci && bn->c == c->co);
    DUET_CHECK(duet_conv2d_dims_make(&n->cd, x->B, x->C, x->H, x->W, c->co, c->k, 1, pad, c->dil) == 0);
    n->a = a;
    n->conv = c;
    n->out = new_t(r, x->B, c->co, n->cd.Ho, n->cd.Wo);
    const size_t kk = (size_t)c->ci * c->k * c->k;
    float *wf = take(r, (size_t)c->co * kk + (size_t)c->co);
    need_work(r, duet_conv2d_work_floats(&n->cd, duet_nn_workers()));
    if (r->counting) return n->out;
    const float *w = P(r, c->w), *g = P(r, bn->g), *be = P(r, bn->b), *rm = P(r, bn->rm), *rv = P(r, bn->rv);
    float *bf = wf + (size_t)c->co * kk;
    for (int o = 0; o < c->co; o++) {
        float sc = g[o] / sqrtf(rv[o] + 1e-5f);
        for (size_t i = 0; i < kk; i++) wf[(size_t)o * kk + i] = w[(size_t)o * kk + i] * sc;
        bf[o] = be[o] - rm[o] * sc;
    }
    float *y = r->t[n->out].x;
    eval_conv(r, y, r->t[a].x, wf, bf, &n->cd, 1);
    return n->out;
}

static int op_cbr(duet_sepnet_run *r, int a, const sn_cbr *l, float p)
{
    return op_conv_bdr(r, a, &l->conv, &l->bn, p);
}

static int op_pool(duet_sepnet_run *r, int a, int k, int is_max)
{
    const sn_t x = r->t[a];
    sn_node *n = new_node(r, is_max ? OP_MAXPOOL : OP_AVGPOOL);
    n->a = a;
    DUET_CHECK(duet_pool2d_dims_make(&n->pd, x.B * x.C, x.H, x.W, k, k, k, k, 0, 0) == 0);
    n->out = new_t(r, x.B, x.C, n->pd.Ho, n->pd.Wo);
    if (is_max && r->train) n->argmax = (int32_t *)take(r, numel(&r->t[n->out]));
    if (is_max && !r->train) need_work(r, numel(&r->t[n->out]));
    if (r->counting) return n->out;
    if (is_max) {
        if (r->train) duet_maxpool2d_forward(r->t[n->out].x, n->argmax, x.x, &n->pd);
        else {
            /* evaluation: argmax into scratch */
            duet_maxpool2d_forward(r->t[n->out].x, (int32_t *)r->work, x.x, &n->pd);
        }
    } else {
        duet_avgpool2d_forward(r->t[n->out].x, x.x, &n->pd);
    }
    return n->out;
}

static int op_up(duet_sepnet_run *r, int a, int Ho, int Wo)
{
    const sn_t x = r->t[a];
    sn_node *n = new_node(r, OP_UP);
    n->a = a;
    n->out = new_t(r, x.B, x.C, Ho, Wo);
    if (r->counting) return n->out;
    duet_upsample_bilinear_forward(r->t[n->out].x, x.x, x.B * x.C, x.H, x.W, Ho, Wo);
    return n->out;
}

static int op_concat(duet_sepnet_run *r, int a, int b)
{
    const sn_t x = r->t[a], y = r->t[b];
    DUET_CHECK(x.B == y.B && x.H == y.H && x.W == y.W);
    sn_node *n = new_node(r, OP_CONCAT);
    n->a = a;
    n->b = b;
    n->out = new_t(r, x.B, x.C + y.C, x.H, x.W);
    if (r->counting) return n->out;
    duet_concat_forward(r->t[n->out].x, x.x, y.x, x.B, x.C, y.C, x.H * x.W);
    return n->out;
}

static int op_add(duet_sepnet_run *r, int a, int b)
{
    const sn_t x = r->t[a];
    DUET_CHECK(numel(&x) == numel(&r->t[b]));
    sn_node *n = new_node(r, OP_ADD);
    n->a = a;
    n->b = b;
    n->out = new_t(r, x.B, x.C, x.H, x.W);
    if (r->counting) return n->out;
    duet_add_forward(r->t[n->out].x, x.x, r->t[b].x, numel(&x));
    return n->out;
}

static int op_attn(duet_sepnet_run *r, int a, const sn_attn *at)
{
    const sn_t x = r->t[a];
    sn_node *n = new_node(r, OP_ATTN);
    n->a = a;
    n->attn = at;
    n->ad.B = x.B;
    n->ad.C = x.C;
    n->ad.H = x.H;
    n->ad.W = x.W;
    n->ad.Cq = at->cq;
    n->ad.axis = at->axis;
    n->out = new_t(r, x.B, x.C, x.H, x.W);
    if (!r->train) {
        /* evaluation: no cache (the attention maps are never stored) */
        need_work(r, duet_attn_eval_work_floats(&n->ad, duet_nn_workers()));
        if (r->counting) return n->out;
        duet_attn_forward_eval(r->t[n->out].x, r->work, r->work_cap, x.x, P(r, at->wq), P(r, at->bq),
                               P(r, at->wk), P(r, at->bk), P(r, at->wv), P(r, at->bv), P(r, at->gamma), &n->ad);
        return n->out;
    }
    n->c1 = take(r, duet_attn_cache_floats(&n->ad));
    need_work(r, duet_attn_work_floats(&n->ad, duet_nn_workers()));
    if (r->counting) return n->out;
    duet_attn_forward(r->t[n->out].x, n->c1, x.x, P(r, at->wq), P(r, at->bq), P(r, at->wk),
                      P(r, at->bk), P(r, at->wv), P(r, at->bv), P(r, at->gamma), &n->ad);
    return n->out;
}

/* pixel shuffle by 2: (B, 4C, H, W) -> (B, C, 2H, 2W), PyTorch ordering. */
static int op_shuffle(duet_sepnet_run *r, int a)
{
    const sn_t x = r->t[a];
    DUET_CHECK(x.C % 4 == 0);
    sn_node *n = new_node(r, OP_SHUFFLE);
    n->a = a;
    int C = x.C / 4;
    n->out = new_t(r, x.B, C, 2 * x.H, 2 * x.W);
    if (r->counting) return n->out;
    float *o = r->t[n->out].x;
    for (int b = 0; b < x.B; b++)
        for (int c = 0; c < C; c++)
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++) {
                    const float *src = x.x + (((size_t)b * x.C + (size_t)c * 4 + (size_t)i * 2 + j) * x.H) * x.W;
                    for (int h = 0; h < x.H; h++)
                        for (int w = 0; w < x.W; w++)
                            o[(((size_t)b * C + c) * 2 * x.H + 2 * h + i) * 2 * x.W + 2 * w + j] = src[(size_t)h * x.W + w];
                }
    return n->out;
}

/* masks: m_v = sigmoid(z_v - z_a), m_a = 1 - m_v; z (B, 2 C, H, W) holds
 * (z_v, z_a) pairs, one per audio channel. */
static int op_mask(duet_sepnet_run *r, int a)
{
    const sn_t x = r->t[a];
    DUET_CHECK(x.C % 2 == 0);
    sn_node *n = new_node(r, OP_MASK);
    n->a = a;
    n->out = new_t(r, x.B, x.C, x.H, x.W);
    if (r->counting) return n->out;
    size_t hw = (size_t)x.H * x.W;
    for (int b = 0; b < x.B * x.C / 2; b++) {
        const float *zv = x.x + (size_t)b * 2 * hw, *za = zv + hw;
        float *mv = r->t[n->out].x + (size_t)b * 2 * hw, *ma = mv + hw;
        for (size_t i = 0; i < hw; i++) {
            float d = zv[i] - za[i];
            float s = d >= 0 ? 1.0f / (1.0f + expf(-d)) : expf(d) / (1.0f + expf(d));
            mv[i] = s;
            ma[i] = 1.0f - s;
        }
    }
    return n->out;
}

static int op_fem(duet_sepnet_run *r, int x, const sn_fem *f)
{
    const sn_t t = r->t[x];
    int b1 = op_cbr(r, x, &f->br[0], 0.0f);
    int s = b1;
    for (int i = 1; i < 3; i++) {
        int k = 1 << i;
        if (t.H % k || t.W % k) continue; /* too small for this scale */
        int p = op_pool(r, x, k, 0);
        int bi = op_cbr(r, p, &f->br[i], 0.0f);
        int u = op_up(r, bi, t.H, t.W);
        s = op_add(r, s, u);
    }
    if (f->sa.wq >= 0) s = op_attn(r, s, &f->sa);
    return op_add(r, x, s);
}

static void run_graph(duet_sepnet_run *r, const float *feat, int B, int T)
{
    const duet_sepnet_config *c = &r->m->cfg;
    const duet_sepnet_arch *a = r->m->arch;
    int F = c->n_freq;
    r->nt = r->nn = 0;
    r->used = 0;
    const int C = c->channels;
    int xm = new_t(r, B, C, F, T), xp = new_t(r, B, 2 * C, F, T);
    if (!r->counting) {
        size_t plane = (size_t)F * T;
        for (int b = 0; b < B * C; b++) { /* feat (B, C, 3, F, T) */
            memcpy(r->t[xm].x + (size_t)b * plane, feat + (size_t)b * 3 * plane, plane * sizeof(float));
            memcpy(r->t[xp].x + (size_t)b * 2 * plane, feat + ((size_t)b * 3 + 1) * plane,
                   2 * plane * sizeof(float));
        }
    }
    int x = op_cbr(r, xm, &a->stem_mag, 0.0f);
    if (c->phase_ch > 0) {
        int ph = op_cbr(r, xp, &a->stem_ph, 0.0f);
        if (c->use_fem) ph = op_fem(r, ph, &a->fem_ph);
        x = op_concat(r, x, ph);
    }
    int skip[SN_MAX_LEVELS];
    for (int l = 0; l < c->depth; l++) {
        x = op_cbr(r, x, &a->enc[l][0], 0.0f);
        x = op_cbr(r, x, &a->enc[l][1], 0.0f);
        skip[l] = x;
        x = op_pool(r, x, 2, 1);
    }
    x = op_cbr(r, x, &a->bott, 0.0f);
    if (c->use_fem) x = op_fem(r, x, &a->fem_b);
    else if (c->use_sa) x = op_attn(r, x, &a->sa_b);
    for (int l = c->depth - 1; l >= 0; l--) {
        const sn_t *s = &r->t[skip[l]];
        int u;
        if (c->transposed) {
            u = op_conv(r, x, &a->up[l].conv);
            u = op_shuffle(r, u);
        } else {
            u = op_up(r, x, s->H, s->W);
            u = op_conv_bdr(r, u, &a->up[l].conv, &a->up[l].bn, c->dropout);
        }
        if (c->transposed) u = op_bdr(r, u, &a->up[l].bn, c->dropout);
        x = op_concat(r, skip[l], u);
        x = op_cbr(r, x, &a->dec[l], 0.0f);
    }
    x = op_conv(r, x, &a->head);
    r->out_t = op_mask(r, x);
}

static duet_status forward_split(duet_sepnet_run *r, const float *feat, int B, int T, int nw, const float **masks,
                                 duet_err *err)
{
    const size_t plane = (size_t)r->m->cfg.n_freq * T * r->m->cfg.channels, need = (size_t)B * 2 * plane;
    r->train = 0; /* no tape: duet_sepnet_backward must not follow */
    for (int i = 0; i < nw; i++) {
        if (!r->sub[i] && duet_sepnet_run_new(r->m, &r->sub[i], err)) return DUET_ERR_NOMEM;
        r->sub[i]->reference = r->reference;
    }
    if (need > r->split_cap) {
        free(r->split_out);
        r->split_out = malloc(need * sizeof(float));
        r->split_cap = r->split_out ? need : 0;
        if (!r->split_out) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    duet_status st[SN_MAX_SPLIT];
    duet_err errs[SN_MAX_SPLIT];
#pragma omp parallel for num_threads(nw) schedule(static, 1)
    for (int i = 0; i < nw; i++) {
        int b0 = (int)((long)B * i / nw), b1 = (int)((long)B * (i + 1) / nw);
        const float *mk = NULL;
        errs[i].msg[0] = 0;
        st[i] = duet_sepnet_forward(r->sub[i], feat + (size_t)b0 * 3 * plane, b1 - b0, T, 0, NULL, &mk, &errs[i]);
        if (!st[i]) memcpy(r->split_out + (size_t)b0 * 2 * plane, mk, (size_t)(b1 - b0) * 2 * plane * sizeof(float));
    }
    for (int i = 0; i < nw; i++)
        if (st[i]) {
            if (err) *err = errs[i];
            return st[i];
        }
    *masks = r->split_out;
    return DUET_OK;
}

duet_status duet_sepnet_forward(duet_sepnet_run *r, const float *feat, int B, int T, int train, duet_rng *rng,
                           const float **masks, duet_err *err)
{
    const duet_sepnet_config *c = &r->m->cfg;
    if (B < 1 || T < 1 || T % (1 << c->depth))
        return duet_err_set(err, DUET_ERR_ARG, "frames per chunk (%d) must be a positive multiple of %d",
                            T, 1 << c->depth);
    if (!train && B > 1) {
        /* Evaluation: split the items over the OpenMP workers, each running
         * the whole network on its items with serial layers (one parallel
         * region per forward instead of one per layer: much less time in
         * barriers, above all on a loaded machine). Items are independent in
         * evaluation, so the masks are bitwise those of the batched pass. */
        int nw = duet_nn_workers();
        if (nw > B) nw = B;
        if (nw > SN_MAX_SPLIT) nw = SN_MAX_SPLIT;
        if (nw > 1) return forward_split(r, feat, B, T, nw, masks, err);
    }
    r->train = train;
    r->rng = rng;
    /* the weights may have changed since the last forward (validation
     * during training; BN folding writes them into the arena each pass) */
    duet_dnnl_forget_weights(r->dnnl);
    r->counting = 1;
    r->work_need = 0;
    run_graph(r, feat, B, T);
    size_t need = r->used;
    if (need > r->cap) {
        duet_free_aligned(r->arena);
        r->arena = duet_alloc_floats(need);
        r->cap = r->arena ? need : 0;
        if (!r->arena) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory for activations (%zu MB)",
                                           need * 4 >> 20);
    }
    if (r->work_need > r->work_cap) {
        duet_free_aligned(r->work);
        r->work = duet_alloc_floats(r->work_need);
        r->work_cap = r->work ? r->work_need : 0;
        if (!r->work) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory for scratch");
    }
    r->counting = 0;
    run_graph(r, feat, B, T);
    *masks = r->t[r->out_t].x;
    return DUET_OK;
}

/* ---------------------------------------------------------------- backward */

static float *G(const duet_sepnet_run *r, long i) { return duet_params_grad(r->m->params, (size_t)i); }

static void back_node(duet_sepnet_run *r, sn_node *n)
{
    sn_t *o = &r->t[n->out], *a = &r->t[n->a];
    float *go = o->g;
    switch (n->op) {
    case OP_CONV:
        duet_conv2d_backward(a->g, G(r, n->conv->w), n->conv->b >= 0 ? G(r, n->conv->b) : NULL,
                             r->work, r->work_cap, go, a->x, P(r, n->conv->w), &n->cd);
        break;
    case OP_BDR: {
        size_t cnt = numel(o);
        float *tmp = r->work;
        float scale = n->p > 0 ? 1.0f / (1.0f - n->p) : 1.0f;
        for (size_t i = 0; i < cnt; i++) {
            float g = o->x[i] > 0 ? go[i] : 0.0f;
            if (n->p > 0) g = n->mask[i] ? g * scale : 0.0f;
            tmp[i] = g;
        }
        duet_bn2d_backward(a->g, G(r, n->bn->g), G(r, n->bn->b), tmp, a->x, n->c1, n->c2,
                           P(r, n->bn->g), a->B, a->C, a->H * a->W);
        break;
    }
    case OP_MAXPOOL:
        if (a->g) duet_maxpool2d_backward(a->g, go, n->argmax, &n->pd);
        break;
    case OP_AVGPOOL:
        if (a->g) duet_avgpool2d_backward(a->g, go, &n->pd);
        break;
    case OP_UP:
        if (a->g) duet_upsample_bilinear_backward(a->g, go, a->B * a->C, a->H, a->W, o->H, o->W);
        break;
    case OP_CONCAT:
        duet_concat_backward(a->g, r->t[n->b].g, go, a->B, a->C, r->t[n->b].C, a->H * a->W);
        break;
    case OP_ADD:
        if (a->g) duet_acc(a->g, go, numel(o));
        if (r->t[n->b].g) duet_acc(r->t[n->b].g, go, numel(o));
        break;
    case OP_ATTN: {
        const sn_attn *at = n->attn;
        duet_attn_backward(a->g, G(r, at->wq), G(r, at->bq), G(r, at->wk), G(r, at->bk), G(r, at->wv),
                           G(r, at->bv), G(r, at->gamma), r->work, r->work_cap, go, n->c1, a->x,
                           P(r, at->wq), P(r, at->wk), P(r, at->wv), P(r, at->gamma), &n->ad);
        break;
    }
    case OP_SHUFFLE: {
        int C = o->C;
        for (int b = 0; b < a->B; b++)
            for (int c = 0; c < C; c++)
                for (int i = 0; i < 2; i++)
                    for (int j = 0; j < 2; j++) {
                        float *dst = a->g + (((size_t)b * a->C + (size_t)c * 4 + (size_t)i * 2 + j) * a->H) * a->W;
                        for (int h = 0; h < a->H; h++)
                            for (int w = 0; w < a->W; w++)
                                dst[(size_t)h * a->W + w] +=
                                    go[(((size_t)b * C + c) * 2 * a->H + 2 * h + i) * 2 * a->W + 2 * w + j];
                    }
        break;
    }
    case OP_MASK: {
        size_t hw = (size_t)a->H * a->W;
        for (int b = 0; b < a->B * a->C / 2; b++) {
            const float *mv = o->x + (size_t)b * 2 * hw;
            const float *gv = go + (size_t)b * 2 * hw, *ga = gv + hw;
            float *dzv = a->g + (size_t)b * 2 * hw, *dza = dzv + hw;
            for (size_t i = 0; i < hw; i++) {
                float d = (gv[i] - ga[i]) * mv[i] * (1.0f - mv[i]);
                dzv[i] += d;
                dza[i] -= d;
            }
        }
        break;
    }
    }
}

void duet_sepnet_backward(duet_sepnet_run *r, const float *dmasks)
{
    DUET_CHECK(r->train && r->m->params->grad);
    /* gradient buffers for every tensor except the two inputs */
    size_t need = 0;
    for (int i = 2; i < r->nt; i++) need += (numel(&r->t[i]) + 15) & ~(size_t)15;
    if (need > r->gcap) {
        duet_free_aligned(r->garena);
        r->garena = duet_alloc_floats(need);
        DUET_CHECK(r->garena != NULL);
        r->gcap = need;
    }
    memset(r->garena, 0, need * sizeof(float));
    size_t off = 0;
    r->t[0].g = r->t[1].g = NULL;
    for (int i = 2; i < r->nt; i++) {
        r->t[i].g = r->garena + off;
        off += (numel(&r->t[i]) + 15) & ~(size_t)15;
    }
    memcpy(r->t[r->out_t].g, dmasks, numel(&r->t[r->out_t]) * sizeof(float));
    for (int i = r->nn - 1; i >= 0; i--) back_node(r, &r->n[i]);
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
