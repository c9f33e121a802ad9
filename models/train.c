/* The training loop and evaluation of AtlasNet, as library functions (models/train.h). */
#include "models/train.h"
#include "tensor/nearest.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

atlas_train_opts atlas_train_defaults(int epochs)
{
    atlas_train_opts o = {.epochs = epochs, .batch = 16, .lr = 1e-3f, .n_lr_steps = 1, .seed = 1, .kl_weight = 5e-6f, .kl_warmup = 5};
    o.lr_steps[0] = epochs * 4 / 5;
    return o;
}

float atlas_lr_at(const atlas_train_opts *o, int epoch) { return mc_step_lr(o->lr, epoch, o->lr_steps, o->n_lr_steps, 0.1f); }

float atlas_kl_weight_at(const atlas_train_opts *o, int epoch, int step, int steps_per_epoch)
{
    if (!(o->kl_warmup > 0)) return o->kl_weight;
    double done = (double)epoch * steps_per_epoch + step;
    return o->kl_weight * (float)fmin(1.0, done / (o->kl_warmup * steps_per_epoch));
}

int atlas_parse_lr_steps(const char *text, atlas_train_opts *o)
{
    int n = 0;
    for (const char *p = text; p && *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > 1000000 || n == ATLAS_MAX_LR_STEPS || (*end && *end != ',')) return 1;
        o->lr_steps[n++] = (int)v;
        p = *end == ',' ? end + 1 : end;
    }
    o->n_lr_steps = n;
    return 0;
}

static uint64_t epoch_seed(uint64_t seed, int epoch) { return seed * 1000003ULL + (uint64_t)epoch * 7919ULL + 1; }

int atlas_train_epoch(atlasnet *m, mc_adam *adam, const mc_dataset *train, const atlas_train_opts *o, int epoch,
                      atlas_epoch_stats *st, atlas_progress_fn progress, void *progress_ctx, char *err)
{
    const atlas_config *c = &m->cfg;
    int B = o->batch < train->nshapes ? o->batch : train->nshapes, steps = train->nshapes / B;
    /* Data parallel: this rank's slice of every batch, shapes first.. first+mine-1. */
    const mc_dist *dist = mc_dist_current();
    int rank = dist ? dist->rank : 0, ranks = dist ? dist->size : 1;
    int first = (int)((int64_t)B * rank / ranks), mine = (int)((int64_t)B * (rank + 1) / ranks) - first;
    if (B < ranks) {
        mc_set_err(err, "a batch of %d shapes cannot be split over %d ranks (give --batch %d or more)", B, ranks, ranks);
        return 1;
    }
    /* Two generators: one for the model's noise (templates, the VAE's eps), one for the data (order,
     * points), both from (seed, epoch). */
    mc_rng noise_rng, data_rng;
    mc_rng_seed(&noise_rng, epoch_seed(o->seed, epoch));
    mc_rng_seed(&data_rng, epoch_seed(o->seed, epoch) ^ 0x5bd1e995ULL);
    int *order = mc_malloc((size_t)train->nshapes * sizeof *order);
    float *batch = mc_malloc((size_t)B * c->points * 3 * sizeof(float));
    for (int i = 0; i < train->nshapes; i++) order[i] = i;
    mc_rng_shuffle(&data_rng, order, train->nshapes);
    adam->lr = atlas_lr_at(o, epoch);
    int prev_train = mc_set_training(1), status = 0;
    *st = (atlas_epoch_stats){.lr = adam->lr};
    double sum_loss = 0, sum_cd = 0, sum_kl = 0, t0 = mc_now_seconds();
    mc_mark mark = mc_step_mark();
    for (int s = 0; s < steps; s++) {
        st->kl_weight = c->vae ? atlas_kl_weight_at(o, epoch, s, steps) : 0;   /* an AE has no KL term */
        /* every rank draws the whole batch, as one process does, and takes its slice */
        mc_dataset_batch(train, order + (int64_t)s * B, B, c->points, &data_rng, batch);
        mc_tensor *points = mc_tensor_from(3, (int[]){mine, c->points, 3}, batch + (int64_t)first * c->points * 3);
        atlas_loss_opts lo = {st->kl_weight, o->free_bits, first, ranks > 1 ? B : 0};
        atlas_losses l = atlas_forward(m, points, &lo, &noise_rng);
        double loss[3] = {l.total->data[0], l.chamfer->data[0], l.kld ? l.kld->data[0] : 0};
        mc_dist_sum(loss, 3);              /* the ranks' shares: the whole batch's; all ranks see a NaN */
        if (!isfinite(loss[0])) {
            mc_set_err(err, "the loss became %s at epoch %d, step %d", isnan(loss[0]) ? "NaN" : "infinite", epoch + 1, s + 1);
            mc_step_rewind(mark);
            status = 1;
            break;
        }
        mc_adam_backward(adam, &m->params, l.total);   /* zero_grad + backward + Adam, one pass */
        sum_loss += loss[0];
        sum_cd += loss[1];
        sum_kl += loss[2];
        mc_step_rewind(mark);
        st->steps = s + 1;
        st->shapes = (s + 1) * B;
        st->loss = sum_loss / st->steps;
        st->chamfer = sum_cd / st->steps;
        st->kld = sum_kl / st->steps;
        st->seconds = mc_now_seconds() - t0;
        if (progress) progress(epoch, steps, st, progress_ctx);
    }
    mc_set_training(prev_train);
    free(order); free(batch);
    return status;
}

