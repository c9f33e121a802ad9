/* Private to tensor/gemm*.c: the 16 x 16 register transpose the AVX-512 packers share (gemm_avx512.c's
 * fp32 and AMX packing, gemm_avx512bf16.c's pairs). Include after <immintrin.h>. */
#ifndef MACHE_GEMM_TRANSPOSE_H
#define MACHE_GEMM_TRANSPOSE_H

/* In-register transpose of a 16 x 16 block: r[i] holds row i on entry and column i on return.
 * Pairs of rows interleave (unpack), then quads (shuffle_ps), then the 128-bit lanes swap across the
 * four quads (shuffle_f32x4, two rounds): 64 shuffles for 256 floats. */
__attribute__((target("avx512f"), always_inline)) static inline void transpose16(__m512 r[16])
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

#endif
