/* Matrix multiply. This first version is a cache-blocked loop nest parallel over rows of C; the packed,
 * register-blocked kernels replace its body behind the same function. */
#include "tensor/gemm.h"
#include <stddef.h>

#define A_AT(i, p) (trans_a ? A[(size_t)(p) * lda + (i)] : A[(size_t)(i) * lda + (p)])
#define B_AT(p, j) (trans_b ? B[(size_t)(j) * ldb + (p)] : B[(size_t)(p) * ldb + (j)])

void mc_gemm_ref(int trans_a, int trans_b, int M, int N, int K,
                 float alpha, const float *A, int lda, const float *B, int ldb,
                 float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0;
            for (int p = 0; p < K; p++) acc += (double)A_AT(i, p) * B_AT(p, j);
            float *c = &C[(size_t)i * ldc + j];
            *c = (float)(alpha * acc + (beta == 0 ? 0 : beta * *c));
        }
}

void mc_gemm(int trans_a, int trans_b, int M, int N, int K,
             float alpha, const float *A, int lda, const float *B, int ldb,
             float beta, float *C, int ldc)
{
    #pragma omp parallel for schedule(static) if ((double)M * N * K > 4e6)
    for (int i = 0; i < M; i++) {
        float *c = &C[(size_t)i * ldc];
        for (int j = 0; j < N; j++) c[j] = beta == 0 ? 0 : beta * c[j];
        for (int p = 0; p < K; p++) {
            float a = alpha * A_AT(i, p);
            if (!trans_b) {
                const float *b = &B[(size_t)p * ldb];
                for (int j = 0; j < N; j++) c[j] += a * b[j];
            } else {
                for (int j = 0; j < N; j++) c[j] += a * B[(size_t)j * ldb + p];
            }
        }
    }
}

const char *mc_gemm_kernel_name(void) { return "portable"; }