enum { EVAL_BATCH = 32 };

void atlas_encode_clouds(atlasnet *m, const float *clouds, int count, float *mu, float *logvar)
{
    int prev_grad = mc_set_grad_enabled(0), prev_train = mc_set_training(0), N = m->cfg.points, L = m->cfg.latent;
    for (int first = 0; first < count; first += EVAL_BATCH) {
        int B = count - first < EVAL_BATCH ? count - first : EVAL_BATCH;
        mc_mark mark = mc_step_mark();
        mc_tensor *x = mc_tensor_from(3, (int[]){B, N, 3}, clouds + (int64_t)first * N * 3), *z, *lv = NULL;
        atlas_encode(m, x, &z, logvar && m->cfg.vae ? &lv : NULL);
        memcpy(mu + (int64_t)first * L, z->data, (size_t)B * L * sizeof(float));
        if (lv) memcpy(logvar + (int64_t)first * L, lv->data, (size_t)B * L * sizeof(float));
        mc_step_rewind(mark);
    }
    mc_set_training(prev_train);
    mc_set_grad_enabled(prev_grad);
}

void atlas_decode_latents(atlasnet *m, const float *z, int count, int n, mc_rng *rng, float *points)
{
    int prev_grad = mc_set_grad_enabled(0), prev_train = mc_set_training(0), L = m->cfg.latent, K = m->cfg.patches;
    int per_patch = n / K;
    mc_tensor **templates = mc_malloc((size_t)K * sizeof *templates);
    for (int first = 0; first < count; first += EVAL_BATCH) {
        int B = count - first < EVAL_BATCH ? count - first : EVAL_BATCH;
        mc_mark mark = mc_step_mark();
        mc_tensor *zt = mc_tensor_from(2, (int[]){B, L}, z + (int64_t)first * L);
        atlas_random_templates(m, rng, B, per_patch, templates);
        mc_tensor *out = atlas_decode(m, zt, templates);          /* (B, K*per_patch, 3) */
        for (int b = 0; b < B; b++) {
            float *dst = points + ((int64_t)first + b) * n * 3;
            int made = K * per_patch;
            memcpy(dst, out->data + (int64_t)b * made * 3, (size_t)made * 3 * sizeof(float));
            for (int p = made; p < n; p++) memcpy(dst + 3 * p, dst + 3 * (p - made), 3 * sizeof(float));   /* n not a multiple of K */
        }
        mc_step_rewind(mark);
    }
    free(templates);
    mc_set_training(prev_train);
    mc_set_grad_enabled(prev_grad);
}

float *atlas_dataset_clouds(const mc_dataset *ds, int n, uint64_t seed)
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

