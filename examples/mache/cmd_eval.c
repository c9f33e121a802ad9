/* mache eval: reconstruction metrics of a checkpoint on a test split, or generation metrics of a folder
 * of generated meshes against a reference set. */
#include "examples/mache/args.h"
#include "examples/mache/commands.h"
#include "examples/mache/common.h"
#include "models/metrics.h"
#include "mesh/sample.h"
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

/* The median of n values, v left as it is. */
static double median(const double *x, int n)
{
    double *s = mc_malloc((size_t)n * sizeof *s);
    memcpy(s, x, (size_t)n * sizeof *s);
    double m = mc_median(s, n);
    free(s);
    return m;
}

static double mean(const double *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i] / n;
    return s;
}

/* Each cloud to the unit ball from its own n points, as cloud_from_file does for the generated ones (the
 * dataset's clouds were normalised from its larger cache of points): both sets exactly the same way. */
static void unit_balls(float *clouds, int count, int n)
{
    for (int i = 0; i < count; i++) {
        mc_xform t = mc_unit_ball(clouds + (int64_t)i * n * 3, n);
        mc_xform_points(&t, clouds + (int64_t)i * n * 3, n);
    }
}

/* PointFlow's protocol (Yang et al. 2019): n points per cloud, both sets normalised to the unit ball the
 * same way, and as many generated as reference shapes (the first of each folder's sorted files). */
static int eval_generated(const char *dir, const char *reference, const char *split, const char *train_src, int n, int max_ref)
{
    char **files;
    int nfiles = list_meshes(dir, &files), ng = nfiles;
    if (ng <= 0) {
        fprintf(stderr, "mache eval: %s: %s\n", dir, ng < 0 ? "cannot open the folder" : "no .obj/.off/.ply/.stl files in it");
        return 1;
    }
    mc_dataset ref;
    int status = open_data("eval", reference, split, 4 * n, 1, &ref);
    int nr = status ? 0 : ref.nshapes < max_ref ? ref.nshapes : max_ref;
    if (!status && nr < ng) ng = nr;
    if (!status && ng < nr) nr = ng;
    float *gen = mc_malloc((size_t)(ng ? ng : 1) * n * 3 * sizeof(float));
    for (int i = 0; i < ng && !status; i++) status = cloud_from_file("eval", files[i], n, 1000 + (uint64_t)i, gen + (int64_t)i * n * 3);
    for (int i = 0; i < nfiles; i++) free(files[i]);
    free(files);
    if (status) { free(gen); if (nr) mc_dataset_free(&ref); return 1; }
    float *ref_clouds = atlas_dataset_clouds(&ref, n, ATLAS_SEED_REFERENCE);
    unit_balls(ref_clouds, nr, n);
    double t0 = mc_now_seconds();
    generation_metrics g = mc_generation_metrics(gen, ng, ref_clouds, nr, n);
    printf("%d generated vs %d reference shapes (%s split of %s), %d points each, %.1f s\n", ng, nr, split, reference, n, mc_now_seconds() - t0);
    printf("1-NNA halves: %.2f %% of generated shapes have a generated nearest neighbour, %.2f %% of reference shapes a reference one\n",
           g.nna_gen, g.nna_ref);
    char mem[256] = "";
    if (train_src) {
        /* the memorisation check: how close each sample lies to its nearest training shape, beside how close
         * the unseen reference shapes lie to theirs; a sample nearer than every reference shape is a copy */
        mc_dataset train;
        if (open_data("eval", train_src, "train", 4 * n, 1, &train)) { free(gen); free(ref_clouds); mc_dataset_free(&ref); return 1; }
        float *train_clouds = atlas_dataset_clouds(&train, n, ATLAS_SEED_REFERENCE + 1);
        unit_balls(train_clouds, train.nshapes, n);
        double *gen_near = mc_malloc((size_t)ng * sizeof *gen_near), *ref_near = mc_malloc((size_t)nr * sizeof *ref_near);
        mc_chamfer_nearest(gen, ng, train_clouds, train.nshapes, n, gen_near, NULL);
        mc_chamfer_nearest(ref_clouds, nr, train_clouds, train.nshapes, n, ref_near, NULL);
        double closest_ref = ref_near[0];
        for (int r = 1; r < nr; r++) if (ref_near[r] < closest_ref) closest_ref = ref_near[r];
        int copies = 0;
        for (int i = 0; i < ng; i++) copies += gen_near[i] < closest_ref;
        printf("memorisation (Chamfer x1e3 to the nearest of %d training shapes of %s): generated mean %.4f median %.4f; "
               "reference mean %.4f median %.4f min %.4f; %d generated shapes nearer than every reference shape\n",
               train.nshapes, train_src, 1e3 * mean(gen_near, ng), 1e3 * median(gen_near, ng), 1e3 * mean(ref_near, nr),
               1e3 * median(ref_near, nr), 1e3 * closest_ref, copies);
        snprintf(mem, sizeof mem, " mem_gen_x1e3=%.4f mem_ref_x1e3=%.4f copies=%d", 1e3 * median(gen_near, ng), 1e3 * median(ref_near, nr), copies);
        free(gen_near); free(ref_near); free(train_clouds);
        mc_dataset_free(&train);
    }
    printf("mmd_cd_x1e3=%.4f cov_cd=%.2f nna_cd=%.2f nna_gen=%.2f nna_ref=%.2f%s\n", 1e3 * g.mmd_cd, g.cov_cd, g.nna_cd, g.nna_gen, g.nna_ref, mem);
    free(gen); free(ref_clouds);
    mc_dataset_free(&ref);
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    const char *ckpt = NULL, *data = NULL, *generated = NULL, *reference = NULL, *split = "test", *csv = NULL, *train = NULL;
    int points = 0, max_ref = 1000000;
    const mc_opt opts[] = {
        {"ckpt", OPT_STR, &ckpt, "checkpoint to evaluate (reconstruction metrics)"},
        {"data", OPT_STR, &data, "shapes to reconstruct: folder or procedural:CATEGORY:COUNT[:SEED]"},
        {"split", OPT_STR, &split, "test (default), train or all: of --data, or of --reference"},
        {"generated", OPT_STR, &generated, "folder of generated meshes (generation metrics)"},
        {"reference", OPT_STR, &reference, "reference shapes for --generated (its --split); as many generated as reference shapes are used"},
        {"train", OPT_STR, &train, "with --generated: the training shapes (train split), for the memorisation check"},
        {"points", OPT_INT, &points, "points per shape (default: the model's, or 2048 for --generated, as PointFlow)"},
        {"max-reference", OPT_INT, &max_ref, "use at most this many reference shapes"},
        {"csv", OPT_STR, &csv, "also write per-shape metrics to this CSV file"},
        {0}};
    const char *pos[1];
    int npos, r = mc_parse_args(argc, argv, opts, "--ckpt CKPT --data SRC | --generated DIR --reference SRC", pos, 0, &npos);
    if (r) return r == 2 ? 0 : 1;
    if (generated) {
        if (!reference) { fprintf(stderr, "mache eval: --generated needs --reference SRC\n"); return 1; }
        if (max_ref < 1) { fprintf(stderr, "mache eval: --max-reference must be >= 1\n"); return 1; }
        return eval_generated(generated, reference, split, train, points > 0 ? points : 2048, max_ref);
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
