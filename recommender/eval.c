/* recommender/eval.c: full-ranking, cold-start and sampled protocols with
 * validation tuning (see eval.h). */
#include "eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/progress.h"
#include "../common/rng.h"
#include "split.h"

#define VALID_SALT 0x5A17D00DULL

void duet_rec_eval_opts_default(duet_rec_eval_opts *o)
{
    memset(o, 0, sizeof *o);
    o->ks[0] = 5;
    o->ks[1] = 10;
    o->ks[2] = 20;
    o->n_k = 3;
    o->n_seeds = 3;
    o->seed0 = 1;
    o->test_frac = 0.2;
    o->valid_frac = 0.2;
    o->min_inter = 5;
    o->cold_frac = 0.1;
    o->tune_k = 10;
    o->tune_metric = REC_NDCG;
    o->batch = 256;
    o->progress = 0;
}

static int max_k(const duet_rec_metric_acc *a)
{
    int k = 1;
    for (int i = 0; i < a->n_k; i++)
        if (a->ks[i] > k) k = a->ks[i];
    return k;
}

duet_status duet_rec_eval_split(const duet_rec_model_def *m, const void *state, const duet_rec_csr *train,
                                const duet_rec_csr *test, const uint8_t *cand, const uint32_t *tiebreak, int batch,
                                duet_rec_metric_acc *acc, duet_err *err)
{
    int32_t ni = train->n_cols, nu = train->n_rows;
    int kmax = max_k(acc);
    if (batch < 1) batch = 1;
    int32_t *users = malloc((size_t)(nu ? nu : 1) * sizeof *users);
    float *scores = malloc((size_t)batch * (size_t)ni * sizeof *scores);
    if (!users || !scores) {
        free(users);
        free(scores);
        return duet_err_set(err, DUET_ERR_NOMEM, "evaluation: out of memory");
    }
    int32_t n_eval = 0;
    for (int32_t u = 0; u < nu && u < test->n_rows; u++) {
        if (train->indptr[u + 1] == train->indptr[u]) continue;
        int any = 0;
        for (int64_t q = test->indptr[u]; q < test->indptr[u + 1] && !any; q++)
            any = !cand || cand[test->indices[q]];
        if (any) users[n_eval++] = u;
    }
    duet_status st = DUET_OK;
    int fail = 0;
    for (int32_t b0 = 0; b0 < n_eval && !st; b0 += batch) {
        int32_t nb = n_eval - b0 < batch ? n_eval - b0 : batch;
        st = duet_rec_model_score(m, state, train, users + b0, nb, scores, err);
        if (st) break;
#pragma omp parallel if ((double)nb * (double)ni > 2e5)
        {
            duet_rec_metric_acc local;
            duet_rec_acc_init(&local, acc->ks, acc->n_k);
            int32_t *ranked = malloc((size_t)kmax * sizeof *ranked);
            int32_t *rel = malloc((size_t)ni * sizeof *rel);
            if (!ranked || !rel) {
#pragma omp atomic write
                fail = 1;
            }
#pragma omp for schedule(dynamic, 4)
            for (int32_t b = 0; b < nb; b++) {
                if (!ranked || !rel) continue;
                int32_t u = users[b0 + b];
                float *row = scores + (size_t)b * ni;
                if (cand)
                    for (int32_t i = 0; i < ni; i++)
                        if (!cand[i]) row[i] = -INFINITY;
                for (int64_t q = train->indptr[u]; q < train->indptr[u + 1]; q++) row[train->indices[q]] = -INFINITY;
                int nr = 0;
                for (int64_t q = test->indptr[u]; q < test->indptr[u + 1]; q++) {
                    int32_t i = test->indices[q];
                    if ((!cand || cand[i]) && row[i] != -INFINITY) rel[nr++] = i;
                }
                if (!nr) continue;
                int got = duet_rec_topk(row, ni, tiebreak, kmax, ranked);
                duet_rec_acc_add(&local, ranked, got, rel, nr);
            }
#pragma omp critical(duet_rec_eval_merge)
            duet_rec_acc_merge(acc, &local);
            free(ranked);
            free(rel);
        }
        if (fail) st = duet_err_set(err, DUET_ERR_NOMEM, "evaluation: out of memory");
    }
    free(users);
    free(scores);
    return st;
}

