/* Wavefront OBJ: `v x y z` and `f a b c ...` lines. Normals, texture coordinates, groups, materials,
 * lines and points are skipped; polygons become triangle fans. */
#include "mesh/mesh_parse.h"
#include <stdlib.h>
#include <string.h>

static int first_token_is(const char *s, const char *e, const char *word)
{
    const char *ts, *te;
    return mc_token(&s, e, &ts, &te) && mc_token_is(ts, te, word);
}

int mc_read_obj(const char *name, const char *buf, size_t len, mc_mesh *m, char *err)
{
    mc_text t;
    const char *s, *e, *ts, *te;

    /* Count the vertices first: a face may name a vertex defined further down, and the message for a bad
     * index should say how many the file really has. */
    long long total = 0;
    mc_text_init(&t, buf, len);
    while (mc_text_line(&t, &s, &e)) total += first_token_is(s, e, "v");

    mc_meshbuf b = {0};
    if (total > MC_MESH_MAX) {
        mc_set_err(err, "%s: too many vertices (%lld; the limit is %d)", name, total, MC_MESH_MAX);
        return 1;
    }
    mc_meshbuf_reserve(&b, (int)total, 0);
    int *poly = NULL, pcap = 0;
    mc_text_init(&t, buf, len);
    while (mc_text_line(&t, &s, &e)) {
        const char *hash = memchr(s, '#', (size_t)(e - s));
        if (hash) e = hash;
        if (!mc_token(&s, e, &ts, &te)) continue;
        if (mc_token_is(ts, te, "v")) {
            double x[3];
            for (int k = 0; k < 3; k++) {
                if (!mc_token(&s, e, &ts, &te) || !mc_token_double(ts, te, &x[k])) {
                    mc_set_err(err, "%s:%d: a vertex needs three numbers ('v x y z')", name, t.line);
                    goto fail;
                }
                if (!mc_coord_ok(x[k])) {
                    mc_set_err(err, "%s:%d: vertex coordinate '%.*s' is not a finite number", name, t.line,
                               (int)(te - ts), ts);
                    goto fail;
                }
            }
            mc_meshbuf_vert(&b, (float)x[0], (float)x[1], (float)x[2]);
        } else if (mc_token_is(ts, te, "f")) {
            int n = 0;
            while (mc_token(&s, e, &ts, &te)) {
                const char *slash = memchr(ts, '/', (size_t)(te - ts));
                long long idx;
                if (!mc_token_long(ts, slash ? slash : te, &idx)) {
                    mc_set_err(err, "%s:%d: bad face index '%.*s' (expected v, v/vt, v/vt/vn or v//vn)",
                               name, t.line, (int)(te - ts), ts);
                    goto fail;
                }
                if (idx == 0) {
                    mc_set_err(err, "%s:%d: face index 0 is invalid (OBJ indices start at 1)", name, t.line);
                    goto fail;
                }
                if (idx > total) {
                    mc_set_err(err, "%s:%d: face index %lld out of range (file has %lld vertices)",
                               name, t.line, idx, total);
                    goto fail;
                }
                if (idx < 0 && -idx > b.m.nverts) {
                    mc_set_err(err, "%s:%d: face index %lld out of range (%d vertices before this line)",
                               name, t.line, idx, b.m.nverts);
                    goto fail;
                }
                if (n == pcap) poly = mc_realloc(poly, (size_t)(pcap = pcap ? 2 * pcap : 16) * sizeof(int));
                poly[n++] = idx > 0 ? (int)(idx - 1) : b.m.nverts + (int)idx;   /* negative: counted back */
            }
            if (mc_meshbuf_fan(&b, poly, n)) {
                mc_set_err(err, "%s:%d: too many triangles (the limit is %d)", name, t.line, MC_MESH_MAX);
                goto fail;
            }
        }
    }
    free(poly);
    return mc_meshbuf_finish(&b, name, m, err);
fail:
    free(poly);
    mc_mesh_free(&b.m);
    return 1;
}

void mc_write_obj(FILE *f, const mc_mesh *m)
{
    /* %.9g keeps every float exactly. */
    fprintf(f, "# mache: %d vertices, %d triangles\n", m->nverts, m->nfaces);
    for (int i = 0; i < m->nverts; i++) {
        const float *v = m->verts + 3 * (size_t)i;
        fprintf(f, "v %.9g %.9g %.9g\n", v[0], v[1], v[2]);
    }
    for (int i = 0; i < m->nfaces; i++) {
        const int *t = m->faces + 3 * (size_t)i;
        fprintf(f, "f %d %d %d\n", t[0] + 1, t[1] + 1, t[2] + 1);
    }
}
