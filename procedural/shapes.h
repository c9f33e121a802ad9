/* Procedural shapes: an unlimited, license-free stand-in for ShapeNet. Each category mixes discrete
 * styles with continuous proportions, so shape i of a category differs from shape j. The same
 * (category, index, seed) gives the same mesh everywhere: every draw comes from the portable mc_rng in a
 * fixed order, and geometry is done in double without fused multiply-adds (gcc and clang, -O0 to -O3,
 * give identical bits; only another libm could move a last bit).
 * Convention: Y is up; vehicles (plane, car) face -Z (nose/front toward -Z); swords lie along +Y with the
 * tip up; chairs face -Z (backrest toward +Z). Sizes are roughly real-world metres. */
#ifndef MACHE_PROCEDURAL_H
#define MACHE_PROCEDURAL_H
#include "mesh/mesh.h"

enum { MC_PROCEDURAL_NCATEGORIES = 7 };
/* "plane", "sword", "chair", "table", "lamp", "mug", "car" */
extern const char *const mc_procedural_categories[MC_PROCEDURAL_NCATEGORIES];

/* Shape `index` (>= 0) of a category into out (closed solids; may overlap one another). Returns 0, or
 * non-zero with err for an unknown category or a negative index. */
int mc_procedural(const char *category, int index, uint64_t seed, mc_mesh *out, char *err);

#endif
