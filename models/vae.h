/* The pieces of a VAE that do not depend on the architecture, as graph code (models/losses.c): the
 * reparameterisation and the Gaussian KL. AtlasNet's VAE and examples/vae_mnist.c both use them. */
#ifndef MACHE_VAE_H
#define MACHE_VAE_H
#include "autograd/ops.h"

/* z = mu + eps * exp(0.5 * logvar): the reparameterisation trick, eps ~ N(0, I) of mu's shape. */
mc_tensor *mc_reparameterize(mc_tensor *mu, mc_tensor *logvar, mc_tensor *eps);
/* KL(N(mu, exp(logvar)) || N(0, I)): summed over latent dimensions, mean over the batch (a scalar). */
mc_tensor *mc_kld_gaussian(mc_tensor *mu, mc_tensor *logvar);
/* The same per latent dimension, mean over the batch: (latent). */
mc_tensor *mc_kld_per_dim(mc_tensor *mu, mc_tensor *logvar);

#endif
