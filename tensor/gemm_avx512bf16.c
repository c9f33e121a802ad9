/* bf16 on AVX512-BF16's dot-product instruction (vdpbf16ps), for CPUs that have it but no AMX (AMD Zen 4
 * and 5): each 32-bit lane of C gains a[k] b[k] + a[k+1] b[k+1] per instruction, twice the multiply-adds
 * of an fp32 FMA, so the packed panels hold k in pairs. The tile is the fp32 kernel's: 14 x 32 of C in
 * 28 zmm registers; per pair of k, two vectors of B pairs and 14 broadcast pairs of A. */
#include "tensor/gemm_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stddef.h>

#define MR 14
#define NR 32
#define TARGET __attribute__((target("avx512f,avx512bw,avx512bf16")))

#include "tensor/gemm_transpose.h"

/* Packed A: per pair q of k, the panel's 14 rows as (A(r, 2q), A(r, 2q+1)) bf16 pairs, dst[q*MR + r].
 * Packed B: per pair q, the panel's 32 columns as (B(2q, j), B(2q+1, j)) pairs, dst[q*NR + j]. The even k
 * is the low half, as the instruction pairs them. An odd kc, short panels and short rows pad with zeros. */
static int k_pairs(int kc) { return (kc + 1) / 2; }

/* Rounding by the CPU's own conversion, to nearest even like mc_bf16_round (NaN stays NaN, overflow goes
 * to infinity), except that fp32 denormals become zero; vdpbf16ps treats denormal inputs as zero anyway,
 * so what that changes is only the last sliver below 2^-126 that mc_bf16_round would round up to it. */
TARGET static inline __mmask16 first(int n) { return n >= 16 ? 0xffff : n <= 0 ? 0 : (__mmask16)((1u << n) - 1); }

/* lane i: the pair (even[i], odd[i]) */
TARGET static inline __m512 bf16_pairs(__m512 even, __m512 odd)
{
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                                23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    return _mm512_castsi512_ps(_mm512_permutexvar_epi16(interleave, (__m512i)_mm512_cvtne2ps_pbh(odd, even)));
}

/* 32 consecutive floats (the first kn of them; the rest read as 0) as 16 pairs in order */
TARGET static inline __m512 bf16_run(const float *src, int kn)
{
    return (__m512)_mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(first(kn - 16), src + 16),
                                       _mm512_maskz_loadu_ps(first(kn), src));
}

/* op(A)(i,k) = A[i][k]: each row's run of 32 k is 16 pairs; a transpose turns 14 rows of them into 16
 * pair-steps of the panel */
TARGET static void pack_a_rows(const float *A, int lda, int i0, int p0, int mc, int kc, float *dst)
{
    const int kp = k_pairs(kc);
    for (int t = 0; t < mc; t += MR, dst += (size_t)MR * kp) {
        int rows = mc - t < MR ? mc - t : MR;
        const float *src = A + (size_t)(i0 + t) * lda + p0;
        for (int k = 0; k < kc; k += 32) {
            __m512 v[16];
#pragma GCC unroll 16
            for (int r = 0; r < 16; r++) {
                if (r < rows) {   /* 14 rows at once are more streams than the prefetchers follow */
                    _mm_prefetch((const char *)(src + (size_t)r * lda + k + 128), _MM_HINT_T0);
                    _mm_prefetch((const char *)(src + (size_t)r * lda + k + 144), _MM_HINT_T0);
                }
                v[r] = r < rows ? bf16_run(src + (size_t)r * lda + k, kc - k) : _mm512_setzero_ps();
            }
            transpose16(v);
            int qn = kp - k / 2 < 16 ? kp - k / 2 : 16;
#pragma GCC unroll 16
            for (int q = 0; q < 16; q++)
                if (q < qn) _mm512_mask_storeu_ps(dst + (size_t)(k / 2 + q) * MR, 0x3fff, v[q]);
        }
    }
}

