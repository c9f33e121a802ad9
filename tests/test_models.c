/* AtlasNet AE and VAE on a tiny config: a whole-model gradient check along a random direction, every
 * variant takes a step, the AE overfits a few shapes, save/load/resume are exact, AE -> VAE transfer. */
#include "tests/harness.h"
#include "models/atlasnet.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A small family of shapes: ellipsoids and boxes, so there is something to tell apart. */
static void sample_shapes(int count, int n, uint64_t seed, uint64_t point_seed, float *out)
{
    mc_rng shape_rng, rng;
    mc_rng_seed(&shape_rng, seed);
    mc_rng_seed(&rng, point_seed);
    for (int s = 0; s < count; s++) {
        float ax = 0.3f + 0.6f * (float)mc_rng_uniform(&shape_rng), ay = 0.3f + 0.6f * (float)mc_rng_uniform(&shape_rng);
        int box = s % 2;
        for (int p = 0; p < n; p++) {
            float *v = out + ((int64_t)s * n + p) * 3;
            if (box) {
                int face = mc_rng_int(&rng, 6);
                float u = 2 * (float)mc_rng_uniform(&rng) - 1, w = 2 * (float)mc_rng_uniform(&rng) - 1, side = face % 2 ? 1.f : -1.f;
                float q[3] = {u, w, side};
                v[face / 2] = q[2]; v[(face / 2 + 1) % 3] = q[0]; v[(face / 2 + 2) % 3] = q[1];
            } else {
                double x = mc_rng_normal(&rng), y = mc_rng_normal(&rng), z = mc_rng_normal(&rng), r = sqrt(x * x + y * y + z * z);
                v[0] = (float)(x / r); v[1] = (float)(y / r); v[2] = (float)(z / r);
            }
            v[0] *= ax; v[1] *= ay; v[2] *= 0.5f;
        }
    }
}

static void synthetic_shapes(int count, int n, uint64_t seed, float *out) { sample_shapes(count, n, seed, seed, out); }

static mc_rng noise;   /* the templates and the VAE's eps */

static double loss_at(atlasnet *m, const float *points, int B, float kl_weight)
{
    mc_rng_seed(&noise, 99);      /* the same templates and noise every call */
    mc_tensor *x = mc_tensor_from(3, (int[]){B, m->cfg.points, 3}, points);
    atlas_loss_opts opts = {.kl_weight = kl_weight};
    atlas_losses l = atlas_forward(m, x, &opts, &noise);
    return l.total->data[0];
}

