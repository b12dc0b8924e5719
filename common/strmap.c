/* common/strmap.c: see strmap.h. */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

uint64_t duet_hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

uint64_t duet_hash_str(const char *s) { return duet_hash_bytes(s, strlen(s)); }

int duet_shard_has(const char *id, int shard_i, int shard_n)
{
    return shard_n <= 1 || (int)(duet_hash_str(id) % (uint64_t)shard_n) == shard_i - 1;
}

int32_t duet_strmap_get(const duet_strmap *m, const char *key)
{
    if (!m->cap) return -1;
    size_t i = (size_t)(duet_hash_str(key) & (m->cap - 1));
    while (m->keys[i]) {
        if (strcmp(m->keys[i], key) == 0) return m->vals[i];
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}

static int strmap_grow(duet_strmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    const char **nk = calloc(ncap, sizeof *nk);
    int32_t *nv = malloc(ncap * sizeof *nv);
    if (!nk || !nv) {
        free(nk);
        free(nv);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) {
            size_t j = (size_t)(duet_hash_str(m->keys[i]) & (ncap - 1));
            while (nk[j]) j = (j + 1) & (ncap - 1);
            nk[j] = m->keys[i];
            nv[j] = m->vals[i];
        }
    free(m->keys);
    free(m->vals);
    m->keys = nk;
    m->vals = nv;
    m->cap = ncap;
    return 0;
}

int duet_strmap_put(duet_strmap *m, const char *key, int32_t val)
{
    if ((m->n + 1) * 2 > m->cap && strmap_grow(m) != 0) return -1;
    size_t i = (size_t)(duet_hash_str(key) & (m->cap - 1));
    while (m->keys[i]) i = (i + 1) & (m->cap - 1);
    m->keys[i] = key;
    m->vals[i] = val;
    m->n++;
    return 0;
}

void duet_strmap_free(duet_strmap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}
