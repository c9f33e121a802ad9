/* mache eval: reconstruction metrics of a checkpoint on a test split, or generation metrics of a folder
 * of generated meshes against a reference set. */
#include "examples/mache/args.h"
#include "examples/mache/commands.h"
#include "examples/mache/common.h"
#include "models/metrics.h"
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The mesh files of a folder (not recursive), sorted. */
static int list_meshes(const char *dir, char ***names)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0, cap = 0;
    *names = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *dot = strrchr(e->d_name, '.');
        if (!dot || (strcmp(dot, ".obj") && strcmp(dot, ".off") && strcmp(dot, ".ply") && strcmp(dot, ".stl"))) continue;
        if (n == cap) *names = mc_realloc(*names, (size_t)(cap = cap ? 2 * cap : 64) * sizeof **names);
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        (*names)[n] = mc_malloc(len);
        snprintf((*names)[n++], len, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (n) qsort(*names, (size_t)n, sizeof **names, by_name);
    return n;
}

static int eval_generated(const char *dir, const char *reference, int n, int max_ref)
{
    char **files;
    int ng = list_meshes(dir, &files);
    if (ng <= 0) {
        fprintf(stderr, "mache eval: %s: %s\n", dir, ng < 0 ? "cannot open the folder" : "no .obj/.off/.ply/.stl files in it");
        return 1;
    }
    float *gen = mc_malloc((size_t)ng * n * 3 * sizeof(float));
    int status = 0;
    for (int i = 0; i < ng && !status; i++) status = cloud_from_file("eval", files[i], n, 1000 + (uint64_t)i, gen + (int64_t)i * n * 3);
    for (int i = 0; i < ng; i++) free(files[i]);
    free(files);
    mc_dataset ref;
    if (status || open_data("eval", reference, "test", 4 * n, 1, &ref)) { free(gen); return 1; }
    int nr = ref.nshapes < max_ref ? ref.nshapes : max_ref;
    float *ref_clouds = atlas_dataset_clouds(&ref, n, ATLAS_SEED_REFERENCE);
    double t0 = mc_now_seconds();
    generation_metrics g = mc_generation_metrics(gen, ng, ref_clouds, nr, n);
    printf("%d generated vs %d reference shapes (test split of %s), %d points each, %.1f s\n", ng, nr, reference, n, mc_now_seconds() - t0);
    printf("mmd_cd_x1e3=%.4f cov_cd=%.2f nna_cd=%.2f\n", 1e3 * g.mmd_cd, g.cov_cd, g.nna_cd);
    free(gen); free(ref_clouds);
    mc_dataset_free(&ref);
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    const char *ckpt = NULL, *data = NULL, *generated = NULL, *reference = NULL, *split = "test", *csv = NULL;
    int points = 0, max_ref = 1000000;
    const mc_opt opts[] = {
        {"ckpt", OPT_STR, &ckpt, "checkpoint to evaluate (reconstruction metrics)"},
        {"data", OPT_STR, &data, "shapes to reconstruct: folder or procedural:CATEGORY:COUNT[:SEED]"},
        {"split", OPT_STR, &split, "test (default), train or all"},
        {"generated", OPT_STR, &generated, "folder of generated meshes (generation metrics)"},
        {"reference", OPT_STR, &reference, "reference shapes for --generated (its test split)"},
        {"points", OPT_INT, &points, "points per shape (default: the model's, or 1024 for --generated)"},
        {"max-reference", OPT_INT, &max_ref, "use at most this many reference shapes"},
        {"csv", OPT_STR, &csv, "also write per-shape metrics to this CSV file"},
        {0}};
    const char *pos[1];
    int npos, r = mc_parse_args(argc, argv, opts, "--ckpt CKPT --data SRC | --generated DIR --reference SRC", pos, 0, &npos);
    if (r) return r == 2 ? 0 : 1;
    if (generated) {
        if (!reference) { fprintf(stderr, "mache eval: --generated needs --reference SRC\n"); return 1; }
        return eval_generated(generated, reference, points > 0 ? points : 1024, max_ref);
    }
    if (!ckpt || !data) { fprintf(stderr, "mache eval: give --ckpt CKPT --data SRC, or --generated DIR --reference SRC\n"); return 1; }
    atlasnet m;
    if (load_model("eval", ckpt, &m)) return 1;
    int N = points > 0 ? points : m.cfg.points;
    mc_dataset ds;
    if (open_data("eval", data, split, 8 * N, 1, &ds)) { atlas_free(&m); return 1; }
    float *clouds = atlas_dataset_clouds(&ds, m.cfg.points, ATLAS_SEED_EVAL_CLOUDS);
    float *mu = mc_malloc((size_t)ds.nshapes * m.cfg.latent * sizeof(float));
    float *truth = N == m.cfg.points ? clouds : atlas_dataset_clouds(&ds, N, ATLAS_SEED_EVAL_TRUTH);
    double *cd_s = mc_malloc((size_t)ds.nshapes * sizeof *cd_s), *fs_s = mc_malloc((size_t)ds.nshapes * sizeof *fs_s);
    atlas_encode_clouds(&m, clouds, ds.nshapes, mu, NULL);
    atlas_reconstruction_scores(&m, mu, ds.nshapes, truth, N, cd_s, fs_s);
    FILE *out = csv ? fopen(csv, "w") : NULL;
    if (csv && !out) { fprintf(stderr, "mache eval: %s: cannot write\n", csv); return 1; }
    if (out) fprintf(out, "shape,chamfer_x1e3,fscore\n");
    double cd = 0, fs = 0;
    for (int s = 0; s < ds.nshapes; s++) {
        cd += cd_s[s] / ds.nshapes;
        fs += fs_s[s] / ds.nshapes;
        if (out) fprintf(out, "%s,%.5f,%.5f\n", ds.names[s], cd_s[s], fs_s[s]);
    }
    if (out) fclose(out);
    printf("%d %s shapes of %s, %d points each\n", ds.nshapes, split, data, N);
    printf("chamfer_x1e3=%.4f fscore=%.4f\n", cd, fs);
    if (truth != clouds) free(truth);
    free(clouds); free(mu); free(cd_s); free(fs_s);
    mc_dataset_free(&ds);
    atlas_free(&m);
    return 0;
}
