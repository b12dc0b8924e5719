/* nn/gemm.c: duet_sgemm over OpenBLAS cblas_sgemm, its naive reference, and
 * the OpenMP/OpenBLAS thread policy (see gemm.h). */
#include "gemm.h"

#include <cblas.h>
#include <omp.h>

#include "../common/status.h"

void duet_sgemm(int transa, int transb, int M, int N, int K, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    DUET_CHECK(M >= 0 && N >= 0 && K >= 0);
    if (M == 0 || N == 0) return;
    cblas_sgemm(CblasRowMajor, transa ? CblasTrans : CblasNoTrans, transb ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void duet_sgemm_naive(int transa, int transb, int M, int N, int K, float alpha,
                      const float *A, int lda, const float *B, int ldb, float beta, float *C,
                      int ldc)
{
    DUET_CHECK(M >= 0 && N >= 0 && K >= 0);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0;
            for (int k = 0; k < K; k++) {
                float a = transa ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                float b = transb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                acc += (double)a * (double)b;
            }
            float *c = &C[(size_t)i * ldc + j];
            *c = (float)(alpha * acc + (beta == 0.0f ? 0.0 : (double)beta * *c));
        }
}

void duet_nn_set_threads(int mode, int n)
{
    if (n < 1) n = 1;
    if (mode == DUET_THREADS_BLAS) {
        omp_set_num_threads(1);
        openblas_set_num_threads(n);
    } else {
        openblas_set_num_threads(1);
        omp_set_num_threads(n);
    }
}

int duet_nn_workers(void)
{
    if (omp_in_parallel()) return 1;
    if (openblas_get_num_threads() > 1) return 1;
    int n = omp_get_max_threads();
    return n < 1 ? 1 : n;
}
