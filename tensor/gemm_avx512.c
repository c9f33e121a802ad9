/* The AVX-512 micro-kernel: a 14 x 32 tile of C lives in 28 zmm registers while the packed panels stream
 * past; each step of k loads two vectors of B and broadcasts 14 values of A straight from memory. */
#include "tensor/gemm_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define MR 14
#define NR 32
#define TARGET __attribute__((target("avx512f")))

/* One tile with M rows and NV vectors of 16 columns, both compile-time constants after inlining, so the
 * accumulator array becomes registers. Rows past m are not stored; columns past n are masked.
 * A(r, k) is a[r*a_rs + k*a_ks]: packed or A stored K x M (a_rs = 1), or A stored M x K read in place
 * (A_ROWS, a_ks = 1). B(k, j) is b[k*b_ks + j]. EDGE tiles load B masked, so an unpacked B is never read
 * past column n; the full tile loads whole vectors. */
TARGET __attribute__((always_inline)) static inline void
tile(const int M, const int NV, const int A_ROWS, const int EDGE, int kc, const float *a, long a_rs, long a_ks,
     const float *b, long b_ks, float *c, int ldc, int n, float alpha, float beta)
{
    __mmask16 k0 = n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1);
    __mmask16 k1 = n >= 32 ? 0xffff : n > 16 ? (__mmask16)((1u << (n - 16)) - 1) : 0;
    __m512 acc[MR][2];
#pragma GCC unroll 14
    for (int r = 0; r < M; r++) {   /* C is needed only at the end: start bringing it in now */
        _mm_prefetch((const char *)(c + (long)r * ldc), _MM_HINT_T0);
        if (NV > 1) _mm_prefetch((const char *)(c + (long)r * ldc + 16), _MM_HINT_T0);
        acc[r][0] = _mm512_setzero_ps();
        acc[r][1] = _mm512_setzero_ps();
    }
    for (int p = 0; p < kc; p++) {
        __m512 b0 = EDGE ? _mm512_maskz_loadu_ps(k0, b) : _mm512_loadu_ps(b);
        __m512 b1 = NV < 2 ? b0 : EDGE ? _mm512_maskz_loadu_ps(k1, b + 16) : _mm512_loadu_ps(b + 16);
#pragma GCC unroll 14
        for (int r = 0; r < M; r++) {
            __m512 ar = _mm512_set1_ps(A_ROWS ? a[r * a_rs] : a[r]);
            acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);
            if (NV > 1) acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
        }
        a += A_ROWS ? 1 : a_ks;
        b += b_ks;
    }
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

#define T(M, NV, AR) tile(M, NV, AR, 1, kc, a, a_rs, a_ks, b, b_ks, c, ldc, n, alpha, beta); break;
#define ROWS(NV, AR)                                                                                 \
    switch (m) {                                                                                     \
    case 14: T(14, NV, AR) case 13: T(13, NV, AR) case 12: T(12, NV, AR) case 11: T(11, NV, AR)      \
    case 10: T(10, NV, AR) case 9: T(9, NV, AR) case 8: T(8, NV, AR) case 7: T(7, NV, AR)            \
    case 6: T(6, NV, AR) case 5: T(5, NV, AR) case 4: T(4, NV, AR) case 3: T(3, NV, AR)              \
    case 2: T(2, NV, AR) default: T(1, NV, AR)                                                       \
    }

/* A right edge only NC <= 4 columns wide (N = 513 leaves one, 1026 two): the row-wise tile would use
 * 1-4 of each vector's 16 lanes for 14 multiply-adds per k. With A laid out along M (a_rs = 1), A's 14
 * rows at one k are a single vector, so each column costs one multiply-add per k instead. */
TARGET __attribute__((always_inline)) static inline void
columns(const int NC, int kc, const float *a, long a_ks, const float *b, long b_ks, float *c, int ldc, int m,
        float alpha, float beta)
{
    __mmask16 km = (__mmask16)((1u << m) - 1);
    __m512 acc[4];
#pragma GCC unroll 4
    for (int j = 0; j < NC; j++) acc[j] = _mm512_setzero_ps();
    for (int p = 0; p < kc; p++, a += a_ks, b += b_ks) {
        __m512 av = _mm512_maskz_loadu_ps(km, a);
#pragma GCC unroll 4
        for (int j = 0; j < NC; j++) acc[j] = _mm512_fmadd_ps(av, _mm512_set1_ps(b[j]), acc[j]);
    }
    float t[4][16];
#pragma GCC unroll 4
    for (int j = 0; j < NC; j++) _mm512_storeu_ps(t[j], acc[j]);
    for (int r = 0; r < m; r++)
        for (int j = 0; j < NC; j++) {
            float *cr = c + (long)r * ldc + j;
            *cr = alpha * t[j][r] + (beta != 0 ? beta * *cr : 0);
        }
}

/* Edge tiles get their own instantiations: a 3-row or 16-column tile costs what it computes. */
TARGET static void kernel(int kc, const float *a, long a_rs, long a_ks, const float *b, long b_ks,
                          float *c, int ldc, int m, int n, float alpha, float beta)
{
    if (a_rs == 1 && n <= 4) {
        switch (n) {
        case 1: columns(1, kc, a, a_ks, b, b_ks, c, ldc, m, alpha, beta); break;
        case 2: columns(2, kc, a, a_ks, b, b_ks, c, ldc, m, alpha, beta); break;
        case 3: columns(3, kc, a, a_ks, b, b_ks, c, ldc, m, alpha, beta); break;
        default: columns(4, kc, a, a_ks, b, b_ks, c, ldc, m, alpha, beta); break;
        }
    } else if (a_rs == 1) {
        if (m == MR && n == NR) tile(MR, 2, 0, 0, kc, a, a_rs, a_ks, b, b_ks, c, ldc, n, alpha, beta);
        else if (n > 16) { ROWS(2, 0) }
        else { ROWS(1, 0) }
    } else {
        if (m == MR && n == NR) tile(MR, 2, 1, 0, kc, a, a_rs, a_ks, b, b_ks, c, ldc, n, alpha, beta);
        else if (n > 16) { ROWS(2, 1) }
        else { ROWS(1, 1) }
    }
}

