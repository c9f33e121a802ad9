/* The flow prior as graph code. One coupling, reading z -> y (data to base):
 *     keep = x * mask                                  the half passed through unchanged
 *     (s, t) = MLP(keep), both zeroed on the kept half
 *     y = x * exp(s) + t,   log |det dy/dx| = sum(s)
 * and its inverse x = (y - t) * exp(-s), where keep = y * mask gives the same (s, t). */
#include "models/prior.h"
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_2PI 1.8378770664093453

atlas_prior_config atlas_prior_defaults(int dim)
{
    int hidden = 4 * dim < 32 ? 32 : 4 * dim > 256 ? 256 : 4 * dim;    /* 256 for the cpu preset's latent */
    return (atlas_prior_config){.dim = dim, .couplings = 8, .hidden = hidden, .scale_bound = 2};
}

atlas_prior_fit_opts atlas_prior_fit_defaults(void)
{
    return (atlas_prior_fit_opts){.epochs = 400, .batch = 64, .lr = 1e-3f, .weight_decay = 0, .noise = 0.2f,
                                  .holdout = 0.1f, .patience = 40, .quiet = 1};
}

void atlas_prior_init(atlas_prior *p, const atlas_prior_config *cfg, mc_rng *rng)
{
    memset(p, 0, sizeof *p);
    p->cfg = *cfg;
    int D = cfg->dim, H = cfg->hidden;
    p->mean = mc_param_new(&p->params, "prior.mean", 1, (int[]){D}, 0);
    p->std = mc_param_new(&p->params, "prior.std", 1, (int[]){D}, 0);
    for (int d = 0; d < D; d++) p->std->data[d] = 1;
    p->layers = mc_calloc((size_t)cfg->couplings, sizeof *p->layers);
    int *perm = mc_malloc((size_t)D * sizeof *perm);
    for (int k = 0; k < cfg->couplings; k++) {
        atlas_prior_coupling *c = &p->layers[k];
        char name[96];
        snprintf(name, sizeof name, "prior.coupling.%d.mask", k);
        c->mask = mc_param_new(&p->params, name, 1, (int[]){D}, 0);
        /* pairs of layers: a random half, then its complement, so every coordinate is transformed */
        if (k % 2 == 0) {
            for (int d = 0; d < D; d++) perm[d] = d;
            mc_rng_shuffle(rng, perm, D);
            for (int d = 0; d < D / 2; d++) c->mask->data[perm[d]] = 1;
        } else {
            for (int d = 0; d < D; d++) c->mask->data[d] = 1 - p->layers[k - 1].mask->data[d];
        }
        snprintf(name, sizeof name, "prior.coupling.%d.fc1", k);
        mc_linear_init(&c->fc1, &p->params, name, D, H, 1, rng);
        snprintf(name, sizeof name, "prior.coupling.%d.fc2", k);
        mc_linear_init(&c->fc2, &p->params, name, H, H, 1, rng);
        snprintf(name, sizeof name, "prior.coupling.%d.fc3", k);
        mc_linear_init(&c->fc3, &p->params, name, H, 2 * D, 1, rng);
        memset(c->fc3.weight->data, 0, (size_t)c->fc3.weight->size * sizeof(float));   /* start as the identity */
        memset(c->fc3.bias->data, 0, (size_t)c->fc3.bias->size * sizeof(float));
    }
    free(perm);
}

void atlas_prior_free(atlas_prior *p)
{
    mc_params_free(&p->params);
    free(p->layers);
    memset(p, 0, sizeof *p);
}

/* The log-scale s and shift t of one coupling, zero where the mask keeps the input. */
static void coupling_net(const atlas_prior *p, const atlas_prior_coupling *c, mc_tensor *x, mc_tensor **s, mc_tensor **t)
{
    int D = p->cfg.dim;
    mc_tensor *keep = mc_mul(x, c->mask);                               /* (B,D) */
    mc_tensor *free_half = mc_add_scalar(mc_scale(c->mask, -1), 1);    /* (D): 1 where transformed */
    mc_tensor *h = mc_relu(mc_linear(keep, &c->fc1));               /* (B,H) */
    h = mc_relu(mc_linear(h, &c->fc2));
    mc_tensor *o = mc_linear(h, &c->fc3);                           /* (B,2D) */
    *s = mc_mul(mc_scale(mc_tanh(mc_slice(o, 1, 0, D)), p->cfg.scale_bound), free_half);
    *t = mc_mul(mc_slice(o, 1, D, D), free_half);
}

