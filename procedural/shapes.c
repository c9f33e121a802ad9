/* Procedural shapes. Each generator draws a style and proportions from its own random stream and builds
 * the shape from closed parts (procedural/solids.h): fuselages and blades are lofts of cross-sections, wings are
 * lofted airfoils, turned parts are lathes, the rest boxes and tubes. */
#include "procedural/shapes.h"
#include "procedural/solids.h"
#include <math.h>
#include <string.h>


const char *const mc_procedural_categories[MC_PROCEDURAL_NCATEGORIES] = {
    "plane", "sword", "chair", "table", "lamp", "mug", "car",
};

typedef struct gen { mc_meshbuf b; mc_rng rng; } gen;

/* The three kinds of draw: a proportion in [lo, hi), one of n styles, a yes with probability p.
 * At most one draw per function call or expression: C leaves the order of arguments unspecified (gcc and
 * clang differ), so draws go into named variables first and every compiler makes the same shape. */
static double U(gen *g, double lo, double hi) { return lo + (hi - lo) * mc_rng_uniform(&g->rng); }
static int pick(gen *g, int n) { return mc_rng_int(&g->rng, n); }
static int chance(gen *g, double p) { return mc_rng_uniform(&g->rng) < p; }
static double rad(double degrees) { return degrees * MC_PI / 180; }
static double smooth(double t) { t = t < 0 ? 0 : t > 1 ? 1 : t; return t * t * (3 - 2 * t); }

/* ---------------------------------------------------------------- parts */

/* A part built around the local +y axis, turned so that +y points along axis, then moved to origin. */
static void orient(gen *g, int v0, int f0, mc_vec3 origin, mc_vec3 axis)
{
    mc_vec3 y = mc_v3_normalize(axis), hint = fabs(y.y) < 0.9 ? mc_v3(0, 1, 0) : mc_v3(0, 0, 1);
    mc_vec3 x = mc_v3_normalize(mc_v3_cross(y, hint)), z = mc_v3_cross(x, y);
    mc_place(&g->b, v0, f0, (mc_frame){ origin, x, y, z });
}

static void lathe_at(gen *g, const double *profile, int n, int k, mc_vec3 origin, mc_vec3 axis)
{
    int v0 = g->b.m.nverts, f0 = g->b.m.nfaces;
    mc_lathe(&g->b, profile, n, k);
    orient(g, v0, f0, origin, axis);
}

static void ellipsoid(gen *g, mc_vec3 c, double rx, double ry, double rz, int k)
{
    double p[2 * 9];
    for (int i = 0; i <= 8; i++) {
        p[2 * i] = i == 0 || i == 8 ? 0.0 : sin(MC_PI * i / 8);
        p[2 * i + 1] = -cos(MC_PI * i / 8);
    }
    int v0 = g->b.m.nverts, f0 = g->b.m.nfaces;
    mc_lathe(&g->b, p, 9, k);
    mc_place(&g->b, v0, f0, (mc_frame){ c, { rx, 0, 0 }, { 0, ry, 0 }, { 0, 0, rz } });
}

/* A cylinder (or cone) from p0 to p1. */
static void rod(gen *g, mc_vec3 p0, mc_vec3 p1, double r0, double r1, int k)
{
    mc_vec3 path[2] = { p0, p1 };
    double r[2] = { r0, r1 };
    mc_tube(&g->b, path, r, 2, k);
}

/* A box of half-sizes (hx, hz) across, from p0 to p1 along its length. */
static void beam(gen *g, mc_vec3 p0, mc_vec3 p1, double hx, double hz)
{
    mc_vec3 d = mc_v3_sub(p1, p0);
    int v0 = g->b.m.nverts, f0 = g->b.m.nfaces;
    mc_box(&g->b, mc_v3(-hx, 0, -hz), mc_v3(hx, sqrt(mc_v3_dot(d, d)), hz));
    orient(g, v0, f0, p0, d);
}

static void box(gen *g, mc_vec3 c, double hx, double hy, double hz)
{
    mc_box(&g->b, mc_v3(c.x - hx, c.y - hy, c.z - hz), mc_v3(c.x + hx, c.y + hy, c.z + hz));
}

/* A tapered block from a bottom rectangle to a top one (legs, posts, pedestals): travel is upward. */
static void block(gen *g, mc_vec3 c0, double hx0, double hz0, mc_vec3 c1, double hx1, double hz1)
{
    mc_vec3 r[8];
    const int sx[4] = { 1, 1, -1, -1 }, sz[4] = { 1, -1, -1, 1 };   /* counter-clockwise about +y */
    for (int i = 0; i < 4; i++) {
        r[i] = mc_v3_add(c0, mc_v3(sx[i] * hx0, 0, sz[i] * hz0));
        r[4 + i] = mc_v3_add(c1, mc_v3(sx[i] * hx1, 0, sz[i] * hz1));
    }
    mc_loft(&g->b, r, 2, 4, NULL, NULL);
}

/* ---------------------------------------------------------------- plane (nose toward -z) */

typedef struct fuselage {
    double len, r, flat, nose, tail, tail_r, upsweep, nose_drop, nose_pow, boxy;
} fuselage;

/* Half-width of the fuselage at t in [0, 1] (nose to tail), and the height of its centre line. */
static double fus_at(const fuselage *f, double t, double *yc)
{
    double r = f->r;
    *yc = 0;
    if (t < f->nose) {
        double q = t / f->nose;
        r *= pow(q * (2 - q), f->nose_pow);
        *yc = -f->nose_drop * f->r * (1 - q) * (1 - q);
    } else if (t > 1 - f->tail) {
        double q = smooth((t - (1 - f->tail)) / f->tail);
        r += (f->tail_r - 1) * f->r * q;
        *yc = f->upsweep * f->r * q;
    }
    return r;
}

static double fus_z(const fuselage *f, double t) { return -f->len / 2 + t * f->len; }

static void build_fuselage(gen *g, const fuselage *f)
{
    enum { NS = 32, K = 16 };
    mc_vec3 rings[NS * K];
    for (int s = 0; s < NS; s++) {
        double u = 0.03 + 0.97 * s / (NS - 1), t = 0.5 - 0.5 * cos(MC_PI * u), yc;   /* denser at the ends */
        double rx = fus_at(f, t, &yc), ry = rx * f->flat;
        for (int i = 0; i < K; i++) {
            double a = 2 * MC_PI * i / K, c = cos(a), sn = sin(a), e = 2 / f->boxy;   /* superellipse */
            double x = rx * copysign(pow(fabs(c), e), c), y = ry * copysign(pow(fabs(sn), e), sn);
            rings[s * K + i] = mc_v3(x, yc + y, fus_z(f, t));   /* counter-clockwise about +z */
        }
    }
    double yc;
    fus_at(f, 0, &yc);
    mc_vec3 nose = mc_v3(0, yc, fus_z(f, 0));
    mc_loft(&g->b, rings, NS, K, &nose, NULL);
}

/* A tapered wing lofted from NACA-like sections: root leading edge at le, reaching along span (its length
 * is the semi-span), tip leading edge pushed back by sweep along +z. thick is the thickness direction,
 * chosen so that thick x (+z) points along span, which keeps the sections wound the right way. */
static void wing(gen *g, mc_vec3 le, mc_vec3 span, mc_vec3 thick, double cr, double ct, double sweep,
                 double tc, double camber)
{
    enum { N = 9, K = 2 * N - 2 };
    mc_vec3 rings[2 * K];
    for (int s = 0; s < 2; s++) {
        mc_vec3 at = mc_v3_add(le, mc_v3_add(mc_v3_scale(span, s), mc_v3(0, 0, sweep * s)));
        double c = s ? ct : cr;
        for (int j = 0; j < K; j++) {
            int i = j < N ? j : K - j;            /* upper surface LE -> TE, then lower TE -> LE */
            double x = 0.5 - 0.5 * cos(MC_PI * i / (N - 1));
            double yt = 5 * tc * (0.2969 * sqrt(x) - x * (0.126 + x * (0.3516 - x * (0.2843 - x * 0.1036))));
            double yc = camber * (x < 0.4 ? (0.8 * x - x * x) / 0.16 : (0.2 + 0.8 * x - x * x) / 0.36);
            double y = j < N ? yc + yt : yc - yt;
            rings[s * K + j] = mc_v3_add(at, mc_v3_add(mc_v3_scale(thick, y * c), mc_v3(0, 0, x * c)));
        }
    }
    mc_loft(&g->b, rings, 2, K, NULL, NULL);
}

/* Both halves of a wing or tailplane: right half built, left half mirrored. */
static void wing_pair(gen *g, mc_vec3 le, double semi, double dihedral, double cr, double ct, double sweep,
                      double tc, double camber)
{
    int v0 = g->b.m.nverts, f0 = g->b.m.nfaces;
    wing(g, le, mc_v3(semi * cos(dihedral), semi * sin(dihedral), 0), mc_v3(0, 1, 0), cr, ct, sweep, tc, camber);
    mc_mirror_x(&g->b, v0, f0);
}

/* A jet engine pod, front toward -z, centred at c. */
static void nacelle(gen *g, mc_vec3 c, double len, double r)
{
    const double p[] = { 0, 0, 0.45, 0.04, 0.8, 0.25, 1, 0.55, 1, 0.85, 0.93, 1, 0.6, 1, 0, 0.99 };
    double q[16];
    for (int i = 0; i < 8; i++) q[2 * i] = (p[2 * i] * r), q[2 * i + 1] = (p[2 * i + 1] * len);
    lathe_at(g, q, 8, 16, mc_v3_add(c, mc_v3(0, 0, len / 2)), mc_v3(0, 0, -1));
}

