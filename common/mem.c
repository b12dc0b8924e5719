/* common/mem.c: see mem.h. */
#define _DEFAULT_SOURCE /* madvise(MADV_HUGEPAGE) */
#include "mem.h"

#include <stdint.h>
#include <stdlib.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

void *duet_alloc_large(size_t bytes)
{
    const size_t huge = (size_t)2 << 20;
    if (bytes < huge) {
        size_t b = bytes ? bytes : 1;
        if (b > SIZE_MAX - 63) return NULL;
        return aligned_alloc(64, (b + 63) & ~(size_t)63);
    }
    if (bytes > SIZE_MAX - huge) return NULL;
    size_t rounded = (bytes + huge - 1) / huge * huge;
    void *p = NULL;
    if (posix_memalign(&p, huge, rounded) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, rounded, MADV_HUGEPAGE);
#endif
    return p;
}
