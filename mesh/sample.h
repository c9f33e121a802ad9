/* Surface sampling and normalisation: how a mesh becomes the point cloud a model sees. Sampling is
 * uniform over the surface area; normalisation follows AtlasNet (into the unit ball by default). */
#ifndef MACHE_SAMPLE_H
#define MACHE_SAMPLE_H
#include "mesh/mesh.h"

/* n points uniformly over the surface into out (n,3): a triangle is picked with probability proportional
 * to its area (binary search on the cumulative areas), then a uniform point in it. A point cloud
 * (nfaces == 0) gives its own points instead, as mc_sample_indices picks them. Fails on an empty mesh or
 * one with zero area. */
int mc_mesh_sample(const mc_mesh *m, int n, mc_rng *rng, float *out, char *err);

/* n indices into [0, from): all different when n <= from, otherwise every index once and then repeats. */
void mc_sample_indices(mc_rng *rng, int n, int from, int *idx);

/* A similarity transform, p' = (p - center) * scale, so a mesh can follow its normalised points. */
typedef struct mc_xform { float center[3]; float scale; } mc_xform;

/* AtlasNet's default: centre at the centroid of the points, then divide by the largest norm. */
mc_xform mc_unit_ball(const float *points, int n);
/* Centre of the bounding box, then divide by its half-diagonal (so the box fits in the unit ball). */
mc_xform mc_unit_box(const float *points, int n);
void mc_xform_points(const mc_xform *t, float *points, int n);
void mc_xform_mesh(const mc_xform *t, mc_mesh *m);

#endif