/* A spinner and blades at hub, facing -z. */
static void propeller(gen *g, mc_vec3 hub, double radius, int blades, double phase)
{
    double rs = radius * 0.16;
    const double p[] = { rs, 0, rs, (rs * 0.6), (rs * 0.6), (rs * 1.5),
                        0, (rs * 2.2) };
    lathe_at(g, p, 4, 12, hub, mc_v3(0, 0, -1));
    for (int i = 0; i < blades; i++) {
        int v0 = g->b.m.nverts, f0 = g->b.m.nfaces;
        mc_box(&g->b, mc_v3(-radius * 0.06, 0, -radius * 0.015), mc_v3(radius * 0.06, radius, radius * 0.015));
        mc_place(&g->b, v0, f0, mc_frame_rot(mc_v3(0, 0, 0), mc_v3(0, 1, 0), rad(25)));      /* pitch */
        mc_place(&g->b, v0, f0, mc_frame_rot(mc_v3_add(hub, mc_v3(0, 0, -rs * 0.6)), mc_v3(0, 0, 1),
                                             phase + 2 * MC_PI * i / blades));
    }
}

static void plane(gen *g)
{
    enum { AIRLINER, FIGHTER, LIGHT, CARGO, GLIDER };
    int style = pick(g, 5);
    fuselage f = { .len = 1, .flat = 1, .nose_pow = 0.5, .boxy = 2 };
    /* Wing: semi-span, root and tip chord, leading-edge sweep angle, dihedral, height on the fuselage,
     * position of the root leading edge along the fuselage (0 nose, 1 tail). */
    double semi, cr, taper, sweep, dihedral, wing_y, wing_t, tc = 0.12, camber = 0.02;
    int engines = 0, props = 0, t_tail = 0, canopy = 0, twin_fin = 0, htail = 1;
    switch (style) {
    case AIRLINER:
        f.r = U(g, 0.045, 0.065); f.nose = U(g, 0.1, 0.15); f.tail = U(g, 0.25, 0.32); f.tail_r = U(g, 0.12, 0.25);
        f.upsweep = U(g, 0.4, 0.7); f.nose_drop = U(g, 0.1, 0.3); f.flat = U(g, 1.0, 1.12);
        semi = U(g, 0.42, 0.56); cr = U(g, 0.15, 0.21); taper = U(g, 0.22, 0.38); sweep = U(g, 22, 36);
        dihedral = U(g, 3, 7); wing_y = -0.55; wing_t = U(g, 0.3, 0.42);
        engines = (int[]){ 2, 2, 4, -2 }[pick(g, 4)];   /* -2: two engines on the rear fuselage */
        t_tail = engines < 0 || chance(g, 0.15);
        break;
    case FIGHTER:
        f.r = U(g, 0.05, 0.07); f.nose = U(g, 0.25, 0.35); f.tail = U(g, 0.12, 0.2); f.tail_r = U(g, 0.45, 0.65);
        f.flat = U(g, 0.7, 0.9); f.nose_pow = U(g, 0.8, 1.1); f.nose_drop = 0;
        semi = U(g, 0.25, 0.36); cr = U(g, 0.36, 0.5); taper = U(g, 0.05, 0.22); sweep = U(g, 38, 58);
        dihedral = U(g, -4, 0); wing_y = 0; wing_t = 0.92 - cr; tc = U(g, 0.035, 0.05); camber = 0;
        canopy = 1; twin_fin = chance(g, 0.5); htail = chance(g, 0.6);
        break;
    case LIGHT:
        f.r = U(g, 0.06, 0.08); f.nose = U(g, 0.1, 0.14); f.tail = U(g, 0.45, 0.55); f.tail_r = U(g, 0.1, 0.16);
        f.upsweep = U(g, 0.3, 0.6); f.flat = U(g, 1.05, 1.2); f.boxy = U(g, 2, 2.6);
        semi = U(g, 0.5, 0.65); cr = U(g, 0.12, 0.16); taper = U(g, 0.55, 1.0); sweep = U(g, 0, 4);
        dihedral = U(g, 2, 6); wing_y = chance(g, 0.6) ? 0.85 : -0.6; wing_t = U(g, 0.22, 0.3);
        props = 1; canopy = 1; t_tail = chance(g, 0.25);
        break;
    case CARGO:
        f.r = U(g, 0.07, 0.09); f.nose = U(g, 0.1, 0.13); f.tail = U(g, 0.28, 0.35); f.tail_r = U(g, 0.15, 0.25);
        f.upsweep = U(g, 0.7, 0.95); f.nose_drop = U(g, 0.2, 0.4); f.boxy = U(g, 2.2, 3);
        semi = U(g, 0.5, 0.6); cr = U(g, 0.13, 0.17); taper = U(g, 0.35, 0.55); dihedral = U(g, -3, 1);
        wing_y = 0.8; wing_t = U(g, 0.32, 0.4);
        props = chance(g, 0.5);
        sweep = props ? U(g, 0, 8) : U(g, 18, 28);
        engines = chance(g, 0.5) ? 4 : 2; t_tail = chance(g, 0.7);
        break;
    default: /* GLIDER */
        f.r = U(g, 0.035, 0.05); f.nose = U(g, 0.12, 0.18); f.tail = U(g, 0.55, 0.65); f.tail_r = U(g, 0.15, 0.25);
        f.upsweep = U(g, 0.2, 0.5); f.flat = U(g, 1.05, 1.2);
        semi = U(g, 0.85, 1.15); cr = U(g, 0.07, 0.09); taper = U(g, 0.35, 0.5); sweep = U(g, 0, 2);
        dihedral = U(g, 2, 4); wing_y = chance(g, 0.5) ? 0.6 : 0; wing_t = U(g, 0.26, 0.32);
        canopy = 1; t_tail = chance(g, 0.6); tc = 0.14;
        break;
    }
    build_fuselage(g, &f);

    /* Main wing. */
    double yc, rw = fus_at(&f, wing_t, &yc), dz = semi * tan(rad(sweep)), ct = cr * taper, dih = rad(dihedral);
    mc_vec3 le = mc_v3(0, yc + wing_y * rw * f.flat, fus_z(&f, wing_t));
    wing_pair(g, le, semi, dih, cr, ct, dz, tc, camber);

    /* Engines hang below and ahead of the wing's leading edge; turboprops carry a propeller. */
    int pods = engines < 0 ? 0 : engines;
    double rn = U(g, 0.022, 0.03) * (pods == 4 ? 0.85 : 1) * (props ? 0.9 : 1), ln = rn * U(g, 3.5, 4.5);
    for (int i = 0; i < pods / 2; i++) {
        double s = pods == 2 ? U(g, 0.3, 0.38) : 0.25 + 0.3 * i;
        mc_vec3 at = mc_v3_add(le, mc_v3(s * semi * cos(dih), s * semi * sin(dih), s * dz));
        mc_vec3 c = mc_v3_add(at, mc_v3(0, wing_y > 0 ? 0 : -1.3 * rn, ln * (wing_y > 0 ? 0.1 : 0.05)));
        double chord = cr + (ct - cr) * s;
        int v0 = g->b.m.nverts, f0 = g->b.m.nfaces;
        nacelle(g, c, ln, rn);
        mc_vec3 under_wing = mc_v3_add(at, mc_v3(0, 0.2 * chord * tc, chord * 0.4));   /* the pylon */
        beam(g, mc_v3_add(c, mc_v3(0, 0, ln * 0.05)), under_wing, rn * 0.15, ln * 0.25);
        if (props) {
            double radius = rn * U(g, 3.5, 4.2), phase = U(g, 0, 1);
            propeller(g, mc_v3_add(c, mc_v3(0, 0, -ln / 2)), radius, 4, phase);
        }
        mc_mirror_x(&g->b, v0, f0);
    }
    if (engines < 0) {   /* pods on the rear fuselage */
        double t = 1 - f.tail * U(g, 0.55, 0.75), r = fus_at(&f, t, &yc);
        mc_vec3 c = mc_v3(r + 1.4 * rn, yc + 0.3 * r, fus_z(&f, t));
        int v0 = g->b.m.nverts, f0 = g->b.m.nfaces;
        nacelle(g, c, ln, rn);
        beam(g, mc_v3_add(c, mc_v3(-rn, 0, 0)), mc_v3(0, c.y, c.z), rn * 0.3, ln * 0.25);
        mc_mirror_x(&g->b, v0, f0);
    }
    if (style == LIGHT) {
        fus_at(&f, 0, &yc);
        double radius = f.r * U(g, 2.4, 3.2), phase = U(g, 0, 1);
        int blades = 2 + pick(g, 2);
        propeller(g, mc_v3(0, yc, fus_z(&f, 0) + 0.01), radius, blades, phase);
    }
    if (style == FIGHTER && chance(g, 0.7)) {   /* intake trunks along the sides */
        double t = U(g, 0.45, 0.55), r = fus_at(&f, t, &yc);
        int v0 = g->b.m.nverts, f0 = g->b.m.nfaces;
        ellipsoid(g, mc_v3(r * 0.85, yc - 0.15 * r, fus_z(&f, t)), r * 0.5, r * 0.7, U(g, 0.2, 0.26), 12);
        mc_mirror_x(&g->b, v0, f0);
    }
    if (canopy) {
        double t = style == FIGHTER ? U(g, 0.2, 0.3) : U(g, 0.16, 0.24), r = fus_at(&f, t, &yc);
        ellipsoid(g, mc_v3(0, yc + r * f.flat * 0.75, fus_z(&f, t)), r * 0.6, r * 0.55, r * U(g, 1.8, 2.6), 12);
    }

    /* Tail: a vertical fin (or two, canted) and a tailplane, low or on top of the fin (T-tail). */
    double fin_h = U(g, 0.12, 0.18), fin_c = U(g, 0.12, 0.18), fin_taper = U(g, 0.3, 0.6), fin_sweep = rad(U(g, 30, 48));
    if (style == FIGHTER) fin_h = U(g, 0.1, 0.14), fin_c = U(g, 0.12, 0.16);
    if (style == GLIDER) fin_h = U(g, 0.1, 0.14), fin_c = U(g, 0.09, 0.12);
    double tfin = 1 - fin_c - 0.015, rt = fus_at(&f, tfin + fin_c * 0.5, &yc);
    mc_vec3 fin_le = mc_v3(0, yc + rt * f.flat * 0.5, fus_z(&f, tfin));
    double fin_dz = fin_h * tan(fin_sweep);
    if (twin_fin) {
        double cant = rad(U(g, 10, 25));
        int v0 = g->b.m.nverts, f0 = g->b.m.nfaces;
        wing(g, mc_v3_add(fin_le, mc_v3(rt * 0.6, 0, 0)), mc_v3(fin_h * sin(cant), fin_h * cos(cant), 0),
             mc_v3(-cos(cant), sin(cant), 0), fin_c, fin_c * fin_taper, fin_dz, 0.06, 0);
        mc_mirror_x(&g->b, v0, f0);
    } else {
        wing(g, fin_le, mc_v3(0, fin_h, 0), mc_v3(-1, 0, 0), fin_c, fin_c * fin_taper, fin_dz, 0.09, 0);
    }
    if (htail) {
        double hs = semi * U(g, 0.3, 0.4), hc = cr * U(g, 0.5, 0.65), hsweep = hs * tan(rad(sweep + U(g, 0, 8)));
        if (style == GLIDER) hs = U(g, 0.12, 0.16), hc = U(g, 0.05, 0.07), hsweep = hs * 0.1;
        mc_vec3 hle = t_tail && !twin_fin
            ? mc_v3(0, fin_le.y + fin_h * 0.97, fin_le.z + fin_dz * 0.97 + fin_c * fin_taper * 0.05)
            : mc_v3(0, fin_le.y - rt * f.flat * 0.3, fus_z(&f, 1 - hc - 0.03));
        double dihedral_h = rad(style == FIGHTER ? U(g, -8, 0) : U(g, 0, 6)), tip = hc * U(g, 0.35, 0.6);
        wing_pair(g, hle, hs, dihedral_h, hc, tip, hsweep, 0.09, 0);
    }
}

