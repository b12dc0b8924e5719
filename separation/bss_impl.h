/* separation/bss_impl.h: pieces of the BSSEval implementation shared
 * between bsseval.c and bss_levinson.c (private to separation/; not
 * installed). */
#ifndef DUET_SEPARATION_BSS_IMPL_H
#define DUET_SEPARATION_BSS_IMPL_H

/* Solve the Gram system of nr references for m right-hand sides in place,
 * by the block Levinson recursion (Whittle; Wiggins and Robinson): ordered
 * by delay, the Gram matrix is block Toeplitz with nr x nr blocks
 * A_d[r][q] = x_rq[d], A_{-d} = A_d^T, so the solve costs O(L^2 nr^3)
 * instead of Cholesky's O((nr L)^3).
 *   A: the correlations, A[(r nr + q)(2L - 1) + d + L - 1] = x_rq[d] for
 *      |d| < L (read only, borrowed).
 *   b: m right-hand sides, column-major, index r L + a, leading dimension
 *      nr L; overwritten with the solution on success, unchanged otherwise.
 * The answer is accepted only when its residual |G x - b| is below
 * 1e-10 |b|. Returns 0 on success; -1 on a zero pivot, an ill-conditioned
 * system (residual too large or not finite) or no memory, when the caller
 * falls back to Cholesky. */
int duet_bss_levinson(const double *A, int L, int nr, double *b, int m);

#endif
