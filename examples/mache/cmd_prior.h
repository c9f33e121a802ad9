/* The learned prior's fit as the commands run it (mache fit-prior, and mache train after its last epoch). */
#ifndef MACHE_CMD_PRIOR_H
#define MACHE_CMD_PRIOR_H
#include "models/prior.h"
#include "datasets/dataset.h"

typedef struct prior_cli_opts {
    int   couplings, hidden, epochs;    /* 0: the library's defaults */
    float noise;                        /* < 0: the default */
    int   quiet;
} prior_cli_opts;

/* Encodes the training split (eval mode, the VAE's mu), fits a flow prior to the latents and prints one
 * summary line. p is initialised here; the caller frees it. */
int fit_learned_prior(atlasnet *m, const mc_dataset *train, const prior_cli_opts *o, uint64_t seed, atlas_prior *p);

#endif