static void gradient_along_direction(const char *name, int vae, int sphere)
{
    atlas_config cfg;
    atlas_preset("tiny", vae, &cfg, NULL);
    cfg.sphere = sphere;
    cfg.points = 32;
    atlasnet m;
    atlas_init(&m, &cfg, 5);
    int B = 4;
    float *pts = malloc((size_t)B * cfg.points * 3 * sizeof(float));
    synthetic_shapes(B, cfg.points, 1, pts);
    mc_set_training(1);
    mc_params_zero_grad(&m.params);
    mc_rng_seed(&noise, 99);
    mc_tensor *x = mc_tensor_from(3, (int[]){B, cfg.points, 3}, pts);
    atlas_loss_opts opts = {.kl_weight = 0.5f};
    atlas_losses l = atlas_forward(&m, x, &opts, &noise);
    mc_backward(l.total);
    mc_step_end();
    /* a unit direction over every trainable parameter, half random and half along the gradient;
     * analytic derivative = g . d. A purely random direction gives a derivative so small (~0.007 for the
     * VAE) that float32 rounding in the two losses moves the difference quotient by several percent,
     * and which kernel did the multiplies decided whether the check passed. Along the gradient the
     * derivative is |g|-sized, and any sizeable error e in g still shows: it adds |e|^2 / |g| to one side. */
    mc_rng rng;
    mc_rng_seed(&rng, 17);
    double analytic = 0, rnorm = 0, gnorm = 0, norm = 0;
    float **dir = malloc((size_t)m.params.n * sizeof *dir);
    for (int k = 0; k < m.params.n; k++) {
        mc_param *p = m.params.items[k];
        dir[k] = NULL;
        if (!p->trainable) continue;
        dir[k] = malloc((size_t)p->t.size * sizeof(float));
        mc_rng_fill_normal(&rng, dir[k], p->t.size, 0, 1);
        for (int64_t i = 0; i < p->t.size; i++) { rnorm += (double)dir[k][i] * dir[k][i]; gnorm += (double)p->t.grad[i] * p->t.grad[i]; }
    }
    rnorm = sqrt(rnorm);
    gnorm = sqrt(gnorm);
    for (int k = 0; k < m.params.n; k++)
        if (dir[k]) for (int64_t i = 0; i < m.params.items[k]->t.size; i++) {
            dir[k][i] = (float)(dir[k][i] / rnorm + m.params.items[k]->t.grad[i] / gnorm);
            norm += (double)dir[k][i] * dir[k][i];
        }
    norm = sqrt(norm);
    for (int k = 0; k < m.params.n; k++)
        if (dir[k]) for (int64_t i = 0; i < m.params.items[k]->t.size; i++) {
            dir[k][i] = (float)(dir[k][i] / norm);
            analytic += (double)m.params.items[k]->t.grad[i] * dir[k][i];
        }
    const double h = 2e-5;   /* larger steps cross ReLU and nearest-neighbour kinks */
    double value[2];
    int prev = mc_set_grad_enabled(0);
    for (int side = 0; side < 2; side++) {
        double sign = side ? -1 : 1;
        for (int k = 0; k < m.params.n; k++)
            if (dir[k]) for (int64_t i = 0; i < m.params.items[k]->t.size; i++) m.params.items[k]->t.data[i] += (float)(sign * h * dir[k][i]);
        value[side] = loss_at(&m, pts, B, 0.5f);
        mc_step_end();
        for (int k = 0; k < m.params.n; k++)
            if (dir[k]) for (int64_t i = 0; i < m.params.items[k]->t.size; i++) m.params.items[k]->t.data[i] -= (float)(sign * h * dir[k][i]);
    }
    mc_set_grad_enabled(prev);
    double numeric = (value[0] - value[1]) / (2 * h);
    CHECK(fabs(numeric - analytic) <= 0.03 * fabs(analytic) + 1e-4,
          "%s: directional derivative %.6g analytic vs %.6g numeric", name, analytic, numeric);
    for (int k = 0; k < m.params.n; k++) free(dir[k]);
    free(dir); free(pts);
    atlas_free(&m);
}

/* fused: mc_adam_backward instead of zero_grad + backward + adam_step (what `mache train` runs) */
static double train_steps_with(atlasnet *m, const float *pts, int count, int B, int steps, mc_adam *opt, float kl_weight, int fused)
{
    double last = 0;
    atlas_loss_opts lo = {.kl_weight = kl_weight};
    mc_set_training(1);
    for (int s = 0; s < steps; s++) {
        int first = (s * B) % count;
        mc_tensor *x = mc_tensor_from(3, (int[]){B, m->cfg.points, 3}, pts + (int64_t)first * m->cfg.points * 3);
        atlas_losses l = atlas_forward(m, x, &lo, &noise);
        if (fused) mc_adam_backward(opt, &m->params, l.total);
        else {
            mc_params_zero_grad(&m->params);
            mc_backward(l.total);
            mc_adam_step(opt, &m->params);
        }
        last = l.chamfer->data[0];
        mc_step_end();
    }
    return last;
}

static double train_steps(atlasnet *m, const float *pts, int count, int B, int steps, mc_adam *opt, float kl_weight)
{
    return train_steps_with(m, pts, count, B, steps, opt, kl_weight, 0);
}

/* The fused optimizer pass trains the model bit for bit as the three separate calls, with the encoder
 * frozen too (transfer learning). */
static void fused_adam_same_model(void)
{
    float pts[4 * 64 * 3];
    synthetic_shapes(4, 64, 9, pts);
    for (int frozen = 0; frozen < 2; frozen++) {
        atlas_config cfg;
        atlas_preset("tiny", 1, &cfg, NULL);
        atlasnet a, b;
        atlas_init(&a, &cfg, 3);
        atlas_init(&b, &cfg, 3);
        if (frozen) { atlas_freeze(&a, "encoder"); atlas_freeze(&b, "encoder"); }
        mc_adam opt = mc_adam_default(1e-3f);
        mc_rng_seed(&noise, 99);
        train_steps_with(&a, pts, 4, 4, 3, &opt, 0.1f, 0);
        mc_rng_seed(&noise, 99);
        train_steps_with(&b, pts, 4, 4, 3, &opt, 0.1f, 1);
        int same = a.params.n == b.params.n;
        for (int k = 0; same && k < a.params.n; k++)
            same = !memcmp(a.params.items[k]->t.data, b.params.items[k]->t.data, (size_t)a.params.items[k]->t.size * sizeof(float));
        CHECK(same, "mc_adam_backward trains the VAE%s differently from zero_grad + backward + adam_step", frozen ? " (frozen encoder)" : "");
        atlas_free(&a);
        atlas_free(&b);
    }
}

