/* bench/bench_sepnet.c: speed of duet's separation network (separation/
 * sepnet.c), the side of bench/bench_sepnet.sh that bench/bench_sepnet.py
 * (the same network in PyTorch 1.13, same weights) is compared with.
 *
 *   bench_sepnet init BASE OUT.safetensors
 *       a model with the default configuration but BASE channels (phase
 *       channels BASE/2), PyTorch-default random initialisation, seed 1:
 *       the "wider" network of the benchmark (no trained weights needed for
 *       speed).
 *   bench_sepnet run MODEL DIR ITERS THREADS
 *       synthesises a 30 s test signal at the model's rate, writes to
 *       DIR/io.safetensors the input features of every inference chunk
 *       exactly as duet_sepnet_vocal_mask cuts them (chunks of 256 frames, hop 128,
 *       batches of 2), duet's masks for them, and one training batch (4 x 128
 *       frames: features and target magnitudes), so the PyTorch peer runs the
 *       very same inputs and checks duet's masks. Then, after one warm-up,
 *       ITERS times, prints one line per measurement:
 *         mask_s X      duet_sepnet_vocal_mask over the clip (duet's inference path:
 *                       features + chunked forward + cross-fade)
 *         net_s X       the evaluation forwards of the same chunks alone
 *                       (only with BENCH_SEPNET_NET set)
 *         separate_s X  duet_sepnet_separate on the clip (STFT, network, ISTFT)
 *         step_s X      a training step: forward (batch statistics, dropout),
 *                       L1 loss on both stems, backward, clip 5, Adam
 *       and finally "sgemm_peak_gflops X" (cblas on THREADS threads: the best
 *       of 1024^3 x 8 and 512^3 x 30, measured before and after the conv
 *       layers, the higher)
 *       and one line per conv layer, each timed alone at its inference size
 *       (batch 2, best of 8): "conv NAME CO CI K H W GFLOPS MS" (not with
 *       BENCH_SEPNET_NO_CONV set).
 * Threads: OpenMP over items/row tiles with single-threaded OpenBLAS
 * (DUET_THREADS_OMP), as `duet train-sep -j` uses. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/progress.h"
#include "../nn/nn.h"
#include "../separation/sepnet.h"
#include "../separation/sepnet_infer.h"
#include "../audio/stft.h"

#define CHUNK 256
#define IBATCH 2 /* = INFER_BATCH of sepnet_infer.c */
#define TB 4
#define TT 128
#define SECONDS 30

static void die(const char *what, const duet_err *e)
{
    fprintf(stderr, "bench_sepnet: %s: %s\n", what, e ? e->msg : "failed");
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory", NULL);
    return p;
}

/* A deterministic 30 s test signal: a gliding harmonic "voice" with
 * vibrato, three-note chords, a noise hi-hat, at rate sr. */
static float *make_signal(int sr, int64_t n)
{
    float *x = xmalloc((size_t)n * sizeof *x);
    duet_rng rng;
    duet_rng_seed(&rng, 42);
    const double pi = 3.14159265358979323846;
    double ph = 0;
    for (int64_t i = 0; i < n; i++) {
        double t = (double)i / sr;
        double f0 = 220 * pow(2.0, (double)((int)(t / 0.5) % 7) / 12.0) * (1 + 0.01 * sin(2 * pi * 5.5 * t));
        ph += 2 * pi * f0 / sr;
        double v = 0;
        for (int h = 1; h <= 8; h++) v += sin(h * ph) / h;
        v *= 0.2 * (0.6 + 0.4 * sin(2 * pi * 0.3 * t));
        double a = 0;
        static const double chord[3] = {130.81, 164.81, 196.0};
        for (int k = 0; k < 3; k++) a += 0.08 * sin(2 * pi * chord[k] * (1 + (int)(t / 2) % 2 * 0.125) * t);
        double beat = fmod(t, 0.25);
        a += 0.05 * exp(-beat * 40) * (2 * duet_rng_uniform(&rng) - 1);
        x[i] = (float)(v + a);
    }
    return x;
}

