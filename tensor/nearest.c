#include "tensor/nearest.h"
#include "tensor/tensor.h"
#include <float.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* b is walked in tiles kept in struct-of-arrays form (3 KiB, in L1) while every point of a passes over
 * it; each pair updates a's running minimum and b's. Tiles are padded to a multiple of 16 with far-away
 * points, so the vector loop needs no tail. */
enum { TILE = 256, PAD = 16 };
#define FAR 1e18f

typedef struct { float x[TILE], y[TILE], z[TILE], min[TILE]; int arg[TILE]; } tile;

static int load_tile(tile *t, const float *b, int j0, int nb)
{
    int nt = nb - j0 < TILE ? nb - j0 : TILE, padded = (nt + PAD - 1) / PAD * PAD;
    for (int j = 0; j < padded; j++) {
        int in = j < nt;
        t->x[j] = in ? b[3 * (j0 + j)] : FAR;
        t->y[j] = in ? b[3 * (j0 + j) + 1] : FAR;
        t->z[j] = in ? b[3 * (j0 + j) + 2] : FAR;
        t->min[j] = FLT_MAX;
        t->arg[j] = 0;
    }
    return nt;
}

static void tile_portable(const float *a, int na, tile *t, int nt, int j0, float *dist_a, int *idx_a)
{
    for (int i = 0; i < na; i++) {
        float ax = a[3 * i], ay = a[3 * i + 1], az = a[3 * i + 2], best = FLT_MAX;
        int arg = 0;
        for (int j = 0; j < nt; j++) {
            float dx = ax - t->x[j], dy = ay - t->y[j], dz = az - t->z[j];
            float d = dx * dx + dy * dy + dz * dz;
            if (d < best) { best = d; arg = j; }
            if (d < t->min[j]) { t->min[j] = d; t->arg[j] = i; }
        }
        if (best < dist_a[i]) { dist_a[i] = best; if (idx_a) idx_a[i] = j0 + arg; }
    }
}

#if defined(__x86_64__)
__attribute__((target("avx512f")))
static void tile_avx512(const float *a, int na, tile *t, int nt, int j0, float *dist_a, int *idx_a)
{
    int padded = (nt + PAD - 1) / PAD * PAD;
    const __m512i step = _mm512_set1_epi32(16), lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int i = 0; i < na; i++) {
        __m512 ax = _mm512_set1_ps(a[3 * i]), ay = _mm512_set1_ps(a[3 * i + 1]), az = _mm512_set1_ps(a[3 * i + 2]);
        __m512 best = _mm512_set1_ps(FLT_MAX);
        __m512i arg = _mm512_setzero_si512(), jv = lanes, iv = _mm512_set1_epi32(i);
        for (int j = 0; j < padded; j += 16, jv = _mm512_add_epi32(jv, step)) {
            __m512 dx = _mm512_sub_ps(ax, _mm512_load_ps(t->x + j)), dy = _mm512_sub_ps(ay, _mm512_load_ps(t->y + j)),
                   dz = _mm512_sub_ps(az, _mm512_load_ps(t->z + j));
            __m512 d = _mm512_fmadd_ps(dz, dz, _mm512_fmadd_ps(dy, dy, _mm512_mul_ps(dx, dx)));
            __mmask16 closer = _mm512_cmp_ps_mask(d, best, _CMP_LT_OQ);
            best = _mm512_mask_mov_ps(best, closer, d);
            arg = _mm512_mask_mov_epi32(arg, closer, jv);
            __m512 bmin = _mm512_load_ps(t->min + j);
            __mmask16 nearer = _mm512_cmp_ps_mask(d, bmin, _CMP_LT_OQ);
            _mm512_mask_store_ps(t->min + j, nearer, d);
            _mm512_mask_store_epi32(t->arg + j, nearer, iv);
        }
        float m = _mm512_reduce_min_ps(best);
        if (m < dist_a[i]) {
            dist_a[i] = m;
            if (idx_a) {
                int lane = __builtin_ctz(_mm512_cmp_ps_mask(best, _mm512_set1_ps(m), _CMP_EQ_OQ));
                int where[16];
                _mm512_storeu_si512(where, arg);
                idx_a[i] = j0 + where[lane];
            }
        }
    }
}

/* The distances alone (Chamfer's value, the generation metrics): no indices to track, so P points of a
 * share each load of b's tile and its running minima. The same arithmetic as above, so the same minima. */
