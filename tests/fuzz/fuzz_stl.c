/* libFuzzer target for the STL reader (make fuzz). Parses the input from memory and checks what a
 * successful parse promises: indices in range, finite coordinates, no degenerate-corner triangles. */
#include "data/mesh.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mc_mesh m;
    char err[MC_ERRLEN];
    if (mc_mesh_parse("fuzz.stl", (const char *)data, size, MC_MESH_STL, &m, err) != 0) {
        if (m.verts || m.faces || m.nverts || m.nfaces || !err[0]) abort();   /* failures leave the mesh empty */
        return 0;
    }
    if (m.nverts <= 0) abort();
    for (int i = 0; i < 3 * m.nverts; i++)
        if (!isfinite(m.verts[i])) abort();
    for (int i = 0; i < m.nfaces; i++) {
        const int *t = m.faces + 3 * i;
        for (int k = 0; k < 3; k++)
            if (t[k] < 0 || t[k] >= m.nverts) abort();
        if (t[0] == t[1] || t[1] == t[2] || t[0] == t[2]) abort();
    }
    mc_mesh_free(&m);
    return 0;
}
