/* Meshes: loading whole files, dispatching to the readers, atomic saving, and the helpers the readers
 * share (growable mesh, clean-up, text scanning). */
#include "mesh/mesh_parse.h"
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

/* Counts and indices are ints; a 2 GiB file cannot hold more vertices or triangles than that. */
#define MAX_FILE_BYTES ((size_t)INT_MAX)

void mc_mesh_free(mc_mesh *m)
{
    free(m->verts);
    free(m->faces);
    memset(m, 0, sizeof *m);
}

/* ---------------------------------------------------------------- formats, loading and saving */

static const char *extension(const char *path)
{
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    return dot && (!slash || dot > slash) ? dot + 1 : "";
}

static int ext_is(const char *ext, const char *want)
{
    while (*ext && *want && tolower((unsigned char)*ext) == *want) ext++, want++;
    return !*ext && !*want;
}

int mc_mesh_format(const char *path)
{
    const char *ext = extension(path);
    if (ext_is(ext, "obj")) return MC_MESH_OBJ;
    if (ext_is(ext, "off")) return MC_MESH_OFF;
    if (ext_is(ext, "ply")) return MC_MESH_PLY;
    if (ext_is(ext, "stl")) return MC_MESH_STL;
    return MC_MESH_UNKNOWN;
}

const char *mc_mesh_format_name(int format)
{
    static const char *names[] = { "unknown", "obj", "off", "ply", "stl" };
    return format >= 0 && format <= MC_MESH_STL ? names[format] : names[0];
}

int mc_mesh_parse(const char *name, const char *buf, size_t len, int format, mc_mesh *m, char *err)
{
    memset(m, 0, sizeof *m);
    if (len == 0) {
        mc_set_err(err, "%s: file is empty (expected a %s mesh)", name, mc_mesh_format_name(format));
        return 1;
    }
    switch (format) {
    case MC_MESH_OBJ: return mc_read_obj(name, buf, len, m, err);
    case MC_MESH_OFF: return mc_read_off(name, buf, len, m, err);
    case MC_MESH_PLY: return mc_read_ply(name, buf, len, m, err);
    case MC_MESH_STL: return mc_read_stl(name, buf, len, m, err);
    }
    mc_set_err(err, "%s: unknown mesh format (expected .obj .off .ply or .stl)", name);
    return 1;
}

int mc_mesh_load(const char *path, mc_mesh *m, char *err)
{
    memset(m, 0, sizeof *m);
    int format = mc_mesh_format(path);
    if (!format) {
        mc_set_err(err, "%s: unknown mesh format '.%s' (expected .obj .off .ply or .stl)", path, extension(path));
        return 1;
    }
    size_t len;
    char *buf = (char *)mc_file_read(path, MAX_FILE_BYTES, &len, err);
    if (!buf) return 1;
    int r = mc_mesh_parse(path, buf, len, format, m, err);
    free(buf);
    return r;
}

static int write_obj(FILE *f, void *m) { mc_write_obj(f, m); return 0; }
static int write_ply(FILE *f, void *m) { mc_write_ply(f, m); return 0; }

int mc_mesh_save(const char *path, const mc_mesh *m, char *err)
{
    int format = mc_mesh_format(path);
    if (format != MC_MESH_OBJ && format != MC_MESH_PLY) {
        mc_set_err(err, "%s: can only write .obj or .ply", path);
        return 1;
    }
    return mc_file_write_atomic(path, format == MC_MESH_OBJ ? write_obj : write_ply, (void *)m, err);
}

/* ---------------------------------------------------------------- measures */

static double tri_area2(const float *a, const float *b, const float *c, double *longest2)
{
    double e1[3], e2[3], e3[3];
    for (int i = 0; i < 3; i++) e1[i] = b[i] - a[i], e2[i] = c[i] - a[i], e3[i] = c[i] - b[i];
    double x = e1[1] * e2[2] - e1[2] * e2[1], y = e1[2] * e2[0] - e1[0] * e2[2], z = e1[0] * e2[1] - e1[1] * e2[0];
    if (longest2) {
        double l1 = e1[0] * e1[0] + e1[1] * e1[1] + e1[2] * e1[2];
        double l2 = e2[0] * e2[0] + e2[1] * e2[1] + e2[2] * e2[2];
        double l3 = e3[0] * e3[0] + e3[1] * e3[1] + e3[2] * e3[2];
        *longest2 = fmax(l1, fmax(l2, l3));
    }
    return x * x + y * y + z * z;   /* (2 * area)^2 */
}

double mc_mesh_area(const mc_mesh *m)
{
    double total = 0;
    for (int f = 0; f < m->nfaces; f++) {
        const int *t = m->faces + 3 * f;
        total += 0.5 * sqrt(tri_area2(m->verts + 3 * t[0], m->verts + 3 * t[1], m->verts + 3 * t[2], NULL));
    }
    return total;
}

