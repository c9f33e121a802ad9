#include "tensor/nearest.h"
#include "tensor/tensor.h"
#include <float.h>
#include <stdlib.h>

enum { TILE = 256 };   /* b is walked in tiles kept in struct-of-arrays form so the inner loop vectorises */

void mc_nearest(const float *a, int na, const float *b, int nb,
                float *dist_a, int *idx_a, float *dist_b, int *idx_b)
{
    float bx[TILE], by[TILE], bz[TILE], bmin[TILE];
    int   barg[TILE];
    for (int i = 0; i < na; i++) { dist_a[i] = FLT_MAX; if (idx_a) idx_a[i] = 0; }
    for (int j0 = 0; j0 < nb; j0 += TILE) {
        int nt = nb - j0 < TILE ? nb - j0 : TILE;
        for (int j = 0; j < nt; j++) {
            bx[j] = b[3 * (j0 + j)]; by[j] = b[3 * (j0 + j) + 1]; bz[j] = b[3 * (j0 + j) + 2];
            bmin[j] = FLT_MAX; barg[j] = 0;
        }
        for (int i = 0; i < na; i++) {
            float ax = a[3 * i], ay = a[3 * i + 1], az = a[3 * i + 2];
            float best = FLT_MAX;
            int   arg = 0;
            for (int j = 0; j < nt; j++) {
                float dx = ax - bx[j], dy = ay - by[j], dz = az - bz[j];
                float d = dx * dx + dy * dy + dz * dz;
                if (d < best) { best = d; arg = j; }
                if (d < bmin[j]) { bmin[j] = d; barg[j] = i; }
            }
            if (best < dist_a[i]) { dist_a[i] = best; if (idx_a) idx_a[i] = j0 + arg; }
        }
        for (int j = 0; j < nt; j++) {
            dist_b[j0 + j] = bmin[j];
            if (idx_b) idx_b[j0 + j] = barg[j];
        }
    }
}

double mc_chamfer_pair(const float *a, int na, const float *b, int nb, double threshold, double *fscore_out)
{
    float *da = mc_malloc((size_t)na * sizeof *da), *db = mc_malloc((size_t)nb * sizeof *db);
    mc_nearest(a, na, b, nb, da, NULL, db, NULL);
    double sa = 0, sb = 0;
    int ina = 0, inb = 0;
    for (int i = 0; i < na; i++) { sa += da[i]; ina += da[i] < threshold; }
    for (int j = 0; j < nb; j++) { sb += db[j]; inb += db[j] < threshold; }
    if (fscore_out) {
        /* precision: generated points near the reference; recall: reference points near the generated */
        double precision = (double)ina / na, recall = (double)inb / nb;
        *fscore_out = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
    }
    free(da); free(db);
    return sa / na + sb / nb;
}
