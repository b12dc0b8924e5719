/* bench/bench_nn.c: speed of duet's nn engine on a U-Net-sized stack, the
 * same network that bench/bench_nn.py builds in PyTorch.
 *
 * Network (input B x 2 x H x W, NCHW), each "block" = conv3x3 (no bias) +
 * BatchNorm2d (training statistics) + ReLU:
 *   e1 = block(2->16) @HxW;      p1 = maxpool2(e1)
 *   e2 = block(16->32) @H/2;     p2 = maxpool2(e2)
 *   e3 = block(32->64) @H/4;     p3 = maxpool2(e3)
 *   e4 = block(64->128) @H/8                         (bottleneck)
 *   u3 = block(128->64)(bilinear(e4 -> H/4)); d3 = block(128->64)(cat(u3, e3))
 *   u2 = block(64->32)(bilinear(d3 -> H/2));  d2 = block(64->32)(cat(u2, e2))
 *   u1 = block(32->16)(bilinear(d2 -> H));    d1 = block(32->16)(cat(u1, e1))
 *   y = sigmoid(conv1x1(16->2)(d1) + bias); loss = L1(y, target)
 * A training step = forward + backward + Adam. Times are the fastest of
 * ITERS iterations after one warm-up (robust against other load).
 *
 * Usage: bench_nn B H W ITERS MODE THREADS
 *   MODE omp  = OpenMP over batch items, OpenBLAS single-threaded
 *   MODE blas = one OpenMP thread, OpenBLAS multi-threaded
 * Prints "sgemm_peak_gflops X", "fwd_s X", "step_s X" and per-conv lines
 * "conv NAME gflops X" (forward, timed alone). Written for bench_nn.sh. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/progress.h"
#include "../nn/nn.h"

typedef struct block {
    const char *name;
    duet_conv2d_dims cd;
    long w, g, b, rm, rv; /* parameter indices */
    const float *x;       /* input (not owned) */
    float *dx;            /* gradient of the input (not owned, may be NULL) */
    float *c, *a, *mean, *istd, *da, *tmp;
} block;

typedef struct net {
    int B, H, W;
    duet_params *p;
    block blk[10];
    int nblk;
    float *work;
    size_t work_n;
    /* other buffers */
    float *in, *target, *p1, *p2, *p3, *up3, *up2, *up1, *cat3, *cat2, *cat1, *y, *dy;
    float *dp1, *dp2, *dp3, *dup3, *dup2, *dup1, *dcat3, *dcat2, *dcat1;
    int32_t *am1, *am2, *am3;
    duet_pool2d_dims pd1, pd2, pd3;
    duet_conv2d_dims head;
    long hw, hb;
} net;

static float *fz(size_t n)
{
    float *p = duet_alloc_floats(n);
    if (!p) {
        fprintf(stderr, "bench_nn: out of memory\n");
        exit(1);
    }
    memset(p, 0, n * sizeof(float));
    return p;
}

static void block_init(block *k, const char *name, int B, int Ci, int H, int W, int Co)
{
    memset(k, 0, sizeof *k);
    k->name = name;
    duet_conv2d_dims_make(&k->cd, B, Ci, H, W, Co, 3, 1, 1, 1);
    size_t n = (size_t)B * Co * H * W;
    k->c = fz(n), k->a = fz(n), k->da = fz(n), k->tmp = fz(n);
    k->mean = fz((size_t)Co), k->istd = fz((size_t)Co);
}

static void block_fwd(net *m, block *k)
{
    const duet_conv2d_dims *d = &k->cd;
    duet_params *p = m->p;
    duet_conv2d_forward(k->c, m->work, m->work_n, k->x, duet_params_data(p, (size_t)k->w), NULL, d);
    duet_bn2d_forward_train(k->a, k->mean, k->istd, duet_params_data(p, (size_t)k->rm),
                            duet_params_data(p, (size_t)k->rv), k->c, duet_params_data(p, (size_t)k->g),
                            duet_params_data(p, (size_t)k->b), d->B, d->Co, d->Ho * d->Wo, 0.1f, 1e-5f);
    duet_relu_forward(k->a, k->a, (size_t)d->B * d->Co * d->Ho * d->Wo);
}

