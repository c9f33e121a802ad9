#include "models/metrics.h"
#include "tensor/tensor.h"
#include <float.h>
#include <stdlib.h>
#include <string.h>

void mc_chamfer_matrix(const float *a, int na, const float *b, int nb, int n, double *out)
{
    int self = a == b && na == nb;
    #pragma omp parallel for schedule(dynamic) collapse(2)
    for (int i = 0; i < na; i++)
        for (int j = 0; j < nb; j++)
            if (!self || j >= i)
                out[(int64_t)i * nb + j] = mc_chamfer_pair(a + (int64_t)i * n * 3, n, b + (int64_t)j * n * 3, n, 0, NULL);
    if (self)
        for (int i = 0; i < na; i++)
            for (int j = 0; j < i; j++) out[(int64_t)i * nb + j] = out[(int64_t)j * nb + i];
}

void mc_chamfer_nearest(const float *a, int na, const float *b, int nb, int n, double *nearest, int *nearest_idx)
{
    double *d = mc_malloc((size_t)na * nb * sizeof *d);
    mc_chamfer_matrix(a, na, b, nb, n, d);
    for (int i = 0; i < na; i++) {
        int arg = 0;
        for (int j = 1; j < nb; j++) if (d[(int64_t)i * nb + j] < d[(int64_t)i * nb + arg]) arg = j;
        nearest[i] = d[(int64_t)i * nb + arg];
        if (nearest_idx) nearest_idx[i] = arg;
    }
    free(d);
}

generation_metrics mc_generation_metrics(const float *gen, int ng, const float *ref, int nr, int n)
{
    generation_metrics m = {0};
    double *gr = mc_malloc((size_t)ng * nr * sizeof *gr), *gg = mc_malloc((size_t)ng * ng * sizeof *gg),
           *rr = mc_malloc((size_t)nr * nr * sizeof *rr);
    mc_chamfer_matrix(gen, ng, ref, nr, n, gr);
    mc_chamfer_matrix(gen, ng, gen, ng, n, gg);
    mc_chamfer_matrix(ref, nr, ref, nr, n, rr);

    /* MMD: each reference shape matched to its closest generated shape */
    for (int r = 0; r < nr; r++) {
        double best = DBL_MAX;
        for (int g = 0; g < ng; g++) if (gr[(int64_t)g * nr + r] < best) best = gr[(int64_t)g * nr + r];
        m.mmd_cd += best / nr;
    }
    /* COV: the reference shapes that some generated shape picks as its nearest */
    char *covered = mc_calloc((size_t)nr, 1);
    for (int g = 0; g < ng; g++) {
        int arg = 0;
        for (int r = 1; r < nr; r++) if (gr[(int64_t)g * nr + r] < gr[(int64_t)g * nr + arg]) arg = r;
        covered[arg] = 1;
    }
    int count = 0;
    for (int r = 0; r < nr; r++) count += covered[r];
    m.cov_cd = 100.0 * count / nr;
    /* 1-NNA: label every shape by its nearest neighbour among all the others, both sets pooled; each half
     * apart too, since a set of outliers scores well on the generated side alone */
    int correct = 0, correct_gen;
    for (int g = 0; g < ng; g++) {
        double same = DBL_MAX, other = DBL_MAX;
        for (int h = 0; h < ng; h++) if (h != g && gg[(int64_t)g * ng + h] < same) same = gg[(int64_t)g * ng + h];
        for (int r = 0; r < nr; r++) if (gr[(int64_t)g * nr + r] < other) other = gr[(int64_t)g * nr + r];
        correct += same < other;
    }
    correct_gen = correct;
    for (int r = 0; r < nr; r++) {
        double same = DBL_MAX, other = DBL_MAX;
        for (int s = 0; s < nr; s++) if (s != r && rr[(int64_t)r * nr + s] < same) same = rr[(int64_t)r * nr + s];
        for (int g = 0; g < ng; g++) if (gr[(int64_t)g * nr + r] < other) other = gr[(int64_t)g * nr + r];
        correct += same < other;
    }
    m.nna_cd = 100.0 * correct / (ng + nr);
    m.nna_gen = 100.0 * correct_gen / ng;
    m.nna_ref = 100.0 * (correct - correct_gen) / nr;
    free(covered); free(gr); free(gg); free(rr);
    return m;
}
