/* Private to tensor/gemm*.c: the micro-kernel each instruction set provides to the packed GEMM driver.
 * A kernel only ever sees packed panels, so one driver (gemm.c) serves every layout and every machine. */
#ifndef MACHE_GEMM_KERNELS_H
#define MACHE_GEMM_KERNELS_H

/* C[0:m, 0:n] = alpha * Ap Bp + beta * C, where Ap is an MR x kc micro-panel stored k-major
 * (Ap[k*MR + r]) and Bp a kc x NR micro-panel stored k-major (Bp[k*NR + j]); m <= MR, n <= NR.
 * Panels are zero-padded to MR and NR and 64-byte aligned. beta == 0 must not read C. */
typedef void (*mc_gemm_kernel_fn)(int kc, const float *Ap, const float *Bp, float *C, int ldc,
                                  int m, int n, float alpha, float beta);

/* Packing into those panels: see gemm_pack.h for the layout. */
typedef void (*mc_gemm_pack_a_fn)(int trans_a, const float *A, int lda, int i0, int p0, int mc, int kc,
                                  float *dst);
typedef void (*mc_gemm_pack_b_fn)(int trans_b, const float *B, int ldb, int p0, int j0, int kc, int nc,
                                  float *dst);

typedef struct mc_gemm_arch {
    const char *name;
    int mr, nr;            /* register tile */
    int kc;                /* depth of a packed block: MR x KC of A stays in L1 */
    int mc;                /* rows of A packed at a time (a multiple of MR) */
    int l2_bytes;          /* budget for the packed KC x NC block of B, kept in L2 */
    mc_gemm_kernel_fn kernel;
    mc_gemm_pack_a_fn pack_a;
    mc_gemm_pack_b_fn pack_b;
} mc_gemm_arch;

#if defined(__x86_64__)
extern const mc_gemm_arch mc_gemm_arch_avx512;   /* gemm_avx512.c */
extern const mc_gemm_arch mc_gemm_arch_avx2;     /* gemm_avx2.c */
#endif

#endif
