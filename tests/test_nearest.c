/* Nearest neighbours: the SIMD and portable paths against brute force in double, on sizes around the
 * tile, vector and block widths, with and without indices, and the metrics built on them. */
#include "tests/harness.h"
#include "tensor/nearest.h"
#include "tensor/tensor.h"
#include "models/metrics.h"
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int check_against_brute_force(const float *a, int na, const float *b, int nb)
{
    float *da = malloc((size_t)na * sizeof *da), *db = malloc((size_t)nb * sizeof *db);
    int *ia = malloc((size_t)na * sizeof *ia), *ib = malloc((size_t)nb * sizeof *ib), bad = 0;
    mc_nearest(a, na, b, nb, da, ia, db, ib);
    for (int pass = 0; pass < 2; pass++) {
        const float *p = pass ? b : a, *q = pass ? a : b, *dist = pass ? db : da;
        const int *idx = pass ? ib : ia;
        int np = pass ? nb : na, nq = pass ? na : nb;
        for (int i = 0; i < np; i++) {
            double best = DBL_MAX;
            for (int j = 0; j < nq; j++) {
                double dx = p[3 * i] - q[3 * j], dy = p[3 * i + 1] - q[3 * j + 1], dz = p[3 * i + 2] - q[3 * j + 2];
                best = fmin(best, dx * dx + dy * dy + dz * dz);
            }
            int j = idx[i];
            double dx = p[3 * i] - q[3 * j], dy = p[3 * i + 1] - q[3 * j + 1], dz = p[3 * i + 2] - q[3 * j + 2];
            double at = dx * dx + dy * dy + dz * dz;
            /* the minimum, and an index that attains it (ties may pick either) */
            bad += !(j >= 0 && j < nq && fabs(dist[i] - best) <= 1e-6 + 1e-5 * best && fabs(at - best) <= 1e-6 + 1e-5 * best);
        }
    }
    /* the distances alone (no indices: another kernel) are the same minima, bit for bit */
    float *da2 = malloc((size_t)na * sizeof *da2), *db2 = malloc((size_t)nb * sizeof *db2);
    mc_nearest(a, na, b, nb, da2, NULL, db2, NULL);
    bad += memcmp(da, da2, (size_t)na * sizeof *da) != 0;
    bad += memcmp(db, db2, (size_t)nb * sizeof *db) != 0;
    free(da); free(db); free(ia); free(ib); free(da2); free(db2);
    return bad;
}

