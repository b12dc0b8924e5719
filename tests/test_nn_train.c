/* tests/test_nn_train.c: end-to-end training with the nn engine, and
 * checkpoints.
 * - A small conv net (conv3x3 1->8, BatchNorm, ReLU, dropout 0.1, conv3x3
 *   8->1) learns a fixed linear "teacher" convolution of random inputs with
 *   MSE, Adam, gradient clipping and a cosine schedule: the loss must fall
 *   below 5% of its starting value within 300 steps.
 * - Resume is bit-exact: 40 steps straight equal 20 steps + checkpoint +
 *   load into a freshly initialised model + 20 steps (one thread), weights,
 *   moments and RNG compared bitwise.
 * - Weights round-trip; wrong shapes, wrong files, missing and unwritable
 *   paths give the documented errors and leave the model untouched. */
#include <stdint.h>
#include <unistd.h>

#include "../nn/nn.h"
#include "check.h"

enum { B = 8, S = 16, CH = 8 };

typedef struct model {
    duet_params *p;
    duet_adam opt;
    duet_conv2d_dims c1, c2;
    float *x, *t, *h, *a, *y, *dy, *dh, *da, *work;
    float mean[CH], istd[CH];
    uint8_t *mask;
    size_t wn;
} model;

static const float teacher[9] = {0.5f, -1.0f, 0.25f, 0.8f, 0.3f, -0.6f, -0.2f, 0.9f, 0.4f};

static void model_init(model *m, int width, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    duet_param_spec spec[] = {
        {"c1.weight", 4, {width, 1, 3, 3}, 0},
        {"c1.bias", 1, {width}, DUET_PARAM_NO_DECAY},
        {"bn.weight", 1, {width}, DUET_PARAM_NO_DECAY},
        {"bn.bias", 1, {width}, DUET_PARAM_NO_DECAY},
        {"bn.running_mean", 1, {width}, DUET_PARAM_BUFFER},
        {"bn.running_var", 1, {width}, DUET_PARAM_BUFFER},
        {"c2.weight", 4, {1, width, 3, 3}, 0},
        {"c2.bias", 1, {1}, DUET_PARAM_NO_DECAY},
    };
    DUET_CHECK(duet_params_new(spec, 8, &m->p, NULL) == DUET_OK);
    DUET_CHECK(duet_params_enable_training(m->p, NULL) == DUET_OK);
    duet_rng r;
    duet_rng_seed(&r, seed);
    duet_init_uniform(duet_params_data(m->p, 0), (size_t)width * 9, -1.0f / 3, 1.0f / 3, &r);
    duet_init_const(duet_params_data(m->p, 2), (size_t)width, 1);
    duet_init_const(duet_params_data(m->p, 5), (size_t)width, 1);
    float b2 = 1.0f / sqrtf(9.0f * width);
    duet_init_uniform(duet_params_data(m->p, 6), (size_t)width * 9, -b2, b2, &r);
    m->opt = duet_adam_default(1e-4f, 1);
    duet_conv2d_dims_make(&m->c1, B, 1, S, S, width, 3, 1, 1, 1);
    duet_conv2d_dims_make(&m->c2, B, width, S, S, 1, 3, 1, 1, 1);
    size_t n1 = (size_t)B * S * S, nh = n1 * width;
    m->x = calloc(n1, 4), m->t = calloc(n1, 4), m->y = calloc(n1, 4), m->dy = calloc(n1, 4);
    m->h = calloc(nh, 4), m->a = calloc(nh, 4), m->dh = calloc(nh, 4), m->da = calloc(nh, 4);
    m->mask = calloc(nh, 1);
    size_t w1 = duet_conv2d_work_floats(&m->c1, 2), w2 = duet_conv2d_work_floats(&m->c2, 2);
    m->wn = w1 > w2 ? w1 : w2;
    m->work = calloc(m->wn, 4);
}

static void model_free(model *m)
{
    duet_params_free(m->p);
    free(m->x), free(m->t), free(m->y), free(m->dy), free(m->h), free(m->a), free(m->dh), free(m->da);
    free(m->mask), free(m->work);
}

