/* PLY (Stanford): a text header listing elements and their properties, then the data as ascii or as
 * little- or big-endian binary. We keep the vertex element's x, y, z (any numeric type) and the face
 * element's index list (any integer types); every other property and element is skipped. */
#include "mesh/mesh_parse.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { ASCII, LITTLE, BIG };
enum { I8, U8, I16, U16, I32, U32, F32, F64, NTYPES };
static const struct { const char *name, *alias; int size; } types[NTYPES] = {
    { "char", "int8", 1 },   { "uchar", "uint8", 1 },   { "short", "int16", 2 },  { "ushort", "uint16", 2 },
    { "int", "int32", 4 },   { "uint", "uint32", 4 },   { "float", "float32", 4 }, { "double", "float64", 8 },
};
enum { SKIP, X, Y, Z, INDICES };
enum { MAX_ELEMS = 32, MAX_PROPS = 256 };

typedef struct { int type, count_type, role; } ply_prop;   /* count_type < 0: a scalar, else a list */
typedef struct { char name[32]; long long count; int nprops; ply_prop props[MAX_PROPS]; } ply_elem;

typedef struct {
    const char *name;
    int format;
    mc_text t;                              /* the cursor, for ascii and binary alike */
    const char *elem; long long item;       /* where we are, for messages about binary data */
} ply_reader;

static int type_of(const char *ts, const char *te)
{
    for (int i = 0; i < NTYPES; i++)
        if (mc_token_is(ts, te, types[i].name) || mc_token_is(ts, te, types[i].alias)) return i;
    return -1;
}

/* "file.ply:12" for ascii data, "file.ply (face 12)" for binary. */
static const char *where(const ply_reader *r, char *buf, size_t n)
{
    if (r->format == ASCII) snprintf(buf, n, "%s:%d", r->name, r->t.line);
    else snprintf(buf, n, "%s (%s %lld)", r->name, r->elem, r->item);
    return buf;
}

static double decode(const unsigned char *p, int type, int big)
{
    int n = types[type].size;
    uint64_t u = 0;
    for (int i = 0; i < n; i++) u |= (uint64_t)p[big ? n - 1 - i : i] << (8 * i);
    switch (type) {
    case I8:  return (int8_t)u;
    case U8:  return (uint8_t)u;
    case I16: return (int16_t)u;
    case U16: return (uint16_t)u;
    case I32: return (int32_t)u;
    case U32: return (uint32_t)u;
    case F32: { uint32_t w = (uint32_t)u; float f; memcpy(&f, &w, 4); return f; }
    default:  { double d; memcpy(&d, &u, 8); return d; }
    }
}

static int read_value(ply_reader *r, int type, double *v, char *err)
{
    char at[400];
    if (r->format == ASCII) {
        const char *ts, *te;
        if (!mc_text_token(&r->t, &ts, &te)) goto eof;
        if (!mc_token_double(ts, te, v)) {
            mc_set_err(err, "%s: expected a number in element '%s', found '%.*s'", where(r, at, sizeof at),
                       r->elem, (int)(te - ts > 20 ? 20 : te - ts), ts);
            return 1;
        }
        return 0;
    }
    if (r->t.end - r->t.p < types[type].size) goto eof;
    *v = decode((const unsigned char *)r->t.p, type, r->format == BIG);
    r->t.p += types[type].size;
    return 0;
eof:
    mc_set_err(err, "%s: file ends inside element '%s' %lld (truncated, or the header promises too much)",
               r->name, r->elem, r->item);
    return 1;
}

/* Bytes one item of an element takes at least: used to check a header's counts against the file size. */
static long long min_bytes(const ply_elem *el, int format)
{
    long long n = 0;
    for (int i = 0; i < el->nprops; i++) {
        const ply_prop *p = &el->props[i];
        n += format == ASCII ? 2 : types[p->count_type >= 0 ? p->count_type : p->type].size;
    }
    return n;
}

