/* The first decoder layer's init: by default the template columns and the bias are drawn with the
 * template's own fan-in, the latent columns with the layer's; --init atlasnet gives AtlasNet's init, the
 * same numbers bit for bit as before the template init existed (checksums taken on that code). */
#include "tests/harness.h"
#include "models/atlasnet.h"
#include <math.h>
#include <string.h>

/* FNV-1a over every parameter's bytes, in the model's order. */
static uint64_t params_checksum(const atlasnet *m)
{
    uint64_t h = 1469598103934665603ULL;
    for (int k = 0; k < m->params.n; k++) {
        const mc_tensor *t = &m->params.items[k]->t;
        const unsigned char *b = (const unsigned char *)t->data;
        for (size_t i = 0; i < (size_t)t->size * sizeof(float); i++) h = (h ^ b[i]) * 1099511628211ULL;
    }
    return h;
}

static float max_abs(const float *x, int n, int stride)
{
    float a = 0;
    for (int i = 0; i < n; i++) a = fmaxf(a, fabsf(x[(int64_t)i * stride]));
    return a;
}

/* Every patch's conv1: weight (width, dim + latent), template columns first; then the bias. */
static void check_ranges(const char *name, const atlas_config *cfg, int template_init)
{
    atlasnet m;
    atlas_init(&m, cfg, 1);
    int dim = atlas_template_dim(cfg), in = dim + m.cfg.latent, w = m.cfg.dec;
    /* a hair of slack: the template half is a float draw times a float scale */
    float bound_t = (template_init ? 1 / sqrtf((float)dim) : 1 / sqrtf((float)in)) * (1 + 1e-6f), bound_z = 1 / sqrtf((float)in);
    for (int k = 0; k < m.cfg.patches; k++) {
        const mc_linear_layer *l = &m.decoder[k].conv1;
        float t = 0, z = 0;
        for (int j = 0; j < dim; j++) t = fmaxf(t, max_abs(l->weight->data + j, w, in));
        for (int j = dim; j < in; j++) z = fmaxf(z, max_abs(l->weight->data + j, w, in));
        float b = max_abs(l->bias->data, w, 1);
        /* within the bound, and spread over it (the largest of many draws is near the bound) */
        CHECK(t <= bound_t && t > 0.8f * bound_t, "%s patch %d: template weights max %g, bound %g", name, k, t, bound_t);
        CHECK(b <= bound_t && b > 0.8f * bound_t, "%s patch %d: bias max %g, bound %g", name, k, b, bound_t);
        CHECK(z <= bound_z && z > 0.9f * bound_z, "%s patch %d: latent weights max %g, bound %g", name, k, z, bound_z);
    }
    atlas_free(&m);
}

static uint64_t checksum_of(const char *preset, int vae, int sphere, int template_init, uint64_t seed)
{
    atlas_config cfg;
    atlas_preset(preset, vae, &cfg, NULL);
    cfg.sphere = sphere;
    cfg.template_init = template_init;
    atlasnet m;
    atlas_init(&m, &cfg, seed);
    uint64_t h = params_checksum(&m);
    atlas_free(&m);
    return h;
}

int main(void)
{
    atlas_config cfg;
    atlas_preset("cpu", 1, &cfg, NULL);
    CHECK(cfg.template_init == 1, "the presets default to the template init");
    check_ranges("cpu VAE, template init", &cfg, 1);
    cfg.template_init = 0;
    check_ranges("cpu VAE, atlasnet init", &cfg, 0);
    atlas_preset("tiny", 0, &cfg, NULL);
    cfg.sphere = 1;
    check_ranges("tiny AE sphere, template init", &cfg, 1);

    /* --init atlasnet: the weights of the code before the template init, bit for bit */
    CHECK(checksum_of("cpu", 1, 0, 0, 1) == 0x497515da11fc9df1ULL, "cpu VAE seed 1: %016llx", (unsigned long long)checksum_of("cpu", 1, 0, 0, 1));
    CHECK(checksum_of("tiny", 0, 1, 0, 7) == 0x260834b1df9de5e3ULL, "tiny AE sphere seed 7: %016llx", (unsigned long long)checksum_of("tiny", 0, 1, 0, 7));
    /* the template init draws the same numbers in the same order, so everything outside conv1 agrees */
    CHECK(checksum_of("cpu", 1, 0, 1, 1) != checksum_of("cpu", 1, 0, 0, 1), "the two inits differ");
    return test_summary("test_init");
}