/* one training step with data and dropout from rng; returns the loss */
static double train_step(model *m, duet_rng *rng, int64_t step, int64_t total)
{
    duet_params *p = m->p;
    const int C = m->c1.Co;
    size_t n1 = (size_t)B * S * S, nh = n1 * (size_t)C;
    for (size_t i = 0; i < n1; i++) m->x[i] = duet_rng_normal(rng);
    duet_conv2d_dims td;
    duet_conv2d_dims_make(&td, B, 1, S, S, 1, 3, 1, 1, 1);
    duet_conv2d_forward(m->t, m->work, m->wn, m->x, teacher, NULL, &td);
    /* forward */
    duet_conv2d_forward(m->h, m->work, m->wn, m->x, duet_params_data(p, 0), duet_params_data(p, 1), &m->c1);
    duet_bn2d_forward_train(m->a, m->mean, m->istd, duet_params_data(p, 4), duet_params_data(p, 5), m->h,
                            duet_params_data(p, 2), duet_params_data(p, 3), B, C, S * S, 0.1f, 1e-5f);
    duet_relu_forward(m->a, m->a, nh);
    duet_dropout_forward(m->a, m->mask, m->a, nh, 0.1f, rng);
    duet_conv2d_forward(m->y, m->work, m->wn, m->a, duet_params_data(p, 6), duet_params_data(p, 7), &m->c2);
    memset(m->dy, 0, n1 * 4);
    double loss = duet_loss_mse(m->dy, m->y, m->t, n1, 1);
    /* backward */
    duet_params_zero_grad(p);
    memset(m->da, 0, nh * 4);
    duet_conv2d_backward(m->da, duet_params_grad(p, 6), duet_params_grad(p, 7), m->work, m->wn, m->dy, m->a,
                         duet_params_data(p, 6), &m->c2);
    memset(m->dh, 0, nh * 4);
    duet_dropout_backward(m->dh, m->da, m->mask, nh, 0.1f);
    /* relu backward needs the post-ReLU output: a after dropout is zero where
     * ReLU was, and where dropout zeroed it the gradient is already zero */
    memset(m->da, 0, nh * 4);
    duet_relu_backward(m->da, m->dh, m->a, nh);
    memset(m->dh, 0, nh * 4);
    duet_bn2d_backward(m->dh, duet_params_grad(p, 2), duet_params_grad(p, 3), m->da, m->h, m->mean, m->istd,
                       duet_params_data(p, 2), B, C, S * S);
    duet_conv2d_backward(NULL, duet_params_grad(p, 0), duet_params_grad(p, 1), m->work, m->wn, m->dh, m->x,
                         duet_params_data(p, 0), &m->c1);
    duet_clip_grad_norm(p, 5.0);
    float lr = duet_lr_cosine(1e-2f, 1e-4f, step, 10, total);
    DUET_CHECK(duet_adam_step(&m->opt, p, lr, NULL) == DUET_OK);
    return loss;
}

static void test_training_converges(void)
{
    duet_nn_set_threads(DUET_THREADS_OMP, 2);
    model m;
    model_init(&m, CH, 1);
    duet_rng rng;
    duet_rng_seed(&rng, 99);
    double first = 0, last = 0;
    const int steps = 300;
    for (int s = 0; s < steps; s++) {
        double l = train_step(&m, &rng, s, steps);
        REQUIRE(isfinite(l));
        if (s < 10) first += l / 10;
        if (s >= steps - 10) last += l / 10;
    }
    fprintf(stderr, "  MSE over the first 10 steps %.4f, last 10 steps %.5f (ratio %.4f, must be < 0.05)\n", first,
            last, last / first);
    CHECK(last < 0.05 * first);
    model_free(&m);
}

static char *tmp_path(const char *tag)
{
    static char buf[4][256];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, 256, "%s/duet_nn_%s_%ld.safetensors", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", tag,
             (long)getpid());
    return b;
}

