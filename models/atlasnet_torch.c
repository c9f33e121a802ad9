/* AtlasNet 2018 (ThibaultGROUEIX/AtlasNet, v1) names its modules
 *   encoder = Sequential(PointNetfeat, Linear, BatchNorm1d, ReLU)   -> encoder.0.conv1..3, .bn1..3, .stn.*;
 *                                                                      encoder.1 (FC), encoder.2 (its BN)
 *   decoder = ModuleList(PointGenCon(2 + latent) for each patch)     -> decoder.K.conv1..4, .bn1..3
 * and its decoder sees cat(grid, latent) with tanh at the end: the same function as mache's, whose first
 * decoder weight is [W_template | W_latent]. Only the names and the Conv1d's trailing 1 differ. */
#include "models/atlasnet_torch.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int starts(const char *s, const char *prefix) { return !strncmp(s, prefix, strlen(prefix)); }

static int ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

static char *concat(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = mc_malloc(n);
    snprintf(s, n, "%s%s", a, b);
    return s;
}

int atlas_names_from_torch(mc_ckpt *c, FILE *notes, char *err)
{
    static const struct { const char *from, *to; } renames[] = {
        {"encoder.0.", "encoder."}, {"encoder.1.", "encoder.fc."}, {"encoder.2.", "encoder.bn_fc."},
    };
    int stn = 0, counters = 0, kept = 0;
    for (int k = 0; k < c->n; k++) {
        mc_ckpt_entry e = c->entries[k];
        const char *name = starts(e.name, "module.") ? e.name + 7 : e.name;   /* saved from nn.DataParallel */
        if (starts(name, "encoder.0.stn.") || ends(name, ".num_batches_tracked")) {
            if (starts(name, "encoder.0.stn.")) stn++; else counters++;
            free(e.name);
            continue;
        }
        char *renamed = NULL;
        for (size_t r = 0; r < sizeof renames / sizeof *renames && !renamed; r++)
            if (starts(name, renames[r].from)) renamed = concat(renames[r].to, name + strlen(renames[r].from));
        if (!renamed) renamed = concat("", name);
        free(e.name);
        e.name = renamed;
        /* Conv1d(in, out, 1) keeps its kernel dimension: (out, in, 1) is mache's (out, in). */
        if (e.ndim == 3 && e.shape[2] == 1 && strstr(e.name, ".conv") && ends(e.name, ".weight")) e.ndim = 2;
        c->entries[kept++] = e;
    }
    c->n = kept;
    if (notes && stn) fprintf(notes, "skipped %d tensors of encoder.0.stn (AtlasNet's spatial transformer, unused: trans=False)\n", stn);
    if (notes && counters) fprintf(notes, "skipped %d num_batches_tracked counters (BatchNorm with momentum 0.1 does not use them)\n", counters);
    const char *dup;
    if (!mc_ckpt_names_unique(c, &dup)) {
        mc_set_err(err, "the name %s appears twice once mapped (both with and without \"module.\"?)", dup);
        return 1;
    }
    return 0;
}

static const mc_ckpt_entry *shape2(const mc_ckpt *c, const char *name)
{
    const mc_ckpt_entry *e = mc_ckpt_find(c, name);
    return e && e->ndim == 2 && e->shape[0] > 0 && e->shape[1] > 0 ? e : NULL;
}

int atlas_config_from_shapes(const mc_ckpt *c, atlas_config *cfg, char *err)
{
    memset(cfg, 0, sizeof *cfg);
    const mc_ckpt_entry *conv[3], *fc = shape2(c, "encoder.fc.weight"), *mu = shape2(c, "mu.weight"), *dec0;
    for (int k = 0; k < 3; k++) {
        char name[32];
        snprintf(name, sizeof name, "encoder.conv%d.weight", k + 1);
        if (!(conv[k] = shape2(c, name))) {
            mc_set_err(err, "not an AtlasNet state_dict: no 2-D or (out, in, 1) %s (AtlasNet's encoder.0.conv%d.weight)", name, k + 1);
            return 1;
        }
        cfg->enc[k] = conv[k]->shape[0];
    }
    if (conv[0]->shape[1] != 3 || conv[1]->shape[1] != cfg->enc[0] || conv[2]->shape[1] != cfg->enc[1]) {
        mc_set_err(err, "not an AtlasNet state_dict: the encoder's widths do not chain (3 -> %d -> %d -> %d)", cfg->enc[0], cfg->enc[1], cfg->enc[2]);
        return 1;
    }
    cfg->fc = fc != NULL;
    cfg->relu_end = 1;                      /* AtlasNet's encoder ends with ReLU */
    cfg->latent = fc ? fc->shape[0] : cfg->enc[2];
    cfg->vae = mu != NULL;
    if (mu) cfg->latent = mu->shape[0];
    cfg->points = 2500;
    while (cfg->patches < 1024) {
        char name[48];
        snprintf(name, sizeof name, "decoder.%d.conv1.weight", cfg->patches);
        if (!mc_ckpt_find(c, name)) break;
        cfg->patches++;
    }
    if (!cfg->patches || !(dec0 = shape2(c, "decoder.0.conv1.weight"))) {
        mc_set_err(err, "not an AtlasNet state_dict: no decoder.0.conv1.weight");
        return 1;
    }
    int dim = dec0->shape[1] - cfg->latent;
    if (dim != 2 && dim != 3) {
        mc_set_err(err, "not an AtlasNet state_dict: the decoder sees %d inputs, not 2 or 3 template coordinates + latent %d",
                   dec0->shape[1], cfg->latent);
        return 1;
    }
    cfg->sphere = dim == 3;
    cfg->dec = dec0->shape[0];
    return 0;
}

