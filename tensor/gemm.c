/* Matrix multiply: a packed, register-blocked GEMM in the BLIS/GotoBLAS structure, with the micro-kernel
 * chosen at run time (AVX-512, AVX2+FMA, or portable C; for bf16 inputs also AMX tiles or AVX512-BF16's
 * vdpbf16ps) and the cores splitting C between them.
 *
 * Blocking, for the row-major tile C[MR x NR] += A[MR x kc] B[kc x NR] (sizes per kernel in its arch):
 *   - the register tile MR x NR of C stays in vector registers for a whole kc-deep pass
 *     (AVX-512 14 x 32 = 28 zmm accumulators; AVX2 6 x 16 = 12 ymm; portable 4 x 16);
 *   - KC (AVX-512 512, the others 256): the MR x KC micro-panel of packed A (up to 28 KB) stays in the
 *     32 KB L1 while the loop over NR panels of B runs past it; kc is balanced (K = 1026 runs as 3 x 342,
 *     not 2 x 512 + 2), and deep, since every pass reloads and stores the C tile (the decoder's weight
 *     gradients, K = 800 rows, ran 5% faster as 2 x 400 than as 4 x 200);
 *   - NC: the KC x NC block of packed B is sized to ~512 KB of a 1 MB L2 (half the L2 where it is larger),
 *     so each B micro-panel comes from L2 as the micro-panels of A go by; a short K lets NC grow, so A is
 *     packed fewer times;
 *   - MC = 8 MR rows of A are packed at a time, so the copy of a transposed A (TN) reads runs of 448 bytes.
 * Packing reads A and B in whichever layout they are given (trans_a, trans_b) and writes the one layout
 * the kernel wants, so NN, NT, TN and TT all run the same kernel at the same speed. Where packing would
 * not pay (one tile across), the kernel reads the operand in place; a C only a few columns wide is
 * computed as its transpose, which fills the vector lanes.
 *
 * Threads: C is cut into one slab per thread along M or N, whichever leaves the busiest thread less
 * padded work and repeated packing; each thread runs the serial algorithm on its slab with its own
 * packing buffers (no barriers, no nested regions). Problems under ~1 MFLOP stay on one thread. */
#include "tensor/gemm.h"
#include "tensor/gemm_kernels.h"
#include "tensor/tensor.h"
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define A_AT(i, p) (trans_a ? A[(size_t)(p) * lda + (i)] : A[(size_t)(i) * lda + (p)])
#define B_AT(p, j) (trans_b ? B[(size_t)(j) * ldb + (p)] : B[(size_t)(p) * ldb + (j)])

void mc_gemm_ref(int trans_a, int trans_b, int M, int N, int K,
                 float alpha, const float *A, int lda, const float *B, int ldb,
                 float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0;
            for (int p = 0; p < K; p++) acc += (double)A_AT(i, p) * B_AT(p, j);
            float *c = &C[(size_t)i * ldc + j];
            *c = (float)(alpha * acc + (beta == 0 ? 0 : beta * *c));
        }
}

/* ---- the portable kernel: plain C the compiler vectorises for whatever the target has ---- */
#define PMR 4
#define PNR 16

static void portable_kernel(int kc, const float *restrict a, long a_rs, long a_ks, const float *restrict b,
                            long b_ks, float *c, int ldc, int m, int n, float alpha, float beta)
{
    float acc[PMR][PNR] = {{0}};
    if (a_rs == 1 && m == PMR && n == PNR) {           /* a whole tile: fixed trip counts vectorise */
        for (int p = 0; p < kc; p++, a += a_ks, b += b_ks) {
#pragma GCC unroll 8
            for (int r = 0; r < PMR; r++)
#pragma GCC unroll 16
                for (int j = 0; j < PNR; j++) acc[r][j] += a[r] * b[j];
        }
    } else {                                            /* an edge: touch only rows < m, columns < n */
        for (int p = 0; p < kc; p++, a += a_ks, b += b_ks)
            for (int r = 0; r < m; r++)
                for (int j = 0; j < n; j++) acc[r][j] += a[r * a_rs] * b[j];
    }
    for (int r = 0; r < m; r++) {
        float *cr = c + (size_t)r * ldc;
        if (beta == 0) for (int j = 0; j < n; j++) cr[j] = alpha * acc[r][j];
        else           for (int j = 0; j < n; j++) cr[j] = alpha * acc[r][j] + beta * cr[j];
    }
}

