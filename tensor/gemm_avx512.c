/* The AVX-512 micro-kernel: a 14 x 32 tile of C lives in 28 zmm registers while the packed panels stream
 * past; each step of k loads two vectors of B and broadcasts 14 values of A straight from memory.
 * Below it, the bf16 kernel on AMX tiles, whose packing uses the same register transpose. */
#define _DEFAULT_SOURCE   /* syscall(), to ask Linux for the AMX tile state */
#include "tensor/gemm_kernels.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

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
        if (b_ks != NR) {   /* B read in place: bring in the next panel's row while this one computes */
            _mm_prefetch((const char *)(b + NR), _MM_HINT_T0);
            _mm_prefetch((const char *)(b + NR + 16), _MM_HINT_T0);
            _mm_prefetch((const char *)(b + 2 * NR - 1), _MM_HINT_T0);
        }
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

#include "tensor/gemm_transpose.h"

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
    .name = "avx512", .mr = MR, .nr = NR, .kgrain = 1, .kpack = 1, .kc = 512, .mc = 8 * MR, .l2_bytes = 512 * 1024,
    .kernel = kernel, .pack_a = {pack_a_rows, pack_a_cols}, .pack_b = {pack_b_rows_copy, pack_b_cols},
    .b_prefetch = 1,
};

/* ---- bf16 on AMX: C[32 x 32] in four 16 x 16 fp32 tiles, += A[32 x 32] B[32 x 32] per tile instruction
 * pair-row of k. Packed A: per 32 values of k, the panel's 32 rows of 16 bf16 pairs (a tile is 16 such
 * rows, 64 bytes apart). Packed B: per pair of k, the panel's 32 columns as (B[k][j], B[k+1][j]) pairs
 * (a tile is 16 pair-rows of 16 columns, 128 bytes apart). Both pad k to 32 and the panel with zeros. */
#define AMX_TARGET __attribute__((target("avx512f,avx512bw,avx512bf16,amx-tile,amx-bf16")))
#define AMX_MR 32
#define AMX_NR 32

/* Rounding to bf16 by the CPU's own conversion (AVX512-BF16, which every AMX-BF16 CPU has): to nearest
 * even, NaN kept a NaN, like mc_bf16_round; fp32 denormals become zero, as the tiles treat them anyway. */

/* lane i: the pair (even[i], odd[i]) as two bf16 in one 32-bit slot, even in the low half */
AMX_TARGET static inline __m512 bf16_pairs(__m512 even, __m512 odd)
{
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                                23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    return _mm512_castsi512_ps(_mm512_permutexvar_epi16(interleave, (__m512i)_mm512_cvtne2ps_pbh(odd, even)));
}

/* 32 consecutive floats (the first kn of them; the rest read as 0) as 16 bf16 pairs, in order */
AMX_TARGET static inline __m512 bf16_run(const float *src, int kn)
{
    __mmask16 m0 = kn >= 16 ? 0xffff : kn <= 0 ? 0 : (__mmask16)((1u << kn) - 1);
    __mmask16 m1 = kn >= 32 ? 0xffff : kn <= 16 ? 0 : (__mmask16)((1u << (kn - 16)) - 1);
    return (__m512)_mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(m1, src + 16), _mm512_maskz_loadu_ps(m0, src));
}

static int k_pairs(int kc) { return (kc + 31) / 32 * 16; }
static int round_up16(int n) { return (n + 15) / 16 * 16; }

/* op(A)(i,k) = A[i][k]: each row's run of 32 k is one row of the tile */
AMX_TARGET static void amx_pack_a_rows(const float *A, int lda, int i0, int p0, int mc, int kc, float *dst)
{
    const int kp = k_pairs(kc);
    for (int t = 0; t < mc; t += AMX_MR, dst += (size_t)AMX_MR * kp)
        for (int r = 0; r < AMX_MR; r++) {
            const float *src = A + (size_t)(i0 + t + r) * lda + p0;
            for (int k = 0; k < kc; k += 32)
                _mm512_storeu_ps(dst + ((size_t)k / 32 * AMX_MR + r) * 16,
                                 t + r < mc ? bf16_run(src + k, kc - k) : _mm512_setzero_ps());
        }
}

/* op(A)(i,k) = A[k][i]: pairs of rows of A give 16 rows' pairs at one k; a transpose turns 16 of them
 * into 16 tile rows */
