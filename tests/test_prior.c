/* The flow prior: invertible, its log-density agrees with a numerical Jacobian, its gradient with finite
 * differences, fitting raises the likelihood of a known mixture and its samples carry the mixture's
 * moments, and it survives a checkpoint round trip beside a model. */
#include "tests/harness.h"
#include "models/prior.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static mc_rng rng;

/* A prior whose last layers are random too, so the flow is far from the identity. */
static void random_prior(atlas_prior *p, int dim, int couplings, int hidden)
{
    atlas_prior_config cfg = atlas_prior_defaults(dim);
    cfg.couplings = couplings;
    cfg.hidden = hidden;
    atlas_prior_init(p, &cfg, &rng);
    for (int k = 0; k < couplings; k++) {
        mc_rng_fill_uniform(&rng, p->layers[k].fc3.weight->data, p->layers[k].fc3.weight->size, -0.3f, 0.3f);
        mc_rng_fill_uniform(&rng, p->layers[k].fc3.bias->data, p->layers[k].fc3.bias->size, -0.3f, 0.3f);
    }
    for (int d = 0; d < dim; d++) { p->mean->data[d] = 0.1f * (float)d; p->std->data[d] = 0.5f + 0.25f * (float)d; }
}

static double log_prob_of(atlas_prior *p, const float *z)
{
    mc_tensor *lp;
    atlas_prior_forward(p, mc_tensor_from(2, (int[]){1, p->cfg.dim}, z), &lp);
    double v = lp->data[0];
    mc_step_end();
    return v;
}

/* log |det J| by Gaussian elimination with partial pivoting (J is small, row-major, overwritten). */
static double log_abs_det(double *J, int n)
{
    double s = 0;
    for (int c = 0; c < n; c++) {
        int piv = c;
        for (int r = c + 1; r < n; r++) if (fabs(J[r * n + c]) > fabs(J[piv * n + c])) piv = r;
        for (int k = 0; k < n; k++) { double t = J[c * n + k]; J[c * n + k] = J[piv * n + k]; J[piv * n + k] = t; }
        s += log(fabs(J[c * n + c]));
        for (int r = c + 1; r < n; r++) {
            double f = J[r * n + c] / J[c * n + c];
            for (int k = c; k < n; k++) J[r * n + k] -= f * J[c * n + k];
        }
    }
    return s;
}

static void test_invertible_and_jacobian(void)
{
    enum { D = 6 };
    atlas_prior p;
    random_prior(&p, D, 4, 16);
    int prev = mc_set_grad_enabled(0);
    float z[3 * D];
    mc_rng_fill_normal(&rng, z, 3 * D, 0, 1);
    mc_tensor *y = atlas_prior_forward(&p, mc_tensor_from(2, (int[]){3, D}, z), NULL);
    mc_tensor *back = atlas_prior_inverse(&p, y);
    double worst = 0, moved = 0;
    for (int k = 0; k < 3 * D; k++) { worst = fmax(worst, fabs(back->data[k] - z[k])); moved = fmax(moved, fabs(y->data[k] - z[k])); }
    CHECK(worst < 1e-4, "inverse(forward(z)) differs from z by %g", worst);
    CHECK(moved > 0.1, "the random flow should move points (max move %g)", moved);
    mc_step_end();

    /* log p(z) = log N(f(z); 0, I) + log |det df/dz|, the Jacobian by central differences (float ops, so
     * a step of 1e-2: the flow is smooth on that scale) */
    double J[D * D], h = 1e-2;
    for (int j = 0; j < D; j++) {
        float zp[D], zm[D];
        memcpy(zp, z, sizeof zp); memcpy(zm, z, sizeof zm);
        zp[j] += (float)h; zm[j] -= (float)h;
        mc_tensor *yp = atlas_prior_forward(&p, mc_tensor_from(2, (int[]){1, D}, zp), NULL);
        mc_tensor *ym = atlas_prior_forward(&p, mc_tensor_from(2, (int[]){1, D}, zm), NULL);
        for (int i = 0; i < D; i++) J[i * D + j] = (yp->data[i] - ym->data[i]) / (2 * h);
        mc_step_end();
    }
    y = atlas_prior_forward(&p, mc_tensor_from(2, (int[]){1, D}, z), NULL);
    double base = 0;
    for (int i = 0; i < D; i++) base += -0.5 * y->data[i] * y->data[i] - 0.5 * log(2 * 3.141592653589793);
    mc_step_end();
    double numeric = base + log_abs_det(J, D), analytic = log_prob_of(&p, z);
    CHECK(fabs(numeric - analytic) < 2e-3 * (1 + fabs(analytic)), "log p(z) %.6f, numerical Jacobian gives %.6f", analytic, numeric);
    mc_set_grad_enabled(prev);
    atlas_prior_free(&p);
}