duet_status duet_rec_recommend(const duet_rec_model_def *m, const void *state, const duet_rec_csr *train,
                               const int32_t *users, int32_t n, int k, int batch, int32_t *out, duet_err *err)
{
    int32_t ni = train->n_cols;
    if (k < 1) return duet_err_set(err, DUET_ERR_ARG, "recommend: k must be >= 1");
    if (batch < 1) batch = 1;
    float *scores = malloc((size_t)batch * (size_t)ni * sizeof *scores);
    if (!scores) return duet_err_set(err, DUET_ERR_NOMEM, "recommend: out of memory");
    duet_status st = DUET_OK;
    for (int32_t b0 = 0; b0 < n && !st; b0 += batch) {
        int32_t nb = n - b0 < batch ? n - b0 : batch;
        st = duet_rec_model_score(m, state, train, users + b0, nb, scores, err);
        if (st) break;
#pragma omp parallel for schedule(dynamic, 8) if ((double)nb * (double)ni > 2e5)
        for (int32_t b = 0; b < nb; b++) {
            int32_t u = users[b0 + b];
            float *row = scores + (size_t)b * ni;
            int32_t *o = out + (size_t)(b0 + b) * k;
            if (u >= 0 && u < train->n_rows)
                for (int64_t q = train->indptr[u]; q < train->indptr[u + 1]; q++) row[train->indices[q]] = -INFINITY;
            int got = duet_rec_topk(row, ni, NULL, k, o);
            for (int j = got; j < k; j++) o[j] = -1;
        }
    }
    free(scores);
    return st;
}

/* Seeded random tie-break keys (a permutation of 0..n-1). */
static uint32_t *tiebreak_keys(int32_t n, uint64_t seed)
{
    uint32_t *t = malloc((size_t)(n ? n : 1) * sizeof *t);
    if (!t) return NULL;
    duet_rng r;
    duet_rng_seed(&r, seed ^ 0x7E7E7E7EULL);
    for (int32_t i = 0; i < n; i++) t[i] = (uint32_t)i;
    duet_rng_shuffle(&r, t, (size_t)n, sizeof *t);
    return t;
}

static int k_index(const duet_rec_eval_opts *o, int k)
{
    for (int i = 0; i < o->n_k; i++)
        if (o->ks[i] == k) return i;
    return 0;
}

static duet_status check_opts(const duet_rec_model_def *m, const duet_rec_eval_opts *o, duet_err *err)
{
    if (!m->fit) return duet_err_set(err, DUET_ERR_UNSUPPORTED, "model '%s' is not built yet", m->name);
    if (o->n_k < 1 || o->n_k > REC_MAX_K || o->n_seeds < 1)
        return duet_err_set(err, DUET_ERR_ARG, "evaluation: need 1..%d cut-offs and >= 1 seed", REC_MAX_K);
    for (int i = 0; i < o->n_k; i++)
        if (o->ks[i] < 1) return duet_err_set(err, DUET_ERR_ARG, "evaluation: cut-offs must be >= 1");
    return DUET_OK;
}

/* Aggregate per-seed means into res. */
static void finish(duet_rec_eval_result *res, double per[][REC_MAX_K][REC_N_METRICS], int runs,
                   const duet_rec_eval_opts *o)
{
    res->n_runs = runs;
    res->n_k = o->n_k;
    for (int i = 0; i < o->n_k; i++) {
        res->ks[i] = o->ks[i];
        for (int m = 0; m < REC_N_METRICS; m++) {
            double s = 0, s2 = 0;
            for (int r = 0; r < runs; r++) s += per[r][i][m];
            double mean = runs ? s / runs : 0;
            for (int r = 0; r < runs; r++) s2 += (per[r][i][m] - mean) * (per[r][i][m] - mean);
            res->mean[i][m] = mean;
            res->std[i][m] = runs > 1 ? sqrt(s2 / (runs - 1)) : 0;
        }
    }
}

