/* nn/safetensors_impl.h: internals shared by the reader (safetensors.c: the
 * dtype table, message helpers, header parsing and validation, loading,
 * lookups) and the writer (safetensors_write.c) of safetensors.h. Not
 * installed, not part of the API. */
#ifndef DUET_NN_SAFETENSORS_IMPL_H
#define DUET_NN_SAFETENSORS_IMPL_H

#include <stddef.h>

#include "safetensors.h"

#define N_DTYPES 12

typedef struct duet_st_dtype_desc {
    const char *name;
    size_t size;
    int rank; /* position in the reference implementation's Dtype enum */
} duet_st_dtype_desc;

/* Name, element size and reference order of every duet_st_dtype. */
extern const duet_st_dtype_desc duet_st_dtype_info[N_DTYPES];

/* A printable, bounded copy of a name for error messages: control bytes
 * become '?', long names are cut (at a UTF-8 boundary) with "...". */
#define SHOW_CAP 96
const char *duet_st_show_name(const char *name, char buf[SHOW_CAP]);

/* Make room for need elements of elem bytes in *p (capacity *cap, doubled
 * from 8). Returns 1, or 0 when out of memory (*p unchanged). */
int duet_st_grow(void **p, size_t *cap, size_t need, size_t elem);

/* A metadata entry (both strings owned). */
typedef struct st_kv {
    char *key, *val;
} st_kv;

/* qsort order of st_kv: by key, bytewise. */
int duet_st_cmp_kv(const void *a, const void *b);

#endif
