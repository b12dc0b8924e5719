/* tests/test_nn_torch.c: duet's nn layers and optimisers against PyTorch
 * 1.13 golden outputs (fixtures/nn/golden.safetensors, made by
 * fixtures/gen_nn.py). Every case recomputes the forward output and the
 * gradients from the stored inputs, parameters and upstream gradient dy,
 * and prints the max absolute and relative errors.
 *
 * Tolerances: forward outputs and gradients max abs error <= 1e-4 (values
 * are O(1); float32 with different summation orders than PyTorch), losses
 * 1e-6, Adam parameters after 5 steps 1e-6.
 *
 * With DUET_NN_INTEROP_OUT=path set, also writes a duet-made safetensors
 * file (a conv's weights, input and duet's output) for
 * `fixtures/gen_nn.py --check path` to verify in PyTorch. */
#include <stdint.h>
#include <unistd.h>

#include "../nn/nn.h"
#include "check.h"

static duet_st_file *G;

static const float *get(const char *c, const char *t, size_t n)
{
    char name[128];
    snprintf(name, sizeof name, "%s.%s", c, t);
    const duet_st_tensor *x = duet_st_get(G, name);
    if (!x || x->dtype != DUET_ST_F32 || (n && (size_t)x->numel != n)) {
        fprintf(stderr, "  fixture %s missing or wrong size (want %zu)\n", name, n);
        return NULL;
    }
    return x->data;
}

static const duet_st_tensor *tensor(const char *c, const char *t)
{
    char name[128];
    snprintf(name, sizeof name, "%s.%s", c, t);
    return duet_st_get(G, name);
}

static const int32_t *cfg(const char *c)
{
    const duet_st_tensor *x = tensor(c, "cfg");
    return x && x->dtype == DUET_ST_I32 ? x->data : NULL;
}

/* compare n floats with the fixture c.t; prints max abs and rel error */
static int cmp(const char *c, const char *t, const float *got, size_t n, double tol)
{
    const float *ref = get(c, t, n);
    if (!ref) return 0;
    double ma = 0, mr = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - ref[i]);
        if (!(e <= ma)) ma = e;
        double r = e / (fabs(ref[i]) > 1e-3 ? fabs(ref[i]) : 1e-3);
        if (r > mr) mr = r;
    }
    fprintf(stderr, "  %-10s %-7s max abs err %.2e  max rel err %.2e  (tol abs %.0e)\n", c, t, ma, mr, tol);
    return ma <= tol;
}