static void append_chosen(duet_rec_eval_result *res, const duet_rec_model_def *m, const duet_rec_params *p)
{
    char buf[160];
    duet_rec_params_describe(m, p, buf, sizeof buf);
    size_t l = strlen(res->chosen);
    snprintf(res->chosen + l, sizeof res->chosen - l, "%s%s", l ? "; " : "", buf);
}

/* Evaluation callback used by tuning and testing: fits config p on `tr`,
 * returns metrics of the held-out part in acc. */
typedef struct split_job {
    const duet_rec_csr *tr, *te;
    const uint8_t *cand;
    /* sampled protocol */
    const int32_t *pos, *negs;
    int32_t n_neg;
} split_job;

static duet_status sampled_eval(const duet_rec_model_def *m, const void *state, const duet_rec_csr *train,
                                const int32_t *pos, const int32_t *negs, int32_t n_neg, const uint32_t *tiebreak,
                                int batch, duet_rec_metric_acc *acc, duet_err *err);

static duet_status fit_and_eval(const duet_rec_model_def *m, const duet_rec_params *p, const duet_rec_fit_ctx *ctx,
                                const split_job *job, const uint32_t *tb, const duet_rec_eval_opts *o,
                                duet_rec_metric_acc *acc, double *fit_s, double *eval_s, duet_err *err)
{
    void *state = NULL;
    double t0 = duet_now();
    duet_status st = m->fit(ctx, p, &state, err);
    double t1 = duet_now();
    if (st) return st;
    duet_rec_acc_init(acc, o->ks, o->n_k);
    if (job->pos)
        st = sampled_eval(m, state, job->tr, job->pos, job->negs, job->n_neg, tb, o->batch, acc, err);
    else
        st = duet_rec_eval_split(m, state, job->tr, job->te, job->cand, tb, o->batch, acc, err);
    double t2 = duet_now();
    m->free_state(state);
    if (fit_s) *fit_s += t1 - t0;
    if (eval_s) *eval_s += t2 - t1;
    return st;
}

/* Tune on (tune_job) then test on (test_job); adds per-seed means in per. */
static duet_status tune_and_test(const duet_rec_model_def *m, duet_rec_fit_ctx *ctx, const duet_rec_csr *tr_tune,
                                 const duet_rec_csr *valid, const split_job *tune_job, const duet_rec_csr *tr_test,
                                 const split_job *test_job, const uint32_t *tb, const duet_rec_eval_opts *o,
                                 duet_rec_eval_result *res, double per[REC_MAX_K][REC_N_METRICS], duet_progress *pg,
                                 double *done, duet_err *err)
{
    int best = 0;
    duet_rec_metric_acc acc;
    duet_status st = DUET_OK;
    int ki = k_index(o, o->tune_k);
    double t0 = duet_now();
    if (m->n_grid > 1 && !o->no_tune) {
        double best_v = -1;
        for (int g = 0; g < m->n_grid; g++) {
            ctx->train = tr_tune;
            ctx->valid = valid;
            st = fit_and_eval(m, &m->grid[g], ctx, tune_job, tb, o, &acc, NULL, NULL, err);
            if (st) return st;
            double v = duet_rec_acc_mean(&acc, ki, o->tune_metric);
            if (v > best_v) {
                best_v = v;
                best = g;
            }
            *done += 1;
            duet_progress_update(pg, *done, m->name);
        }
    }
    res->tune_s += duet_now() - t0;
    ctx->train = tr_test;
    ctx->valid = NULL;
    st = fit_and_eval(m, &m->grid[best], ctx, test_job, tb, o, &acc, &res->fit_s, &res->eval_s, err);
    if (st) return st;
    *done += 1;
    duet_progress_update(pg, *done, m->name);
    append_chosen(res, m, &m->grid[best]);
    res->n_users = acc.n_users;
    for (int i = 0; i < o->n_k; i++)
        for (int q = 0; q < REC_N_METRICS; q++) per[i][q] = duet_rec_acc_mean(&acc, i, q);
    return DUET_OK;
}

