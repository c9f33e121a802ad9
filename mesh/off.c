/* OFF (Princeton/ModelNet): a header line "OFF", then "nverts nfaces nedges", one vertex per line, one
 * face per line as "n i1 .. in [colour]". ModelNet glues the counts to the keyword ("OFF490 518 0");
 * COFF/NOFF/STOFF variants carry extra numbers per line, which we skip. */
#include "mesh/mesh_parse.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* The next line that is not blank once its '#' comment is removed. */
static int content_line(mc_text *t, const char **s, const char **e)
{
    while (mc_text_line(t, s, e)) {
        const char *hash = memchr(*s, '#', (size_t)(*e - *s));
        if (hash) *e = hash;
        const char *p = *s, *ts, *te;
        if (mc_token(&p, *e, &ts, &te)) return 1;
    }
    return 0;
}

int mc_read_off(const char *name, const char *buf, size_t len, mc_mesh *m, char *err)
{
    mc_text t;
    const char *s, *e, *ts, *te;
    mc_text_init(&t, buf, len);
    if (!content_line(&t, &s, &e)) {
        mc_set_err(err, "%s: no OFF header (the file holds only blanks or comments)", name);
        return 1;
    }
    while (s < e && isspace((unsigned char)*s)) s++;
    const char *kw = s;
    while (s < e && isalpha((unsigned char)*s)) s++;
    int kwlen = (int)(s - kw), ok = kwlen >= 3 && mc_token_is(s - 3, s, "off");
    for (const char *p = kw; ok && p < s - 3; p++) ok = strchr("STCNstcn", *p) != NULL;
    if (!ok) {
        mc_set_err(err, "%s:%d: not an OFF file (the first line should start with 'OFF', found '%.*s')",
                   name, t.line, kwlen ? kwlen : (int)(e - kw > 20 ? 20 : e - kw), kw);
        return 1;
    }
    /* The counts follow the keyword on the same line, or on the next line. */
    long long count[3] = { 0, 0, 0 };
    int ncount = 0;
    for (int pass = 0; pass < 2 && ncount == 0; pass++) {
        if (pass == 1 && !content_line(&t, &s, &e)) break;
        while (ncount < 3 && mc_token(&s, e, &ts, &te)) {
            if (mc_token_is(ts, te, "binary")) {
                mc_set_err(err, "%s:%d: binary OFF is not supported (convert it to ascii OFF)", name, t.line);
                return 1;
            }
            if (!mc_token_long(ts, te, &count[ncount])) break;
            ncount++;
        }
    }
    long long nv = count[0], nf = count[1];
    if (ncount < 2 || nv < 0 || nf < 0) {
        mc_set_err(err, "%s:%d: expected the counts 'nverts nfaces nedges' after the OFF keyword", name, t.line);
        return 1;
    }
    /* Never trust a count before checking it against the bytes left: a vertex line takes at least 6
     * ("0 0 0\n"), a face line at least 2. */
    long long left = (long long)(t.end - t.p);
    if (nv > MC_MESH_MAX || nf > MC_MESH_MAX || nv * 6 + nf * 2 > left + 1) {
        mc_set_err(err, "%s:%d: header promises %lld vertices and %lld faces, more than the %lld bytes "
                   "that follow can hold (corrupt or truncated file?)", name, t.line, nv, nf, left);
        return 1;
    }

    mc_meshbuf b = {0};
    mc_meshbuf_reserve(&b, (int)nv, (int)nf);
    int *poly = NULL, pcap = 0;
    for (long long i = 0; i < nv; i++) {
        if (!content_line(&t, &s, &e)) {
            mc_set_err(err, "%s:%d: expected %lld vertices, found %lld (file truncated?)", name, t.line, nv, i);
            goto fail;
        }
        double x[3];
        for (int k = 0; k < 3; k++) {
            if (!mc_token(&s, e, &ts, &te) || !mc_token_double(ts, te, &x[k])) {
                mc_set_err(err, "%s:%d: a vertex needs three numbers (vertex %lld of %lld)", name, t.line, i, nv);
                goto fail;
            }
            if (!mc_coord_ok(x[k])) {
                mc_set_err(err, "%s:%d: vertex coordinate '%.*s' is not a finite number", name, t.line,
                           (int)(te - ts), ts);
                goto fail;
            }
        }
        mc_meshbuf_vert(&b, (float)x[0], (float)x[1], (float)x[2]);
    }
    for (long long i = 0; i < nf; i++) {
        long long n;
        if (!content_line(&t, &s, &e)) {
            mc_set_err(err, "%s:%d: expected %lld faces, found %lld (file truncated?)", name, t.line, nf, i);
            goto fail;
        }
        if (!mc_token(&s, e, &ts, &te) || !mc_token_long(ts, te, &n) || n < 0 || n > (e - s) / 2) {
            mc_set_err(err, "%s:%d: a face starts with its number of corners, then that many indices "
                       "(found '%.*s')", name, t.line, (int)(te - ts > 20 ? 20 : te - ts), ts);
            goto fail;
        }
        if (n > pcap) poly = mc_realloc(poly, (size_t)(pcap = (int)n) * sizeof(int));
        for (int k = 0; k < n; k++) {
            long long idx;
            if (!mc_token(&s, e, &ts, &te)) {
                mc_set_err(err, "%s:%d: face has fewer indices than its count %lld", name, t.line, n);
                goto fail;
            }
            if (!mc_token_long(ts, te, &idx)) {
                mc_set_err(err, "%s:%d: bad face index '%.*s'", name, t.line, (int)(te - ts > 20 ? 20 : te - ts), ts);
                goto fail;
            }
            if (idx < 0 || idx >= nv) {
                mc_set_err(err, "%s:%d: face index %lld out of range (file has %lld vertices)",
                           name, t.line, idx, nv);
                goto fail;
            }
            poly[k] = (int)idx;
        }
        if (mc_meshbuf_fan(&b, poly, (int)n)) {
            mc_set_err(err, "%s:%d: too many triangles (the limit is %d)", name, t.line, MC_MESH_MAX);
            goto fail;
        }
    }
    free(poly);
    return mc_meshbuf_finish(&b, name, m, err);
fail:
    free(poly);
    mc_mesh_free(&b.m);
    return 1;
}
