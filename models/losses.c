/* The losses, as graph code: Chamfer (a fused op from autograd), the Gaussian KL, and their total. */
#include "models/atlasnet.h"
#include "models/vae.h"

mc_tensor *mc_reparameterize(mc_tensor *mu, mc_tensor *logvar, mc_tensor *eps)
{
    return mc_add(mu, mc_mul(eps, mc_exp(mc_scale(logvar, 0.5f))));
}

/* KL(N(mu, exp(logvar)) || N(0, I)) = -0.5 sum_k (1 + logvar - mu^2 - exp(logvar)): summed over latent
 * dimensions, mean over the batch. */
mc_tensor *mc_kld_gaussian(mc_tensor *mu, mc_tensor *logvar)
{
    mc_tensor *t = mc_sub(mc_sub(mc_add_scalar(logvar, 1), mc_square(mu)), mc_exp(logvar));   /* (B,latent) */
    return mc_scale(mc_sum(t), -0.5f / (float)mu->shape[0]);
}

mc_tensor *mc_kld_per_dim(mc_tensor *mu, mc_tensor *logvar)
{
    mc_tensor *t = mc_sub(mc_sub(mc_add_scalar(logvar, 1), mc_square(mu)), mc_exp(logvar));
    return mc_scale(mc_mean_axis(t, 0), -0.5f);                                                 /* (latent) */
}

/* The B shapes' rows first.. of a tensor drawn for the whole batch of `total` (dimension 0). */
static mc_tensor *batch_slice(mc_tensor *t, int first, int B, int total) { return B == total ? t : mc_slice(t, 0, first, B); }

atlas_losses atlas_forward(atlasnet *m, mc_tensor *points, const atlas_loss_opts *opts, mc_rng *rng)
{
    const atlas_config *c = &m->cfg;
    atlas_losses out = {0};
    int B = points->shape[0], n = c->points / c->patches;
    int total = opts && opts->total > 0 ? opts->total : B, first = total != B ? opts->first : 0;
    atlas_encode(m, points, &out.mu, c->vae ? &out.logvar : NULL);
    mc_tensor *z = out.mu;
    if (c->vae && mc_training()) {                                    /* the reparameterisation trick */
        mc_tensor *eps = batch_slice(mc_randn(rng, 2, (int[]){total, c->latent}), first, B, total);
        z = mc_reparameterize(out.mu, out.logvar, eps);
    }
    mc_tensor **templates = mc_arena_alloc((size_t)c->patches * sizeof *templates);
    atlas_random_templates(m, rng, total, n, templates);
    for (int k = 0; k < c->patches; k++) templates[k] = batch_slice(templates[k], first, B, total);
    out.recon = atlas_decode(m, z, templates);                        /* (B, K*n, 3) */
    float share = (float)B / (float)total;                            /* of the whole batch's means */
    out.chamfer = mc_chamfer(out.recon, points);
    if (total != B) out.chamfer = mc_scale(out.chamfer, share);
    out.total = out.chamfer;
    if (c->vae) {
        out.kld = mc_kld_gaussian(out.mu, out.logvar);
        if (total != B) out.kld = mc_scale(out.kld, share);
        mc_tensor *penalty = out.kld;
        if (opts && opts->free_bits > 0) {    /* free bits: no pressure on a dimension below the floor */
            mc_tensor *per_dim = mc_kld_per_dim(out.mu, out.logvar);
            if (total == B) penalty = mc_sum(mc_clamp_min(per_dim, opts->free_bits));
            else {  /* the floor applies to the whole batch's mean, which every rank sees: each takes 1/size of it */
                const mc_dist *d = mc_dist_current();
                per_dim = mc_sum_ranks(mc_scale(per_dim, share));
                penalty = mc_scale(mc_sum(mc_clamp_min(per_dim, opts->free_bits)), 1.0f / (float)(d ? d->size : 1));
            }
        }
        float w = opts ? opts->kl_weight : 1;
        if (w != 0) out.total = mc_add(out.chamfer, mc_scale(penalty, w));
    }
    return out;
}
