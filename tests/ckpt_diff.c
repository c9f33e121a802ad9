/* ckpt_diff A B [TOL [PATTERN...]]: compares two checkpoints tensor by tensor, by name, and prints the
 * largest difference relative to max(1, |value|); exits 1 if a tensor is missing or mis-shaped, or one
 * differs by more than TOL (default 1e-4). Tensors whose names match a PATTERN (fnmatch) are reported
 * apart and not held to TOL. tests/test_mpi.sh compares the final checkpoints of two runs with it. */
#include "nn/checkpoint.h"
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: ckpt_diff A.ckpt B.ckpt [TOL [PATTERN...]]\n"); return 2; }
    double tol = argc > 3 ? atof(argv[3]) : 1e-4, worst[2] = {0, 0};
    const char *where[2] = {"-", "-"};
    char err[MC_ERRLEN];
    mc_ckpt a, b;
    if (mc_ckpt_read(argv[1], &a, err) || mc_ckpt_read(argv[2], &b, err)) { fprintf(stderr, "ckpt_diff: %s\n", err); return 1; }
    int bad = a.n != b.n, n[2] = {0, 0};
    for (int k = 0; k < a.n; k++) {
        const mc_ckpt_entry *x = &a.entries[k], *y = mc_ckpt_find(&b, x->name);
        if (!y || y->size != x->size) { fprintf(stderr, "ckpt_diff: %s: missing or mis-shaped in %s\n", x->name, argv[2]); bad = 1; continue; }
        int skip = 0;
        for (int p = 4; p < argc; p++) skip |= fnmatch(argv[p], x->name, 0) == 0;
        n[skip]++;
        for (int64_t i = 0; i < x->size; i++) {
            double d = fabs((double)x->data[i] - y->data[i]) / fmax(1.0, fabs((double)x->data[i]));
            if (!(d <= worst[skip])) { worst[skip] = isnan(d) ? INFINITY : d; where[skip] = x->name; }
        }
    }
    printf("ckpt_diff: %d tensors, largest difference %.3g in %s", n[0], worst[0], where[0]);
    if (n[1]) printf("; %d not held to %g, largest %.3g in %s", n[1], tol, worst[1], where[1]);
    printf("\n");
    mc_ckpt_free(&a); mc_ckpt_free(&b);
    return bad || !(worst[0] <= tol);
}