static void variants_take_a_step(void)
{
    struct { const char *name; int vae, fc, relu_end, sphere, patches; } v[] = {
        {"ae", 0, 1, 1, 0, 2}, {"vae", 1, 1, 1, 0, 2}, {"ae no-fc", 0, 0, 1, 0, 2}, {"vae no-fc", 1, 0, 1, 0, 2},
        {"vae no-relu-end", 1, 1, 0, 0, 2}, {"vae sphere", 1, 1, 1, 1, 1}, {"ae one patch", 0, 1, 1, 0, 1}};
    float pts[4 * 64 * 3];
    synthetic_shapes(4, 64, 2, pts);
    for (size_t k = 0; k < sizeof v / sizeof *v; k++) {
        atlas_config cfg;
        atlas_preset("tiny", v[k].vae, &cfg, NULL);
        cfg.fc = v[k].fc; cfg.relu_end = v[k].relu_end; cfg.sphere = v[k].sphere; cfg.patches = v[k].patches;
        atlasnet m;
        atlas_init(&m, &cfg, 1);
        float before = m.decoder[0].conv4.weight->data[0];
        mc_adam opt = mc_adam_default(1e-3f);
        double chamfer = train_steps(&m, pts, 4, 4, 1, &opt, 0.1f);
        CHECK(isfinite(chamfer) && m.decoder[0].conv4.weight->data[0] != before, "variant %s takes a step (chamfer %g)", v[k].name, chamfer);
        CHECK(!!mc_param_find(&m.params, "encoder.fc.weight") == v[k].fc, "variant %s: encoder.fc present iff fc", v[k].name);
        mc_mesh mesh;
        int *patch = malloc((size_t)atlas_mesh_faces(&m, 500) * sizeof *patch);
        float z[64] = {0};
        atlas_mesh(&m, z, 500, &mesh, patch);
        CHECK(mesh.nfaces == atlas_mesh_faces(&m, 500) && mesh.nverts > 100 && mesh.nverts <= 700,
              "variant %s: mesh of %d vertices, %d faces", v[k].name, mesh.nverts, mesh.nfaces);
        int in_range = 1;
        for (int f = 0; f < 3 * mesh.nfaces; f++) in_range &= mesh.faces[f] >= 0 && mesh.faces[f] < mesh.nverts;
        CHECK(in_range && patch[mesh.nfaces - 1] == cfg.patches - 1, "variant %s: faces index the mesh", v[k].name);
        free(mesh.verts); free(mesh.faces); free(patch);
        atlas_free(&m);
    }
}

static void ae_overfits(void)
{
    atlas_config cfg;
    atlas_preset("tiny", 0, &cfg, NULL);
    cfg.points = 128; cfg.latent = 32; cfg.enc[0] = 32; cfg.enc[1] = 64; cfg.enc[2] = 64; cfg.dec = 64; cfg.patches = 4;
    atlasnet m;
    atlas_init(&m, &cfg, 3);
    float *pts = malloc((size_t)8 * cfg.points * 3 * sizeof(float));
    synthetic_shapes(8, cfg.points, 4, pts);
    mc_adam opt = mc_adam_default(3e-3f);
    double first = train_steps(&m, pts, 8, 8, 1, &opt, 0);
    double last = train_steps(&m, pts, 8, 8, 400, &opt, 0);
    /* Two independent samplings of the same surfaces are this far apart: the best a decoder can do. */
    float *again = malloc((size_t)8 * cfg.points * 3 * sizeof(float));
    sample_shapes(8, cfg.points, 4, 77, again);
    mc_tensor *a = mc_tensor_from(3, (int[]){8, cfg.points, 3}, pts), *b = mc_tensor_from(3, (int[]){8, cfg.points, 3}, again);
    double floor = mc_chamfer(a, b)->data[0];
    mc_step_end();
    CHECK(last < first / 10 && last < 1.5 * floor, "AE overfits 8 shapes: chamfer %.5f -> %.5f (sampling floor %.5f)", first, last, floor);
    free(pts); free(again);
    atlas_free(&m);
}