/* d(-mean log p)/d(parameter) by the tape against central differences, for entries of every layer kind. */
static void test_gradient(void)
{
    enum { D = 4, B = 5 };
    atlas_prior p;
    random_prior(&p, D, 2, 8);
    float z[B * D];
    mc_rng_fill_normal(&rng, z, B * D, 0, 1);
    mc_tensor *lp;
    atlas_prior_forward(&p, mc_tensor_from(2, (int[]){B, D}, z), &lp);
    mc_params_zero_grad(&p.params);
    mc_backward(mc_scale(mc_sum(lp), -1.0f / B));
    mc_step_end();
    const char *names[] = {"prior.coupling.0.fc1.weight", "prior.coupling.1.fc2.bias", "prior.coupling.1.fc3.weight"};
    int prev = mc_set_grad_enabled(0), bad = 0, checked = 0;
    for (int n = 0; n < 3; n++) {
        mc_param *par = mc_param_find(&p.params, names[n]);
        for (int64_t k = 0; k < par->t.size; k += 3) {
            float keep = par->t.data[k];
            double f[2];
            for (int sgn = 0; sgn < 2; sgn++) {
                par->t.data[k] = keep + (sgn ? -2e-3f : 2e-3f);
                atlas_prior_forward(&p, mc_tensor_from(2, (int[]){B, D}, z), &lp);
                f[sgn] = 0;
                for (int b = 0; b < B; b++) f[sgn] -= lp->data[b] / B;
                mc_step_end();
            }
            par->t.data[k] = keep;
            double numeric = (f[0] - f[1]) / 4e-3;
            checked++;
            if (!test_close(par->t.grad[k], numeric, 2e-2, 2e-3)) {
                if (bad++ < 3) fprintf(stderr, "  %s[%lld]: tape %g, finite differences %g\n", names[n], (long long)k, par->t.grad[k], numeric);
            }
        }
    }
    CHECK(bad == 0 && checked > 20, "prior gradient: %d of %d entries off", bad, checked);
    mc_set_grad_enabled(prev);
    atlas_prior_free(&p);
}

/* A mixture of four Gaussians (std 0.3) whose centres are random in [-2, 2]^dim: every dimension is
 * multimodal and depends on the others through the component, as latent clusters do. */
static float centres[4][8];

static void mixture(float *x, int n, int dim)
{
    for (int i = 0; i < n; i++) {
        int c = mc_rng_int(&rng, 4);
        for (int d = 0; d < dim; d++) x[i * dim + d] = centres[c][d] + 0.3f * (float)mc_rng_normal(&rng);
    }
}

static int near_a_centre(const float *x, int dim)
{
    for (int c = 0; c < 4; c++) {
        double r2 = 0;
        for (int d = 0; d < dim; d++) r2 += (x[d] - centres[c][d]) * (x[d] - centres[c][d]);
        if (sqrt(r2) < 0.3 * (sqrt(dim) + 2.5)) return 1;
    }
    return 0;
}

static void moments(const float *x, int n, int dim, double *mean, double *absdev)
{
    for (int d = 0; d < dim; d++) {
        double s = 0, a = 0;
        for (int i = 0; i < n; i++) s += x[i * dim + d];
        s /= n;
        for (int i = 0; i < n; i++) a += fabs(x[i * dim + d] - s);
        mean[d] = s;
        absdev[d] = a / n;
    }
}

