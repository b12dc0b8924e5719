/* nn/optim.c: Adam/AdamW (torch.optim semantics), global-norm clipping and
 * learning-rate schedules (see optim.h). */
#include "optim.h"

#include <math.h>

#include "gemm.h"

duet_adam duet_adam_default(float weight_decay, int decoupled)
{
    duet_adam a = {0.9f, 0.999f, 1e-8f, weight_decay, decoupled, 0};
    return a;
}

static void adam_range(const duet_adam *opt, float *w, const float *g, float *m, float *v, size_t n,
                       float lr, float wd, double bc1, double bc2)
{
    const float b1 = opt->beta1, b2 = opt->beta2, eps = opt->eps;
    const float step = (float)(lr / bc1), sbc2 = (float)sqrt(bc2);
    const float shrink = opt->decoupled ? 1.0f - lr * wd : 1.0f;
    const float l2 = opt->decoupled ? 0.0f : wd;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + l2 * w[i];
        m[i] = b1 * m[i] + (1.0f - b1) * gi;
        v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
        float denom = sqrtf(v[i]) / sbc2 + eps;
        w[i] = w[i] * shrink - step * m[i] / denom;
    }
}

duet_status duet_adam_step(duet_adam *opt, duet_params *p, float lr, duet_err *err)
{
    if (!p->grad || !p->m || !p->v)
        return duet_err_set(err, DUET_ERR_ARG, "adam: training state not enabled on the parameters");
    for (size_t t = 0; t < p->count; t++) {
        const duet_param_info *r = &p->info[t];
        if (r->flags & DUET_PARAM_BUFFER) continue;
        const float *g = p->grad + r->offset;
        for (size_t i = 0; i < r->numel; i++)
            if (!isfinite(g[i]))
                return duet_err_set(err, DUET_ERR_NAN, "adam: non-finite gradient in %s[%zu]",
                                    r->name, i);
    }
    opt->t++;
    const double bc1 = 1.0 - pow(opt->beta1, (double)opt->t);
    const double bc2 = 1.0 - pow(opt->beta2, (double)opt->t);
    const long count = (long)p->count;
#pragma omp parallel for schedule(dynamic) if (p->total > 65536 && duet_nn_workers() > 1)
    for (long t = 0; t < count; t++) {
        const duet_param_info *r = &p->info[t];
        if (r->flags & (DUET_PARAM_BUFFER | DUET_PARAM_SPARSE)) continue;
        float wd = (r->flags & DUET_PARAM_NO_DECAY) ? 0.0f : opt->weight_decay;
        adam_range(opt, p->data + r->offset, p->grad + r->offset, p->m + r->offset,
                   p->v + r->offset, r->numel, lr, wd, bc1, bc2);
    }
    return DUET_OK;
}

void duet_adam_update_rows(const duet_adam *opt, duet_params *p, size_t index, const int32_t *rows,
                           size_t n, float lr)
{
    DUET_CHECK(index < p->count && p->grad && p->info[index].ndim == 2);
    const duet_param_info *r = &p->info[index];
    const int64_t V = r->shape[0], D = r->shape[1];
    const int64_t t = opt->t > 0 ? opt->t : 1;
    const double bc1 = 1.0 - pow(opt->beta1, (double)t), bc2 = 1.0 - pow(opt->beta2, (double)t);
    float wd = (r->flags & DUET_PARAM_NO_DECAY) ? 0.0f : opt->weight_decay;
    for (size_t i = 0; i < n; i++) {
        DUET_CHECK(rows[i] >= 0 && rows[i] < V);
        size_t o = r->offset + (size_t)rows[i] * (size_t)D;
        adam_range(opt, p->data + o, p->grad + o, p->m + o, p->v + o, (size_t)D, lr, wd, bc1, bc2);
    }
}

double duet_clip_grad_norm(duet_params *p, double max_norm)
{
    if (!p->grad) return 0.0;
    double s = 0;
    for (size_t t = 0; t < p->count; t++) {
        const duet_param_info *r = &p->info[t];
        if (r->flags & DUET_PARAM_BUFFER) continue;
        const float *g = p->grad + r->offset;
        for (size_t i = 0; i < r->numel; i++) s += (double)g[i] * g[i];
    }
    double norm = sqrt(s);
    if (max_norm > 0 && norm > max_norm) {
        float c = (float)(max_norm / (norm + 1e-6));
        for (size_t t = 0; t < p->count; t++) {
            const duet_param_info *r = &p->info[t];
            if (r->flags & DUET_PARAM_BUFFER) continue;
            float *g = p->grad + r->offset;
            for (size_t i = 0; i < r->numel; i++) g[i] *= c;
        }
    }
    return norm;
}

float duet_lr_step(float base, int64_t step, int64_t step_size, float gamma)
{
    if (step_size < 1) return base;
    return (float)(base * pow(gamma, (double)(step / step_size)));
}

float duet_lr_cosine(float base, float min_lr, int64_t step, int64_t warmup, int64_t total)
{
    if (warmup > 0 && step < warmup) return base * (float)(step + 1) / (float)warmup;
    if (step >= total || total <= warmup) return min_lr;
    double f = (double)(step - warmup) / (double)(total - warmup);
    return (float)(min_lr + 0.5 * (base - min_lr) * (1.0 + cos(3.14159265358979323846 * f)));
}

duet_plateau duet_plateau_make(float lr, float factor, int patience, float min_lr)
{
    duet_plateau pl = {lr, factor, min_lr, 1e-4f, patience, 0, INFINITY, 0, 0};
    return pl;
}

float duet_plateau_update(duet_plateau *pl, double metric)
{
    if (metric < pl->best * (1.0 - pl->threshold)) {
        pl->best = metric;
        pl->bad = 0;
    } else {
        pl->bad++;
    }
    if (pl->cooldown_left > 0) {
        pl->cooldown_left--;
        pl->bad = 0;
    }
    if (pl->bad > pl->patience) {
        float nl = pl->lr * pl->factor;
        pl->lr = nl < pl->min_lr ? pl->min_lr : nl;
        pl->cooldown_left = pl->cooldown;
        pl->bad = 0;
    }
    return pl->lr;
}