int atlas_ckpt_read(const char *path, mc_ckpt *c, FILE *notes, char *err)
{
    if (mc_tensors_read(path, c, err)) return 1;
    if (mc_tensor_file_kind(path) == MC_FILE_CKPT) return 0;
    char why[MC_ERRLEN];
    atlas_config cfg;
    if (atlas_names_from_torch(c, notes, why) || (!c->config && atlas_config_from_shapes(c, &cfg, why))) {
        mc_set_err(err, "%s: %s", path, why);
        mc_ckpt_free(c);
        return 1;
    }
    if (!c->config) {
        c->config = mc_malloc(1024);
        atlas_config_text(&cfg, c->config, 1024);
    }
    return 0;
}

/* ---- export ---- */
static void add(mc_ckpt *c, char *name, int ndim, const int *shape, const float *data, int integer)
{
    mc_ckpt_entry *e = &c->entries[c->n++];
    memset(e, 0, sizeof *e);
    e->name = name;
    e->ndim = ndim;
    if (ndim) memcpy(e->shape, shape, (size_t)ndim * sizeof *shape);
    e->size = mc_shape_size(ndim, shape);
    e->data = data;
    e->integer = integer;
}

void atlas_export(const atlasnet *m, atlas_layout layout, mc_ckpt *out, FILE *notes)
{
    const atlas_config *cfg = &m->cfg;
    const mc_params *ps = &m->params;
    memset(out, 0, sizeof *out);
    out->config = mc_malloc(1024);
    atlas_config_text(cfg, out->config, 1024);
    out->entries = mc_calloc((size_t)ps->n * 2 + 16, sizeof *out->entries);
    if (layout == ATLAS_LAYOUT_MACHE) {
        for (int k = 0; k < ps->n; k++) add(out, concat("", ps->items[k]->name), ps->items[k]->t.ndim, ps->items[k]->t.shape, ps->items[k]->t.data, 0);
        return;
    }
    /* AE_AtlasNet's PointNetfeat always builds an STN3d (3-64-128-1024, then FC 512-256-9 in the paper's
     * sizes; here following the encoder's widths). Unused, so zeros; one block holds them and the counters. */
    int e0 = cfg->enc[0], e1 = cfg->enc[1], e2 = cfg->enc[2];
    struct { const char *name; int out, in, conv; } stn[6] = {
        {"conv1", e0, 3, 1}, {"conv2", e1, e0, 1}, {"conv3", e2, e1, 1}, {"fc1", e2 / 2, e2, 0}, {"fc2", e2 / 4, e2 / 2, 0}, {"fc3", 9, e2 / 4, 0},
    };
    int64_t zeros = 1;
    for (int k = 0; k < 6; k++) zeros = zeros > (int64_t)stn[k].out * stn[k].in ? zeros : (int64_t)stn[k].out * stn[k].in;
    float *zero = out->file = mc_calloc((size_t)zeros, sizeof(float));
    char name[160];
    for (int k = 0; k < 6; k++) {
        snprintf(name, sizeof name, "encoder.0.stn.%s.weight", stn[k].name);
        add(out, concat("", name), stn[k].conv ? 3 : 2, (int[]){stn[k].out, stn[k].in, 1}, zero, 0);
        snprintf(name, sizeof name, "encoder.0.stn.%s.bias", stn[k].name);
        add(out, concat("", name), 1, (int[]){stn[k].out}, zero, 0);
    }
    for (int k = 0; k < ps->n; k++) {
        const mc_param *p = ps->items[k];
        const char *n = p->name;
        if (starts(n, "encoder.fc.")) snprintf(name, sizeof name, "encoder.1.%s", n + 11);
        else if (starts(n, "encoder.bn_fc.")) snprintf(name, sizeof name, "encoder.2.%s", n + 14);
        else if (starts(n, "encoder.")) snprintf(name, sizeof name, "encoder.0.%s", n + 8);
        else snprintf(name, sizeof name, "%s", n);
        int conv = strstr(name, ".conv") && ends(name, ".weight");
        add(out, concat("", name), p->t.ndim + conv, (int[]){p->t.shape[0], p->t.shape[1], 1}, p->t.data, 0);
        if (ends(name, ".running_var")) {           /* PyTorch's BatchNorm buffer after running_var */
            size_t at = strlen(name) - strlen("running_var");
            snprintf(name + at, sizeof name - at, "num_batches_tracked");
            add(out, concat("", name), 0, NULL, zero, 1);
        }
    }
    if (!notes) return;
    int dim = atlas_template_dim(cfg);
    if (cfg->vae) fprintf(notes, "note: a VAE: mu.* and logvar.* have no counterpart in AE_AtlasNet (load with strict=False, or add the two Linear heads)\n");
    if (!cfg->fc) fprintf(notes, "note: the no-FC variant: AE_AtlasNet always has encoder.1 and encoder.2, so it will not load strictly\n");
    if (!cfg->relu_end) fprintf(notes, "note: the no-ReLU-at-the-end variant: AE_AtlasNet applies that ReLU, so its outputs will differ\n");
    if (cfg->dec != dim + cfg->latent)
        fprintf(notes, "note: decoder width %d, while AE_AtlasNet's is %d + latent = %d: it will not load strictly\n", cfg->dec, dim, dim + cfg->latent);
}

int atlas_save_as(atlasnet *m, const char *path, atlas_layout layout, FILE *notes, char *err)
{
    int kind = mc_tensor_file_kind(path);
    if (kind == MC_FILE_CKPT) return atlas_save(m, path, NULL, 0, err);
    mc_ckpt c;
    atlas_export(m, layout, &c, notes);
    int r = kind == MC_FILE_TORCH ? mc_torch_save(path, &c, err) : mc_safetensors_save(path, &c, err);
    mc_ckpt_free(&c);
    return r;
}