static void test_resume_bit_exact(void)
{
    duet_nn_set_threads(DUET_THREADS_OMP, 1);
    const int N = 40;
    model a, b;
    model_init(&a, CH, 1);
    duet_rng ra;
    duet_rng_seed(&ra, 5);
    for (int s = 0; s < N; s++) train_step(&a, &ra, s, N);

    model_init(&b, CH, 1);
    duet_rng rb;
    duet_rng_seed(&rb, 5);
    for (int s = 0; s < N / 2; s++) train_step(&b, &rb, s, N);
    const char *path = tmp_path("ckpt");
    duet_err err = {0};
    duet_meta_kv meta[1] = {{"model", "test-net"}};
    REQUIRE(duet_checkpoint_save(path, b.p, &b.opt, N / 2, &rb, 1, meta, 1, &err) == DUET_OK);
    model_free(&b);

    /* a fresh model, different initialisation, different RNG: all overwritten */
    model c;
    model_init(&c, CH, 777);
    duet_rng rc;
    duet_rng_seed(&rc, 12345);
    c.opt = duet_adam_default(0, 0);
    int64_t step = -1;
    REQUIRE(duet_checkpoint_load(path, c.p, &c.opt, &step, &rc, 1, &err) == DUET_OK);
    CHECK(step == N / 2);
    CHECK(c.opt.t == N / 2 && c.opt.decoupled == 1 && c.opt.weight_decay == 1e-4f);
    for (int64_t s = step; s < N; s++) train_step(&c, &rc, s, N);
    CHECK(!memcmp(a.p->data, c.p->data, a.p->total * sizeof(float)));
    CHECK(!memcmp(a.p->m, c.p->m, a.p->total * sizeof(float)));
    CHECK(!memcmp(a.p->v, c.p->v, a.p->total * sizeof(float)));
    CHECK(!memcmp(&ra, &rc, sizeof ra));
    CHECK(a.opt.t == c.opt.t);
    fprintf(stderr, "  %d steps straight vs %d + checkpoint + %d: %s\n", N, N / 2, N / 2,
            memcmp(a.p->data, c.p->data, a.p->total * sizeof(float)) ? "DIFFERENT" : "bitwise equal");

    /* the checkpoint also loads as plain weights */
    model d;
    model_init(&d, CH, 3);
    duet_st_file *f = NULL;
    REQUIRE(duet_st_load(path, &f, &err) == DUET_OK);
    CHECK(duet_st_meta(f, "model") && !strcmp(duet_st_meta(f, "model"), "test-net"));
    duet_st_free(f);
    remove(path);
    model_free(&a), model_free(&c), model_free(&d);
}

static void test_reproducible_two_threads(void)
{
    duet_nn_set_threads(DUET_THREADS_OMP, 2);
    model a, b;
    model_init(&a, CH, 1), model_init(&b, CH, 1);
    duet_rng ra, rb;
    duet_rng_seed(&ra, 8), duet_rng_seed(&rb, 8);
    for (int s = 0; s < 10; s++) train_step(&a, &ra, s, 10), train_step(&b, &rb, s, 10);
    CHECK(!memcmp(a.p->data, b.p->data, a.p->total * sizeof(float)));
    model_free(&a), model_free(&b);
}