/* cblas_sgemm GFLOP/s, the best of reps n^3 multiplications */
static double sgemm_rate(int n, int reps)
{
    float *A = duet_alloc_floats((size_t)n * n), *B = duet_alloc_floats((size_t)n * n),
          *C = duet_alloc_floats((size_t)n * n);
    if (!A || !B || !C) die("out of memory", NULL);
    for (size_t i = 0; i < (size_t)n * n; i++) A[i] = B[i] = 0.001f * (float)(i % 1000);
    duet_sgemm(0, 0, n, n, n, 1, A, n, B, n, 0, C, n);
    double best = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = duet_now();
        duet_sgemm(0, 0, n, n, n, 1, A, n, B, n, 0, C, n);
        double g = 2.0 * n * n * (double)n / (duet_now() - t0) / 1e9;
        if (g > best) best = g;
    }
    duet_free_aligned(A), duet_free_aligned(B), duet_free_aligned(C);
    return best;
}

/* The peak: the better of 1024^3 (best of 8) and 512^3 (best of 30; a few
 * ms each, so on a loaded machine some run between preemptions, as the
 * small conv layers do). */
static double sgemm_peak(void)
{
    double a = sgemm_rate(1024, 8), b = sgemm_rate(512, 30);
    return a > b ? a : b;
}

/* Resolution level (down-samplings from n_freq x T) at which the conv whose
 * weight is called `name` runs, or -1 if it is not a conv weight. */
static int conv_level(const char *name, const duet_sepnet_config *c)
{
    int l;
    if (!strcmp(name, "head.weight")) return 0;
    size_t n = strlen(name);
    if (n < 12 || strcmp(name + n - 11, "conv.weight")) return -1;
    if (!strncmp(name, "stem_", 5)) return 0;
    if (!strncmp(name, "fem_phase.scale", 15)) return name[15] == '1' ? 0 : name[15] == '2' ? 1 : 2;
    if (!strncmp(name, "fem_bottleneck.scale", 20))
        return c->depth + (name[20] == '1' ? 0 : name[20] == '2' ? 1 : 2);
    if (!strncmp(name, "bottleneck", 10)) return c->depth;
    if (sscanf(name, "enc%d", &l) == 1 || sscanf(name, "dec%d", &l) == 1) return l;
    if (sscanf(name, "up%d", &l) == 1) return c->transposed ? l + 1 : l;
    return -1;
}

static void conv_layers(const sepnet *m)
{
    const duet_sepnet_config *c = &m->cfg;
    const duet_params *p = m->params;
    for (size_t i = 0; i < p->count; i++) {
        const duet_param_info *in = &p->info[i];
        int lv = conv_level(in->name, c);
        if (lv < 0 || in->ndim != 4) continue;
        int H = c->n_freq >> lv, W = CHUNK >> lv;
        if (H < 1 || W < 1 || (c->n_freq % (1 << lv)) || (CHUNK % (1 << lv))) continue; /* scale not run */
        int Co = (int)in->shape[0], Ci = (int)in->shape[1], k = (int)in->shape[2];
        duet_conv2d_dims d;
        if (duet_conv2d_dims_make(&d, IBATCH, Ci, H, W, Co, k, 1, (k - 1) / 2, 1)) continue;
        size_t wn = duet_conv2d_work_floats(&d, duet_nn_workers());
        float *x = duet_alloc_floats((size_t)IBATCH * Ci * H * W), *y = duet_alloc_floats((size_t)IBATCH * Co * H * W);
        float *work = duet_alloc_floats(wn ? wn : 1);
        if (!x || !y || !work) die("out of memory", NULL);
        for (size_t j = 0; j < (size_t)IBATCH * Ci * H * W; j++) x[j] = (float)(j % 97) * 0.01f;
        const float *w = duet_params_data(p, i);
        duet_conv2d_forward(y, work, wn, x, w, NULL, &d);
        double best = 1e30;
        for (int r = 0; r < 8; r++) {
            double t0 = duet_now();
            duet_conv2d_forward(y, work, wn, x, w, NULL, &d);
            double t = duet_now() - t0;
            if (t < best) best = t;
        }
        char nm[DUET_PARAM_NAME_MAX];
        snprintf(nm, sizeof nm, "%s", in->name);
        char *dot = strstr(nm, ".weight");
        if (dot) *dot = 0;
        printf("conv %s %d %d %d %d %d %.3f %.4f\n", nm, Co, Ci, k, H, W, 2.0 * duet_conv2d_macs(&d) / best / 1e9,
               best * 1e3);
        duet_free_aligned(x), duet_free_aligned(y), duet_free_aligned(work);
    }
}