static int parse_header(ply_reader *r, ply_elem *elems, int *nelems, char *err)
{
    const char *s, *e, *ts, *te;
    if (!mc_text_line(&r->t, &s, &e) || !mc_token(&s, e, &ts, &te) || !mc_token_is(ts, te, "ply")) {
        mc_set_err(err, "%s:1: not a PLY file (the first line should be 'ply')", r->name);
        return 1;
    }
    r->format = -1;
    *nelems = 0;
    while (mc_text_line(&r->t, &s, &e)) {
        int line = r->t.line;
        if (!mc_token(&s, e, &ts, &te) || mc_token_is(ts, te, "comment") || mc_token_is(ts, te, "obj_info"))
            continue;
        if (mc_token_is(ts, te, "end_header")) {
            if (r->format < 0) { mc_set_err(err, "%s:%d: no 'format' line in the header", r->name, line); return 1; }
            return 0;
        }
        if (mc_token_is(ts, te, "format")) {
            if (!mc_token(&s, e, &ts, &te)) ts = te = s;
            r->format = mc_token_is(ts, te, "ascii") ? ASCII : mc_token_is(ts, te, "binary_little_endian") ? LITTLE
                      : mc_token_is(ts, te, "binary_big_endian") ? BIG : -1;
            if (r->format < 0) {
                mc_set_err(err, "%s:%d: unknown PLY format '%.*s' (expected ascii, binary_little_endian or "
                           "binary_big_endian)", r->name, line, (int)(te - ts > 30 ? 30 : te - ts), ts);
                return 1;
            }
        } else if (mc_token_is(ts, te, "element")) {
            if (*nelems == MAX_ELEMS) {
                mc_set_err(err, "%s:%d: more than %d elements in the header", r->name, line, MAX_ELEMS);
                return 1;
            }
            ply_elem *el = &elems[(*nelems)++];
            el->nprops = 0;
            const char *ns, *ne;
            if (!mc_token(&s, e, &ns, &ne) || !mc_token(&s, e, &ts, &te) || !mc_token_long(ts, te, &el->count)
                || el->count < 0) {
                mc_set_err(err, "%s:%d: expected 'element NAME COUNT'", r->name, line);
                return 1;
            }
            snprintf(el->name, sizeof el->name, "%.*s", (int)(ne - ns), ns);
        } else if (mc_token_is(ts, te, "property")) {
            if (*nelems == 0) {
                mc_set_err(err, "%s:%d: property before any element", r->name, line);
                return 1;
            }
            ply_elem *el = &elems[*nelems - 1];
            if (el->nprops == MAX_PROPS) {
                mc_set_err(err, "%s:%d: more than %d properties in element '%s'", r->name, line, MAX_PROPS, el->name);
                return 1;
            }
            ply_prop *p = &el->props[el->nprops];
            p->count_type = -1;
            int ok = mc_token(&s, e, &ts, &te);
            if (ok && mc_token_is(ts, te, "list")) {
                ok = mc_token(&s, e, &ts, &te) && (p->count_type = type_of(ts, te)) >= 0 && p->count_type < F32
                     && mc_token(&s, e, &ts, &te);
            }
            ok = ok && (p->type = type_of(ts, te)) >= 0 && mc_token(&s, e, &ts, &te);
            if (!ok) {
                mc_set_err(err, "%s:%d: expected 'property TYPE NAME' or 'property list COUNTTYPE TYPE NAME' "
                           "(types: char uchar short ushort int uint float double)", r->name, line);
                return 1;
            }
            p->role = SKIP;
            int vertex = !strcmp(el->name, "vertex"), face = !strcmp(el->name, "face");
            if (vertex && p->count_type < 0) {
                if (mc_token_is(ts, te, "x")) p->role = X;
                if (mc_token_is(ts, te, "y")) p->role = Y;
                if (mc_token_is(ts, te, "z")) p->role = Z;
            }
            if (face && p->count_type >= 0 && p->type < F32
                && (mc_token_is(ts, te, "vertex_indices") || mc_token_is(ts, te, "vertex_index")))
                p->role = INDICES;
            el->nprops++;
        } else {
            mc_set_err(err, "%s:%d: unknown header line '%.*s'", r->name, line, (int)(e - ts > 30 ? 30 : e - ts), ts);
            return 1;
        }
    }
    mc_set_err(err, "%s: the header has no 'end_header' line", r->name);
    return 1;
}

