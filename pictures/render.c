#include "pictures/render.h"
#include "tensor/tensor.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const uint8_t mc_color_input[3] = {140, 162, 196};   /* grey-blue */
const uint8_t mc_color_recon[3] = {240, 140, 60};    /* orange */

void mc_palette(int i, uint8_t rgb[3])
{
    static const uint8_t colors[12][3] = {
        {76, 120, 168}, {245, 133, 24}, {84, 162, 75}, {228, 87, 86}, {114, 183, 178}, {238, 202, 59},
        {178, 121, 162}, {255, 157, 166}, {157, 117, 93}, {186, 176, 172}, {102, 194, 235}, {170, 205, 90}};
    i %= 12;
    memcpy(rgb, colors[i < 0 ? i + 12 : i], 3);
}

mc_render_opts mc_render_defaults(void)
{
    mc_render_opts o = {.azimuth = 45, .elevation = 25, .fov = 30, .supersample = 3};
    memcpy(o.color, mc_color_input, 3);
    return o;
}

/* ---- small vector helpers ---- */
static float dot3(const float *a, const float *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
static void cross3(const float *a, const float *b, float *out)
{
    out[0] = a[1] * b[2] - a[2] * b[1];
    out[1] = a[2] * b[0] - a[0] * b[2];
    out[2] = a[0] * b[1] - a[1] * b[0];
}
static void normalize3(float *v)
{
    float n = sqrtf(dot3(v, v));
    if (n > 0) { v[0] /= n; v[1] /= n; v[2] /= n; }
}

/* The camera sits on a sphere around the origin looking at it. Camera space: x right, y up, z away
 * from the eye (depth). The shape is first mapped by p -> (p - centre) * scale. */
typedef struct camera {
    float eye[3], right[3], up[3], fwd[3];
    float centre[3], scale;
    float cx, cy, focal;   /* focal: samples per unit at depth 1 (perspective) or per unit (orthographic) */
    int ortho;
} camera;

static void camera_setup(camera *c, const mc_render_opts *o, const mc_mesh *m, int w, int h)
{
    const float deg = 3.14159265f / 180;
    float az = o->azimuth * deg, el = o->elevation * deg;
    float half_fov = (o->fov > 1 && o->fov < 170 ? o->fov : 30) * 0.5f * deg;
    float dist = 1 / sinf(half_fov);   /* the unit ball just fills the view */
    c->ortho = !(o->fov > 0);
    c->cx = 0.5f * w;
    c->cy = 0.5f * h;
    float half = 0.43f * (w < h ? w : h);   /* a margin around the unit ball */
    c->focal = c->ortho ? half : half / tanf(half_fov);
    c->centre[0] = c->centre[1] = c->centre[2] = 0;
    c->scale = 1;

    float lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY}, r2 = 0;
    int fit = o->fit;
    for (int i = 0; fit && i < m->nverts; i++)
        for (int k = 0; k < 3; k++) {
            float v = m->verts[3 * i + k];
            if (isfinite(v)) { lo[k] = fminf(lo[k], v); hi[k] = fmaxf(hi[k], v); }
        }
    fit = fit && lo[0] <= hi[0] && lo[1] <= hi[1] && lo[2] <= hi[2];
    float dir[3] = {cosf(el) * sinf(az), sinf(el), cosf(el) * cosf(az)};
    if (fit && o->frame) {
        /* Turn the view towards the widest side: a flat shape seen edge-on is a line (a sword's blade
         * from the three-quarter view). Looking along d, the box's faces show areas A_k |d_k| (A_k the
         * area of the faces normal to axis k); the view weights each component of the requested
         * direction by sqrt(A_k), halfway between it and the d that shows the most area (d ~ A).
         * A cube keeps the requested view; the change is continuous in the extents, so a shape and its
         * reconstruction get nearly the same view. */
        float e[3], len = 0;
        for (int k = 0; k < 3; k++) e[k] = fmaxf(hi[k] - lo[k], 1e-6f * (hi[0] - lo[0] + hi[1] - lo[1] + hi[2] - lo[2]) + 1e-30f);
        for (int k = 0; k < 3; k++) { dir[k] *= sqrtf(e[(k + 1) % 3] * e[(k + 2) % 3]); len += dir[k] * dir[k]; }
        if (len > 0 && isfinite(len)) {
            for (int k = 0; k < 3; k++) dir[k] /= sqrtf(len);
            el = asinf(fminf(1, fmaxf(-1, dir[1])));
            az = atan2f(dir[0], dir[2]);
        }
    }
    for (int k = 0; k < 3; k++) { c->eye[k] = dist * dir[k]; c->fwd[k] = -dir[k]; }
    /* horizontal, so Y stays up on screen; written out rather than fwd x Y so a view from straight
     * above keeps its azimuth */
    c->right[0] = cosf(az); c->right[1] = 0; c->right[2] = -sinf(az);
    cross3(c->right, c->fwd, c->up);

    if (!fit) return;
    for (int k = 0; k < 3; k++) c->centre[k] = 0.5f * (lo[k] + hi[k]);
    for (int i = 0; i < m->nverts; i++) {
        float d[3] = {m->verts[3 * i] - c->centre[0], m->verts[3 * i + 1] - c->centre[1], m->verts[3 * i + 2] - c->centre[2]};
        if (isfinite(dot3(d, d))) r2 = fmaxf(r2, dot3(d, d));
    }
    if (!(r2 > 0)) return;
    c->scale = 1 / sqrtf(r2);
    if (!o->frame) return;
    /* A long thin shape (a sword) lies along the cell's diagonal, which is sqrt(2) longer than its
     * side: the camera rolls by up to 45 degrees as the projected aspect ratio goes from 1.5 to 3 (the
     * long axis then runs from lower left to upper right). */
    float ext[2][2] = {{INFINITY, -INFINITY}, {INFINITY, -INFINITY}};
    for (int i = 0; i < m->nverts; i++) {
        float d[3];
        for (int k = 0; k < 3; k++) d[k] = m->verts[3 * i + k] - c->centre[k];
        float x = dot3(d, c->right), y = dot3(d, c->up);
        if (!isfinite(x + y)) continue;
        ext[0][0] = fminf(ext[0][0], x); ext[0][1] = fmaxf(ext[0][1], x);
        ext[1][0] = fminf(ext[1][0], y); ext[1][1] = fmaxf(ext[1][1], y);
    }
    float wx = ext[0][1] - ext[0][0], wy = ext[1][1] - ext[1][0];
    float aspect = wx > wy ? wx / wy : wy / wx;   /* NaN or infinite for a point or a line: fmaxf/fminf clamp */
    float roll = 0.78539816f * fminf(1, fmaxf(0, (aspect - 1.5f) / 1.5f)) * (wy > wx ? 1 : -1);
    if (roll != 0) {
        float cr = cosf(roll), sr = sinf(roll), right[3], up[3];
        for (int k = 0; k < 3; k++) {
            right[k] = cr * c->right[k] + sr * c->up[k];
            up[k] = -sr * c->right[k] + cr * c->up[k];
        }
        memcpy(c->right, right, sizeof right);
        memcpy(c->up, up, sizeof up);
    }
    /* Fill the cell with the shape's projected extent instead of its bounding ball (a long thin shape
     * fills a small part of its ball's disc): the largest scale s at which every vertex stays inside,
     * s |x| <= t (dist + s depth) with t = tan(half fov) in perspective, s |x| <= 1 orthographic. At
     * most twice the ball's scale, which keeps every point well in front of the eye. */
    float s = 2 * c->scale, t = tanf(half_fov);
    for (int i = 0; i < m->nverts; i++) {
        float d[3];
        for (int k = 0; k < 3; k++) d[k] = m->verts[3 * i + k] - c->centre[k];
        float q[3] = {dot3(d, c->right), dot3(d, c->up), dot3(d, c->fwd)};   /* camera space */
        if (!isfinite(q[0] + q[1] + q[2])) continue;
        for (int a = 0; a < 2; a++) {
            float x = fabsf(q[a]), lim = c->ortho ? (x > 0 ? 1 / x : INFINITY)
                                                  : (x - t * q[2] > 0 ? t * dist / (x - t * q[2]) : INFINITY);
            s = fminf(s, lim);
        }
    }
    c->scale = fmaxf(s, c->scale);
}

