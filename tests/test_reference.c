/* Checks the library against PyTorch 1.13 reference values: every fixture file in a directory
 * (default tests/reference), in the format tests/reference/README describes. Usage: test_reference [DIR]
 * Each file is matched to its op by the file name's prefix; tolerance |a - b| <= 1e-5 + 1e-4 |b|. */
#include "tests/harness.h"
#include "nn/nn.h"
#include "autograd/ops_loss.h"
#include "models/vae.h"
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RTOL 1e-4
#define ATOL 1e-5

typedef struct { char name[64]; int ndim; int shape[4]; int64_t size; double *v; } fixture_tensor;
typedef struct { char comment[512]; fixture_tensor t[32]; int n; } fixture;

static int parse_fixture(const char *path, fixture *fx)
{
    memset(fx, 0, sizeof *fx);
    FILE *f = fopen(path, "r");
    if (!f) return 1;
    char line[256];
    int c;
    while ((c = fgetc(f)) != EOF) {
        if (c == '#') {
            char *rest = fgets(line, sizeof line, f);
            if (rest && !fx->comment[0]) snprintf(fx->comment, sizeof fx->comment, "%s", rest);
            continue;
        }
        if (c == '\n' || c == ' ' || c == '\r') continue;
        ungetc(c, f);
        if (fx->n == 32) break;
        fixture_tensor *t = &fx->t[fx->n];
        if (fscanf(f, "%63s %d", t->name, &t->ndim) != 2 || t->ndim < 0 || t->ndim > 4) { fclose(f); return 1; }
        t->size = 1;
        for (int d = 0; d < t->ndim; d++) {
            if (fscanf(f, "%d", &t->shape[d]) != 1 || t->shape[d] < 0) { fclose(f); return 1; }
            t->size *= t->shape[d];
        }
        t->v = malloc((size_t)(t->size ? t->size : 1) * sizeof *t->v);
        for (int64_t k = 0; k < t->size; k++)
            if (fscanf(f, "%lf", &t->v[k]) != 1) { fclose(f); return 1; }
        fx->n++;
    }
    fclose(f);
    return 0;
}

static void free_fixture(fixture *fx) { for (int k = 0; k < fx->n; k++) free(fx->t[k].v); }

static const fixture_tensor *get(const fixture *fx, const char *name)
{
    for (int k = 0; k < fx->n; k++) if (!strcmp(fx->t[k].name, name)) return &fx->t[k];
    return NULL;
}

/* Every named tensor is present (space-separated names); a missing one fails the file, not the program. */
static int require(const char *file, const fixture *fx, const char *names)
{
    char buf[256], *save = NULL;
    snprintf(buf, sizeof buf, "%s", names);
    for (char *name = strtok_r(buf, " ", &save); name; name = strtok_r(NULL, " ", &save))
        if (!get(fx, name)) { CHECK(0, "%s: the fixture has no tensor '%s' (malformed file?)", file, name); return 0; }
    return 1;
}

/* A step tensor holding fixture values; leaf = 1 makes it collect a gradient. */
static mc_tensor *tensor_of(const fixture *fx, const char *name, int leaf)
{
    const fixture_tensor *ft = get(fx, name);
    if (!ft) mc_fatal("fixture has no tensor '%s'", name);
    mc_tensor *t = mc_tensor_new(ft->ndim, ft->shape);
    for (int64_t k = 0; k < t->size; k++) t->data[k] = (float)ft->v[k];
    t->requires_grad = leaf;
    return t;
}

static double worst_rel;   /* the largest relative error seen in the current file */

static void compare(const char *file, const fixture *fx, const char *name, const float *got, int64_t n)
{
    const fixture_tensor *ft = get(fx, name);
    if (!ft) { CHECK(0, "%s: no reference tensor '%s'", file, name); return; }
    if (!got) { CHECK(0, "%s: %s: the library produced no value (no gradient reached it?)", file, name); return; }
    CHECK(ft->size == n, "%s: %s: %lld values, reference has %lld", file, name, (long long)n, (long long)ft->size);
    if (ft->size != n) return;
    int bad = 0;
    for (int64_t k = 0; k < n; k++) {
        double ref = ft->v[k], err = fabs(got[k] - ref);
        double rel = err / (fabs(ref) > 1e-3 ? fabs(ref) : 1e-3);
        if (rel > worst_rel) worst_rel = rel;
        if (!(err <= ATOL + RTOL * fabs(ref)) && bad++ < 3)
            fprintf(stderr, "  %s %s[%lld]: got %.8g, reference %.8g\n", file, name, (long long)k, got[k], ref);
    }
    CHECK(bad == 0, "%s: %s: %d of %lld values off", file, name, bad, (long long)n);
}

