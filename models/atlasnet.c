/* AtlasNet v1 as an AE or a VAE, read like the PyTorch module it mirrors. Each of the research log's
 * variants is one line below (and a flag): look for "variant". Shapes are channels-last: (B,N,C). */
#include "models/atlasnet.h"
#include "models/atlasnet_torch.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The per-point layers are fused ops (autograd/ops.h), each the same function as its unfused form:
 *   mc_linear_bn(x, l, bn, NULL, MC_ACT_RELU)   = relu(batchnorm(linear(x)))
 *   mc_linear_bn(x, l, bn, z, MC_ACT_RELU)      = the same on concat(x, z), z (B,L) repeated over the points
 *   mc_linear_bn_max(x, l, bn, MC_ACT_NONE)     = max over points of batchnorm(linear(x)) */

int atlas_template_dim(const atlas_config *cfg) { return cfg->sphere ? 3 : 2; }

int atlas_preset(const char *name, int vae, atlas_config *cfg, char *err)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->vae = vae;
    cfg->fc = 1;
    cfg->relu_end = 1;
    cfg->template_init = 1;
    if (!strcmp(name, "paper")) {            /* AtlasNet 2018, v1 */
        cfg->points = 2500; cfg->patches = 25; cfg->latent = 1024;
        cfg->enc[0] = 64; cfg->enc[1] = 128; cfg->enc[2] = 1024;
        cfg->dec = 0;                        /* 0: template dim + latent, as in the paper */
    } else if (!strcmp(name, "cpu")) {       /* the same structure, scaled to minutes on 2 cores */
        cfg->points = 1024; cfg->patches = 8; cfg->latent = 256;
        cfg->enc[0] = 64; cfg->enc[1] = 128; cfg->enc[2] = 512;
        cfg->dec = 256;
    } else if (!strcmp(name, "tiny")) {      /* for tests: seconds per epoch */
        cfg->points = 64; cfg->patches = 2; cfg->latent = 8;
        cfg->enc[0] = 8; cfg->enc[1] = 8; cfg->enc[2] = 16;
        cfg->dec = 16;
    } else {
        mc_set_err(err, "unknown preset '%s' (known: paper, cpu)", name);
        return 1;
    }
    return 0;
}

void atlas_config_text(const atlas_config *c, char *buf, size_t n)
{
    snprintf(buf, n, "model=%s\npoints=%d\npatches=%d\nlatent=%d\nenc=%d,%d,%d\ndec=%d\nfc=%d\nrelu_end=%d\n"
             "template=%s\nlogvar_init=%g\ninit=%s\n", c->vae ? "vae" : "ae", c->points, c->patches, c->latent,
             c->enc[0], c->enc[1], c->enc[2], c->dec, c->fc, c->relu_end, c->sphere ? "sphere" : "square", c->logvar_init,
             c->template_init ? "template" : "atlasnet");
}

