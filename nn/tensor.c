/* nn/tensor.c: parameter blocks carved by a size table, initialisers, and
 * the activation arena (see tensor.h). */
#include "tensor.h"

#include <stdlib.h>
#include <string.h>

#define ALIGN_FLOATS 16 /* 64 bytes */

float *duet_alloc_floats(size_t n)
{
    if (n == 0) n = 1;
    if (n > SIZE_MAX / sizeof(float) - ALIGN_FLOATS) return NULL;
    size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63;
    return aligned_alloc(64, bytes);
}

void duet_free_aligned(void *p) { free(p); }

duet_status duet_params_new(const duet_param_spec *specs, size_t n, duet_params **out, duet_err *err)
{
    *out = NULL;
    if (!specs && n) return duet_err_set(err, DUET_ERR_ARG, "parameter table is NULL");
    duet_params *p = calloc(1, sizeof *p);
    if (!p) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory for parameter table");
    p->info = calloc(n ? n : 1, sizeof *p->info);
    if (!p->info) {
        free(p);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory for parameter table");
    }
    p->count = n;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const duet_param_spec *s = &specs[i];
        duet_param_info *r = &p->info[i];
        duet_status st = DUET_OK;
        if (!s->name || !s->name[0] || strlen(s->name) >= DUET_PARAM_NAME_MAX)
            st = duet_err_set(err, DUET_ERR_ARG, "parameter %zu: empty or over-long name", i);
        else if (s->ndim < 1 || s->ndim > DUET_PARAM_MAX_DIMS)
            st = duet_err_set(err, DUET_ERR_ARG, "parameter %s: ndim %d out of 1..%d", s->name, s->ndim,
                              DUET_PARAM_MAX_DIMS);
        for (size_t j = 0; st == DUET_OK && j < i; j++)
            if (!strcmp(p->info[j].name, s->name))
                st = duet_err_set(err, DUET_ERR_ARG, "parameter %s: duplicate name", s->name);
        size_t numel = 1;
        for (int d = 0; st == DUET_OK && d < s->ndim; d++) {
            if (s->shape[d] <= 0)
                st = duet_err_set(err, DUET_ERR_ARG, "parameter %s: dimension %d is %lld", s->name, d,
                                  (long long)s->shape[d]);
            else if ((uint64_t)s->shape[d] > (SIZE_MAX >> 4) / numel)
                st = duet_err_set(err, DUET_ERR_RANGE, "parameter %s: size overflows", s->name);
            else
                numel *= (size_t)s->shape[d];
        }
        if (st == DUET_OK && off > (SIZE_MAX >> 4) - numel - ALIGN_FLOATS)
            st = duet_err_set(err, DUET_ERR_RANGE, "parameter block size overflows");
        if (st != DUET_OK) {
            duet_params_free(p);
            return st;
        }
        strcpy(r->name, s->name);
        r->ndim = s->ndim;
        for (int d = 0; d < s->ndim; d++) r->shape[d] = s->shape[d];
        r->flags = s->flags;
        r->offset = off;
        r->numel = numel;
        off += (numel + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
    }
    p->total = off;
    p->data = duet_alloc_floats(off);
    if (!p->data) {
        duet_params_free(p);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory for %zu parameters", off);
    }
    memset(p->data, 0, (off ? off : 1) * sizeof(float));
    *out = p;
    return DUET_OK;
}

void duet_params_free(duet_params *p)
{
    if (!p) return;
    duet_free_aligned(p->data);
    duet_free_aligned(p->grad);
    duet_free_aligned(p->m);
    duet_free_aligned(p->v);
    free(p->info);
    free(p);
}

duet_status duet_params_enable_training(duet_params *p, duet_err *err)
{
    float **blocks[3] = {&p->grad, &p->m, &p->v};
    for (int b = 0; b < 3; b++) {
        if (*blocks[b]) continue;
        *blocks[b] = duet_alloc_floats(p->total);
        if (!*blocks[b]) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory for training state");
        memset(*blocks[b], 0, (p->total ? p->total : 1) * sizeof(float));
    }
    return DUET_OK;
}

long duet_params_find(const duet_params *p, const char *name)
{
    for (size_t i = 0; i < p->count; i++)
        if (!strcmp(p->info[i].name, name)) return (long)i;
    return -1;
}

float *duet_params_data(const duet_params *p, size_t i)
{
    DUET_CHECK(i < p->count);
    return p->data + p->info[i].offset;
}

float *duet_params_grad(const duet_params *p, size_t i)
{
    DUET_CHECK(i < p->count);
    return p->grad ? p->grad + p->info[i].offset : NULL;
}

void duet_params_zero_grad(duet_params *p)
{
    if (p->grad && p->total) memset(p->grad, 0, p->total * sizeof(float));
}

size_t duet_params_trainable(const duet_params *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->count; i++)
        if (!(p->info[i].flags & DUET_PARAM_BUFFER)) n += p->info[i].numel;
    return n;
}

void duet_init_uniform(float *w, size_t n, float lo, float hi, duet_rng *rng)
{
    for (size_t i = 0; i < n; i++) w[i] = lo + (hi - lo) * duet_rng_uniform(rng);
}

void duet_init_normal(float *w, size_t n, float mean, float std, duet_rng *rng)
{
    for (size_t i = 0; i < n; i++) w[i] = mean + std * duet_rng_normal(rng);
}

void duet_init_const(float *w, size_t n, float value)
{
    for (size_t i = 0; i < n; i++) w[i] = value;
}

duet_status duet_arena_init(duet_arena *a, size_t cap, duet_err *err)
{
    a->used = 0;
    a->cap = cap;
    a->base = duet_alloc_floats(cap);
    if (!a->base) {
        a->cap = 0;
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory for a %zu-float arena", cap);
    }
    return DUET_OK;
}

void duet_arena_free(duet_arena *a)
{
    if (!a) return;
    duet_free_aligned(a->base);
    a->base = NULL;
    a->cap = a->used = 0;
}

float *duet_arena_take(duet_arena *a, size_t n)
{
    size_t r = (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
    if (r < n || r > a->cap - a->used) return NULL;
    float *q = a->base + a->used;
    a->used += r;
    return q;
}

float *duet_arena_zeros(duet_arena *a, size_t n)
{
    float *q = duet_arena_take(a, n);
    if (q && n) memset(q, 0, n * sizeof(float));
    return q;
}