#define MR PMR
#define NR PNR
#define PACK_TARGET
#include "tensor/gemm_pack.h"
#undef MR
#undef NR

static const mc_gemm_arch portable_arch = {
    .name = "portable", .mr = PMR, .nr = PNR, .kgrain = 1, .kpack = 1, .kc = 256, .mc = 32 * PMR, .l2_bytes = 512 * 1024,
    .kernel = portable_kernel,
    .pack_a = {pack_a_rows_plain, pack_a_cols}, .pack_b = {pack_b_rows_copy, pack_b_cols_plain},
};

/* ---- which kernels: chosen once (MACHE_GEMM, else the best the CPU has), or by mc_gemm_set_kernel.
 * A choice is a pair: the kernel fp32 multiplies run on, and the one bf16 multiplies run on (the same
 * kernel on rounded packs, or a native bf16 kernel beside the AVX-512 fp32 one). ---- */
typedef struct kernel_choice { const mc_gemm_arch *fp32, *bf16; } kernel_choice;

static const kernel_choice portable_choice = {&portable_arch, &portable_arch};
#if defined(__x86_64__)
static const kernel_choice avx2_choice = {&mc_gemm_arch_avx2, &mc_gemm_arch_avx2};
static const kernel_choice avx512_choice = {&mc_gemm_arch_avx512, &mc_gemm_arch_avx512};
static const kernel_choice avx512bf16_choice = {&mc_gemm_arch_avx512, &mc_gemm_arch_avx512bf16};
static const kernel_choice amx_choice = {&mc_gemm_arch_avx512, &mc_gemm_arch_amx};
#endif

static const kernel_choice *choice_named(const char *name)
{
    if (!strcmp(name, "portable")) return &portable_choice;
#if defined(__x86_64__)
    __builtin_cpu_init();
    int avx512 = __builtin_cpu_supports("avx512f");
    if (!strcmp(name, "avx512") && avx512) return &avx512_choice;
    if (!strcmp(name, "avx512bf16") && avx512 && mc_gemm_avx512bf16_usable()) return &avx512bf16_choice;
    if (!strcmp(name, "amx") && avx512 && mc_gemm_amx_usable()) return &amx_choice;
    if (!strcmp(name, "avx2") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return &avx2_choice;
#endif
    return NULL;
}

/* AMX before AVX512-BF16: a tile instruction does 16 x 16 x 32 multiply-adds in the time the FMA units do
 * ~1/6 of that, so it pays even with much of the tile padding (8 rows: the decoder's per-shape
 * multiplies, whose cost is packing the weights, which AMX's packing does in one pass); and on Sapphire
 * Rapids vdpbf16ps was measured slower than fp32 FMAs. On Zen 4 and 5 it does twice their work. */
static const kernel_choice *choice_best(void)
{
    static const char *order[] = {"amx", "avx512bf16", "avx512", "avx2"};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const kernel_choice *c = choice_named(order[i]);
        if (c) return c;
    }
    return &portable_choice;
}

/* the name a choice goes by: its bf16 kernel's, which is also the fp32 kernel's unless it is native bf16 */
static const char *choice_name(const kernel_choice *c) { return c->bf16->name; }

static const kernel_choice *_Atomic chosen;