/* k->da holds the gradient of the block output; accumulates into k->dx */
static void block_bwd(net *m, block *k)
{
    const duet_conv2d_dims *d = &k->cd;
    duet_params *p = m->p;
    size_t n = (size_t)d->B * d->Co * d->Ho * d->Wo;
    memset(k->tmp, 0, n * sizeof(float));
    duet_relu_backward(k->tmp, k->da, k->a, n);
    /* reuse da as the conv-output gradient */
    memset(k->da, 0, n * sizeof(float));
    duet_bn2d_backward(k->da, duet_params_grad(p, (size_t)k->g), duet_params_grad(p, (size_t)k->b), k->tmp,
                       k->c, k->mean, k->istd, duet_params_data(p, (size_t)k->g), d->B, d->Co,
                       d->Ho * d->Wo);
    duet_conv2d_backward(k->dx, duet_params_grad(p, (size_t)k->w), NULL, m->work, m->work_n, k->da, k->x,
                         duet_params_data(p, (size_t)k->w), d);
}

static void net_init(net *m, int B, int H, int W)
{
    memset(m, 0, sizeof *m);
    m->B = B, m->H = H, m->W = W;
    static const char *names[10] = {"e1", "e2", "e3", "e4", "u3", "d3", "u2", "d2", "u1", "d1"};
    int ci[10] = {2, 16, 32, 64, 128, 128, 64, 64, 32, 32};
    int co[10] = {16, 32, 64, 128, 64, 64, 32, 32, 16, 16};
    int lv[10] = {0, 1, 2, 3, 2, 2, 1, 1, 0, 0};
    duet_param_spec spec[10 * 5 + 2];
    char nm[10 * 5 + 2][32];
    int s = 0;
    for (int i = 0; i < 10; i++) {
        const char *sfx[5] = {"conv.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"};
        for (int j = 0; j < 5; j++) {
            snprintf(nm[s], sizeof nm[s], "%s.%s", names[i], sfx[j]);
            spec[s].name = nm[s];
            spec[s].flags = j == 0 ? 0 : (j < 3 ? DUET_PARAM_NO_DECAY : DUET_PARAM_BUFFER);
            if (j == 0) {
                spec[s].ndim = 4;
                spec[s].shape[0] = co[i], spec[s].shape[1] = ci[i], spec[s].shape[2] = 3, spec[s].shape[3] = 3;
            } else {
                spec[s].ndim = 1;
                spec[s].shape[0] = co[i];
            }
            s++;
        }
    }
    spec[s].name = "head.weight", spec[s].ndim = 4, spec[s].flags = 0;
    spec[s].shape[0] = 2, spec[s].shape[1] = 16, spec[s].shape[2] = 1, spec[s].shape[3] = 1;
    s++;
    spec[s].name = "head.bias", spec[s].ndim = 1, spec[s].shape[0] = 2, spec[s].flags = DUET_PARAM_NO_DECAY;
    s++;
    duet_err err = {0};
    if (duet_params_new(spec, (size_t)s, &m->p, &err) || duet_params_enable_training(m->p, &err)) {
        fprintf(stderr, "bench_nn: %s\n", err.msg);
        exit(1);
    }
    duet_rng rng;
    duet_rng_seed(&rng, 1);
    for (size_t t = 0; t < m->p->count; t++) {
        const duet_param_info *r = &m->p->info[t];
        float *w = duet_params_data(m->p, t);
        if (strstr(r->name, "running_var") || strstr(r->name, "bn.weight")) duet_init_const(w, r->numel, 1);
        else if (strstr(r->name, "weight")) {
            float b = 1.0f / sqrtf((float)(r->numel / (size_t)r->shape[0]));
            duet_init_uniform(w, r->numel, -b, b, &rng);
        }
    }
    m->hw = s - 2, m->hb = s - 1;
    for (int i = 0; i < 10; i++) {
        block_init(&m->blk[i], names[i], B, ci[i], H >> lv[i], W >> lv[i], co[i]);
        m->blk[i].w = 5 * i, m->blk[i].g = 5 * i + 1, m->blk[i].b = 5 * i + 2;
        m->blk[i].rm = 5 * i + 3, m->blk[i].rv = 5 * i + 4;
    }
    m->nblk = 10;
    size_t n0 = (size_t)B * H * W;
    m->in = fz(2 * n0), m->target = fz(2 * n0), m->y = fz(2 * n0), m->dy = fz(2 * n0);
    for (size_t i = 0; i < 2 * n0; i++) {
        m->in[i] = duet_rng_uniform(&rng);
        m->target[i] = duet_rng_uniform(&rng);
    }
    duet_pool2d_dims_make(&m->pd1, B * 16, H, W, 2, 2, 2, 2, 0, 0);
    duet_pool2d_dims_make(&m->pd2, B * 32, H / 2, W / 2, 2, 2, 2, 2, 0, 0);
    duet_pool2d_dims_make(&m->pd3, B * 64, H / 4, W / 4, 2, 2, 2, 2, 0, 0);
    m->p1 = fz(n0 * 16 / 4), m->dp1 = fz(n0 * 16 / 4), m->am1 = calloc(n0 * 16 / 4, 4);
    m->p2 = fz(n0 * 32 / 16), m->dp2 = fz(n0 * 32 / 16), m->am2 = calloc(n0 * 32 / 16, 4);
    m->p3 = fz(n0 * 64 / 64), m->dp3 = fz(n0 * 64 / 64), m->am3 = calloc(n0 * 64 / 64, 4);
    m->up3 = fz(n0 * 128 / 16), m->dup3 = fz(n0 * 128 / 16);
    m->up2 = fz(n0 * 64 / 4), m->dup2 = fz(n0 * 64 / 4);
    m->up1 = fz(n0 * 32), m->dup1 = fz(n0 * 32);
    m->cat3 = fz(n0 * 128 / 16), m->dcat3 = fz(n0 * 128 / 16);
    m->cat2 = fz(n0 * 64 / 4), m->dcat2 = fz(n0 * 64 / 4);
    m->cat1 = fz(n0 * 32), m->dcat1 = fz(n0 * 32);
    block *b = m->blk;
    b[0].x = m->in, b[0].dx = NULL;
    b[1].x = m->p1, b[1].dx = m->dp1;
    b[2].x = m->p2, b[2].dx = m->dp2;
    b[3].x = m->p3, b[3].dx = m->dp3;
    b[4].x = m->up3, b[4].dx = m->dup3;
    b[5].x = m->cat3, b[5].dx = m->dcat3;
    b[6].x = m->up2, b[6].dx = m->dup2;
    b[7].x = m->cat2, b[7].dx = m->dcat2;
    b[8].x = m->up1, b[8].dx = m->dup1;
    b[9].x = m->cat1, b[9].dx = m->dcat1;
    duet_conv2d_dims_make(&m->head, B, 16, H, W, 2, 1, 1, 0, 1);
    int workers = duet_nn_workers();
    m->work_n = duet_conv2d_work_floats(&m->head, workers);
    for (int i = 0; i < 10; i++) {
        size_t w = duet_conv2d_work_floats(&b[i].cd, workers);
        if (w > m->work_n) m->work_n = w;
    }
    m->work = fz(m->work_n);
}