/* A direction in world space to camera space. */
static void to_camera(const camera *c, const float *v, float *out)
{
    out[0] = dot3(v, c->right);
    out[1] = dot3(v, c->up);
    out[2] = dot3(v, c->fwd);
}

/* A point to (sample x, sample y, depth) and its camera-space position q. */
static void project(const camera *c, const float *p, float out[3], float q[3])
{
    float d[3];
    for (int k = 0; k < 3; k++) d[k] = (p[k] - c->centre[k]) * c->scale - c->eye[k];
    to_camera(c, d, q);
    float s = c->ortho ? c->focal : c->focal / q[2];
    out[0] = c->cx + s * q[0];
    out[1] = c->cy - s * q[1];
    out[2] = q[2];
}

/* ---- shading: a key light from the upper left, a weak fill from the right, ambient, a soft highlight.
 * Normals are in camera space and already turned towards the eye (two-sided lighting). ---- */
static void shade(const float n[3], const uint8_t base[3], uint8_t out[3])
{
    static const float key[3] = {-0.4618f, 0.6926f, -0.5541f}, fill[3] = {0.5970f, -0.0995f, -0.7960f};
    static const float halfway[3] = {-0.2450f, 0.3675f, -0.8970f};   /* between key and the eye */
    float k = 0.30f + 0.62f * fmaxf(0, dot3(n, key)) + 0.22f * fmaxf(0, dot3(n, fill));
    float spec = 0.18f * powf(fmaxf(0, dot3(n, halfway)), 40);
    for (int c = 0; c < 3; c++) {
        float v = base[c] * k + 255 * spec;
        out[c] = (uint8_t)(v > 255 ? 255 : v);
    }
}

