/* separation/eval_protocol.c: eval-sep's protocol (eval_protocol.h). */
#include "eval_protocol.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/progress.h"
#include "../nn/gemm.h"
#include "bsseval.h"
#include "sdr.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double duet_median_finite(const double *x, int n, int *count)
{
    double *v = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    int m = 0;
    for (int i = 0; i < n && v; i++)
        if (isfinite(x[i])) v[m++] = x[i];
    double r = NAN;
    if (v && m > 0) {
        qsort(v, (size_t)m, sizeof(double), cmp_double);
        r = (m % 2) ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
    }
    free(v);
    if (count) *count = m;
    return r;
}

void duet_eval_results_free(duet_eval_results *r)
{
    if (!r) return;
    for (int m = 0; m < r->n_methods; m++) {
        if (r->ev && r->ev[m])
            for (int t = 0; t < r->n_tracks; t++) duet_track_eval_free(&r->ev[m][t]);
        if (r->ev) free(r->ev[m]);
        if (r->ok) free(r->ok[m]);
    }
    free(r->ev);
    free(r->ok);
    memset(r, 0, sizeof *r);
}

duet_status duet_eval_run(const duet_track_list *tl, const duet_eval_method *methods, int n_methods,
                          const duet_eval_opts *o, duet_eval_results *out, duet_err *err)
{
    memset(out, 0, sizeof *out);
    if (!tl || !methods || n_methods < 1 || !o || o->jobs < 1)
        return duet_err_set(err, DUET_ERR_ARG, "eval: bad arguments");
    out->n_methods = n_methods;
    out->n_tracks = tl->n;
    out->ev = calloc((size_t)n_methods, sizeof *out->ev);
    out->ok = calloc((size_t)n_methods, sizeof *out->ok);
    if (!out->ev || !out->ok) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    for (int m = 0; m < n_methods; m++) {
        out->ev[m] = calloc((size_t)(tl->n > 0 ? tl->n : 1), sizeof(duet_track_eval));
        out->ok[m] = calloc((size_t)(tl->n > 0 ? tl->n : 1), sizeof(int));
        if (!out->ev[m] || !out->ok[m]) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    const int jobs = o->jobs;
    /* tracks on OpenMP workers, every layer inside single-threaded (gemm.h) */
    if (jobs > 1) duet_nn_set_threads(DUET_THREADS_OMP, jobs);
    int done_n = 0, failed = 0;
    double t_start = duet_now();
#pragma omp parallel for num_threads(jobs) schedule(dynamic, 1)
    for (int t = 0; t < tl->n; t++) {
        duet_err e = {0};
        duet_stems stems;
        duet_status s = duet_stems_load(tl, t, &stems, &e);
        if (s) {
#pragma omp critical(duet_eval_io)
            {
                if (o->on_track) o->on_track(o->user, tl, t, NULL, s, &e, NULL, 0, 0);
                failed++;
            }
        } else {
            double msdr[2] = {NAN, NAN};
            int have_msdr = duet_eval_mixture_sdr(&stems, msdr, &e) == DUET_OK;
            for (int i = 0; i < n_methods; i++) {
                const duet_eval_method *m = &methods[i];
                duet_audio v, a;
                memset(&v, 0, sizeof v);
                memset(&a, 0, sizeof a);
                double t0 = duet_now();
                if (!m->sep) {
                    s = duet_stems_load_estimates(m->est_dir, tl->tracks[t].name, &v, &a, &e);
                } else {
                    duet_sep_input in = {&stems.mixture, &stems.vocals, &stems.accompaniment};
                    s = duet_sep_check_input(m->sep, &in, &e);
                    if (!s) s = m->sep->run(m->state, &in, &v, &a, &e);
                }
                double t1 = duet_now();
                if (!s)
                    s = duet_eval_track(tl->tracks[t].name, &stems, &v, &a, have_msdr ? msdr : NULL, &out->ev[i][t], &e);
                duet_audio_free(&v);
                duet_audio_free(&a);
#pragma omp critical(duet_eval_io)
                {
                    if (s) failed++;
                    else out->ok[i][t] = 1;
                    if (o->on_track)
                        o->on_track(o->user, tl, t, m, s, &e, s ? NULL : &out->ev[i][t], t1 - t0, duet_now() - t1);
                }
            }
            duet_stems_free(&stems);
        }
#pragma omp critical(duet_eval_io)
        {
            done_n++;
            if (o->progress) o->progress(o->user, done_n, tl->n);
        }
    }
    out->failed = failed;
    out->seconds = duet_now() - t_start;
    return DUET_OK;
}

duet_eval_summary duet_eval_summarize(const duet_eval_results *r, int m, int j)
{
    duet_eval_summary s;
    memset(&s, 0, sizeof s);
    s.sdr = s.sir = s.sar = s.si_sdr = s.v4_sdr = s.gnsdr = s.gsir = s.gsar = NAN;
    if (!r || m < 0 || m >= r->n_methods || j < 0 || j > 1) return s;
    int nt = r->n_tracks;
    double *a[5];
    for (int k = 0; k < 5; k++) a[k] = malloc(sizeof(double) * (size_t)(nt > 0 ? nt : 1));
    if (!a[0] || !a[1] || !a[2] || !a[3] || !a[4]) {
        for (int k = 0; k < 5; k++) free(a[k]);
        return s;
    }
    duet_gnsdr g;
    memset(&g, 0, sizeof g);
    int cnt = 0;
    for (int t = 0; t < nt; t++) {
        if (!r->ok[m][t]) continue;
        const duet_target_eval *e = &r->ev[m][t].t[j];
        a[0][cnt] = e->sdr;
        a[1][cnt] = e->sir;
        a[2][cnt] = e->sar;
        a[3][cnt] = e->si_sdr;
        a[4][cnt] = e->v4_sdr;
        cnt++;
        if (!isfinite(e->sdr) || !isfinite(e->nsdr)) s.undef++;
        duet_gnsdr_add(&g, e->sdr, e->mix_sdr, e->sir, e->sar, (double)r->ev[m][t].frames);
    }
    int used = 0;
    s.sdr = duet_median_finite(a[0], cnt, &used);
    s.n = used;
    s.sir = duet_median_finite(a[1], cnt, NULL);
    s.sar = duet_median_finite(a[2], cnt, NULL);
    s.si_sdr = duet_median_finite(a[3], cnt, NULL);
    s.v4_sdr = duet_median_finite(a[4], cnt, NULL);
    s.gnsdr = duet_gnsdr_value(&g);
    s.gsir = duet_gsir_value(&g);
    s.gsar = duet_gsar_value(&g);
    for (int k = 0; k < 5; k++) free(a[k]);
    return s;
}
