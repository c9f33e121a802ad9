/* Private to tensor/gemm*.c: packing written once, compiled into each kernel's file with that file's MR, NR
 * and target, so the fixed-size copies become vector moves of the right width.
 * Define MR, NR and PACK_TARGET (e.g. __attribute__((target("avx2,fma"))) or nothing) before including.
 *
 * pack_a: op(A)[i0:i0+mc, p0:p0+kc] into MR-row micro-panels, dst[t*MR*kc + k*MR + r]
 * pack_b: op(B)[p0:p0+kc, j0:j0+nc] into NR-column micro-panels, dst[t*NR*kc + k*NR + j]
 * Both zero-pad the last panel. The copy cases (A stored K x M: pack_a_cols; B stored K x N:
 * pack_b_rows_copy) walk whole rows of the source, so the reads are long and sequential. The transposing
 * cases in plain C (pack_a_rows_plain, pack_b_cols_plain) read each source row along k; the AVX2 and
 * AVX-512 files replace them with register transposes. */
#include <stddef.h>
#include <string.h>

/* op(A)(i,k) = A[k][i] */
PACK_TARGET static void pack_a_cols(const float *A, int lda, int i0, int p0, int mc, int kc, float *dst)
{
    const int full = mc / MR, rest = mc % MR;
    for (int k = 0; k < kc; k++) {
        const float *src = A + (size_t)(p0 + k) * lda + i0;
        float *d = dst + (size_t)k * MR;
        for (int t = 0; t < full; t++, src += MR, d += (size_t)MR * kc)
            memcpy(d, src, sizeof(float) * MR);      /* a fixed size: the compiler inlines vector moves */
        if (rest) {
            for (int r = 0; r < rest; r++) d[r] = src[r];
            for (int r = rest; r < MR; r++) d[r] = 0;
        }
    }
}

/* op(B)(k,j) = B[k][j] */
PACK_TARGET static void pack_b_rows_copy(const float *B, int ldb, int p0, int j0, int kc, int nc, float *dst)
{
    const int full = nc / NR, rest = nc % NR;
    for (int k = 0; k < kc; k++) {
        const float *src = B + (size_t)(p0 + k) * ldb + j0;
        float *d = dst + (size_t)k * NR;
        for (int t = 0; t < full; t++, src += NR, d += (size_t)NR * kc)
            memcpy(d, src, sizeof(float) * NR);
        if (rest) {
            for (int j = 0; j < rest; j++) d[j] = src[j];
            for (int j = rest; j < NR; j++) d[j] = 0;
        }
    }
}

/* op(A)(i,k) = A[i][k], plain C: row r of the panel goes down column r */
PACK_TARGET static inline void pack_a_rows_plain(const float *A, int lda, int i0, int p0, int mc, int kc,
                                                 float *dst)
{
    for (int t = 0; t < mc; t += MR, dst += (size_t)MR * kc) {
        int rows = mc - t < MR ? mc - t : MR;
        for (int r = 0; r < rows; r++) {
            const float *src = A + (size_t)(i0 + t + r) * lda + p0;
            for (int k = 0; k < kc; k++) dst[(size_t)k * MR + r] = src[k];
        }
        for (int r = rows; r < MR; r++)
            for (int k = 0; k < kc; k++) dst[(size_t)k * MR + r] = 0;
    }
}

/* op(B)(k,j) = B[j][k], plain C */
PACK_TARGET static inline void pack_b_cols_plain(const float *B, int ldb, int p0, int j0, int kc, int nc,
                                                 float *dst)
{
    for (int t = 0; t < nc; t += NR, dst += (size_t)NR * kc) {
        int cols = nc - t < NR ? nc - t : NR;
        for (int j = 0; j < cols; j++) {
            const float *src = B + (size_t)(j0 + t + j) * ldb + p0;
            for (int k = 0; k < kc; k++) dst[(size_t)k * NR + j] = src[k];
        }
        for (int j = cols; j < NR; j++)
            for (int k = 0; k < kc; k++) dst[(size_t)k * NR + j] = 0;
    }
}
