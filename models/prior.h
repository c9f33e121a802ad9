/* A learned prior over an autoencoder's latent vectors: a normalizing flow of affine couplings (RealNVP,
 * Dinh et al. 2017, as DPM's flow prior), fitted by exact maximum likelihood to the encoded training
 * shapes, sampled by pushing N(0, T^2 I) through its inverse. Its parameters are named "prior.*" and travel
 * in the model's checkpoint beside AtlasNet's, its config as prior_* lines of the config text. */
#ifndef MACHE_PRIOR_H
#define MACHE_PRIOR_H
#include "models/atlasnet.h"

typedef struct atlas_prior_config {
    int   dim;              /* latent size */
    int   couplings;        /* affine coupling layers (8); each transforms the half its mask leaves out */
    int   hidden;           /* width of each coupling's MLP (4 x dim within [32, 256]) */
    float scale_bound;      /* log-scales are scale_bound * tanh(raw): bounded, so no layer can blow up (2) */
} atlas_prior_config;

typedef struct atlas_prior_coupling {
    mc_tensor *mask;                    /* (dim) buffer: 1 where the layer passes its input through */
    mc_linear_layer fc1, fc2, fc3;      /* masked input -> hidden -> hidden -> (log-scale, shift) (2*dim) */
} atlas_prior_coupling;

typedef struct atlas_prior {
    atlas_prior_config cfg;
    mc_params params;                   /* "prior.*", owned here */
    mc_tensor *mean, *std;              /* (dim) buffers: the latents are standardised before the flow */
    atlas_prior_coupling *layers;       /* cfg.couplings of them */
} atlas_prior;

atlas_prior_config atlas_prior_defaults(int dim);
/* Random masks (alternating halves of a random permutation), PyTorch-init MLPs whose last layer is zero
 * (the flow starts as the identity), mean 0 and std 1. */
void atlas_prior_init(atlas_prior *p, const atlas_prior_config *cfg, mc_rng *rng);
void atlas_prior_free(atlas_prior *p);

/* Graph code (records on the tape when gradients are on). z (B,dim) -> y (B,dim) in the base space, and
 * the log-density log p(z) (B) = log N(y; 0, I) + log |det dy/dz|. inverse: y -> z. */
mc_tensor *atlas_prior_forward(atlas_prior *p, mc_tensor *z, mc_tensor **log_prob);
mc_tensor *atlas_prior_inverse(atlas_prior *p, mc_tensor *y);

typedef struct atlas_prior_fit_opts {
    int   epochs;           /* passes over the training latents at most (400) */
    int   batch;            /* latents per Adam step (64) */
    float lr;               /* Adam learning rate (1e-3) */
    float weight_decay;     /* Adam's L2 weight decay (0) */
    float noise;            /* std of Gaussian noise added to the standardised latents each step (0.2):
                             * a smoothed target, so the flow cannot collapse onto the few training points */
    float holdout;          /* fraction of the latents kept out for early stopping (0.1; none below 20) */
    int   patience;         /* epochs without a better held-out likelihood before stopping (40) */
    int   quiet;            /* no progress lines on stdout */
} atlas_prior_fit_opts;

typedef struct atlas_prior_fit_result {
    int    epochs;          /* epochs run */
    int    best_epoch;      /* the one whose parameters are kept */
    double train_nll, holdout_nll;   /* mean negative log-likelihood per latent vector, nats, at best_epoch */
} atlas_prior_fit_result;

atlas_prior_fit_opts atlas_prior_fit_defaults(void);
/* Fits the prior to n latent vectors (n x dim, row-major): sets the standardisation, then Adam on the mean
 * negative log-likelihood, keeping the parameters of the best held-out epoch. Each Adam step's memory is
 * given back (a mark): the caller's step tensors stay valid. result may be NULL. */
void atlas_prior_fit(atlas_prior *p, const float *latents, int n, const atlas_prior_fit_opts *opts, mc_rng *rng,
                     atlas_prior_fit_result *result);
/* Mean negative log-likelihood (nats per vector) of n latent vectors under the prior. */
double atlas_prior_nll(atlas_prior *p, const float *latents, int n);
/* count latent vectors: y ~ N(0, T^2 I) from rng, then the inverse flow. out: count x dim. */
void atlas_prior_sample(atlas_prior *p, int count, float temperature, mc_rng *rng, float *out);

/* Checkpoints. The config lines ("prior=flow", "prior_couplings=...") and back. */
void atlas_prior_config_text(const atlas_prior_config *cfg, char *buf, size_t n);
/* 1 with no prior in the text, -1 with a broken one (err set), 0 when cfg is filled. */
int  atlas_prior_config_parse(const char *text, atlas_prior_config *cfg, char *err);
/* Writes the model and the prior into one checkpoint (atomic, no optimizer state): AtlasNet's config and
 * extra_config, then the prior's lines. */
int  atlas_save_with_prior(atlasnet *m, const atlas_prior *p, const char *path, const char *extra_config, char *err);
/* Reads the prior of a checkpoint: 0 loaded, 1 the checkpoint has none (err set), -1 an error (err set). */
int  atlas_prior_load(atlas_prior *p, const char *path, char *err);

#endif