/* The supersampled frame: depth and colour per sample. */
typedef struct raster {
    int w, h, ss;
    float *depth;   /* INFINITY where nothing was drawn */
    uint8_t *rgb;
    camera cam;
} raster;

static float rmin3(float a, float b, float c) { return fminf(a, fminf(b, c)); }
static float rmax3(float a, float b, float c) { return fmaxf(a, fmaxf(b, c)); }
/* A sample coordinate as an index in [lo, hi]; NaN and far-off values are clamped before the cast. */
static int clampi(float v, int lo, int hi) { return v >= (float)lo ? (v <= (float)hi ? (int)v : hi) : lo; }

/* For each face, bit e set when its edge e (from corner e to corner e+1) is drawn as a wire: with patch
 * ids, an edge on an open border or between two patches; without, every edge. */
typedef struct edge { int a, b, face, slot; } edge;

static int edge_cmp(const void *pa, const void *pb)
{
    const edge *x = pa, *y = pb;
    return x->a != y->a ? (x->a > y->a) - (x->a < y->a) : (x->b > y->b) - (x->b < y->b);
}

static uint8_t *wire_edges(const mc_mesh *m, const int *patch_id)
{
    uint8_t *flags = mc_calloc((size_t)m->nfaces, 1);
    if (!patch_id) { memset(flags, 7, (size_t)m->nfaces); return flags; }
    size_t n = (size_t)m->nfaces * 3;
    edge *e = mc_malloc(n * sizeof *e);
    for (int f = 0; f < m->nfaces; f++)
        for (int k = 0; k < 3; k++) {
            int a = m->faces[3 * f + k], b = m->faces[3 * f + (k + 1) % 3];
            e[3 * (size_t)f + k] = (edge){a < b ? a : b, a < b ? b : a, f, k};
        }
    qsort(e, n, sizeof *e, edge_cmp);
    for (size_t i = 0, j; i < n; i = j) {
        int border = 0;
        for (j = i + 1; j < n && e[j].a == e[i].a && e[j].b == e[i].b; j++)
            if (patch_id[e[j].face] != patch_id[e[i].face]) border = 1;
        if (j - i == 1 || border)
            for (size_t k = i; k < j; k++) flags[e[k].face] |= (uint8_t)(1 << e[k].slot);
    }
    free(e);
    return flags;
}

