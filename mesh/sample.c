#include "mesh/sample.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* No fused multiply-adds: the same samples from every compiler and machine. GCC in ISO C mode does not
 * contract anyway, and does not know the pragma. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

void mc_sample_indices(mc_rng *rng, int n, int from, int *idx)
{
    /* A partial Fisher-Yates shuffle: the first k of a random permutation are a uniform k-subset. */
    int k = n < from ? n : from;
    int *perm = mc_malloc((size_t)from * sizeof(int));
    for (int i = 0; i < from; i++) perm[i] = i;
    for (int i = 0; i < k; i++) {
        int j = i + mc_rng_int(rng, from - i), t = perm[i];
        perm[i] = perm[j], perm[j] = t;
        idx[i] = perm[i];
    }
    for (int i = k; i < n; i++) idx[i] = mc_rng_int(rng, from);
    free(perm);
}

int mc_mesh_sample(const mc_mesh *m, int n, mc_rng *rng, float *out, char *err)
{
    if (m->nverts == 0) { mc_set_err(err, "cannot sample an empty mesh"); return 1; }
    if (m->nfaces == 0) {
        int *idx = mc_malloc((size_t)(n > 0 ? n : 1) * sizeof(int));
        mc_sample_indices(rng, n, m->nverts, idx);
        for (int i = 0; i < n; i++) memcpy(out + 3 * (size_t)i, m->verts + 3 * (size_t)idx[i], 3 * sizeof(float));
        free(idx);
        return 0;
    }
    double *cum = mc_malloc((size_t)m->nfaces * sizeof(double)), total = 0;
    for (int f = 0; f < m->nfaces; f++) {
        const int *t = m->faces + 3 * (size_t)f;
        const float *a = m->verts + 3 * (size_t)t[0], *b = m->verts + 3 * (size_t)t[1], *c = m->verts + 3 * (size_t)t[2];
        double u[3], v[3];
        for (int k = 0; k < 3; k++) u[k] = b[k] - a[k], v[k] = c[k] - a[k];
        double x = u[1] * v[2] - u[2] * v[1], y = u[2] * v[0] - u[0] * v[2], z = u[0] * v[1] - u[1] * v[0];
        total += 0.5 * sqrt(x * x + y * y + z * z);
        cum[f] = total;
    }
    if (!(total > 0 && isfinite(total))) {
        free(cum);
        mc_set_err(err, "cannot sample a mesh with zero (or infinite) surface area");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        /* The first triangle whose cumulative area exceeds r: zero-area triangles are never chosen. */
        double r = mc_rng_uniform(rng) * total;
        int lo = 0, hi = m->nfaces - 1;
        while (lo < hi) {
            int mid = lo + (hi - lo) / 2;
            if (cum[mid] > r) hi = mid; else lo = mid + 1;
        }
        /* Uniform in the triangle: with s = sqrt(u1), weights (1 - s, s(1 - u2), s u2). */
        double s = sqrt(mc_rng_uniform(rng)), u2 = mc_rng_uniform(rng);
        double wa = 1 - s, wb = s * (1 - u2), wc = s * u2;
        const int *t = m->faces + 3 * (size_t)lo;
        const float *a = m->verts + 3 * (size_t)t[0], *b = m->verts + 3 * (size_t)t[1], *c = m->verts + 3 * (size_t)t[2];
        for (int k = 0; k < 3; k++) out[3 * (size_t)i + k] = (float)(wa * a[k] + wb * b[k] + wc * c[k]);
    }
    free(cum);
    return 0;
}

mc_xform mc_unit_ball(const float *points, int n)
{
    mc_xform t = { { 0, 0, 0 }, 1 };
    double c[3] = { 0, 0, 0 }, r2 = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) c[k] += points[3 * (size_t)i + k];
    for (int k = 0; k < 3; k++) t.center[k] = n ? (float)(c[k] / n) : 0;
    for (int i = 0; i < n; i++) {
        double d2 = 0;
        for (int k = 0; k < 3; k++) {
            double d = points[3 * (size_t)i + k] - t.center[k];
            d2 += d * d;
        }
        if (d2 > r2) r2 = d2;
    }
    if (r2 > 0) t.scale = (float)(1 / sqrt(r2));
    return t;
}

mc_xform mc_unit_box(const float *points, int n)
{
    mc_xform t = { { 0, 0, 0 }, 1 };
    if (n == 0) return t;
    float lo[3], hi[3];
    for (int k = 0; k < 3; k++) lo[k] = hi[k] = points[k];
    for (int i = 1; i < n; i++)
        for (int k = 0; k < 3; k++) {
            float v = points[3 * (size_t)i + k];
            lo[k] = v < lo[k] ? v : lo[k];
            hi[k] = v > hi[k] ? v : hi[k];
        }
    double d2 = 0;
    for (int k = 0; k < 3; k++) {
        t.center[k] = 0.5f * (lo[k] + hi[k]);
        d2 += (double)(hi[k] - lo[k]) * (hi[k] - lo[k]);
    }
    if (d2 > 0) t.scale = (float)(2 / sqrt(d2));
    return t;
}

void mc_xform_points(const mc_xform *t, float *points, int n)
{
    for (size_t i = 0; i < (size_t)n; i++)
        for (int k = 0; k < 3; k++) points[3 * i + k] = (points[3 * i + k] - t->center[k]) * t->scale;
}

void mc_xform_mesh(const mc_xform *t, mc_mesh *m) { mc_xform_points(t, m->verts, m->nverts); }
