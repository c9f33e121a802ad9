/* mc_gemm against the plain reference, for every kernel this machine has, every layout, odd sizes that
 * leave partial tiles and partial cache blocks, padded leading dimensions, and the alpha/beta cases; in
 * fp32 and in bf16 (against a bound derived from bf16's rounding). */
#include "tests/harness.h"
#include "tensor/gemm.h"
#include "tensor/tensor.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const float SENTINEL = 12345.0f;   /* in the padding past each row of C: must survive */

typedef struct { int m, n, k; } shape;

/* Worst |got - want| relative to what fp32 may lose summing K products of O(1) values. A NaN or a
 * touched sentinel counts as infinitely wrong. */
static double worst_error(const float *got, const float *want, int M, int N, int ldc, int K,
                          float alpha, float beta)
{
    double tol = 1e-5 * sqrt((double)K + 1) * (fabs(alpha) * sqrt((double)K + 1) + fabs(beta) + 1);
    double worst = 0;
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double g = got[(size_t)i * ldc + j], w = want[(size_t)i * ldc + j];
            double e = fabs(g - w) / (tol * (1 + fabs(w)));
            if (!(e <= worst)) worst = isnan(e) ? INFINITY : e;
        }
        for (int j = N; j < ldc; j++)
            if (got[(size_t)i * ldc + j] != SENTINEL) worst = INFINITY;
    }
    return worst;
}

static void fill(mc_rng *rng, float *x, size_t n) { mc_rng_fill_uniform(rng, x, (int64_t)n, -1, 1); }

/* The bf16 bound for each element of C, against the exact product of the unrounded inputs: rounding a
 * and b to 8 significant bits moves each product by at most (2u + u^2)|a b| with u = 2^-8, and fp32 sums
 * K of them with at most K 2^-24 of their absolute sum; alpha, beta C and the store add a rounding each. */
static void bf16_bounds(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                        const float *B, int ldb, float beta, const float *C0, int ldc, double *bound)
{
    const double u = 1.0 / 256, e32 = 1.0 / (1 << 24);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double abs_sum = 0;
            for (int p = 0; p < K; p++)
                abs_sum += fabs((double)(trans_a ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p]) *
                                (trans_b ? B[(size_t)j * ldb + p] : B[(size_t)p * ldb + j]));
            double c0 = beta == 0 ? 0 : fabs((double)beta * C0[(size_t)i * ldc + j]);
            bound[(size_t)i * N + j] = fabs(alpha) * abs_sum * (2 * u + u * u + (K + 2) * e32) * (1 + 4 * e32) +
                                       3 * e32 * c0 + 1e-30;
        }
}

/* worst |got - want| over its bound (sentinels and NaNs as in worst_error) */
static double worst_bf16_error(const float *got, const float *want, const double *bound, int M, int N, int ldc)
{
    double worst = 0;
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double e = fabs((double)got[(size_t)i * ldc + j] - want[(size_t)i * ldc + j]) / bound[(size_t)i * N + j];
            if (!(e <= worst)) worst = isnan(e) ? INFINITY : e;
        }
        for (int j = N; j < ldc; j++)
            if (got[(size_t)i * ldc + j] != SENTINEL) worst = INFINITY;
    }
    return worst;
}

/* C0 is the initial C (with sentinels in the padding); NaN everywhere when beta == 0. Each kernel in
 * fp32 and in bf16 ("amx" and "avx512bf16" run fp32 on avx512 and bf16 natively; the others round). */
static void run_case(const char **kernels, int nkernels, int trans_a, int trans_b, shape s,
                     float alpha, float beta, mc_rng *rng)
{
    int M = s.m, N = s.n, K = s.k;
    int lda = (trans_a ? M : K) + 3, ldb = (trans_b ? K : N) + 5, ldc = N + 2;
    /* exactly as long as the last row needs, so the sanitizer sees any read past the matrix */
    size_t na = (size_t)((trans_a ? K : M) - 1) * lda + (trans_a ? M : K);
    size_t nb = (size_t)((trans_b ? N : K) - 1) * ldb + (trans_b ? K : N);
    size_t nc = (size_t)M * ldc;
    float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B);
    float *C0 = malloc(nc * sizeof *C0), *want = malloc(nc * sizeof *want), *got = malloc(nc * sizeof *got);
    fill(rng, A, na);
    fill(rng, B, nb);
    fill(rng, C0, nc);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < ldc; j++)
            if (j >= N) C0[(size_t)i * ldc + j] = SENTINEL;
            else if (beta == 0) C0[(size_t)i * ldc + j] = NAN;
    memcpy(want, C0, nc * sizeof *C0);
    mc_gemm_ref(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, want, ldc);
    double *bound = malloc((size_t)M * N * sizeof *bound);
    bf16_bounds(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C0, ldc, bound);

    for (int t = 0; t < nkernels; t++) {
        mc_gemm_set_kernel(kernels[t]);
        memcpy(got, C0, nc * sizeof *C0);
        mc_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, got, ldc);
        double e = worst_error(got, want, M, N, ldc, K, alpha, beta);
        CHECK(e <= 1, "%s %c%c M=%d N=%d K=%d alpha=%g beta=%g: error %.3g x tolerance", kernels[t],
              trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, beta, e);

        mc_gemm_set_precision(MC_GEMM_BF16);
        memcpy(got, C0, nc * sizeof *C0);
        mc_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, got, ldc);
        mc_gemm_set_precision(MC_GEMM_FP32);
        e = worst_bf16_error(got, want, bound, M, N, ldc);
        CHECK(e <= 1, "%s bf16 %c%c M=%d N=%d K=%d alpha=%g beta=%g: error %.3g x the bf16 bound", kernels[t],
              trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, beta, e);
    }
    free(A); free(B); free(C0); free(want); free(got); free(bound);
}