/* 1 / std as a step tensor (a constant: std is a buffer). */
static mc_tensor *inverse_std(const atlas_prior *p)
{
    mc_tensor *inv = mc_new(p->cfg.dim);
    for (int d = 0; d < p->cfg.dim; d++) inv->data[d] = 1.0f / p->std->data[d];
    return inv;
}

mc_tensor *atlas_prior_forward(atlas_prior *p, mc_tensor *z, mc_tensor **log_prob)
{
    int D = p->cfg.dim;
    if (z->ndim != 2 || z->shape[1] != D) mc_check_shape("prior", z, p->mean, 0, "latents (B,dim) for the prior's dim");
    mc_tensor *x = mc_mul(mc_sub(z, p->mean), inverse_std(p));         /* standardised (B,D) */
    mc_tensor *logdet = NULL;
    for (int k = 0; k < p->cfg.couplings; k++) {
        mc_tensor *s, *t;
        coupling_net(p, &p->layers[k], x, &s, &t);
        x = mc_add(mc_mul(x, mc_exp(s)), t);
        mc_tensor *ld = mc_sum_axis(s, 1);                              /* (B) */
        logdet = logdet ? mc_add(logdet, ld) : ld;
    }
    if (log_prob) {
        double log_std = 0;
        for (int d = 0; d < D; d++) log_std += log(p->std->data[d]);
        /* log N(y; 0, I) + log|det| - sum log std (the standardisation's own Jacobian) */
        mc_tensor *base = mc_add_scalar(mc_scale(mc_sum_axis(mc_square(x), 1), -0.5f), (float)(-0.5 * D * LOG_2PI - log_std));
        *log_prob = logdet ? mc_add(base, logdet) : base;
    }
    return x;
}

mc_tensor *atlas_prior_inverse(atlas_prior *p, mc_tensor *y)
{
    if (y->ndim != 2 || y->shape[1] != p->cfg.dim) mc_check_shape("prior inverse", y, p->mean, 0, "base points (B,dim)");
    mc_tensor *x = y;
    for (int k = p->cfg.couplings - 1; k >= 0; k--) {
        mc_tensor *s, *t;
        coupling_net(p, &p->layers[k], x, &s, &t);                      /* the kept half is the same both ways */
        x = mc_mul(mc_sub(x, t), mc_exp(mc_scale(s, -1)));
    }
    return mc_add(mc_mul(x, p->std), p->mean);
}

enum { EVAL_BATCH = 256 };

double atlas_prior_nll(atlas_prior *p, const float *latents, int n)
{
    int prev = mc_set_grad_enabled(0), D = p->cfg.dim;
    double total = 0;
    for (int first = 0; first < n; first += EVAL_BATCH) {
        int B = n - first < EVAL_BATCH ? n - first : EVAL_BATCH;
        mc_mark mark = mc_step_mark();
        mc_tensor *lp;
        atlas_prior_forward(p, mc_tensor_from(2, (int[]){B, D}, latents + (int64_t)first * D), &lp);
        for (int b = 0; b < B; b++) total -= lp->data[b];
        mc_step_rewind(mark);
    }
    mc_set_grad_enabled(prev);
    return n > 0 ? total / n : 0;
}

void atlas_prior_sample(atlas_prior *p, int count, float temperature, mc_rng *rng, float *out)
{
    int prev = mc_set_grad_enabled(0), D = p->cfg.dim;
    for (int first = 0; first < count; first += EVAL_BATCH) {
        int B = count - first < EVAL_BATCH ? count - first : EVAL_BATCH;
        mc_mark mark = mc_step_mark();
        mc_tensor *y = mc_new(B, D);
        mc_rng_fill_normal(rng, y->data, y->size, 0, temperature);
        mc_tensor *z = atlas_prior_inverse(p, y);
        memcpy(out + (int64_t)first * D, z->data, (size_t)B * D * sizeof(float));
        mc_step_rewind(mark);
    }
    mc_set_grad_enabled(prev);
}

/* Per-dimension mean and std of the latents; a dimension that (almost) never varies, such as one a ReLU
 * keeps at 0, gets a floor of 1% of the typical std so standardising it does not blow up. */