static const kernel_choice *current_choice(void)
{
    const kernel_choice *c = atomic_load_explicit(&chosen, memory_order_acquire);
    if (c) return c;
    const char *env = getenv("MACHE_GEMM");
    if (env && *env && strcmp(env, "auto")) {
        c = choice_named(env);
        if (!c) fprintf(stderr, "mache: MACHE_GEMM=%s is not available on this machine; using %s\n",
                        env, choice_name(choice_best()));
    }
    if (!c) c = choice_best();
    const kernel_choice *expected = NULL;   /* a concurrent mc_gemm_set_kernel wins */
    if (!atomic_compare_exchange_strong(&chosen, &expected, c)) c = expected;
    return c;
}

int mc_gemm_set_kernel(const char *name)
{
    if (!name) return 1;
    const kernel_choice *c = !strcmp(name, "auto") ? choice_best() : choice_named(name);
    if (!c) return 1;
    atomic_store_explicit(&chosen, c, memory_order_release);
    return 0;
}

/* ---- precision: fp32, or bf16 inputs (on AMX or AVX512-BF16 where usable, else the fp32 kernel on
 * rounded packs) ---- */
static _Thread_local int precision = MC_GEMM_FP32;

void mc_gemm_set_precision(mc_gemm_precision p) { precision = (int)p; }
mc_gemm_precision mc_gemm_get_precision(void) { return (mc_gemm_precision)precision; }

int mc_gemm_precision_parse(const char *name, mc_gemm_precision *p)
{
    if (name && !strcmp(name, "fp32")) *p = MC_GEMM_FP32;
    else if (name && !strcmp(name, "bf16")) *p = MC_GEMM_BF16;
    else return 1;
    return 0;
}

/* branch-free, so that round_bf16's loop vectorises */
static inline uint32_t bf16_bits(uint32_t u)
{
    uint32_t nan = (u & 0x7fffffffu) > 0x7f800000u;
    uint32_t r = nan ? u | 0x400000u : u + 0x7fffu + ((u >> 16) & 1);   /* NaN stays a NaN; ties to even */
    return r & 0xffff0000u;
}

float mc_bf16_round(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    u = bf16_bits(u);
    memcpy(&x, &u, sizeof x);
    return x;
}

MC_CLONES static void round_bf16(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, x + i, sizeof u);
        u = bf16_bits(u);
        memcpy(x + i, &u, sizeof u);
    }
}

/* bf16 leaves the multiplies with a side under 8 in fp32: in a point-cloud model those are the layers
 * that read or write coordinates (xyz in, the 2-d template in, xyz out, and their gradients), where 8-bit
 * rounding lands directly on the points the loss measures, at ~1% of the FLOPs. */
static int is_coordinate_layer(int M, int N, int K) { return M < 8 || N < 8 || K < 8; }

const char *mc_gemm_kernel_name(void)
{
    const kernel_choice *c = current_choice();
    return mc_gemm_get_precision() == MC_GEMM_BF16 ? c->bf16->name : c->fp32->name;
}

/* ---- packing buffers: a pool reused across calls (training calls gemm thousands of times per epoch).
 * A caller takes a free entry for the length of one call and gives it back; entries are never unlinked,
 * so the pool holds one entry per thread that ever ran a multiply at the same time, and stays reachable. */
typedef struct pack_buf {
    float *a, *b, *t;
    size_t acap, bcap, tcap;    /* in floats */
    atomic_int busy;
    struct pack_buf *next;
} pack_buf;

static pack_buf *_Atomic pack_pool;

static pack_buf *pack_buf_take(void)
{
    for (pack_buf *p = atomic_load(&pack_pool); p; p = p->next)
        if (!atomic_load_explicit(&p->busy, memory_order_relaxed) && !atomic_exchange(&p->busy, 1)) return p;
    pack_buf *p = calloc(1, sizeof *p);
    if (!p) { fprintf(stderr, "mache: out of memory in gemm\n"); abort(); }
    atomic_init(&p->busy, 1);
    pack_buf *head = atomic_load(&pack_pool);
    do p->next = head; while (!atomic_compare_exchange_weak(&pack_pool, &head, p));
    return p;
}

