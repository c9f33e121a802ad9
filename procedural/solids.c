#include "procedural/solids.h"
#include <math.h>
#include <stdlib.h>


mc_vec3 mc_v3_normalize(mc_vec3 a)
{
    double n = sqrt(mc_v3_dot(a, a));
    return n > 0 ? mc_v3_scale(a, 1 / n) : a;
}

static mc_vec3 centroid(const mc_vec3 *p, int k)
{
    mc_vec3 c = { 0, 0, 0 };
    for (int i = 0; i < k; i++) c = mc_v3_add(c, p[i]);
    return mc_v3_scale(c, 1.0 / k);
}

/* Quads between ring r and ring r+1 (mod nrings when the loft loops). */
static int add_rings(mc_meshbuf *b, const mc_vec3 *rings, int nrings, int k, int loop)
{
    int base = b->m.nverts;
    for (int i = 0; i < nrings * k; i++) mc_meshbuf_vert(b, (float)rings[i].x, (float)rings[i].y, (float)rings[i].z);
    for (int r = 0; r < (loop ? nrings : nrings - 1); r++)
        for (int i = 0; i < k; i++) {
            int a = base + r * k + i, c = base + r * k + (i + 1) % k;
            int a1 = base + (r + 1) % nrings * k + i, c1 = base + (r + 1) % nrings * k + (i + 1) % k;
            mc_meshbuf_tri(b, a, c, c1);
            mc_meshbuf_tri(b, a, c1, a1);
        }
    return base;
}

void mc_loft_loop(mc_meshbuf *b, const mc_vec3 *rings, int nrings, int k) { add_rings(b, rings, nrings, k, 1); }

void mc_loft(mc_meshbuf *b, const mc_vec3 *rings, int nrings, int k, const mc_vec3 *apex0, const mc_vec3 *apex1)
{
    int base = add_rings(b, rings, nrings, k, 0);
    mc_vec3 c0 = apex0 ? *apex0 : centroid(rings, k), c1 = apex1 ? *apex1 : centroid(rings + (nrings - 1) * k, k);
    int s = mc_meshbuf_vert(b, (float)c0.x, (float)c0.y, (float)c0.z), e = mc_meshbuf_vert(b, (float)c1.x, (float)c1.y, (float)c1.z);
    int last = base + (nrings - 1) * k;
    for (int i = 0; i < k; i++) {
        mc_meshbuf_tri(b, s, base + (i + 1) % k, base + i);
        mc_meshbuf_tri(b, e, last + i, last + (i + 1) % k);
    }
}

static mc_vec3 *lathe_rings(const double *profile, int n, int k)
{
    mc_vec3 *rings = mc_malloc((size_t)n * k * sizeof *rings);
    for (int r = 0; r < n; r++)
        for (int i = 0; i < k; i++) {
            double a = 2 * MC_PI * i / k;   /* from +z toward +x: counter-clockwise about +y */
            rings[r * k + i] = mc_v3(profile[2 * r] * sin(a), profile[2 * r + 1], profile[2 * r] * cos(a));
        }
    return rings;
}

void mc_lathe(mc_meshbuf *b, const double *profile, int n, int k)
{
    /* Ends on the axis become the loft's apexes; a flat end's centroid is on the axis anyway. */
    int first = profile[0] == 0, last = profile[2 * (n - 1)] == 0 ? n - 2 : n - 1;
    mc_vec3 *rings = lathe_rings(profile + 2 * first, last - first + 1, k);
    mc_vec3 p0 = mc_v3(0, profile[1], 0), p1 = mc_v3(0, profile[2 * n - 1], 0);
    mc_loft(b, rings, last - first + 1, k, first ? &p0 : NULL, last < n - 1 ? &p1 : NULL);
    free(rings);
}

void mc_lathe_loop(mc_meshbuf *b, const double *profile, int n, int k)
{
    mc_vec3 *rings = lathe_rings(profile, n, k);
    mc_loft_loop(b, rings, n, k);
    free(rings);
}

