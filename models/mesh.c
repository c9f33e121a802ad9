/* Meshes from a trained decoder: each patch's template connectivity (a grid on the square, an icosphere
 * on the sphere) carried onto its decoded vertices, and the patches merged. */
#include "models/atlasnet.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct { float *verts; int *faces; int nv, nf; } template_mesh;   /* verts: dim floats each */

static void square_grid(int side, template_mesh *t)
{
    t->nv = side * side;
    t->nf = 2 * (side - 1) * (side - 1);
    t->verts = mc_malloc((size_t)t->nv * 2 * sizeof(float));
    t->faces = mc_malloc((size_t)t->nf * 3 * sizeof(int));
    for (int i = 0; i < side; i++)
        for (int j = 0; j < side; j++) {
            t->verts[2 * (i * side + j)] = (float)i / (side - 1);
            t->verts[2 * (i * side + j) + 1] = (float)j / (side - 1);
        }
    int *f = t->faces;
    for (int i = 0; i + 1 < side; i++)
        for (int j = 0; j + 1 < side; j++) {
            int a = i * side + j, b = a + 1, c = a + side, d = c + 1;
            *f++ = a; *f++ = c; *f++ = b;
            *f++ = b; *f++ = c; *f++ = d;
        }
}

/* Icosphere: an icosahedron whose faces are split in four `level` times, new vertices pushed onto the
 * unit sphere. Edge midpoints are shared through a small open-addressing table keyed by the edge. */
typedef struct { int64_t key; int vertex; } edge_slot;

static int midpoint(template_mesh *t, edge_slot *table, int64_t cap, int a, int b)
{
    int64_t lo = a < b ? a : b, hi = a < b ? b : a, key = lo * 0x100000 + hi + 1;
    int64_t h = (key * 0x9E3779B97F4A7C15LL) & (cap - 1);
    while (table[h].key && table[h].key != key) h = (h + 1) & (cap - 1);
    if (table[h].key) return table[h].vertex;
    float *v = t->verts + 3 * t->nv, *p = t->verts + 3 * a, *q = t->verts + 3 * b;
    float x = p[0] + q[0], y = p[1] + q[1], z = p[2] + q[2], r = sqrtf(x * x + y * y + z * z);
    v[0] = x / r; v[1] = y / r; v[2] = z / r;
    table[h].key = key;
    table[h].vertex = t->nv;
    return t->nv++;
}

static void icosphere(int level, template_mesh *t)
{
    const float g = 1.6180339887f;
    const float base[12][3] = {{-1, g, 0}, {1, g, 0}, {-1, -g, 0}, {1, -g, 0}, {0, -1, g}, {0, 1, g},
                               {0, -1, -g}, {0, 1, -g}, {g, 0, -1}, {g, 0, 1}, {-g, 0, -1}, {-g, 0, 1}};
    const int faces[20][3] = {{0, 11, 5}, {0, 5, 1}, {0, 1, 7}, {0, 7, 10}, {0, 10, 11}, {1, 5, 9}, {5, 11, 4},
                              {11, 10, 2}, {10, 7, 6}, {7, 1, 8}, {3, 9, 4}, {3, 4, 2}, {3, 2, 6}, {3, 6, 8},
                              {3, 8, 9}, {4, 9, 5}, {2, 4, 11}, {6, 2, 10}, {8, 6, 7}, {9, 8, 1}};
    int max_v = 10 * (1 << (2 * level)) + 2, max_f = 20 * (1 << (2 * level));
    t->verts = mc_malloc((size_t)max_v * 3 * sizeof(float));
    t->faces = mc_malloc((size_t)max_f * 3 * sizeof(int));
    for (int k = 0; k < 12; k++) {
        float r = sqrtf(base[k][0] * base[k][0] + base[k][1] * base[k][1] + base[k][2] * base[k][2]);
        for (int d = 0; d < 3; d++) t->verts[3 * k + d] = base[k][d] / r;
    }
    memcpy(t->faces, faces, sizeof faces);
    t->nv = 12; t->nf = 20;
    int64_t cap = 1;
    while (cap < 4LL * max_v) cap <<= 1;
    edge_slot *table = mc_calloc((size_t)cap, sizeof *table);
    int *next = mc_malloc((size_t)max_f * 3 * sizeof(int));
    for (int l = 0; l < level; l++) {
        memset(table, 0, (size_t)cap * sizeof *table);
        int nf = 0;
        for (int f = 0; f < t->nf; f++) {
            int a = t->faces[3 * f], b = t->faces[3 * f + 1], c = t->faces[3 * f + 2];
            int ab = midpoint(t, table, cap, a, b), bc = midpoint(t, table, cap, b, c), ca = midpoint(t, table, cap, c, a);
            int tri[4][3] = {{a, ab, ca}, {b, bc, ab}, {c, ca, bc}, {ab, bc, ca}};
            memcpy(next + 3 * nf, tri, sizeof tri);
            nf += 4;
        }
        memcpy(t->faces, next, (size_t)nf * 3 * sizeof(int));
        t->nf = nf;
    }
    free(next); free(table);
}

static void template_for(const atlas_config *c, int resolution, template_mesh *t)
{
    int per_patch = resolution / c->patches;
    if (!c->sphere) {
        int side = (int)floor(sqrt((double)per_patch));
        square_grid(side < 2 ? 2 : side, t);
        return;
    }
    int level = 0;
    while (level < 8 && 10 * (1 << (2 * (level + 1))) + 2 <= per_patch) level++;
    icosphere(level, t);
}

int atlas_mesh_faces(const atlasnet *m, int resolution)
{
    template_mesh t;
    template_for(&m->cfg, resolution, &t);
    free(t.verts); free(t.faces);
    return t.nf * m->cfg.patches;
}

void atlas_mesh(atlasnet *m, const float *z, int resolution, mc_mesh *out, int *patch_of_face)
{
    const atlas_config *c = &m->cfg;
    template_mesh t;
    template_for(c, resolution, &t);
    int dim = atlas_template_dim(c);
    int prev_grad = mc_set_grad_enabled(0), prev_train = mc_training();
    mc_set_training(0);
    mc_tensor *zt = mc_tensor_from(2, (int[]){1, c->latent}, z);
    mc_tensor **templates = mc_arena_alloc((size_t)c->patches * sizeof *templates);
    for (int k = 0; k < c->patches; k++) templates[k] = mc_tensor_from(3, (int[]){1, t.nv, dim}, t.verts);
    mc_tensor *surface = atlas_decode(m, zt, templates);           /* (1, K*nv, 3) */
    out->nverts = c->patches * t.nv;
    out->nfaces = c->patches * t.nf;
    out->verts = mc_malloc((size_t)out->nverts * 3 * sizeof(float));
    out->faces = mc_malloc((size_t)out->nfaces * 3 * sizeof(int));
    memcpy(out->verts, surface->data, (size_t)out->nverts * 3 * sizeof(float));
    for (int k = 0; k < c->patches; k++)
        for (int f = 0; f < t.nf; f++) {
            for (int d = 0; d < 3; d++) out->faces[3 * ((int64_t)k * t.nf + f) + d] = k * t.nv + t.faces[3 * f + d];
            if (patch_of_face) patch_of_face[(int64_t)k * t.nf + f] = k;
        }
    mc_step_end();
    mc_set_training(prev_train);
    mc_set_grad_enabled(prev_grad);
    free(t.verts); free(t.faces);
}
