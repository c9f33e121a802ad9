/* mache reconstruct | sample | interpolate: meshes from a trained model, as OBJ files and a contact
 * sheet (PNG) beside them. */
#include "examples/mache/args.h"
#include "examples/mache/commands.h"
#include "examples/mache/common.h"
#include "pictures/png.h"
#include "pictures/render.h"
#include "models/gmm.h"
#include "models/prior.h"
#include <stdlib.h>
#include <string.h>

typedef struct sheet_writer { mc_sheet sheet; int used; } sheet_writer;

static int save_mesh(const char *cmd, const char *dir, const char *name, const mc_mesh *mesh)
{
    char path[4200], err[MC_ERRLEN];
    snprintf(path, sizeof path, "%s/%s.obj", dir, name);
    if (mc_mesh_save(path, mesh, err)) { fprintf(stderr, "mache %s: %s\n", cmd, err); return 1; }
    return 0;
}

static void draw(sheet_writer *w, const mc_mesh *mesh, const int *patch, const uint8_t *color, const char *label)
{
    mc_render_opts ro = mc_render_defaults();
    memcpy(ro.color, color, 3);
    ro.fit = ro.frame = 1;   /* each shape framed so that thin ones show (a sword seen edge-on is a line) */
    mc_sheet_draw(&w->sheet, w->used++, mesh, patch, &ro, label);
}

static int save_sheet(const char *cmd, sheet_writer *w, const char *dir, const char *name)
{
    char path[4200], err[MC_ERRLEN];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int status = mc_png_save(path, w->sheet.img, err);
    if (status) fprintf(stderr, "mache %s: %s\n", cmd, err);
    else printf("picture: %s\n", path);
    mc_sheet_free(&w->sheet);
    return status;
}

/* The decoded mesh of one latent vector, with the patch of every face for colouring. */
static void decode_mesh(atlasnet *m, const float *z, int resolution, mc_mesh *mesh, int **patch)
{
    *patch = mc_malloc((size_t)atlas_mesh_faces(m, resolution) * sizeof **patch);
    atlas_mesh(m, z, resolution, mesh, *patch);
}

int cmd_reconstruct(int argc, char **argv)
{
    const char *ckpt = NULL, *data = NULL, *out = NULL, *split = "test";
    int count = 16, resolution = 10000;
    const mc_opt opts[] = {
        {"ckpt", OPT_STR, &ckpt, "trained model"},
        {"data", OPT_STR, &data, "shapes to reconstruct: folder or procedural:CATEGORY:COUNT[:SEED]"},
        {"split", OPT_STR, &split, "test (default), train or all"},
        {"out", OPT_STR, &out, "folder for NAME_input.obj, NAME_recon.obj and reconstructions.png"},
        {"count", OPT_INT, &count, "how many shapes (default 16)"},
        {"resolution", OPT_INT, &resolution, "vertices per reconstructed mesh (default 10000; AtlasNet uses ~30000)"},
        {0}};
    const char *pos[1];
    int npos, r = mc_parse_args(argc, argv, opts, "--ckpt CKPT --data SRC --out DIR [options]", pos, 0, &npos);
    if (r) return r == 2 ? 0 : 1;
    if (!ckpt || !data || !out) { fprintf(stderr, "mache reconstruct: --ckpt, --data and --out are required\n"); return 1; }
    if (count < 1 || resolution < 4) { fprintf(stderr, "mache reconstruct: --count must be >= 1 and --resolution >= 4\n"); return 1; }
    char err[MC_ERRLEN];
    atlasnet m;
    if (load_model("reconstruct", ckpt, &m)) return 1;
    mc_dataset ds;
    if (mc_mkdir_p(out, err)) { fprintf(stderr, "mache reconstruct: %s\n", err); atlas_free(&m); return 1; }
    if (open_data("reconstruct", data, split, 8 * m.cfg.points, 1, &ds)) { atlas_free(&m); return 1; }
    if (count > ds.nshapes) count = ds.nshapes;
    float *clouds = atlas_dataset_clouds(&ds, m.cfg.points, ATLAS_SEED_EVAL_CLOUDS), *mu = mc_malloc((size_t)count * m.cfg.latent * sizeof(float));
    atlas_encode_clouds(&m, clouds, count, mu, NULL);
    sheet_writer w = {0};
    mc_sheet_init(&w.sheet, 2 * count, 4, 200, 1);
    int status = 0;
    for (int s = 0; s < count && !status; s++) {
        mc_mesh input = {0}, recon;
        int *patch;
        char name[64];
        if (mc_dataset_mesh(&ds, s, &input, err)) { fprintf(stderr, "mache reconstruct: %s\n", err); status = 1; break; }
        decode_mesh(&m, mu + (int64_t)s * m.cfg.latent, resolution, &recon, &patch);
        snprintf(name, sizeof name, "%03d_input", s);
        status |= save_mesh("reconstruct", out, name, &input);
        draw(&w, &input, NULL, mc_color_input, name);
        snprintf(name, sizeof name, "%03d_recon", s);
        status |= save_mesh("reconstruct", out, name, &recon);
        draw(&w, &recon, patch, mc_color_recon, name);
        mc_mesh_free(&input); mc_mesh_free(&recon); free(patch);
    }
    if (!status) {
        printf("%d reconstructions of %s (%s split) at %d vertices in %s\n", count, data, split, resolution, out);
        status = save_sheet("reconstruct", &w, out, "reconstructions.png");
    } else mc_sheet_free(&w.sheet);
    free(clouds); free(mu);
    mc_dataset_free(&ds);
    atlas_free(&m);
    return status;
}