void mc_mesh_bounds(const mc_mesh *m, float lo[3], float hi[3])
{
    for (int k = 0; k < 3; k++) lo[k] = hi[k] = m->nverts ? m->verts[k] : 0.0f;
    for (int i = 1; i < m->nverts; i++)
        for (int k = 0; k < 3; k++) {
            float v = m->verts[3 * i + k];
            if (v < lo[k]) lo[k] = v;
            if (v > hi[k]) hi[k] = v;
        }
}

/* ---------------------------------------------------------------- growable mesh */

static int grow(int cap, int need)
{
    if (need > INT_MAX / 6) mc_fatal("mesh too large (%d elements)", need);
    while (cap < need) cap = cap ? 2 * cap : 256;
    return cap;
}

void mc_meshbuf_reserve(mc_meshbuf *b, int nverts, int nfaces)
{
    if (nverts > b->vcap) {
        b->vcap = grow(b->vcap, nverts);
        b->m.verts = mc_realloc(b->m.verts, (size_t)b->vcap * 3 * sizeof(float));
    }
    if (nfaces > b->fcap) {
        b->fcap = grow(b->fcap, nfaces);
        b->m.faces = mc_realloc(b->m.faces, (size_t)b->fcap * 3 * sizeof(int));
    }
}

int mc_meshbuf_vert(mc_meshbuf *b, float x, float y, float z)
{
    if (b->m.nverts == b->vcap) mc_meshbuf_reserve(b, b->m.nverts + 1, 0);
    float *v = b->m.verts + 3 * (size_t)b->m.nverts;
    v[0] = x, v[1] = y, v[2] = z;
    return b->m.nverts++;
}

void mc_meshbuf_tri(mc_meshbuf *b, int i, int j, int k)
{
    if (b->m.nfaces == b->fcap) mc_meshbuf_reserve(b, 0, b->m.nfaces + 1);
    int *f = b->m.faces + 3 * (size_t)b->m.nfaces++;
    f[0] = i, f[1] = j, f[2] = k;
}

int mc_meshbuf_fan(mc_meshbuf *b, const int *idx, int n)
{
    if (n > 2 && b->m.nfaces > MC_MESH_MAX - (n - 2)) return 1;
    for (int i = 1; i + 1 < n; i++) mc_meshbuf_tri(b, idx[0], idx[i], idx[i + 1]);
    return 0;
}

int mc_meshbuf_finish(mc_meshbuf *b, const char *name, mc_mesh *out, char *err)
{
    mc_mesh *m = &b->m;
    int had = m->nfaces, kept = 0;
    for (int f = 0; f < m->nfaces; f++) {
        const int *t = m->faces + 3 * f;
        if (t[0] == t[1] || t[1] == t[2] || t[0] == t[2]) continue;
        /* Zero area, judged relative to the triangle's size: sin(angle) below about 1e-6. */
        double longest2, a2 = tri_area2(m->verts + 3 * t[0], m->verts + 3 * t[1], m->verts + 3 * t[2], &longest2);
        if (!(a2 > 1e-12 * longest2 * longest2)) continue;
        memmove(m->faces + 3 * kept++, t, 3 * sizeof(int));
    }
    m->nfaces = kept;
    int bad = 0;
    if (m->nverts == 0) {
        mc_set_err(err, "%s: no vertices found (is the file complete?)", name);
        bad = 1;
    } else if (had && !kept) {
        mc_set_err(err, "%s: all %d triangles are degenerate (zero area)", name, had);
        bad = 1;
    }
    if (bad) {
        mc_mesh_free(m);
        memset(b, 0, sizeof *b);
        return 1;
    }
    m->verts = mc_realloc(m->verts, (size_t)m->nverts * 3 * sizeof(float));
    if (kept) m->faces = mc_realloc(m->faces, (size_t)kept * 3 * sizeof(int));
    else { free(m->faces); m->faces = NULL; }
    *out = *m;
    memset(b, 0, sizeof *b);
    return 0;
}

/* ---------------------------------------------------------------- text scanning */

void mc_text_init(mc_text *t, const char *buf, size_t len)
{
    t->p = buf, t->end = buf + len, t->line = 0, t->next = 1;
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) t->p += 3;
}