static void draw_faces(raster *r, const mc_mesh *m, const int *patch_id, const mc_render_opts *o)
{
    const camera *c = &r->cam;
    float *screen = mc_malloc(sizeof(float) * 3 * (size_t)m->nverts), *normals = NULL;
    for (int i = 0; i < m->nverts; i++) {
        float q[3];
        project(c, m->verts + 3 * i, screen + 3 * i, q);
    }
    if (o->smooth) {   /* area-weighted vertex normals: the unnormalised cross products add up */
        normals = mc_calloc((size_t)m->nverts * 3, sizeof(float));
        for (int f = 0; f < m->nfaces; f++) {
            const int *t = m->faces + 3 * f;
            float u[3], v[3], n[3];
            for (int k = 0; k < 3; k++) {
                u[k] = m->verts[3 * t[1] + k] - m->verts[3 * t[0] + k];
                v[k] = m->verts[3 * t[2] + k] - m->verts[3 * t[0] + k];
            }
            cross3(u, v, n);
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 3; k++) normals[3 * t[j] + k] += n[k];
        }
    }
    uint8_t *wire = o->wire ? wire_edges(m, patch_id) : NULL;
    const float wire_half = 0.6f * r->ss;   /* each side of a shared edge: lines about 1.2 pixels wide */

    for (int f = 0; f < m->nfaces; f++) {
        const int *t = m->faces + 3 * f;
        for (int k = 0; k < 3; k++)
            if (t[k] < 0 || t[k] >= m->nverts)
                mc_fatal("mc_render_mesh: face %d refers to vertex %d of %d", f, t[k], m->nverts);
        const float *A = screen + 3 * t[0], *B = screen + 3 * t[1], *C = screen + 3 * t[2];
        if (!(A[2] > 0.05f && B[2] > 0.05f && C[2] > 0.05f)) continue;   /* behind the eye, or NaN */
        float area = (B[0] - A[0]) * (C[1] - A[1]) - (B[1] - A[1]) * (C[0] - A[0]);
        if (!(fabsf(area) > 1e-9f)) continue;

        /* face normal, turned towards the eye */
        float u[3], v[3], nw[3], n[3], mid[3], q[3], tmp[3];
        for (int k = 0; k < 3; k++) {
            u[k] = m->verts[3 * t[1] + k] - m->verts[3 * t[0] + k];
            v[k] = m->verts[3 * t[2] + k] - m->verts[3 * t[0] + k];
            mid[k] = (m->verts[3 * t[0] + k] + m->verts[3 * t[1] + k] + m->verts[3 * t[2] + k]) / 3;
        }
        cross3(u, v, nw);
        normalize3(nw);
        to_camera(c, nw, n);
        project(c, mid, tmp, q);
        float flip = dot3(n, q) > 0 ? -1.f : 1.f;
        for (int k = 0; k < 3; k++) n[k] *= flip;

        uint8_t base[3], flat[3], dark[3];
        if (patch_id) mc_palette(patch_id[f], base);
        else memcpy(base, o->color, 3);
        shade(n, base, flat);
        for (int k = 0; k < 3; k++) dark[k] = (uint8_t)(base[k] * 0.2f);   /* darker than any shaded face */
        int wires = wire ? wire[f] : 0;
        /* a sample's distance to edge e is its barycentric weight of the opposite corner times that
         * corner's height over the edge */
        float len[3] = {hypotf(B[0] - A[0], B[1] - A[1]), hypotf(C[0] - B[0], C[1] - B[1]), hypotf(A[0] - C[0], A[1] - C[1])};

        int x0 = clampi(floorf(rmin3(A[0], B[0], C[0])), 0, r->w - 1), x1 = clampi(ceilf(rmax3(A[0], B[0], C[0])), 0, r->w - 1);
        int y0 = clampi(floorf(rmin3(A[1], B[1], C[1])), 0, r->h - 1), y1 = clampi(ceilf(rmax3(A[1], B[1], C[1])), 0, r->h - 1);
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++) {
                float px = x + 0.5f, py = y + 0.5f;
                float wa = ((B[0] - px) * (C[1] - py) - (B[1] - py) * (C[0] - px)) / area;
                float wb = ((C[0] - px) * (A[1] - py) - (C[1] - py) * (A[0] - px)) / area;
                float wc = 1 - wa - wb;
                if (wa < 0 || wb < 0 || wc < 0) continue;
                float z = c->ortho ? wa * A[2] + wb * B[2] + wc * C[2] : 1 / (wa / A[2] + wb / B[2] + wc / C[2]);
                size_t idx = (size_t)y * r->w + x;
                if (!(z < r->depth[idx])) continue;
                r->depth[idx] = z;
                uint8_t *dst = r->rgb + 3 * idx;
                float h2 = fabsf(area);   /* twice the triangle's area in samples */
                if (((wires & 1) && wc * h2 / len[0] < wire_half) || ((wires & 2) && wa * h2 / len[1] < wire_half) ||
                    ((wires & 4) && wb * h2 / len[2] < wire_half)) {
                    memcpy(dst, dark, 3);
                } else if (normals) {
                    float ns[3], nc[3];
                    for (int k = 0; k < 3; k++)
                        ns[k] = wa * normals[3 * t[0] + k] + wb * normals[3 * t[1] + k] + wc * normals[3 * t[2] + k];
                    to_camera(c, ns, nc);
                    if (dot3(nc, n) < 0) for (int k = 0; k < 3; k++) nc[k] = -nc[k];
                    normalize3(nc);
                    shade(nc, base, dst);
                } else {
                    memcpy(dst, flat, 3);
                }
            }
    }
    free(wire);
    free(normals);
    free(screen);
}

