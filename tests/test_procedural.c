/* Procedural shapes: deterministic per (category, index, seed), different across indices and seeds,
 * closed and outward-wound, sensibly sized and oriented (y up, planes and cars toward -z). */
#include "tests/harness.h"
#include "procedural/shapes.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static char err[MC_ERRLEN];

static int cmp(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* Every directed edge appears once and its reverse once: closed parts, wound consistently. */
static int closed_and_consistent(const mc_mesh *m)
{
    int64_t n = 3 * (int64_t)m->nfaces;
    uint64_t *e = malloc((size_t)n * sizeof *e), *r = malloc((size_t)n * sizeof *r);
    for (int64_t i = 0; i < n; i++) {
        uint64_t a = (uint64_t)m->faces[i], b = (uint64_t)m->faces[i % 3 == 2 ? i - 2 : i + 1];
        e[i] = a << 32 | b;
        r[i] = b << 32 | a;
    }
    qsort(e, (size_t)n, sizeof *e, cmp);
    qsort(r, (size_t)n, sizeof *r, cmp);
    int ok = 1;
    for (int64_t i = 0; i < n && ok; i++) ok = e[i] == r[i] && (i == 0 || e[i] != e[i - 1]);
    free(e);
    free(r);
    return ok;
}

/* Signed volume of each connected part: all positive when every part is wound outward. */
static int find(int *parent, int i) { while (parent[i] != i) i = parent[i] = parent[parent[i]]; return i; }
static int parts_outward(const mc_mesh *m, int *nparts)
{
    int *parent = malloc((size_t)m->nverts * sizeof(int));
    double *vol = calloc((size_t)m->nverts, sizeof(double));
    for (int i = 0; i < m->nverts; i++) parent[i] = i;
    for (int f = 0; f < m->nfaces; f++) {
        const int *t = m->faces + 3 * f;
        parent[find(parent, t[1])] = find(parent, t[0]);
        parent[find(parent, t[2])] = find(parent, t[0]);
    }
    for (int f = 0; f < m->nfaces; f++) {
        const int *t = m->faces + 3 * f;
        const float *a = m->verts + 3 * t[0], *b = m->verts + 3 * t[1], *c = m->verts + 3 * t[2];
        vol[find(parent, t[0])] += (a[0] * ((double)b[1] * c[2] - (double)b[2] * c[1]) - a[1] * ((double)b[0] * c[2] - (double)b[2] * c[0])
                                    + a[2] * ((double)b[0] * c[1] - (double)b[1] * c[0])) / 6;
    }
    int ok = 1;
    *nparts = 0;
    for (int i = 0; i < m->nverts; i++)
        if (parent[i] == i) { ok &= vol[i] > 0; (*nparts)++; }
    free(parent);
    free(vol);
    return ok;
}

static void test_category(int c)
{
    const char *name = mc_procedural_categories[c];
    enum { N = 60 };
    float box[N][6];
    int bad_closed = 0, bad_outward = 0, bad_size = 0, bad_floor = 0, bad_orient = 0, failed = 0, minparts = 1 << 30;
    for (int i = 0; i < N; i++) {
        mc_mesh m;
        if (mc_procedural(name, i, 0, &m, err)) { failed++; CHECK(0, "%s %d: %s", name, i, err); continue; }
        float *lo = box[i], *hi = box[i] + 3;
        mc_mesh_bounds(&m, lo, hi);
        float ext[3] = { hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2] };
        float big = fmaxf(ext[0], fmaxf(ext[1], ext[2])), small = fminf(ext[0], fminf(ext[1], ext[2]));
        int nparts;
        bad_closed += !closed_and_consistent(&m);
        bad_outward += !parts_outward(&m, &nparts);
        minparts = nparts < minparts ? nparts : minparts;
        /* Real-world sizes (a mug is 10 cm, a truck 6 m), and never flat. */
        bad_size += !(big > 0.05f && big < 8 && small > 0.005f * big && m.nfaces >= 36 && mc_mesh_area(&m) > 0);
        /* Things that stand on the floor start at y = 0 (pendant lamps hang, planes and swords float). */
        if (!strcmp(name, "chair") || !strcmp(name, "table") || !strcmp(name, "mug") || !strcmp(name, "car"))
            bad_floor += fabsf(lo[1]) > 0.03f;
        /* Orientation: swords along y, planes and cars longest along z or x (wingspan), with y not the longest. */
        if (!strcmp(name, "sword")) bad_orient += ext[1] < big;
        if (!strcmp(name, "plane") || !strcmp(name, "car")) bad_orient += ext[1] >= fmaxf(ext[0], ext[2]);
        if (!strcmp(name, "car")) bad_orient += ext[2] < big;
        if (!strcmp(name, "plane")) bad_orient += fabsf(lo[2] + 0.5f) > 0.08f;   /* the nose at z = -0.5 */
        mc_mesh_free(&m);
    }
    CHECK(!failed, "%s: %d failed", name, failed);
    CHECK(!bad_closed, "%s: %d of %d shapes not closed or inconsistently wound", name, bad_closed, N);
    CHECK(!bad_outward, "%s: %d of %d shapes have a part wound inward", name, bad_outward, N);
    CHECK(!bad_size, "%s: %d of %d shapes of odd size or flat", name, bad_size, N);
    CHECK(!bad_floor, "%s: %d of %d shapes do not stand on y = 0", name, bad_floor, N);
    CHECK(!bad_orient, "%s: %d of %d shapes oriented wrongly", name, bad_orient, N);
    CHECK(minparts >= 2, "%s: built of parts (%d)", name, minparts);
    int same = 0;   /* every shape different from every other */
    for (int i = 0; i < N; i++)
        for (int j = 0; j < i; j++) same += !memcmp(box[i], box[j], sizeof box[i]);
    CHECK(same == 0, "%s: %d pairs of identical shapes among %d", name, same, N);
}