int mc_text_line(mc_text *t, const char **s, const char **e)
{
    if (t->p >= t->end) return 0;
    const char *p = t->p;
    while (p < t->end && *p != '\n' && *p != '\r') p++;
    *s = t->p, *e = p;
    if (p < t->end) p += (*p == '\r' && p + 1 < t->end && p[1] == '\n') ? 2 : 1;
    t->p = p;
    t->line = t->next++;
    return 1;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

int mc_token(const char **s, const char *e, const char **ts, const char **te)
{
    const char *p = *s;
    while (p < e && is_space(*p)) p++;
    if (p == e) { *s = p; return 0; }
    *ts = p;
    while (p < e && !is_space(*p)) p++;
    *te = *s = p;
    return 1;
}

int mc_text_token(mc_text *t, const char **ts, const char **te)
{
    const char *p = t->p;
    for (; p < t->end && is_space(*p); p++)
        if (*p == '\n' || (*p == '\r' && (p + 1 == t->end || p[1] != '\n'))) t->next++;
    t->p = p;
    if (p == t->end) return 0;
    t->line = t->next;
    return mc_token(&t->p, t->end, ts, te);
}

int mc_token_is(const char *ts, const char *te, const char *word)
{
    for (; ts < te && *word; ts++, word++)
        if (tolower((unsigned char)*ts) != tolower((unsigned char)*word)) return 0;
    return ts == te && !*word;
}

/* Numbers are copied out of the buffer first: strtod must never run past the token (or the file). */
static int copy_token(const char *ts, const char *te, char *buf, size_t n)
{
    size_t len = (size_t)(te - ts);
    if (len == 0 || len >= n) return 0;
    memcpy(buf, ts, len);
    buf[len] = 0;
    return 1;
}

int mc_token_double(const char *ts, const char *te, double *v)
{
    char buf[64], *end;
    if (!copy_token(ts, te, buf, sizeof buf)) return 0;
    *v = strtod(buf, &end);
    return *end == 0;
}

int mc_token_long(const char *ts, const char *te, long long *v)
{
    char buf[32], *end;
    if (!copy_token(ts, te, buf, sizeof buf)) return 0;
    errno = 0;
    *v = strtoll(buf, &end, 10);
    return *end == 0 && errno == 0;
}

/* ---- the icosphere ---- */
/* Icosphere: an icosahedron whose faces are split in four `level` times, new vertices pushed onto the
 * unit sphere. Edge midpoints are shared through a small open-addressing table keyed by the edge. */
typedef struct { int64_t key; int vertex; } edge_slot;

static int midpoint(mc_mesh *t, edge_slot *table, int64_t cap, int a, int b)
{
    int64_t lo = a < b ? a : b, hi = a < b ? b : a, key = lo * 0x100000 + hi + 1;
    int64_t h = (key * 0x9E3779B97F4A7C15LL) & (cap - 1);
    while (table[h].key && table[h].key != key) h = (h + 1) & (cap - 1);
    if (table[h].key) return table[h].vertex;
    float *v = t->verts + 3 * t->nverts, *p = t->verts + 3 * a, *q = t->verts + 3 * b;
    float x = p[0] + q[0], y = p[1] + q[1], z = p[2] + q[2], r = sqrtf(x * x + y * y + z * z);
    v[0] = x / r; v[1] = y / r; v[2] = z / r;
    table[h].key = key;
    table[h].vertex = t->nverts;
    return t->nverts++;
}

void mc_mesh_icosphere(int level, mc_mesh *t)
{
    const float g = 1.6180339887f;
    const float base[12][3] = {{-1, g, 0}, {1, g, 0}, {-1, -g, 0}, {1, -g, 0}, {0, -1, g}, {0, 1, g},
                               {0, -1, -g}, {0, 1, -g}, {g, 0, -1}, {g, 0, 1}, {-g, 0, -1}, {-g, 0, 1}};
    const int faces[20][3] = {{0, 11, 5}, {0, 5, 1}, {0, 1, 7}, {0, 7, 10}, {0, 10, 11}, {1, 5, 9}, {5, 11, 4},
                              {11, 10, 2}, {10, 7, 6}, {7, 1, 8}, {3, 9, 4}, {3, 4, 2}, {3, 2, 6}, {3, 6, 8},
                              {3, 8, 9}, {4, 9, 5}, {2, 4, 11}, {6, 2, 10}, {8, 6, 7}, {9, 8, 1}};
    int max_v = 10 * (1 << (2 * level)) + 2, max_f = 20 * (1 << (2 * level));
    t->verts = mc_malloc((size_t)max_v * 3 * sizeof(float));
    t->faces = mc_malloc((size_t)max_f * 3 * sizeof(int));
    for (int k = 0; k < 12; k++) {
        float r = sqrtf(base[k][0] * base[k][0] + base[k][1] * base[k][1] + base[k][2] * base[k][2]);
        for (int d = 0; d < 3; d++) t->verts[3 * k + d] = base[k][d] / r;
    }
    memcpy(t->faces, faces, sizeof faces);
    t->nverts = 12; t->nfaces = 20;
    int64_t cap = 1;
    while (cap < 4LL * max_v) cap <<= 1;
    edge_slot *table = mc_calloc((size_t)cap, sizeof *table);
    int *next = mc_malloc((size_t)max_f * 3 * sizeof(int));
    for (int l = 0; l < level; l++) {
        memset(table, 0, (size_t)cap * sizeof *table);
        int nf = 0;
        for (int f = 0; f < t->nfaces; f++) {
            int a = t->faces[3 * f], b = t->faces[3 * f + 1], c = t->faces[3 * f + 2];
            int ab = midpoint(t, table, cap, a, b), bc = midpoint(t, table, cap, b, c), ca = midpoint(t, table, cap, c, a);
            int tri[4][3] = {{a, ab, ca}, {b, bc, ab}, {c, ca, bc}, {ab, bc, ca}};
            memcpy(next + 3 * nf, tri, sizeof tri);
            nf += 4;
        }
        memcpy(t->faces, next, (size_t)nf * 3 * sizeof(int));
        t->nfaces = nf;
    }
    free(next); free(table);
}
