/* The matrix multiply all the model's FLOPs go through, in the three layouts forward and backward need,
 * so that no op ever materialises a transpose. Row-major, with leading dimensions. */
#ifndef MACHE_GEMM_H
#define MACHE_GEMM_H

/* C (M x N) = alpha * op(A) * op(B) + beta * C
 *   op(A) is M x K: A is M x K (lda >= K), or with trans_a A is K x M (lda >= M)
 *   op(B) is K x N: B is K x N (ldb >= N), or with trans_b B is N x K (ldb >= K)
 * beta == 0 overwrites C without reading it (NaNs in C do not propagate). Parallel over cores; safe to
 * call from several threads at once, and inside an OpenMP parallel region it stays on the calling thread. */
void mc_gemm(int trans_a, int trans_b, int M, int N, int K,
             float alpha, const float *A, int lda, const float *B, int ldb,
             float beta, float *C, int ldc);

/* The portable reference path: plain C loops, same contract, used by tests to check the fast path. */
void mc_gemm_ref(int trans_a, int trans_b, int M, int N, int K,
                 float alpha, const float *A, int lda, const float *B, int ldb,
                 float beta, float *C, int ldc);

/* Which kernel mc_gemm runs on this machine at the calling thread's precision: "avx512", "avx2" or
 * "portable"; in bf16 also "amx" or "avx512bf16" (below). */
const char *mc_gemm_kernel_name(void);

/* Forces a kernel: "avx512", "avx2", "portable" (fp32, and bf16 on rounded inputs), "amx" or "avx512bf16"
 * (bf16 natively, fp32 on avx512), or "auto" (the best this CPU has: amx, else avx512bf16, else the best
 * fp32 one). Returns non-zero, and changes nothing, if that kernel is unknown or this CPU lacks it.
 * Without a call, the environment variable MACHE_GEMM (same names) decides on first use, else "auto". */
int mc_gemm_set_kernel(const char *name);

/* The precision of the multiply's inputs: the calling thread's setting (like the autograd context, so two
 * models in two threads may differ), MC_GEMM_FP32 unless set; read once as a multiply starts, and its
 * worker threads follow it.
 * MC_GEMM_BF16: A and B are rounded to bfloat16 (8-bit significand, round to nearest even) as they are
 * packed, and the exact products are summed in fp32; alpha, beta and C stay fp32. Where the CPU has
 * AMX-BF16 and the OS grants its tiles, they run on them (mc_gemm_kernel_name() says "amx"); else where it
 * has AVX512-BF16 (AMD Zen 4, 5), on its dot-product instruction ("avx512bf16"; denormals flush to zero
 * there, as on the tiles); elsewhere the fp32 kernel runs on the rounded inputs, which gives
 * the same products. A multiply with a side
 * under 8 (M, N or K: a point-cloud model's coordinate layers) stays fp32. mc_gemm_ref is unaffected. */
typedef enum { MC_GEMM_FP32, MC_GEMM_BF16 } mc_gemm_precision;
void mc_gemm_set_precision(mc_gemm_precision p);
mc_gemm_precision mc_gemm_get_precision(void);
/* "fp32" or "bf16" into *p; non-zero (and *p unchanged) for any other name */
int mc_gemm_precision_parse(const char *name, mc_gemm_precision *p);

/* x rounded to the nearest bfloat16 (ties to even; NaN stays NaN), returned as a float */
float mc_bf16_round(float x);

#endif