static int cmd_init(int base, const char *out)
{
    duet_sepnet_config c = duet_sepnet_config_default();
    c.base = base;
    c.phase_ch = base / 2;
    duet_rng rng;
    duet_rng_seed(&rng, 1);
    sepnet *m;
    duet_err err = {0};
    if (duet_sepnet_new(&c, &rng, &m, &err)) die("sepnet_new", &err);
    const char *kv[] = {"bench", "random init (bench_sepnet init)"};
    if (duet_sepnet_save(m, out, kv, 1, &err)) die(out, &err);
    duet_sepnet_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "init")) return cmd_init(atoi(argv[2]), argv[3]);
    if (argc != 6 || strcmp(argv[1], "run")) {
        fprintf(stderr, "usage: bench_sepnet init BASE OUT | bench_sepnet run MODEL DIR ITERS THREADS\n");
        return 2;
    }
    const char *model = argv[2], *dir = argv[3];
    int iters = atoi(argv[4]), th = atoi(argv[5]);
    if (iters < 1 || th < 1) return 2;
    duet_nn_set_threads(DUET_THREADS_OMP, th);
    duet_err err = {0};
    sepnet *m;
    if (duet_sepnet_load(model, &m, &err)) die(model, &err);
    const duet_sepnet_config *c = &m->cfg;
    printf("config base %d, depth %d, n_freq %d, phase_ch %d, fem %d, sa %d, transposed %d, %zu parameters\n", c->base,
           c->depth, c->n_freq, c->phase_ch, c->use_fem, c->use_sa, c->transposed, duet_params_trainable(m->params));
    const int F = c->n_freq, nb = c->n_fft / 2 + 1, sr = c->sample_rate;
    const int64_t n = (int64_t)SECONDS * sr;
    float *sig = make_signal(sr, n);
    duet_stft *stft;
    if (duet_stft_new(c->n_fft, c->hop, DUET_WIN_HANN, &stft, &err)) die("stft", &err);
    int64_t nf = duet_stft_n_frames(stft, n);
    float *spec = xmalloc((size_t)nf * nb * 2 * sizeof(float)), *mask = xmalloc((size_t)nf * nb * sizeof(float));
    if (duet_stft_forward(stft, sig, n, spec, &err)) die("stft", &err);
    duet_sepnet_run *run;
    if (duet_sepnet_run_new(m, &run, &err)) die("run", &err);

    /* the chunks of duet_sepnet_vocal_mask: starts -H, 0, H, ... while the chunk
     * before did not reach past the end */
    const int Hh = CHUNK / 2;
    int nch = 0;
    for (int64_t s0 = -Hh;; s0 += Hh) {
        int last = s0 + CHUNK >= nf + Hh || s0 >= nf;
        if (s0 < nf) nch++;
        if (last) break;
    }
    const size_t plane = (size_t)F * CHUNK;
    float *feat = xmalloc((size_t)nch * 3 * plane * sizeof(float));
    float *masks = xmalloc((size_t)nch * 2 * plane * sizeof(float));
    for (int i = 0; i < nch; i++) duet_sepnet_features(feat + (size_t)i * 3 * plane, spec, nf, nb, -Hh + (int64_t)i * Hh, CHUNK, c);
    /* network forwards alone, batches of IBATCH as duet_sepnet_vocal_mask runs them */
