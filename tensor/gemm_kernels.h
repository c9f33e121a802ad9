/* Private to tensor/gemm*.c: the micro-kernel and packing each instruction set provides to the GEMM
 * driver in gemm.c, which serves every layout and every machine with them. */
#ifndef MACHE_GEMM_KERNELS_H
#define MACHE_GEMM_KERNELS_H

/* C[0:m, 0:n] = alpha * A B + beta * C for one register tile, m <= MR, n <= NR, over kc steps of k.
 * Element (r, k) of A is a[r*a_rs + k*a_ks], element (k, j) of B is b[k*b_ks + j]. Usually both are packed
 * micro-panels (a_rs = 1, a_ks = MR; b_ks = NR), zero-padded to MR and NR and 64-byte aligned; when
 * packing would not pay, the driver passes the operands in place: A stored K x M (a_rs = 1, a_ks = lda),
 * A stored M x K (a_rs = lda, a_ks = 1), B stored K x N (b_ks = ldb). Then nothing past row m or column n
 * may be read. beta == 0 must not read C. */
typedef void (*mc_gemm_kernel_fn)(int kc, const float *a, long a_rs, long a_ks, const float *b, long b_ks,
                                  float *C, int ldc, int m, int n, float alpha, float beta);

/* Packing into those panels (see gemm_pack.h for the layout): rows i0.. and depth p0.. of A, or depth p0..
 * and columns j0.. of B. */
typedef void (*mc_gemm_pack_a_fn)(const float *A, int lda, int i0, int p0, int mc, int kc, float *dst);
typedef void (*mc_gemm_pack_b_fn)(const float *B, int ldb, int p0, int j0, int kc, int nc, float *dst);

typedef struct mc_gemm_arch {
    const char *name;
    int mr, nr;            /* register tile */
    int kgrain, kpack;     /* packed panels pad k to a multiple of kgrain and hold kpack values per float slot
                              (fp32: 1, 1; AMX bf16: 32, 2; AVX512-BF16: 2, 2); the kernel then reads only packed panels */
    int kc;                /* depth of a packed block: MR x KC of A stays in L1 */
    int mc;                /* rows of A packed at a time (a multiple of MR) */
    int l2_bytes;          /* budget for the packed KC x NC block of B, kept in L2 */
    mc_gemm_kernel_fn kernel;
    mc_gemm_pack_a_fn pack_a[2];   /* [trans_a]: A stored M x K, or K x M */
    mc_gemm_pack_b_fn pack_b[2];   /* [trans_b]: B stored K x N, or N x K */
    void (*setup)(void);           /* run by each thread before its kernel calls, or NULL */
    int b_prefetch;                /* the kernel prefetches a B read in place well enough that a B stored
                                      K x N is never packed (else only for M up to 2 MR) */
} mc_gemm_arch;

#if defined(__x86_64__)
extern const mc_gemm_arch mc_gemm_arch_avx512;   /* gemm_avx512.c */
extern const mc_gemm_arch mc_gemm_arch_avx2;     /* gemm_avx2.c */
extern const mc_gemm_arch mc_gemm_arch_amx;      /* gemm_avx512.c: bf16 inputs on AMX tiles */
int mc_gemm_amx_usable(void);                    /* the CPU has AMX-BF16 and the OS grants its tiles */
extern const mc_gemm_arch mc_gemm_arch_avx512bf16;  /* gemm_avx512bf16.c: bf16 pairs on vdpbf16ps */
int mc_gemm_avx512bf16_usable(void);             /* the CPU has AVX512-BF16 (and AVX512-BW) */
#endif

#endif