static void test_fit(int dim)
{
    enum { N = 800 };
    mc_rng_fill_uniform(&rng, &centres[0][0], 4 * 8, -2, 2);
    float *x = malloc(N * dim * sizeof(float)), *test = malloc(N * dim * sizeof(float)), *s = malloc(N * dim * sizeof(float));
    mixture(x, N, dim);
    mixture(test, N, dim);
    atlas_prior_config cfg = atlas_prior_defaults(dim);
    cfg.couplings = 6;
    cfg.hidden = 32;
    atlas_prior p;
    atlas_prior_init(&p, &cfg, &rng);
    atlas_prior_fit_opts o = atlas_prior_fit_defaults();
    o.epochs = 60;
    o.batch = 100;
    o.lr = 1e-3f;
    o.noise = 0.05f;
    o.weight_decay = 1e-3f;
    /* before training the flow is the identity after standardising: a diagonal Gaussian fit */
    atlas_prior_fit_opts none = o;
    none.epochs = 0;
    atlas_prior_fit(&p, x, N, &none, &rng, NULL);
    double gaussian = atlas_prior_nll(&p, test, N);
    atlas_prior_fit_result r;
    atlas_prior_fit(&p, x, N, &o, &rng, &r);
    double fitted = atlas_prior_nll(&p, test, N);
    /* per dimension the mixture's own NLL is about 0.5 log(2 pi e 0.09) = 0.2 nats (plus log 4 in all)
     * against the Gaussian's ~1.6: the flow must recover a good part of that gap */
    CHECK(fitted < gaussian - 0.5 * dim, "%dD mixture: held-out NLL %.3f after fitting vs %.3f for the Gaussian", dim, fitted, gaussian);
    CHECK(r.best_epoch > 1 && r.epochs <= o.epochs, "fit result: best epoch %d of %d", r.best_epoch, r.epochs);
    atlas_prior_sample(&p, N, 1, &rng, s);
    double mt[16], at[16], ms[16], as[16];
    moments(test, N, dim, mt, at);
    moments(s, N, dim, ms, as);
    int off = 0;
    for (int d = 0; d < dim; d++) off += fabs(ms[d] - mt[d]) > 0.25 || fabs(as[d] - at[d]) > 0.25 * at[d];
    CHECK(off == 0, "%dD mixture: %d dimensions of the samples miss the target's mean or spread (dim 0: mean %.2f vs %.2f, abs dev %.2f vs %.2f)",
          dim, off, ms[0], mt[0], as[0], at[0]);
    /* the modes: nearly every sample near a centre (99% of the mixture's own are) */
    int near = 0;
    for (int i = 0; i < N; i++) near += near_a_centre(s + i * dim, dim);
    CHECK(near > N * 8 / 10, "%dD mixture: only %d of %d samples near a centre", dim, near, N);
    atlas_prior_free(&p);
    free(x); free(test); free(s);
}

static void test_checkpoint(void)
{
    char dir[] = "/tmp/mache_prior_XXXXXX", path[256], plain[256], err[MC_ERRLEN];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/with_prior.ckpt", dir);
    snprintf(plain, sizeof plain, "%s/plain.ckpt", dir);
    atlas_config cfg;
    atlas_preset("tiny", 0, &cfg, err);
    atlasnet m, back;
    atlas_init(&m, &cfg, 3);
    atlas_prior p, q;
    random_prior(&p, cfg.latent, 2, 8);
    CHECK(atlas_save_with_prior(&m, &p, path, "epoch=1\n", err) == 0, "save with prior: %s", err);
    CHECK(atlas_save(&m, plain, NULL, 0, err) == 0, "save: %s", err);
    /* the model loads strictly from the file that also holds the prior */
    int loaded = atlas_load(&back, path, err) == 0;
    CHECK(loaded, "atlas_load of a checkpoint with a prior: %s", err);
    if (loaded) {
        CHECK(!memcmp(back.conv1.weight->data, m.conv1.weight->data, (size_t)m.conv1.weight->size * sizeof(float)), "model weights round trip");
        atlas_free(&back);
    }
    CHECK(atlas_prior_load(&q, plain, err) == 1 && strstr(err, "no learned prior"), "a checkpoint without a prior: %s", err);
    loaded = atlas_prior_load(&q, path, err) == 0;
    CHECK(loaded, "atlas_prior_load: %s", err);
    if (loaded) {
        CHECK(q.cfg.dim == p.cfg.dim && q.cfg.couplings == 2 && q.cfg.hidden == 8, "prior config round trip");
        float z[8 * 2], a[8 * 2], b[8 * 2];
        mc_rng_fill_normal(&rng, z, cfg.latent * 2, 0, 1);
        CHECK(log_prob_of(&p, z) == log_prob_of(&q, z), "log p(z) after a round trip");
        mc_rng r1, r2;
        mc_rng_seed(&r1, 9); mc_rng_seed(&r2, 9);
        atlas_prior_sample(&p, 2, 0.8f, &r1, a);
        atlas_prior_sample(&q, 2, 0.8f, &r2, b);
        CHECK(!memcmp(a, b, sizeof a), "samples after a round trip");
        atlas_prior_free(&q);
    }
    /* a hostile config is refused before anything is allocated */
    atlas_prior_config c;
    CHECK(atlas_prior_config_parse("prior=flow\nprior_dim=65536\nprior_couplings=64\nprior_hidden=65536\nprior_scale_bound=2\n", &c, err) == -1,
          "huge prior config accepted");
    CHECK(atlas_prior_config_parse("prior=ddpm\n", &c, err) == -1 && strstr(err, "unknown"), "unknown prior kind: %s", err);
    atlas_prior_free(&p);
    atlas_free(&m);
    unlink(path); unlink(plain); rmdir(dir);
}

int main(void)
{
    mc_rng_seed(&rng, 12345);
    test_invertible_and_jacobian();
    test_gradient();
    test_fit(2);
    test_fit(8);
    test_checkpoint();
    return test_summary("test_prior");
}