static void pack_buf_give(pack_buf *p) { atomic_store_explicit(&p->busy, 0, memory_order_release); }

static float *grow(float **buf, size_t *cap, size_t n)
{
    if (n > *cap) {
        free(*buf);
        size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63;   /* aligned_alloc wants a multiple */
        *buf = aligned_alloc(64, bytes);
        if (!*buf) { fprintf(stderr, "mache: out of memory in gemm (%zu bytes)\n", bytes); abort(); }
        *cap = n;
    }
    return *buf;
}

static int ceil_div(int a, int b) { return (a + b - 1) / b; }
static int round_up(int a, int b) { return ceil_div(a, b) * b; }

/* The budget for packed B: the kernel's own (sized for a 1 MB L2), or half of a larger L2 as the C
 * library reports it. On a 2 MB L2 a K = 1026, N = 513 multiply then packs A once instead of twice. */
static int l2_budget(const mc_gemm_arch *ar)
{
    static _Atomic long l2_half = -1;   /* bytes; 0 when the size is unknown */
    long half = atomic_load_explicit(&l2_half, memory_order_relaxed);
    if (half < 0) {
        long l2 = 0;
#ifdef _SC_LEVEL2_CACHE_SIZE
        l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
        half = l2 > 0 && l2 <= (64L << 20) ? l2 / 2 : 0;
        atomic_store_explicit(&l2_half, half, memory_order_relaxed);
    }
    return half > ar->l2_bytes ? (int)half : ar->l2_bytes;
}

/* Block sizes for one thread's share (see the top of the file). */
typedef struct blocking { int kc, nc, mc; } blocking;

static blocking block_sizes(const mc_gemm_arch *ar, int M, int N, int K)
{
    blocking bl;
    bl.kc = round_up(ceil_div(K, ceil_div(K, ar->kc)), ar->kgrain);   /* whole pairs (or tiles) of k a pass */
    int nc_cap = l2_budget(ar) / (int)(bl.kc * sizeof(float)) / ar->nr * ar->nr;
    if (nc_cap < ar->nr) nc_cap = ar->nr;
    bl.nc = round_up(ceil_div(N, ceil_div(N, nc_cap)), ar->nr);
    bl.mc = ar->mc < round_up(M, ar->mr) ? ar->mc : round_up(M, ar->mr);
    return bl;
}

/* Packing copies every element once to use it many times: a micro-panel of A is used once per NR columns
 * of C, one of B once per MR rows. With only a tile or two across, the kernel reads the operand in place
 * instead (B stored K x N, or A in either layout; the transposing copy of B is the one it cannot skip).
 * A kernel that prefetches the next panel of B reads a B stored K x N in place at any M: on AVX-512 the
 * paper step ran ~2% faster so (its decoder's weights come from memory once per multiply either way).
 * Rounded (bf16) inputs and the bf16 kernel's pairs exist only in packed form. */
static int a_in_place(const mc_gemm_arch *ar, int rnd, int N) { return !rnd && ar->kpack == 1 && N <= ar->nr; }
static int b_in_place(const mc_gemm_arch *ar, int rnd, int trans_b, int M)
{
    return !rnd && ar->kpack == 1 && !trans_b && (M <= 2 * ar->mr || ar->b_prefetch);
}

/* float slots a packed row (of A) or column (of B) of kc values takes */
static size_t packed_depth(const mc_gemm_arch *ar, int kc) { return (size_t)round_up(kc, ar->kgrain) / ar->kpack; }

/* One thread's multiply: the five loops of the GotoBLAS algorithm around the micro-kernel. rnd: round the
 * packed inputs to bf16 (the fp32 kernels' bf16 mode). */