int main(void)
{
    mc_rng rng;
    mc_rng_seed(&rng, 21);
    const int sizes[] = {1, 2, 15, 16, 17, 255, 256, 257, 700};
    for (int path = 0; path < 2; path++) {
        if (mc_nearest_set_simd(path)) { printf("no SIMD path on this machine: portable only\n"); continue; }
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
            for (size_t t = 0; t < sizeof sizes / sizeof *sizes; t += 2) {
                int na = sizes[s], nb = sizes[t];
                float *a = malloc((size_t)na * 3 * sizeof *a), *b = malloc((size_t)nb * 3 * sizeof *b);
                mc_rng_fill_uniform(&rng, a, 3 * na, -1, 1);
                mc_rng_fill_uniform(&rng, b, 3 * nb, -1, 1);
                if (nb > 3) b[3] = a[0], b[4] = a[1], b[5] = a[2];    /* an exact match: distance 0 */
                int bad = check_against_brute_force(a, na, b, nb);
                CHECK(bad == 0, "%s path, %d vs %d points: %d wrong minima", path ? "SIMD" : "portable", na, nb, bad);
                free(a); free(b);
            }
    }
    mc_nearest_set_simd(1);

    /* Chamfer of a set with itself is 0; F-score 1; a shifted copy gives twice the squared shift. */
    float a[300], b[300];
    mc_rng_fill_uniform(&rng, a, 300, -1, 1);
    for (int k = 0; k < 300; k++) b[k] = a[k] + (k % 3 == 0 ? 10.0f : 0);
    double f;
    CHECK(mc_chamfer_pair(a, 100, a, 100, 1e-3, &f) == 0 && f == 1, "self Chamfer 0 and F-score 1");
    CHECK(test_close(mc_chamfer_pair(a, 1, b, 1, 1e-3, &f), 200, 1e-5, 0) && f == 0, "a point and its copy 10 away: Chamfer 2 x 10^2, F-score 0");

    /* Generation metrics: a set against itself covers everything, MMD 0; 1-NNA of two disjoint
     * clusters is 100%, of two samples of one distribution near 50%. Data from a generator of their own
     * (the same on machines with and without the SIMD path), with enough points per cloud that sampling
     * noise does not swamp the differences between shapes; both paths must give the same figures. */
    enum { S = 12, N = 256 };
    mc_rng_seed(&rng, 22);
    float *g = malloc(S * N * 3 * sizeof *g), *r = malloc(S * N * 3 * sizeof *r), *far = malloc(S * N * 3 * sizeof *far);
    for (int s = 0; s < S; s++) mc_rng_fill_uniform(&rng, g + s * N * 3, N * 3, -1 - 0.25f * s, 1 + 0.25f * s);
    for (int s = 0; s < S; s++) mc_rng_fill_uniform(&rng, r + s * N * 3, N * 3, -1 - 0.25f * s, 1 + 0.25f * s);
    for (int k = 0; k < S * N * 3; k++) far[k] = g[k] + 5;
    generation_metrics first = {0};
    for (int path = 1; path >= 0; path--) {
        if (mc_nearest_set_simd(path)) continue;
        const char *name = path ? "SIMD" : "portable";
        generation_metrics same = mc_generation_metrics(g, S, g, S, N);
        CHECK(same.mmd_cd == 0 && same.cov_cd == 100, "%s: a set against itself: MMD %g, COV %g", name, same.mmd_cd, same.cov_cd);
        generation_metrics apart = mc_generation_metrics(g, S, far, S, N);
        CHECK(apart.nna_cd == 100 && apart.mmd_cd > 10, "%s: disjoint sets: 1-NNA %g, MMD %g", name, apart.nna_cd, apart.mmd_cd);
        generation_metrics alike = mc_generation_metrics(g, S, r, S, N);
        CHECK(alike.nna_cd < 80 && alike.cov_cd >= 50, "%s: two samples of one family: 1-NNA %g, COV %g", name, alike.nna_cd, alike.cov_cd);
        if (path) first = alike;
        else if (first.mmd_cd > 0)
            CHECK(first.nna_cd == alike.nna_cd && first.cov_cd == alike.cov_cd && test_close(first.mmd_cd, alike.mmd_cd, 1e-5, 0),
                  "SIMD and portable metrics differ: 1-NNA %g vs %g, COV %g vs %g", first.nna_cd, alike.nna_cd, first.cov_cd, alike.cov_cd);
    }
    mc_nearest_set_simd(1);

    /* 1-NNA's halves: six generated outliers, 3 away from the reference set along +-x, +-y, +-z, each nearer
     * the reference set than any other outlier: the generated side scores 0, the reference side 100, and
     * their mean is the ideal 50 from a useless generator */
    for (int s = 0; s < 6; s++)
        for (int k = 0; k < N * 3; k++) far[s * N * 3 + k] = r[s * N * 3 + k] + (k % 3 == s / 2 ? (s % 2 ? -3.f : 3.f) : 0.f);
    generation_metrics outliers = mc_generation_metrics(far, 6, g, 6, N);
    CHECK(outliers.nna_gen == 0 && outliers.nna_ref == 100 && outliers.nna_cd == 50, "outliers: 1-NNA %g = gen %g, ref %g",
          outliers.nna_cd, outliers.nna_gen, outliers.nna_ref);
    /* a set against itself is computed as a triangle: the same as against a copy */
    double *tri = malloc(S * S * sizeof *tri), *full = malloc(S * S * sizeof *full), nearest[S];
    int idx[S];
    memcpy(far, g, S * N * 3 * sizeof *far);
    mc_chamfer_matrix(g, S, g, S, N, tri);
    mc_chamfer_matrix(g, S, far, S, N, full);
    CHECK(!memcmp(tri, full, S * S * sizeof *tri), "Chamfer matrix of a set with itself differs from the one with its copy");
    mc_chamfer_nearest(r, S, g, S, N, nearest, idx);
    int ok = 1;
    for (int s = 0; s < S; s++)
        for (int t = 0; t < S; t++) ok &= nearest[s] <= mc_chamfer_pair(r + s * N * 3, N, g + t * N * 3, N, 0, NULL) &&
                                          nearest[s] == mc_chamfer_pair(r + s * N * 3, N, g + idx[s] * N * 3, N, 0, NULL);
    CHECK(ok, "mc_chamfer_nearest is not the minimum over the set");
    free(tri); free(full);
    free(far);
    free(g); free(r);
    return test_summary("test_nearest");
}
