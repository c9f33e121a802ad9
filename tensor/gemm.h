/* The matrix multiply all the model's FLOPs go through, in the three layouts forward and backward need,
 * so that no op ever materialises a transpose. Row-major, with leading dimensions. */
#ifndef MACHE_GEMM_H
#define MACHE_GEMM_H

/* C (M x N) = alpha * op(A) * op(B) + beta * C
 *   op(A) is M x K: A is M x K (lda >= K), or with trans_a A is K x M (lda >= M)
 *   op(B) is K x N: B is K x N (ldb >= N), or with trans_b B is N x K (ldb >= K)
 * beta == 0 overwrites C without reading it (NaNs in C do not propagate). Parallel over cores; safe to
 * call from several threads at once, and inside an OpenMP parallel region it stays on the calling thread. */
void mc_gemm(int trans_a, int trans_b, int M, int N, int K,
             float alpha, const float *A, int lda, const float *B, int ldb,
             float beta, float *C, int ldc);

/* The portable reference path: plain C loops, same contract, used by tests to check the fast path. */
void mc_gemm_ref(int trans_a, int trans_b, int M, int N, int K,
                 float alpha, const float *A, int lda, const float *B, int ldb,
                 float beta, float *C, int ldc);

/* Which kernel mc_gemm runs on this machine: "avx512", "avx2", or "portable". */
const char *mc_gemm_kernel_name(void);

/* Forces a kernel: "avx512", "avx2", "portable", or "auto" (the best this CPU has). Returns non-zero, and
 * changes nothing, if that kernel is unknown or this CPU lacks it. Without a call, the environment
 * variable MACHE_GEMM (same names) decides on first use, and otherwise "auto". */
int mc_gemm_set_kernel(const char *name);

#endif