/* ---------------------------------------------------------------- sword (tip toward +y, guard at y = 0) */

typedef struct blade_shape {
    double len, w0, thick;     /* length, width and thickness at the guard */
    double taper, leaf, widen; /* width at the start of the point (x w0), leaf bulge, widening toward the tip */
    double tip, tip_pow;       /* length of the point, its curve (1 straight, < 1 rounded) */
    double curve;              /* sideways offset of the tip toward the back of the blade (sabres) */
    double ricasso;            /* blunt narrow part above the guard (fraction of the length) */
    int section;               /* DIAMOND, LENS, FULLER or SINGLE (single-edged, edge toward +x) */
} blade_shape;
enum { DIAMOND, LENS, FULLER, SINGLE };

static double blade_width(const blade_shape *s, double t)
{
    double tp = 1 - s->tip / s->len, q = t < tp ? t / tp : 1;
    double w = s->w0 * (1 - (1 - s->taper) * q) * (1 + s->leaf * sin(MC_PI * pow(q, 1.4))) * (1 + s->widen * q);
    if (t > tp) w *= pow(1 - (t - tp) / (1 - tp), s->tip_pow);
    if (t < s->ricasso) w *= 0.72;
    return w;
}

/* Cross-section point i of K, counter-clockwise about +y: the left edge, the +z face from -x to +x, the
 * right edge, the -z face back. Coordinates in [-1, 1] across the width and the thickness. */
static void blade_section(int section, int i, double *px, double *pz)
{
    enum { HALF = 7 };
    static const double xs[HALF] = { -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75 };
    static const double single_xs[HALF] = { -1, -0.6, -0.2, 0.2, 0.45, 0.7, 0.9 };
    if (i == 0 || i == HALF + 1) {            /* the edges (for SINGLE, the left one is the back) */
        *px = i == 0 ? (section == SINGLE ? -1.04 : -1) : 1;
        *pz = 0;
        return;
    }
    int j = i <= HALF ? i - 1 : 2 * HALF + 1 - i, side = i <= HALF ? 1 : -1;
    double x = section == SINGLE ? single_xs[j] : xs[j], z;
    switch (section) {
    case DIAMOND: z = 1 - fabs(x); break;
    case LENS:    z = 1 - x * x; break;
    case FULLER:  z = (1 - x * x) - 0.45 * exp(-x * x / 0.03); break;   /* a groove down the middle */
    default:      z = x < 0.2 ? 1 - 0.1 * (x + 1) / 1.2 : 0.9 * (1 - (x - 0.2) / 0.8); break;
    }
    *px = x;
    *pz = side * z;
}

static void blade(gen *g, const blade_shape *s)
{
    enum { NS = 30, K = 16 };
    mc_vec3 rings[NS * K];
    for (int r = 0; r < NS; r++) {
        double t = 0.995 * r / (NS - 1), w = blade_width(s, t), tp = 1 - s->tip / s->len;
        double th = s->thick * (1 - 0.45 * t) * (t > tp ? w / blade_width(s, tp) : 1);
        /* The back of a single-edged blade runs along the curve; the edge narrows toward it at the point. */
        double back = -s->curve * t * t, slope = -2 * s->curve * t / s->len, a = atan(slope);
        double cx = s->section == SINGLE ? back + w / 2 : back;
        for (int i = 0; i < K; i++) {
            double px, pz;
            blade_section(s->section, i, &px, &pz);
            rings[r * K + i] = mc_v3(cx + px * w / 2 * cos(a), t * s->len - px * w / 2 * sin(a), pz * th / 2);
        }
    }
    mc_vec3 tip = mc_v3(-s->curve + (s->section == SINGLE ? s->w0 * 0.05 : 0), s->len, 0);
    mc_loft(&g->b, rings, NS, K, NULL, &tip);
}

/* A grip from y = -len up to 0: optional bulge, ridges (wrapping or finger grooves), oval section. */
static void grip(gen *g, double len, double r, double bulge, int ridges, double ridge_h, double oval)
{
    enum { N = 25 };
    double p[2 * N];
    for (int i = 0; i < N; i++) {
        double u = (double)i / (N - 1);
        p[2 * i] = (r * (1 + bulge * sin(MC_PI * u) + ridge_h * fabs(sin(MC_PI * ridges * u))));
        p[2 * i + 1] = (-len + u * len);
    }
    int v0 = g->b.m.nverts, f0 = g->b.m.nfaces;
    mc_lathe(&g->b, p, N, 12);
    mc_place(&g->b, v0, f0, (mc_frame){ { 0, 0, 0 }, { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, oval } });
}

/* A crossguard along x, half-length half, its ends bent by bend (toward the blade if positive). */
static void crossguard(gen *g, double half, double bend, double r, int sides, double s_curve)
{
    enum { N = 13 };
    mc_vec3 path[N];
    double radius[N];
    for (int i = 0; i < N; i++) {
        double x = -half + 2 * half * i / (N - 1), u = x / half;
        path[i] = mc_v3(x, bend * half * u * u + s_curve * half * u * u * u, 0);
        radius[i] = (r * (1 + 0.6 * pow(fabs(u), 8)));   /* swelling finials */
    }
    mc_tube(&g->b, path, radius, N, sides);
}

/* A disc about the y axis (guards, wheel pommels), radius r, thickness 2h, bevelled rim. */
static void disc(gen *g, mc_vec3 c, mc_vec3 axis, double r, double h, double oval)
{
    const double p[] = { 0, -h, (r * 0.85), -h, r, (-h * 0.4),
                        r, (h * 0.4), (r * 0.85), h, 0, h };
    int v0 = g->b.m.nverts, f0 = g->b.m.nfaces;
    mc_lathe(&g->b, p, 6, 24);
    mc_place(&g->b, v0, f0, (mc_frame){ { 0, 0, 0 }, { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, oval } });
    orient(g, v0, f0, c, axis);
}

static void pommel(gen *g, int kind, double y, double r)
{
    switch (kind) {
    case 0: ellipsoid(g, mc_v3(0, y - r * 0.9, 0), r, r, r, 12); break;                      /* ball */
    case 1: ellipsoid(g, mc_v3(0, y - r * 0.9, 0), r, r, r, 6); break;                       /* faceted */
    case 2: disc(g, mc_v3(0, y - r, 0), mc_v3(0, 0, 1), r * 1.2, r * 0.35, 1); break;       /* wheel */
    default: {                                                                                /* pear */
        const double p[] = { 0, 0, (0.7 * r), (0.15 * r), r, (0.6 * r),
                            (0.8 * r), (1.2 * r), (0.45 * r), (1.6 * r),
                            (0.45 * r), (1.8 * r) };
        int v0 = g->b.m.nverts, f0 = g->b.m.nfaces;
        mc_lathe(&g->b, p, 6, 12);
        mc_place(&g->b, v0, f0, mc_frame_at(mc_v3(0, y - 1.75 * r, 0)));
    }
    }
}

