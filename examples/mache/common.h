/* Helpers the model commands share: folders, loading a checkpoint or a dataset with a one-line error,
 * encoding and decoding in batches, and a progress bar. */
#ifndef MACHE_COMMON_H
#define MACHE_COMMON_H
#include "models/atlasnet.h"
#include "datasets/dataset.h"
#include <stdio.h>

int  mkdir_p(const char *path, char *err);
/* Each prints "mache CMD: <error>" to stderr and returns non-zero on failure. */
int  load_model(const char *cmd, const char *ckpt, atlasnet *m);
int  open_data(const char *cmd, const char *src, const char *split, int cache_points, uint64_t seed, mc_dataset *ds);

/* Eval-mode encoding of count clouds of cfg.points points each into mu (count x latent), and for a VAE
 * into logvar too when it is non-NULL. */
void encode_clouds(atlasnet *m, const float *clouds, int count, float *mu, float *logvar);
/* Eval-mode decoding of count latent vectors into n points each (random template points, seeded). */
void decode_latents(atlasnet *m, const float *z, int count, int n, uint64_t seed, float *points);

/* A fixed sample of n points per shape of a dataset (seeded), for evaluation. */
float *dataset_clouds(const mc_dataset *ds, int n, uint64_t seed);
/* Reads a mesh file, samples n points and normalises them to the unit ball. */
int  cloud_from_file(const char *cmd, const char *path, int n, uint64_t seed, float *out);

double now_seconds(void);
/* "\r  label [=====>     ] 45%  text" on stderr when it is a terminal; nothing otherwise. */
void progress(const char *label, double fraction, const char *text);
void progress_done(void);

#endif
