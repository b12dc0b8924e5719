/* nn/dnnl_conv.c: convolution forward through oneDNN 2.x's C API (see
 * dnnl_conv.h). */
#include "dnnl_conv.h"

#include <dnnl.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SHAPES 64   /* primitive sets kept per context */
#define MAX_WEIGHTS 256 /* reordered weight tensors kept per context */

typedef struct shape_entry {
    duet_conv2d_dims d;
    int has_bias, relu;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t conv, r_src, r_dst; /* reorders NULL when the layouts already agree */
    dnnl_memory_t u_src, u_dst, u_bias;  /* user NCHW memories (handles set per call) */
    dnnl_memory_t b_src, b_dst;          /* oneDNN's layouts (allocated) */
    const dnnl_memory_desc_t *w_md;      /* the weights layout the conv wants (owned by pd) */
    dnnl_memory_desc_t u_w_md;
} shape_entry;

typedef struct weight_entry {
    int shape;                          /* index into shapes */
    const float *w;                     /* the caller's pointer */
    dnnl_memory_t mem;                  /* reordered copy */
    unsigned long long last_use;
} weight_entry;

struct duet_dnnl {
    dnnl_engine_t eng;
    dnnl_stream_t stream;
    shape_entry shapes[MAX_SHAPES];
    int n_shapes;
    weight_entry weights[MAX_WEIGHTS];
    int n_weights;
    unsigned long long clock;
};

static void shape_free(shape_entry *e)
{
    if (e->conv) dnnl_primitive_destroy(e->conv);
    if (e->r_src) dnnl_primitive_destroy(e->r_src);
    if (e->r_dst) dnnl_primitive_destroy(e->r_dst);
    if (e->pd) dnnl_primitive_desc_destroy(e->pd);
    dnnl_memory_t m[5] = {e->u_src, e->u_dst, e->u_bias, e->b_src, e->b_dst};
    for (int i = 0; i < 5; i++)
        if (m[i]) dnnl_memory_destroy(m[i]);
    memset(e, 0, sizeof *e);
}

void duet_dnnl_forget_weights(duet_dnnl *c)
{
    if (!c) return;
    for (int i = 0; i < c->n_weights; i++)
        if (c->weights[i].mem) dnnl_memory_destroy(c->weights[i].mem);
    c->n_weights = 0;
}

void duet_dnnl_free(duet_dnnl *c)
{
    if (!c) return;
    duet_dnnl_forget_weights(c);
    for (int i = 0; i < c->n_shapes; i++) shape_free(&c->shapes[i]);
    if (c->stream) dnnl_stream_destroy(c->stream);
    if (c->eng) dnnl_engine_destroy(c->eng);
    free(c);
}

duet_status duet_dnnl_new(duet_dnnl **out, duet_err *err)
{
    *out = NULL;
    duet_dnnl *c = calloc(1, sizeof *c);
    if (!c) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    if (dnnl_engine_create(&c->eng, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&c->stream, c->eng, dnnl_stream_default_flags) != dnnl_success) {
        duet_dnnl_free(c);
        return duet_err_set(err, DUET_ERR_UNSUPPORTED, "oneDNN: cannot create a CPU engine");
    }
    *out = c;
    return DUET_OK;
}

int duet_dnnl_conv_wins(const duet_conv2d_dims *d) { return d->Ci >= 32 && d->Co >= 32; }

static int same_dims(const duet_conv2d_dims *a, const duet_conv2d_dims *b)
{
    return a->B == b->B && a->Ci == b->Ci && a->H == b->H && a->W == b->W && a->Co == b->Co && a->kh == b->kh &&
           a->kw == b->kw && a->sh == b->sh && a->sw == b->sw && a->ph == b->ph && a->pw == b->pw && a->dh == b->dh &&
           a->dw == b->dw;
}

/* A reorder primitive from `from` to `to`, or NULL when they are equal. */
static dnnl_status_t make_reorder(dnnl_engine_t eng, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
                                  dnnl_primitive_t *out)
{
    *out = NULL;
    if (dnnl_memory_desc_equal(from, to)) return dnnl_success;
    dnnl_primitive_desc_t rpd;
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&rpd, from, eng, to, eng, NULL);
    if (s != dnnl_success) return s;
    s = dnnl_primitive_create(out, rpd);
    dnnl_primitive_desc_destroy(rpd);
    return s;
}