static double net_forward(net *m)
{
    block *b = m->blk;
    int B = m->B, H = m->H, W = m->W;
    block_fwd(m, &b[0]);
    duet_maxpool2d_forward(m->p1, m->am1, b[0].a, &m->pd1);
    block_fwd(m, &b[1]);
    duet_maxpool2d_forward(m->p2, m->am2, b[1].a, &m->pd2);
    block_fwd(m, &b[2]);
    duet_maxpool2d_forward(m->p3, m->am3, b[2].a, &m->pd3);
    block_fwd(m, &b[3]);
    duet_upsample_bilinear_forward(m->up3, b[3].a, B * 128, H / 8, W / 8, H / 4, W / 4);
    block_fwd(m, &b[4]);
    duet_concat_forward(m->cat3, b[4].a, b[2].a, B, 64, 64, (H / 4) * (W / 4));
    block_fwd(m, &b[5]);
    duet_upsample_bilinear_forward(m->up2, b[5].a, B * 64, H / 4, W / 4, H / 2, W / 2);
    block_fwd(m, &b[6]);
    duet_concat_forward(m->cat2, b[6].a, b[1].a, B, 32, 32, (H / 2) * (W / 2));
    block_fwd(m, &b[7]);
    duet_upsample_bilinear_forward(m->up1, b[7].a, B * 32, H / 2, W / 2, H, W);
    block_fwd(m, &b[8]);
    duet_concat_forward(m->cat1, b[8].a, b[0].a, B, 16, 16, H * W);
    block_fwd(m, &b[9]);
    duet_conv2d_forward(m->y, m->work, m->work_n, b[9].a, duet_params_data(m->p, (size_t)m->hw),
                        duet_params_data(m->p, (size_t)m->hb), &m->head);
    size_t n = (size_t)B * 2 * H * W;
    duet_sigmoid_forward(m->y, m->y, n);
    return duet_loss_l1(NULL, m->y, m->target, n, 1);
}

