/* The AVX2+FMA micro-kernel: a 6 x 16 tile of C in 12 ymm registers, two vectors of B and one broadcast
 * of A per row and step of k (15 of the 16 registers). */
#include "tensor/gemm_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define MR 6
#define NR 16
#define TARGET __attribute__((target("avx2,fma")))

/* lanes [0, n) of a row of 8 */
TARGET static inline __m256i lane_mask(int n)
{
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
}

/* As in gemm_avx512.c: M and NV are constants after inlining; A(r, k) = a[r*a_rs + k*a_ks] with a_rs = 1,
 * or A_ROWS with a_ks = 1; B(k, j) = b[k*b_ks + j], loaded masked in EDGE tiles. */
TARGET __attribute__((always_inline)) static inline void
tile(const int M, const int NV, const int A_ROWS, const int EDGE, int kc, const float *a, long a_rs, long a_ks,
     const float *b, long b_ks, float *c, int ldc, int n, float alpha, float beta)
{
    __m256i k0 = lane_mask(n), k1 = lane_mask(n - 8);
    __m256 acc[MR][2];
#pragma GCC unroll 6
    for (int r = 0; r < M; r++) {
        acc[r][0] = _mm256_setzero_ps();
        acc[r][1] = _mm256_setzero_ps();
    }
    for (int p = 0; p < kc; p++) {
        __m256 b0 = EDGE ? _mm256_maskload_ps(b, k0) : _mm256_loadu_ps(b);
        __m256 b1 = NV < 2 ? b0 : EDGE ? _mm256_maskload_ps(b + 8, k1) : _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
        for (int r = 0; r < M; r++) {
            __m256 ar = _mm256_broadcast_ss(A_ROWS ? a + r * a_rs : a + r);
            acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
            if (NV > 1) acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
        }
        a += A_ROWS ? 1 : a_ks;
        b += b_ks;
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    if (!EDGE) {
#pragma GCC unroll 6
        for (int r = 0; r < M; r++) {
            float *cr = c + (long)r * ldc;
            __m256 x0 = _mm256_mul_ps(va, acc[r][0]), x1 = _mm256_mul_ps(va, acc[r][1]);
            if (beta != 0) {
                x0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), x0);
                x1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), x1);
            }
            _mm256_storeu_ps(cr, x0);
            _mm256_storeu_ps(cr + 8, x1);
        }
        return;
    }
#pragma GCC unroll 6
    for (int r = 0; r < M; r++) {
        float *cr = c + (long)r * ldc;
        __m256 x0 = _mm256_mul_ps(va, acc[r][0]), x1 = _mm256_mul_ps(va, acc[r][1]);
        if (beta != 0) {
            x0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr, k0), x0);
            if (NV > 1) x1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr + 8, k1), x1);
        }
        _mm256_maskstore_ps(cr, k0, x0);
        if (NV > 1) _mm256_maskstore_ps(cr + 8, k1, x1);
    }
}

#define T(M, NV, AR) tile(M, NV, AR, 1, kc, a, a_rs, a_ks, b, b_ks, c, ldc, n, alpha, beta); break;
#define ROWS(NV, AR)                                                                                 \
    switch (m) {                                                                                     \
    case 6: T(6, NV, AR) case 5: T(5, NV, AR) case 4: T(4, NV, AR) case 3: T(3, NV, AR)              \
    case 2: T(2, NV, AR) default: T(1, NV, AR)                                                       \
    }

TARGET static void kernel(int kc, const float *a, long a_rs, long a_ks, const float *b, long b_ks,
                          float *c, int ldc, int m, int n, float alpha, float beta)
{
    if (a_rs == 1) {
        if (m == MR && n == NR) tile(MR, 2, 0, 0, kc, a, a_rs, a_ks, b, b_ks, c, ldc, n, alpha, beta);
        else if (n > 8) { ROWS(2, 0) }
        else { ROWS(1, 0) }
    } else {
        if (m == MR && n == NR) tile(MR, 2, 1, 0, kc, a, a_rs, a_ks, b, b_ks, c, ldc, n, alpha, beta);
        else if (n > 8) { ROWS(2, 1) }
        else { ROWS(1, 1) }
    }
}

#define PACK_TARGET TARGET
#include "tensor/gemm_pack.h"

