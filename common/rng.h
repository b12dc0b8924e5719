/* common/rng.h: a small seeded PRNG (xoshiro256** seeded through splitmix64,
 * after Blackman and Vigna) with its state in a caller-owned struct, so runs
 * are reproducible and there is no global state. The state is plain data:
 * checkpoints save it as 4 uint64 words. */
#ifndef DUET_COMMON_RNG_H
#define DUET_COMMON_RNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct duet_rng {
    uint64_t s[4];
} duet_rng;

/* Seed the generator (any seed, including 0, is valid). */
void duet_rng_seed(duet_rng *r, uint64_t seed);
/* Next 64 random bits. */
uint64_t duet_rng_u64(duet_rng *r);
/* Uniform integer in [0, n); n must be > 0 (unbiased, by rejection). */
uint64_t duet_rng_below(duet_rng *r, uint64_t n);
/* Uniform float in [0, 1). */
float duet_rng_uniform(duet_rng *r);
/* Uniform double in [0, 1). */
double duet_rng_uniform_d(duet_rng *r);
/* Standard normal (Box-Muller; uses two uniforms per call). */
float duet_rng_normal(duet_rng *r);
/* Shuffle n elements of `size` bytes at base in place (Fisher-Yates: for
 * i = n-1 down to 1, swap element i with element duet_rng_below(r, i + 1)),
 * so a seed always gives the same order. */
void duet_rng_shuffle(duet_rng *r, void *base, size_t n, size_t size);
/* The same permutation applied to two parallel arrays (n elements each, of
 * size_a and size_b bytes; b may be NULL), one draw per step. */
void duet_rng_shuffle2(duet_rng *r, void *a, size_t size_a, void *b, size_t size_b, size_t n);
/* A new independent stream derived from r (for per-thread generators). */
duet_rng duet_rng_split(duet_rng *r);

#ifdef __cplusplus
}
#endif

#endif
