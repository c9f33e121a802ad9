/* Datasets: a list of shapes (mesh files under a directory, or procedural shapes), each read and
 * sampled once into a cache of points normalised to the unit ball; batches are drawn from the caches. */
#ifndef MACHE_DATASET_H
#define MACHE_DATASET_H
#include "mesh/mesh.h"
#include "mesh/sample.h"

typedef struct mc_dataset {
    int    nshapes;
    int    cache_points;    /* points cached per shape */
    float *points;          /* nshapes * cache_points * 3, each shape normalised to the unit ball */
    char **names;           /* per shape: file path, or "procedural:plane:17" */
    /* private */
    mc_xform *xform;         /* per shape: the normalisation its points went through */
    uint64_t  shape_seed;    /* the SEED of a procedural source */
    int       nskipped;      /* files that could not be read (each reported on stderr) */
} mc_dataset;

/* src: a directory (recursively: .obj .off .ply .stl; ShapeNet synset/id/model.obj and
 * synset/id/models/model_normalized.obj, ModelNet class/train|test/NAME.off, any folder of meshes), a single
 * mesh file, or "procedural:CATEGORY:COUNT[:SEED]" (CATEGORY may be "all" = every class, COUNT each).
 * split: "train", "test" or "all". Files under a folder named train or test (ModelNet) follow it; the
 * others are split per class folder (the first folder under src), sorted, first 80% train and the rest
 * test, as AtlasNet does; procedural shapes likewise per category by index. Each shape is sampled with
 * its own stream derived from seed and its name, so a shape's cache does not depend on the split.
 * A file that cannot be read is skipped with a warning on stderr; none readable is an error.
 * Returns 0 or non-zero with err. */
int  mc_dataset_open(mc_dataset *ds, const char *src, const char *split, int cache_points, uint64_t seed, char *err);
/* Random subset of npoints from each listed shape's cache (without replacement when npoints <= cache),
 * into out (n, npoints, 3). */
void mc_dataset_batch(const mc_dataset *ds, const int *idx, int n, int npoints, mc_rng *rng, float *out);
/* The mesh of shape i, normalised with the same transform as its points (for writing inputs beside reconstructions). */
int  mc_dataset_mesh(const mc_dataset *ds, int i, mc_mesh *out, char *err);
void mc_dataset_free(mc_dataset *ds);

#endif
