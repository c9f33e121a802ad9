/* Building blocks for the procedural shapes: closed solids (lofts, lathes, boxes, tubes) appended to a
 * growing mesh, and placement of a part by a frame. Every solid is closed and wound outward. */
#ifndef MACHE_SOLIDS_H
#define MACHE_SOLIDS_H
#include "mesh/mesh_parse.h"

/* No fused multiply-adds in the generators (this header's inline helpers included): the same shapes from
 * every compiler and machine. GCC in ISO C mode does not contract anyway, and does not know the pragma. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define MC_PI 3.14159265358979323846

/* Geometry is computed in double and rounded to float only when a vertex is stored: one rounding at a
 * well-defined point keeps the shapes the same whatever the compiler does with intermediate floats. */
typedef struct mc_vec3 { double x, y, z; } mc_vec3;

static inline mc_vec3 mc_v3(double x, double y, double z) { return (mc_vec3){ x, y, z }; }
static inline mc_vec3 mc_v3_add(mc_vec3 a, mc_vec3 b) { return mc_v3(a.x + b.x, a.y + b.y, a.z + b.z); }
static inline mc_vec3 mc_v3_sub(mc_vec3 a, mc_vec3 b) { return mc_v3(a.x - b.x, a.y - b.y, a.z - b.z); }
static inline mc_vec3 mc_v3_scale(mc_vec3 a, double s) { return mc_v3(a.x * s, a.y * s, a.z * s); }
static inline mc_vec3 mc_v3_lerp(mc_vec3 a, mc_vec3 b, double t) { return mc_v3_add(a, mc_v3_scale(mc_v3_sub(b, a), t)); }
static inline double  mc_v3_dot(mc_vec3 a, mc_vec3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
static inline mc_vec3 mc_v3_cross(mc_vec3 a, mc_vec3 b)
{
    return mc_v3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x);
}
mc_vec3 mc_v3_normalize(mc_vec3 a);

/* Rings of k points, each wound counter-clockwise around the direction from one ring to the next
 * (right-hand rule), joined by quads. The ends are closed by a fan: to the given apex (a pointed end)
 * or, when the apex is NULL, to the ring's centroid (a flat end). */
void mc_loft(mc_meshbuf *b, const mc_vec3 *rings, int nrings, int k, const mc_vec3 *apex0, const mc_vec3 *apex1);
/* The same with the last ring joined back to the first: a torus-like solid with no caps. */
void mc_loft_loop(mc_meshbuf *b, const mc_vec3 *rings, int nrings, int k);

/* A solid of revolution about +Y from a profile of n (radius, height) pairs, k segments around.
 * Walk the profile from bottom to top with the material on your left (radius to the right, height up);
 * an end on the axis (radius 0) becomes a pole, otherwise the end is capped flat. */
void mc_lathe(mc_meshbuf *b, const double *profile, int n, int k);
/* A closed profile (walked counter-clockwise, off the axis) revolved into a ring: shells, tyres, tori. */
void mc_lathe_loop(mc_meshbuf *b, const double *profile, int n, int k);

void mc_box(mc_meshbuf *b, mc_vec3 lo, mc_vec3 hi);

/* Circles of the given radii swept along a polyline of n points, capped flat at both ends. */
void mc_tube(mc_meshbuf *b, const mc_vec3 *path, const double *radius, int n, int k);

/* A frame maps local (a, b, c) to origin + a*x + b*y + c*z. mc_place moves the vertices from v0 on (the
 * part just built) into the frame, and keeps the winding outward if the frame mirrors. */
typedef struct mc_frame { mc_vec3 origin, x, y, z; } mc_frame;
void mc_place(mc_meshbuf *b, int v0, int f0, mc_frame f);
mc_frame mc_frame_at(mc_vec3 origin);                                /* translation only */
mc_frame mc_frame_rot(mc_vec3 origin, mc_vec3 axis, double angle);   /* rotation about an axis, then move */
/* A copy of the part (vertices from v0, faces from f0) mirrored in x = 0. */
void mc_mirror_x(mc_meshbuf *b, int v0, int f0);

#endif