__attribute__((target("avx512f"), always_inline))
static inline void block_avx512(const float *a, int P, tile *t, int padded, float *dist_a)
{
    __m512 ax[4], ay[4], az[4], best[4];
    for (int p = 0; p < P; p++) {
        ax[p] = _mm512_set1_ps(a[3 * p]); ay[p] = _mm512_set1_ps(a[3 * p + 1]); az[p] = _mm512_set1_ps(a[3 * p + 2]);
        best[p] = _mm512_set1_ps(FLT_MAX);
    }
    for (int j = 0; j < padded; j += 16) {
        __m512 bx = _mm512_load_ps(t->x + j), by = _mm512_load_ps(t->y + j), bz = _mm512_load_ps(t->z + j);
        __m512 bmin = _mm512_load_ps(t->min + j);
        for (int p = 0; p < P; p++) {
            __m512 dx = _mm512_sub_ps(ax[p], bx), dy = _mm512_sub_ps(ay[p], by), dz = _mm512_sub_ps(az[p], bz);
            __m512 d = _mm512_fmadd_ps(dz, dz, _mm512_fmadd_ps(dy, dy, _mm512_mul_ps(dx, dx)));
            best[p] = _mm512_min_ps(best[p], d);
            bmin = _mm512_min_ps(bmin, d);
        }
        _mm512_store_ps(t->min + j, bmin);
    }
    for (int p = 0; p < P; p++) {
        float m = _mm512_reduce_min_ps(best[p]);
        if (m < dist_a[p]) dist_a[p] = m;
    }
}

__attribute__((target("avx512f")))
static void tile_avx512_dist(const float *a, int na, tile *t, int nt, float *dist_a)
{
    int padded = (nt + PAD - 1) / PAD * PAD, i = 0;
    for (; i + 4 <= na; i += 4) block_avx512(a + 3 * i, 4, t, padded, dist_a + i);
    for (; i < na; i++) block_avx512(a + 3 * i, 1, t, padded, dist_a + i);
}
#endif

/* -1: not decided yet. Atomic: the first calls may come from several OpenMP threads at once. */
static _Atomic int use_simd = -1;

int mc_nearest_set_simd(int on)
{
#if defined(__x86_64__)
    if (on && !__builtin_cpu_supports("avx512f")) return 1;
    use_simd = on;
    return 0;
#else
    use_simd = 0;
    return on;
#endif
}

void mc_nearest(const float *a, int na, const float *b, int nb,
                float *dist_a, int *idx_a, float *dist_b, int *idx_b)
{
    if (use_simd < 0) {
#if defined(__x86_64__)
        use_simd = __builtin_cpu_supports("avx512f") && !getenv("MACHE_PORTABLE");
#else
        use_simd = 0;
#endif
    }
    tile *t = aligned_alloc(64, sizeof *t);
    if (!t) mc_fatal("out of memory in mc_nearest");
    for (int i = 0; i < na; i++) { dist_a[i] = FLT_MAX; if (idx_a) idx_a[i] = 0; }
    for (int j0 = 0; j0 < nb; j0 += TILE) {
        int nt = load_tile(t, b, j0, nb);
#if defined(__x86_64__)
        if (use_simd && !idx_a && !idx_b) tile_avx512_dist(a, na, t, nt, dist_a);
        else if (use_simd) tile_avx512(a, na, t, nt, j0, dist_a, idx_a);
        else
#endif
        tile_portable(a, na, t, nt, j0, dist_a, idx_a);
        memcpy(dist_b + j0, t->min, (size_t)nt * sizeof(float));
        if (idx_b) memcpy(idx_b + j0, t->arg, (size_t)nt * sizeof(int));
    }
    free(t);
}

double mc_chamfer_pair(const float *a, int na, const float *b, int nb, double threshold, double *fscore_out)
{
    float *da = mc_malloc((size_t)na * sizeof *da), *db = mc_malloc((size_t)nb * sizeof *db);
    mc_nearest(a, na, b, nb, da, NULL, db, NULL);
    double sa = 0, sb = 0;
    int ina = 0, inb = 0;
    for (int i = 0; i < na; i++) { sa += da[i]; ina += da[i] < threshold; }
    for (int j = 0; j < nb; j++) { sb += db[j]; inb += db[j] < threshold; }
    if (fscore_out) {
        /* precision: generated points near the reference; recall: reference points near the generated */
        double precision = (double)ina / na, recall = (double)inb / nb;
        *fscore_out = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
    }
    free(da); free(db);
    return sa / na + sb / nb;
}