duet_status duet_rec_eval_full(const duet_rec_model_def *m, const duet_rec_csr *ui, const duet_rec_side *side, int cold,
                               const duet_rec_eval_opts *o, duet_rec_eval_result *res, duet_err *err)
{
    memset(res, 0, sizeof *res);
    res->model = m->name;
    duet_status st = check_opts(m, o, err);
    if (st) return st;
    double (*per)[REC_MAX_K][REC_N_METRICS] = calloc((size_t)o->n_seeds, sizeof *per);
    uint8_t *cold_te = malloc((size_t)ui->n_cols + 1), *cold_va = malloc((size_t)ui->n_cols + 1);
    if (!per || !cold_te || !cold_va) {
        free(per);
        free(cold_te);
        free(cold_va);
        return duet_err_set(err, DUET_ERR_NOMEM, "evaluation: out of memory");
    }
    duet_progress pg;
    double done = 0;
    duet_progress_init(&pg, m->name, (double)o->n_seeds * ((m->n_grid > 1 && !o->no_tune ? m->n_grid : 0) + 1),
                       o->progress);
    int runs = 0;
    for (int s = 0; s < o->n_seeds && !st; s++) {
        uint64_t seed = o->seed0 + (uint64_t)s;
        duet_rec_csr train = {0}, test = {0}, tr2 = {0}, val = {0};
        uint32_t *tb = NULL;
        if (!cold) {
            st = duet_rec_split_users(ui, o->test_frac, o->min_inter, seed, &train, &test, err);
            if (!st) st = duet_rec_split_users(&train, o->valid_frac, o->min_inter, seed ^ VALID_SALT, &tr2, &val, err);
        } else {
            st = duet_rec_split_cold_items(ui, o->cold_frac, seed, &train, &test, cold_te, err);
            if (!st)
                st = duet_rec_split_cold_items(&train, o->cold_frac / (1 - o->cold_frac), seed ^ VALID_SALT, &tr2, &val,
                                               cold_va, err);
        }
        if (!st && !(tb = tiebreak_keys(ui->n_cols, seed)))
            st = duet_err_set(err, DUET_ERR_NOMEM, "evaluation: out of memory");
        if (!st) {
            duet_rec_fit_ctx ctx = {0};
            ctx.side = side ? *side : (duet_rec_side){0};
            ctx.seed = seed;
            ctx.progress = o->progress;
            split_job tj = {&tr2, &val, cold ? cold_va : NULL, NULL, NULL, 0};
            split_job ej = {&train, &test, cold ? cold_te : NULL, NULL, NULL, 0};
            st = tune_and_test(m, &ctx, &tr2, &val, &tj, &train, &ej, tb, o, res, per[s], &pg, &done, err);
            if (!st) runs++;
        }
        free(tb);
        duet_rec_csr_free(&train);
        duet_rec_csr_free(&test);
        duet_rec_csr_free(&tr2);
        duet_rec_csr_free(&val);
    }
    duet_progress_done(&pg);
    finish(res, per, runs, o);
    free(per);
    free(cold_te);
    free(cold_va);
    return st;
}