static void save_load_resume(void)
{
    char dir[] = "/tmp/mache_models_XXXXXX", path[256], err[MC_ERRLEN];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/m.ckpt", dir);
    atlas_config cfg;
    atlas_preset("tiny", 1, &cfg, NULL);
    atlasnet a, b;
    atlas_init(&a, &cfg, 7);
    float pts[4 * 64 * 3];
    synthetic_shapes(4, 64, 5, pts);
    mc_adam opt = mc_adam_default(1e-3f);
    train_steps(&a, pts, 4, 4, 3, &opt, 0.1f);
    CHECK(atlas_save(&a, path, "epoch=3\n", 1, err) == 0, "save: %s", err);
    CHECK(atlas_load(&b, path, err) == 0, "load: %s", err);
    mc_rng_seed(&noise, 1234);
    double la = train_steps(&a, pts, 4, 4, 2, &opt, 0.1f);
    mc_rng_seed(&noise, 1234);
    double lb = train_steps(&b, pts, 4, 4, 2, &opt, 0.1f);
    CHECK(la == lb, "resumed training gives identical losses: %.9g vs %.9g", la, lb);
    atlas_free(&b);

    /* a checkpoint of another config is refused with a message */
    atlas_config other = cfg;
    other.latent = 12;
    atlasnet c;
    atlas_init(&c, &other, 1);
    char path2[300];
    snprintf(path2, sizeof path2, "%s/other.ckpt", dir);
    atlas_save(&c, path2, NULL, 0, err);
    mc_ckpt ck;
    CHECK(mc_ckpt_read(path2, &ck, err) == 0, "read other");
    CHECK(mc_ckpt_load_params(&ck, &a.params, 1, NULL, err) != 0 && strstr(err, "mis-shaped"), "another config refused: %s", err);
    mc_ckpt_free(&ck);
    atlas_free(&c);

    /* AE -> VAE: the shared parameters load, and the VAE's mu equals the AE's latent */
    atlas_config ae_cfg;
    atlas_preset("tiny", 0, &ae_cfg, NULL);
    atlasnet ae, vae;
    atlas_init(&ae, &ae_cfg, 8);
    train_steps(&ae, pts, 4, 4, 3, &opt, 0);
    char path3[300];
    snprintf(path3, sizeof path3, "%s/ae.ckpt", dir);
    atlas_save(&ae, path3, NULL, 1, err);
    atlas_init(&vae, &cfg, 9);
    FILE *sink = fopen("/dev/null", "w");
    CHECK(atlas_init_from(&vae, path3, sink, err) == 0, "init-from: %s", err);
    fclose(sink);
    mc_set_training(0);
    mc_tensor *x = mc_tensor_from(3, (int[]){4, 64, 3}, pts), *mu_ae, *mu_vae, *logvar;
    atlas_encode(&ae, x, &mu_ae, NULL);
    atlas_encode(&vae, x, &mu_vae, &logvar);
    double diff = 0;
    for (int64_t k = 0; k < mu_ae->size; k++) diff = fmax(diff, fabs(mu_ae->data[k] - mu_vae->data[k]));
    CHECK(diff < 1e-6 && logvar->data[0] < -5, "AE -> VAE: mu equals the AE latent (max diff %g), logvar %g", diff, logvar->data[0]);
    CHECK(!memcmp(ae.decoder[1].conv2.weight->data, vae.decoder[1].conv2.weight->data, 4 * sizeof(float)), "decoder carried over");
    mc_step_end();
    mc_set_training(1);
    atlas_free(&ae); atlas_free(&vae); atlas_free(&a);
    remove(path); remove(path2); remove(path3); rmdir(dir);
}

static void config_round_trip(void)
{
    atlas_config cfg, back;
    char text[1024], err[MC_ERRLEN];
    atlas_preset("paper", 1, &cfg, NULL);
    cfg.sphere = 1; cfg.fc = 0; cfg.logvar_init = -6;
    atlas_config_text(&cfg, text, sizeof text);
    CHECK(atlas_config_parse(text, &back, err) == 0 && !memcmp(&cfg, &back, sizeof cfg), "config text round trip: %s", text);
    CHECK(atlas_config_parse("model=vae\n", &back, err) != 0, "incomplete config rejected: %s", err);
    CHECK(atlas_preset("huge", 0, &cfg, err) != 0 && strstr(err, "paper"), "unknown preset: %s", err);
}

int main(void)
{
    config_round_trip();
    gradient_along_direction("AE square", 0, 0);
    gradient_along_direction("VAE square", 1, 0);
    gradient_along_direction("AE sphere", 0, 1);
    gradient_along_direction("VAE sphere", 1, 1);
    variants_take_a_step();
    save_load_resume();
    fused_adam_same_model();
    ae_overfits();
    return test_summary("test_models");
}