AMX_TARGET static void amx_pack_a_cols(const float *A, int lda, int i0, int p0, int mc, int kc, float *dst)
{
    const int kp = k_pairs(kc);
    for (int t = 0; t < mc; t += AMX_MR, dst += (size_t)AMX_MR * kp)
        for (int h = 0; h < 2; h++) {
            int rows = mc - t - 16 * h;
            __mmask16 mask = rows >= 16 ? 0xffff : rows <= 0 ? 0 : (__mmask16)((1u << rows) - 1);
            for (int k = 0; k < kc; k += 32) {
                __m512 v[16];
                for (int q = 0; q < 16; q++) {
                    int ke = k + 2 * q;
                    const float *src = A + (size_t)(p0 + ke) * lda + i0 + t + 16 * h;
                    __m512 e = ke < kc ? _mm512_maskz_loadu_ps(mask, src) : _mm512_setzero_ps();
                    __m512 o = ke + 1 < kc ? _mm512_maskz_loadu_ps(mask, src + lda) : _mm512_setzero_ps();
                    v[q] = bf16_pairs(e, o);
                }
                transpose16(v);
                for (int i = 0; i < 16; i++)
                    _mm512_storeu_ps(dst + ((size_t)k / 32 * AMX_MR + 16 * h + i) * 16, v[i]);
            }
        }
}

/* op(B)(k,j) = B[k][j]: rows k and k+1 pair up lane by lane; the two rows are read from start to end */
AMX_TARGET static void amx_pack_b_rows(const float *B, int ldb, int p0, int j0, int kc, int nc, float *dst)
{
    const int kp = k_pairs(kc);
    for (int q = 0; q < kp; q++) {
        const float *even = B + (size_t)(p0 + 2 * q) * ldb + j0, *odd = even + ldb;
        for (int j = 0; j < round_up16(nc); j += 16) {
            int cols = nc - j;
            __mmask16 mask = cols >= 16 ? 0xffff : (__mmask16)((1u << cols) - 1);
            __m512 e = 2 * q < kc ? _mm512_maskz_loadu_ps(mask, even + j) : _mm512_setzero_ps();
            __m512 o = 2 * q + 1 < kc ? _mm512_maskz_loadu_ps(mask, odd + j) : _mm512_setzero_ps();
            _mm512_storeu_ps(dst + (size_t)(j / AMX_NR) * AMX_NR * kp + (size_t)q * AMX_NR + j % AMX_NR, bf16_pairs(e, o));
        }
        if (nc % AMX_NR && nc % AMX_NR <= 16)   /* the last panel's empty half */
            _mm512_storeu_ps(dst + (size_t)(nc / AMX_NR) * AMX_NR * kp + (size_t)q * AMX_NR + 16, _mm512_setzero_ps());
    }
}

/* op(B)(k,j) = B[j][k]: each row of B is a column's run of pairs; a transpose lays 16 columns side by side */
AMX_TARGET static void amx_pack_b_cols(const float *B, int ldb, int p0, int j0, int kc, int nc, float *dst)
{
    const int kp = k_pairs(kc);
    for (int t = 0; t < nc; t += AMX_NR, dst += (size_t)AMX_NR * kp)
        for (int h = 0; h < 2; h++)
            for (int k = 0; k < kc; k += 32) {
                __m512 v[16];
                for (int j = 0; j < 16; j++) {
                    int col = t + 16 * h + j;
                    v[j] = col < nc ? bf16_run(B + (size_t)(j0 + col) * ldb + p0 + k, kc - k) : _mm512_setzero_ps();
                }
                transpose16(v);
                for (int q = 0; q < 16; q++)
                    _mm512_storeu_ps(dst + ((size_t)k / 2 + q) * AMX_NR + 16 * h, v[q]);
            }
}

/* Tiles 0-3: C (rows 0-15 / 16-31 x columns 0-15 / 16-31); 4, 5: A's two row halves; 6, 7: B's two
 * column halves. The layout is the same for every call, so each thread loads it once per multiply. */
static const struct {
    unsigned char palette, start_row, reserved[14];
    unsigned short colsb[16];   /* bytes per row */
    unsigned char rows[16];
} __attribute__((aligned(64))) amx_config = {
    .palette = 1, .colsb = {64, 64, 64, 64, 64, 64, 64, 64}, .rows = {16, 16, 16, 16, 16, 16, 16, 16},
};

