/* bench/bench_rec.c: the recommender benchmarks (peers in bench_rec.py,
 * driven by bench_rec.sh, which prints the ratios).
 *
 * bench_rec topk DIR [n_users n_items dim reps]
 *   Top-10 for every user of a HetRec-sized factor model (1,892 users x
 *   17,632 items, 64 factors, N(0, 0.1^2) factors, 49 random training items
 *   per user masked out) through duet_rec_recommend: one cblas_sgemm per batch of
 *   256 users, then a heap top-K per user. Writes the factors, the training
 *   items and duet's top-10 to DIR (U.f32, V.f32, mask.i32, top10.i32) so
 *   that the NumPy peer ranks the very same scores and the two top-10 lists
 *   can be compared. Prints users per second (best of reps).
 *
 * bench_rec neumf PREFIX [F reps]
 *   NeuMF training epochs on PREFIX.train.rating (DeepCF Last.fm: 1,741 users
 *   x 2,665 items, 67,408 positives), F predictive factors (GMF F, MLP
 *   embeddings 2F, tower 4F -> 2F -> F), 4 negatives per positive drawn per
 *   epoch (uniform over the items the user has no training row for), batches
 *   of 256 shuffled samples, BCE with logits, Adam lr 0.001. One epoch =
 *   sampling + shuffling + every batch's forward, backward and update. Two
 *   optimiser variants, as in the PyTorch peer:
 *     dense  every parameter updated by Adam at every step (embedding rows
 *            with zero gradient too: moments decay, as torch.optim.Adam does
 *            with dense embedding gradients);
 *     lazy   the embedding tables updated only in the rows of the batch
 *            (duet_adam_update_rows; torch.optim.SparseAdam), the rest by Adam.
 *   Both run the library's own loop (duet_rec_neumf_trainer_epoch, what
 *   duet_rec_neumf_fit runs); a third line times duet_rec_neumf_fit for one
 *   epoch (lazy, including initialisation and the scoring precomputation).
 *   Prints seconds per epoch, best of reps epochs (after one warm-up epoch). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/progress.h"
#include "../common/rng.h"
#include "../nn/layers.h"
#include "../nn/optim.h"
#include "../nn/tensor.h"
#include "../recommender/data.h"
#include "../recommender/eval.h"
#include "../recommender/model.h"

#define BATCH 256

/* CPU seconds of the process (all threads). */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int write_raw(const char *dir, const char *name, const void *p, size_t bytes)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, bytes, f) != bytes || fclose(f) != 0) {
        fprintf(stderr, "bench_rec: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

static int bench_topk(int argc, char **argv)
{
    const char *dir = argv[2];
    int nu = argc > 3 ? atoi(argv[3]) : 1892, ni = argc > 4 ? atoi(argv[4]) : 17632;
    int d = argc > 5 ? atoi(argv[5]) : 64, reps = argc > 6 ? atoi(argv[6]) : 5;
    const int per = 49;
    if (nu < 1 || ni < 2 * per || d < 1 || reps < 1) {
        fprintf(stderr, "bench_rec topk: bad arguments\n");
        return 2;
    }
    duet_rng r;
    duet_rng_seed(&r, 2024);
    duet_rec_factors *f = duet_rec_factors_new(nu, ni, d, 0.1f, 0, &r);
    duet_rec_triple *t = malloc((size_t)nu * per * sizeof *t);
    int32_t *mask = malloc((size_t)nu * per * sizeof *mask);
    int32_t *users = malloc((size_t)nu * sizeof *users), *out = malloc((size_t)nu * 10 * sizeof *out);
    if (!f || !t || !mask || !users || !out) {
        fprintf(stderr, "bench_rec: out of memory\n");
        return 1;
    }
    for (int u = 0; u < nu; u++) {
        users[u] = u;
        for (int k = 0; k < per; k++) {
            int32_t j = (int32_t)duet_rng_below(&r, (uint64_t)ni);
            mask[(size_t)u * per + k] = j;
            t[(size_t)u * per + k] = (duet_rec_triple){u, j, 1.0f, 0};
        }
    }
    duet_rec_csr train;
    duet_err err = {0};
    if (duet_rec_csr_from_triples(&train, nu, ni, t, (int64_t)nu * per, 1, "bench", &err) != DUET_OK) {
        fprintf(stderr, "bench_rec: %s\n", err.msg);
        return 1;
    }
    const duet_rec_model_def *m = duet_rec_model_find("ials"); /* any dot-product model: the factor scorer */
    double best = 1e30;
    for (int rep = 0; rep < reps; rep++) {
        double t0 = duet_now();
        if (duet_rec_recommend(m, f, &train, users, nu, 10, BATCH, out, &err) != DUET_OK) {
            fprintf(stderr, "bench_rec: %s\n", err.msg);
            return 1;
        }
        double dt = duet_now() - t0;
        if (dt < best) best = dt;
    }
    int rc = 0;
    rc |= write_raw(dir, "U.f32", f->U, (size_t)nu * d * sizeof(float));
    rc |= write_raw(dir, "V.f32", f->V, (size_t)ni * d * sizeof(float));
    rc |= write_raw(dir, "mask.i32", mask, (size_t)nu * per * sizeof(int32_t));
    rc |= write_raw(dir, "top10.i32", out, (size_t)nu * 10 * sizeof(int32_t));
    printf("duet_users_per_s %.1f (%d users x %d items, dim %d, sgemm per %d users + heap top-10, best of %d: "
           "%.4f s)\n", nu / best, nu, ni, d, BATCH, reps, best);
    duet_rec_csr_free(&train);
    duet_rec_factors_free(f);
    free(t);
    free(mask);
    free(users);
    free(out);
    return rc ? 1 : 0;
}

/* Seconds of the best of `reps` epochs (after one warm-up) of NeuMF on X
 * with dense (1) or lazy (0) Adam for the embedding tables: the library's
 * training loop (duet_rec_neumf_trainer, what duet_rec_neumf_fit runs). */
static double neumf_epochs(const duet_rec_csr *X, int F, int reps, int dense, double *loss_out, double *cpu_out)
{
    duet_err err = {0};
    duet_rec_neumf_trainer *t = NULL;
    if (duet_rec_neumf_trainer_new(X, F, 4, 0.001f, 7, dense, &t, &err)) {
        fprintf(stderr, "bench_rec: %s\n", err.msg);
        exit(1);
    }
    double best = 1e30, best_cpu = 1e30, loss = 0;
    for (int ep = 0; ep <= reps; ep++) {
        double t0 = duet_now(), c0 = cpu_now();
        if (duet_rec_neumf_trainer_epoch(t, &loss, &err)) {
            fprintf(stderr, "bench_rec: %s\n", err.msg);
            exit(1);
        }
        double dt = duet_now() - t0, dc = cpu_now() - c0;
        if (ep > 0 && dt < best) best = dt; /* epoch 0 is the warm-up */
        if (ep > 0 && dc < best_cpu) best_cpu = dc;
    }
    *loss_out = loss;
    *cpu_out = best_cpu;
    duet_rec_neumf_trainer_free(t);
    return best;
}

static int bench_neumf(int argc, char **argv)
{
    const char *prefix = argv[2];
    int F = argc > 3 ? atoi(argv[3]) : 16, reps = argc > 4 ? atoi(argv[4]) : 3;
    if (F < 1 || F > 512 || reps < 1) {
        fprintf(stderr, "bench_rec neumf: bad arguments\n");
        return 2;
    }
    duet_rec_ncf *d = NULL;
    duet_err err = {0};
    if (duet_rec_load_ncf(prefix, &d, &err) != DUET_OK) {
        fprintf(stderr, "bench_rec: %s\n", err.msg);
        return 1;
    }
    const duet_rec_csr *X = &d->train;
    const char *what[2] = {"lazy", "dense"};
    for (int dense = 1; dense >= 0; dense--) {
        double loss, cpu;
        double s = neumf_epochs(X, F, reps, dense, &loss, &cpu);
        printf("duet_neumf_epoch_s %s %.4f cpu_s %.4f (%d users x %d items, %lld positives, F %d, 4 negatives, "
               "batch %d, Adam lr 0.001, %s embeddings, best of %d epochs after 1 warm-up, last loss %.4f)\n",
               what[dense], s, cpu, X->n_rows, X->n_cols, (long long)X->nnz, F, BATCH, what[dense], reps, loss);
        fflush(stdout);
    }
    /* the library's own fit, one epoch per call (lazy) */
    const duet_rec_model_def *m = duet_rec_model_find("neumf");
    duet_rec_params p = {0};
    p.dim = F;
    p.k = 4;
    p.epochs = 1;
    p.lr = 0.001f;
    duet_rec_fit_ctx ctx = {0};
    ctx.train = X;
    ctx.progress = -1;
    double best = 1e30;
    for (int rep = 0; rep < 1; rep++) {
        void *st = NULL;
        ctx.seed = (uint64_t)rep + 1;
        double t0 = duet_now();
        if (m->fit(&ctx, &p, &st, &err) != DUET_OK) {
            fprintf(stderr, "bench_rec: %s\n", err.msg);
            return 1;
        }
        double dt = duet_now() - t0;
        if (dt < best) best = dt;
        m->free_state(st);
    }
    printf("duet_neumf_fit_s lazy %.4f (duet_rec_neumf_fit, 1 epoch incl. init and scoring precomputation, one run)\n",
           best);
    duet_rec_ncf_free(d);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[1], "neumf")) return bench_neumf(argc, argv);
    if (argc > 2 && !strcmp(argv[1], "topk")) return bench_topk(argc, argv);
    fprintf(stderr, "usage: bench_rec topk DIR [n_users n_items dim reps]\n"
                    "       bench_rec neumf NCF_PREFIX [F reps]\n");
    return 2;
}
