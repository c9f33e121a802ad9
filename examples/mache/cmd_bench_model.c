/* mache bench train | chamfer | sample: the model's costs, timed in-process (warm-up, then the median of
 * several runs), with the peak resident memory of the whole process. */
#include "examples/mache/args.h"
#include "examples/mache/commands.h"
#include "examples/mache/common.h"
#include "tensor/gemm.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double peak_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;          /* Linux reports KiB */
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Points on random ellipsoids: the cost of a step does not depend on what the shapes are. */
static void random_clouds(float *x, int B, int N, mc_rng *rng)
{
    for (int b = 0; b < B; b++) {
        float ax = 0.5f + 0.5f * (float)mc_rng_uniform(rng), ay = 0.5f + 0.5f * (float)mc_rng_uniform(rng);
        for (int p = 0; p < N; p++) {
            float *v = x + ((int64_t)b * N + p) * 3;
            double u = mc_rng_normal(rng), w = mc_rng_normal(rng), z = mc_rng_normal(rng), r = sqrt(u * u + w * w + z * z) + 1e-12;
            v[0] = (float)(ax * u / r); v[1] = (float)(ay * w / r); v[2] = (float)(0.3 * z / r);
        }
    }
}

/* The multiply-adds of one training step, x2 (GFLOP): each layer's forward, its weight gradient, and its
 * input gradient where something upstream needs it. The rest of a step (normalisation, Chamfer, Adam)
 * is a few percent of the arithmetic, so gflop / time says how close the step runs to the matrix peak. */
static double step_gflop(const atlas_config *c, int B)
{
    double R = (double)B * c->points, flop = 0;
    int in[3] = {3, c->enc[0], c->enc[1]};
    for (int l = 0; l < 3; l++) flop += (l ? 3 : 2) * 2 * R * in[l] * c->enc[l];      /* no input gradient for the points */
    int feat = c->fc ? c->latent : c->enc[2];
    if (c->fc) flop += 3 * 2.0 * B * c->enc[2] * c->latent;
    if (c->vae) flop += 2 * 3 * 2.0 * B * feat * c->latent;                             /* mu and logvar heads */
    int w = c->dec ? c->dec : atlas_template_dim(c) + c->latent, dim = atlas_template_dim(c);
    double rows = (double)B * (c->points / c->patches);
    double patch = 2 * 2 * rows * dim * w + 3 * 2.0 * B * c->latent * w                /* first layer: template and latent parts */
                 + 3 * 2 * rows * ((double)w * (w / 2) + (double)(w / 2) * (w / 4) + (double)(w / 4) * 3);
    return (flop + c->patches * patch) / 1e9;
}

static int model_for(const char *cmd, const char *preset, const char *model, int latent, atlasnet *m)
{
    char err[MC_ERRLEN];
    atlas_config cfg;
    if (atlas_preset(preset, !strcmp(model, "vae"), &cfg, err)) { fprintf(stderr, "mache bench %s: %s\n", cmd, err); return 1; }
    if (strcmp(model, "vae") && strcmp(model, "ae")) { fprintf(stderr, "mache bench %s: --model must be ae or vae\n", cmd); return 1; }
    if (latent > 0) { cfg.latent = latent; if (!strcmp(preset, "paper")) cfg.dec = 0; }
    atlas_init(m, &cfg, 1);
    return 0;
}

int bench_train(int argc, char **argv)
{
    const char *preset = "cpu", *model = "vae", *precision = "fp32";
    int batch = 8, steps = 5, latent = 0;
    const mc_opt opts[] = {
        {"preset", OPT_STR, &preset, "cpu or paper (default cpu)"},
        {"model", OPT_STR, &model, "ae or vae (default vae)"},
        {"batch", OPT_INT, &batch, "shapes per step (default 8)"},
        {"steps", OPT_INT, &steps, "timed steps after one warm-up step (default 5)"},
        {"latent", OPT_INT, &latent, "latent size (preset default)"},
        {"precision", OPT_STR, &precision, "fp32 or bf16: the multiplies' inputs (default fp32)"},
        {0}};
    const char *pos[1];
    int npos, r = mc_parse_args(argc, argv, opts, "--preset P --batch B --steps S", pos, 0, &npos);
    if (r) return r == 2 ? 0 : 1;
    if (set_precision("bench train", precision)) return 1;
    if (batch < 2 || steps < 1) { fprintf(stderr, "mache bench train: --batch must be >= 2 and --steps >= 1\n"); return 1; }
    atlasnet m;
    if (model_for("train", preset, model, latent, &m)) return 1;
    const atlas_config *c = &m.cfg;
    float *x = mc_malloc((size_t)batch * c->points * 3 * sizeof(float));
    double *ms = mc_malloc((size_t)steps * sizeof *ms), *cpu_ms = mc_malloc((size_t)steps * sizeof *cpu_ms);
    mc_rng rng;
    mc_rng_seed(&rng, 1);
    mc_adam adam = mc_adam_default(1e-3f);
    /* Under mpirun each rank takes its slice of the batch (models/train.c does the same) */
    const mc_dist *dist = mc_dist_current();
    int rank = dist ? dist->rank : 0, ranks = dist ? dist->size : 1;
    int first = (int)((int64_t)batch * rank / ranks), mine = (int)((int64_t)batch * (rank + 1) / ranks) - first;
    if (batch < ranks) { fprintf(stderr, "mache bench train: --batch must be at least the number of ranks (%d)\n", ranks); return 1; }
    atlas_loss_opts lo = {.kl_weight = 1, .first = first, .total = ranks > 1 ? batch : 0};
    mc_set_training(1);
    for (int s = -1; s < steps; s++) {
        random_clouds(x, batch, c->points, &rng);
        double t0 = mc_now_seconds(), c0 = cpu_seconds();
        mc_tensor *points = mc_tensor_from(3, (int[]){mine, c->points, 3}, x + (int64_t)first * c->points * 3);
        atlas_losses l = atlas_forward(&m, points, &lo, &rng);
        mc_adam_backward(&adam, &m.params, l.total);   /* zero_grad + backward + Adam, one pass */
        mc_step_end();
        if (s >= 0) { ms[s] = 1e3 * (mc_now_seconds() - t0); cpu_ms[s] = 1e3 * (cpu_seconds() - c0); }
    }
    double med = mc_median(ms, steps), cpu_med = mc_median(cpu_ms, steps);
    printf("train %s %s: %lld parameters, batch %d, %d points, %d patches, latent %d, ranks %d, threads %d, gemm %s %s\n",
           preset, model, (long long)mc_params_count(&m.params, 1), batch, c->points, c->patches, c->latent, ranks,
           mc_num_threads(), precision,
           mc_gemm_kernel_name());
    double gflop = step_gflop(c, batch);
    /* cpu_ms: the process's CPU time per step, all threads; on a machine shared with other jobs, wall time
     * counts the time the cores ran someone else, and threads x median_ms much above cpu_ms says so */
    printf("step median_ms=%.1f min_ms=%.1f max_ms=%.1f cpu_ms=%.1f arena_mib=%.1f gflop_per_step=%.1f gflops=%.1f\n", med, ms[0],
           ms[steps - 1], cpu_med, mc_arena_capacity() / 1048576.0, gflop, gflop / (med / 1e3));
    printf("shapes_per_s=%.3f peak_rss_mib=%.1f\n", batch / (med / 1e3), peak_rss_mib());
    free(x); free(ms); free(cpu_ms);
    atlas_free(&m);
    return 0;
}