static shape_entry *get_shape(duet_dnnl *c, const duet_conv2d_dims *d, int has_bias, int relu, int *index,
                              duet_err *err, duet_status *st)
{
    for (int i = 0; i < c->n_shapes; i++)
        if (same_dims(&c->shapes[i].d, d) && c->shapes[i].has_bias == has_bias && c->shapes[i].relu == relu) {
            *index = i;
            return &c->shapes[i];
        }
    if (c->n_shapes == MAX_SHAPES) { /* full: start again (shapes are few in practice) */
        duet_dnnl_forget_weights(c);
        for (int i = 0; i < c->n_shapes; i++) shape_free(&c->shapes[i]);
        c->n_shapes = 0;
    }
    shape_entry *e = &c->shapes[c->n_shapes];
    memset(e, 0, sizeof *e);
    e->d = *d;
    e->has_bias = has_bias;
    e->relu = relu;
    dnnl_dims_t sd = {d->B, d->Ci, d->H, d->W}, dd = {d->B, d->Co, d->Ho, d->Wo}, wd = {d->Co, d->Ci, d->kh, d->kw},
                bd = {d->Co};
    dnnl_memory_desc_t u_src, u_dst, a_src, a_dst, a_w, u_b;
    dnnl_status_t s = dnnl_memory_desc_init_by_tag(&u_src, 4, sd, dnnl_f32, dnnl_nchw);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&u_dst, 4, dd, dnnl_f32, dnnl_nchw);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&e->u_w_md, 4, wd, dnnl_f32, dnnl_oihw);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&u_b, 1, bd, dnnl_f32, dnnl_x);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&a_src, 4, sd, dnnl_f32, dnnl_format_tag_any);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&a_dst, 4, dd, dnnl_f32, dnnl_format_tag_any);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&a_w, 4, wd, dnnl_f32, dnnl_format_tag_any);
    /* PyTorch's floor: the right/bottom padding that gives exactly Ho x Wo */
    long kh_eff = (long)(d->kh - 1) * d->dh + 1, kw_eff = (long)(d->kw - 1) * d->dw + 1;
    dnnl_dims_t strides = {d->sh, d->sw}, dil = {d->dh - 1, d->dw - 1}, pl = {d->ph, d->pw},
                pr = {(long)(d->Ho - 1) * d->sh + kh_eff - d->H - d->ph, (long)(d->Wo - 1) * d->sw + kw_eff - d->W - d->pw};
    dnnl_convolution_desc_t cd;
    if (s == dnnl_success)
        s = dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &a_src,
                                                       &a_w, has_bias ? &u_b : NULL, &a_dst, strides, dil, pl, pr);
    /* ReLU fused as a post-op (inference: conv + folded BN + ReLU in one pass) */
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    if (s == dnnl_success && relu) {
        s = dnnl_primitive_attr_create(&attr);
        if (s == dnnl_success) s = dnnl_post_ops_create(&ops);
        if (s == dnnl_success) s = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
        if (s == dnnl_success) s = dnnl_primitive_attr_set_post_ops(attr, ops);
    }
    if (s == dnnl_success) s = dnnl_primitive_desc_create(&e->pd, &cd, attr, c->eng, NULL);
    if (ops) dnnl_post_ops_destroy(ops);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (s == dnnl_success) s = dnnl_primitive_create(&e->conv, e->pd);
    const dnnl_memory_desc_t *q_src = NULL, *q_dst = NULL;
    if (s == dnnl_success) {
        q_src = dnnl_primitive_desc_query_md(e->pd, dnnl_query_src_md, 0);
        q_dst = dnnl_primitive_desc_query_md(e->pd, dnnl_query_dst_md, 0);
        e->w_md = dnnl_primitive_desc_query_md(e->pd, dnnl_query_weights_md, 0);
        s = make_reorder(c->eng, &u_src, q_src, &e->r_src);
    }
    if (s == dnnl_success) s = make_reorder(c->eng, q_dst, &u_dst, &e->r_dst);
    if (s == dnnl_success) s = dnnl_memory_create(&e->u_src, &u_src, c->eng, DNNL_MEMORY_NONE);
    if (s == dnnl_success) s = dnnl_memory_create(&e->u_dst, &u_dst, c->eng, DNNL_MEMORY_NONE);
    if (s == dnnl_success && has_bias) s = dnnl_memory_create(&e->u_bias, &u_b, c->eng, DNNL_MEMORY_NONE);
    if (s == dnnl_success && e->r_src) s = dnnl_memory_create(&e->b_src, q_src, c->eng, DNNL_MEMORY_ALLOCATE);
    if (s == dnnl_success && e->r_dst) s = dnnl_memory_create(&e->b_dst, q_dst, c->eng, DNNL_MEMORY_ALLOCATE);
    if (s != dnnl_success) {
        shape_free(e);
        *st = duet_err_set(err, s == dnnl_out_of_memory ? DUET_ERR_NOMEM : DUET_ERR_UNSUPPORTED,
                           "oneDNN: convolution %dx%d, %d -> %d channels, %dx%d input: status %d", d->kh, d->kw, d->Ci,
                           d->Co, d->H, d->W, (int)s);
        return NULL;
    }
    *index = c->n_shapes++;
    return e;
}

