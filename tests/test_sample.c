/* Surface sampling and normalisation: uniform by area (chi-square on a square cut into very unequal
 * triangles, moments inside one triangle), point clouds, index subsets, and the unit-ball transform. */
#include "tests/harness.h"
#include "mesh/sample.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static char err[MC_ERRLEN];

static void test_uniform_square(void)
{
    /* The unit square as a fan around a point near one corner: areas 0.015, 0.49, 0.485, 0.01. */
    float v[15] = { 0.02f, 0.03f, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0 };
    int f[12] = { 0, 1, 2, 0, 2, 3, 0, 3, 4, 0, 4, 1 };
    mc_mesh m = { v, f, 5, 4 };
    CHECK(test_close(mc_mesh_area(&m), 1.0, 1e-6, 0), "area %g", mc_mesh_area(&m));
    enum { N = 200000, G = 8 };
    float *p = malloc(N * 3 * sizeof(float));
    mc_rng rng;
    mc_rng_seed(&rng, 1);
    CHECK(mc_mesh_sample(&m, N, &rng, p, err) == 0, "sample: %s", err);
    int count[G * G] = { 0 }, outside = 0;
    for (int i = 0; i < N; i++) {
        float x = p[3 * i], y = p[3 * i + 1];
        if (x < 0 || x > 1 || y < 0 || y > 1 || p[3 * i + 2] != 0) { outside++; continue; }
        count[(int)fminf(x * G, G - 1) * G + (int)fminf(y * G, G - 1)]++;
    }
    CHECK(outside == 0, "%d samples off the square", outside);
    double chi2 = 0, expect = (double)N / (G * G);
    for (int i = 0; i < G * G; i++) chi2 += (count[i] - expect) * (count[i] - expect) / expect;
    /* 63 degrees of freedom: the 0.1% critical value is about 103. */
    CHECK(chi2 < 103, "chi-square %.1f over 64 cells: not uniform over the area", chi2);
    free(p);
}

static void test_triangle_moments(void)
{
    /* Inside one triangle, uniform points have the centroid as mean and known second moments. */
    float v[9] = { 0, 0, 0, 4, 0, 0, 1, 3, 0 };
    int f[3] = { 0, 1, 2 };
    mc_mesh m = { v, f, 3, 1 };
    enum { N = 100000 };
    float *p = malloc(N * 3 * sizeof(float));
    mc_rng rng;
    mc_rng_seed(&rng, 2);
    mc_mesh_sample(&m, N, &rng, p, err);
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    for (int i = 0; i < N; i++) {
        double x = p[3 * i], y = p[3 * i + 1];
        sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y;
    }
    /* E[x x^T] = (sum_i v_i v_i^T + (sum_i v_i)(sum_i v_i)^T) / 12 */
    double Exx = (0 + 16 + 1 + 25) / 12.0, Eyy = (0 + 0 + 9 + 9) / 12.0, Exy = (0 + 0 + 3 + 15) / 12.0;
    CHECK(test_close(sx / N, 5.0 / 3, 0, 0.01), "mean x %g", sx / N);
    CHECK(test_close(sy / N, 1.0, 0, 0.01), "mean y %g", sy / N);
    CHECK(test_close(sxx / N, Exx, 0.01, 0), "E[xx] %g vs %g", sxx / N, Exx);
    CHECK(test_close(syy / N, Eyy, 0.01, 0), "E[yy] %g vs %g", syy / N, Eyy);
    CHECK(test_close(sxy / N, Exy, 0.01, 0), "E[xy] %g vs %g", sxy / N, Exy);
    free(p);
}

static void test_area_weights(void)
{
    /* Two far-apart triangles, areas 1:999: the share of samples follows the areas (5 sigma). */
    float v[18] = { 0, 0, 0, 1, 0, 0, 0, 2, 0, 10, 0, 0, 10 + 999, 0, 0, 10, 2, 0 };
    int f[6] = { 0, 1, 2, 3, 4, 5 };
    mc_mesh m = { v, f, 6, 2 };
    enum { N = 100000 };
    float *p = malloc(N * 3 * sizeof(float));
    mc_rng rng;
    mc_rng_seed(&rng, 3);
    mc_mesh_sample(&m, N, &rng, p, err);
    int small = 0;
    for (int i = 0; i < N; i++) small += p[3 * i] < 5;
    double q = 1.0 / 1000, sd = sqrt(N * q * (1 - q));
    CHECK(fabs(small - N * q) < 5 * sd, "%d samples on the small triangle, expected %.0f", small, N * q);
    /* A zero-area triangle is never picked. */
    float w[12] = { 0, 0, 0, 1, 0, 0, 2, 0, 0, 0, 1, 0 };
    int g[6] = { 0, 1, 2, 0, 1, 3 };
    mc_mesh z = { w, g, 4, 2 };
    mc_mesh_sample(&z, 1000, &rng, p, err);
    int on_line = 0;
    for (int i = 0; i < 1000; i++) on_line += p[3 * i] > 1.0f;
    CHECK(on_line == 0, "%d samples on a zero-area triangle", on_line);
    free(p);
}