int bench_chamfer(int argc, char **argv)
{
    int batch = 32, points = 2500, reps = 5;
    const mc_opt opts[] = {
        {"batch", OPT_INT, &batch, "pairs of point sets (default 32)"},
        {"points", OPT_INT, &points, "points per set (default 2500)"},
        {"reps", OPT_INT, &reps, "timed repetitions (default 5)"},
        {0}};
    const char *pos[1];
    int npos, r = mc_parse_args(argc, argv, opts, "[--batch B] [--points N]", pos, 0, &npos);
    if (r) return r == 2 ? 0 : 1;
    if (batch < 1 || points < 1 || reps < 1) { fprintf(stderr, "mache bench chamfer: sizes must be positive\n"); return 1; }
    float *a = mc_malloc((size_t)batch * points * 3 * sizeof(float)), *b = mc_malloc((size_t)batch * points * 3 * sizeof(float));
    double *ms = mc_malloc((size_t)reps * sizeof *ms);
    mc_rng rng;
    mc_rng_seed(&rng, 2);
    random_clouds(a, batch, points, &rng);
    random_clouds(b, batch, points, &rng);
    for (int s = -1; s < reps; s++) {
        double t0 = mc_now_seconds();
        mc_tensor *ta = mc_tensor_from(3, (int[]){batch, points, 3}, a), *tb = mc_tensor_from(3, (int[]){batch, points, 3}, b);
        ta->requires_grad = 1;
        mc_backward(mc_chamfer(ta, tb));
        mc_step_end();
        if (s >= 0) ms[s] = 1e3 * (mc_now_seconds() - t0);
    }
    double med = mc_median(ms, reps), pairs = (double)batch * points * points;
    printf("chamfer forward+backward: %d x (%d vs %d points), threads %d, median_ms=%.2f\n", batch, points, points, mc_num_threads(), med);
    printf("point_pairs_per_s=%.3g shapes_per_s=%.1f peak_rss_mib=%.1f\n", pairs / (med / 1e3), batch / (med / 1e3), peak_rss_mib());
    free(a); free(b); free(ms);
    return 0;
}

int bench_sample(int argc, char **argv)
{
    const char *preset = "cpu";
    int count = 4, resolution = 30000;
    const mc_opt opts[] = {
        {"preset", OPT_STR, &preset, "cpu or paper (default cpu)"},
        {"count", OPT_INT, &count, "meshes to decode (default 4)"},
        {"resolution", OPT_INT, &resolution, "vertices per mesh (default 30000, as AtlasNet)"},
        {0}};
    const char *pos[1];
    int npos, r = mc_parse_args(argc, argv, opts, "[--preset P] [--count N] [--resolution R]", pos, 0, &npos);
    if (r) return r == 2 ? 0 : 1;
    if (count < 1 || resolution < 4) { fprintf(stderr, "mache bench sample: --count >= 1, --resolution >= 4\n"); return 1; }
    atlasnet m;
    if (model_for("sample", preset, "vae", 0, &m)) return 1;
    float *z = mc_malloc((size_t)m.cfg.latent * sizeof(float));
    double *ms = mc_malloc((size_t)count * sizeof *ms);
    mc_rng rng;
    mc_rng_seed(&rng, 3);
    for (int s = -1; s < count; s++) {
        mc_rng_fill_normal(&rng, z, m.cfg.latent, 0, 1);
        double t0 = mc_now_seconds();
        mc_mesh mesh;
        atlas_mesh(&m, z, resolution, &mesh, NULL);
        mc_mesh_free(&mesh);
        if (s >= 0) ms[s] = 1e3 * (mc_now_seconds() - t0);
    }
    double med = mc_median(ms, count);
    printf("sample %s: meshes of %d vertices, threads %d, median_ms=%.1f\n", preset, resolution, mc_num_threads(), med);
    printf("meshes_per_s=%.2f peak_rss_mib=%.1f\n", 1e3 / med, peak_rss_mib());
    free(z); free(ms);
    atlas_free(&m);
    return 0;
}
