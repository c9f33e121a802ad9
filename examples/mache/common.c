#include "examples/mache/common.h"
#include "mesh/sample.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int mkdir_p(const char *path, char *err)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) { mc_set_err(err, "%s: path too long", path); return 1; }
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == 0) {
            char keep = *p;
            *p = 0;
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
                mc_set_err(err, "%s: cannot create folder: %s", buf, strerror(errno));
                return 1;
            }
            *p = keep;
            if (!keep) break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) { mc_set_err(err, "%s: exists and is not a folder", path); return 1; }
    return 0;
}

int load_model(const char *cmd, const char *ckpt, atlasnet *m)
{
    char err[MC_ERRLEN];
    if (atlas_load(m, ckpt, err)) { fprintf(stderr, "mache %s: %s\n", cmd, err); return 1; }
    return 0;
}

int open_data(const char *cmd, const char *src, const char *split, int cache_points, uint64_t seed, mc_dataset *ds)
{
    char err[MC_ERRLEN];
    if (mc_dataset_open(ds, src, split, cache_points, seed, err)) { fprintf(stderr, "mache %s: %s\n", cmd, err); return 1; }
    if (ds->nshapes == 0) {
        fprintf(stderr, "mache %s: %s: the %s split holds no shapes (give more shapes)\n", cmd, src, split);
        mc_dataset_free(ds);
        return 1;
    }
    return 0;
}

enum { EVAL_BATCH = 32 };

void encode_clouds(atlasnet *m, const float *clouds, int count, float *mu, float *logvar)
{
    int prev_grad = mc_set_grad_enabled(0), prev_train = mc_training(), N = m->cfg.points, L = m->cfg.latent;
    mc_set_training(0);
    for (int first = 0; first < count; first += EVAL_BATCH) {
        int B = count - first < EVAL_BATCH ? count - first : EVAL_BATCH;
        mc_tensor *x = mc_tensor_from(3, (int[]){B, N, 3}, clouds + (int64_t)first * N * 3), *z, *lv = NULL;
        atlas_encode(m, x, &z, logvar && m->cfg.vae ? &lv : NULL);
        memcpy(mu + (int64_t)first * L, z->data, (size_t)B * L * sizeof(float));
        if (lv) memcpy(logvar + (int64_t)first * L, lv->data, (size_t)B * L * sizeof(float));
        mc_step_end();
    }
    mc_set_training(prev_train);
    mc_set_grad_enabled(prev_grad);
}

void decode_latents(atlasnet *m, const float *z, int count, int n, uint64_t seed, float *points)
{
    int prev_grad = mc_set_grad_enabled(0), prev_train = mc_training(), L = m->cfg.latent, K = m->cfg.patches;
    int per_patch = n / K;
    mc_set_training(0);
    mc_seed(seed);
    mc_tensor **templates = malloc((size_t)K * sizeof *templates);
    for (int first = 0; first < count; first += EVAL_BATCH) {
        int B = count - first < EVAL_BATCH ? count - first : EVAL_BATCH;
        mc_tensor *zt = mc_tensor_from(2, (int[]){B, L}, z + (int64_t)first * L);
        atlas_random_templates(m, B, per_patch, templates);
        mc_tensor *out = atlas_decode(m, zt, templates);          /* (B, K*per_patch, 3) */
        for (int b = 0; b < B; b++) {
            float *dst = points + ((int64_t)first + b) * n * 3;
            int made = K * per_patch;
            memcpy(dst, out->data + (int64_t)b * made * 3, (size_t)made * 3 * sizeof(float));
            for (int p = made; p < n; p++) memcpy(dst + 3 * p, dst + 3 * (p - made), 3 * sizeof(float));   /* n not a multiple of K */
        }
        mc_step_end();
    }
    free(templates);
    mc_set_training(prev_train);
    mc_set_grad_enabled(prev_grad);
}

float *dataset_clouds(const mc_dataset *ds, int n, uint64_t seed)
{
    float *clouds = mc_malloc((size_t)ds->nshapes * n * 3 * sizeof(float));
    int *idx = mc_malloc((size_t)ds->nshapes * sizeof *idx);
    for (int i = 0; i < ds->nshapes; i++) idx[i] = i;
    mc_rng rng;
    mc_rng_seed(&rng, seed);
    mc_dataset_batch(ds, idx, ds->nshapes, n, &rng, clouds);
    free(idx);
    return clouds;
}

int cloud_from_file(const char *cmd, const char *path, int n, uint64_t seed, float *out)
{
    char err[MC_ERRLEN];
    mc_mesh mesh = {0};
    mc_rng rng;
    mc_rng_seed(&rng, seed);
    if (mc_mesh_load(path, &mesh, err) || mc_mesh_sample(&mesh, n, &rng, out, err)) {
        fprintf(stderr, "mache %s: %s\n", cmd, err);
        mc_mesh_free(&mesh);
        return 1;
    }
    mc_xform t = mc_unit_ball(out, n);
    mc_xform_points(&t, out, n);
    mc_mesh_free(&mesh);
    return 0;
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void progress(const char *label, double fraction, const char *text)
{
    if (!isatty(2)) return;
    enum { WIDTH = 24 };
    char bar[WIDTH + 1];
    int filled = (int)(fraction * WIDTH + 0.5);
    for (int k = 0; k < WIDTH; k++) bar[k] = k < filled ? '=' : k == filled ? '>' : ' ';
    bar[WIDTH] = 0;
    fprintf(stderr, "\r%s [%s] %3d%%  %s\033[K", label, bar, (int)(100 * fraction), text);
    fflush(stderr);
}

void progress_done(void)
{
    if (isatty(2)) fprintf(stderr, "\r\033[K");
}