/* In-register transpose of an 8 x 8 block: r[i] holds row i on entry and column i on return
 * (pairs interleave, then quads, then the 128-bit halves swap). */
TARGET __attribute__((always_inline)) static inline void transpose8(__m256 r[8])
{
    __m256 t[8], u[8];
#pragma GCC unroll 4
    for (int p = 0; p < 4; p++) {
        t[2 * p] = _mm256_unpacklo_ps(r[2 * p], r[2 * p + 1]);
        t[2 * p + 1] = _mm256_unpackhi_ps(r[2 * p], r[2 * p + 1]);
    }
    /* u[4q+s], 128-bit half L: rows 4q..4q+3 at column 4L+s */
#pragma GCC unroll 2
    for (int q = 0; q < 2; q++) {
        u[4 * q + 0] = _mm256_shuffle_ps(t[4 * q], t[4 * q + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * q + 1] = _mm256_shuffle_ps(t[4 * q], t[4 * q + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[4 * q + 2] = _mm256_shuffle_ps(t[4 * q + 1], t[4 * q + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * q + 3] = _mm256_shuffle_ps(t[4 * q + 1], t[4 * q + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
#pragma GCC unroll 4
    for (int s = 0; s < 4; s++) {
        r[s] = _mm256_permute2f128_ps(u[s], u[4 + s], 0x20);
        r[4 + s] = _mm256_permute2f128_ps(u[s], u[4 + s], 0x31);
    }
}

/* Up to 8 rows (zero past `rows`) of the first kn of 8 floats at src + i*ld, transposed into r[k]. */
TARGET __attribute__((always_inline)) static inline void
load_transpose(__m256 r[8], const float *src, size_t ld, int rows, int kn)
{
    __m256i km = lane_mask(kn);
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++)
        r[i] = i < rows ? _mm256_maskload_ps(src + i * ld, km) : _mm256_setzero_ps();
    transpose8(r);
}

/* op(A)(i,k) = A[i][k]: 6 rows at a time, 8 columns of k per transpose */
TARGET static void pack_a_rows(const float *A, int lda, int i0, int p0, int mc, int kc, float *dst)
{
    const __m256i six = lane_mask(MR);
    for (int t = 0; t < mc; t += MR, dst += (size_t)MR * kc) {
        int rows = mc - t < MR ? mc - t : MR;
        const float *src = A + (size_t)(i0 + t) * lda + p0;
        for (int k = 0; k < kc; k += 8) {
            int kn = kc - k < 8 ? kc - k : 8;
            __m256 r[8];
            load_transpose(r, src + k, (size_t)lda, rows, kn);
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++)
                if (j < kn) _mm256_maskstore_ps(dst + (size_t)(k + j) * MR, six, r[j]);
        }
    }
}

/* op(B)(k,j) = B[j][k]: two transposes of 8 rows of B fill one 16-wide panel */
TARGET static void pack_b_cols(const float *B, int ldb, int p0, int j0, int kc, int nc, float *dst)
{
    for (int t = 0; t < nc; t += NR, dst += (size_t)NR * kc) {
        int cols = nc - t < NR ? nc - t : NR;
        const float *src = B + (size_t)(j0 + t) * ldb + p0;
        for (int h = 0; h < 2; h++) {
            int rows = cols - 8 * h;
            if (rows > 8) rows = 8;
            for (int k = 0; k < kc; k += 8) {
                int kn = kc - k < 8 ? kc - k : 8;
                __m256 r[8];
                load_transpose(r, src + (size_t)8 * h * ldb + k, (size_t)ldb, rows, kn);
#pragma GCC unroll 8
                for (int j = 0; j < 8; j++)
                    if (j < kn) _mm256_store_ps(dst + (size_t)(k + j) * NR + 8 * h, r[j]);
            }
        }
    }
}

const mc_gemm_arch mc_gemm_arch_avx2 = {
    .name = "avx2", .mr = MR, .nr = NR, .kgrain = 1, .kpack = 1, .kc = 256, .mc = 16 * MR, .l2_bytes = 512 * 1024,
    .kernel = kernel, .pack_a = {pack_a_rows, pack_a_cols}, .pack_b = {pack_b_rows_copy, pack_b_cols},
};

#else
typedef int mc_gemm_avx2_unused;   /* keeps the translation unit non-empty off x86-64 */
#endif