#define NET_PASS(keep)                                                                            \
    for (int i = 0; i < nch; i += IBATCH) {                                                       \
        int bn = nch - i < IBATCH ? nch - i : IBATCH;                                             \
        const float *mk;                                                                          \
        if (duet_sepnet_forward(run, feat + (size_t)i * 3 * plane, bn, CHUNK, 0, NULL, &mk, &err))     \
            die("forward", &err);                                                                 \
        if (keep) memcpy(masks + (size_t)i * 2 * plane, mk, (size_t)bn * 2 * plane * sizeof(float)); \
    }
    NET_PASS(1)

    /* training batch: features and |X|, |V|, |A| targets (|V| a smooth
     * random share of |X|) from random chunks of the clip */
    const size_t tplane = (size_t)F * TT;
    float *tfeat = xmalloc((size_t)TB * 3 * tplane * sizeof(float));
    float *tmag = xmalloc((size_t)TB * 3 * tplane * sizeof(float));
    float *dm = xmalloc((size_t)TB * 2 * tplane * sizeof(float));
    duet_rng rng;
    duet_rng_seed(&rng, 7);
    for (int b = 0; b < TB; b++) {
        int64_t t0 = (int64_t)duet_rng_below(&rng, (uint64_t)(nf - TT));
        duet_sepnet_features(tfeat + (size_t)b * 3 * tplane, spec, nf, nb, t0, TT, c);
        float *mx = tmag + (size_t)b * 3 * tplane, *mv = mx + tplane, *ma = mv + tplane;
        for (int k = 0; k < F; k++)
            for (int t = 0; t < TT; t++) {
                const float *z = spec + ((size_t)(t0 + t) * nb + k) * 2;
                float x = hypotf(z[0], z[1]), s = 0.5f + 0.4f * sinf(0.05f * k + 0.1f * t + b);
                size_t o = (size_t)k * TT + t;
                mx[o] = x;
                mv[o] = s * x;
                ma[o] = (1 - s) * x;
            }
    }
    {
        duet_st_writer *w;
        if (duet_st_writer_new(&w, &err)) die("writer", &err);
        int64_t si[4] = {nch, 3, F, CHUNK}, sm[4] = {nch, 2, F, CHUNK}, st_[4] = {TB, 3, F, TT};
        char buf[32];
        snprintf(buf, sizeof buf, "%d", IBATCH);
        if (duet_st_writer_meta(w, "infer_batch", buf, &err) ||
            duet_st_writer_add(w, "infer.feat", DUET_ST_F32, 4, si, feat, &err) ||
            duet_st_writer_add(w, "infer.masks", DUET_ST_F32, 4, sm, masks, &err) ||
            duet_st_writer_add(w, "train.feat", DUET_ST_F32, 4, st_, tfeat, &err) ||
            duet_st_writer_add(w, "train.mags", DUET_ST_F32, 4, st_, tmag, &err))
            die("writer", &err);
        char path[1024];
        snprintf(path, sizeof path, "%s/io.safetensors", dir);
        if (duet_st_writer_save(w, path, &err)) die(path, &err);
        duet_st_writer_free(w);
    }

    duet_audio mix = {0}, voc, acc;
    if (duet_audio_alloc(&mix, 1, n, sr)) die("audio", NULL);
    memcpy(mix.ch[0], sig, (size_t)n * sizeof(float));
    if (duet_params_enable_training(m->params, &err)) die("training", &err);
    duet_adam opt = duet_adam_default(0, 1);
    double loss = 0;