#define PACK_TARGET TARGET
#include "tensor/gemm_pack.h"

/* In-register transpose of a 16 x 16 block: r[i] holds row i on entry and column i on return.
 * Pairs of rows interleave (unpack), then quads (shuffle_ps), then the 128-bit lanes swap across the
 * four quads (shuffle_f32x4, two rounds): 64 shuffles for 256 floats. */
TARGET __attribute__((always_inline)) static inline void transpose16(__m512 r[16])
{
    __m512 t[16], u[16];
#pragma GCC unroll 8
    for (int p = 0; p < 8; p++) {
        t[2 * p] = _mm512_unpacklo_ps(r[2 * p], r[2 * p + 1]);
        t[2 * p + 1] = _mm512_unpackhi_ps(r[2 * p], r[2 * p + 1]);
    }
    /* u[4q+s], 128-bit lane L: rows 4q..4q+3 at column 4L+s */
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++) {
        u[4 * q + 0] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * q + 1] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[4 * q + 2] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * q + 3] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    /* column 4L+s gathers lane L of u[s], u[4+s], u[8+s], u[12+s] */
#pragma GCC unroll 4
    for (int s = 0; s < 4; s++) {
        __m512 p0 = _mm512_shuffle_f32x4(u[s], u[4 + s], _MM_SHUFFLE(2, 0, 2, 0));
        __m512 p1 = _mm512_shuffle_f32x4(u[s], u[4 + s], _MM_SHUFFLE(3, 1, 3, 1));
        __m512 p2 = _mm512_shuffle_f32x4(u[8 + s], u[12 + s], _MM_SHUFFLE(2, 0, 2, 0));
        __m512 p3 = _mm512_shuffle_f32x4(u[8 + s], u[12 + s], _MM_SHUFFLE(3, 1, 3, 1));
        r[s] = _mm512_shuffle_f32x4(p0, p2, _MM_SHUFFLE(2, 0, 2, 0));
        r[8 + s] = _mm512_shuffle_f32x4(p0, p2, _MM_SHUFFLE(3, 1, 3, 1));
        r[4 + s] = _mm512_shuffle_f32x4(p1, p3, _MM_SHUFFLE(2, 0, 2, 0));
        r[12 + s] = _mm512_shuffle_f32x4(p1, p3, _MM_SHUFFLE(3, 1, 3, 1));
    }
}

/* Loads up to 16 rows (rows past `rows` are zero) of 16 floats at src + i*ld, first kn of them, and
 * transposes: r[k] then holds element k of every row. */
TARGET __attribute__((always_inline)) static inline void load_transpose(__m512 r[16], const float *src, size_t ld, int rows, int kn)
{
    __mmask16 km = kn >= 16 ? 0xffff : (__mmask16)((1u << kn) - 1);
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++)
        r[i] = i < rows ? _mm512_maskz_loadu_ps(km, src + i * ld) : _mm512_setzero_ps();
    transpose16(r);
}

/* op(A)(i,k) = A[i][k]: 14 rows at a time, 16 columns of k per transpose */
TARGET static void pack_a_rows(const float *A, int lda, int i0, int p0, int mc, int kc, float *dst)
{
    for (int t = 0; t < mc; t += MR, dst += (size_t)MR * kc) {
        int rows = mc - t < MR ? mc - t : MR;
        const float *src = A + (size_t)(i0 + t) * lda + p0;
        for (int k = 0; k < kc; k += 16) {
            int kn = kc - k < 16 ? kc - k : 16;
            __m512 r[16];
            load_transpose(r, src + k, (size_t)lda, rows, kn);
#pragma GCC unroll 16
            for (int j = 0; j < 16; j++)
                if (j < kn) _mm512_mask_storeu_ps(dst + (size_t)(k + j) * MR, 0x3fff, r[j]);
        }
    }
}

/* op(B)(k,j) = B[j][k]: two transposes of 16 rows of B fill one 32-wide panel */
TARGET static void pack_b_cols(const float *B, int ldb, int p0, int j0, int kc, int nc, float *dst)
{
    for (int t = 0; t < nc; t += NR, dst += (size_t)NR * kc) {
        int cols = nc - t < NR ? nc - t : NR;
        const float *src = B + (size_t)(j0 + t) * ldb + p0;
        for (int h = 0; h < 2; h++) {
            int rows = cols - 16 * h;
            if (rows > 16) rows = 16;
            for (int k = 0; k < kc; k += 16) {
                int kn = kc - k < 16 ? kc - k : 16;
                __m512 r[16];
                load_transpose(r, src + (size_t)16 * h * ldb + k, (size_t)ldb, rows, kn);
#pragma GCC unroll 16
                for (int j = 0; j < 16; j++)
                    if (j < kn) _mm512_store_ps(dst + (size_t)(k + j) * NR + 16 * h, r[j]);
            }
        }
    }
}

const mc_gemm_arch mc_gemm_arch_avx512 = {
    .name = "avx512", .mr = MR, .nr = NR, .kc = 512, .mc = 8 * MR, .l2_bytes = 512 * 1024,
    .kernel = kernel, .pack_a = {pack_a_rows, pack_a_cols}, .pack_b = {pack_b_rows_copy, pack_b_cols},
};

#else
typedef int mc_gemm_avx512_unused;   /* keeps the translation unit non-empty off x86-64 */
#endif