static void zero(float *p, size_t n) { memset(p, 0, n * sizeof(float)); }

static void net_backward(net *m)
{
    block *b = m->blk;
    int B = m->B, H = m->H, W = m->W;
    size_t n = (size_t)B * 2 * H * W, n0 = (size_t)B * H * W;
    duet_params_zero_grad(m->p);
    for (int i = 0; i < 10; i++) zero(b[i].da, (size_t)b[i].cd.B * b[i].cd.Co * b[i].cd.Ho * b[i].cd.Wo);
    zero(m->dp1, n0 * 4), zero(m->dp2, n0 * 2), zero(m->dp3, n0);
    zero(m->dup3, n0 * 8), zero(m->dup2, n0 * 16), zero(m->dup1, n0 * 32);
    zero(m->dcat3, n0 * 8), zero(m->dcat2, n0 * 16), zero(m->dcat1, n0 * 32);
    zero(m->dy, n);
    float *dz = b[0].tmp; /* scratch of size >= n (16 ch at full res) */
    duet_loss_l1(m->dy, m->y, m->target, n, 1);
    zero(dz, n);
    duet_sigmoid_backward(dz, m->dy, m->y, n);
    duet_conv2d_backward(b[9].da, duet_params_grad(m->p, (size_t)m->hw), duet_params_grad(m->p, (size_t)m->hb),
                         m->work, m->work_n, dz, b[9].a, duet_params_data(m->p, (size_t)m->hw), &m->head);
    block_bwd(m, &b[9]);
    duet_concat_backward(b[8].da, b[0].da, m->dcat1, B, 16, 16, H * W);
    block_bwd(m, &b[8]);
    duet_upsample_bilinear_backward(b[7].da, m->dup1, B * 32, H / 2, W / 2, H, W);
    block_bwd(m, &b[7]);
    duet_concat_backward(b[6].da, b[1].da, m->dcat2, B, 32, 32, (H / 2) * (W / 2));
    block_bwd(m, &b[6]);
    duet_upsample_bilinear_backward(b[5].da, m->dup2, B * 64, H / 4, W / 4, H / 2, W / 2);
    block_bwd(m, &b[5]);
    duet_concat_backward(b[4].da, b[2].da, m->dcat3, B, 64, 64, (H / 4) * (W / 4));
    block_bwd(m, &b[4]);
    duet_upsample_bilinear_backward(b[3].da, m->dup3, B * 128, H / 8, W / 8, H / 4, W / 4);
    block_bwd(m, &b[3]);
    duet_maxpool2d_backward(b[2].da, m->dp3, m->am3, &m->pd3);
    block_bwd(m, &b[2]);
    duet_maxpool2d_backward(b[1].da, m->dp2, m->am2, &m->pd2);
    block_bwd(m, &b[1]);
    duet_maxpool2d_backward(b[0].da, m->dp1, m->am1, &m->pd1);
    block_bwd(m, &b[0]);
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double sgemm_peak(void)
{
    const int n = 1024;
    float *A = fz((size_t)n * n), *B = fz((size_t)n * n), *C = fz((size_t)n * n);
    for (size_t i = 0; i < (size_t)n * n; i++) A[i] = B[i] = 0.001f * (float)(i % 1000);
    duet_sgemm(0, 0, n, n, n, 1, A, n, B, n, 0, C, n);
    double best = 0;
    for (int r = 0; r < 5; r++) {
        double t0 = duet_now();
        duet_sgemm(0, 0, n, n, n, 1, A, n, B, n, 0, C, n);
        double g = 2.0 * n * n * (double)n / (duet_now() - t0) / 1e9;
        if (g > best) best = g;
    }
    duet_free_aligned(A), duet_free_aligned(B), duet_free_aligned(C);
    return best;
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: bench_nn B H W ITERS omp|blas THREADS\n");
        return 2;
    }
    int B = atoi(argv[1]), H = atoi(argv[2]), W = atoi(argv[3]), iters = atoi(argv[4]);
    int mode = strcmp(argv[5], "blas") ? DUET_THREADS_OMP : DUET_THREADS_BLAS, th = atoi(argv[6]);
    if (B < 1 || H < 8 || W < 8 || H % 8 || W % 8 || iters < 1) {
        fprintf(stderr, "bench_nn: bad sizes\n");
        return 2;
    }
    duet_nn_set_threads(DUET_THREADS_BLAS, th);
    if (!getenv("BENCH_NN_NO_CONV")) printf("sgemm_peak_gflops %.2f\n", sgemm_peak());
    duet_nn_set_threads(mode, th);
    net m;
    net_init(&m, B, H, W);
    duet_adam opt = duet_adam_default(0, 0);
    duet_err err = {0};
    /* warm-up */
    net_forward(&m);
    net_backward(&m);
    /* the fastest of ITERS iterations: robust against other load on a shared
     * machine; also process CPU time (with one thread it does not depend on
     * how much of the machine other jobs take) */
    double tf = 1e30, ts = 1e30, cf = 1e30, cs = 1e30, loss = 0;
    for (int i = 0; i < iters; i++) {
        double t0 = duet_now(), c0 = cpu_now();
        net_forward(&m);
        double t = duet_now() - t0, c = cpu_now() - c0;
        if (t < tf) tf = t;
        if (c < cf) cf = c;
    }
    for (int i = 0; i < iters; i++) {
        double t0 = duet_now(), c0 = cpu_now();
        loss = net_forward(&m);
        net_backward(&m);
        if (duet_adam_step(&opt, m.p, 1e-3f, &err)) {
            fprintf(stderr, "bench_nn: %s\n", err.msg);
            return 1;
        }
        double t = duet_now() - t0, c = cpu_now() - c0;
        if (t < ts) ts = t;
        if (c < cs) cs = c;
    }
    printf("fwd_s %.4f\nstep_s %.4f\nfwd_cpu_s %.4f\nstep_cpu_s %.4f\nloss %.5f\n", tf, ts, cf, cs, loss);
    if (getenv("BENCH_NN_NO_CONV")) return 0;
    /* per-conv forward GFLOP/s, each layer timed alone */
    for (int i = 0; i < m.nblk; i++) {
        block *k = &m.blk[i];
        const float *w = duet_params_data(m.p, (size_t)k->w);
        duet_conv2d_forward(k->c, m.work, m.work_n, k->x, w, NULL, &k->cd);
        double t = 1e30;
        for (int r = 0; r < 3; r++) {
            double t0 = duet_now();
            duet_conv2d_forward(k->c, m.work, m.work_n, k->x, w, NULL, &k->cd);
            double tr = duet_now() - t0;
            if (tr < t) t = tr;
        }
        printf("conv %s %dx%dx%d->%d gflops %.2f fwd_ms %.2f\n", k->name, k->cd.Ci, k->cd.H, k->cd.W,
               k->cd.Co, 2.0 * duet_conv2d_macs(&k->cd) / t / 1e9, t * 1e3);
    }
    return 0;
}
