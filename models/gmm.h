/* A diagonal Gaussian mixture over latent vectors, fitted by EM: the second baseline for sampling an
 * autoencoder (fit it to the encoded training shapes, then sample z from it instead of from N(0, I)). */
#ifndef MACHE_GMM_H
#define MACHE_GMM_H
#include "tensor/tensor.h"

typedef struct mc_gmm {
    int k, dim;
    double *weight;     /* k */
    double *mean, *var; /* k x dim */
} mc_gmm;

/* Fits k components to n points of dim dimensions (k-means++-style seeding, then EM iterations). */
void mc_gmm_fit(mc_gmm *g, const float *x, int n, int dim, int k, int iterations, mc_rng *rng);
void mc_gmm_sample(const mc_gmm *g, mc_rng *rng, float *z);    /* one vector */
void mc_gmm_free(mc_gmm *g);

#endif
