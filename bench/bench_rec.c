/* bench/bench_rec.c: top-10 for every user of a HetRec-sized factor model
 * (1,892 users x 17,632 items, 64 factors, random N(0, 0.1) factors) in
 * batched passes: one cblas_sgemm per batch of 256 users, then a heap top-K
 * per user with the user's training items masked (here ~49 random items per
 * user, like HetRec). Prints users per second (best of R repetitions).
 * Usage: bench_rec [n_users n_items dim reps]
 *        bench_rec neumf [n_users n_items per_user F epochs]
 * The second form times NeuMF training epochs (F predictive factors, 4
 * negatives per positive, batches of 256, Adam) on a random implicit data set
 * of per_user distinct items per user (DeepCF Last.fm size by default:
 * 1,741 users x 2,665 items x 39 = 67,899 positives); prints seconds per
 * epoch (best epoch of `epochs` one-epoch fits). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/progress.h"
#include "../common/rng.h"
#include "../recommender/eval.h"
#include "../recommender/model.h"

static int bench_neumf(int argc, char **argv)
{
    int nu = argc > 2 ? atoi(argv[2]) : 1741, ni = argc > 3 ? atoi(argv[3]) : 2665;
    int per = argc > 4 ? atoi(argv[4]) : 39, F = argc > 5 ? atoi(argv[5]) : 16, reps = argc > 6 ? atoi(argv[6]) : 3;
    if (nu < 1 || ni <= per || per < 1 || F < 1 || reps < 1) {
        fprintf(stderr, "bench_rec neumf: bad arguments\n");
        return 2;
    }
    duet_rng r;
    duet_rng_seed(&r, 77);
    rec_triple *t = malloc((size_t)nu * per * sizeof *t);
    if (!t) return 1;
    for (int u = 0; u < nu; u++)
        for (int k = 0; k < per; k++) { /* distinct items: a random start and stride-1 run */
            t[(size_t)u * per + k] = (rec_triple){u, (int32_t)((u * 7919 + k) % ni), 1.0f, 0};
        }
    rec_csr train;
    duet_err err = {0};
    if (rec_csr_from_triples(&train, nu, ni, t, (int64_t)nu * per, 1, "bench", &err) != DUET_OK) {
        fprintf(stderr, "bench_rec: %s\n", err.msg);
        return 1;
    }
    const rec_model_def *m = rec_model_find("neumf");
    rec_params p = {0};
    p.dim = F;
    p.k = 4;
    p.epochs = 1;
    p.lr = 0.001f;
    rec_fit_ctx ctx = {0};
    ctx.train = &train;
    ctx.progress = -1;
    double best = 1e30;
    for (int rep = 0; rep < reps; rep++) {
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
    printf("duet_neumf_epoch_s %.4f (%d users x %d items, %lld positives, F %d, 4 negatives, batch 256, best of %d)\n",
           best, nu, ni, (long long)train.nnz, F, reps);
    rec_csr_free(&train);
    free(t);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "neumf")) return bench_neumf(argc, argv);
    int nu = argc > 1 ? atoi(argv[1]) : 1892, ni = argc > 2 ? atoi(argv[2]) : 17632;
    int d = argc > 3 ? atoi(argv[3]) : 64, reps = argc > 4 ? atoi(argv[4]) : 5;
    if (nu < 1 || ni < 50 || d < 1 || reps < 1) {
        fprintf(stderr, "bench_rec: bad arguments\n");
        return 2;
    }
    duet_rng r;
    duet_rng_seed(&r, 2024);
    rec_factors *f = rec_factors_new(nu, ni, d, 0.1f, 0, &r);
    /* training matrix: 49 random items per user (masked from the top-K) */
    int per = 49;
    rec_triple *t = malloc((size_t)nu * per * sizeof *t);
    int32_t *users = malloc((size_t)nu * sizeof *users), *out = malloc((size_t)nu * 10 * sizeof *out);
    if (!f || !t || !users || !out) {
        fprintf(stderr, "bench_rec: out of memory\n");
        return 1;
    }
    for (int u = 0; u < nu; u++) {
        users[u] = u;
        for (int k = 0; k < per; k++) t[(size_t)u * per + k] = (rec_triple){u, (int32_t)duet_rng_below(&r, ni), 1.0f, 0};
    }
    rec_csr train;
    duet_err err = {0};
    if (rec_csr_from_triples(&train, nu, ni, t, (int64_t)nu * per, 1, "bench", &err) != DUET_OK) {
        fprintf(stderr, "bench_rec: %s\n", err.msg);
        return 1;
    }
    const rec_model_def *m = rec_model_find("ials"); /* any dot-product model: the factor scorer */
    double best = 1e30;
    long check = 0;
    for (int rep = 0; rep < reps; rep++) {
        double t0 = duet_now();
        if (rec_recommend(m, f, &train, users, nu, 10, 256, out, &err) != DUET_OK) {
            fprintf(stderr, "bench_rec: %s\n", err.msg);
            return 1;
        }
        double dt = duet_now() - t0;
        if (dt < best) best = dt;
        check += out[0];
    }
    printf("duet_users_per_s %.1f (%d users x %d items, dim %d, best of %d: %.4f s) [check %ld]\n", nu / best, nu, ni,
           d, reps, best, check);
    rec_csr_free(&train);
    rec_factors_free(f);
    free(t);
    free(users);
    free(out);
    return 0;
}