int atlas_config_parse(const char *text, atlas_config *c, char *err)
{
    char v[64];
    memset(c, 0, sizeof *c);
    const char *keys[] = {"model", "points", "patches", "latent", "enc", "dec", "fc", "relu_end", "template", "logvar_init"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
        if (!mc_ckpt_config_get(text, keys[k], v, sizeof v)) {
            mc_set_err(err, "checkpoint config has no '%s' (not an AtlasNet checkpoint?)", keys[k]);
            return 1;
        }
    c->vae = !strcmp(mc_ckpt_config_get(text, "model", v, sizeof v), "vae");
    c->points = atoi(mc_ckpt_config_get(text, "points", v, sizeof v));
    c->patches = atoi(mc_ckpt_config_get(text, "patches", v, sizeof v));
    c->latent = atoi(mc_ckpt_config_get(text, "latent", v, sizeof v));
    int got = sscanf(mc_ckpt_config_get(text, "enc", v, sizeof v), "%d,%d,%d", &c->enc[0], &c->enc[1], &c->enc[2]);
    c->dec = atoi(mc_ckpt_config_get(text, "dec", v, sizeof v));
    c->fc = atoi(mc_ckpt_config_get(text, "fc", v, sizeof v));
    c->relu_end = atoi(mc_ckpt_config_get(text, "relu_end", v, sizeof v));
    c->sphere = !strcmp(mc_ckpt_config_get(text, "template", v, sizeof v), "sphere");
    c->logvar_init = (float)atof(mc_ckpt_config_get(text, "logvar_init", v, sizeof v));
    /* checkpoints from before the template init have no init= line: they were made with AtlasNet's */
    c->template_init = mc_ckpt_config_get(text, "init", v, sizeof v) && !strcmp(v, "template");
    int ok = got == 3 && c->points > 0 && c->points <= (1 << 20) && c->patches > 0 && c->patches <= 1024 &&
             c->latent > 0 && c->latent <= (1 << 16) && c->dec >= 0 && c->dec <= (1 << 16);
    for (int k = 0; k < 3; k++) ok = ok && c->enc[k] > 0 && c->enc[k] <= (1 << 16);
    if (!ok) { mc_set_err(err, "checkpoint config has out-of-range sizes"); return 1; }
    return 0;
}

/* ---------------------------------------------------------------------------------------------------
 * Parameters, named as in the PyTorch module: encoder.conv1.weight, decoder.3.bn2.running_mean, ...
 */

/* The template init of a patch's first layer. AtlasNet draws the whole layer at U(+-1/sqrt(dim + latent)),
 * so the 2 template inputs barely move the output and each patch starts almost constant over its square.
 * The template columns and the bias get U(+-1/sqrt(dim)), their own fan-in, the latent columns keep
 * U(+-1/sqrt(dim + latent)). Drawn as AtlasNet's init then scaled by sqrt((dim + latent) / dim): the
 * random sequence is unchanged, so every other weight is the same under both inits. */
static void template_fan_in(mc_linear_layer *l, int dim)
{
    int out = l->weight->shape[0], in = l->weight->shape[1];
    float scale = sqrtf((float)in / (float)dim);
    for (int o = 0; o < out; o++) {
        for (int j = 0; j < dim; j++) l->weight->data[(int64_t)o * in + j] *= scale;   /* concat(t, z): t first */
        l->bias->data[o] *= scale;
    }
}

void atlas_init(atlasnet *m, const atlas_config *cfg, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    atlas_config *c = &m->cfg;
    int dim = atlas_template_dim(c);
    if (c->dec == 0) c->dec = dim + c->latent;
    if (!c->fc && !c->vae) c->latent = c->enc[2];       /* an AE without FC: the pooled feature is the latent */
    mc_rng rng;
    mc_rng_seed(&rng, seed);
    mc_params *ps = &m->params;
    int feat = c->fc ? c->latent : c->enc[2];           /* what the heads see */
    mc_linear_init(&m->conv1, ps, "encoder.conv1", 3, c->enc[0], 1, &rng);
    mc_linear_init(&m->conv2, ps, "encoder.conv2", c->enc[0], c->enc[1], 1, &rng);
    mc_linear_init(&m->conv3, ps, "encoder.conv3", c->enc[1], c->enc[2], 1, &rng);
    mc_batchnorm_init(&m->bn1, ps, "encoder.bn1", c->enc[0]);
    mc_batchnorm_init(&m->bn2, ps, "encoder.bn2", c->enc[1]);
    mc_batchnorm_init(&m->bn3, ps, "encoder.bn3", c->enc[2]);
    if (c->fc) {
        mc_linear_init(&m->fc, ps, "encoder.fc", c->enc[2], c->latent, 1, &rng);
        mc_batchnorm_init(&m->bn_fc, ps, "encoder.bn_fc", c->latent);
        /* bn3's shift passes the max-pool and the FC unchanged per channel, and bn_fc's batch statistics
         * cancel it: while training its gradient is exactly 0 (the sums would be rounding noise, which
         * Adam turns into lr-sized steps). It is kept, as loaded (AtlasNet's checkpoints have it), not trained. */
        mc_params_freeze(ps, "encoder.bn3.bias", 1);
    }
    if (c->vae) {
        mc_linear_init(&m->mu, ps, "mu", feat, c->latent, 1, &rng);
        mc_linear_init(&m->logvar, ps, "logvar", feat, c->latent, 1, &rng);
        if (c->logvar_init != 0) {        /* start with a small posterior variance instead of ~1 */
            for (int64_t k = 0; k < m->logvar.weight->size; k++) m->logvar.weight->data[k] *= 0.01f;
            for (int k = 0; k < c->latent; k++) m->logvar.bias->data[k] = c->logvar_init;
        }
    }
    m->decoder = mc_calloc((size_t)c->patches, sizeof *m->decoder);
    for (int k = 0; k < c->patches; k++) {
        patch_decoder *d = &m->decoder[k];
        char name[64];
        int w = c->dec;
#define LAYER(field, kind, ...) (snprintf(name, sizeof name, "decoder.%d." #field, k), kind(&d->field, ps, name, __VA_ARGS__))
        LAYER(conv1, mc_linear_init, dim + c->latent, w, 1, &rng);
        if (c->template_init) template_fan_in(&d->conv1, dim);
        LAYER(conv2, mc_linear_init, w, w / 2, 1, &rng);
        LAYER(conv3, mc_linear_init, w / 2, w / 4, 1, &rng);
        LAYER(conv4, mc_linear_init, w / 4, 3, 1, &rng);
        LAYER(bn1, mc_batchnorm_init, w);
        LAYER(bn2, mc_batchnorm_init, w / 2);
        LAYER(bn3, mc_batchnorm_init, w / 4);
#undef LAYER
    }
}

void atlas_free(atlasnet *m)
{
    mc_params_free(&m->params);
    free(m->decoder);
    memset(m, 0, sizeof *m);
}

/* ---------------------------------------------------------------------------------------------------
 * The forward pass.
 */
void atlas_encode(atlasnet *m, mc_tensor *points, mc_tensor **mu, mc_tensor **logvar)
{
    const atlas_config *c = &m->cfg;
    mc_tensor *h = mc_linear_bn(points, &m->conv1, &m->bn1, NULL, MC_ACT_RELU);   /* (B,N,64) */
    h = mc_linear_bn(h, &m->conv2, &m->bn2, NULL, MC_ACT_RELU);                  /* (B,N,128) */
    h = mc_linear_bn_max(h, &m->conv3, &m->bn3, MC_ACT_NONE);    /* (B,1024): no ReLU, then PointNet's max-pool */
    if (c->fc) {                                                 /* variant "no FC before mu/logvar": --no-fc */
        /* (B,latent); without the ReLU: the variant "ReLU missing at the end", --no-relu-end */
        h = mc_linear_bn(h, &m->fc, &m->bn_fc, NULL, c->relu_end ? MC_ACT_RELU : MC_ACT_NONE);
    }
    if (!c->vae) { *mu = h; if (logvar) *logvar = NULL; return; }
    *mu = mc_linear(h, &m->mu);                                  /* (B,latent) */
    if (logvar) *logvar = mc_linear(h, &m->logvar);
}

/* The first layer sees concat(template point, z). The fused layer computes it as W_t t + W_z z, the same
 * function, with the latent half (the big one) done once per shape instead of once per point. */
static mc_tensor *patch_forward(patch_decoder *d, mc_tensor *z, mc_tensor *t)
{
    mc_tensor *h = mc_linear_bn(t, &d->conv1, &d->bn1, z, MC_ACT_RELU);   /* (B,n,width): concat(t, z) */
    h = mc_linear_bn(h, &d->conv2, &d->bn2, NULL, MC_ACT_RELU);           /* (B,n,width/2) */
    h = mc_linear_bn(h, &d->conv3, &d->bn3, NULL, MC_ACT_RELU);           /* (B,n,width/4) */
    return mc_tanh(mc_linear(h, &d->conv4));                              /* (B,n,3) */
}

mc_tensor *atlas_decode(atlasnet *m, mc_tensor *z, mc_tensor **templates)
{
    const atlas_config *c = &m->cfg;
    mc_tensor **parts = mc_arena_alloc((size_t)c->patches * sizeof *parts);
    for (int k = 0; k < c->patches; k++)
        parts[k] = patch_forward(&m->decoder[k], z, templates[k]);
    return mc_concat(parts, c->patches, 1);                      /* (B, K*n, 3) */
}

void atlas_random_templates(const atlasnet *m, mc_rng *rng, int B, int n, mc_tensor **templates)
{
    const atlas_config *c = &m->cfg;
    for (int k = 0; k < c->patches; k++) {
        mc_tensor *t = templates[k] = mc_new(B, n, atlas_template_dim(c));
        if (!c->sphere) { mc_rng_fill_uniform(rng, t->data, t->size, 0, 1); continue; }
        for (int64_t p = 0; p < (int64_t)B * n; p++) {      /* uniform on the sphere: a normalised Gaussian */
            float *v = t->data + 3 * p;
            double x, y, zz, r;
            do { x = mc_rng_normal(rng); y = mc_rng_normal(rng); zz = mc_rng_normal(rng); r = sqrt(x * x + y * y + zz * zz); } while (r < 1e-9);
            v[0] = (float)(x / r); v[1] = (float)(y / r); v[2] = (float)(zz / r);
        }
    }
}

/* ---------------------------------------------------------------------------------------------------
 * Checkpoints and transfer.
 */
int atlas_freeze(atlasnet *m, const char *part)
{
    if (!strcmp(part, "decoder")) return mc_params_freeze(&m->params, "decoder.", 1);
    if (strcmp(part, "encoder")) return -1;
    return mc_params_freeze(&m->params, "encoder.", 1) + mc_params_freeze(&m->params, "mu.", 1) +
           mc_params_freeze(&m->params, "logvar.", 1);
}

int atlas_save(atlasnet *m, const char *path, const char *extra_config, int optimizer, char *err)
{
    char text[2048];
    atlas_config_text(&m->cfg, text, sizeof text);
    if (extra_config) strncat(text, extra_config, sizeof text - strlen(text) - 1);
    return mc_ckpt_save(path, text, &m->params, optimizer, err);
}

int atlas_load(atlasnet *m, const char *path, char *err)
{
    mc_ckpt c;
    if (atlas_ckpt_read(path, &c, NULL, err)) return 1;      /* .ckpt, .pth or .safetensors */
    atlas_config cfg;
    if (atlas_config_parse(c.config, &cfg, err)) {
        char why[MC_ERRLEN];
        snprintf(why, sizeof why, "%s", err);
        mc_set_err(err, "%s: %s", path, why);
        mc_ckpt_free(&c);
        return 1;
    }
    atlas_init(m, &cfg, 0);
    char why[MC_ERRLEN];
    mc_ckpt_filter(&c, "prior.", 0);    /* a learned prior's tensors (models/prior.h) are not the model's */
    if (mc_ckpt_load_params(&c, &m->params, 1, NULL, why)) {
        mc_set_err(err, "%s: %s", path, why);
        mc_ckpt_free(&c);
        atlas_free(m);
        return 1;
    }
    mc_ckpt_free(&c);
    return 0;
}

int atlas_init_from(atlasnet *m, const char *path, FILE *report, char *err)
{
    mc_ckpt c;
    if (atlas_ckpt_read(path, &c, report, err)) return 1;
    atlas_config src;
    char why[MC_ERRLEN];
    if (atlas_config_parse(c.config, &src, why)) {
        mc_set_err(err, "%s: %s", path, why);
        mc_ckpt_free(&c);
        return 1;
    }
    mc_load_report rep;
    mc_ckpt_load_params(&c, &m->params, 0, &rep, err);
    /* Optimizer state belongs to the old run: a fine-tune starts its own. */
    for (int k = 0; k < m->params.n; k++) {
        mc_param *p = m->params.items[k];
        free(p->m); free(p->v);
        p->m = p->v = NULL;
        p->step = 0;
    }
    if (report) {
        fprintf(report, "init from %s (%s): ", path, src.vae ? "VAE" : "AE");
        mc_load_report_print(&rep, report);
    }
    const atlas_config *c_ = &m->cfg;
    if (!src.vae && c_->vae && c_->fc && m->mu.weight->shape[0] == m->mu.weight->shape[1]) {
        /* AE -> VAE: mu = the AE's latent exactly, logvar small, so the VAE starts as the AE it came from. */
        int L = c_->latent;
        memset(m->mu.weight->data, 0, (size_t)L * L * sizeof(float));
        for (int k = 0; k < L; k++) m->mu.weight->data[(int64_t)k * L + k] = 1;
        memset(m->mu.bias->data, 0, (size_t)L * sizeof(float));
        memset(m->logvar.weight->data, 0, (size_t)m->logvar.weight->size * sizeof(float));
        float lv = c_->logvar_init != 0 ? c_->logvar_init : -6;
        for (int k = 0; k < L; k++) m->logvar.bias->data[k] = lv;
        if (report) fprintf(report, "AE -> VAE: mu head set to the identity on the AE latent, logvar bias %g\n", lv);
    }
    mc_load_report_free(&rep);
    mc_ckpt_free(&c);
    return 0;
}