/* loss = sum(y * gy): the reference's backward seed */
static mc_tensor *weighted_sum(mc_tensor *y, const fixture *fx, const char *gy)
{
    mc_tensor *w = tensor_of(fx, gy, 0);
    if (w->size != y->size) {     /* a malformed fixture: fail it, keep going */
        CHECK(0, "fixture tensor '%s' has %lld values, the output has %lld", gy, (long long)w->size, (long long)y->size);
        return mc_sum(y);
    }
    return mc_sum(mc_mul(y, mc_reshape(w, y->ndim, y->shape)));
}

static double comment_number(const char *comment, const char *key, double fallback)
{
    const char *p = strstr(comment, key);
    return p ? strtod(p + strlen(key), NULL) : fallback;
}

static void check_file(const char *path, const char *file)
{
    fixture fx;
    if (parse_fixture(path, &fx)) { CHECK(0, "%s: cannot parse fixture", file); free_fixture(&fx); return; }
    worst_rel = 0;
    mc_set_training(1);
    if (!strncmp(file, "linear", 6)) {
        if (!require(file, &fx, "x W b gy")) goto done;
        mc_tensor *x = tensor_of(&fx, "x", 1), *w = tensor_of(&fx, "W", 1), *b = tensor_of(&fx, "b", 1);
        mc_tensor *y = mc_linear(x, &(mc_linear_layer){w, mc_view(b, -1)});
        mc_backward(weighted_sum(y, &fx, "gy"));
        compare(file, &fx, "y", y->data, y->size);
        compare(file, &fx, "dx", x->grad, x->size);
        compare(file, &fx, "dW", w->grad, w->size);
        compare(file, &fx, "db", b->grad, b->size);
    } else if (!strncmp(file, "binary_cross_entropy", 20)) {
        if (!require(file, &fx, "p t gy")) goto done;
        mc_tensor *p = tensor_of(&fx, "p", 1);
        mc_tensor *y = mc_binary_cross_entropy(p, tensor_of(&fx, "t", 0));
        mc_backward(weighted_sum(y, &fx, "gy"));
        compare(file, &fx, "y", y->data, y->size);
        compare(file, &fx, "dp", p->grad, p->size);
    } else if (!strncmp(file, "batchnorm", 9)) {
        if (!require(file, &fx, "x gamma beta")) goto done;
        mc_tensor *x = tensor_of(&fx, "x", 1), *gamma = tensor_of(&fx, "gamma", 1), *beta = tensor_of(&fx, "beta", 1);
        int C = gamma->size, training = get(&fx, "dx") != NULL;
        mc_tensor *rm = training ? mc_tensor_zeros(1, &C) : mc_view(tensor_of(&fx, "running_mean", 0), -1);
        mc_tensor *rv = training ? mc_tensor_zeros(1, &C) : mc_view(tensor_of(&fx, "running_var", 0), -1);
        if (training) for (int c = 0; c < C; c++) rv->data[c] = 1;
        /* PyTorch's (B,C,N) is channels-first; mache normalises the last axis, so transpose around it. */
        mc_tensor *xin = x->ndim == 3 ? mc_transpose(x, 1, 2) : x;
        int prev = mc_set_training(training);
        mc_tensor *y = mc_batchnorm(xin, &(mc_batchnorm_layer){mc_view(gamma, -1), mc_view(beta, -1), rm, rv, 0.1f, 1e-5f});
        mc_set_training(prev);
        if (x->ndim == 3) y = mc_transpose(y, 1, 2);
        compare(file, &fx, "y", y->data, y->size);
        if (training) {
            mc_backward(weighted_sum(y, &fx, "gy"));
            compare(file, &fx, "dx", x->grad, x->size);
            compare(file, &fx, "dgamma", gamma->grad, gamma->size);
            compare(file, &fx, "dbeta", beta->grad, beta->size);
            if (get(&fx, "running_mean")) compare(file, &fx, "running_mean", rm->data, C);
            if (get(&fx, "running_var")) compare(file, &fx, "running_var", rv->data, C);
        }
    } else if (!strncmp(file, "max_points", 10)) {
        if (!require(file, &fx, "x gy")) goto done;
        mc_tensor *x = tensor_of(&fx, "x", 1);
        mc_tensor *y = mc_max_axis(x, -1);
        mc_backward(weighted_sum(y, &fx, "gy"));
        compare(file, &fx, "y", y->data, y->size);
        compare(file, &fx, "dx", x->grad, x->size);
    } else if (!strncmp(file, "chamfer", 7)) {
        if (!require(file, &fx, "a b")) goto done;
        mc_tensor *a = tensor_of(&fx, "a", 1), *b = tensor_of(&fx, "b", 1);
        mc_tensor *cd = mc_chamfer(a, b);
        mc_backward(cd);
        compare(file, &fx, "cd", cd->data, 1);
        compare(file, &fx, "da", a->grad, a->size);
        compare(file, &fx, "db", b->grad, b->size);
    } else if (!strncmp(file, "kld", 3)) {
        if (!require(file, &fx, "mu logvar")) goto done;
        mc_tensor *mu = tensor_of(&fx, "mu", 1), *logvar = tensor_of(&fx, "logvar", 1);
        mc_tensor *kld = mc_kld_gaussian(mu, logvar);
        mc_backward(kld);
        compare(file, &fx, "kld", kld->data, 1);
        compare(file, &fx, "dmu", mu->grad, mu->size);
        compare(file, &fx, "dlogvar", logvar->grad, logvar->size);
    } else if (!strncmp(file, "reparam", 7)) {
        if (!require(file, &fx, "mu logvar eps gz")) goto done;
        mc_tensor *mu = tensor_of(&fx, "mu", 1), *logvar = tensor_of(&fx, "logvar", 1), *eps = tensor_of(&fx, "eps", 0);
        mc_tensor *z = mc_reparameterize(mu, logvar, eps);
        mc_backward(weighted_sum(z, &fx, "gz"));
        compare(file, &fx, "z", z->data, z->size);
        compare(file, &fx, "dmu", mu->grad, mu->size);
        compare(file, &fx, "dlogvar", logvar->grad, logvar->size);
    } else if (!strncmp(file, "activations", 11)) {
        if (!require(file, &fx, "x gy")) goto done;
        mc_tensor *x = tensor_of(&fx, "x", 1);
        mc_tensor *th = mc_tanh(x);
        mc_backward(weighted_sum(th, &fx, "gy"));
        compare(file, &fx, "tanh", th->data, th->size);
        compare(file, &fx, "dtanh", x->grad, x->size);
        mc_step_end();   /* a fresh tape: the tanh entries must not run again */
        x = tensor_of(&fx, "x", 1);
        mc_tensor *r = mc_relu(x);
        mc_backward(weighted_sum(r, &fx, "gy"));
        compare(file, &fx, "relu", r->data, r->size);
        compare(file, &fx, "drelu", x->grad, x->size);
    } else if (!strncmp(file, "adam", 4)) {
        if (!require(file, &fx, "p0")) goto done;
        mc_adam opt = mc_adam_default((float)comment_number(fx.comment, "lr ", 1e-3));
        opt.weight_decay = (float)comment_number(fx.comment, "weight_decay ", 0);
        opt.eps = (float)comment_number(fx.comment, "eps ", 1e-8);
        const char *betas = strstr(fx.comment, "betas (");
        if (betas) { char *end; opt.beta1 = strtof(betas + 7, &end); opt.beta2 = strtof(end + 1, NULL); }
        mc_params ps = {0};
        const fixture_tensor *p0 = get(&fx, "p0");
        mc_tensor *p = mc_param_new(&ps, "p", p0->ndim, p0->shape, 1);
        for (int64_t k = 0; k < p->size; k++) p->data[k] = (float)p0->v[k];
        for (int step = 1;; step++) {
            char gname[16], pname[16];
            snprintf(gname, sizeof gname, "g%d", step);
            snprintf(pname, sizeof pname, "p%d", step);
            const fixture_tensor *g = get(&fx, gname);
            if (!g) break;
            for (int64_t k = 0; k < p->size; k++) p->grad[k] = (float)g->v[k];
            mc_adam_step(&opt, &ps);
            compare(file, &fx, pname, p->data, p->size);
        }
        mc_params_free(&ps);
    } else {
        CHECK(0, "%s: no op is known for this fixture (expected a name starting with linear, binary_cross_entropy, batchnorm, "
                 "max_points, chamfer, kld, reparam, activations or adam)", file);
    }
    printf("%-26s max relative error %.2e\n", file, worst_rel);
done:
    mc_step_end();
    free_fixture(&fx);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "tests/reference";
    DIR *d = opendir(dir);
    if (!d) { fprintf(stderr, "test_reference: cannot open directory %s\n", dir); return 1; }
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        size_t len = strlen(e->d_name);
        if (len > 4 && !strcmp(e->d_name + len - 4, ".txt")) names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    CHECK(n > 0, "%s holds no .txt fixture files", dir);
    for (int k = 0; k < n; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        check_file(path, names[k]);
        free(names[k]);
    }
    return test_summary("test_reference");
}