/* Points become small shaded spheres: each splat's normal and depth come from its disc. */
static void draw_points(raster *r, const mc_mesh *m, const int *patch_id, const mc_render_opts *o)
{
    const camera *c = &r->cam;
    float radius = o->point_radius > 0 ? o->point_radius : 1.1f / sqrtf((float)m->nverts);
    radius = o->point_radius > 0 ? radius : fminf(0.04f, fmaxf(0.006f, radius));
    for (int i = 0; i < m->nverts; i++) {
        float s[3], q[3];
        project(c, m->verts + 3 * i, s, q);
        if (!(s[2] > 0.05f) || !isfinite(s[0]) || !isfinite(s[1])) continue;
        float rp = c->ortho ? c->focal * radius : c->focal * radius / s[2];
        rp = fmaxf(rp, 0.75f * r->ss);
        uint8_t base[3];
        if (patch_id) mc_palette(patch_id[i], base);
        else memcpy(base, o->color, 3);
        int x0 = clampi(floorf(s[0] - rp), 0, r->w - 1), x1 = clampi(ceilf(s[0] + rp), 0, r->w - 1);
        int y0 = clampi(floorf(s[1] - rp), 0, r->h - 1), y1 = clampi(ceilf(s[1] + rp), 0, r->h - 1);
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++) {
                float dx = (x + 0.5f - s[0]) / rp, dy = (y + 0.5f - s[1]) / rp, d2 = dx * dx + dy * dy;
                if (d2 >= 1) continue;
                float nz = sqrtf(1 - d2), z = s[2] - radius * nz;
                size_t idx = (size_t)y * r->w + x;
                if (!(z < r->depth[idx])) continue;
                r->depth[idx] = z;
                float n[3] = {dx, -dy, -nz};
                shade(n, base, r->rgb + 3 * idx);
            }
    }
}

void mc_render_mesh(mc_image *img, int x0, int y0, int w, int h, const mc_mesh *m, const int *patch_id,
                    const mc_render_opts *opts)
{
    mc_render_opts o = opts ? *opts : mc_render_defaults();
    if (w < 1 || h < 1 || m->nverts < 1) return;
    raster r;
    r.ss = o.supersample < 1 ? 1 : o.supersample > 4 ? 4 : o.supersample;
    r.w = w * r.ss;
    r.h = h * r.ss;
    size_t n = (size_t)r.w * r.h;
    r.depth = mc_malloc(n * sizeof(float));
    r.rgb = mc_malloc(n * 3);
    for (size_t i = 0; i < n; i++) r.depth[i] = INFINITY;
    camera_setup(&r.cam, &o, m, r.w, r.h);

    if (m->nfaces > 0) draw_faces(&r, m, patch_id, &o);
    else draw_points(&r, m, patch_id, &o);

    /* average the samples of each pixel; samples with nothing drawn keep what the picture had */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int px = x0 + x, py = y0 + y;
            if (px < 0 || py < 0 || px >= img->w || py >= img->h) continue;
            uint8_t *dst = img->rgb + ((size_t)py * img->w + px) * 3;
            int sum[3] = {0, 0, 0}, covered = 0;
            for (int j = 0; j < r.ss; j++)
                for (int i = 0; i < r.ss; i++) {
                    size_t idx = (size_t)(y * r.ss + j) * r.w + x * r.ss + i;
                    if (r.depth[idx] == INFINITY) continue;
                    covered++;
                    for (int k = 0; k < 3; k++) sum[k] += r.rgb[3 * idx + k];
                }
            int total = r.ss * r.ss;
            for (int k = 0; k < 3; k++) dst[k] = (uint8_t)((sum[k] + (total - covered) * dst[k] + total / 2) / total);
        }
    free(r.depth);
    free(r.rgb);
}