/* The weights in the conv's layout, reordered on first use. */
static dnnl_memory_t get_weights(duet_dnnl *c, int shape, const float *w, duet_err *err, duet_status *st)
{
    c->clock++;
    for (int i = 0; i < c->n_weights; i++)
        if (c->weights[i].shape == shape && c->weights[i].w == w) {
            c->weights[i].last_use = c->clock;
            return c->weights[i].mem;
        }
    int slot = c->n_weights, appended = 0;
    if (slot == MAX_WEIGHTS) { /* evict the least recently used */
        slot = 0;
        for (int i = 1; i < MAX_WEIGHTS; i++)
            if (c->weights[i].last_use < c->weights[slot].last_use) slot = i;
        dnnl_memory_destroy(c->weights[slot].mem);
    } else {
        c->n_weights++;
        appended = 1;
    }
    shape_entry *e = &c->shapes[shape];
    weight_entry *we = &c->weights[slot];
    memset(we, 0, sizeof *we);
    dnnl_memory_t user = NULL;
    dnnl_primitive_t r = NULL;
    dnnl_status_t s = dnnl_memory_create(&we->mem, e->w_md, c->eng, DNNL_MEMORY_ALLOCATE);
    if (s == dnnl_success) s = dnnl_memory_create(&user, &e->u_w_md, c->eng, (void *)w);
    if (s == dnnl_success) s = make_reorder(c->eng, &e->u_w_md, e->w_md, &r);
    if (s == dnnl_success) {
        if (r) {
            dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, we->mem}};
            s = dnnl_primitive_execute(r, c->stream, 2, a);
            if (s == dnnl_success) s = dnnl_stream_wait(c->stream);
        } else {
            void *h = NULL;
            s = dnnl_memory_get_data_handle(we->mem, &h);
            if (s == dnnl_success) memcpy(h, w, sizeof(float) * (size_t)e->d.Co * e->d.Ci * e->d.kh * e->d.kw);
        }
    }
    if (r) dnnl_primitive_destroy(r);
    if (user) dnnl_memory_destroy(user);
    if (s != dnnl_success) {
        if (we->mem) dnnl_memory_destroy(we->mem);
        memset(we, 0, sizeof *we);
        if (appended) c->n_weights--;
        else { /* an evicted slot: move the last entry into it */
            *we = c->weights[--c->n_weights];
            memset(&c->weights[c->n_weights], 0, sizeof *we);
        }
        *st = duet_err_set(err, DUET_ERR_UNSUPPORTED, "oneDNN: cannot reorder weights (status %d)", (int)s);
        return NULL;
    }
    we->shape = shape;
    we->w = w;
    we->last_use = c->clock;
    return we->mem;
}

duet_status duet_dnnl_conv2d_forward(duet_dnnl *c, float *out, const float *inp, const float *w, const float *bias,
                                     const duet_conv2d_dims *d, duet_err *err)
{
    return duet_dnnl_conv2d_forward_relu(c, out, inp, w, bias, d, 0, err);
}

duet_status duet_dnnl_conv2d_forward_relu(duet_dnnl *c, float *out, const float *inp, const float *w,
                                          const float *bias, const duet_conv2d_dims *d, int relu, duet_err *err)
{
    if (!c || !out || !inp || !w || !d) return duet_err_set(err, DUET_ERR_ARG, "oneDNN conv: missing arguments");
    duet_status st = DUET_OK;
    int idx = -1;
    shape_entry *e = get_shape(c, d, bias != NULL, relu != 0, &idx, err, &st);
    if (!e) return st;
    dnnl_memory_t wm = get_weights(c, idx, w, err, &st);
    if (!wm) return st;
    dnnl_status_t s = dnnl_memory_set_data_handle(e->u_src, (void *)inp);
    if (s == dnnl_success) s = dnnl_memory_set_data_handle(e->u_dst, out);
    if (s == dnnl_success && bias) s = dnnl_memory_set_data_handle(e->u_bias, (void *)bias);
    if (s == dnnl_success && e->r_src) {
        dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, e->u_src}, {DNNL_ARG_TO, e->b_src}};
        s = dnnl_primitive_execute(e->r_src, c->stream, 2, a);
    }
    if (s == dnnl_success) {
        dnnl_exec_arg_t a[4] = {{DNNL_ARG_SRC, e->r_src ? e->b_src : e->u_src},
                                {DNNL_ARG_WEIGHTS, wm},
                                {DNNL_ARG_DST, e->r_dst ? e->b_dst : e->u_dst},
                                {DNNL_ARG_BIAS, e->u_bias}};
        s = dnnl_primitive_execute(e->conv, c->stream, bias ? 4 : 3, a);
    }
    if (s == dnnl_success && e->r_dst) {
        dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, e->b_dst}, {DNNL_ARG_TO, e->u_dst}};
        s = dnnl_primitive_execute(e->r_dst, c->stream, 2, a);
    }
    if (s == dnnl_success) s = dnnl_stream_wait(c->stream);
    if (s != dnnl_success)
        return duet_err_set(err, DUET_ERR_UNSUPPORTED, "oneDNN: convolution failed (status %d)", (int)s);
    return DUET_OK;
}
