#include "models/gmm.h"
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static double log_density(const mc_gmm *g, int c, const float *x)
{
    double s = 0;
    for (int d = 0; d < g->dim; d++) {
        double v = g->var[(int64_t)c * g->dim + d], diff = x[d] - g->mean[(int64_t)c * g->dim + d];
        s += -0.5 * (log(6.283185307179586 * v) + diff * diff / v);
    }
    return s;
}

void mc_gmm_fit(mc_gmm *g, const float *x, int n, int dim, int k, int iterations, mc_rng *rng)
{
    if (k > n) k = n;
    g->k = k; g->dim = dim;
    g->weight = mc_malloc((size_t)k * sizeof *g->weight);
    g->mean = mc_malloc((size_t)k * dim * sizeof *g->mean);
    g->var = mc_malloc((size_t)k * dim * sizeof *g->var);
    /* the overall variance is the floor and the starting value of every component's */
    double *global_var = mc_calloc((size_t)dim, sizeof *global_var);
    for (int d = 0; d < dim; d++) {
        double s1 = 0, s2 = 0;
        for (int i = 0; i < n; i++) { s1 += x[(int64_t)i * dim + d]; s2 += (double)x[(int64_t)i * dim + d] * x[(int64_t)i * dim + d]; }
        global_var[d] = fmax(s2 / n - (s1 / n) * (s1 / n), 1e-6);
    }
    /* seeding: each new mean is a point far from the chosen ones (k-means++) */
    double *nearest = mc_malloc((size_t)n * sizeof *nearest);
    for (int i = 0; i < n; i++) nearest[i] = DBL_MAX;
    int pick = mc_rng_int(rng, n);
    for (int c = 0; c < k; c++) {
        for (int d = 0; d < dim; d++) g->mean[(int64_t)c * dim + d] = x[(int64_t)pick * dim + d];
        double total = 0;
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int d = 0; d < dim; d++) { double diff = x[(int64_t)i * dim + d] - g->mean[(int64_t)c * dim + d]; s += diff * diff; }
            nearest[i] = fmin(nearest[i], s);
            total += nearest[i];
        }
        double u = mc_rng_uniform(rng) * total;
        for (pick = 0; pick < n - 1 && (u -= nearest[pick]) > 0; pick++) {}
        g->weight[c] = 1.0 / k;
        memcpy(g->var + (int64_t)c * dim, global_var, (size_t)dim * sizeof *global_var);
    }
    double *resp = mc_malloc((size_t)n * k * sizeof *resp);
    for (int it = 0; it < iterations; it++) {
        for (int i = 0; i < n; i++) {           /* E step, in log space */
            double best = -DBL_MAX, sum = 0;
            for (int c = 0; c < k; c++) {
                resp[(int64_t)i * k + c] = log(g->weight[c] + 1e-300) + log_density(g, c, x + (int64_t)i * dim);
                best = fmax(best, resp[(int64_t)i * k + c]);
            }
            for (int c = 0; c < k; c++) sum += resp[(int64_t)i * k + c] = exp(resp[(int64_t)i * k + c] - best);
            for (int c = 0; c < k; c++) resp[(int64_t)i * k + c] /= sum;
        }
        for (int c = 0; c < k; c++) {           /* M step */
            double nc = 0;
            for (int i = 0; i < n; i++) nc += resp[(int64_t)i * k + c];
            g->weight[c] = nc / n;
            if (nc < 1e-9) continue;
            for (int d = 0; d < dim; d++) {
                double m = 0, v = 0;
                for (int i = 0; i < n; i++) m += resp[(int64_t)i * k + c] * x[(int64_t)i * dim + d];
                m /= nc;
                for (int i = 0; i < n; i++) { double diff = x[(int64_t)i * dim + d] - m; v += resp[(int64_t)i * k + c] * diff * diff; }
                g->mean[(int64_t)c * dim + d] = m;
                g->var[(int64_t)c * dim + d] = fmax(v / nc, 1e-3 * global_var[d]);
            }
        }
    }
    free(resp); free(nearest); free(global_var);
}

void mc_gmm_sample(const mc_gmm *g, mc_rng *rng, float *z)
{
    double u = mc_rng_uniform(rng);
    int c = 0;
    while (c < g->k - 1 && (u -= g->weight[c]) > 0) c++;
    for (int d = 0; d < g->dim; d++)
        z[d] = (float)(g->mean[(int64_t)c * g->dim + d] + sqrt(g->var[(int64_t)c * g->dim + d]) * mc_rng_normal(rng));
}

void mc_gmm_free(mc_gmm *g)
{
    free(g->weight); free(g->mean); free(g->var);
    memset(g, 0, sizeof *g);
}
