/* common/strmap.h: the string hash and the string -> int32 map of libduet
 * (internal): open addressing with linear probing, power-of-two capacity,
 * at most half full. It maps ids and tokens to dense indices in the
 * recommender's loaders and input preparation.
 *
 * The hash is 64-bit FNV-1a (prime 1099511628211) from the offset basis
 * 1469598103934665603, which is FNV's 14695981039346656037 without its last
 * digit: every copy of the hash in duet had that constant. It mixes as well
 * (the basis only seeds the state), and it picks a catalog item's shard
 * (features/catalog.c, `duet features --catalog --shard`), so it stays: a
 * changed hash would move items between the shards of a resumable run. */
#ifndef DUET_COMMON_STRMAP_H
#define DUET_COMMON_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 64-bit FNV-1a (duet's offset basis, above) of the n bytes at s. */
uint64_t duet_hash_bytes(const char *s, size_t n);
/* The same of the NUL-terminated string s. */
uint64_t duet_hash_str(const char *s);
/* 1 when id belongs to shard i of n (1 <= i <= n): duet_hash_str(id) % n ==
 * i - 1; always 1 when n <= 1. The one shard rule of duet (catalog items,
 * users of recommend --all-users). */
int duet_shard_has(const char *id, int shard_i, int shard_n);

/* The map; zero-initialise it ({0}) before use. Keys are borrowed: each
 * must stay valid and unchanged while the map holds it. */
typedef struct duet_strmap {
    const char **keys; /* (cap) NULL = empty slot */
    int32_t *vals;     /* (cap) */
    size_t cap, n;
} duet_strmap;

/* The value of key, or -1 when absent. */
int32_t duet_strmap_get(const duet_strmap *m, const char *key);

/* Add key -> val; key must be absent. Returns 0, or -1 out of memory (the
 * map is unchanged). */
int duet_strmap_put(duet_strmap *m, const char *key, int32_t val);

/* Free the table (not the keys) and zero the map. */
void duet_strmap_free(duet_strmap *m);

#ifdef __cplusplus
}
#endif

#endif