int cmd_sample(int argc, char **argv)
{
    const char *ckpt = NULL, *out = NULL, *prior = NULL, *fit = NULL;
    int count = 16, seed = 1, resolution = 10000, components = 10, clouds = 0, no_meshes = 0;
    float temperature = 1;
    const mc_opt opts[] = {
        {"ckpt", OPT_STR, &ckpt, "trained model"},
        {"count", OPT_INT, &count, "how many meshes (default 16)"},
        {"out", OPT_STR, &out, "folder for sample_NNN.obj and samples.png"},
        {"seed", OPT_INT, &seed, "seed for z (default 1)"},
        {"resolution", OPT_INT, &resolution, "vertices per mesh (default 10000)"},
        {"temperature", OPT_FLOAT, &temperature, "scale of the prior's spread (default 1)"},
        {"prior", OPT_STR, &prior, "flow: the checkpoint's learned prior (the default when it has one, see fit-prior); "
                                   "normal: z ~ N(0, I) (the default otherwise); gmm: a Gaussian mixture fitted to encoded shapes"},
        {"fit", OPT_STR, &fit, "with --prior gmm: the shapes whose latents it is fitted to (train split)"},
        {"components", OPT_INT, &components, "with --prior gmm: mixture components (default 10)"},
        {"clouds", OPT_INT, &clouds, "also write the decoder's own N output points per sample (clouds/cloud_NNN.ply; 2048 for eval --generated)"},
        {"no-meshes", OPT_FLAG, &no_meshes, "with --clouds: no OBJ files (samples.png still shows the first 16 meshes)"},
        {0}};
    const char *pos[1];
    int npos, r = mc_parse_args(argc, argv, opts, "--ckpt CKPT --count N --out DIR [--seed S]", pos, 0, &npos);
    if (r) return r == 2 ? 0 : 1;
    if (!ckpt || !out) { fprintf(stderr, "mache sample: --ckpt and --out are required\n"); return 1; }
    char err[MC_ERRLEN];
    atlas_prior flow;
    int have_flow = 0;
    if (!prior || !strcmp(prior, "flow")) {
        int got = atlas_prior_load(&flow, ckpt, err);
        if (got < 0 || (got > 0 && prior)) { fprintf(stderr, "mache sample: %s\n", err); return 1; }
        have_flow = got == 0;
        prior = have_flow ? "flow" : "normal";
    }
    int gmm = !strcmp(prior, "gmm");
    if (!gmm && !have_flow && strcmp(prior, "normal")) { fprintf(stderr, "mache sample: --prior must be flow, normal or gmm, got '%s'\n", prior); return 1; }
    if (gmm && !fit) { fprintf(stderr, "mache sample: --prior gmm needs --fit SRC (the shapes to fit it to)\n"); return 1; }
    if (count < 1 || resolution < 4 || components < 1 || clouds < 0) {
        fprintf(stderr, "mache sample: --count, --components must be >= 1, --resolution >= 4, --clouds >= 0\n");
        if (have_flow) atlas_prior_free(&flow);
        return 1;
    }
    atlasnet m;
    if (load_model("sample", ckpt, &m)) { if (have_flow) atlas_prior_free(&flow); return 1; }
    if (have_flow && flow.cfg.dim != m.cfg.latent) {
        fprintf(stderr, "mache sample: %s: the prior is over %d dimensions, the model's latent has %d\n", ckpt, flow.cfg.dim, m.cfg.latent);
        atlas_prior_free(&flow); atlas_free(&m);
        return 1;
    }
    if (mc_mkdir_p(out, err)) { fprintf(stderr, "mache sample: %s\n", err); atlas_free(&m); if (have_flow) atlas_prior_free(&flow); return 1; }
    int L = m.cfg.latent;
    float *z = mc_malloc((size_t)count * L * sizeof(float));
    mc_rng rng;
    mc_rng_seed(&rng, (uint64_t)seed);
    if (gmm) {
        mc_dataset ds;
        if (open_data("sample", fit, "train", 8 * m.cfg.points, 1, &ds)) { atlas_free(&m); free(z); return 1; }
        float *clouds = atlas_dataset_clouds(&ds, m.cfg.points, ATLAS_SEED_EVAL_CLOUDS), *mu = mc_malloc((size_t)ds.nshapes * L * sizeof(float));
        atlas_encode_clouds(&m, clouds, ds.nshapes, mu, NULL);
        mc_gmm g;
        mc_gmm_fit(&g, mu, ds.nshapes, L, components, 50, &rng);
        printf("fitted a %d-component Gaussian mixture to %d latent vectors of %s\n", g.k, ds.nshapes, fit);
        for (int s = 0; s < count; s++) mc_gmm_sample(&g, &rng, z + (int64_t)s * L);
        if (temperature != 1)     /* shrink each sample toward its component mean is not tracked: scale around the data mean */
            for (int s = 0; s < count; s++) for (int d = 0; d < L; d++) z[(int64_t)s * L + d] *= temperature;
        mc_gmm_free(&g);
        free(clouds); free(mu);
        mc_dataset_free(&ds);
    } else if (have_flow) {
        atlas_prior_sample(&flow, count, temperature, &rng, z);     /* N(0, T^2 I) through the inverse flow */
        atlas_prior_free(&flow);
    } else {
        mc_rng_fill_normal(&rng, z, (int64_t)count * L, 0, temperature);
    }
    int status = 0;
    if (clouds) {   /* the decoder's own points (random template samples): what generation metrics on
                     * point clouds compare, free of the mesh's uneven triangle areas */
        float *pts = mc_malloc((size_t)count * clouds * 3 * sizeof(float));
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/clouds", out);
        if ((status = mc_mkdir_p(dir, err))) fprintf(stderr, "mache sample: %s\n", err);
        mc_rng template_rng;
        mc_rng_seed(&template_rng, (uint64_t)seed);
        atlas_decode_latents(&m, z, count, clouds, &template_rng, pts);
        for (int s = 0; s < count && !status; s++) {
            char path[4300];
            mc_mesh cloud = {.verts = pts + (int64_t)s * clouds * 3, .nverts = clouds};
            snprintf(path, sizeof path, "%s/cloud_%03d.ply", dir, s);
            if ((status = mc_mesh_save(path, &cloud, err))) fprintf(stderr, "mache sample: %s\n", err);
        }
        free(pts);
    }
    if (no_meshes && !clouds) { fprintf(stderr, "mache sample: --no-meshes needs --clouds N\n"); status = 1; }
    int shown = no_meshes && count > 16 ? 16 : count;
    sheet_writer w = {0};
    mc_sheet_init(&w.sheet, shown, shown < 8 ? shown : 8, 200, 1);
    for (int s = 0; s < shown && !status; s++) {
        mc_mesh mesh;
        int *patch;
        char name[64];
        decode_mesh(&m, z + (int64_t)s * L, resolution, &mesh, &patch);
        snprintf(name, sizeof name, "sample_%03d", s);
        if (!no_meshes) status = save_mesh("sample", out, name, &mesh);
        draw(&w, &mesh, patch, mc_color_recon, name);
        mc_mesh_free(&mesh); free(patch);
    }
    if (!status) {
        printf("%d samples (prior %s, seed %d) in %s\n", count, prior, seed, out);
        status = save_sheet("sample", &w, out, "samples.png");
    } else mc_sheet_free(&w.sheet);
    free(z);
    atlas_free(&m);
    return status;
}