static duet_status sampled_eval(const duet_rec_model_def *m, const void *state, const duet_rec_csr *train,
                                const int32_t *pos, const int32_t *negs, int32_t n_neg, const uint32_t *tiebreak,
                                int batch, duet_rec_metric_acc *acc, duet_err *err)
{
    int32_t nu = train->n_rows, ni = train->n_cols;
    int kmax = max_k(acc);
    if (batch < 1) batch = 1;
    int32_t *users = malloc((size_t)(nu ? nu : 1) * sizeof *users);
    float *scores = malloc((size_t)batch * (size_t)ni * sizeof *scores);
    if (!users || !scores) {
        free(users);
        free(scores);
        return duet_err_set(err, DUET_ERR_NOMEM, "evaluation: out of memory");
    }
    int32_t n_eval = 0;
    for (int32_t u = 0; u < nu; u++)
        if (pos[u] >= 0 && pos[u] < ni) users[n_eval++] = u;
    duet_status st = DUET_OK;
    int fail = 0;
    for (int32_t b0 = 0; b0 < n_eval && !st; b0 += batch) {
        int32_t nb = n_eval - b0 < batch ? n_eval - b0 : batch;
        st = duet_rec_model_score(m, state, train, users + b0, nb, scores, err);
        if (st) break;
#pragma omp parallel if ((double)nb * (double)ni > 2e5)
        {
            duet_rec_metric_acc local;
            duet_rec_acc_init(&local, acc->ks, acc->n_k);
            int32_t nc = n_neg + 1;
            float *cs = malloc((size_t)nc * sizeof *cs);
            uint32_t *ct = malloc((size_t)nc * sizeof *ct);
            int32_t *ci = malloc((size_t)nc * sizeof *ci), *ranked = malloc((size_t)kmax * sizeof *ranked);
            if (!cs || !ct || !ci || !ranked) {
#pragma omp atomic write
                fail = 1;
            }
#pragma omp for schedule(dynamic, 8)
            for (int32_t b = 0; b < nb; b++) {
                if (!cs || !ct || !ci || !ranked) continue;
                int32_t u = users[b0 + b];
                const float *row = scores + (size_t)b * ni;
                int32_t c = 0;
                ci[c++] = pos[u];
                for (int32_t j = 0; j < n_neg; j++) {
                    int32_t it = negs[(size_t)u * n_neg + j];
                    if (it >= 0 && it < ni) ci[c++] = it;
                }
                for (int32_t j = 0; j < c; j++) {
                    cs[j] = row[ci[j]];
                    ct[j] = tiebreak ? tiebreak[ci[j]] : (uint32_t)ci[j];
                }
                int got = duet_rec_topk(cs, c, ct, kmax, ranked);
                for (int j = 0; j < got; j++) ranked[j] = ci[ranked[j]];
                int32_t rel = pos[u];
                duet_rec_acc_add(&local, ranked, got, &rel, 1);
            }
#pragma omp critical(duet_rec_eval_merge)
            duet_rec_acc_merge(acc, &local);
            free(cs);
            free(ct);
            free(ci);
            free(ranked);
        }
        if (fail) st = duet_err_set(err, DUET_ERR_NOMEM, "evaluation: out of memory");
    }
    free(users);
    free(scores);
    return st;
}

