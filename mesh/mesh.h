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
/* The unit icosphere: an icosahedron with its faces split in four `level` times (10 * 4^level + 2
 * vertices, 20 * 4^level faces). */
void mc_mesh_icosphere(int level, mc_mesh *m);

/* Read a mesh by extension (.obj .off .ply .stl, case-insensitive). Returns 0, or non-zero with one
 * line in err: "FILE:LINE: what is wrong (hint)". The mesh is left empty on error.
 * Polygons are triangulated as fans, degenerate triangles dropped, STL's repeated corners merged. */
int mc_mesh_load(const char *path, mc_mesh *m, char *err);
/* Write by extension (.obj .ply); a mesh with no faces is written as a point cloud. Atomic: the file is
 * written beside the target, synced, then renamed over it, so a crash never leaves half a mesh. */
int mc_mesh_save(const char *path, const mc_mesh *m, char *err);

enum { MC_MESH_UNKNOWN = 0, MC_MESH_OBJ, MC_MESH_OFF, MC_MESH_PLY, MC_MESH_STL };
int         mc_mesh_format(const char *path);       /* by extension; MC_MESH_UNKNOWN if none of ours */
const char *mc_mesh_format_name(int format);        /* "obj", "off", "ply", "stl" */
/* Parse a file already in memory (the readers' core; the fuzzers call it). buf needs no terminator;
 * name only appears in messages. Same contract as mc_mesh_load. */
int mc_mesh_parse(const char *name, const char *buf, size_t len, int format, mc_mesh *m, char *err);

double mc_mesh_area(const mc_mesh *m);                         /* total surface area */
void   mc_mesh_bounds(const mc_mesh *m, float lo[3], float hi[3]);  /* zeros for an empty mesh */

#endif