static void sword(gen *g)
{
    enum { ARMING, KATANA, SABRE, RAPIER, GLADIUS, GREATSWORD };
    int style = pick(g, 6);
    blade_shape s = { .taper = 1, .tip_pow = 1, .section = pick(g, 3) };
    double grip_len, grip_r = U(g, 0.013, 0.017);
    switch (style) {
    case ARMING:
        s.len = U(g, 0.65, 0.9); s.w0 = U(g, 0.042, 0.058); s.taper = U(g, 0.45, 0.75);
        s.tip = U(g, 0.08, 0.16); s.tip_pow = U(g, 0.7, 1);
        grip_len = s.len > 0.8 ? U(g, 0.18, 0.25) : U(g, 0.1, 0.14);
        {
            double half = U(g, 0.08, 0.13), bend = U(g, -0.15, 0.35), r = U(g, 0.006, 0.009);
            crossguard(g, half, bend, r, chance(g, 0.5) ? 4 : 8, 0);
            double bulge = U(g, 0, 0.15), oval = U(g, 0.75, 1);
            int ridges = chance(g, 0.4) ? pick(g, 8) + 6 : 0;
            grip(g, grip_len, grip_r, bulge, ridges, 0.06, oval);
            int kind = pick(g, 4);
            pommel(g, kind, -grip_len, U(g, 0.018, 0.028));
        }
        break;
    case KATANA:
        s.len = U(g, 0.62, 0.75); s.w0 = U(g, 0.028, 0.034); s.taper = U(g, 0.65, 0.8);
        s.tip = U(g, 0.035, 0.06); s.tip_pow = U(g, 0.4, 0.6); s.curve = U(g, 0.015, 0.03); s.section = SINGLE;
        grip_len = U(g, 0.24, 0.3);
        {
            double r = U(g, 0.034, 0.044), oval = U(g, 0.8, 0.95);
            disc(g, mc_v3(0, 0, 0), mc_v3(0, 1, 0), r, 0.004, oval);   /* tsuba */
        }
        box(g, mc_v3(s.w0 * 0.5, 0.015, 0), s.w0 * 0.6, 0.015, 0.006);                           /* habaki */
        {
            double bulge = U(g, 0, 0.06);
            grip(g, grip_len, grip_r * 0.95, bulge, pick(g, 4) + 7, 0.08, 0.75);
        }
        ellipsoid(g, mc_v3(0, -grip_len, 0), grip_r * 1.1, 0.008, grip_r * 0.85, 12);           /* kashira */
        break;
    case SABRE:
        s.len = U(g, 0.68, 0.85); s.w0 = U(g, 0.03, 0.04); s.widen = U(g, 0.15, 0.45);
        s.tip = U(g, 0.1, 0.18); s.tip_pow = U(g, 0.6, 0.9); s.curve = U(g, 0.05, 0.12); s.section = SINGLE;
        grip_len = U(g, 0.1, 0.13);
        {
            double half = U(g, 0.05, 0.08), bend = U(g, -0.6, -0.2), r = U(g, 0.005, 0.007);
            crossguard(g, half, bend, r, 8, 0);
        }
        grip(g, grip_len, grip_r, U(g, 0.05, 0.15), 0, 0, 0.8);
        pommel(g, 0, -grip_len, U(g, 0.012, 0.018));
        if (chance(g, 0.6)) {   /* knuckle bow from the guard down to the pommel, on the edge side */
            enum { N = 9 };
            mc_vec3 path[N];
            double r[N];
            double reach = U(g, 0.035, 0.055), gx = U(g, 0.045, 0.06);
            for (int i = 0; i < N; i++) {
                double u = (double)i / (N - 1);
                path[i] = mc_v3(gx * (1 - u) + reach * sin(MC_PI * u) * 0.6, -grip_len * u * 1.05, 0);
                r[i] = 0.004;
            }
            mc_tube(&g->b, path, r, N, 8);
        }
        break;
    case RAPIER:
        s.len = U(g, 0.95, 1.1); s.w0 = U(g, 0.018, 0.025); s.taper = U(g, 0.3, 0.5); s.section = DIAMOND;
        s.tip = U(g, 0.1, 0.2);
        grip_len = U(g, 0.1, 0.13);
        {
            double half = U(g, 0.11, 0.16), r = U(g, 0.004, 0.006), s_curve = U(g, 0.3, 0.6);
            crossguard(g, half, 0, r, 8, s_curve);
        }
        if (chance(g, 0.5)) {   /* a cup over the hand, opening toward the tip */
            double R = U(g, 0.045, 0.06), d = U(g, 0.025, 0.04), e = 0.003;
            const double p[] = { 0, 0, (0.5 * R), (0.08 * d), (0.85 * R), (0.35 * d),
                                R, d, (R - e), d, (0.85 * R - e), (0.35 * d + e),
                                (0.5 * R), (0.08 * d + e), 0, e };
            lathe_at(g, p, 8, 24, mc_v3(0, 0.005, 0), mc_v3(0, 1, 0));
        } else {                /* a side ring */
            double R = U(g, 0.025, 0.035), r = 0.004;
            const double p[] = { (R - r), -r, (R + r), -r,
                                (R + r), r, (R - r), r };
            int v0 = g->b.m.nverts, f0 = g->b.m.nfaces;
            mc_lathe_loop(&g->b, p, 4, 20);
            orient(g, v0, f0, mc_v3(0, R * 0.8, 0), mc_v3(0, 0, 1));
        }
        {
            double bulge = U(g, 0, 0.1);
            grip(g, grip_len, grip_r * 0.9, bulge, pick(g, 6) + 8, 0.05, 1);
            int kind = chance(g, 0.5) ? 0 : 3;
            pommel(g, kind, -grip_len, U(g, 0.016, 0.024));
        }
        break;
    case GLADIUS:
        s.len = U(g, 0.45, 0.6); s.w0 = U(g, 0.048, 0.062); s.taper = U(g, 0.8, 1.0); s.leaf = U(g, 0.08, 0.25);
        s.tip = U(g, 0.08, 0.14); s.tip_pow = U(g, 0.8, 1.1); s.section = pick(g, 2);
        grip_len = U(g, 0.085, 0.1);
        {
            double gx = s.w0 * U(g, 1.1, 1.4), gy = U(g, 0.012, 0.018), gz = s.w0 * U(g, 0.5, 0.7);
            ellipsoid(g, mc_v3(0, 0, 0), gx, gy, gz, 16);
            grip(g, grip_len, grip_r * 1.1, 0, 4, U(g, 0.1, 0.2), 0.85);
            double px = U(g, 0.028, 0.038), pz = U(g, 0.02, 0.03);
            ellipsoid(g, mc_v3(0, -grip_len - 0.02, 0), px, 0.025, pz, 16);
        }
        break;
    default: /* GREATSWORD */
        s.len = U(g, 1.05, 1.35); s.w0 = U(g, 0.05, 0.07); s.taper = U(g, 0.5, 0.75);
        s.tip = U(g, 0.1, 0.2); s.tip_pow = U(g, 0.7, 1); s.section = pick(g, 2) + 1; s.ricasso = U(g, 0.08, 0.14);
        grip_len = U(g, 0.25, 0.35);
        double half = U(g, 0.16, 0.24), bend = U(g, 0.05, 0.45), r = U(g, 0.008, 0.012);
        crossguard(g, half, bend, r, 8, 0);
        if (chance(g, 0.5)) {
            ellipsoid(g, mc_v3(half, bend * half, 0), r * 2, r * 2, r * 2, 10);
            ellipsoid(g, mc_v3(-half, bend * half, 0), r * 2, r * 2, r * 2, 10);
        }
        if (chance(g, 0.6)) {   /* parrying lugs where the ricasso ends */
            double y = s.ricasso * s.len, x = s.w0 * 0.36;
            beam(g, mc_v3(x, y, 0), mc_v3(x + s.w0 * 0.35, y - 0.01, 0), 0.006, 0.004);
            beam(g, mc_v3(-x, y, 0), mc_v3(-x - s.w0 * 0.35, y - 0.01, 0), 0.006, 0.004);
        }
        double bulge = U(g, 0, 0.12), oval = U(g, 0.8, 1);
        int ridges = chance(g, 0.5) ? pick(g, 6) + 8 : 0;
        grip(g, grip_len, grip_r * 1.05, bulge, ridges, 0.05, oval);
        int kind = pick(g, 4);
        pommel(g, kind, -grip_len, U(g, 0.022, 0.03));
        break;
    }
    s.thick = s.w0 * (s.section == SINGLE ? U(g, 0.2, 0.26) : s.section == DIAMOND ? U(g, 0.2, 0.3) : U(g, 0.16, 0.22));
    blade(g, &s);
}

/* ---------------------------------------------------------------- chair (faces -z, back toward +z) */

/* Parts built upright from a pivot at the back of the seat, then leaned back by tilt (about +x). */
static void lean_back(gen *g, int v0, int f0, mc_vec3 pivot, double tilt)
{
    mc_place(&g->b, v0, f0, mc_frame_rot(pivot, mc_v3(1, 0, 0), tilt));
}