duet_status duet_rec_eval_sampled(const duet_rec_model_def *m, const duet_rec_ncf *d, const duet_rec_eval_opts *o,
                                  duet_rec_eval_result *res, duet_err *err)
{
    memset(res, 0, sizeof *res);
    res->model = m->name;
    duet_status st = check_opts(m, o, err);
    if (st) return st;
    int32_t nu = d->train.n_rows, ni = d->train.n_cols, nn = d->n_neg;
    double (*per)[REC_MAX_K][REC_N_METRICS] = calloc((size_t)o->n_seeds, sizeof *per);
    int32_t *vpos = malloc((size_t)nu * sizeof *vpos);
    int32_t *vneg = malloc((size_t)nu * (size_t)(nn ? nn : 1) * sizeof *vneg);
    if (!per || !vpos || !vneg) {
        free(per);
        free(vpos);
        free(vneg);
        return duet_err_set(err, DUET_ERR_NOMEM, "evaluation: out of memory");
    }
    duet_progress pg;
    double done = 0;
    duet_progress_init(&pg, m->name, (double)o->n_seeds * ((m->n_grid > 1 && !o->no_tune ? m->n_grid : 0) + 1),
                       o->progress);
    int runs = 0;
    for (int s = 0; s < o->n_seeds && !st; s++) {
        uint64_t seed = o->seed0 + (uint64_t)s;
        duet_rec_csr tr2 = {0}, val = {0};
        uint32_t *tb = NULL;
        /* leave one random training item out per user (>= 2 items) */
        st = duet_rec_split_users(&d->train, 1e-9, 2, seed ^ VALID_SALT, &tr2, &val, err);
        if (!st && !(tb = tiebreak_keys(ni, seed))) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        if (!st) {
            duet_rng r;
            duet_rng_seed(&r, seed ^ 0x9E9A71FEULL);
            for (int32_t u = 0; u < nu; u++) {
                vpos[u] = val.indptr[u + 1] > val.indptr[u] ? val.indices[val.indptr[u]] : -1;
                int64_t free_items = ni - (d->train.indptr[u + 1] - d->train.indptr[u]);
                if (vpos[u] < 0 || free_items < nn) {
                    vpos[u] = -1;
                    continue;
                }
                for (int32_t j = 0; j < nn; j++) {
                    int32_t it;
                    int again;
                    do {
                        it = (int32_t)duet_rng_below(&r, (uint64_t)ni);
                        again = duet_rec_csr_has(&d->train, u, it);
                        for (int32_t q = 0; q < j && !again; q++) again = vneg[(size_t)u * nn + q] == it;
                    } while (again);
                    vneg[(size_t)u * nn + j] = it;
                }
            }
            duet_rec_fit_ctx ctx = {0};
            ctx.seed = seed;
            ctx.progress = o->progress;
            split_job tj = {&tr2, NULL, NULL, vpos, vneg, nn};
            split_job ej = {&d->train, NULL, NULL, d->test_item, d->negatives, nn};
            st = tune_and_test(m, &ctx, &tr2, &val, &tj, &d->train, &ej, tb, o, res, per[s], &pg, &done, err);
            if (!st) runs++;
        }
        free(tb);
        duet_rec_csr_free(&tr2);
        duet_rec_csr_free(&val);
    }
    duet_progress_done(&pg);
    finish(res, per, runs, o);
    free(per);
    free(vpos);
    free(vneg);
    return st;
}

duet_status duet_rec_fit_tuned(const duet_rec_model_def *m, const duet_rec_fit_ctx *ctx, int tune,
                               duet_rec_params *chosen, void **state, duet_err *err)
{
    *state = NULL;
    if (!m->fit) return duet_err_set(err, DUET_ERR_UNSUPPORTED, "model '%s' is not built yet", m->name);
    int best = 0;
    duet_status st = DUET_OK;
    if (tune && m->n_grid > 1) {
        duet_rec_csr tr2 = {0}, val = {0};
        uint32_t *tb = NULL;
        st = duet_rec_split_users(ctx->train, 0.2, 5, ctx->seed ^ VALID_SALT, &tr2, &val, err);
        if (!st && !(tb = tiebreak_keys(ctx->train->n_cols, ctx->seed)))
            st = duet_err_set(err, DUET_ERR_NOMEM, "tuning: out of memory");
        double best_v = -1;
        int ks[1] = {10};
        for (int g = 0; !st && g < m->n_grid; g++) {
            duet_rec_fit_ctx c2 = *ctx;
            c2.train = &tr2;
            c2.valid = &val;
            void *s = NULL;
            duet_rec_metric_acc acc;
            duet_rec_acc_init(&acc, ks, 1);
            st = m->fit(&c2, &m->grid[g], &s, err);
            if (!st) st = duet_rec_eval_split(m, s, &tr2, &val, NULL, tb, 256, &acc, err);
            if (s) m->free_state(s);
            double v = st ? -1 : duet_rec_acc_mean(&acc, 0, REC_NDCG);
            if (!st && v > best_v) {
                best_v = v;
                best = g;
            }
        }
        free(tb);
        duet_rec_csr_free(&tr2);
        duet_rec_csr_free(&val);
        if (st) return st;
    }
    *chosen = m->grid[best];
    duet_rec_fit_ctx c2 = *ctx;
    c2.valid = NULL;
    return m->fit(&c2, chosen, state, err);
}
