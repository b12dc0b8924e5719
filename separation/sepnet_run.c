/* separation/sepnet_run.c: the forward and backward passes of the separation
 * network (sepnet.h) through a small tape of nn/ layer calls, the evaluation
 * batch split over workers and the oneDNN convolutions.
 *
 * Every forward runs twice through the same code: a counting pass that only
 * sizes the activation arena and the scratch buffer, then the real pass.
 * Each node of the tape keeps what its backward needs; backward walks the
 * tape in reverse and accumulates gradients (nn/ convention). */
#include "sepnet.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "../nn/nn.h"
#include "../nn/dnnl_conv.h"
#include "sepnet_impl.h"

#define SN_MAX_NODES 256
#define SN_MAX_TENSORS 256
#define SN_MAX_SPLIT 8 /* workers an evaluation batch is split over */

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