static void chair(gen *g)
{
    enum { PANEL, SLATS, LADDER, OFFICE, ARMCHAIR };
    int style = pick(g, 5);
    double hw = U(g, 0.21, 0.27), hd = U(g, 0.2, 0.25), sh = U(g, 0.42, 0.48), st = U(g, 0.025, 0.06);
    double lt = U(g, 0.016, 0.026), bh = U(g, 0.35, 0.55), tilt = rad(U(g, 0, 14));

    if (style == OFFICE) {
        int legs = 5;
        double R = U(g, 0.27, 0.33), col_top = sh - U(g, 0.07, 0.1);
        for (int i = 0; i < legs; i++) {
            double a = 2 * MC_PI * i / legs + MC_PI / 2;
            mc_vec3 foot = mc_v3(R * cos(a), 0.05, R * sin(a));
            beam(g, mc_v3(0, 0.08, 0), foot, 0.02, 0.015);
            ellipsoid(g, mc_v3_add(foot, mc_v3(0, -0.025, 0)), 0.025, 0.025, 0.025, 10);   /* caster */
        }
        rod(g, mc_v3(0, 0.04, 0), mc_v3(0, col_top, 0), 0.03, 0.025, 16);
        box(g, mc_v3(0, col_top + 0.02, 0), 0.08, 0.025, 0.1);
        st = U(g, 0.06, 0.09);
        block(g, mc_v3(0, sh - st, 0), hw, hd, mc_v3(0, sh, 0), hw * 0.97, hd * 0.97);
        /* A support from under the seat up the back, and the padded backrest on it. */
        double gap = U(g, 0.05, 0.12), ph = bh * U(g, 0.8, 1.1);
        beam(g, mc_v3(0, sh - st, hd * 0.6), mc_v3(0, sh - st, hd + 0.04), 0.03, 0.01);
        int v0 = g->b.m.nverts, f0 = g->b.m.nfaces;
        beam(g, mc_v3(0, -st, 0.04), mc_v3(0, gap + 0.05, 0.04), 0.03, 0.01);
        double bottom_w = hw * U(g, 0.75, 0.95), top_w = hw * U(g, 0.6, 0.9);
        block(g, mc_v3(0, gap, 0), bottom_w, 0.03, mc_v3(0, gap + ph, 0), top_w, 0.025);
        if (chance(g, 0.3)) box(g, mc_v3(0, gap + ph + 0.09, 0), hw * 0.5, 0.06, 0.03);   /* headrest */
        lean_back(g, v0, f0, mc_v3(0, sh, hd), tilt);
        if (chance(g, 0.6)) {
            double ah = U(g, 0.18, 0.25);
            for (int s = -1; s <= 1; s += 2) {
                beam(g, mc_v3(s * (hw + 0.02), sh - st / 2, 0.05), mc_v3(s * (hw + 0.02), sh + ah, 0.05), 0.012, 0.02);
                box(g, mc_v3(s * (hw + 0.02), sh + ah, 0), 0.035, 0.015, hd * 0.6);
            }
        }
        return;
    }
    if (style == ARMCHAIR) {
        hw = U(g, 0.3, 0.4); hd = U(g, 0.3, 0.38); sh = U(g, 0.38, 0.45);
        double legh = U(g, 0.04, 0.15), arm_w = U(g, 0.06, 0.13), arm_h = U(g, 0.15, 0.25), back_t = U(g, 0.1, 0.18);
        double cushion = U(g, 0.08, 0.14);
        for (int i = 0; i < 4; i++) {
            double x = (i & 1 ? 1 : -1) * (hw + arm_w - 0.04), z = (i & 2 ? 1 : -1) * (hd - 0.04);
            block(g, mc_v3(x, 0, z), 0.02, 0.02, mc_v3(x, legh, z), 0.025, 0.025);
        }
        box(g, mc_v3(0, (legh + sh - cushion) / 2, 0), hw + arm_w, (sh - cushion - legh) / 2, hd);   /* base */
        box(g, mc_v3(0, sh - cushion / 2, -back_t / 2), hw, cushion / 2, hd - back_t / 2);            /* cushion */
        for (int s = -1; s <= 1; s += 2)
            box(g, mc_v3(s * (hw + arm_w / 2), (legh + sh + arm_h) / 2, 0), arm_w / 2, (sh + arm_h - legh) / 2, hd);
        int v0 = g->b.m.nverts, f0 = g->b.m.nfaces;
        box(g, mc_v3(0, (bh + cushion) / 2 - cushion, -back_t / 2), hw, (bh + cushion) / 2, back_t / 2);
        lean_back(g, v0, f0, mc_v3(0, sh, hd), tilt);
        return;
    }

    /* Four legs (straight or splayed, maybe tapered), a seat, rails, and a back. */
    double splay = chance(g, 0.4) ? U(g, 0.01, 0.04) : 0, taper = U(g, 0.6, 1);
    int round = chance(g, 0.3);
    for (int i = 0; i < 4; i++) {
        double sx = i & 1 ? 1 : -1, sz = i & 2 ? 1 : -1, x = sx * (hw - lt), z = sz * (hd - lt);
        mc_vec3 top = mc_v3(x, sh - st, z), foot = mc_v3(x + sx * splay, 0, z + sz * splay);
        if (round) rod(g, foot, top, lt * taper, lt, 12);
        else block(g, foot, lt * taper, lt * taper, top, lt, lt);
    }
    box(g, mc_v3(0, sh - st / 2, 0), hw, st / 2, hd);
    if (chance(g, 0.5)) {   /* apron under the seat */
        double ah = U(g, 0.03, 0.06), y = sh - st - ah / 2;
        box(g, mc_v3(0, y, -(hd - lt)), hw - lt, ah / 2, lt * 0.5);
        box(g, mc_v3(0, y, hd - lt), hw - lt, ah / 2, lt * 0.5);
        box(g, mc_v3(-(hw - lt), y, 0), lt * 0.5, ah / 2, hd - lt);
        box(g, mc_v3(hw - lt, y, 0), lt * 0.5, ah / 2, hd - lt);
    }
    if (chance(g, 0.4)) {   /* stretchers between the legs */
        double y = U(g, 0.1, 0.2), f = y / (sh - st), ox = hw - lt + splay * (1 - f), oz = hd - lt + splay * (1 - f);
        beam(g, mc_v3(-ox, y, -oz), mc_v3(-ox, y, oz), lt * 0.5, lt * 0.5);
        beam(g, mc_v3(ox, y, -oz), mc_v3(ox, y, oz), lt * 0.5, lt * 0.5);
        beam(g, mc_v3(-ox, y + 0.04, -oz), mc_v3(ox, y + 0.04, -oz), lt * 0.5, lt * 0.5);
    }
    int v0 = g->b.m.nverts, f0 = g->b.m.nfaces;
    double post = lt * U(g, 0.8, 1), x = hw - lt;
    if (style == PANEL) {
        double gap = chance(g, 0.5) ? U(g, 0.05, 0.15) : 0, pw = hw * U(g, 0.85, 1), pt = U(g, 0.012, 0.025);
        box(g, mc_v3(0, gap + (bh - gap) / 2, 0), pw, (bh - gap) / 2, pt);
        if (gap > 0) {
            box(g, mc_v3(-x, gap / 2, 0), post, gap / 2 + 0.01, post);
            box(g, mc_v3(x, gap / 2, 0), post, gap / 2 + 0.01, post);
        }
    } else {
        box(g, mc_v3(-x, bh / 2, 0), post, bh / 2, post);
        box(g, mc_v3(x, bh / 2, 0), post, bh / 2, post);
        double rail = U(g, 0.03, 0.08);
        box(g, mc_v3(0, bh - rail / 2, 0), x, rail / 2, post * 0.8);
        int n = style == SLATS ? 3 + pick(g, 4) : 2 + pick(g, 3);
        for (int i = 0; i < n; i++) {
            if (style == SLATS) {
                double sx = -x + 2 * x * (i + 1) / (n + 1), bottom = U(g, 0.02, 0.04);
                box(g, mc_v3(sx, (bh - rail + bottom) / 2, 0), x / (3 * n), (bh - rail - bottom) / 2, post * 0.5);
            } else {
                double y = bh * 0.3 + (bh - rail - bh * 0.3) * i / n;
                box(g, mc_v3(0, y, 0), x, 0.018, post * 0.6);
            }
        }
    }
    lean_back(g, v0, f0, mc_v3(0, sh, hd - lt), tilt);
    if (chance(g, 0.25)) {   /* arms */
        double ah = U(g, 0.18, 0.25);
        for (int s = -1; s <= 1; s += 2) {
            box(g, mc_v3(s * x, sh + ah / 2, -(hd - lt * 2)), lt * 0.8, ah / 2, lt * 0.8);
            box(g, mc_v3(s * x, sh + ah, 0), lt * 1.2, 0.012, hd);
        }
    }
}

/* ---------------------------------------------------------------- table */

/* A turned leg or column from y0 up to y1 with a few beads. */
static void turned(gen *g, double x, double z, double y0, double y1, double r, int beads)
{
    enum { N = 17 };
    double p[2 * N];
    for (int i = 0; i < N; i++) {
        double u = (double)i / (N - 1);
        p[2 * i] = (r * (0.75 + 0.25 * u + (beads ? 0.35 * pow(fabs(sin(MC_PI * beads * u)), 6) : 0)));
        p[2 * i + 1] = (y0 + u * (y1 - y0));
    }
    lathe_at(g, p, N, 12, mc_v3(x, 0, z), mc_v3(0, 1, 0));
}

