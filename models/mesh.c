/* Meshes from a trained decoder: each patch's template connectivity (a grid on the square, an icosphere
 * on the sphere: mc_mesh_icosphere) carried onto its decoded vertices, and the patches merged. */
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
    mc_mesh sphere;
    mc_mesh_icosphere(level, &sphere);
    *t = (template_mesh){sphere.verts, sphere.faces, sphere.nverts, sphere.nfaces};
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
    int prev_grad = mc_set_grad_enabled(0), prev_train = mc_set_training(0);
    mc_mark mark = mc_step_mark();
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
    mc_step_rewind(mark);
    mc_set_training(prev_train);
    mc_set_grad_enabled(prev_grad);
    free(t.verts); free(t.faces);
}
