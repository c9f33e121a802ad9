/* Triangle meshes and point clouds: the one in-memory form every reader, writer, sampler, generator and
 * renderer shares. Vertices are xyz float triples; faces are triples of vertex indices. */
#ifndef MACHE_MESH_H
#define MACHE_MESH_H
#include "tensor/tensor.h"

typedef struct mc_mesh {
    float *verts;   /* nverts * 3 */
    int   *faces;   /* nfaces * 3, each index in [0, nverts) */
    int    nverts, nfaces;   /* nfaces == 0: a point cloud */
} mc_mesh;

void mc_mesh_free(mc_mesh *m);               /* frees the arrays and zeroes the struct */

/* Read a mesh by extension (.obj .off .ply .stl, case-insensitive). Returns 0, or non-zero with one
 * line in err: "FILE:LINE: what is wrong (hint)". The mesh is left empty on error. */
int mc_mesh_load(const char *path, mc_mesh *m, char *err);
/* Write by extension (.obj .ply); a mesh with no faces is written as a point cloud. Atomic. */
int mc_mesh_save(const char *path, const mc_mesh *m, char *err);

#endif
