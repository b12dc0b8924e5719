/* common/mem.h: allocation of large work arrays (internal to libduet).
 *
 * A large array that a computation fills at once (word2vec's weight
 * matrices, the BSSEval spectra and projections) costs one page fault per
 * 4 KiB page on first touch; in a virtual machine the faults alone took half
 * of bss_eval_sources' time (bench/bench_bsseval.sh). Arrays of 2 MiB or more
 * are therefore aligned to 2 MiB, rounded up to whole 2 MiB pages and marked
 * for transparent huge pages (madvise MADV_HUGEPAGE; a hint, ignored where
 * the system does not offer them), so one fault maps 2 MiB. Smaller arrays
 * are aligned to 64 bytes (a cache line; enough for any SIMD load). */
#ifndef DUET_COMMON_MEM_H
#define DUET_COMMON_MEM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* `bytes` bytes (uninitialised; bytes == 0 gives a valid 64-byte block),
 * aligned to 64 bytes, and to 2 MiB with huge pages advised when bytes >=
 * 2 MiB. The caller owns the memory and frees it with free(). Returns NULL
 * when out of memory or when the rounded size overflows. */
void *duet_alloc_large(size_t bytes);

#ifdef __cplusplus
}
#endif

#endif