static void set_standardisation(atlas_prior *p, const float *x, const int *idx, int n)
{
    int D = p->cfg.dim;
    double typical = 0;
    for (int d = 0; d < D; d++) {
        double s1 = 0, s2 = 0;
        for (int i = 0; i < n; i++) { double v = x[(int64_t)idx[i] * D + d]; s1 += v; s2 += v * v; }
        double mean = s1 / n, var = fmax(s2 / n - mean * mean, 0);
        p->mean->data[d] = (float)mean;
        p->std->data[d] = (float)sqrt(var);
        typical += sqrt(var) / D;
    }
    float floor = (float)fmax(1e-2 * typical, 1e-6);
    for (int d = 0; d < D; d++) if (p->std->data[d] < floor) p->std->data[d] = floor;
}

static void copy_params(const mc_params *ps, float **store, int to_store)
{
    for (int k = 0; k < ps->n; k++) {
        mc_tensor *t = &ps->items[k]->t;
        if (to_store) memcpy(store[k], t->data, (size_t)t->size * sizeof(float));
        else memcpy(t->data, store[k], (size_t)t->size * sizeof(float));
    }
}

void atlas_prior_fit(atlas_prior *p, const float *latents, int n, const atlas_prior_fit_opts *opts, mc_rng *rng,
                     atlas_prior_fit_result *result)
{
    int D = p->cfg.dim;
    if (n < 1) mc_fatal("atlas_prior_fit: no latent vectors to fit");
    int *order = mc_malloc((size_t)n * sizeof *order);
    for (int i = 0; i < n; i++) order[i] = i;
    mc_rng_shuffle(rng, order, n);
    int nval = n >= 20 ? (int)(opts->holdout * n) : 0, ntrain = n - nval;
    if (nval < 0 || ntrain < 1) { nval = 0; ntrain = n; }
    int *train = order, *val = order + ntrain;
    set_standardisation(p, latents, train, ntrain);
    float *val_x = mc_malloc((size_t)(nval ? nval : 1) * D * sizeof(float));
    for (int i = 0; i < nval; i++) memcpy(val_x + (int64_t)i * D, latents + (int64_t)val[i] * D, (size_t)D * sizeof(float));
    float **best = mc_malloc((size_t)p->params.n * sizeof *best);
    for (int k = 0; k < p->params.n; k++) best[k] = mc_malloc((size_t)p->params.items[k]->t.size * sizeof(float));
    copy_params(&p->params, best, 1);

    mc_adam adam = mc_adam_default(opts->lr);
    adam.weight_decay = opts->weight_decay;
    int B = opts->batch < ntrain ? opts->batch : ntrain, prev_grad = mc_set_grad_enabled(1);
    double best_val = DBL_MAX, best_train = 0;
    atlas_prior_fit_result res = {0};
    for (int epoch = 0; epoch < opts->epochs; epoch++) {
        mc_rng_shuffle(rng, train, ntrain);
        double sum = 0;
        int steps = 0;
        for (int first = 0; first + B <= ntrain; first += B, steps++) {
            mc_mark mark = mc_step_mark();
            mc_tensor *z = mc_new(B, D);
            for (int b = 0; b < B; b++)
                for (int d = 0; d < D; d++)
                    z->data[(int64_t)b * D + d] = latents[(int64_t)train[first + b] * D + d] +
                                                  opts->noise * p->std->data[d] * (float)mc_rng_normal(rng);
            mc_tensor *lp;
            atlas_prior_forward(p, z, &lp);
            mc_tensor *loss = mc_scale(mc_sum(lp), -1.0f / (float)B);
            sum += loss->data[0];
            mc_adam_backward(&adam, &p->params, loss);
            mc_step_rewind(mark);
        }
        double train_nll = sum / steps, val_nll = nval ? atlas_prior_nll(p, val_x, nval) : train_nll;
        res.epochs = epoch + 1;
        if (val_nll < best_val) {
            best_val = val_nll;
            best_train = train_nll;
            res.best_epoch = epoch + 1;
            copy_params(&p->params, best, 1);
        }
        if (!opts->quiet && (epoch % 20 == 0 || epoch + 1 == opts->epochs))
            printf("prior epoch %3d  train nll %.2f  held-out nll %.2f  (best %.2f at epoch %d)\n", epoch + 1, train_nll,
                   val_nll, best_val, res.best_epoch);
        if (!isfinite(train_nll) || epoch + 1 - res.best_epoch >= opts->patience) break;
    }
    copy_params(&p->params, best, 0);
    res.train_nll = best_train;
    res.holdout_nll = nval ? best_val : NAN;
    if (result) *result = res;
    mc_set_grad_enabled(prev_grad);
    for (int k = 0; k < p->params.n; k++) free(best[k]);
    free(best); free(val_x); free(order);
}