int mc_read_ply(const char *name, const char *buf, size_t len, mc_mesh *m, char *err)
{
    ply_reader r = { .name = name, .elem = "header" };
    ply_elem *elems = mc_malloc(MAX_ELEMS * sizeof *elems);
    mc_meshbuf b = {0};
    int *poly = NULL, pcap = 0, nelems;
    char at[400];
    mc_text_init(&r.t, buf, len);
    if (parse_header(&r, elems, &nelems, err)) goto fail;

    /* Check every count against the bytes left before allocating anything. */
    long long nv = -1, left = (long long)(r.t.end - r.t.p), need = 0;
    int has[INDICES + 1] = { 0 };
    for (int i = 0; i < nelems; i++) {
        long long per = min_bytes(&elems[i], r.format);
        if (per && elems[i].count > (left + 1) / per) need = left + 2;
        else need += elems[i].count * per;
        if (need > left + 1) {
            mc_set_err(err, "%s: header promises %lld '%s' elements, more than the %lld bytes of data can hold "
                       "(corrupt or truncated file?)", name, elems[i].count, elems[i].name, left);
            goto fail;
        }
        if (!strcmp(elems[i].name, "vertex")) {
            if (nv >= 0) {
                mc_set_err(err, "%s: two 'vertex' elements in the header (expected one)", name);
                goto fail;
            }
            nv = elems[i].count;
            for (int k = 0; k < elems[i].nprops; k++) has[elems[i].props[k].role] = 1;
        }
    }
    if (nv < 0 || !has[X] || !has[Y] || !has[Z]) {
        mc_set_err(err, "%s: no 'vertex' element with x, y and z properties in the header", name);
        goto fail;
    }
    if (nv > MC_MESH_MAX) {
        mc_set_err(err, "%s: too many vertices (%lld; the limit is %d)", name, nv, MC_MESH_MAX);
        goto fail;
    }
    mc_meshbuf_reserve(&b, (int)nv, 0);

    for (int i = 0; i < nelems; i++) {
        const ply_elem *el = &elems[i];
        int vertex = !strcmp(el->name, "vertex");
        r.elem = el->name;
        for (r.item = 0; r.item < el->count && el->nprops > 0; r.item++) {
            double xyz[3] = { 0, 0, 0 }, v;
            for (int k = 0; k < el->nprops; k++) {
                const ply_prop *p = &el->props[k];
                if (p->count_type < 0) {
                    if (read_value(&r, p->type, &v, err)) goto fail;
                    if (p->role >= X && p->role <= Z) {
                        if (!mc_coord_ok(v)) {
                            mc_set_err(err, "%s: vertex coordinate %g is not a finite number", where(&r, at, sizeof at), v);
                            goto fail;
                        }
                        xyz[p->role - X] = v;
                    }
                    continue;
                }
                double count;
                if (read_value(&r, p->count_type, &count, err)) goto fail;
                long long room = (long long)(r.t.end - r.t.p) / (r.format == ASCII ? 1 : types[p->type].size);
                if (!(count >= 0 && count == floor(count) && count <= (double)room + 1)) {
                    mc_set_err(err, "%s: bad list length %g in element '%s' (negative, fractional, or longer "
                               "than the rest of the file)", where(&r, at, sizeof at), count, el->name);
                    goto fail;
                }
                int n = (int)count;
                if (p->role == INDICES && n > pcap) poly = mc_realloc(poly, (size_t)(pcap = n) * sizeof(int));
                for (int j = 0; j < n; j++) {
                    if (read_value(&r, p->type, &v, err)) goto fail;
                    if (p->role != INDICES) continue;
                    if (!(v >= 0 && v < (double)nv && v == floor(v))) {
                        mc_set_err(err, "%s: face index %g out of range (file has %lld vertices)",
                                   where(&r, at, sizeof at), v, nv);
                        goto fail;
                    }
                    poly[j] = (int)v;
                }
                if (p->role == INDICES && mc_meshbuf_fan(&b, poly, n)) {
                    mc_set_err(err, "%s: too many triangles (the limit is %d)", where(&r, at, sizeof at), MC_MESH_MAX);
                    goto fail;
                }
            }
            if (vertex) mc_meshbuf_vert(&b, (float)xyz[0], (float)xyz[1], (float)xyz[2]);
        }
    }
    free(poly);
    free(elems);
    return mc_meshbuf_finish(&b, name, m, err);
fail:
    free(poly);
    free(elems);
    mc_mesh_free(&b.m);
    return 1;
}

/* Binary little-endian, byte by byte so that the file is the same from any machine. */
static void put_u32(FILE *f, uint32_t u)
{
    unsigned char b[4] = { (unsigned char)u, (unsigned char)(u >> 8), (unsigned char)(u >> 16), (unsigned char)(u >> 24) };
    fwrite(b, 1, 4, f);
}

void mc_write_ply(FILE *f, const mc_mesh *m)
{
    fprintf(f, "ply\nformat binary_little_endian 1.0\ncomment written by mache\n"
               "element vertex %d\nproperty float x\nproperty float y\nproperty float z\n", m->nverts);
    if (m->nfaces) fprintf(f, "element face %d\nproperty list uchar int vertex_indices\n", m->nfaces);
    fprintf(f, "end_header\n");
    for (size_t i = 0; i < 3 * (size_t)m->nverts; i++) {
        uint32_t u;
        memcpy(&u, &m->verts[i], 4);
        put_u32(f, u);
    }
    for (size_t i = 0; i < (size_t)m->nfaces; i++) {
        fputc(3, f);
        for (int k = 0; k < 3; k++) put_u32(f, (uint32_t)m->faces[3 * i + k]);
    }
}