/* op(A)(i,k) = A[k][i]: rows 2q and 2q+1 of A pair up lane by lane, each read from start to end */
TARGET static void pack_a_cols(const float *A, int lda, int i0, int p0, int mc, int kc, float *dst)
{
    const int kp = k_pairs(kc);
    for (int q = 0; q < kp; q++) {
        const float *even = A + (size_t)(p0 + 2 * q) * lda + i0;
        for (int t = 0; t < mc; t += MR) {
            __mmask16 rows = first(mc - t < MR ? mc - t : MR);
            if (2 * q + 17 < kc) {   /* each row pair starts a new page: ask for the pair 8 pairs on early */
                _mm_prefetch((const char *)(even + 16L * lda + t), _MM_HINT_T0);
                _mm_prefetch((const char *)(even + 17L * lda + t), _MM_HINT_T0);
            }
            __m512 e = _mm512_maskz_loadu_ps(rows, even + t);
            __m512 o = 2 * q + 1 < kc ? _mm512_maskz_loadu_ps(rows, even + lda + t) : _mm512_setzero_ps();
            _mm512_mask_storeu_ps(dst + (size_t)t * kp + (size_t)q * MR, 0x3fff, bf16_pairs(e, o));
        }
    }
}

/* op(B)(k,j) = B[k][j]: rows 2q and 2q+1 pair up lane by lane; the two rows are read from start to end */
TARGET static void pack_b_rows(const float *B, int ldb, int p0, int j0, int kc, int nc, float *dst)
{
    const int kp = k_pairs(kc);
    for (int q = 0; q < kp; q++) {
        const float *even = B + (size_t)(p0 + 2 * q) * ldb + j0;
        for (int j = 0; j < nc; j += 16) {
            __mmask16 cols = first(nc - j);
            __m512 e = _mm512_maskz_loadu_ps(cols, even + j);
            __m512 o = 2 * q + 1 < kc ? _mm512_maskz_loadu_ps(cols, even + ldb + j) : _mm512_setzero_ps();
            _mm512_store_ps(dst + (size_t)(j / NR) * NR * kp + (size_t)q * NR + j % NR, bf16_pairs(e, o));
        }
        if (nc % NR && nc % NR <= 16)   /* the last panel's empty half */
            _mm512_store_ps(dst + (size_t)(nc / NR) * NR * kp + (size_t)q * NR + 16, _mm512_setzero_ps());
    }
}

/* op(B)(k,j) = B[j][k]: each row of B is a column's run of pairs; a transpose lays 16 columns side by side */
TARGET static void pack_b_cols(const float *B, int ldb, int p0, int j0, int kc, int nc, float *dst)
{
    const int kp = k_pairs(kc);
    for (int t = 0; t < nc; t += NR, dst += (size_t)NR * kp)
        for (int h = 0; h < 2; h++)
            for (int k = 0; k < kc; k += 32) {
                __m512 v[16];
#pragma GCC unroll 16
                for (int j = 0; j < 16; j++) {
                    int col = t + 16 * h + j;
                    v[j] = col < nc ? bf16_run(B + (size_t)(j0 + col) * ldb + p0 + k, kc - k) : _mm512_setzero_ps();
                }
                transpose16(v);
                int qn = kp - k / 2 < 16 ? kp - k / 2 : 16;
#pragma GCC unroll 16
                for (int q = 0; q < 16; q++)
                    if (q < qn) _mm512_store_ps(dst + (size_t)(k / 2 + q) * NR + 16 * h, v[q]);
            }
}

TARGET static inline __m512 dot(__m512 acc, __m512 a, __m512 b)
{
    return _mm512_dpbf16_ps(acc, (__m512bh)a, (__m512bh)b);
}

/* One tile with M rows and NV vectors of 16 columns, both compile-time constants after inlining, so the
 * accumulators become registers. The panels are packed and padded, so whole vectors of B are read; rows
 * past m are not stored and columns past n are masked. */
