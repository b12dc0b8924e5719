/* common/rng.c: xoshiro256** (Blackman & Vigna 2018) with splitmix64 seeding. */
#include "rng.h"

#include <math.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void duet_rng_seed(duet_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

uint64_t duet_rng_u64(duet_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t duet_rng_below(duet_rng *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = duet_rng_u64(r);
    while (x >= limit);
    return x % n;
}

float duet_rng_uniform(duet_rng *r) { return (float)(duet_rng_u64(r) >> 40) * (1.0f / 16777216.0f); }

double duet_rng_uniform_d(duet_rng *r) { return (double)(duet_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0); }

float duet_rng_normal(duet_rng *r)
{
    double u1 = duet_rng_uniform_d(r), u2 = duet_rng_uniform_d(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

duet_rng duet_rng_split(duet_rng *r)
{
    duet_rng child;
    duet_rng_seed(&child, duet_rng_u64(r));
    return child;
}

static void swap_bytes(unsigned char *x, unsigned char *y, size_t size)
{
    if (size == 8) {
        uint64_t t;
        memcpy(&t, x, 8);
        memcpy(x, y, 8);
        memcpy(y, &t, 8);
    } else if (size == 4) {
        uint32_t t;
        memcpy(&t, x, 4);
        memcpy(x, y, 4);
        memcpy(y, &t, 4);
    } else {
        for (size_t k = 0; k < size; k++) {
            unsigned char t = x[k];
            x[k] = y[k];
            y[k] = t;
        }
    }
}

void duet_rng_shuffle2(duet_rng *r, void *a, size_t size_a, void *b, size_t size_b, size_t n)
{
    unsigned char *pa = a, *pb = b;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)duet_rng_below(r, (uint64_t)i);
        if (j == i - 1) continue;
        swap_bytes(pa + (i - 1) * size_a, pa + j * size_a, size_a);
        if (pb) swap_bytes(pb + (i - 1) * size_b, pb + j * size_b, size_b);
    }
}

void duet_rng_shuffle(duet_rng *r, void *base, size_t n, size_t size) { duet_rng_shuffle2(r, base, size, NULL, 0, n); }
