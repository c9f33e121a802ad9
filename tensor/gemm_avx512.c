/* The AVX-512 micro-kernel: a 14 x 32 tile of C lives in 28 zmm registers while the packed panels stream
 * past; each step of k loads two vectors of B and broadcasts 14 values of A straight from memory. */
#include "tensor/gemm_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define MR 14
#define NR 32
#define TARGET __attribute__((target("avx512f")))

/* One tile with M rows and NV vectors of 16 columns, both compile-time constants after inlining, so the
 * accumulator array becomes registers. Rows past m are not stored; columns past n are masked. */
TARGET __attribute__((always_inline)) static inline void
tile(const int M, const int NV, int kc, const float *a, const float *b, float *c, int ldc,
     int n, float alpha, float beta)
{
    __m512 acc[MR][2];
#pragma GCC unroll 14
    for (int r = 0; r < M; r++) {
        acc[r][0] = _mm512_setzero_ps();
        acc[r][1] = _mm512_setzero_ps();
    }
    for (int p = 0; p < kc; p++) {
        __m512 b0 = _mm512_load_ps(b), b1 = NV > 1 ? _mm512_load_ps(b + 16) : b0;
#pragma GCC unroll 14
        for (int r = 0; r < M; r++) {
            __m512 ar = _mm512_set1_ps(a[r]);
            acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);
            if (NV > 1) acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
        }
        a += MR;
        b += NR;
    }
    __mmask16 k0 = n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1);
    __mmask16 k1 = n >= 32 ? 0xffff : n > 16 ? (__mmask16)((1u << (n - 16)) - 1) : 0;
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 14
    for (int r = 0; r < M; r++) {
        float *cr = c + (long)r * ldc;
        __m512 x0 = _mm512_mul_ps(va, acc[r][0]), x1 = _mm512_mul_ps(va, acc[r][1]);
        if (beta != 0) {
            x0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(k0, cr), x0);
            if (NV > 1) x1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(k1, cr + 16), x1);
        }
        _mm512_mask_storeu_ps(cr, k0, x0);
        if (NV > 1) _mm512_mask_storeu_ps(cr + 16, k1, x1);
    }
}

#define ROWS(NV)                                                                   \
    switch (m) {                                                                   \
    case 14: tile(14, NV, kc, a, b, c, ldc, n, alpha, beta); break;                \
    case 13: tile(13, NV, kc, a, b, c, ldc, n, alpha, beta); break;                \
    case 12: tile(12, NV, kc, a, b, c, ldc, n, alpha, beta); break;                \
    case 11: tile(11, NV, kc, a, b, c, ldc, n, alpha, beta); break;                \
    case 10: tile(10, NV, kc, a, b, c, ldc, n, alpha, beta); break;                \
    case 9: tile(9, NV, kc, a, b, c, ldc, n, alpha, beta); break;                  \
    case 8: tile(8, NV, kc, a, b, c, ldc, n, alpha, beta); break;                  \
    case 7: tile(7, NV, kc, a, b, c, ldc, n, alpha, beta); break;                  \
    case 6: tile(6, NV, kc, a, b, c, ldc, n, alpha, beta); break;                  \
    case 5: tile(5, NV, kc, a, b, c, ldc, n, alpha, beta); break;                  \
    case 4: tile(4, NV, kc, a, b, c, ldc, n, alpha, beta); break;                  \
    case 3: tile(3, NV, kc, a, b, c, ldc, n, alpha, beta); break;                  \
    case 2: tile(2, NV, kc, a, b, c, ldc, n, alpha, beta); break;                  \
    default: tile(1, NV, kc, a, b, c, ldc, n, alpha, beta); break;                 \
    }

/* Edge tiles get their own instantiations: a 3-row or 16-column tile costs what it computes. */
TARGET static void kernel(int kc, const float *a, const float *b, float *c, int ldc,
                          int m, int n, float alpha, float beta)
{
    if (m == MR && n > 16) tile(MR, 2, kc, a, b, c, ldc, n, alpha, beta);
    else if (n > 16) { ROWS(2) }
    else { ROWS(1) }
}

const mc_gemm_arch mc_gemm_arch_avx512 = {
    .name = "avx512", .mr = MR, .nr = NR, .kc = 256, .mc = 8 * MR, .l2_bytes = 512 * 1024,
    .kernel = kernel,
};

#else
typedef int mc_gemm_avx512_unused;   /* keeps the translation unit non-empty off x86-64 */
#endif
