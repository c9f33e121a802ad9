/* Pictures of meshes and point clouds: a small z-buffer rasterizer with a fixed three-quarter camera,
 * Lambert shading and supersampling, and contact sheets that lay many shapes out on a labelled grid. */
#ifndef MACHE_RENDER_H
#define MACHE_RENDER_H
#include "pictures/image.h"
#include "mesh/mesh.h"

typedef struct mc_render_opts {
    float azimuth, elevation;  /* degrees; the camera circles the origin, Y is up */
    float fov;                 /* vertical field of view in degrees; 0 = orthographic */
    uint8_t color[3];          /* surface colour when no patch ids are given */
    int wire;                  /* dark lines: patch borders when patch ids are given, else every edge */
    int smooth;                /* interpolate vertex normals (needs consistent winding) instead of facets */
    int fit;                   /* first centre the shape and scale it into the unit ball */
    int frame;                 /* with fit: turn the camera towards the shape's widest side, lay a long
                                  thin shape along the diagonal, and scale its projected extent (not
                                  its ball) to the cell */
    float point_radius;        /* splat radius in world units for point clouds; 0 = from the count */
    int supersample;           /* samples per pixel along each axis, 1..4 */
} mc_render_opts;

/* Azimuth 45, elevation 25, fov 30, grey-blue, facets, no fit, 3x3 supersampling. */
mc_render_opts mc_render_defaults(void);

/* Colours for inputs and reconstructions, and a palette of 12 for patches (index taken modulo 12). */
extern const uint8_t mc_color_input[3], mc_color_recon[3];
void mc_palette(int i, uint8_t rgb[3]);

/* Draws m into the rectangle (x0, y0, w, h) of img over what is already there (a shape normalised to
 * the unit ball fills the rectangle with a small margin). patch_id, if not NULL, holds one id per face
 * (one per point for a point cloud) and colours by the palette. opts NULL means the defaults. */
void mc_render_mesh(mc_image *img, int x0, int y0, int w, int h, const mc_mesh *m, const int *patch_id,
                    const mc_render_opts *opts);

/* Labels each face with its connected piece (AtlasNet's patches are separate grids that share no
 * vertex, so a reconstruction read back from a file gets its patches again). Returns the count. */
int mc_mesh_pieces(const mc_mesh *m, int *face_piece);

/* A contact sheet: cells of cell x cell pixels, cols to a row, an optional label strip under each. */
typedef struct mc_sheet {
    mc_image *img;
    int count, cols, rows, cell, gap;
    int label_h, label_scale;   /* label_h 0: no labels */
} mc_sheet;

void mc_sheet_init(mc_sheet *s, int count, int cols, int cell, int labels);
/* Renders m into cell i (row-major) and writes label (may be NULL) centred under it, shortened to fit. */
void mc_sheet_draw(mc_sheet *s, int i, const mc_mesh *m, const int *patch_id, const mc_render_opts *opts,
                   const char *label);
void mc_sheet_free(mc_sheet *s);

#endif