static float *zeros(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

static void conv_case(const char *c, int bias)
{
    const duet_st_tensor *tx = tensor(c, "x"), *tw = tensor(c, "w");
    const int32_t *k = cfg(c);
    REQUIRE(tx && tw && k && tx->ndim == 4 && tw->ndim == 4);
    duet_conv2d_dims d;
    REQUIRE(!duet_conv2d_dims_make(&d, (int)tx->shape[0], (int)tx->shape[1], (int)tx->shape[2],
                                   (int)tx->shape[3], (int)tw->shape[0], k[0], k[1], k[2], k[3]));
    size_t nx = (size_t)tx->numel, nw = (size_t)tw->numel, ny = (size_t)d.B * d.Co * d.Ho * d.Wo;
    const float *x = tx->data, *w = tw->data, *b = bias ? get(c, "b", (size_t)d.Co) : NULL;
    const float *dy = get(c, "dy", ny);
    REQUIRE(dy && (!bias || b));
    for (int workers = 1; workers <= 2; workers++) {
        size_t wn = duet_conv2d_work_floats(&d, workers);
        float *work = zeros(wn), *y = zeros(ny), *dx = zeros(nx), *dw = zeros(nw), *db = zeros((size_t)d.Co);
        duet_conv2d_forward(y, work, wn, x, w, b, &d);
        duet_conv2d_backward(dx, dw, bias ? db : NULL, work, wn, dy, x, w, &d);
        CHECK(cmp(c, "y", y, ny, 1e-4));
        CHECK(cmp(c, "dx", dx, nx, 1e-4));
        CHECK(cmp(c, "dw", dw, nw, 1e-4));
        if (bias) CHECK(cmp(c, "db", db, (size_t)d.Co, 1e-4));
        free(work), free(y), free(dx), free(dw), free(db);
    }
}

static void test_conv2d(void)
{
    conv_case("conv3", 1);
    conv_case("conv_s2", 1);
    conv_case("conv_dil", 0);
    conv_case("conv1x1", 1);
    conv_case("conv5", 1);
}

static void test_batchnorm(void)
{
    const duet_st_tensor *tx = tensor("bn", "x");
    REQUIRE(tx && tx->ndim == 4);
    int B = (int)tx->shape[0], C = (int)tx->shape[1], HW = (int)(tx->shape[2] * tx->shape[3]);
    size_t n = (size_t)tx->numel;
    const float *x = tx->data, *g = get("bn", "gamma", (size_t)C), *be = get("bn", "beta", (size_t)C);
    const float *rm0 = get("bn", "rm0", (size_t)C), *rv0 = get("bn", "rv0", (size_t)C), *dy = get("bn", "dy", n);
    REQUIRE(g && be && rm0 && rv0 && dy);
    float *y = zeros(n), *dx = zeros(n), *dg = zeros((size_t)C), *db = zeros((size_t)C);
    float mean[16], istd[16], rm[16], rv[16];
    REQUIRE(C <= 16);
    memcpy(rm, rm0, (size_t)C * sizeof(float));
    memcpy(rv, rv0, (size_t)C * sizeof(float));
    duet_bn2d_forward_train(y, mean, istd, rm, rv, x, g, be, B, C, HW, 0.1f, 1e-5f);
    duet_bn2d_backward(dx, dg, db, dy, x, mean, istd, g, B, C, HW);
    CHECK(cmp("bn", "y", y, n, 1e-4));
    CHECK(cmp("bn", "rm1", rm, (size_t)C, 1e-6));
    CHECK(cmp("bn", "rv1", rv, (size_t)C, 1e-5));
    CHECK(cmp("bn", "dx", dx, n, 1e-4));
    CHECK(cmp("bn", "dgamma", dg, (size_t)C, 1e-4));
    CHECK(cmp("bn", "dbeta", db, (size_t)C, 1e-4));
    duet_bn2d_forward_eval(y, x, g, be, rm, rv, B, C, HW, 1e-5f);
    CHECK(cmp("bn", "yeval", y, n, 1e-5));
    free(y), free(dx), free(dg), free(db);
}

static void unary(const char *c, int kind)
{
    const duet_st_tensor *tx = tensor(c, "x");
    REQUIRE(tx);
    size_t n = (size_t)tx->numel;
    const float *x = tx->data, *dy = get(c, "dy", n);
    REQUIRE(dy);
    float *y = zeros(n), *dx = zeros(n);
    switch (kind) {
    case 0: duet_relu_forward(y, x, n), duet_relu_backward(dx, dy, y, n); break;
    case 1: duet_leaky_relu_forward(y, x, n, 0.01f), duet_leaky_relu_backward(dx, dy, y, n, 0.01f); break;
    case 2: duet_sigmoid_forward(y, x, n), duet_sigmoid_backward(dx, dy, y, n); break;
    case 3: duet_tanh_forward(y, x, n), duet_tanh_backward(dx, dy, y, n); break;
    case 4: {
        int D = (int)tx->shape[tx->ndim - 1], N = (int)(n / (size_t)D);
        duet_softmax_forward(y, x, N, D);
        duet_softmax_backward(dx, dy, y, N, D);
        break;
    }
    default: {
        int Bn = (int)tx->shape[0], C = (int)tx->shape[1], HW = (int)(n / (size_t)(Bn * C));
        duet_softmax_channels_forward(y, x, Bn, C, HW);
        duet_softmax_channels_backward(dx, dy, y, Bn, C, HW);
    }
    }
    CHECK(cmp(c, "y", y, n, 1e-5));
    CHECK(cmp(c, "dx", dx, n, 1e-5));
    free(y), free(dx);
}

static void test_activations(void)
{
    unary("relu", 0);
    unary("leaky", 1);
    unary("sigmoid", 2);
    unary("tanh", 3);
    unary("softmax", 4);
    unary("softmax_ch", 5);
}

static void test_upsample(void)
{
    const char *cases[] = {"up", "up2x", "down", "upodd"};
    for (int i = 0; i < 4; i++) {
        const duet_st_tensor *tx = tensor(cases[i], "x");
        const int32_t *sz = cfg(cases[i]);
        REQUIRE(tx && sz && tx->ndim == 4);
        int BC = (int)(tx->shape[0] * tx->shape[1]), H = (int)tx->shape[2], W = (int)tx->shape[3];
        size_t ny = (size_t)BC * sz[0] * sz[1];
        const float *dy = get(cases[i], "dy", ny);
        REQUIRE(dy);
        float *y = zeros(ny), *dx = zeros((size_t)tx->numel);
        duet_upsample_bilinear_forward(y, tx->data, BC, H, W, sz[0], sz[1]);
        duet_upsample_bilinear_backward(dx, dy, BC, H, W, sz[0], sz[1]);
        CHECK(cmp(cases[i], "y", y, ny, 1e-5));
        CHECK(cmp(cases[i], "dx", dx, (size_t)tx->numel, 1e-5));
        free(y), free(dx);
    }
}

static void test_pooling(void)
{
    const char *cases[] = {"maxpool", "maxpool3", "avgpool3"};
    for (int i = 0; i < 3; i++) {
        const duet_st_tensor *tx = tensor(cases[i], "x");
        const int32_t *k = cfg(cases[i]);
        REQUIRE(tx && k);
        duet_pool2d_dims d;
        REQUIRE(!duet_pool2d_dims_make(&d, (int)(tx->shape[0] * tx->shape[1]), (int)tx->shape[2],
                                       (int)tx->shape[3], k[0], k[0], k[1], k[1], k[2], k[2]));
        size_t ny = (size_t)d.BC * d.Ho * d.Wo;
        const float *dy = get(cases[i], "dy", ny);
        REQUIRE(dy);
        float *y = zeros(ny), *dx = zeros((size_t)tx->numel);
        int32_t *am = malloc(ny * sizeof(int32_t));
        if (i < 2) {
            duet_maxpool2d_forward(y, am, tx->data, &d);
            duet_maxpool2d_backward(dx, dy, am, &d);
        } else {
            duet_avgpool2d_forward(y, tx->data, &d);
            duet_avgpool2d_backward(dx, dy, &d);
        }
        CHECK(cmp(cases[i], "y", y, ny, 1e-6));
        CHECK(cmp(cases[i], "dx", dx, (size_t)tx->numel, 1e-6));
        free(y), free(dx), free(am);
    }
}

static void attn_case(const char *c)
{
    const duet_st_tensor *tx = tensor(c, "x");
    const int32_t *k = cfg(c);
    REQUIRE(tx && k);
    duet_attn_dims d = {(int)tx->shape[0], (int)tx->shape[1], (int)tx->shape[2], (int)tx->shape[3], k[0], k[1]};
    size_t n = (size_t)tx->numel, C = (size_t)d.C, Cq = (size_t)d.Cq;
    const float *wq = get(c, "wq", Cq * C), *bq = get(c, "bq", Cq), *wk = get(c, "wk", Cq * C);
    const float *bk = get(c, "bk", Cq), *wv = get(c, "wv", C * C), *bv = get(c, "bv", C);
    const float *gm = get(c, "gamma", 1), *dy = get(c, "dy", n);
    REQUIRE(wq && bq && wk && bk && wv && bv && gm && dy);
    for (int workers = 1; workers <= 2; workers++) {
        float *y = zeros(n), *cache = zeros(duet_attn_cache_floats(&d));
        size_t wn = duet_attn_work_floats(&d, workers);
        float *work = zeros(wn), *dx = zeros(n);
        float *dwq = zeros(Cq * C), *dbq = zeros(Cq), *dwk = zeros(Cq * C), *dbk = zeros(Cq);
        float *dwv = zeros(C * C), *dbv = zeros(C), dg = 0;
        duet_attn_forward(y, cache, tx->data, wq, bq, wk, bk, wv, bv, gm, &d);
        duet_attn_backward(dx, dwq, dbq, dwk, dbk, dwv, dbv, &dg, work, wn, dy, cache, tx->data, wq, wk,
                           wv, gm, &d);
        CHECK(cmp(c, "y", y, n, 1e-5));
        CHECK(cmp(c, "dx", dx, n, 1e-4));
        CHECK(cmp(c, "dwq", dwq, Cq * C, 1e-4));
        CHECK(cmp(c, "dbq", dbq, Cq, 1e-4));
        CHECK(cmp(c, "dwk", dwk, Cq * C, 1e-4));
        CHECK(cmp(c, "dbk", dbk, Cq, 1e-4));
        CHECK(cmp(c, "dwv", dwv, C * C, 1e-4));
        CHECK(cmp(c, "dbv", dbv, C, 1e-4));
        CHECK(cmp(c, "dgamma", &dg, 1, 1e-4));
        free(y), free(cache), free(work), free(dx), free(dwq), free(dbq), free(dwk), free(dbk), free(dwv), free(dbv);
    }
}

static void test_attention(void)
{
    attn_case("attn_full");
    attn_case("attn_time");
}

static void test_linear_embedding_outer(void)
{
    const duet_st_tensor *tx = tensor("linear", "x"), *tw = tensor("linear", "w");
    REQUIRE(tx && tw);
    int N = (int)tx->shape[0], I = (int)tx->shape[1], O = (int)tw->shape[0];
    const float *b = get("linear", "b", (size_t)O), *dy = get("linear", "dy", (size_t)N * O);
    REQUIRE(b && dy);
    float *y = zeros((size_t)N * O), *dx = zeros((size_t)N * I), *dw = zeros((size_t)O * I), *db = zeros((size_t)O);
    duet_linear_forward(y, tx->data, tw->data, b, N, I, O);
    duet_linear_backward(dx, dw, db, dy, tx->data, tw->data, N, I, O);
    CHECK(cmp("linear", "y", y, (size_t)N * O, 1e-5));
    CHECK(cmp("linear", "dx", dx, (size_t)N * I, 1e-5));
    CHECK(cmp("linear", "dw", dw, (size_t)O * I, 1e-5));
    CHECK(cmp("linear", "db", db, (size_t)O, 1e-5));
    free(y), free(dx), free(dw), free(db);

    const duet_st_tensor *ti = tensor("embedding", "idx"), *tt = tensor("embedding", "table");
    REQUIRE(ti && tt && ti->dtype == DUET_ST_I32);
    int n = (int)ti->numel, V = (int)tt->shape[0], D = (int)tt->shape[1];
    const float *edy = get("embedding", "dy", (size_t)n * D);
    REQUIRE(edy);
    float *ey = zeros((size_t)n * D), *dt = zeros((size_t)V * D);
    duet_embedding_forward(ey, tt->data, ti->data, n, D, V);
    duet_embedding_backward(dt, edy, ti->data, n, D);
    CHECK(cmp("embedding", "y", ey, (size_t)n * D, 0));
    CHECK(cmp("embedding", "dtable", dt, (size_t)V * D, 1e-6));
    free(ey), free(dt);

    const duet_st_tensor *tp = tensor("outer", "p"), *tq = tensor("outer", "q");
    REQUIRE(tp && tq);
    int M = (int)tp->shape[0], P = (int)tp->shape[1], Q = (int)tq->shape[1];
    const float *ody = get("outer", "dy", (size_t)M * P * Q);
    REQUIRE(ody);
    float *oy = zeros((size_t)M * P * Q), *dp = zeros((size_t)M * P), *dq = zeros((size_t)M * Q);
    duet_outer_forward(oy, tp->data, tq->data, M, P, Q);
    duet_outer_backward(dp, dq, ody, tp->data, tq->data, M, P, Q);
    CHECK(cmp("outer", "y", oy, (size_t)M * P * Q, 1e-6));
    CHECK(cmp("outer", "dp", dp, (size_t)M * P, 1e-5));
    CHECK(cmp("outer", "dq", dq, (size_t)M * Q, 1e-5));
    free(oy), free(dp), free(dq);
}

static void test_losses(void)
{
    const char *names[] = {"l1", "mse"};
    for (int i = 0; i < 2; i++) {
        const duet_st_tensor *tp = tensor(names[i], "pred");
        REQUIRE(tp);
        size_t n = (size_t)tp->numel;
        const float *t = get(names[i], "target", n);
        REQUIRE(t);
        float *g = zeros(n), L;
        L = (float)(i ? duet_loss_mse(g, tp->data, t, n, 1) : duet_loss_l1(g, tp->data, t, n, 1));
        CHECK(cmp(names[i], "loss", &L, 1, 1e-6));
        CHECK(cmp(names[i], "dpred", g, n, 1e-7));
        free(g);
    }
    const duet_st_tensor *tl = tensor("bce", "logit");
    REQUIRE(tl);
    size_t n = (size_t)tl->numel;
    const float *lab = get("bce", "target", n);
    REQUIRE(lab);
    float *g = zeros(n), L = (float)duet_loss_bce_logits(g, tl->data, lab, n, 1);
    CHECK(cmp("bce", "loss", &L, 1, 1e-6));
    CHECK(cmp("bce", "dlogit", g, n, 1e-7));
    free(g);
    const duet_st_tensor *tpos = tensor("bpr", "pos");
    REQUIRE(tpos);
    n = (size_t)tpos->numel;
    const float *neg = get("bpr", "neg", n);
    REQUIRE(neg);
    float *dp = zeros(n), *dn = zeros(n);
    L = (float)duet_loss_bpr(dp, dn, tpos->data, neg, n, 1);
    CHECK(cmp("bpr", "loss", &L, 1, 1e-6));
    CHECK(cmp("bpr", "dpos", dp, n, 1e-7));
    CHECK(cmp("bpr", "dneg", dn, n, 1e-7));
    free(dp), free(dn);
}

static void adam_case(const char *c)
{
    const int32_t *k = cfg(c);
    const float *p0 = get(c, "p0", 12), *q0 = get(c, "q0", 5), *wd = get(c, "wd", 1);
    REQUIRE(k && p0 && q0 && wd);
    int steps = k[0];
    const float *gp = get(c, "gp", (size_t)steps * 12), *gq = get(c, "gq", (size_t)steps * 5);
    REQUIRE(gp && gq);
    duet_param_spec spec[2] = {{"p", 2, {3, 4}, 0}, {"q", 1, {5}, 0}};
    duet_params *P = NULL;
    REQUIRE(duet_params_new(spec, 2, &P, NULL) == DUET_OK);
    REQUIRE(duet_params_enable_training(P, NULL) == DUET_OK);
    memcpy(duet_params_data(P, 0), p0, 12 * sizeof(float));
    memcpy(duet_params_data(P, 1), q0, 5 * sizeof(float));
    duet_adam opt = duet_adam_default(wd[0], k[1]);
    for (int s = 0; s < steps; s++) {
        memcpy(duet_params_grad(P, 0), gp + s * 12, 12 * sizeof(float));
        memcpy(duet_params_grad(P, 1), gq + s * 5, 5 * sizeof(float));
        CHECK(duet_adam_step(&opt, P, 0.01f, NULL) == DUET_OK);
    }
    CHECK(opt.t == steps);
    CHECK(cmp(c, "p1", duet_params_data(P, 0), 12, 1e-6));
    CHECK(cmp(c, "q1", duet_params_data(P, 1), 5, 1e-6));
    CHECK(cmp(c, "m", P->m + P->info[0].offset, 12, 1e-6));
    CHECK(cmp(c, "v", P->v + P->info[0].offset, 12, 1e-6));
    duet_params_free(P);
}

static void test_adam(void)
{
    adam_case("adam");
    adam_case("adam_l2");
    adam_case("adamw");
}

/* duet writes, duet reads back; PyTorch checks it with gen_nn.py --check */
static void test_interop_write(void)
{
    const duet_st_tensor *tx = tensor("conv3", "x"), *tw = tensor("conv3", "w");
    const float *b = get("conv3", "b", 4);
    REQUIRE(tx && tw && b);
    duet_conv2d_dims d;
    REQUIRE(!duet_conv2d_dims_make(&d, 2, 3, 7, 6, 4, 3, 1, 1, 1));
    size_t ny = (size_t)2 * 4 * 7 * 6, wn = duet_conv2d_work_floats(&d, 1);
    float *y = zeros(ny), *work = zeros(wn);
    duet_conv2d_forward(y, work, wn, tx->data, tw->data, b, &d);
    const char *path = getenv("DUET_NN_INTEROP_OUT");
    char tmp[256];
    if (!path) {
        snprintf(tmp, sizeof tmp, "%s/duet_nn_interop_%ld.safetensors", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
                 (long)getpid());
        path = tmp;
    }
    duet_st_writer *w = NULL;
    duet_err err = {0};
    int64_t sx[4] = {2, 3, 7, 6}, sw[4] = {4, 3, 3, 3}, sb[1] = {4}, sy[4] = {2, 4, 7, 6};
    REQUIRE(duet_st_writer_new(&w, &err) == DUET_OK);
    CHECK(duet_st_writer_add(w, "interop.x", DUET_ST_F32, 4, sx, tx->data, &err) == DUET_OK);
    CHECK(duet_st_writer_add(w, "interop.w", DUET_ST_F32, 4, sw, tw->data, &err) == DUET_OK);
    CHECK(duet_st_writer_add(w, "interop.b", DUET_ST_F32, 1, sb, b, &err) == DUET_OK);
    CHECK(duet_st_writer_add(w, "interop.y", DUET_ST_F32, 4, sy, y, &err) == DUET_OK);
    CHECK(duet_st_writer_meta(w, "format", "duet-nn-interop", &err) == DUET_OK);
    CHECK(duet_st_writer_save(w, path, &err) == DUET_OK);
    duet_st_writer_free(w);
    duet_st_file *f = NULL;
    REQUIRE(duet_st_load(path, &f, &err) == DUET_OK);
    const float *y2 = NULL;
    CHECK(duet_st_get_f32(f, "interop.y", 4, sy, &y2, &err) == DUET_OK);
    CHECK(y2 && !memcmp(y2, y, ny * sizeof(float)));
    CHECK(duet_st_meta(f, "format") && !strcmp(duet_st_meta(f, "format"), "duet-nn-interop"));
    duet_st_free(f);
    if (!getenv("DUET_NN_INTEROP_OUT")) remove(path);
    free(y), free(work);
}

int main(void)
{
    duet_err err = {0};
    duet_status st = duet_st_load(FIXTURE("nn/golden.safetensors"), &G, &err);
    if (st != DUET_OK) {
        fprintf(stderr, "cannot load golden fixtures: %s\n", duet_err_msg(&err, st));
        printf("not ok - load_fixtures\n");
        return 1;
    }
    RUN(test_conv2d);
    RUN(test_batchnorm);
    RUN(test_activations);
    RUN(test_upsample);
    RUN(test_pooling);
    RUN(test_attention);
    RUN(test_linear_embedding_outer);
    RUN(test_losses);
    RUN(test_adam);
    RUN(test_interop_write);
    duet_st_free(G);
    return check_summary();
}