/* (a static object: GCC 12's _tile_loadconfig tells the compiler it reads only 8 bytes, so the stores
 * that build a local config are dropped) */
AMX_TARGET static void amx_setup(void) { _tile_loadconfig(&amx_config); }

AMX_TARGET static void amx_kernel(int kc, const float *a, long a_rs, long a_ks, const float *b, long b_ks,
                                  float *c, int ldc, int m, int n, float alpha, float beta)
{
    (void)a_rs; (void)a_ks; (void)b_ks;
    /* a whole tile with nothing to scale goes straight between C and the tiles */
    const int direct = m == AMX_MR && n == AMX_NR && alpha == 1 && (beta == 0 || beta == 1);
    const long ldc_bytes = (long)ldc * sizeof(float);
    if (direct && beta == 1) {
        _tile_loadd(0, c, ldc_bytes);
        _tile_loadd(1, c + 16, ldc_bytes);
        _tile_loadd(2, c + 16L * ldc, ldc_bytes);
        _tile_loadd(3, c + 16L * ldc + 16, ldc_bytes);
    } else {
        _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
    }
    for (int k = 0; k < kc; k += 32, a += AMX_MR * 16, b += 16 * AMX_NR) {
        _tile_loadd(4, a, 64);
        _tile_loadd(5, a + 16 * 16, 64);
        _tile_loadd(6, b, AMX_NR * 4);
        _tile_loadd(7, b + 16, AMX_NR * 4);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
    }
    if (direct) {
        _tile_stored(0, c, ldc_bytes);
        _tile_stored(1, c + 16, ldc_bytes);
        _tile_stored(2, c + 16L * ldc, ldc_bytes);
        _tile_stored(3, c + 16L * ldc + 16, ldc_bytes);
        return;
    }
    float t[AMX_MR * AMX_NR] __attribute__((aligned(64)));
    _tile_stored(0, t, AMX_NR * 4);
    _tile_stored(1, t + 16, AMX_NR * 4);
    _tile_stored(2, t + 16 * AMX_NR, AMX_NR * 4);
    _tile_stored(3, t + 16 * AMX_NR + 16, AMX_NR * 4);
    __mmask16 k0 = n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1);
    __mmask16 k1 = n >= 32 ? 0xffff : n > 16 ? (__mmask16)((1u << (n - 16)) - 1) : 0;
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int r = 0; r < m; r++) {
        float *cr = c + (long)r * ldc;
        __m512 x0 = _mm512_mul_ps(va, _mm512_load_ps(t + r * AMX_NR));
        __m512 x1 = _mm512_mul_ps(va, _mm512_load_ps(t + r * AMX_NR + 16));
        if (beta != 0) {
            x0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(k0, cr), x0);
            x1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(k1, cr + 16), x1);
        }
        _mm512_mask_storeu_ps(cr, k0, x0);
        _mm512_mask_storeu_ps(cr + 16, k1, x1);
    }
}

/* AMX-BF16, AMX-TILE and AVX512-BF16 in CPUID leaf 7, and Linux's permission for the tile data (asked once) */
int mc_gemm_amx_usable(void)
{
    static _Atomic int state;   /* 0 not asked yet, 1 usable, -1 not */
    int s = atomic_load(&state);
    if (s) return s > 0;
    unsigned eax, ebx, ecx, edx;
    int ok = __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && (edx >> 22 & 1) && (edx >> 24 & 1) &&
             __builtin_cpu_supports("avx512bw") && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) && (eax >> 5 & 1);
#ifdef __linux__
    enum { ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };
    ok = ok && syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
#else
    ok = 0;
#endif
    atomic_store(&state, ok ? 1 : -1);
    return ok;
}

const mc_gemm_arch mc_gemm_arch_amx = {
    .name = "amx", .mr = AMX_MR, .nr = AMX_NR, .kgrain = 32, .kpack = 2, .kc = 512, .mc = 4 * AMX_MR,
    .l2_bytes = 1024 * 1024, .kernel = amx_kernel, .pack_a = {amx_pack_a_rows, amx_pack_a_cols},
    .pack_b = {amx_pack_b_rows, amx_pack_b_cols}, .setup = amx_setup,
};

#else
typedef int mc_gemm_avx512_unused;   /* keeps the translation unit non-empty off x86-64 */
#endif