static void test_weights_and_errors(void)
{
    duet_nn_set_threads(DUET_THREADS_OMP, 1);
    model a, b, wide;
    model_init(&a, CH, 1), model_init(&b, CH, 2), model_init(&wide, CH + 1, 3);
    duet_err err = {0};
    const char *wpath = tmp_path("weights");
    duet_meta_kv meta[2] = {{"n_fft", "1024"}, {"hop", "256"}};
    REQUIRE(duet_params_save(wpath, a.p, "test-model", meta, 2, &err) == DUET_OK);
    REQUIRE(duet_params_load(wpath, b.p, "test-model", &err) == DUET_OK);
    CHECK(!memcmp(a.p->data, b.p->data, a.p->total * sizeof(float)));

    /* wrong format tag, wrong shapes: errors, model untouched */
    float *before = malloc(wide.p->total * sizeof(float));
    memcpy(before, wide.p->data, wide.p->total * sizeof(float));
    CHECK(duet_params_load(wpath, b.p, "other-model", &err) == DUET_ERR_FORMAT);
    fprintf(stderr, "  wrong format: %s\n", err.msg);
    CHECK(duet_params_load(wpath, wide.p, NULL, &err) == DUET_ERR_SHAPE);
    fprintf(stderr, "  wrong shape: %s\n", err.msg);
    CHECK(!memcmp(before, wide.p->data, wide.p->total * sizeof(float)));

    /* a weights file is not a checkpoint */
    int64_t step = 7;
    duet_rng r;
    duet_rng_seed(&r, 1);
    duet_rng r0 = r;
    CHECK(duet_checkpoint_load(wpath, b.p, &b.opt, &step, &r, 1, &err) == DUET_ERR_FORMAT);
    CHECK(step == 7 && !memcmp(&r, &r0, sizeof r));

    /* a checkpoint into a different architecture */
    const char *cpath = tmp_path("ckpt2");
    REQUIRE(duet_checkpoint_save(cpath, a.p, &a.opt, 3, &r, 1, NULL, 0, &err) == DUET_OK);
    CHECK(duet_checkpoint_load(cpath, wide.p, &wide.opt, &step, &r, 1, &err) == DUET_ERR_SHAPE);
    CHECK(!memcmp(before, wide.p->data, wide.p->total * sizeof(float)) && step == 7);
    /* wrong number of generators */
    duet_rng two[2];
    CHECK(duet_checkpoint_load(cpath, b.p, &b.opt, &step, two, 2, &err) == DUET_ERR_SHAPE);
    fprintf(stderr, "  wrong rng count: %s\n", err.msg);
    /* a model with one tensor fewer sees an unexpected tensor */
    duet_param_spec small[] = {{"c1.weight", 4, {CH, 1, 3, 3}, 0}};
    duet_params *ps = NULL;
    REQUIRE(duet_params_new(small, 1, &ps, NULL) == DUET_OK);
    CHECK(duet_params_load(wpath, ps, NULL, &err) == DUET_ERR_FORMAT);
    fprintf(stderr, "  extra tensor: %s\n", err.msg);
    duet_params_free(ps);

    CHECK(duet_params_load("/nonexistent/dir/x.safetensors", b.p, NULL, &err) == DUET_ERR_IO);
    CHECK(duet_params_save("/nonexistent/dir/x.safetensors", a.p, "m", NULL, 0, &err) == DUET_ERR_IO);
    fprintf(stderr, "  unwritable: %s\n", err.msg);

    /* parameter table errors */
    duet_param_spec bad[] = {{"a", 1, {3}, 0}, {"a", 1, {2}, 0}};
    CHECK(duet_params_new(bad, 2, &ps, &err) == DUET_ERR_ARG && ps == NULL);
    duet_param_spec neg[] = {{"a", 2, {3, -1}, 0}};
    CHECK(duet_params_new(neg, 1, &ps, &err) == DUET_ERR_ARG && ps == NULL);
    duet_param_spec big[] = {{"a", 4, {INT64_MAX / 4, 1 << 20, 1 << 20, 1 << 20}, 0}};
    CHECK(duet_params_new(big, 1, &ps, &err) == DUET_ERR_RANGE && ps == NULL);

    /* Adam refuses non-finite gradients and leaves the weights alone */
    memcpy(before, a.p->data, a.p->total * sizeof(float));
    duet_params_zero_grad(a.p);
    duet_params_grad(a.p, 6)[3] = NAN;
    int64_t t0 = a.opt.t;
    CHECK(duet_adam_step(&a.opt, a.p, 0.1f, &err) == DUET_ERR_NAN);
    fprintf(stderr, "  NaN gradient: %s\n", err.msg);
    CHECK(a.opt.t == t0 && !memcmp(before, a.p->data, a.p->total * sizeof(float)));

    remove(wpath), remove(cpath);
    free(before);
    model_free(&a), model_free(&b), model_free(&wide);
}

