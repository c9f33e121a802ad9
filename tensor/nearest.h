/* Nearest neighbours between two small point sets, the kernel under Chamfer distance and the metrics.
 * One pass over all pairs keeps a running minimum both ways; no N x M matrix is ever stored. */
#ifndef MACHE_NEAREST_H
#define MACHE_NEAREST_H

/* a: na points (xyz), b: nb points. For each a_i: dist_a[i] = min_j |a_i - b_j|^2 and idx_a[i] = argmin;
 * likewise dist_b/idx_b for each b_j. Index arrays may be NULL. Single-threaded: callers parallelise
 * over shapes. */
void mc_nearest(const float *a, int na, const float *b, int nb,
                float *dist_a, int *idx_a, float *dist_b, int *idx_b);

/* Use the AVX-512 path (1, where the processor has it) or the portable loop (0); returns non-zero if
 * unavailable. Both give the same minima up to float rounding; MACHE_PORTABLE=1 picks the portable one. */
int mc_nearest_set_simd(int on);

/* Chamfer distance of one pair (mean of dist_a + mean of dist_b, as PyTorch-side AtlasNet computes it); fscore_out, if non-NULL,
 * receives the F-score at the squared-distance threshold (AtlasNet's convention, e.g. 0.001). */
double mc_chamfer_pair(const float *a, int na, const float *b, int nb, double threshold, double *fscore_out);

#endif
