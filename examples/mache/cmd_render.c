/* mache render: a contact sheet of meshes and point clouds, one cell per file. */
#include "pictures/png.h"
#include "pictures/render.h"
#include "examples/mache/args.h"
#include "examples/mache/commands.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "input", "recon" or "R,G,B" */
static int parse_color(const char *s, uint8_t rgb[3])
{
    if (!strcmp(s, "input")) { memcpy(rgb, mc_color_input, 3); return 0; }
    if (!strcmp(s, "recon")) { memcpy(rgb, mc_color_recon, 3); return 0; }
    int r, g, b;
    char end;
    if (sscanf(s, "%d,%d,%d%c", &r, &g, &b, &end) != 3 || r < 0 || g < 0 || b < 0 || r > 255 || g > 255 || b > 255)
        return 1;
    rgb[0] = (uint8_t)r; rgb[1] = (uint8_t)g; rgb[2] = (uint8_t)b;
    return 0;
}

/* "dir/chair_0001.obj" -> "chair_0001" */
static void file_label(const char *path, char *out, size_t n)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    int len = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    snprintf(out, n, "%.*s", len, base);
}

int cmd_render(int argc, char **argv)
{
    const char *out = NULL, *color = NULL;
    int cols = 0, size = 256, labels = 0, wire = 0, patches = 0, pairs = 0, ortho = 0, smooth = 0, no_fit = 0, fixed_view = 0;
    mc_render_opts ro = mc_render_defaults();
    const mc_opt opts[] = {
        {"out", OPT_STR, &out, "the picture to write (PNG)"},
        {"cols", OPT_INT, &cols, "cells per row (default: a roughly square sheet)"},
        {"size", OPT_INT, &size, "cell size in pixels (default 256)"},
        {"labels", OPT_FLAG, &labels, "write each file's name under its cell"},
        {"pairs", OPT_FLAG, &pairs, "files come as input,reconstruction pairs: grey-blue and orange, side by side"},
        {"patches", OPT_FLAG, &patches, "colour each connected piece (an AtlasNet patch) from a palette"},
        {"wire", OPT_FLAG, &wire, "dark lines on patch borders (with --patches), else on every triangle edge"},
        {"color", OPT_STR, &color, "surface colour: input, recon or R,G,B (default input)"},
        {"smooth", OPT_FLAG, &smooth, "smooth shading from vertex normals instead of facets"},
        {"ortho", OPT_FLAG, &ortho, "orthographic instead of perspective projection"},
        {"azimuth", OPT_FLOAT, &ro.azimuth, "camera azimuth in degrees around Y (default 45)"},
        {"elevation", OPT_FLOAT, &ro.elevation, "camera elevation in degrees (default 25)"},
        {"point-size", OPT_FLOAT, &ro.point_radius, "splat radius for point clouds, in units of the shape's radius"},
        {"no-fit", OPT_FLAG, &no_fit, "keep coordinates as they are (shapes already in the unit ball)"},
        {"fixed-view", OPT_FLAG, &fixed_view, "keep the camera at --azimuth/--elevation and scale the shape's ball to the cell "
                                              "(default: turn towards the widest side and fill the cell with the shape)"},
        {NULL, 0, NULL, NULL}};
    const char **files = mc_malloc(sizeof(char *) * (size_t)argc);
    int nfiles = 0, rc = mc_parse_args(argc, argv, opts, "FILE... --out PNG [options]", files, argc, &nfiles);
    if (rc) { free(files); return rc == 2 ? 0 : 1; }

    const char *problem = NULL;
    uint8_t base[3];
    memcpy(base, mc_color_input, 3);
    if (!out) problem = "--out PNG is required";
    else if (nfiles == 0) problem = "no input files (usage: mache render FILE... --out PNG)";
    else if (size < 16 || size > 4096) problem = "--size must be between 16 and 4096 pixels";
    else if (cols < 0) problem = "--cols must be positive";
    else if (pairs && nfiles % 2) problem = "--pairs needs an even number of files (input, reconstruction, ...)";
    else if (pairs && cols % 2) problem = "--cols must be even with --pairs";
    else if (color && parse_color(color, base)) problem = "--color expects input, recon or R,G,B with values 0..255";
    else if (!(ro.point_radius >= 0 && ro.point_radius < 1)) problem = "--point-size must be in [0, 1)";
    if (problem) {
        fprintf(stderr, "mache render: %s\n", problem);
        free(files);
        return 1;
    }
    if (!cols) {
        int units = pairs ? nfiles / 2 : nfiles;
        cols = units <= 4 ? units : (int)ceil(sqrt((double)units));
        if (pairs) cols *= 2;
    }
    if ((double)cols * size * ((nfiles + cols - 1) / cols) * size > 1e8) {
        fprintf(stderr, "mache render: a sheet of %d cells of %d pixels is too large (hint: a smaller --size)\n", nfiles, size);
        free(files);
        return 1;
    }
    memcpy(ro.color, base, 3);
    ro.fov = ortho ? 0 : ro.fov;
    ro.smooth = smooth;
    ro.fit = !no_fit;
    ro.frame = !fixed_view;

    mc_sheet sheet;
    mc_sheet_init(&sheet, nfiles, cols, size, labels);
    char err[MC_ERRLEN];
    rc = 0;
    for (int i = 0; i < nfiles && !rc; i++) {
        mc_mesh m;
        if (mc_mesh_load(files[i], &m, err)) {
            fprintf(stderr, "mache render: %s\n", err);
            rc = 1;
            break;
        }
        int *patch = NULL;
        if (patches && m.nfaces > 0) {
            patch = mc_malloc(sizeof(int) * (size_t)m.nfaces);
            mc_mesh_pieces(&m, patch);
        }
        mc_render_opts o = ro;
        o.wire = wire && (m.nfaces > 0);
        if (pairs) memcpy(o.color, i % 2 ? mc_color_recon : mc_color_input, 3);
        char label[256];
        file_label(files[i], label, sizeof label);
        mc_sheet_draw(&sheet, i, &m, patch, &o, label);
        free(patch);
        mc_mesh_free(&m);
    }
    if (!rc && mc_png_save(out, sheet.img, err)) {
        fprintf(stderr, "mache render: %s\n", err);
        rc = 1;
    }
    if (!rc) printf("wrote %s (%dx%d, %d cell%s)\n", out, sheet.img->w, sheet.img->h, nfiles, nfiles == 1 ? "" : "s");
    mc_sheet_free(&sheet);
    free(files);
    return rc;
}
