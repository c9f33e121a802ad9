#include "examples/mache/common.h"
#include "mesh/sample.h"
#include "tensor/gemm.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int set_precision(const char *cmd, const char *name)
{
    mc_gemm_precision p;
    if (mc_gemm_precision_parse(name, &p)) {
        fprintf(stderr, "mache %s: --precision must be fp32 or bf16 (got '%s')\n", cmd, name);
        return 1;
    }
    mc_gemm_set_precision(p);
    const char *k = mc_gemm_kernel_name();   /* in bf16 mode: the bf16 kernel */
    if (p == MC_GEMM_BF16 && strcmp(k, "amx") && strcmp(k, "avx512bf16"))
        fprintf(stderr, "mache %s: bf16 is emulated on the %s kernel (no AMX-BF16 or AVX512-BF16 in use): inputs rounded, at fp32 speed\n", cmd, k);
    return 0;
}
