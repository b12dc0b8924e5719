/* nn/gemm.h: the one matrix-multiply entry point of duet's neural-network
 * engine, plus the thread policy shared by every layer.
 *
 * duet_sgemm() is row-major C = alpha * op(A) op(B) + beta * C, dispatched to
 * OpenBLAS cblas_sgemm. duet_sgemm_naive() computes the same with double
 * accumulation, as the reference the tests compare against (llm.c habit).
 *
 * Threads: layers parallelise their outer loops (batch items, channels) with
 * OpenMP only when OpenBLAS runs single-threaded; when OpenBLAS owns the
 * threads, layers loop serially and let sgemm fan out. duet_nn_set_threads()
 * chooses one of the two so they never fight. Results are deterministic for a
 * given thread count and bit-exact run to run with one thread. */
#ifndef DUET_NN_GEMM_H
#define DUET_NN_GEMM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* C (M, N) = alpha * op(A) (M, K) @ op(B) (K, N) + beta * C, row-major.
 * transa/transb: 0 = as stored, 1 = transposed (A stored (K, M) with lda >= M).
 * Leading dimensions as in CBLAS row-major. No errors: sizes must be valid
 * (checked with DUET_CHECK). beta == 0 overwrites C (NaN in C is not kept). */
void duet_sgemm(int transa, int transb, int M, int N, int K, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* The same, naive triple loop with double accumulation (slow; for tests). */
void duet_sgemm_naive(int transa, int transb, int M, int N, int K, float alpha,
                      const float *A, int lda, const float *B, int ldb, float beta, float *C,
                      int ldc);

/* Thread policy. mode DUET_THREADS_OMP: OpenMP uses `n` threads over outer
 * loops, OpenBLAS is single-threaded inside. DUET_THREADS_BLAS: OpenMP one
 * thread, OpenBLAS `n` threads. This sets process-wide OpenMP/OpenBLAS knobs,
 * so call it once at start-up from the program (the CLI), not from library
 * code. n < 1 is treated as 1. */
enum { DUET_THREADS_OMP = 0, DUET_THREADS_BLAS = 1 };
void duet_nn_set_threads(int mode, int n);

/* Number of OpenMP workers a layer may use right now: omp_get_max_threads()
 * when OpenBLAS is single-threaded and we are not already inside a parallel
 * region, else 1. */
int duet_nn_workers(void);

#ifdef __cplusplus
}
#endif

#endif
