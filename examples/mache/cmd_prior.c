/* mache fit-prior: fits the learned latent prior (models/prior.h) to a checkpoint's encoded training
 * shapes and writes the checkpoint with it; mache train calls the same fit after its last epoch. */
#include "examples/mache/args.h"
#include "examples/mache/commands.h"
#include "examples/mache/cmd_prior.h"
#include "examples/mache/common.h"
#include <stdlib.h>
#include <string.h>

int fit_learned_prior(atlasnet *m, const mc_dataset *train, const prior_cli_opts *o, uint64_t seed, atlas_prior *p)
{
    int n = train->nshapes, L = m->cfg.latent;
    float *clouds = atlas_dataset_clouds(train, m->cfg.points, ATLAS_SEED_EVAL_CLOUDS), *mu = mc_malloc((size_t)n * L * sizeof(float));
    atlas_encode_clouds(m, clouds, n, mu, NULL);     /* the VAE's mu, as the GMM baseline uses */
    atlas_prior_config cfg = atlas_prior_defaults(L);
    if (o->couplings > 0) cfg.couplings = o->couplings;
    if (o->hidden > 0) cfg.hidden = o->hidden;
    atlas_prior_fit_opts fo = atlas_prior_fit_defaults();
    if (o->epochs > 0) fo.epochs = o->epochs;
    if (o->noise >= 0) fo.noise = o->noise;
    fo.quiet = o->quiet;
    mc_rng rng;
    mc_rng_seed(&rng, seed ^ 0x9e3779b97f4a7c15ULL);
    atlas_prior_init(p, &cfg, &rng);
    double t0 = mc_now_seconds();
    atlas_prior_fit_result r;
    atlas_prior_fit(p, mu, n, &fo, &rng, &r);
    printf("prior: a %d-coupling flow (width %d) fitted to %d latent vectors in %.1f s: %d epochs, best %d, "
           "nll train %.2f held-out %.2f nats\n", cfg.couplings, cfg.hidden, n, mc_now_seconds() - t0, r.epochs, r.best_epoch,
           r.train_nll, r.holdout_nll);
    free(clouds); free(mu);
    return 0;
}

/* The config lines of a checkpoint minus AtlasNet's own and any earlier prior's (both are rewritten). */
static void other_config(const atlasnet *m, const char *config, char *out, size_t n)
{
    char model[2048];
    atlas_config_text(&m->cfg, model, sizeof model);
    out[0] = 0;
    for (const char *line = config; line && *line;) {
        const char *end = strchr(line, '\n'), *eq = strchr(line, '=');
        size_t len = end ? (size_t)(end - line + 1) : strlen(line);
        int drop = !eq || !strncmp(line, "prior", 5);
        for (const char *k = model; !drop && *k; k = strchr(k, '\n') + 1)
            drop = !strncmp(k, line, (size_t)(eq - line + 1));
        if (!drop && strlen(out) + len + 1 < n) strncat(out, line, len);
        line = end ? end + 1 : NULL;
    }
    if (out[0] && out[strlen(out) - 1] != '\n' && strlen(out) + 2 < n) strcat(out, "\n");
}

int cmd_fit_prior(int argc, char **argv)
{
    const char *ckpt = NULL, *data = NULL, *out = NULL;
    int seed = 1;
    prior_cli_opts po = {.noise = -1};
    const mc_opt opts[] = {
        {"ckpt", OPT_STR, &ckpt, "trained model (AE or VAE)"},
        {"data", OPT_STR, &data, "the shapes it was trained on (their train split is encoded)"},
        {"out", OPT_STR, &out, "checkpoint to write with the prior (default: rewrite --ckpt)"},
        {"seed", OPT_INT, &seed, "seed for the prior's init and batches (default 1)"},
        {"couplings", OPT_INT, &po.couplings, "affine coupling layers (default 8)"},
        {"hidden", OPT_INT, &po.hidden, "width of each coupling's MLP (default 4 x latent, within 32..256)"},
        {"epochs", OPT_INT, &po.epochs, "at most this many passes over the latents (default 400; early stopping)"},
        {"noise", OPT_FLOAT, &po.noise, "std of the noise added to the standardised latents (default 0.2: more spread, better coverage)"},
        {"quiet", OPT_FLAG, &po.quiet, "print only the summary line"},
        {0}};
    const char *pos[1];
    int npos, r = mc_parse_args(argc, argv, opts, "--ckpt CKPT --data SRC [--out CKPT2] [options]", pos, 0, &npos);
    if (r) return r == 2 ? 0 : 1;
    if (!ckpt || !data) { fprintf(stderr, "mache fit-prior: --ckpt and --data are required\n"); return 1; }
    if (po.couplings < 0 || po.hidden < 0 || po.epochs < 0) {
        fprintf(stderr, "mache fit-prior: --couplings, --hidden and --epochs must be >= 1\n");
        return 1;
    }
    if (!out) out = ckpt;
    char err[MC_ERRLEN];
    mc_ckpt c;
    if (mc_ckpt_read(ckpt, &c, err)) { fprintf(stderr, "mache fit-prior: %s\n", err); return 1; }
    atlasnet m;
    if (load_model("fit-prior", ckpt, &m)) { mc_ckpt_free(&c); return 1; }
    mc_dataset train;
    if (open_data("fit-prior", data, "train", 8 * m.cfg.points, 1, &train)) { mc_ckpt_free(&c); atlas_free(&m); return 1; }
    char *extra = mc_malloc(strlen(c.config) + 2);
    other_config(&m, c.config, extra, strlen(c.config) + 2);
    mc_ckpt_free(&c);
    atlas_prior p;
    int status = fit_learned_prior(&m, &train, &po, (uint64_t)seed, &p);
    if (!status && atlas_save_with_prior(&m, &p, out, extra, err)) { fprintf(stderr, "mache fit-prior: %s\n", err); status = 1; }
    if (!status) printf("model and prior written to %s\n", out);
    atlas_prior_free(&p);
    free(extra);
    mc_dataset_free(&train);
    atlas_free(&m);
    return status;
}