void mc_box(mc_meshbuf *b, mc_vec3 lo, mc_vec3 hi)
{
    /* Corner i has x from bit 0, y from bit 1, z from bit 2; each face listed counter-clockwise from outside. */
    static const int quads[6][4] = { { 0, 4, 6, 2 }, { 1, 3, 7, 5 }, { 0, 1, 5, 4 },
                                     { 2, 6, 7, 3 }, { 0, 2, 3, 1 }, { 4, 5, 7, 6 } };
    int base = b->m.nverts;
    for (int i = 0; i < 8; i++)
        mc_meshbuf_vert(b, (float)(i & 1 ? hi.x : lo.x), (float)(i & 2 ? hi.y : lo.y), (float)(i & 4 ? hi.z : lo.z));
    for (int f = 0; f < 6; f++) {
        const int *q = quads[f];
        mc_meshbuf_tri(b, base + q[0], base + q[1], base + q[2]);
        mc_meshbuf_tri(b, base + q[0], base + q[2], base + q[3]);
    }
}

void mc_tube(mc_meshbuf *b, const mc_vec3 *path, const double *radius, int n, int k)
{
    /* Rings stay perpendicular to the path; their frame is carried along without twisting. */
    mc_vec3 *rings = mc_malloc((size_t)n * k * sizeof *rings), u = { 0, 0, 0 };
    for (int i = 0; i < n; i++) {
        mc_vec3 t = mc_v3_normalize(mc_v3_sub(path[i + 1 < n ? i + 1 : i], path[i > 0 ? i - 1 : 0]));
        if (i == 0) u = fabs(t.x) < 0.9 ? mc_v3(1, 0, 0) : mc_v3(0, 1, 0);
        u = mc_v3_normalize(mc_v3_sub(u, mc_v3_scale(t, mc_v3_dot(u, t))));
        mc_vec3 v = mc_v3_cross(t, u);
        for (int j = 0; j < k; j++) {
            double a = 2 * MC_PI * j / k;
            mc_vec3 off = mc_v3_add(mc_v3_scale(u, radius[i] * cos(a)), mc_v3_scale(v, radius[i] * sin(a)));
            rings[i * k + j] = mc_v3_add(path[i], off);
        }
    }
    mc_loft(b, rings, n, k, NULL, NULL);
    free(rings);
}

void mc_place(mc_meshbuf *b, int v0, int f0, mc_frame f)
{
    for (int i = v0; i < b->m.nverts; i++) {
        float *p = b->m.verts + 3 * (size_t)i;
        mc_vec3 q = mc_v3_add(mc_v3_add(f.origin, mc_v3_scale(f.x, p[0])), mc_v3_add(mc_v3_scale(f.y, p[1]), mc_v3_scale(f.z, p[2])));
        p[0] = (float)q.x, p[1] = (float)q.y, p[2] = (float)q.z;
    }
    if (mc_v3_dot(f.x, mc_v3_cross(f.y, f.z)) < 0)
        for (int i = f0; i < b->m.nfaces; i++) {
            int *t = b->m.faces + 3 * (size_t)i, s = t[1];
            t[1] = t[2], t[2] = s;
        }
}

mc_frame mc_frame_at(mc_vec3 origin) { return (mc_frame){ origin, { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } }; }

mc_frame mc_frame_rot(mc_vec3 origin, mc_vec3 axis, double angle)
{
    /* Rodrigues: the images of the unit axes are the frame's columns. */
    mc_vec3 k = mc_v3_normalize(axis), e[3] = { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };
    double c = cos(angle), s = sin(angle);
    for (int i = 0; i < 3; i++)
        e[i] = mc_v3_add(mc_v3_add(mc_v3_scale(e[i], c), mc_v3_scale(mc_v3_cross(k, e[i]), s)),
                         mc_v3_scale(k, mc_v3_dot(k, e[i]) * (1 - c)));
    return (mc_frame){ origin, e[0], e[1], e[2] };
}

void mc_mirror_x(mc_meshbuf *b, int v0, int f0)
{
    int nv = b->m.nverts, nf = b->m.nfaces, shift = nv - v0;
    for (int i = v0; i < nv; i++) {
        const float *p = b->m.verts + 3 * (size_t)i;
        float x = p[0], y = p[1], z = p[2];   /* copied: adding a vertex may move the array */
        mc_meshbuf_vert(b, -x, y, z);
    }
    for (int i = f0; i < nf; i++) {
        const int *t = b->m.faces + 3 * (size_t)i;
        int a = t[0], c = t[1], d = t[2];
        mc_meshbuf_tri(b, a + shift, d + shift, c + shift);
    }
}
