/* common/limits.c: caps on declared sizes, from the environment (limits.h). */
#include "limits.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

int duet_limit_parse(const char *s, int64_t *out)
{
    if (!s || !isdigit((unsigned char)*s)) return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s) return -1;
    int shift = 0;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: return -1;
    }
    if (*end || v == 0 || v > ((unsigned long long)INT64_MAX >> shift)) return -1;
    *out = (int64_t)(v << shift);
    return 0;
}

int64_t duet_limit_env(const char *name, int64_t def)
{
    int64_t v;
    const char *s = name ? getenv(name) : NULL;
    return s && duet_limit_parse(s, &v) == 0 ? v : def;
}

int64_t duet_max_samples(void) { return duet_limit_env("DUET_MAX_SAMPLES", DUET_DEFAULT_MAX_SAMPLES); }

int64_t duet_max_tensor_bytes(void)
{
    return duet_limit_env("DUET_MAX_TENSOR_BYTES", DUET_DEFAULT_MAX_TENSOR_BYTES);
}