static void gemm_serial(const mc_gemm_arch *ar, int rnd, int trans_a, int trans_b, int M, int N, int K,
                        float alpha, const float *A, int lda, const float *B, int ldb,
                        float beta, float *C, int ldc)
{
    const int mr = ar->mr, nr = ar->nr;
    const blocking bl = block_sizes(ar, M, N, K);
    const int direct_a = a_in_place(ar, rnd, N), direct_b = b_in_place(ar, rnd, trans_b, M);

    pack_buf *pb = pack_buf_take();
    float *Ap = direct_a ? NULL : grow(&pb->a, &pb->acap, (size_t)bl.mc * packed_depth(ar, bl.kc));
    float *Bp = direct_b ? NULL : grow(&pb->b, &pb->bcap, (size_t)bl.nc * packed_depth(ar, bl.kc));
    if (ar->setup) ar->setup();
    /* where A(i, k) and B(k, j) are found: element strides along rows (i) and along k */
    const long a_rs = direct_a && !trans_a ? lda : 1, a_ks = !direct_a ? mr : trans_a ? lda : 1;
    const long b_ks = direct_b ? ldb : nr;

    for (int jc = 0; jc < N; jc += bl.nc) {
        int nc = N - jc < bl.nc ? N - jc : bl.nc;
        for (int pc = 0; pc < K; pc += bl.kc) {
            int kc = K - pc < bl.kc ? K - pc : bl.kc;
            const size_t depth = packed_depth(ar, kc);
            float beta_pass = pc == 0 ? beta : 1.0f;   /* later passes accumulate onto the first */
            if (!direct_b) {
                ar->pack_b[trans_b != 0](B, ldb, pc, jc, kc, nc, Bp);
                if (rnd) round_bf16(Bp, (size_t)round_up(nc, nr) * depth);
            }
            for (int ic = 0; ic < M; ic += bl.mc) {
                int mc = M - ic < bl.mc ? M - ic : bl.mc;
                if (!direct_a) {
                    ar->pack_a[trans_a != 0](A, lda, ic, pc, mc, kc, Ap);
                    if (rnd) round_bf16(Ap, (size_t)round_up(mc, mr) * depth);
                }
                for (int ir = 0; ir < mc; ir += mr) {
                    const float *a = !direct_a ? Ap + (size_t)ir * depth
                                   : trans_a ? A + (size_t)pc * lda + ic + ir : A + (size_t)(ic + ir) * lda + pc;
                    for (int jr = 0; jr < nc; jr += nr) {
                        const float *b = direct_b ? B + (size_t)pc * ldb + jc + jr : Bp + (size_t)jr * depth;
                        ar->kernel(kc, a, a_rs, a_ks, b, b_ks, C + (size_t)(ic + ir) * ldc + jc + jr, ldc,
                                   mc - ir < mr ? mc - ir : mr, nc - jr < nr ? nc - jr : nr, alpha, beta_pass);
                    }
                }
            }
        }
    }
    pack_buf_give(pb);
}

#ifdef _OPENMP
/* The work of the busiest thread when C is cut into nt slabs of whole tiles along M (or N), in
 * multiply-adds: its padded tiles, plus its packing at ~24 multiply-adds per element copied. A thread
 * re-packs its rows of A once per NC block of its columns, and packs all of its columns of B. */
static double slab_cost(const mc_gemm_arch *ar, int rnd, int trans_b, int M, int N, int K, int nt, int along_m)
{
    int m = along_m ? ceil_div(ceil_div(M, ar->mr), nt) * ar->mr : M;
    int n = along_m ? N : ceil_div(ceil_div(N, ar->nr), nt) * ar->nr;
    if (m > M) m = M;
    if (n > N) n = N;
    blocking bl = block_sizes(ar, m, n, K);
    double work = (double)round_up(m, ar->mr) * round_up(n, ar->nr) * K;
    double packed_a = a_in_place(ar, rnd, n) ? 0 : (double)m * K * ceil_div(n, bl.nc);
    double packed_b = b_in_place(ar, rnd, trans_b, m) ? 0 : (double)K * n;
    return work + 24 * (packed_a + packed_b);
}
#endif