static void test_schedules_and_clipping(void)
{
    CHECK_NEAR(duet_lr_step(1.0f, 25, 10, 0.5f), 0.25, 1e-7);
    CHECK_NEAR(duet_lr_cosine(1.0f, 0.0f, 0, 10, 110), 0.1, 1e-7);
    CHECK_NEAR(duet_lr_cosine(1.0f, 0.0f, 10, 10, 110), 1.0, 1e-6);
    CHECK_NEAR(duet_lr_cosine(1.0f, 0.0f, 60, 10, 110), 0.5, 1e-6);
    CHECK_NEAR(duet_lr_cosine(1.0f, 0.1f, 500, 10, 110), 0.1, 1e-7);
    duet_plateau pl = duet_plateau_make(1.0f, 0.5f, 2, 0.1f);
    float lrs[8];
    double metric[8] = {5, 4, 4, 4, 4, 3.99999, 4, 4};
    for (int i = 0; i < 8; i++) lrs[i] = duet_plateau_update(&pl, metric[i]);
    /* best 4 at i=1; bad at 2,3,4 -> reduce after the third bad epoch (i=4) */
    CHECK(lrs[3] == 1.0f && lrs[4] == 0.5f && lrs[7] == 0.25f);
    duet_param_spec s[] = {{"w", 1, {4}, 0}, {"rm", 1, {2}, DUET_PARAM_BUFFER}};
    duet_params *p = NULL;
    REQUIRE(duet_params_new(s, 2, &p, NULL) == DUET_OK && duet_params_enable_training(p, NULL) == DUET_OK);
    float g[4] = {3, 4, 0, 0};
    memcpy(duet_params_grad(p, 0), g, sizeof g);
    duet_params_grad(p, 1)[0] = 100; /* buffers are not part of the norm */
    CHECK_NEAR(duet_clip_grad_norm(p, 1.0), 5.0, 1e-9);
    CHECK_NEAR(duet_params_grad(p, 0)[0], 0.6, 1e-6);
    CHECK_NEAR(duet_params_grad(p, 0)[1], 0.8, 1e-6);
    CHECK(duet_params_trainable(p) == 4);
    duet_params_free(p);
}


/* Lazy Adam on an embedding: touched rows move exactly as dense Adam moves
 * them (same moments, same t), untouched rows and moments stay put. */
static void test_sparse_adam(void)
{
    duet_param_spec s[] = {{"emb", 2, {6, 3}, DUET_PARAM_SPARSE}, {"w", 1, {3}, 0}};
    duet_param_spec d[] = {{"emb", 2, {6, 3}, 0}, {"w", 1, {3}, 0}};
    duet_params *ps = NULL, *pd = NULL;
    REQUIRE(duet_params_new(s, 2, &ps, NULL) == DUET_OK && duet_params_enable_training(ps, NULL) == DUET_OK);
    REQUIRE(duet_params_new(d, 2, &pd, NULL) == DUET_OK && duet_params_enable_training(pd, NULL) == DUET_OK);
    duet_rng r;
    duet_rng_seed(&r, 3);
    duet_init_normal(duet_params_data(ps, 0), 18, 0, 1, &r);
    memcpy(duet_params_data(pd, 0), duet_params_data(ps, 0), 18 * sizeof(float));
    float before[18];
    memcpy(before, duet_params_data(ps, 0), sizeof before);
    duet_adam os = duet_adam_default(0, 0), od = duet_adam_default(0, 0);
    int32_t idx[3] = {4, 1, 4}, rows[2] = {1, 4};
    float dout[9];
    for (int i = 0; i < 9; i++) dout[i] = (float)(i - 4) * 0.3f + 0.1f;
    for (int step = 0; step < 3; step++) {
        duet_params_zero_grad(ps), duet_params_zero_grad(pd);
        duet_embedding_backward(duet_params_grad(ps, 0), dout, idx, 3, 3);
        duet_embedding_backward(duet_params_grad(pd, 0), dout, idx, 3, 3);
        CHECK(duet_adam_step(&os, ps, 0.1f, NULL) == DUET_OK);
        duet_adam_update_rows(&os, ps, 0, rows, 2, 0.1f);
        CHECK(duet_adam_step(&od, pd, 0.1f, NULL) == DUET_OK);
    }
    const float *a = duet_params_data(ps, 0), *b = duet_params_data(pd, 0);
    for (int row = 0; row < 6; row++)
        for (int j = 0; j < 3; j++) {
            int i = row * 3 + j;
            if (row == 1 || row == 4) CHECK(a[i] == b[i] && a[i] != before[i]);
            else CHECK(a[i] == before[i] && ps->m[ps->info[0].offset + (size_t)i] == 0.0f);
        }
    duet_params_free(ps), duet_params_free(pd);
}

int main(void)
{
    RUN(test_training_converges);
    RUN(test_resume_bit_exact);
    RUN(test_reproducible_two_threads);
    RUN(test_weights_and_errors);
    RUN(test_schedules_and_clipping);
    RUN(test_sparse_adam);
    return check_summary();
}
