/* nn/tensor.h: parameter blocks and activation arenas.
 *
 * A model's parameters live in ONE float allocation carved by a size table
 * (llm.c habit): each named tensor is a (name, shape, flags) row with an
 * offset into the block. Gradients, and the optimiser's first and second
 * moments, are parallel blocks with the same offsets, allocated only for
 * training (duet_params_enable_training), so an inference model is just the
 * immutable `data` block and can serve several threads, each with its own
 * activations (duet_arena). Zeroing gradients is one memset; a checkpoint is
 * a walk over the table.
 *
 * Tensors are plain float buffers in row-major order; images are NCHW. */
#ifndef DUET_NN_TENSOR_H
#define DUET_NN_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "../common/rng.h"
#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DUET_PARAM_MAX_DIMS 4
#define DUET_PARAM_NAME_MAX 96

/* Flags of a parameter row. */
enum {
    DUET_PARAM_NO_DECAY = 1, /* excluded from (decoupled) weight decay: biases, norms */
    DUET_PARAM_BUFFER = 2,   /* not trained (BatchNorm running stats); saved with weights */
    DUET_PARAM_SPARSE = 4    /* trained row-wise by duet_adam_update_rows (embeddings);
                                skipped by duet_adam_step */
};

/* One row of the size table (input to duet_params_new). name is copied. */
typedef struct duet_param_spec {
    const char *name;
    int ndim;                              /* 1 .. DUET_PARAM_MAX_DIMS */
    int64_t shape[DUET_PARAM_MAX_DIMS];
    int flags;                             /* DUET_PARAM_* */
} duet_param_spec;

typedef struct duet_param_info {
    char name[DUET_PARAM_NAME_MAX];
    int ndim;
    int64_t shape[DUET_PARAM_MAX_DIMS];
    int flags;
    size_t offset;                         /* floats from the block start (multiple of 16) */
    size_t numel;
} duet_param_info;

/* The parameter block. Fields are readable; change them only through the
 * functions below. data: parameters (zeroed at creation); grad, m, v: NULL
 * until duet_params_enable_training(). */
typedef struct duet_params {
    size_t count;
    duet_param_info *info;
    size_t total;                          /* floats in each block (incl. alignment padding) */
    float *data, *grad, *m, *v;
} duet_params;

/* Build a block from a size table of n rows. *out must be freed with
 * duet_params_free(). Errors: DUET_ERR_ARG (empty or over-long or duplicate
 * name, ndim out of range, non-positive dimension), DUET_ERR_RANGE (sizes
 * overflow), DUET_ERR_NOMEM. */
duet_status duet_params_new(const duet_param_spec *specs, size_t n, duet_params **out, duet_err *err);
void duet_params_free(duet_params *p);

/* Allocate (zeroed) the gradient and the two moment blocks; idempotent.
 * Errors: DUET_ERR_NOMEM. */
duet_status duet_params_enable_training(duet_params *p, duet_err *err);

/* Index of the tensor called name, or -1. */
long duet_params_find(const duet_params *p, const char *name);
/* Pointers to tensor i in each block (grad/m/v: NULL before training is on).
 * i must be < count (checked). */
float *duet_params_data(const duet_params *p, size_t i);
float *duet_params_grad(const duet_params *p, size_t i);

/* grad = 0 (one memset); no-op without training blocks. */
void duet_params_zero_grad(duet_params *p);

/* Number of trainable floats (rows without DUET_PARAM_BUFFER). */
size_t duet_params_trainable(const duet_params *p);

/* Initialisers (PyTorch defaults: conv/linear weights and biases are
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)), i.e. kaiming_uniform(a=sqrt(5))). */
void duet_init_uniform(float *w, size_t n, float lo, float hi, duet_rng *rng);
void duet_init_normal(float *w, size_t n, float mean, float std, duet_rng *rng);
void duet_init_const(float *w, size_t n, float value);

/* A bump allocator for activations and scratch, one per run/thread: carve
 * many buffers from one allocation, reset between steps. Pointers are
 * 64-byte aligned. */
typedef struct duet_arena {
    float *base;
    size_t cap;    /* floats */
    size_t used;   /* floats */
} duet_arena;

/* Reserve cap floats. Free with duet_arena_free(). Errors: DUET_ERR_NOMEM. */
duet_status duet_arena_init(duet_arena *a, size_t cap, duet_err *err);
void duet_arena_free(duet_arena *a);
/* n floats (uninitialised), or NULL when the arena is full. */
float *duet_arena_take(duet_arena *a, size_t n);
/* The same, zeroed. */
float *duet_arena_zeros(duet_arena *a, size_t n);
static inline void duet_arena_reset(duet_arena *a) { a->used = 0; }

/* 64-byte aligned allocation of n floats (NULL on failure / n == 0 gives a
 * valid minimal block); free with duet_free_aligned(). */
float *duet_alloc_floats(size_t n);
void duet_free_aligned(void *p);

#ifdef __cplusplus
}
#endif

#endif