static void test_deterministic(void)
{
    for (int c = 0; c < MC_PROCEDURAL_NCATEGORIES; c++) {
        const char *name = mc_procedural_categories[c];
        mc_mesh a, b, d;
        mc_procedural(name, 17, 5, &a, err);
        mc_procedural(name, 17, 5, &b, err);
        mc_procedural(name, 17, 6, &d, err);
        CHECK(a.nverts == b.nverts && a.nfaces == b.nfaces && !memcmp(a.verts, b.verts, 12 * (size_t)a.nverts)
              && !memcmp(a.faces, b.faces, 12 * (size_t)a.nfaces), "%s: same (index, seed), same mesh", name);
        CHECK(a.nverts != d.nverts || memcmp(a.verts, d.verts, 12 * (size_t)a.nverts), "%s: another seed, another mesh", name);
        mc_mesh_free(&a);
        mc_mesh_free(&b);
        mc_mesh_free(&d);
    }
    /* Fixed shapes: their structure (counts) and proportions (bounding box) must not drift. Every draw
     * is in a fixed order and geometry is computed in double without fused multiply-adds, so gcc and clang
     * at -O0..-O3 give identical bits; the box is compared to 1e-5 to allow another libm's last bit. */
    const struct { const char *name; int index, nverts, nfaces; float lo[3], hi[3]; } golden[] = {
        { "plane", 0, 770, 1512, { -1.004225, -0.049635, -0.500000 }, { 1.004225, 0.130604, 0.523249 } },
        { "plane", 1, 824, 1608, { -0.539642, -0.177220, -0.558685 }, { 0.539642, 0.200309, 0.500000 } },
        { "sword", 0, 934, 1852, { -0.099667, -0.149308, -0.021360 }, { 0.099667, 0.716298, 0.021360 } },
        { "sword", 1, 1032, 2048, { -0.119881, -0.149033, -0.016292 }, { 0.119881, 1.025163, 0.016292 } },
        { "chair", 0, 152, 264, { -0.258103, 0.000000, -0.216008 }, { 0.258103, 0.777104, 0.242606 } },
        { "chair", 1, 160, 244, { -0.268403, 0.000000, -0.224001 }, { 0.268403, 0.915939, 0.245719 } },
        { "table", 0, 872, 1704, { -0.660831, 0.000000, -0.319088 }, { 0.660831, 0.458360, 0.319088 } },
        { "table", 1, 152, 264, { -0.571592, 0.000000, -0.371121 }, { 0.571592, 0.387605, 0.371121 } },
        { "lamp", 0, 252, 496, { -0.248396, 0.000000, -0.248396 }, { 0.248396, 1.571653, 0.248396 } },
        { "lamp", 1, 486, 944, { -0.078883, 0.000000, -0.681372 }, { 0.078883, 0.471774, 0.078883 } },
        { "mug", 0, 846, 1684, { -0.040889, 0.000000, -0.040889 }, { 0.070676, 0.104015, 0.040889 } },
        { "mug", 1, 846, 1684, { -0.047159, 0.000000, -0.047159 }, { 0.062009, 0.109853, 0.047159 } },
        { "car", 0, 2828, 5624, { -1.106129, -0.000000, -2.247650 }, { 1.106129, 1.396954, 2.247650 } },
        { "car", 1, 2828, 5624, { -1.133150, 0.000000, -2.406490 }, { 1.133150, 1.767435, 2.406490 } },
    };
    for (size_t i = 0; i < sizeof golden / sizeof golden[0]; i++) {
        mc_mesh m;
        float lo[3], hi[3];
        mc_procedural(golden[i].name, golden[i].index, 0, &m, err);
        mc_mesh_bounds(&m, lo, hi);
        int same_box = 1;
        for (int k = 0; k < 3; k++) same_box &= fabsf(lo[k] - golden[i].lo[k]) < 1e-5f && fabsf(hi[k] - golden[i].hi[k]) < 1e-5f;
        CHECK(m.nverts == golden[i].nverts && m.nfaces == golden[i].nfaces && same_box,
              "%s %d: %d vertices %d faces, box (%f %f %f)..(%f %f %f): not the shape it was",
              golden[i].name, golden[i].index, m.nverts, m.nfaces, lo[0], lo[1], lo[2], hi[0], hi[1], hi[2]);
        mc_mesh_free(&m);
    }
}

static void test_errors(void)
{
    mc_mesh m;
    CHECK(mc_procedural("boat", 0, 0, &m, err) != 0 && strstr(err, "unknown procedural category 'boat'"), "%s", err);
    CHECK(mc_procedural("plane", -1, 0, &m, err) != 0 && strstr(err, "negative"), "%s", err);
    CHECK(m.nverts == 0 && !m.verts, "left empty");
}

int main(void)
{
    for (int c = 0; c < MC_PROCEDURAL_NCATEGORIES; c++) test_category(c);
    test_deterministic();
    test_errors();
    return test_summary("test_procedural");
}