/* Data parallel: rank r of N evaluates the batches r, r + N, ... of EVAL_BATCH shapes. */
static int my_shape(int s)
{
    const mc_dist *d = mc_dist_current();
    return !d || s / EVAL_BATCH % d->size == d->rank;
}

void atlas_reconstruction_scores(atlasnet *m, const float *mu, int n, const float *truth, int N, double *cd_x1e3, double *fscore)
{
    int L = m->cfg.latent;
    float *recon = mc_malloc((size_t)n * N * 3 * sizeof(float));
    mc_tensor **skipped = mc_malloc((size_t)m->cfg.patches * sizeof *skipped);
    mc_rng rng;
    mc_rng_seed(&rng, ATLAS_SEED_EVAL_TEMPLATES);
    for (int first = 0; first < n; first += EVAL_BATCH) {
        int B = n - first < EVAL_BATCH ? n - first : EVAL_BATCH;
        if (my_shape(first)) {
            atlas_decode_latents(m, mu + (int64_t)first * L, B, N, &rng, recon + (int64_t)first * N * 3);
            continue;
        }
        /* another rank's batch: draw its template points all the same, so that every shape is decoded on
         * the same points whatever the number of ranks */
        mc_mark mark = mc_step_mark();
        atlas_random_templates(m, &rng, B, N / m->cfg.patches, skipped);
        mc_step_rewind(mark);
    }
    for (int s = 0; s < n; s++) {
        double f = 0, d = 0;
        if (my_shape(s)) d = 1e3 * mc_chamfer_pair(recon + (int64_t)s * N * 3, N, truth + (int64_t)s * N * 3, N, 1e-3, &f);
        if (cd_x1e3) cd_x1e3[s] = d;
        if (fscore) fscore[s] = f;
    }
    free(skipped);
    free(recon);
}

void atlas_evaluate(atlasnet *m, const float *clouds, int n, atlas_eval *ev, double *kl_dim, double *mu_var)
{
    int N = m->cfg.points, L = m->cfg.latent;
    float *mu = mc_malloc((size_t)n * L * sizeof(float));
    float *logvar = m->cfg.vae ? mc_malloc((size_t)n * L * sizeof(float)) : NULL;
    double *cd = mc_malloc((size_t)n * sizeof *cd), *fs = mc_malloc((size_t)n * sizeof *fs);
    for (int first = 0; first < n; first += EVAL_BATCH)      /* in the batches the scores are split by */
        if (my_shape(first))
            atlas_encode_clouds(m, clouds + (int64_t)first * N * 3, n - first < EVAL_BATCH ? n - first : EVAL_BATCH,
                                mu + (int64_t)first * L, logvar ? logvar + (int64_t)first * L : NULL);
    atlas_reconstruction_scores(m, mu, n, clouds, N, cd, fs);
    /* sums over this rank's shapes, then over the ranks: Chamfer, F-score, and per dimension the sums
     * of mu, mu^2 and the KL */
    double *sums = mc_calloc(2 + 3 * (size_t)L, sizeof *sums), *s1 = sums + 2, *s2 = s1 + L, *kl = s2 + L;
    for (int s = 0; s < n; s++) {
        if (!my_shape(s)) continue;
        sums[0] += cd[s] / n;
        sums[1] += fs[s] / n;
    }
    for (int d = 0; d < L; d++)
        for (int s = 0; s < n; s++) {
            if (!my_shape(s)) continue;
            double v = mu[(int64_t)s * L + d];
            s1[d] += v; s2[d] += v * v;
            if (logvar) { double lv = logvar[(int64_t)s * L + d]; kl[d] += -0.5 * (1 + lv - v * v - exp(lv)); }
        }
    mc_dist_sum(sums, 2 + 3 * L);
    *ev = (atlas_eval){.chamfer_x1e3 = sums[0], .fscore = sums[1]};
    for (int d = 0; d < L; d++) {
        double var = s2[d] / n - (s1[d] / n) * (s1[d] / n);
        ev->active += var > 0.01;
        ev->kl_total += kl[d] / n;
        if (kl_dim) kl_dim[d] = kl[d] / n;
        if (mu_var) mu_var[d] = var;
    }
    free(sums); free(mu); free(logvar); free(cd); free(fs);
}
