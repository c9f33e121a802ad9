/* Training AtlasNet in the library: the epoch loop with its seeds, the KL schedule and LR steps, and
 * evaluation (Chamfer, F-score, active dimensions, KL per dimension) with batched encode and decode.
 * `mache train` and `mache eval` are thin consumers of these; so is examples/train_vae.c. */
#ifndef MACHE_TRAIN_H
#define MACHE_TRAIN_H
#include "models/atlasnet.h"
#include "datasets/dataset.h"

/* The seeds of evaluation, defined once, so every command measures on the same points. */
enum {
    ATLAS_SEED_EVAL_CLOUDS = 777,      /* the points each test shape is sampled at */
    ATLAS_SEED_EVAL_TRUTH = 778,       /* ... when the reference resolution differs from the model's */
    ATLAS_SEED_EVAL_TEMPLATES = 4242,  /* the template points decoded for evaluation */
    ATLAS_SEED_REFERENCE = 555,        /* the points of reference shapes for generation metrics */
};

#define ATLAS_MAX_LR_STEPS 16
typedef struct atlas_train_opts {
    int      epochs, batch;
    float    lr;                          /* Adam's rate, divided by 10 at each of lr_steps */
    int      lr_steps[ATLAS_MAX_LR_STEPS], n_lr_steps;
    uint64_t seed;
    float    kl_weight;                   /* after warm-up */
    float    kl_warmup;                   /* epochs over which the KL weight ramps up from 0 (0: none) */
    float    free_bits;                   /* nats per latent dimension free of KL pressure (0: off) */
} atlas_train_opts;

/* mache train's defaults: batch 16, lr 1e-3, one LR step at 80% of the epochs, seed 1, KL weight 5e-6
 * with a 5-epoch warm-up (README, experiment 10; the log's VAE is kl_weight 1, kl_warmup 0). */
atlas_train_opts atlas_train_defaults(int epochs);
float atlas_lr_at(const atlas_train_opts *o, int epoch);
/* The KL weight at step `step` of epoch `epoch` (warm-up ramps linearly over the steps). */
float atlas_kl_weight_at(const atlas_train_opts *o, int epoch, int step, int steps_per_epoch);
/* "100" or "50,80" into o->lr_steps; returns non-zero for text that is not a list of epochs. */
int   atlas_parse_lr_steps(const char *text, atlas_train_opts *o);

typedef struct atlas_epoch_stats {
    int    steps, shapes;                 /* done so far */
    double loss, chamfer, kld;            /* means over the steps so far */
    float  lr, kl_weight;                 /* the rate, and the KL weight of the last step */
    double seconds;
} atlas_epoch_stats;

typedef void (*atlas_progress_fn)(int epoch, int steps_per_epoch, const atlas_epoch_stats *so_far, void *ctx);

/* One epoch (0-based `epoch`) of shuffled batches with Adam. Its random generators are seeded from
 * (o->seed, epoch), so a run resumed after epoch E repeats epoch E+1 exactly. Each step's memory is given
 * back before the next (a mark): the caller's step tensors stay valid. progress (may be NULL) is called
 * after every step. Returns 0, or 1 with err set when the loss becomes NaN or infinite (the model is
 * then as it was after the last good step). */
int atlas_train_epoch(atlasnet *m, mc_adam *adam, const mc_dataset *train, const atlas_train_opts *o, int epoch,
                      atlas_epoch_stats *st, atlas_progress_fn progress, void *progress_ctx, char *err);

/* Eval-mode, no-grad encoding of count clouds (cfg.points points each) into mu (count x latent), and for
 * a VAE into logvar too when it is non-NULL; in batches, each batch's step memory given back. */
void atlas_encode_clouds(atlasnet *m, const float *clouds, int count, float *mu, float *logvar);
/* Eval-mode decoding of count latent vectors into n points each, on random template points from rng. */
void atlas_decode_latents(atlasnet *m, const float *z, int count, int n, mc_rng *rng, float *points);
/* n points per shape of a dataset, sampled with the given seed: count x n x 3 floats (free them). */
float *atlas_dataset_clouds(const mc_dataset *ds, int n, uint64_t seed);

typedef struct atlas_eval {
    double chamfer_x1e3, fscore;  /* reconstruction of the clouds from z = mu, means over the shapes */
    int    active;                /* latent dimensions whose mu varies over the shapes (variance > 0.01, Burda et al.) */
    double kl_total;              /* the KL per shape, summed over dimensions (VAE; 0 for the AE) */
} atlas_eval;

/* Each shape's Chamfer x1e3 and F-score (either output may be NULL): its latent mu (n x latent) decoded
 * at N points on template points seeded ATLAS_SEED_EVAL_TEMPLATES, against truth (n x N points). With a
 * dist on the context, rank r of N scores only the shapes of the batches r, r + N, ... of 32 (the others
 * get 0), and atlas_evaluate sums the ranks' scores. */
void atlas_reconstruction_scores(atlasnet *m, const float *mu, int n, const float *truth, int N, double *cd_x1e3, double *fscore);

/* Reconstruction metrics of n clouds (cfg.points points each; typically the test split sampled with
 * ATLAS_SEED_EVAL_CLOUDS), decoded on template points seeded ATLAS_SEED_EVAL_TEMPLATES. kl_dim and
 * mu_var, when not NULL, receive each latent dimension's mean KL and the variance of its mu over the shapes
 * (latent doubles each; the variance is what `active` counts). */
void atlas_evaluate(atlasnet *m, const float *clouds, int n, atlas_eval *ev, double *kl_dim, double *mu_var);

#endif