int cmd_interpolate(int argc, char **argv)
{
    const char *ckpt = NULL, *from = NULL, *to = NULL, *out = NULL;
    int steps = 8, resolution = 10000;
    const mc_opt opts[] = {
        {"ckpt", OPT_STR, &ckpt, "trained model"},
        {"from", OPT_STR, &from, "first shape: a mesh file"},
        {"to", OPT_STR, &to, "last shape: a mesh file"},
        {"steps", OPT_INT, &steps, "meshes along the line, ends included (default 8)"},
        {"out", OPT_STR, &out, "folder for interp_NN.obj and interpolation.png"},
        {"resolution", OPT_INT, &resolution, "vertices per mesh (default 10000)"},
        {0}};
    const char *pos[1];
    int npos, r = mc_parse_args(argc, argv, opts, "--ckpt CKPT --from A --to B --steps K --out DIR", pos, 0, &npos);
    if (r) return r == 2 ? 0 : 1;
    if (!ckpt || !from || !to || !out) { fprintf(stderr, "mache interpolate: --ckpt, --from, --to and --out are required\n"); return 1; }
    if (steps < 2 || resolution < 4) { fprintf(stderr, "mache interpolate: --steps must be >= 2 and --resolution >= 4\n"); return 1; }
    char err[MC_ERRLEN] = "";   /* set only by mkdir_p below; the other steps print their own errors */
    atlasnet m;
    if (load_model("interpolate", ckpt, &m)) return 1;
    int N = m.cfg.points, L = m.cfg.latent, status = 0;
    float *clouds = mc_malloc((size_t)2 * N * 3 * sizeof(float)), *ends = mc_malloc((size_t)2 * L * sizeof(float));
    float *z = mc_malloc((size_t)L * sizeof(float));
    if (cloud_from_file("interpolate", from, N, 1, clouds) || cloud_from_file("interpolate", to, N, 1, clouds + (int64_t)N * 3) ||
        mc_mkdir_p(out, err)) {
        if (err[0]) fprintf(stderr, "mache interpolate: %s\n", err);
        status = 1;
        goto done;
    }
    atlas_encode_clouds(&m, clouds, 2, ends, NULL);
    sheet_writer w = {0};
    mc_sheet_init(&w.sheet, steps, steps, 160, 1);
    for (int k = 0; k < steps && !status; k++) {
        float t = (float)k / (float)(steps - 1);
        for (int d = 0; d < L; d++) z[d] = (1 - t) * ends[d] + t * ends[L + d];
        mc_mesh mesh;
        int *patch;
        char name[64];
        decode_mesh(&m, z, resolution, &mesh, &patch);
        snprintf(name, sizeof name, "interp_%02d", k);
        status = save_mesh("interpolate", out, name, &mesh);
        snprintf(name, sizeof name, "t=%.2f", t);
        draw(&w, &mesh, patch, mc_color_recon, name);
        mc_mesh_free(&mesh); free(patch);
    }
    if (!status) {
        printf("%d meshes from %s to %s in %s\n", steps, from, to, out);
        status = save_sheet("interpolate", &w, out, "interpolation.png");
    } else mc_sheet_free(&w.sheet);
done:
    free(clouds); free(ends); free(z);
    atlas_free(&m);
    return status;
}