static void test_point_cloud_and_indices(void)
{
    float v[30];
    for (int i = 0; i < 30; i++) v[i] = (float)i;
    mc_mesh cloud = { v, NULL, 10, 0 };
    float p[3 * 25];
    mc_rng rng;
    mc_rng_seed(&rng, 4);
    CHECK(mc_mesh_sample(&cloud, 7, &rng, p, err) == 0, "cloud: %s", err);
    int seen[10] = { 0 }, dup = 0, bad = 0;
    for (int i = 0; i < 7; i++) {
        int k = (int)p[3 * i] / 3;
        if (k < 0 || k >= 10 || p[3 * i] != 3 * k || p[3 * i + 1] != 3 * k + 1) bad++;
        else dup += seen[k]++ > 0;
    }
    CHECK(!bad && !dup, "point cloud sample: %d not points of the cloud, %d repeats", bad, dup);
    mc_mesh_sample(&cloud, 25, &rng, p, err);
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 25; i++) seen[(int)p[3 * i] / 3]++;
    int missing = 0;
    for (int k = 0; k < 10; k++) missing += seen[k] == 0;
    CHECK(missing == 0, "oversampling a cloud missed %d of its points", missing);

    int idx[50];
    mc_sample_indices(&rng, 50, 50, idx);
    int hit[50] = { 0 }, ok = 1;
    for (int i = 0; i < 50; i++) ok &= idx[i] >= 0 && idx[i] < 50 && !hit[idx[i]]++;
    CHECK(ok, "a full draw is a permutation");

    mc_mesh empty = { 0 };
    CHECK(mc_mesh_sample(&empty, 5, &rng, p, err) != 0 && strstr(err, "empty"), "empty mesh: %s", err);
    float flat[9] = { 0, 0, 0, 1, 1, 1, 2, 2, 2 };
    int tri[3] = { 0, 1, 2 };
    mc_mesh line = { flat, tri, 3, 1 };
    CHECK(mc_mesh_sample(&line, 5, &rng, p, err) != 0 && strstr(err, "zero"), "zero area: %s", err);
}

static void test_normalise(void)
{
    enum { N = 1000 };
    float p[3 * N], q[3 * N];
    mc_rng rng;
    mc_rng_seed(&rng, 5);
    for (int i = 0; i < N; i++) {
        p[3 * i] = 3 + 2 * (float)mc_rng_normal(&rng);
        p[3 * i + 1] = -7 + 0.5f * (float)mc_rng_normal(&rng);
        p[3 * i + 2] = 100 + (float)mc_rng_uniform(&rng);
    }
    memcpy(q, p, sizeof p);
    mc_xform t = mc_unit_ball(p, N);
    mc_xform_points(&t, p, N);
    double c[3] = { 0, 0, 0 }, rmax = 0;
    for (int i = 0; i < N; i++) {
        double r = 0;
        for (int k = 0; k < 3; k++) c[k] += p[3 * i + k] / N, r += p[3 * i + k] * p[3 * i + k];
        rmax = fmax(rmax, sqrt(r));
    }
    CHECK(fabs(c[0]) < 1e-5 && fabs(c[1]) < 1e-5 && fabs(c[2]) < 1e-5, "unit ball centroid (%g %g %g)", c[0], c[1], c[2]);
    CHECK(test_close(rmax, 1, 1e-5, 0), "unit ball radius %g", rmax);
    t = mc_unit_box(q, N);
    mc_xform_points(&t, q, N);
    float lo[3], hi[3];
    mc_mesh m = { q, NULL, N, 0 };
    mc_mesh_bounds(&m, lo, hi);
    double d2 = 0;
    for (int k = 0; k < 3; k++) {
        CHECK(fabsf(lo[k] + hi[k]) < 1e-5f, "box not centred on axis %d", k);
        d2 += (hi[k] - lo[k]) * (hi[k] - lo[k]);
    }
    CHECK(test_close(sqrt(d2) / 2, 1, 1e-5, 0), "box half-diagonal %g", sqrt(d2) / 2);
    /* A single point stays put rather than dividing by zero. */
    float one[3] = { 1, 2, 3 };
    t = mc_unit_ball(one, 1);
    mc_xform_points(&t, one, 1);
    CHECK(one[0] == 0 && one[1] == 0 && one[2] == 0 && isfinite(t.scale), "single point");
}

static void test_deterministic(void)
{
    float v[9] = { 0, 0, 0, 1, 0, 0, 0, 1, 0 };
    int f[3] = { 0, 1, 2 };
    mc_mesh m = { v, f, 3, 1 };
    float a[300], b[300];
    mc_rng r1, r2;
    mc_rng_seed(&r1, 42);
    mc_rng_seed(&r2, 42);
    mc_mesh_sample(&m, 100, &r1, a, err);
    mc_mesh_sample(&m, 100, &r2, b, err);
    CHECK(!memcmp(a, b, sizeof a), "same seed, same samples");
}

int main(void)
{
    test_uniform_square();
    test_triangle_moments();
    test_area_weights();
    test_point_cloud_and_indices();
    test_normalise();
    test_deterministic();
    return test_summary("test_sample");
}
