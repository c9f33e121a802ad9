/* `mache bench`: timings of the library's hot paths, one subcommand each (`bench gemm` for the matrix
 * multiply). Every subcommand prints its result last as key=value pairs for scripts to pick up. */
#include "examples/mache/args.h"
#include "examples/mache/commands.h"
#include "examples/mache/common.h"
#include "tensor/gemm.h"
#include "tensor/tensor.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif


static int max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* C (M x N) = op(A) op(B) with the layouts the flags ask for; median of --reps timed calls after warm-up. */
static int bench_gemm(int argc, char **argv)
{
    int m = 800, k = 1026, n = 1026, trans_a = 0, trans_b = 0, reps = 0;
    const char *kernel = NULL, *precision = "fp32";
    const mc_opt opts[] = {
        {"m", OPT_INT, &m, "rows of C (default 800)"},
        {"k", OPT_INT, &k, "the reduction dimension (default 1026)"},
        {"n", OPT_INT, &n, "columns of C (default 1026)"},
        {"trans-a", OPT_FLAG, &trans_a, "A is stored K x M"},
        {"trans-b", OPT_FLAG, &trans_b, "B is stored N x K"},
        {"reps", OPT_INT, &reps, "timed calls (default: as many as fit in about half a second, 5 to 1000)"},
        {"kernel", OPT_STR, &kernel, "force a kernel: avx512bf16, amx, avx512, avx2, portable or auto (default: MACHE_GEMM or auto)"},
        {"precision", OPT_STR, &precision, "fp32 or bf16: the inputs' precision (default fp32)"},
        {NULL, 0, NULL, NULL},
    };
    const char *pos[1];
    int npos, r = mc_parse_args(argc, argv, opts, "[options]", pos, 0, &npos);
    if (r) return r == 2 ? 0 : 1;
    if (m < 1 || k < 1 || n < 1) {
        fprintf(stderr, "mache bench gemm: --m, --k and --n must be at least 1 (got %d, %d, %d)\n", m, k, n);
        return 1;
    }
    if (reps < 0) { fprintf(stderr, "mache bench gemm: --reps must be positive (got %d)\n", reps); return 1; }
    if (kernel && mc_gemm_set_kernel(kernel)) {
        fprintf(stderr, "mache bench gemm: kernel '%s' is not available here (try avx512bf16, amx, avx512, avx2, portable, auto)\n",
                kernel);
        return 1;
    }

    if (set_precision("bench gemm", precision)) return 1;

    int lda = trans_a ? m : k, ldb = trans_b ? k : n;
    float *A = mc_malloc((size_t)m * k * sizeof(float));
    float *B = mc_malloc((size_t)k * n * sizeof(float));
    float *C = mc_malloc((size_t)m * n * sizeof(float));
    mc_rng rng;
    mc_rng_seed(&rng, 1);
    mc_rng_fill_uniform(&rng, A, (int64_t)m * k, -1, 1);
    mc_rng_fill_uniform(&rng, B, (int64_t)k * n, -1, 1);

    double t0 = mc_now_seconds();
    int warm = 0;
    do { mc_gemm(trans_a, trans_b, m, n, k, 1, A, lda, B, ldb, 0, C, n); warm++; }
    while (warm < 2 || (warm < 50 && mc_now_seconds() - t0 < 0.05));
    if (!reps) {
        double per = (mc_now_seconds() - t0) / warm;
        reps = per > 0 ? (int)(0.5 / per) : 1000;
        reps = reps < 5 ? 5 : reps > 1000 ? 1000 : reps;
    }
    double *times = mc_malloc((size_t)reps * sizeof(double));
    for (int i = 0; i < reps; i++) {
        double t = mc_now_seconds();
        mc_gemm(trans_a, trans_b, m, n, k, 1, A, lda, B, ldb, 0, C, n);
        times[i] = mc_now_seconds() - t;
    }
    double median = mc_median(times, reps);   /* sorts: times[0] is the fastest */
    double gflops = 2.0 * m * n * k / median * 1e-9;
    printf("gemm %c%c m=%d k=%d n=%d precision=%s kernel=%s threads=%d reps=%d median_ms=%.4f min_ms=%.4f gflops=%.2f\n",
           trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, k, n, precision, mc_gemm_kernel_name(), max_threads(), reps,
           median * 1e3, times[0] * 1e3, gflops);
    free(times);
    free(A);
    free(B);
    free(C);
    return 0;
}

/* ---- bench peak: the multiply-add ceiling every other figure is measured against ----
 * Each thread runs 12 independent chains of vector multiply-adds in registers, the widest the matrix
 * multiply's kernel uses (12 chains hide the FMA latency), so GFLOP/s here is what the cores can do at
 * most; a step's gflops (bench train) divided by it says how much of the machine the step uses. */
