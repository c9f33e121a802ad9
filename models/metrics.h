/* Evaluation metrics on point clouds, with Chamfer distance (as README defines it: squared distances, means both ways) as the ground distance:
 * reconstruction quality (Chamfer x1e3, F-score), and for a set of generated shapes against a reference
 * set: MMD-CD, COV-CD (Achlioptas et al. 2018) and 1-NNA-CD (Yang et al. 2019). */
#ifndef MACHE_METRICS_H
#define MACHE_METRICS_H
#include "tensor/nearest.h"

typedef struct generation_metrics {
    double mmd_cd;      /* mean over reference shapes of the Chamfer to the closest generated shape */
    double cov_cd;      /* percent of reference shapes that are the nearest reference of some generated shape */
    double nna_cd;      /* 1-NN classifier accuracy, generated vs reference, percent (50 is ideal) */
    double nna_gen;     /* its two halves: percent of generated shapes whose nearest neighbour is generated, */
    double nna_ref;     /* and of reference shapes whose nearest neighbour is a reference shape */
} generation_metrics;

/* gen: ng clouds, ref: nr clouds, each n points (xyz), contiguous. Parallel over pairs. */
generation_metrics mc_generation_metrics(const float *gen, int ng, const float *ref, int nr, int n);

/* The full matrix of Chamfer distances between two sets of clouds (na x nb, row-major). With b == a (one
 * set against itself) only the upper triangle is computed and mirrored: Chamfer is symmetric. */
void mc_chamfer_matrix(const float *a, int na, const float *b, int nb, int n, double *out);
/* For each of the na clouds of a: the Chamfer distance to its nearest cloud in b (the memorisation check:
 * samples against the training shapes), and in nearest_idx (may be NULL) which one. */
void mc_chamfer_nearest(const float *a, int na, const float *b, int nb, int n, double *nearest, int *nearest_idx);

#endif
