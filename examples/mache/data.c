/* mache data: write procedural meshes as OBJ files; mache mesh-info: describe mesh files. */
#include "examples/mache/args.h"
#include "examples/mache/commands.h"
#include "procedural/shapes.h"
#include <stdio.h>
#include <string.h>

int cmd_data(int argc, char **argv)
{
    const char *category = NULL, *out = NULL;
    int count = 0, seed = 0, npos;
    const mc_opt opts[] = {
        { "category", OPT_STR, &category, "plane, sword, chair, table, lamp, mug, car, or all" },
        { "count", OPT_INT, &count, "meshes to write (of each category for 'all')" },
        { "seed", OPT_INT, &seed, "seed of the shape family (default 0)" },
        { "out", OPT_STR, &out, "directory to write into (created if missing)" },
        { 0 },
    };
    int r = mc_parse_args(argc, argv, opts, "--category NAME --count N [--seed S] --out DIR", NULL, 0, &npos);
    if (r) return r == 2 ? 0 : 1;
    if (!category || !out || count <= 0) {
        fprintf(stderr, "mache data: needs --category, --count (> 0) and --out (see mache data --help)\n");
        return 1;
    }
    if (seed < 0) { fprintf(stderr, "mache data: --seed must be >= 0\n"); return 1; }
    int all = !strcmp(category, "all"), found = all;
    for (int c = 0; c < MC_PROCEDURAL_NCATEGORIES; c++) found |= !strcmp(category, mc_procedural_categories[c]);
    if (!found) {
        fprintf(stderr, "mache data: unknown category '%s' (try plane, sword, chair, table, lamp, mug, car or all)\n",
                category);
        return 1;
    }
    char err[MC_ERRLEN];
    if (mc_mkdir_p(out, err)) { fprintf(stderr, "mache data: %s\n", err); return 1; }
    int written = 0;
    for (int c = 0; c < MC_PROCEDURAL_NCATEGORIES; c++) {
        const char *name = mc_procedural_categories[c];
        if (!all && strcmp(name, category)) continue;
        for (int i = 0; i < count; i++) {
            char path[4200], err[MC_ERRLEN];
            mc_mesh m;
            snprintf(path, sizeof path, "%s/%s_%04d.obj", out, name, i);
            if (mc_procedural(name, i, (uint64_t)seed, &m, err) || mc_mesh_save(path, &m, err)) {
                fprintf(stderr, "mache data: %s\n", err);
                return 1;
            }
            mc_mesh_free(&m);
            written++;
        }
    }
    printf("wrote %d meshes to %s\n", written, out);
    return 0;
}

int cmd_mesh_info(int argc, char **argv)
{
    const char *files[4096];
    int n;
    const mc_opt opts[] = { { 0 } };
    int r = mc_parse_args(argc, argv, opts, "FILE...   (.obj .off .ply .stl)", files, 4096, &n);
    if (r) return r == 2 ? 0 : 1;
    if (n == 0) { fprintf(stderr, "mache mesh-info: no files given (usage: mache mesh-info FILE...)\n"); return 1; }
    int bad = 0;
    for (int i = 0; i < n; i++) {
        mc_mesh m;
        char err[MC_ERRLEN];
        if (mc_mesh_load(files[i], &m, err)) {
            fprintf(stderr, "mache mesh-info: %s\n", err);
            bad = 1;
            continue;
        }
        float lo[3], hi[3];
        mc_mesh_bounds(&m, lo, hi);
        printf("%s: %s, %d vertices, %d triangles%s, area %.6g, bbox [%.6g %.6g %.6g] .. [%.6g %.6g %.6g]\n",
               files[i], mc_mesh_format_name(mc_mesh_format(files[i])), m.nverts, m.nfaces,
               m.nfaces ? "" : " (point cloud)", mc_mesh_area(&m), lo[0], lo[1], lo[2], hi[0], hi[1], hi[2]);
        mc_mesh_free(&m);
    }
    return bad;
}