static void table(gen *g)
{
    enum { FOUR_LEGS, PEDESTAL, TRESTLE, COFFEE, SPLAYED, DESK };
    int style = pick(g, 6);
    double h = U(g, 0.72, 0.78), tt = U(g, 0.025, 0.05), hx = U(g, 0.55, 1.0), hz = U(g, 0.35, 0.5);
    int round_top = 0;
    if (style == COFFEE) h = U(g, 0.35, 0.48), hx = U(g, 0.45, 0.7), hz = U(g, 0.28, 0.4), round_top = chance(g, 0.3);
    if (style == PEDESTAL) round_top = chance(g, 0.7), hx = hz = U(g, 0.4, 0.6);
    if (style == SPLAYED) round_top = chance(g, 0.6), h = U(g, 0.5, 0.76), hx = hz = U(g, 0.28, 0.45);
    if (style == DESK) hx = U(g, 0.6, 0.85), hz = U(g, 0.3, 0.4);
    if (round_top) disc(g, mc_v3(0, h - tt / 2, 0), mc_v3(0, 1, 0), hx, tt / 2, hz / hx);
    else box(g, mc_v3(0, h - tt / 2, 0), hx, tt / 2, hz);
    double under = h - tt, lt = U(g, 0.02, 0.04);

    switch (style) {
    case FOUR_LEGS:
    case COFFEE: {
        double inset = U(g, 0.02, 0.08), taper = U(g, 0.5, 1);
        int kind = pick(g, 3);
        double lx = (round_top ? hx * 0.65 : hx - inset) - lt, lz = (round_top ? hz * 0.65 : hz - inset) - lt;
        for (int i = 0; i < 4; i++) {
            double x = (i & 1 ? 1 : -1) * lx, z = (i & 2 ? 1 : -1) * lz;
            if (kind == 0) block(g, mc_v3(x, 0, z), lt * taper, lt * taper, mc_v3(x, under, z), lt, lt);
            else if (kind == 1) rod(g, mc_v3(x, 0, z), mc_v3(x, under, z), lt * taper, lt, 12);
            else turned(g, x, z, 0, under, lt, 2 + pick(g, 3));
        }
        if (chance(g, 0.7)) {   /* apron */
            double ah = U(g, 0.05, 0.1), y = under - ah / 2;
            box(g, mc_v3(0, y, -lz), lx, ah / 2, lt * 0.4);
            box(g, mc_v3(0, y, lz), lx, ah / 2, lt * 0.4);
            box(g, mc_v3(-lx, y, 0), lt * 0.4, ah / 2, lz);
            box(g, mc_v3(lx, y, 0), lt * 0.4, ah / 2, lz);
        }
        if (style == COFFEE && chance(g, 0.6)) box(g, mc_v3(0, U(g, 0.08, 0.15), 0), lx, 0.012, lz);   /* shelf */
        else if (chance(g, 0.3)) {   /* H stretcher */
            double y = U(g, 0.1, 0.2);
            beam(g, mc_v3(-lx, y, -lz), mc_v3(-lx, y, lz), lt * 0.4, lt * 0.4);
            beam(g, mc_v3(lx, y, -lz), mc_v3(lx, y, lz), lt * 0.4, lt * 0.4);
            beam(g, mc_v3(-lx, y, 0), mc_v3(lx, y, 0), lt * 0.4, lt * 0.4);
        }
        break;
    }
    case PEDESTAL: {
        double r = U(g, 0.04, 0.08);
        turned(g, 0, 0, 0.03, under, r, pick(g, 3));
        if (chance(g, 0.5)) disc(g, mc_v3(0, 0.02, 0), mc_v3(0, 1, 0), hx * U(g, 0.45, 0.65), 0.02, 1);
        else {
            int feet = 3 + pick(g, 2);
            double reach = hx * U(g, 0.5, 0.75);
            for (int i = 0; i < feet; i++) {
                double a = 2 * MC_PI * i / feet;
                beam(g, mc_v3(0, 0.1, 0), mc_v3(reach * cos(a), 0.015, reach * sin(a)), 0.025, 0.02);
            }
        }
        box(g, mc_v3(0, under - 0.015, 0), hx * 0.3, 0.015, hz * 0.3);
        break;
    }
    case TRESTLE: {
        double x = hx * U(g, 0.7, 0.85), foot = hz * U(g, 0.75, 0.95);
        int aframe = chance(g, 0.5);
        for (int s = -1; s <= 1; s += 2) {
            if (aframe) {
                beam(g, mc_v3(s * x, 0.04, -foot), mc_v3(s * x, under - 0.04, foot * 0.3), lt, lt);
                beam(g, mc_v3(s * x, 0.04, foot), mc_v3(s * x, under - 0.04, -foot * 0.3), lt, lt);
            } else {
                box(g, mc_v3(s * x, under / 2, 0), lt, under / 2, hz * U(g, 0.2, 0.45));
            }
            box(g, mc_v3(s * x, 0.025, 0), lt * 1.5, 0.025, foot);
            box(g, mc_v3(s * x, under - 0.02, 0), lt * 1.5, 0.02, foot * 0.9);
        }
        box(g, mc_v3(0, U(g, 0.15, 0.45), 0), x, 0.03, lt);
        break;
    }
    case SPLAYED: {
        int legs = 3 + pick(g, 2);
        double spread = U(g, 1.0, 1.25), r0 = hx * 0.45;
        for (int i = 0; i < legs; i++) {
            double a = 2 * MC_PI * i / legs + MC_PI / 4;
            rod(g, mc_v3(r0 * spread * 1.6 * cos(a), 0, r0 * spread * 1.6 * sin(a)),
                mc_v3(r0 * cos(a), under, r0 * sin(a)), lt * 0.7, lt, 10);
        }
        if (chance(g, 0.5)) disc(g, mc_v3(0, under * 0.35, 0), mc_v3(0, 1, 0), r0 * 1.3, 0.01, 1);   /* ring shelf */
        break;
    }
    default: { /* DESK: a slab side, and a drawer pedestal or a second slab */
        double t = U(g, 0.015, 0.025);
        box(g, mc_v3(-hx + t, under / 2, 0), t, under / 2, hz - 0.01);
        if (chance(g, 0.6)) {
            double pw = U(g, 0.18, 0.24);
            box(g, mc_v3(hx - pw, under / 2, 0), pw, under / 2, hz - 0.01);
            int drawers = 2 + pick(g, 3);
            for (int i = 0; i < drawers; i++) {
                double dh = (under - 0.04) / drawers, y = 0.02 + dh * (i + 0.5);
                box(g, mc_v3(hx - pw, y, -hz + 0.005), pw - 0.015, dh / 2 - 0.008, 0.01);
                box(g, mc_v3(hx - pw, y, -hz - 0.01), 0.05, 0.008, 0.01);   /* handle */
            }
        } else {
            box(g, mc_v3(hx - t, under / 2, 0), t, under / 2, hz - 0.01);
        }
        if (chance(g, 0.6)) {   /* modesty panel */
            double y = under - U(g, 0.15, 0.3), half_h = U(g, 0.1, 0.15);
            box(g, mc_v3(0, y, hz - 0.05), hx - 2 * t, half_h, t * 0.6);
        }
        break;
    }
    }
}

/* ---------------------------------------------------------------- lamp */

enum { SHADE_DRUM, SHADE_CONE, SHADE_DOME, SHADE_GLOBE };

/* A lampshade whose rim (its open end) is centred at c; the shade rises from there along axis. A drum or
 * cone is a thin open shell; a dome is closed at the top; a globe is a ball. */
static void shade(gen *g, int kind, mc_vec3 c, mc_vec3 axis, double r_rim, double r_top, double h)
{
    double e = 0.004;
    if (kind == SHADE_GLOBE) {
        mc_vec3 a = mc_v3_normalize(axis);
        ellipsoid(g, mc_v3_add(c, mc_v3_scale(a, r_rim)), r_rim, r_rim, r_rim, 16);
    } else if (kind == SHADE_DOME) {
        enum { N = 7 };
        double p[4 * N];
        /* inner surface from the top down to the rim, then the outer surface back up */
        for (int i = 0; i < N; i++) {
            double a = MC_PI / 2 * i / (N - 1);
            p[2 * i] = i == 0 ? 0.0 : ((r_rim - e) * sin(a));
            p[2 * i + 1] = ((h - e) * cos(a));
            p[2 * (2 * N - 1 - i)] = i == 0 ? 0.0 : (r_rim * sin(a));
            p[2 * (2 * N - 1 - i) + 1] = (h * cos(a));
        }
        lathe_at(g, p, 2 * N, 24, c, axis);
    } else {
        const double p[] = { (r_rim - e), 0, r_rim, 0, r_top, h, (r_top - e), h };
        int v0 = g->b.m.nverts, f0 = g->b.m.nfaces;
        mc_lathe_loop(&g->b, p, 4, 32);
        orient(g, v0, f0, c, axis);
    }
}

