/* STL: binary (80-byte header, a uint32 triangle count, 50 bytes per triangle) or ascii ("facet normal
 * ... outer loop, vertex x y z (x3), endloop endfacet"). STL repeats each corner in every triangle that
 * uses it; we merge identical corners so that the mesh comes out connected. */
#include "mesh/mesh_parse.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Vertex merging: an open-addressing table from exact coordinates to vertex index. */
typedef struct { int *slot; uint32_t cap; } vmap;

static uint32_t hash3(const float *p)
{
    uint32_t u[3];
    memcpy(u, p, sizeof u);
    uint32_t h = u[0] * 0x9E3779B1u ^ (u[1] * 0x85EBCA77u) ^ (u[2] * 0xC2B2AE3Du);
    h ^= h >> 15; h *= 0x2C1B3C6Du; h ^= h >> 13;
    return h;
}

static int vmap_add(vmap *h, mc_meshbuf *b, float x, float y, float z)
{
    float p[3] = { x == 0 ? 0.0f : x, y == 0 ? 0.0f : y, z == 0 ? 0.0f : z };   /* -0 and 0 are one point */
    if (2 * ((uint64_t)b->m.nverts + 1) > h->cap) {
        free(h->slot);
        h->cap = h->cap ? 2 * h->cap : 1024;
        h->slot = mc_malloc(h->cap * sizeof(int));
        memset(h->slot, 0xff, h->cap * sizeof(int));
        for (int v = 0; v < b->m.nverts; v++) {
            uint32_t i = hash3(b->m.verts + 3 * (size_t)v) & (h->cap - 1);
            while (h->slot[i] >= 0) i = (i + 1) & (h->cap - 1);
            h->slot[i] = v;
        }
    }
    for (uint32_t i = hash3(p) & (h->cap - 1);; i = (i + 1) & (h->cap - 1)) {
        int v = h->slot[i];
        if (v < 0) return h->slot[i] = mc_meshbuf_vert(b, p[0], p[1], p[2]);
        if (!memcmp(b->m.verts + 3 * (size_t)v, p, sizeof p)) return v;
    }
}

static float le_float(const unsigned char *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static int read_binary(const char *name, const unsigned char *buf, uint32_t n, mc_mesh *m, char *err)
{
    mc_meshbuf b = {0};
    vmap h = {0};
    mc_meshbuf_reserve(&b, (int)(n / 2 + 3), (int)n);
    for (uint32_t t = 0; t < n; t++) {
        const unsigned char *p = buf + 84 + 50 * (size_t)t + 12;   /* skip the facet normal */
        int idx[3];
        for (int k = 0; k < 3; k++, p += 12) {
            float x = le_float(p), y = le_float(p + 4), z = le_float(p + 8);
            if (!mc_coord_ok(x) || !mc_coord_ok(y) || !mc_coord_ok(z)) {
                mc_set_err(err, "%s (triangle %u): vertex coordinate is not a finite number", name, t);
                free(h.slot);
                mc_mesh_free(&b.m);
                return 1;
            }
            idx[k] = vmap_add(&h, &b, x, y, z);
        }
        mc_meshbuf_tri(&b, idx[0], idx[1], idx[2]);
    }
    free(h.slot);
    return mc_meshbuf_finish(&b, name, m, err);
}

static int read_ascii(const char *name, const char *buf, size_t len, mc_mesh *m, char *err)
{
    mc_text t;
    const char *ts, *te;
    mc_meshbuf b = {0};
    vmap h = {0};
    int *poly = NULL, n = 0, pcap = 0;
    mc_text_init(&t, buf, len);
    while (mc_text_token(&t, &ts, &te)) {
        if (mc_token_is(ts, te, "vertex")) {
            double x[3];
            for (int k = 0; k < 3; k++) {
                if (!mc_text_token(&t, &ts, &te) || !mc_token_double(ts, te, &x[k])) {
                    mc_set_err(err, "%s:%d: 'vertex' needs three numbers", name, t.line);
                    goto fail;
                }
                if (!mc_coord_ok(x[k])) {
                    mc_set_err(err, "%s:%d: vertex coordinate '%.*s' is not a finite number", name, t.line,
                               (int)(te - ts), ts);
                    goto fail;
                }
            }
            if (n == pcap) poly = mc_realloc(poly, (size_t)(pcap = pcap ? 2 * pcap : 8) * sizeof(int));
            poly[n++] = vmap_add(&h, &b, (float)x[0], (float)x[1], (float)x[2]);
        } else if (mc_token_is(ts, te, "endloop") || mc_token_is(ts, te, "endfacet") || mc_token_is(ts, te, "facet")) {
            /* A facet ends at endloop; "facet" closes a loop someone forgot to end. */
            if (mc_meshbuf_fan(&b, poly, n)) {
                mc_set_err(err, "%s:%d: too many triangles (the limit is %d)", name, t.line, MC_MESH_MAX);
                goto fail;
            }
            n = 0;
        }
    }
    mc_meshbuf_fan(&b, poly, n);
    free(poly);
    free(h.slot);
    if (b.m.nverts == 0) {
        mc_set_err(err, "%s: no 'vertex' lines found (an ascii STL holds 'facet ... vertex x y z ... endfacet')", name);
        return 1;
    }
    if (b.m.nfaces == 0) {
        mc_set_err(err, "%s: no complete triangles found (each facet needs three vertices)", name);
        mc_mesh_free(&b.m);
        return 1;
    }
    return mc_meshbuf_finish(&b, name, m, err);
fail:
    free(poly);
    free(h.slot);
    mc_mesh_free(&b.m);
    return 1;
}

int mc_read_stl(const char *name, const char *buf, size_t len, mc_mesh *m, char *err)
{
    /* Binary files may also start with "solid", so the size test comes first. */
    const unsigned char *u = (const unsigned char *)buf;
    uint64_t n = len >= 84 ? ((uint32_t)u[80] | (uint32_t)u[81] << 8 | (uint32_t)u[82] << 16 | (uint32_t)u[83] << 24) : 0;
    if (len >= 84 && 84 + 50 * n == len) return read_binary(name, u, (uint32_t)n, m, err);
    mc_text t;
    const char *ts, *te;
    mc_text_init(&t, buf, len);
    /* A NUL byte means binary whatever the first word says: a truncated binary file should say so. */
    int text = !memchr(buf, 0, len);
    if (text && mc_text_token(&t, &ts, &te) && mc_token_is(ts, te, "solid")) return read_ascii(name, buf, len, m, err);
    if (len >= 84 && 84 + 50 * n < len) return read_binary(name, u, (uint32_t)n, m, err);   /* trailing bytes */
    if (len < 84)
        mc_set_err(err, "%s: not an STL file (too short for binary STL, and no 'solid' to start ascii STL)", name);
    else
        mc_set_err(err, "%s: binary STL header promises %llu triangles (%llu bytes) but the file has %zu bytes "
                   "(truncated?)", name, (unsigned long long)n, (unsigned long long)(84 + 50 * n), len);
    return 1;
}