/* A C only a few columns wide (the decoder's 3-d output, the encoder's 3-d input) would fill a handful
 * of the NR lanes. Its transpose is a few rows by M: C^T = op(B)^T op(A)^T keeps every lane busy, and
 * the result comes back through a small buffer. */
static void gemm_narrow(int trans_a, int trans_b, int M, int N, int K,
                        float alpha, const float *A, int lda, const float *B, int ldb,
                        float beta, float *C, int ldc)
{
    pack_buf *pb = pack_buf_take();
    float *ct = grow(&pb->t, &pb->tcap, (size_t)N * M);
    mc_gemm(!trans_b, !trans_a, N, M, K, 1.0f, B, ldb, A, lda, 0.0f, ct, M);   /* ct is N x M */
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        if (beta == 0) for (int j = 0; j < N; j++) c[j] = alpha * ct[(size_t)j * M + i];
        else           for (int j = 0; j < N; j++) c[j] = alpha * ct[(size_t)j * M + i] + beta * c[j];
    }
    pack_buf_give(pb);
}

void mc_gemm(int trans_a, int trans_b, int M, int N, int K,
             float alpha, const float *A, int lda, const float *B, int ldb,
             float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || alpha == 0) {
        for (int i = 0; i < M; i++) {
            float *c = C + (size_t)i * ldc;
            for (int j = 0; j < N; j++) c[j] = beta == 0 ? 0 : beta * c[j];
        }
        return;
    }
    if (N <= 4 && M >= 64) {
        gemm_narrow(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    const kernel_choice *choice = current_choice();
    const mc_gemm_arch *ar = choice->fp32;
    int rnd = 0;
    if (mc_gemm_get_precision() == MC_GEMM_BF16 && !is_coordinate_layer(M, N, K)) {
        ar = choice->bf16;
        rnd = ar->kpack == 1;
    }
    int nt = 1;
#ifdef _OPENMP
    if ((double)M * N * K >= (1 << 19) && !omp_in_parallel()) nt = omp_get_max_threads();
#endif
    const int tm = ceil_div(M, ar->mr), tn = ceil_div(N, ar->nr);
    if (nt > (tm > tn ? tm : tn)) nt = tm > tn ? tm : tn;
    if (nt <= 1) {
        gemm_serial(ar, rnd, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
#ifdef _OPENMP
    const int split_m = slab_cost(ar, rnd, trans_b, M, N, K, nt, 1) <= slab_cost(ar, rnd, trans_b, M, N, K, nt, 0);
    #pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), n_threads = omp_get_num_threads();
        /* rows are cut evenly (a short tile costs in proportion to its rows: 800 rows run as 2 x 400,
         * not 406 + 394); columns at whole 16-wide vectors */
        int unit = split_m ? 1 : 16, units = split_m ? M : ceil_div(N, 16), dim = split_m ? M : N;
        int lo = (int)((long)units * t / n_threads) * unit, hi = (int)((long)units * (t + 1) / n_threads) * unit;
        if (hi > dim) hi = dim;
        if (lo < hi) {
            if (split_m)
                gemm_serial(ar, rnd, trans_a, trans_b, hi - lo, N, K, alpha,
                            trans_a ? A + lo : A + (size_t)lo * lda, lda, B, ldb,
                            beta, C + (size_t)lo * ldc, ldc);
            else
                gemm_serial(ar, rnd, trans_a, trans_b, M, hi - lo, K, alpha, A, lda,
                            trans_b ? B + (size_t)lo * ldb : B + lo, ldb,
                            beta, C + lo, ldc);
        }
    }
#endif
}