/* ---- checkpoints ---- */
void atlas_prior_config_text(const atlas_prior_config *c, char *buf, size_t n)
{
    snprintf(buf, n, "prior=flow\nprior_dim=%d\nprior_couplings=%d\nprior_hidden=%d\nprior_scale_bound=%.9g\n", c->dim,
             c->couplings, c->hidden, c->scale_bound);
}

int atlas_prior_config_parse(const char *text, atlas_prior_config *c, char *err)
{
    char v[64];
    if (!mc_ckpt_config_get(text, "prior", v, sizeof v) || !strcmp(v, "none")) return 1;
    if (strcmp(v, "flow")) { mc_set_err(err, "checkpoint has a prior of unknown kind '%s' (this mache knows flow)", v); return -1; }
    const char *keys[] = {"prior_dim", "prior_couplings", "prior_hidden", "prior_scale_bound"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
        if (!mc_ckpt_config_get(text, keys[k], v, sizeof v)) { mc_set_err(err, "checkpoint's prior config has no '%s'", keys[k]); return -1; }
    c->dim = atoi(mc_ckpt_config_get(text, "prior_dim", v, sizeof v));
    c->couplings = atoi(mc_ckpt_config_get(text, "prior_couplings", v, sizeof v));
    c->hidden = atoi(mc_ckpt_config_get(text, "prior_hidden", v, sizeof v));
    c->scale_bound = (float)atof(mc_ckpt_config_get(text, "prior_scale_bound", v, sizeof v));
    /* sizes a hostile file could use to make init allocate without bound */
    int ok = c->dim > 0 && c->dim <= (1 << 16) && c->couplings > 0 && c->couplings <= 64 && c->hidden > 0 &&
             c->hidden <= (1 << 16) && (double)c->couplings * c->hidden * (3.0 * c->dim + c->hidden) <= (double)(1 << 28) &&
             c->scale_bound > 0 && c->scale_bound <= 100;
    if (!ok) { mc_set_err(err, "checkpoint's prior config has out-of-range sizes"); return -1; }
    return 0;
}

int atlas_save_with_prior(atlasnet *m, const atlas_prior *p, const char *path, const char *extra_config, char *err)
{
    char text[8192], prior[512];
    atlas_config_text(&m->cfg, text, sizeof text);
    if (extra_config) strncat(text, extra_config, sizeof text - strlen(text) - 1);
    atlas_prior_config_text(&p->cfg, prior, sizeof prior);
    strncat(text, prior, sizeof text - strlen(text) - 1);
    /* one list over both sets of parameters, owned by the model and the prior */
    mc_params both = {.n = m->params.n + p->params.n};
    both.cap = both.n;
    both.items = mc_malloc((size_t)both.n * sizeof *both.items);
    memcpy(both.items, m->params.items, (size_t)m->params.n * sizeof *both.items);
    memcpy(both.items + m->params.n, p->params.items, (size_t)p->params.n * sizeof *both.items);
    int status = mc_ckpt_save(path, text, &both, 0, err);
    free(both.items);
    return status;
}

int atlas_prior_load(atlas_prior *p, const char *path, char *err)
{
    mc_ckpt c;
    if (mc_ckpt_read(path, &c, err)) return -1;
    atlas_prior_config cfg;
    char why[MC_ERRLEN];
    int found = atlas_prior_config_parse(c.config, &cfg, why);
    if (found) {
        mc_set_err(err, "%s: %s", path, found > 0 ? "the checkpoint has no learned prior (fit one: mache fit-prior)" : why);
        mc_ckpt_free(&c);
        return found;
    }
    mc_rng rng;
    mc_rng_seed(&rng, 0);
    atlas_prior_init(p, &cfg, &rng);
    mc_ckpt_filter(&c, "prior.", 1);
    if (mc_ckpt_load_params(&c, &p->params, 1, NULL, why)) {
        mc_set_err(err, "%s: prior: %s", path, why);
        mc_ckpt_free(&c);
        atlas_prior_free(p);
        return -1;
    }
    mc_ckpt_free(&c);
    return 0;
}