static int find_root(int *parent, int i)
{
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
}

int mc_mesh_pieces(const mc_mesh *m, int *face_piece)
{
    int *parent = mc_malloc(sizeof(int) * (size_t)(m->nverts > 0 ? m->nverts : 1));
    for (int i = 0; i < m->nverts; i++) parent[i] = i;
    for (int f = 0; f < m->nfaces; f++) {
        int a = find_root(parent, m->faces[3 * f]);
        for (int k = 1; k < 3; k++) {
            int b = find_root(parent, m->faces[3 * f + k]);
            if (a != b) parent[b] = a;
        }
    }
    /* number the pieces in order of their first face */
    int *id = mc_malloc(sizeof(int) * (size_t)(m->nverts > 0 ? m->nverts : 1)), count = 0;
    for (int i = 0; i < m->nverts; i++) id[i] = -1;
    for (int f = 0; f < m->nfaces; f++) {
        int root = find_root(parent, m->faces[3 * f]);
        if (id[root] < 0) id[root] = count++;
        face_piece[f] = id[root];
    }
    free(id);
    free(parent);
    return count;
}

/* ---- contact sheets ---- */
static const uint8_t sheet_bg[3] = {255, 255, 255}, cell_bg[3] = {244, 245, 247}, label_fg[3] = {60, 60, 66};

void mc_sheet_init(mc_sheet *s, int count, int cols, int cell, int labels)
{
    if (count < 1) count = 1;
    if (cols < 1) cols = 1;
    if (cols > count) cols = count;
    if (cell < 16) cell = 16;
    s->count = count;
    s->cols = cols;
    s->rows = (count + cols - 1) / cols;
    s->cell = cell;
    s->gap = cell / 24 < 4 ? 4 : cell / 24;
    s->label_scale = cell >= 200 ? 2 : 1;
    s->label_h = labels ? (MC_FONT_H + 4) * s->label_scale : 0;
    s->img = mc_image_new(cols * cell + (cols + 1) * s->gap, s->rows * (cell + s->label_h) + (s->rows + 1) * s->gap);
    mc_image_fill(s->img, sheet_bg);
}

void mc_sheet_draw(mc_sheet *s, int i, const mc_mesh *m, const int *patch_id, const mc_render_opts *opts,
                   const char *label)
{
    if (i < 0 || i >= s->rows * s->cols) mc_fatal("mc_sheet_draw: cell %d of a %dx%d sheet", i, s->rows, s->cols);
    int x = s->gap + (i % s->cols) * (s->cell + s->gap), y = s->gap + (i / s->cols) * (s->cell + s->label_h + s->gap);
    mc_fill_rect(s->img, x, y, s->cell, s->cell, cell_bg);
    mc_render_mesh(s->img, x, y, s->cell, s->cell, m, patch_id, opts);
    if (!label || !s->label_h) return;

    /* too long: keep the start and the end, which usually tell files apart, around ".." */
    char text[256];
    int fit = (s->cell + 1) / (MC_FONT_ADVANCE * s->label_scale), len = (int)strlen(label);
    if (fit > (int)sizeof text - 1) fit = (int)sizeof text - 1;
    if (len <= fit) snprintf(text, sizeof text, "%s", label);
    else if (fit < 5) snprintf(text, sizeof text, "%.*s", fit, label);
    else {
        int tail = (fit - 2) / 2, head = fit - 2 - tail;
        snprintf(text, sizeof text, "%.*s..%s", head, label, label + len - tail);
    }
    int tw = mc_text_width(text, s->label_scale);
    mc_draw_text(s->img, x + (s->cell - tw) / 2, y + s->cell + 2 * s->label_scale, s->label_scale, text, label_fg);
}

void mc_sheet_free(mc_sheet *s)
{
    mc_image_free(s->img);
    s->img = NULL;
}