static void lamp(gen *g)
{
    enum { TABLE, FLOOR, DESK_ARM, GLOBE, ARC, PENDANT };
    static const int styles[] = { TABLE, TABLE, TABLE, FLOOR, FLOOR, DESK_ARM, DESK_ARM, GLOBE, ARC, PENDANT };
    int style = styles[pick(g, 10)];   /* weighted toward the common kinds */
    mc_vec3 up = mc_v3(0, 1, 0), down = mc_v3(0, -1, 0);
    switch (style) {
    case TABLE: {
        double hb = U(g, 0.12, 0.3), rb = U(g, 0.06, 0.11), top = hb + U(g, 0.1, 0.25);
        if (chance(g, 0.6)) {   /* a vase-like base */
            double bulge = U(g, 0.1, 0.5), neck = U(g, 0.2, 0.4);
            enum { N = 12 };
            double p[2 * N + 4];
            p[0] = 0, p[1] = 0;
            for (int i = 0; i < N; i++) {
                double u = (double)i / (N - 1);
                double belly = sin(MC_PI * (0.25 + 0.65 * u)) * (1 + bulge * u * (1 - u));
                p[2 * i + 2] = (rb * (neck + (1 - neck) * belly));
                p[2 * i + 3] = (hb * u);
            }
            p[2 * N + 2] = 0, p[2 * N + 3] = hb;
            lathe_at(g, p, N + 2, 20, mc_v3(0, 0, 0), up);
        } else {
            disc(g, mc_v3(0, 0.015, 0), up, rb * 1.2, 0.015, 1);
            rod(g, mc_v3(0, 0.02, 0), mc_v3(0, hb, 0), 0.012, 0.012, 12);
        }
        rod(g, mc_v3(0, hb * 0.9, 0), mc_v3(0, top + 0.03, 0), 0.008, 0.008, 10);
        ellipsoid(g, mc_v3(0, top + 0.03, 0), 0.03, 0.045, 0.03, 12);   /* bulb */
        double r_rim = U(g, 0.14, 0.24);
        int kind = pick(g, 2);
        double r_top = r_rim * U(g, 0.55, 1), h = U(g, 0.15, 0.25);
        shade(g, kind, mc_v3(0, top - 0.02, 0), up, r_rim, r_top, h);
        break;
    }
    case FLOOR: {
        double hp = U(g, 1.35, 1.75);
        disc(g, mc_v3(0, 0.02, 0), up, U(g, 0.13, 0.2), 0.02, 1);
        rod(g, mc_v3(0, 0.02, 0), mc_v3(0, hp, 0), 0.012, 0.012, 12);
        double r = U(g, 0.15, 0.25);
        if (chance(g, 0.5))   /* an uplighter */
            shade(g, SHADE_CONE, mc_v3(0, hp - 0.02, 0), up, r * 0.3, r, r * U(g, 0.5, 0.9));
        else {
            double r_top = r * U(g, 0.7, 1), h = U(g, 0.22, 0.32);
            shade(g, SHADE_DRUM, mc_v3(0, hp - 0.2, 0), up, r, r_top, h);
        }
        if (chance(g, 0.3)) {   /* a reading arm */
            double y = hp * U(g, 0.55, 0.7);
            mc_vec3 end = mc_v3(0.25, y + 0.15, 0);
            rod(g, mc_v3(0, y, 0), end, 0.007, 0.007, 8);
            shade(g, SHADE_CONE, end, mc_v3(0.3, -1, 0), 0.07, 0.03, 0.1);
        }
        break;
    }
    case DESK_ARM: {
        double rb = U(g, 0.07, 0.1), a1 = rad(U(g, 50, 80)), a2 = rad(U(g, -35, 15));
        double l1 = U(g, 0.28, 0.42), l2 = U(g, 0.28, 0.4);
        if (chance(g, 0.5)) disc(g, mc_v3(0, 0.015, 0), up, rb, 0.015, 1);
        else box(g, mc_v3(0, 0.02, 0), rb, 0.02, rb);
        mc_vec3 j0 = mc_v3(0, 0.05, rb * 0.3), j1 = mc_v3_add(j0, mc_v3(0, l1 * sin(a1), -l1 * cos(a1)));
        mc_vec3 j2 = mc_v3_add(j1, mc_v3(0, l2 * sin(a2), -l2 * cos(a2)));
        box(g, mc_v3(0, 0.05, rb * 0.3), 0.02, 0.03, 0.02);
        int twin = chance(g, 0.5);
        for (int s = twin ? -1 : 0; s <= (twin ? 1 : 0); s += 2) {
            mc_vec3 o = mc_v3(s * 0.012, 0, 0);
            rod(g, mc_v3_add(j0, o), mc_v3_add(j1, o), 0.006, 0.006, 8);
            rod(g, mc_v3_add(j1, o), mc_v3_add(j2, o), 0.006, 0.006, 8);
        }
        ellipsoid(g, j1, 0.018, 0.018, 0.018, 10);
        ellipsoid(g, j2, 0.016, 0.016, 0.016, 10);
        double hr = U(g, 0.06, 0.1);
        mc_vec3 dir = mc_v3_normalize(mc_v3(0, -1, -U(g, 0.2, 0.8)));
        shade(g, chance(g, 0.5) ? SHADE_DOME : SHADE_CONE, mc_v3_add(j2, mc_v3_scale(dir, hr * 1.2)), mc_v3_scale(dir, -1),
              hr, hr * 0.35, hr * 1.1);
        break;
    }
    case GLOBE: {
        double rb = U(g, 0.06, 0.1), hs = U(g, 0.05, 0.25), r = U(g, 0.1, 0.2);
        disc(g, mc_v3(0, 0.02, 0), up, rb, 0.02, 1);
        if (chance(g, 0.5)) {
            rod(g, mc_v3(0, 0.02, 0), mc_v3(0, hs, 0), 0.012, 0.012, 10);
            shade(g, SHADE_GLOBE, mc_v3(0, hs - 0.01, 0), up, r, r, r);
        } else {   /* mushroom: the stem runs up inside the dome */
            double hd = r * U(g, 0.5, 0.9);
            rod(g, mc_v3(0, 0.02, 0), mc_v3(0, hs + r * 0.2 + hd * 0.95, 0), 0.012, 0.012, 10);
            shade(g, SHADE_DOME, mc_v3(0, hs + r * 0.2, 0), up, r, 0, hd);
        }
        break;
    }
    case ARC: {
        enum { N = 16 };
        double H = U(g, 1.5, 1.9), reach = U(g, 0.8, 1.3);
        box(g, mc_v3(0, 0.03, 0), 0.15, 0.03, 0.15);
        mc_vec3 path[N];
        double r[N];
        for (int i = 0; i < N; i++) {   /* up, then over in a quarter ellipse, ending a little downward */
            double a = 1.15 * MC_PI / 2 * i / (N - 1);
            path[i] = mc_v3(reach * (1 - cos(a)), 0.05 + H * sin(a), 0);
            r[i] = 0.011;
        }
        mc_tube(&g->b, path, r, N, 10);
        mc_vec3 end = path[N - 1];
        double rs = U(g, 0.15, 0.25);
        shade(g, SHADE_DOME, mc_v3_add(end, mc_v3(0.03, -rs * 0.6, 0)), up, rs, 0, rs * U(g, 0.5, 0.8));
        break;
    }
    default: { /* PENDANT hanging from a ceiling canopy */
        double H = U(g, 1.0, 1.5), drop = U(g, 0.4, 0.9), r = U(g, 0.1, 0.25);
        disc(g, mc_v3(0, H, 0), up, 0.06, 0.015, 1);
        rod(g, mc_v3(0, H, 0), mc_v3(0, H - drop, 0), 0.006, 0.006, 6);
        int kind = pick(g, 4);
        if (kind == SHADE_GLOBE) shade(g, kind, mc_v3(0, H - drop - 2 * r, 0), up, r, r, r);
        else if (kind == SHADE_DOME) shade(g, kind, mc_v3(0, H - drop - r * 0.7, 0), up, r, 0, r * 0.7);
        else shade(g, kind, mc_v3(0, H - drop, 0), down, r * (kind == SHADE_CONE ? 0.2 : 1), r, r * 0.9);
        break;
    }
    }
}

/* ---------------------------------------------------------------- mug */

static void mug(gen *g)
{
    enum { CYLINDER, TAPERED, BARREL, TANKARD, FOOTED };
    int style = pick(g, 5);
    double R = U(g, 0.036, 0.048), H = U(g, 0.075, 0.11), t = U(g, 0.003, 0.006), tb = U(g, 0.006, 0.012);
    double shape = U(g, 0.08, 0.25);
    enum { N = 10 };
    double ro[N];
    for (int i = 0; i < N; i++) {
        double u = (double)i / (N - 1);
        switch (style) {
        case CYLINDER: ro[i] = R; break;
        case TAPERED:  ro[i] = R * (1 - shape + 2 * shape * u); break;
        case BARREL:   ro[i] = R * (1 + shape * 0.6 * sin(MC_PI * u)); break;
        case TANKARD:  ro[i] = R * (1 + shape - 1.5 * shape * u); break;
        default:       ro[i] = R * (u < 0.12 ? 0.75 : 0.85 + 0.15 * sin(MC_PI / 2 * (u - 0.12) / 0.88)); break;
        }
    }
    /* Profile: bottom centre, out along the base, up the outside, over the rim, down the inside. */
    double p[2 * (2 * N + 3)];
    int n = 0;
    p[n++] = 0, p[n++] = 0;
    p[n++] = (ro[0] * 0.93), p[n++] = 0;
    for (int i = 0; i < N; i++) p[n++] = ro[i], p[n++] = (i == 0 ? 0.004 : H * i / (N - 1));
    for (int i = N - 1; i >= 0; i--) {
        double y = tb + (H - tb) * i / (N - 1);
        p[n++] = (ro[i] - t), p[n++] = y;
    }
    p[n++] = 0, p[n++] = tb;
    mc_lathe(&g->b, p, n / 2, 32);

    /* The handle: a tube from near the top to near the bottom of the +x side. */
    enum { C_HANDLE, D_HANDLE, EAR };
    int kind = pick(g, 3);
    double y1 = H * U(g, 0.75, 0.88), y0 = H * U(g, 0.15, 0.35), reach = U(g, 0.022, 0.038), rh = U(g, 0.0035, 0.0065);
    double x0 = R * (style == TAPERED ? 1 : 0.95) - t, yc = (y0 + y1) / 2, b = (y1 - y0) / 2;
    enum { M = 17 };
    mc_vec3 path[M];
    double radius[M];
    for (int i = 0; i < M; i++) {
        double a = MC_PI / 2 - MC_PI * i / (M - 1), c = cos(a), s = sin(a), x, y;
        if (kind == D_HANDLE) x = reach * sqrt(c), y = b * copysign(sqrt(fabs(s)), s);
        else if (kind == EAR) x = reach * c * (1 + 0.35 * s), y = b * s;
        else x = reach * c, y = b * s;
        /* attach into the wall, which leans for tapered and tankard bodies */
        double wall = ro[(int)((yc + y) / H * (N - 1) + 0.5)] - t;
        path[i] = mc_v3(fmax(x0, wall) + x - t, yc + y, 0);
        radius[i] = rh;
    }
    int v0 = g->b.m.nverts, f0 = g->b.m.nfaces;
    mc_tube(&g->b, path, radius, M, 10);
    mc_place(&g->b, v0, f0, (mc_frame){ { 0, 0, 0 }, { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1.6 } });   /* flat strap */
    if (chance(g, 0.1)) mc_mirror_x(&g->b, v0, f0);   /* a two-handled cup */
}

/* ---------------------------------------------------------------- car (front toward -z) */

static double ramp(double t, double a, double b) { return smooth((t - a) / (b - a)); }

static void wheel(gen *g, mc_vec3 c, double r, double w)
{
    const double tyre[] = { (0.62 * r), (-w / 2), (0.9 * r), (-w / 2),
                           r, (-w * 0.3), r, (w * 0.3),
                           (0.9 * r), (w / 2), (0.62 * r), (w / 2) };
    int v0 = g->b.m.nverts, f0 = g->b.m.nfaces;
    mc_lathe_loop(&g->b, tyre, 6, 24);
    orient(g, v0, f0, c, mc_v3(c.x > 0 ? 1 : -1, 0, 0));
    disc(g, c, mc_v3(1, 0, 0), 0.64 * r, w * 0.35, 1);   /* the rim */
}