TARGET __attribute__((always_inline)) static inline void
tile(const int M, const int NV, int kp, const float *a, const float *b, float *c, int ldc, int n, float alpha,
     float beta)
{
    __mmask16 k0 = first(n), k1 = first(n - 16);
    __m512 acc[MR][2];
#pragma GCC unroll 14
    for (int r = 0; r < M; r++) {   /* C is needed only at the end: start bringing it in now */
        _mm_prefetch((const char *)(c + (long)r * ldc), _MM_HINT_T0);
        if (NV > 1) _mm_prefetch((const char *)(c + (long)r * ldc + 16), _MM_HINT_T0);
        acc[r][0] = _mm512_setzero_ps();
        acc[r][1] = _mm512_setzero_ps();
    }
    for (int q = 0; q < kp; q++, a += MR, b += NR) {
        __m512 b0 = _mm512_load_ps(b);
        __m512 b1 = NV > 1 ? _mm512_load_ps(b + 16) : b0;
#pragma GCC unroll 14
        for (int r = 0; r < M; r++) {
            __m512 ar = _mm512_set1_ps(a[r]);   /* the pair's 32 bits, broadcast */
            acc[r][0] = dot(acc[r][0], ar, b0);
            if (NV > 1) acc[r][1] = dot(acc[r][1], ar, b1);
        }
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

/* A right edge only NC <= 4 columns wide (N = 513 leaves one): the panel's 14 rows at one pair of k are a
 * single vector, so each column costs one instruction per pair instead of a mostly empty tile row's 14. */
TARGET __attribute__((always_inline)) static inline void
columns(const int NC, int kp, const float *a, const float *b, float *c, int ldc, int m, float alpha, float beta)
{
    __m512 acc[4];
#pragma GCC unroll 4
    for (int j = 0; j < NC; j++) acc[j] = _mm512_setzero_ps();
    for (int q = 0; q < kp; q++, a += MR, b += NR) {
        __m512 av = _mm512_maskz_loadu_ps(0x3fff, a);
#pragma GCC unroll 4
        for (int j = 0; j < NC; j++) acc[j] = dot(acc[j], av, _mm512_set1_ps(b[j]));
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

#define T(M, NV) tile(M, NV, kp, a, b, c, ldc, n, alpha, beta); break;
#define ROWS(NV)                                                                                     \
    switch (m) {                                                                                     \
    case 14: T(14, NV) case 13: T(13, NV) case 12: T(12, NV) case 11: T(11, NV) case 10: T(10, NV)   \
    case 9: T(9, NV) case 8: T(8, NV) case 7: T(7, NV) case 6: T(6, NV) case 5: T(5, NV)             \
    case 4: T(4, NV) case 3: T(3, NV) case 2: T(2, NV) default: T(1, NV)                             \
    }

/* The panels are always packed (a_rs = 1, a_ks = MR, b_ks = NR in pair slots), so the strides go unused. */
TARGET static void kernel(int kc, const float *a, long a_rs, long a_ks, const float *b, long b_ks,
                          float *c, int ldc, int m, int n, float alpha, float beta)
{
    (void)a_rs; (void)a_ks; (void)b_ks;
    const int kp = k_pairs(kc);
    if (m == MR && n == NR) tile(MR, 2, kp, a, b, c, ldc, n, alpha, beta);
    else if (n <= 4) {
        switch (n) {
        case 1: columns(1, kp, a, b, c, ldc, m, alpha, beta); break;
        case 2: columns(2, kp, a, b, c, ldc, m, alpha, beta); break;
        case 3: columns(3, kp, a, b, c, ldc, m, alpha, beta); break;
        default: columns(4, kp, a, b, c, ldc, m, alpha, beta); break;
        }
    } else if (n > 16) { ROWS(2) }
    else { ROWS(1) }
}

int mc_gemm_avx512bf16_usable(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512bf16");
}

/* KC = 512 values of k (256 pairs): the 14-row panel of A is 14 KB of L1. The driver sizes B's block as
 * kc floats a column, so the 1 MB budget holds ~512 KB of pairs: K = 1026, N = 513 packs B once per
 * slab and A once, where 512 KB split N in two and packed A twice (bf16 1.66x fp32 -> 1.87x, Zen 5).
 * MC = 64 MR rows: a transposed A (TN, the weight gradients) is packed from runs of 3.5 KB, not 448 bytes;
 * its packing had taken as long as the kernel (1024 x 20000 x 128 TN, one thread: 220 -> 250 GFLOP/s). */
const mc_gemm_arch mc_gemm_arch_avx512bf16 = {
    .name = "avx512bf16", .mr = MR, .nr = NR, .kgrain = 2, .kpack = 2, .kc = 512, .mc = 64 * MR,
    .l2_bytes = 1024 * 1024, .kernel = kernel, .pack_a = {pack_a_rows, pack_a_cols},
    .pack_b = {pack_b_rows, pack_b_cols},
};

#else
typedef int mc_gemm_avx512bf16_unused;   /* keeps the translation unit non-empty off x86-64 */
#endif