#define CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define DECL(i) VEC a##i = SET1(seed + i);
#define STEP(i) a##i = FMADD(a##i, m, c);
#define SUM(i) + a##i[0]
/* One function per vector width, from the same body. */
#define FMA_CHAINS(name)                                                           \
    static float name(long iters, float seed)                                     \
    {                                                                             \
        const VEC m = SET1(0.9999f), c = SET1(1e-4f);                             \
        CHAINS(DECL)                                                              \
        for (long k = 0; k < iters; k++) { CHAINS(STEP) }                         \
        return 0 CHAINS(SUM);                                                     \
    }
#if defined(__x86_64__)
#define VEC __m512
#define SET1 _mm512_set1_ps
#define FMADD _mm512_fmadd_ps
__attribute__((target("avx512f"))) FMA_CHAINS(fma_chains_avx512)
#undef VEC
#undef SET1
#undef FMADD
#define VEC __m256
#define SET1 _mm256_set1_ps
#define FMADD _mm256_fmadd_ps
__attribute__((target("avx2,fma"))) FMA_CHAINS(fma_chains_avx2)
#undef VEC
#undef SET1
#undef FMADD
#endif

/* the portable kernel's ceiling: plain C, what the compiler makes of it (4 lanes, no FMA, on baseline x86-64) */
static float fma_chains_portable(long iters, float seed)
{
    float a[12][4];
    for (int i = 0; i < 12; i++) for (int l = 0; l < 4; l++) a[i][l] = seed + i + l;
    for (long k = 0; k < iters; k++)
        for (int i = 0; i < 12; i++) for (int l = 0; l < 4; l++) a[i][l] = a[i][l] * 0.9999f + 1e-4f;
    float s = 0;
    for (int i = 0; i < 12; i++) for (int l = 0; l < 4; l++) s += a[i][l];
    return s;
}

static int bench_peak(int argc, char **argv)
{
    const mc_opt opts[] = {{NULL, 0, NULL, NULL}};
    const char *pos[1];
    int npos, r = mc_parse_args(argc, argv, opts, "", pos, 0, &npos);
    if (r) return r == 2 ? 0 : 1;
    const char *kernel = mc_gemm_kernel_name();
    int lanes = 4;
    float (*chains)(long, float) = fma_chains_portable;
#if defined(__x86_64__)
    if (!strcmp(kernel, "avx512")) { chains = fma_chains_avx512; lanes = 16; }
    else if (!strcmp(kernel, "avx2")) { chains = fma_chains_avx2; lanes = 8; }
#endif
    const long iters = 20000000;
    int threads = max_threads();
    double best = 1e30;
    volatile float sink = 0;
    for (int round = 0; round < 3; round++) {          /* the best of three: nothing here waits on memory */
        double t0 = mc_now_seconds();
        #pragma omp parallel
        {
            float v = chains(iters, (float)round);
            #pragma omp atomic
            sink += v;
        }
        double dt = mc_now_seconds() - t0;
        if (dt < best) best = dt;
    }
    double flop = 2.0 * 12 * lanes * (double)iters * threads;
    printf("peak %s: %d threads x 12 chains of %d-lane multiply-adds, %.0f ms\n", kernel, threads, lanes, best * 1e3);
    printf("gflops_per_thread=%.1f gflops=%.1f\n", flop / best * 1e-9 / threads, flop / best * 1e-9);
    (void)sink;
    return 0;
}

/* argv[0] of a subcommand is its full name, so its messages and --help read "mache bench gemm". */
static char gemm_name[] = "bench gemm", train_name[] = "bench train", chamfer_name[] = "bench chamfer",
            sample_name[] = "bench sample", peak_name[] = "bench peak";

static const struct {
    const char *name;
    char *full_name;
    int (*run)(int, char **);
    const char *summary;
} benches[] = {
    {"gemm", gemm_name, bench_gemm, "matrix multiply C = op(A) op(B): --m --k --n [--trans-a] [--trans-b]"},
    {"train", train_name, bench_train, "training steps of the model: --preset P --batch B --steps S"},
    {"chamfer", chamfer_name, bench_chamfer, "Chamfer distance forward and backward: --batch B --points N"},
    {"sample", sample_name, bench_sample, "meshes decoded from z: --preset P --resolution R"},
    {"peak", peak_name, bench_peak, "the cores' multiply-add ceiling (GFLOP/s) the kernels are measured against"},
};
enum { NBENCHES = sizeof benches / sizeof benches[0] };

int cmd_bench(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        FILE *f = argc < 2 ? stderr : stdout;
        fprintf(f, "usage: mache bench WHAT [options]   (mache bench WHAT --help for its options)\n\n");
        for (int i = 0; i < NBENCHES; i++) fprintf(f, "  %-8s %s\n", benches[i].name, benches[i].summary);
        return argc < 2 ? 1 : 0;
    }
    for (int i = 0; i < NBENCHES; i++)
        if (!strcmp(argv[1], benches[i].name)) {
            argv[1] = benches[i].full_name;
            return benches[i].run(argc - 1, argv + 1);
        }
    fprintf(stderr, "mache bench: unknown benchmark '%s' (try: mache bench --help)\n", argv[1]);
    return 1;
}