#define TRAIN_STEP()                                                                                \
    do {                                                                                            \
        const float *mk;                                                                            \
        if (duet_sepnet_forward(run, tfeat, TB, TT, 1, &rng, &mk, &err)) die("forward", &err);           \
        double inv = 1.0 / (2.0 * TB * tplane);                                                     \
        loss = 0;                                                                                   \
        for (int b = 0; b < TB; b++) {                                                              \
            const float *mx = tmag + (size_t)b * 3 * tplane, *mv = mx + tplane, *ma = mv + tplane;   \
            const float *kv = mk + (size_t)b * 2 * tplane, *ka = kv + tplane;                       \
            float *dv = dm + (size_t)b * 2 * tplane, *da = dv + tplane;                             \
            for (size_t i = 0; i < tplane; i++) {                                                   \
                float ev = kv[i] * mx[i] - mv[i], ea = ka[i] * mx[i] - ma[i];                       \
                loss += fabsf(ev) + fabsf(ea);                                                      \
                dv[i] = (float)(inv * (ev > 0 ? mx[i] : ev < 0 ? -mx[i] : 0.0f));                   \
                da[i] = (float)(inv * (ea > 0 ? mx[i] : ea < 0 ? -mx[i] : 0.0f));                   \
            }                                                                                       \
        }                                                                                           \
        loss *= inv;                                                                                \
        duet_params_zero_grad(m->params);                                                           \
        duet_sepnet_backward(run, dm);                                                                   \
        duet_clip_grad_norm(m->params, 5.0);                                                        \
        if (duet_adam_step(&opt, m->params, 1e-3f, &err)) die("adam", &err);                        \
    } while (0)

    /* warm-up, then ITERS rounds; inference before training (Adam changes
     * the weights, which does not change the cost) */
    if (duet_sepnet_vocal_mask(m, run, spec, nf, CHUNK, mask, &err)) die("mask", &err);
    for (int it = 0; it < iters; it++) {
        double t0 = duet_now();
        if (duet_sepnet_vocal_mask(m, run, spec, nf, CHUNK, mask, &err)) die("mask", &err);
        printf("mask_s %.5f\n", duet_now() - t0);
        if (getenv("BENCH_SEPNET_NET")) {
            t0 = duet_now();
            NET_PASS(0)
            printf("net_s %.5f\n", duet_now() - t0);
        }
        duet_sepnet_sep_opts so;
        memset(&so, 0, sizeof so);
        so.chunk_frames = CHUNK;
        t0 = duet_now();
        if (duet_sepnet_separate(m, &mix, &so, &voc, &acc, &err)) die("separate", &err);
        printf("separate_s %.5f\n", duet_now() - t0);
        duet_audio_free(&voc);
        duet_audio_free(&acc);
        fflush(stdout);
    }
    TRAIN_STEP(); /* warm-up */
    for (int it = 0; it < iters; it++) {
        double t0 = duet_now();
        TRAIN_STEP();
        printf("step_s %.5f\n", duet_now() - t0);
        fflush(stdout);
    }
    printf("loss %.6f\nclip_s %d\nframes %lld\nchunks %d\n", loss, SECONDS, (long long)nf, nch);
    if (!getenv("BENCH_SEPNET_NO_CONV")) {
        /* the peak before and after the conv layers, the higher one: on a
         * loaded machine a single measurement can land in a busy moment */
        duet_nn_set_threads(DUET_THREADS_BLAS, th);
        double peak = sgemm_peak();
        duet_nn_set_threads(DUET_THREADS_OMP, th);
        conv_layers(m);
        duet_nn_set_threads(DUET_THREADS_BLAS, th);
        double p2 = sgemm_peak();
        printf("sgemm_peak_gflops %.2f\n", p2 > peak ? p2 : peak);
    }
    duet_audio_free(&mix);
    duet_sepnet_run_free(run);
    duet_sepnet_free(m);
    duet_stft_free(stft);
    free(sig), free(spec), free(mask), free(feat), free(masks), free(tfeat), free(tmag), free(dm);
    return 0;
}