static void car(gen *g)
{
    enum { SEDAN, HATCH, SUV, PICKUP, SPORTS, VAN };
    int style = pick(g, 6);
    /* Ranges per style of: length, width, wheel radius, ground clearance, heights of nose, beltline and
     * roof, and where along the car (0 front, 1 rear) the windscreen starts, the roof starts and ends,
     * and the rear glass ends. */
    static const float ranges[6][11][2] = {
        /*          L           W            wheel         clearance     nose         belt         roof */
        /* SEDAN  */ { { 4.3, 5.0 }, { 1.75, 1.9 }, { 0.31, 0.34 }, { 0.14, 0.16 }, { 0.65, 0.75 },
                       { 0.88, 0.98 }, { 1.38, 1.48 }, { 0.3, 0.35 }, { 0.43, 0.48 }, { 0.66, 0.72 }, { 0.79, 0.84 } },
        /* HATCH  */ { { 3.7, 4.3 }, { 1.68, 1.8 }, { 0.3, 0.32 }, { 0.14, 0.16 }, { 0.65, 0.75 },
                       { 0.88, 0.98 }, { 1.42, 1.52 }, { 0.27, 0.32 }, { 0.42, 0.46 }, { 0.8, 0.86 }, { 0.95, 0.98 } },
        /* SUV    */ { { 4.4, 4.9 }, { 1.85, 1.95 }, { 0.36, 0.4 }, { 0.2, 0.25 }, { 0.85, 0.95 },
                       { 1.05, 1.15 }, { 1.68, 1.8 }, { 0.26, 0.3 }, { 0.37, 0.4 }, { 0.88, 0.92 }, { 0.97, 0.99 } },
        /* PICKUP */ { { 5.0, 5.6 }, { 1.85, 2.0 }, { 0.37, 0.4 }, { 0.22, 0.24 }, { 0.95, 1.05 },
                       { 1.08, 1.15 }, { 1.78, 1.88 }, { 0.24, 0.27 }, { 0.32, 0.35 }, { 0.5, 0.56 }, { 0.53, 0.59 } },
        /* SPORTS */ { { 4.2, 4.6 }, { 1.85, 1.95 }, { 0.32, 0.35 }, { 0.09, 0.11 }, { 0.5, 0.58 },
                       { 0.72, 0.8 }, { 1.15, 1.25 }, { 0.36, 0.4 }, { 0.5, 0.54 }, { 0.58, 0.64 }, { 0.86, 0.92 } },
        /* VAN    */ { { 4.8, 5.4 }, { 1.9, 2.0 }, { 0.33, 0.36 }, { 0.16, 0.18 }, { 0.85, 0.95 },
                       { 1.0, 1.1 }, { 1.95, 2.1 }, { 0.1, 0.14 }, { 0.2, 0.24 }, { 0.96, 0.97 }, { 0.985, 0.99 } },
    };
    double v[11];
    for (int k = 0; k < 11; k++) v[k] = U(g, ranges[style][k][0], ranges[style][k][1]);
    double L = v[0], W = v[1], rw = v[2], clear = v[3], nose = v[4], belt = v[5], roof = v[6];
    double ta = v[7], tb = v[8], tc = v[9], td = fmax(v[10], tc + 0.02);
    double deck = style == SEDAN || style == SPORTS ? belt - U(g, 0, 0.05) : belt;
    double bed = style == PICKUP ? td + 0.02 : 2;   /* where a pickup's load bed starts */

    double wb0 = -L / 2 + U(g, 0.16, 0.2) * L, wb1 = L / 2 - U(g, 0.17, 0.22) * L, tw = U(g, 0.2, 0.26);

    /* Lower body: rounded-box sections along z; the top follows nose -> hood -> beltline -> deck, the
     * bottom rises over the wheels into arches. */
    enum { NS = 72, K = 20 };
    mc_vec3 rings[NS * K];
    for (int s = 0; s < NS; s++) {
        double t = (double)s / (NS - 1), z = -L / 2 + t * L;
        double top = nose + (belt - nose) * ramp(t, 0, ta) + (deck - belt) * ramp(t, td, 1);
        if (t > bed) top = belt - 0.3;   /* the bed floor */
        double end = fmax(ramp(t, 0.12, 0), ramp(t, 0.9, 1));   /* rounding toward both ends */
        double bottom = clear + 0.12 * end, arch = rw * 1.12;
        for (int w = 0; w < 2; w++) {
            double dz = z - (w ? wb1 : wb0);
            if (fabs(dz) < arch) bottom = fmax(bottom, rw + sqrt(arch * arch - dz * dz));
        }
        bottom = fmin(bottom, top - 0.12);
        double hw = W / 2 * (1 - 0.06 * end * end), hh = (top - bottom) / 2, yc = (top + bottom) / 2;
        for (int i = 0; i < K; i++) {
            double a = 2 * MC_PI * i / K, c = cos(a), sn = sin(a);
            double x = hw * copysign(pow(fabs(c), 0.35), c), y = hh * copysign(pow(fabs(sn), 0.35), sn);
            x *= 1 - 0.06 * fmax(0, y / hh);   /* sides lean in toward the top */
            rings[s * K + i] = mc_v3(x, yc + y, z);
        }
    }
    mc_loft(&g->b, rings, NS, K, NULL, NULL);

    /* Greenhouse: narrower sections whose top rises along the windscreen, runs along the roof, falls down
     * the rear glass. */
    enum { NC = 20 };
    mc_vec3 cab[NC * K];
    for (int s = 0; s < NC; s++) {
        double t = ta + (td - ta) * s / (NC - 1), z = -L / 2 + t * L;
        double rise = fmin(ramp(t, ta, tb), 1 - ramp(t, tc, td));
        double top = belt + 0.03 + (roof - belt - 0.03) * sqrt(rise), bottom = belt - 0.1;
        double hh = (top - bottom) / 2, yc = (top + bottom) / 2;
        double hw = W / 2 * 0.93;
        for (int i = 0; i < K; i++) {
            double a = 2 * MC_PI * i / K, c = cos(a), sn = sin(a);
            double y = hh * copysign(pow(fabs(sn), 0.5), sn), x = hw * copysign(pow(fabs(c), 0.4), c);
            x *= 1 - 0.18 * (y + hh) / (2 * hh);   /* tumblehome */
            cab[s * K + i] = mc_v3(x, yc + y, z);
        }
    }
    mc_loft(&g->b, cab, NC, K, NULL, NULL);

    if (style == PICKUP) {   /* bed walls and tailgate */
        double z0 = -L / 2 + bed * L, z1 = L / 2 - 0.05;
        box(g, mc_v3(W / 2 - 0.05, belt - 0.15, (z0 + z1) / 2), 0.04, 0.16, (z1 - z0) / 2);
        box(g, mc_v3(-W / 2 + 0.05, belt - 0.15, (z0 + z1) / 2), 0.04, 0.16, (z1 - z0) / 2);
        box(g, mc_v3(0, belt - 0.15, z1), W / 2 - 0.05, 0.16, 0.04);
        box(g, mc_v3(0, belt - 0.15, z0), W / 2 - 0.05, 0.16, 0.04);
    }
    if (style == SPORTS && chance(g, 0.5)) {   /* rear wing */
        double z = L / 2 - 0.25;
        box(g, mc_v3(0, deck + 0.17, z), W / 2 - 0.1, 0.015, 0.15);
        box(g, mc_v3(0.5, deck + 0.08, z), 0.02, 0.08, 0.06);
        box(g, mc_v3(-0.5, deck + 0.08, z), 0.02, 0.08, 0.06);
    }
    if (style == SUV && chance(g, 0.4)) {   /* roof rails */
        double z0 = -L / 2 + (tb + 0.03) * L, z1 = -L / 2 + (tc - 0.02) * L;
        for (int s = -1; s <= 1; s += 2) box(g, mc_v3(s * W * 0.36, roof + 0.04, (z0 + z1) / 2), 0.02, 0.03, (z1 - z0) / 2);
    }
    if (style == SUV && chance(g, 0.3)) wheel(g, mc_v3(0, (belt + clear) / 2 + 0.1, L / 2 + 0.12), rw * 0.9, 0.22);
    for (int s = -1; s <= 1; s += 2)   /* mirrors */
        box(g, mc_v3(s * (W / 2 + 0.08), belt + 0.08, -L / 2 + (ta + 0.04) * L), 0.08, 0.06, 0.03);

    for (int i = 0; i < 4; i++)
        wheel(g, mc_v3((i & 1 ? 1 : -1) * (W / 2 - tw / 2 - 0.02), rw, i & 2 ? wb1 : wb0), rw, tw);
}

/* ---------------------------------------------------------------- dispatch */

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a: stable across runs and machines */
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

int mc_procedural(const char *category, int index, uint64_t seed, mc_mesh *out, char *err)
{
    static void (*const build[MC_PROCEDURAL_NCATEGORIES])(gen *) = { plane, sword, chair, table, lamp, mug, car };
    memset(out, 0, sizeof *out);
    int c = 0;
    while (c < MC_PROCEDURAL_NCATEGORIES && strcmp(category, mc_procedural_categories[c])) c++;
    if (c == MC_PROCEDURAL_NCATEGORIES) {
        mc_set_err(err, "unknown procedural category '%s' (try plane, sword, chair, table, lamp, mug or car)", category);
        return 1;
    }
    if (index < 0) {
        mc_set_err(err, "procedural %s: index %d is negative", category, index);
        return 1;
    }
    gen g = { 0 };
    /* One independent stream per (category, index, seed). */
    mc_rng_seed(&g.rng, hash_name(category) ^ (seed * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)index * 0xD1B54A32D192ED03ULL));
    build[c](&g);
    char name[64];
    snprintf(name, sizeof name, "procedural:%s:%d", category, index);
    return mc_meshbuf_finish(&g.b, name, out, err);
}
