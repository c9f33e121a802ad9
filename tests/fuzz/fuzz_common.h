/* What every fuzz target checks (make fuzz). A failed parse must leave the mesh empty with a message; a
 * successful one must keep its promises (indices in range, finite coordinates, no triangle with a
 * repeated corner), and must survive writing as OBJ and as PLY and reading back bit for bit. */
#ifndef MACHE_FUZZ_COMMON_H
#define MACHE_FUZZ_COMMON_H
#include "mesh/mesh_parse.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check(const mc_mesh *m)
{
    if (m->nverts <= 0) abort();
    for (int i = 0; i < 3 * m->nverts; i++)
        if (!isfinite(m->verts[i])) abort();
    for (int i = 0; i < m->nfaces; i++) {
        const int *t = m->faces + 3 * i;
        for (int k = 0; k < 3; k++)
            if (t[k] < 0 || t[k] >= m->nverts) abort();
        if (t[0] == t[1] || t[1] == t[2] || t[0] == t[2]) abort();
    }
}

static void fuzz_round_trip(const mc_mesh *m, int format)
{
    char *buf = NULL, err[MC_ERRLEN];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (format == MC_MESH_OBJ) mc_write_obj(f, m);
    else mc_write_ply(f, m);
    fclose(f);
    mc_mesh back;
    if (mc_mesh_parse("round trip", buf, len, format, &back, err)) { fprintf(stderr, "%s\n", err); abort(); }
    if (back.nverts != m->nverts || back.nfaces != m->nfaces
        || memcmp(back.verts, m->verts, 12 * (size_t)m->nverts)
        || (m->nfaces && memcmp(back.faces, m->faces, 12 * (size_t)m->nfaces))) abort();
    mc_mesh_free(&back);
    free(buf);
}

static int fuzz_mesh(const uint8_t *data, size_t size, int format, const char *name)
{
    mc_mesh m;
    char err[MC_ERRLEN];
    err[0] = 0;
    if (mc_mesh_parse(name, (const char *)data, size, format, &m, err) != 0) {
        if (m.verts || m.faces || m.nverts || m.nfaces || !err[0] || strchr(err, '\n')) abort();
        return 0;
    }
    fuzz_check(&m);
    fuzz_round_trip(&m, MC_MESH_OBJ);
    fuzz_round_trip(&m, MC_MESH_PLY);
    mc_mesh_free(&m);
    return 0;
}

#endif