int main(void)
{
    /* MACHE_GEMM is read on the first call that needs a kernel */
    setenv("MACHE_GEMM", "portable", 1);
    CHECK(!strcmp(mc_gemm_kernel_name(), "portable"), "MACHE_GEMM=portable gave %s", mc_gemm_kernel_name());
    CHECK(mc_gemm_set_kernel("no-such-kernel") != 0, "an unknown kernel name was accepted");
    CHECK(!strcmp(mc_gemm_kernel_name(), "portable"), "a refused mc_gemm_set_kernel changed the kernel");

    const char *all[] = {"portable", "avx2", "avx512", "avx512bf16", "amx"}, *kernels[5];
    int nkernels = 0;
    for (int i = 0; i < 5; i++)
        if (!mc_gemm_set_kernel(all[i])) kernels[nkernels++] = all[i];
        else printf("note: kernel %s skipped: this CPU lacks it\n", all[i]);
    printf("kernels tested:");
    for (int i = 0; i < nkernels; i++) printf(" %s", kernels[i]);
    printf("\n");
    for (int t = 0; t < nkernels; t++) {   /* each runs bf16 on itself: the native ones are not skipped */
        mc_gemm_set_kernel(kernels[t]);
        mc_gemm_set_precision(MC_GEMM_BF16);
        CHECK(!strcmp(mc_gemm_kernel_name(), kernels[t]), "kernel %s runs bf16 on %s", kernels[t], mc_gemm_kernel_name());
        mc_gemm_set_precision(MC_GEMM_FP32);
    }
    CHECK(!mc_gemm_set_kernel("auto"), "auto must always be available");

    /* 1 and 7: below every tile; 17, 33: one full tile and a ragged one; 100, 257: several row blocks;
     * K = 300 and 600: two and three kc passes (beta applied once); N = 600: two NC blocks. Narrow
     * ones (N <= 32, or M <= 28 with B stored K x N) read that operand in place; N <= 4 runs transposed. Big enough ones run on
     * both threads, cut along M or N. */
    const shape shapes[] = {
        {1, 1, 1}, {7, 17, 33}, {17, 7, 1}, {33, 100, 17}, {100, 33, 257}, {257, 65, 100},
        {15, 513, 3}, {29, 31, 300}, {3, 40, 600}, {29, 600, 300}, {130, 48, 64},
        {150, 20, 700}, {20, 200, 700}, {64, 3, 500}, {100, 1, 33}, {257, 4, 17},
        /* the bf16 kernels' tails (a side under 8 stays fp32, so these are the smallest that reach them):
         * 1, 3 or 4 columns past whole tiles, 1 or 13 rows, odd K in one pass and in the last of two
         * (1025 = 514 + 511), K = 8 (4 pairs) */
        {29, 33, 9}, {27, 36, 8}, {15, 50, 1025}, {43, 99, 31}, {8, 8, 8}, {71, 516, 513},
    };
    const float ab[][2] = {{1, 0}, {2.5f, 1}, {-1, -0.5f}};
    mc_rng rng;
    mc_rng_seed(&rng, 42);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
                for (int c = 0; c < 3; c++) run_case(kernels, nkernels, ta, tb, shapes[s], ab[c][0], ab[c][1], &rng);

    /* K = 0 and alpha = 0: C = beta C, without touching A or B */
    for (int t = 0; t < nkernels; t++) {
        mc_gemm_set_kernel(kernels[t]);
        float C[6] = {1, 2, 3, 4, 5, 6}, Cn[6] = {NAN, NAN, NAN, NAN, NAN, NAN};
        mc_gemm(0, 0, 2, 3, 0, 1, NULL, 1, NULL, 3, 0.5f, C, 3);
        CHECK(C[0] == 0.5f && C[5] == 3, "%s K=0: C not scaled by beta (%g %g)", kernels[t], C[0], C[5]);
        mc_gemm(1, 1, 2, 3, 0, 1, NULL, 2, NULL, 1, 0, Cn, 3);
        CHECK(Cn[0] == 0 && Cn[5] == 0, "%s K=0 beta=0: NaN survived (%g)", kernels[t], Cn[0]);
        float A[4] = {NAN, 1, 1, 1}, B[4] = {1, 1, 1, 1}, C2[4] = {1, 1, 1, 1};
        mc_gemm(0, 0, 2, 2, 2, 0, A, 2, B, 2, 2, C2, 2);
        CHECK(C2[0] == 2 && C2[3] == 2, "%s alpha=0: C != beta C (%g)", kernels[t], C2[0]);
    }

    /* bf16 rounds to nearest, ties to even, on every kernel: 1 + 2^-8 lies halfway between 1 and 1 + 2^-7
     * and goes to 1 (even); 1 + 3 2^-8 lies between 1 + 2^-7 and 1 + 2^-6 and goes to 1 + 2^-6 (even).
     * 48 x 48 x 48 reaches AMX. fp32 would give K (1 + 2^-8) and K (1 + 3 2^-8). */
    CHECK(mc_bf16_round(1 + 0x1p-8f) == 1 && mc_bf16_round(1 + 3 * 0x1p-8f) == 1 + 0x1p-6f &&
          mc_bf16_round(-(1 + 0x1p-8f + 0x1p-20f)) == -(1 + 0x1p-7f), "mc_bf16_round: not to nearest even");
    CHECK(isnan(mc_bf16_round(NAN)) && mc_bf16_round(INFINITY) == INFINITY && mc_bf16_round(3.4e38f) == INFINITY,
          "mc_bf16_round: NaN, infinity or overflow wrong");
    for (int t = 0; t < nkernels; t++) {
        enum { n = 48 };
        static float A[n * n], B[n * n], C[n * n];
        mc_gemm_set_kernel(kernels[t]);
        mc_gemm_set_precision(MC_GEMM_BF16);
        for (int tie = 1; tie <= 3; tie += 2) {
            for (int i = 0; i < n * n; i++) { A[i] = 1 + tie * 0x1p-8f; B[i] = 1; }
            mc_gemm(0, 0, n, n, n, 1, A, n, B, n, 0, C, n);
            float want = n * (tie == 1 ? 1 : 1 + 0x1p-6f);
            CHECK(C[0] == want && C[n * n - 1] == want, "%s (%s) bf16: 1 + %d 2^-8 summed %d times gave %.9g, not %.9g",
                  kernels[t], mc_gemm_kernel_name(), tie, n, C[0], want);
        }
        mc_gemm_set_precision(MC_GEMM_FP32);
    }
    {   /* a side under 8 stays fp32 in bf16 mode: 3 terms of 1 + 2^-8 keep their last bit */
        float A[3] = {1 + 0x1p-8f, 1 + 0x1p-8f, 1 + 0x1p-8f}, B[3 * 40], C[40];
        for (int i = 0; i < 3 * 40; i++) B[i] = 1;
        mc_gemm_set_kernel("auto");
        mc_gemm_set_precision(MC_GEMM_BF16);
        mc_gemm(0, 0, 1, 40, 3, 1, A, 3, B, 40, 0, C, 40);
        mc_gemm_set_precision(MC_GEMM_FP32);
        CHECK(C[0] == 3 * (1 + 0x1p-8f) && C[39] == C[0], "bf16: a K = 3 multiply was rounded (%.9g)", C[0]);
    }
    {
        mc_gemm_precision p = MC_GEMM_FP32;
        CHECK(!mc_gemm_precision_parse("bf16", &p) && p == MC_GEMM_BF16 && mc_gemm_precision_parse("fp16", &p) &&
              p == MC_GEMM_BF16, "mc_gemm_precision_parse");
    }

    /* The comparisons can fail: a multiply with B's layout flipped (B not symmetric) must be caught, in
     * fp32 and, on every kernel, against the bf16 bound. */
    {
        int n = 9;
        float A[81], B[81], want[81], got[81];
        fill(&rng, A, 81);
        fill(&rng, B, 81);
        mc_gemm_ref(0, 0, n, n, n, 1, A, n, B, n, 0, want, n);
        mc_gemm(0, 1, n, n, n, 1, A, n, B, n, 0, got, n);
        CHECK(worst_error(got, want, n, n, n, n, 1, 0) > 1, "a wrong product passed the comparison");
        double bound[81];
        bf16_bounds(0, 0, n, n, n, 1, A, n, B, n, 0, want, n, bound);
        for (int t = 0; t < nkernels; t++) {
            mc_gemm_set_kernel(kernels[t]);
            mc_gemm_set_precision(MC_GEMM_BF16);
            mc_gemm(0, 1, n, n, n, 1, A, n, B, n, 0, got, n);
            mc_gemm_set_precision(MC_GEMM_FP32);
            CHECK(worst_bf16_error(got, want, bound, n, n, n) > 1, "%s bf16: a wrong product passed the bound",
                  kernels[t]);
        }
    }
    return test_summary("test_gemm");
}
