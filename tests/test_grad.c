/* Finite-difference gradient checks for every op. The loss weights each output by a random number
 * (a plain sum would hide a transposed gradient); the loss is accumulated in double, and central
 * differences are taken on the float32 ops. ReLU, clamp and max inputs stay away from their kinks. */
#include "tests/harness.h"
#include "nn/nn.h"
#include "autograd/ops_loss.h"
#include "tensor/gemm.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct { int ndim; int shape[4]; float *data; } input;   /* heap copies that survive mc_step_end */
typedef mc_tensor *(*op_fn)(mc_tensor **x);

static mc_rng rng;

static input make_input(int ndim, const int *shape, float lo, float hi)
{
    input in = {.ndim = ndim};
    memcpy(in.shape, shape, (size_t)ndim * sizeof *shape);
    int64_t n = mc_shape_size(ndim, shape);
    in.data = malloc((size_t)n * sizeof(float));
    mc_rng_fill_uniform(&rng, in.data, n, lo, hi);
    return in;
}

#define SHAPE MC_SHAPE
static input U(int ndim, const int *shape) { return make_input(ndim, shape, -1, 1); }

/* Values on a grid of 1/64, which bfloat16 holds exactly (for the bf16 multiplies) */
static void to_grid(float *x, int64_t n) { for (int64_t k = 0; k < n; k++) x[k] = roundf(x[k] * 64) / 64; }
static input G(int ndim, const int *shape)
{
    input in = U(ndim, shape);
    to_grid(in.data, mc_shape_size(ndim, shape));
    return in;
}

static int on_grid;   /* gradcheck steps by 1/64 and draws the loss weights on that grid */

/* Values at least `gap` from every other and from zero: safe for max, relu and clamp. */
static input separated_input(int ndim, const int *shape, float gap)
{
    input in = make_input(ndim, shape, 0, 1);
    int64_t n = mc_shape_size(ndim, shape);
    int *perm = malloc((size_t)n * sizeof *perm);
    for (int64_t k = 0; k < n; k++) perm[k] = (int)k;
    mc_rng_shuffle(&rng, perm, (int)n);
    for (int64_t k = 0; k < n; k++) in.data[k] = ((float)perm[k] - (float)n / 2 + 0.25f) * gap;   /* never exactly 0 */
    free(perm);
    return in;
}

static double weighted_loss(op_fn f, input *ins, int nin, const float *w, int64_t *nout, mc_tensor **grads_out)
{
    mc_tensor *x[8];
    for (int k = 0; k < nin; k++) {
        x[k] = mc_tensor_from(ins[k].ndim, ins[k].shape, ins[k].data);
        x[k]->requires_grad = grads_out != NULL;
    }
    mc_tensor *y = f(x);
    *nout = y->size;
    double loss = 0;
    if (w) for (int64_t k = 0; k < y->size; k++) loss += (double)y->data[k] * w[k];
    if (grads_out) {
        mc_tensor *wt = mc_tensor_from(y->ndim, y->shape, w);
        mc_backward(mc_sum(mc_mul(y, wt)));
        for (int k = 0; k < nin; k++) grads_out[k] = x[k];
    }
    return loss;
}

static void gradcheck(const char *name, op_fn f, input *ins, int nin)
{
    int64_t nout;
    weighted_loss(f, ins, nin, NULL, &nout, NULL);       /* learn the output size */
    mc_step_end();
    float *w = malloc((size_t)nout * sizeof *w);
    mc_rng_fill_uniform(&rng, w, nout, -1, 1);
    if (on_grid) to_grid(w, nout);

    mc_tensor *leaves[8];
    weighted_loss(f, ins, nin, w, &nout, leaves);
    float *analytic[8];
    for (int k = 0; k < nin; k++) {
        int64_t n = mc_shape_size(ins[k].ndim, ins[k].shape);
        analytic[k] = calloc((size_t)n, sizeof(float));
        if (leaves[k]->grad) memcpy(analytic[k], leaves[k]->grad, (size_t)n * sizeof(float));
    }
    mc_step_end();

    int prev = mc_set_grad_enabled(0);
    const float h = on_grid ? 1.0f / 64 : 1e-3f;
    int bad = 0, checked = 0;
    double worst = 0;
    for (int k = 0; k < nin; k++) {
        int64_t n = mc_shape_size(ins[k].ndim, ins[k].shape);
        int64_t stride = n > 40 ? n / 40 : 1;       /* at most ~40 coordinates per input */
        for (int64_t e = mc_rng_int(&rng, (int)stride); e < n; e += stride) {
            float keep = ins[k].data[e];
            ins[k].data[e] = keep + h;
            double up = weighted_loss(f, ins, nin, w, &nout, NULL);
            mc_step_end();
            ins[k].data[e] = keep - h;
            double down = weighted_loss(f, ins, nin, w, &nout, NULL);
            mc_step_end();
            ins[k].data[e] = keep;
            double numeric = (up - down) / (2.0 * h), got = analytic[k][e];
            double err = fabs(numeric - got) / (1e-2 * fmax(fabs(numeric), fabs(got)) + 2e-3);
            if (err > worst) worst = err;
            if (err > 1) {
                if (bad < 3) fprintf(stderr, "  %s: input %d [%lld]: analytic %.6g, numeric %.6g\n",
                                     name, k, (long long)e, got, numeric);
                bad++;
            }
            checked++;
        }
    }
    mc_set_grad_enabled(prev);
    CHECK(bad == 0 && checked > 0, "%s: %d of %d gradient entries differ from finite differences", name, bad, checked);
    for (int k = 0; k < nin; k++) free(analytic[k]);
    free(w);
}

/* ---- the ops under test, each as a function of its inputs ---- */
static mc_tensor *f_add(mc_tensor **x)        { return mc_add(x[0], x[1]); }
static mc_tensor *f_sub(mc_tensor **x)        { return mc_sub(x[0], x[1]); }
static mc_tensor *f_mul(mc_tensor **x)        { return mc_mul(x[0], x[1]); }
static mc_tensor *f_scale(mc_tensor **x)      { return mc_scale(x[0], -1.7f); }
static mc_tensor *f_add_scalar(mc_tensor **x) { return mc_add_scalar(x[0], 0.3f); }
static mc_tensor *f_relu(mc_tensor **x)       { return mc_relu(x[0]); }
static mc_tensor *f_tanh(mc_tensor **x)       { return mc_tanh(x[0]); }
static mc_tensor *f_sigmoid(mc_tensor **x)    { return mc_sigmoid(x[0]); }
static mc_tensor *f_exp(mc_tensor **x)        { return mc_exp(x[0]); }
static mc_tensor *f_log(mc_tensor **x)        { return mc_log(x[0]); }
static mc_tensor *f_square(mc_tensor **x)     { return mc_square(x[0]); }
static mc_tensor *f_clamp(mc_tensor **x)      { return mc_clamp_min(x[0], 0.005f); }
static mc_tensor *f_sum(mc_tensor **x)        { return mc_sum(x[0]); }
static mc_tensor *f_mean(mc_tensor **x)       { return mc_mean(x[0]); }
static mc_tensor *f_sum0(mc_tensor **x)       { return mc_sum_axis(x[0], 0); }
static mc_tensor *f_sum1(mc_tensor **x)       { return mc_sum_axis(x[0], 1); }
static mc_tensor *f_mean_last(mc_tensor **x)  { return mc_mean_axis(x[0], -1); }
static mc_tensor *f_max1(mc_tensor **x)       { return mc_max_axis(x[0], 1); }
static mc_tensor *f_max_last(mc_tensor **x)   { return mc_max_axis(x[0], -1); }
static mc_tensor *f_reshape(mc_tensor **x)    { return mc_tanh(mc_view(x[0], -1, 6)); }
static mc_tensor *f_transpose12(mc_tensor **x){ return mc_transpose(x[0], 1, 2); }
static mc_tensor *f_transpose02(mc_tensor **x){ return mc_transpose(x[0], 0, 2); }
static mc_tensor *f_transpose4(mc_tensor **x) { return mc_transpose(x[0], 1, 3); }
static mc_tensor *f_slice(mc_tensor **x)      { return mc_slice(x[0], 1, 1, 3); }
static mc_tensor *f_concat1(mc_tensor **x)    { return mc_concat(x, 3, 1); }
static mc_tensor *f_concat0(mc_tensor **x)    { return mc_concat(x, 2, 0); }
static mc_tensor *f_matmul(mc_tensor **x)     { return mc_matmul(x[0], x[1]); }
static mc_tensor *f_linear(mc_tensor **x)     { return mc_linear(x[0], &(mc_linear_layer){x[1], x[2]}); }
static mc_tensor *f_linear_nobias(mc_tensor **x) { return mc_linear(x[0], &(mc_linear_layer){x[1], NULL}); }
static mc_tensor *f_twice(mc_tensor **x)      { return mc_add(mc_mul(x[0], x[0]), mc_tanh(x[0])); }
static mc_tensor *f_chamfer(mc_tensor **x)    { return mc_chamfer(x[0], x[1]); }

static mc_tensor *bn(mc_tensor **x, int training)
{
    int C = mc_cols(x[0]);
    mc_tensor *rm = mc_tensor_zeros(1, &C), *rv = mc_tensor_zeros(1, &C);
    for (int c = 0; c < C; c++) { rm->data[c] = 0.1f * c; rv->data[c] = 1 + 0.2f * c; }
    int prev = mc_set_training(training);
    mc_tensor *y = mc_batchnorm(x[0], &(mc_batchnorm_layer){x[1], x[2], rm, rv, 0.1f, 1e-5f});
    mc_set_training(prev);
    return y;
}
static mc_tensor *f_bn_train(mc_tensor **x) { return bn(x, 1); }
static mc_tensor *f_bn_eval(mc_tensor **x)  { return bn(x, 0); }

/* the fused layers: x (3,6,5), W (4, 5+3), b, s (3,3), gamma, beta */
static mc_tensor *running(int C, int which)
{
    mc_tensor *t = mc_tensor_zeros(1, &C);
    for (int c = 0; c < C; c++) t->data[c] = which ? 0.5f + 0.3f * c : 0.05f * c;
    return t;
}
static mc_tensor *fused(mc_tensor **x, int training, int relu)
{
    int C = x[1]->shape[0], prev = mc_set_training(training);
    mc_tensor *y = mc_linear_bn(x[0], &(mc_linear_layer){x[1], x[2]}, &(mc_batchnorm_layer){x[4], x[5], running(C, 0), running(C, 1), 0.1f, 1e-5f},
                                x[3], relu ? MC_ACT_RELU : MC_ACT_NONE);
    mc_set_training(prev);
    return y;
}
static mc_tensor *f_fused_train_relu(mc_tensor **x) { return fused(x, 1, 1); }
static mc_tensor *f_fused_train(mc_tensor **x)      { return fused(x, 1, 0); }
static mc_tensor *f_fused_eval_relu(mc_tensor **x)  { return fused(x, 0, 1); }
static mc_tensor *fused_max(mc_tensor **x, int training, int relu)
{
    int C = x[1]->shape[0], prev = mc_set_training(training);
    mc_tensor *y = mc_linear_bn_max(x[0], &(mc_linear_layer){x[1], x[2]},
                                    &(mc_batchnorm_layer){x[3], x[4], running(C, 0), running(C, 1), 0.1f, 1e-5f}, relu ? MC_ACT_RELU : MC_ACT_NONE);
    mc_set_training(prev);
    return y;
}
static mc_tensor *f_fused_max_train(mc_tensor **x)      { return fused_max(x, 1, 0); }
static mc_tensor *f_fused_max_train_relu(mc_tensor **x) { return fused_max(x, 1, 1); }
static mc_tensor *f_fused_max_eval(mc_tensor **x)       { return fused_max(x, 0, 0); }

static double max_diff(mc_tensor *a, mc_tensor *b)
{
    double worst = 0;
    for (int64_t k = 0; k < a->size; k++) worst = fmax(worst, fabs(a->data[k] - b->data[k]));
    return worst;
}

/* The fused layers against the ops they replace, with the concatenation written out: the same values
 * and the same gradients. x (B,N,in), W (C, in+3), s (B,3). A narrow x (in <= 4) takes the fused path that
 * computes z in the statistics pass; C >= 16 and rows past 16 reach the blocked column sums, and more
 * than 32768 values run them on the threads. */
static void fused_matches_composition(int training, int relu, int B, int N, int in, int C)
{
    const int L = 3;
    input ins[6] = {U(SHAPE(B, N, in)), U(SHAPE(C, in + L)), U(SHAPE(C)), U(SHAPE(B, L)), make_input(SHAPE(C), 0.5f, 1.5f), U(SHAPE(C))};
    mc_tensor *a[6], *b[6];
    for (int k = 0; k < 6; k++) {
        a[k] = mc_tensor_from(ins[k].ndim, ins[k].shape, ins[k].data); a[k]->requires_grad = 1;
        b[k] = mc_tensor_from(ins[k].ndim, ins[k].shape, ins[k].data); b[k]->requires_grad = 1;
    }
    mc_tensor *w = mc_tensor_new(3, (int[]){B, N, C});
    mc_rng_fill_uniform(&rng, w->data, w->size, -1, 1);
    mc_tensor *y1 = fused(a, training, relu);
    mc_tensor *s_repeated = mc_add(mc_tensor_zeros(3, (int[]){B, N, L}), mc_view(b[3], B, 1, L));
    mc_tensor *cat = mc_concat((mc_tensor *[]){b[0], s_repeated}, 2, 2);                          /* (B,N,in+L) */
    int prev = mc_set_training(training);
    mc_tensor *y2 = mc_batchnorm(mc_linear(cat, &(mc_linear_layer){b[1], b[2]}), &(mc_batchnorm_layer){b[4], b[5], running(C, 0), running(C, 1), 0.1f, 1e-5f});
    mc_set_training(prev);
    if (relu) y2 = mc_relu(y2);
    mc_backward(mc_add(mc_sum(mc_mul(y1, w)), mc_sum(mc_mul(y2, w))));
    double worst = max_diff(y1, y2);
    for (int t = 0; t < 6; t++)
        for (int64_t k = 0; k < a[t]->size; k++) worst = fmax(worst, fabs(a[t]->grad[k] - b[t]->grad[k]) / fmax(1, fabs(b[t]->grad[k])));
    CHECK(worst < 1e-4, "linear_bn (training %d, relu %d, x (%d,%d,%d), %d channels) differs from linear(concat) + batchnorm by %g",
          training, relu, B, N, in, C, worst);
    if (training) {   /* the bias cancels in the batch's normalisation: its gradient is 0 exactly, not rounding noise */
        double bias = 0;
        for (int64_t k = 0; k < a[2]->size; k++) bias = fmax(bias, fabs(a[2]->grad[k]));
        CHECK(bias == 0, "linear_bn (relu %d): training-mode bias gradient is %g, not exactly 0", relu, bias);
    }
    mc_step_end();

    /* linear_bn_max against linear, batchnorm and max over points */
    for (int k = 0; k < 6; k++) {
        a[k] = mc_tensor_from(ins[k].ndim, ins[k].shape, ins[k].data); a[k]->requires_grad = 1;
        b[k] = mc_tensor_from(ins[k].ndim, ins[k].shape, ins[k].data); b[k]->requires_grad = 1;
    }
    mc_tensor *w_a = mc_slice(a[1], 1, 0, in), *w_b = mc_slice(b[1], 1, 0, in);
    prev = mc_set_training(training);
    mc_tensor *m1 = mc_linear_bn_max(a[0], &(mc_linear_layer){w_a, a[2]}, &(mc_batchnorm_layer){a[4], a[5], running(C, 0), running(C, 1), 0.1f, 1e-5f},
                                     relu ? MC_ACT_RELU : MC_ACT_NONE);
    mc_tensor *h = mc_batchnorm(mc_linear(b[0], &(mc_linear_layer){w_b, b[2]}), &(mc_batchnorm_layer){b[4], b[5], running(C, 0), running(C, 1), 0.1f, 1e-5f});
    mc_set_training(prev);
    mc_tensor *m2 = mc_max_axis(relu ? mc_relu(h) : h, 1);
    mc_tensor *wm = mc_tensor_new(2, (int[]){B, C});
    mc_rng_fill_uniform(&rng, wm->data, wm->size, -1, 1);
    mc_backward(mc_add(mc_sum(mc_mul(m1, wm)), mc_sum(mc_mul(m2, wm))));
    worst = max_diff(m1, m2);
    for (int t = 0; t < 6; t++)
        if (t != 3) for (int64_t k = 0; k < a[t]->size; k++) worst = fmax(worst, fabs(a[t]->grad[k] - b[t]->grad[k]) / fmax(1, fabs(b[t]->grad[k])));
    CHECK(worst < 1e-4, "linear_bn_max (training %d, relu %d, x (%d,%d,%d), %d channels) differs from linear + batchnorm + max by %g",
          training, relu, B, N, in, C, worst);
    mc_step_end();
    for (int k = 0; k < 6; k++) free(ins[k].data);
}

static mc_tensor *f_kld(mc_tensor **x)
{
    mc_tensor *t = mc_sub(mc_sub(mc_add_scalar(x[1], 1), mc_square(x[0])), mc_exp(x[1]));
    return mc_scale(mc_sum(t), -0.5f / x[0]->shape[0]);
}

/* binary cross-entropy: the target (a constant, as the op requires) is fixed pixel-like values in [0, 1] */
static mc_tensor *f_bce(mc_tensor **x)
{
    mc_tensor *t = mc_tensor_new(x[0]->ndim, x[0]->shape);
    for (int64_t k = 0; k < t->size; k++) t->data[k] = k % 3 ? (float)(k % 7) / 6 : (float)(k % 2);
    return mc_binary_cross_entropy(x[0], t);
}

#define CHECK_OP(name, f, ...) do { input ins_[] = {__VA_ARGS__};                            \
    int n_ = (int)(sizeof ins_ / sizeof ins_[0]);                                            \
    gradcheck(name, f, ins_, n_);                                                           \
    for (int k_ = 0; k_ < n_; k_++) free(ins_[k_].data); } while (0)


int main(void)
{
    mc_rng_seed(&rng, 1234);
    CHECK_OP("add", f_add, U(SHAPE(2, 3, 4)), U(SHAPE(2, 3, 4)));
    CHECK_OP("add per channel", f_add, U(SHAPE(2, 3, 4)), U(SHAPE(4)));
    CHECK_OP("add per row", f_add, U(SHAPE(2, 3, 4)), U(SHAPE(2, 3, 1)));
    CHECK_OP("add per shape", f_add, U(SHAPE(2, 3, 4)), U(SHAPE(2, 1, 4)));
    CHECK_OP("add both broadcast", f_add, U(SHAPE(2, 1, 4)), U(SHAPE(3, 1)));
    CHECK_OP("sub per channel", f_sub, U(SHAPE(2, 3, 4)), U(SHAPE(4)));
    CHECK_OP("sub vector minus batch", f_sub, U(SHAPE(4)), U(SHAPE(2, 3, 4)));
    CHECK_OP("mul", f_mul, U(SHAPE(3, 5)), U(SHAPE(3, 5)));
    CHECK_OP("mul per row", f_mul, U(SHAPE(2, 3, 4)), U(SHAPE(2, 3, 1)));
    CHECK_OP("mul 4d per channel", f_mul, U(SHAPE(2, 2, 3, 4)), U(SHAPE(4)));
    CHECK_OP("scale", f_scale, U(SHAPE(2, 5)));
    CHECK_OP("add_scalar", f_add_scalar, U(SHAPE(7)));
    CHECK_OP("relu", f_relu, separated_input(SHAPE(3, 7), 0.01f));
    CHECK_OP("tanh", f_tanh, U(SHAPE(3, 7)));
    CHECK_OP("sigmoid", f_sigmoid, U(SHAPE(3, 7)));
    CHECK_OP("exp", f_exp, U(SHAPE(3, 7)));
    CHECK_OP("log", f_log, make_input(SHAPE(3, 7), 0.5f, 2));
    CHECK_OP("square", f_square, U(SHAPE(3, 7)));
    CHECK_OP("clamp_min", f_clamp, separated_input(SHAPE(3, 7), 0.013f));
    CHECK_OP("sum", f_sum, U(SHAPE(2, 3, 4)));
    CHECK_OP("mean", f_mean, U(SHAPE(2, 3, 4)));
    CHECK_OP("sum axis 0", f_sum0, U(SHAPE(2, 3, 4)));
    CHECK_OP("sum axis 1", f_sum1, U(SHAPE(2, 3, 4)));
    CHECK_OP("mean last axis", f_mean_last, U(SHAPE(2, 3, 4)));
    CHECK_OP("max over points", f_max1, separated_input(SHAPE(2, 6, 5), 0.01f));
    CHECK_OP("max last axis", f_max_last, separated_input(SHAPE(3, 2, 6), 0.01f));
    CHECK_OP("reshape", f_reshape, U(SHAPE(2, 3, 4)));
    CHECK_OP("transpose 1,2", f_transpose12, U(SHAPE(2, 3, 4)));
    CHECK_OP("transpose 0,2", f_transpose02, U(SHAPE(2, 3, 4)));
    CHECK_OP("transpose 4d", f_transpose4, U(SHAPE(2, 3, 4, 5)));
    CHECK_OP("slice", f_slice, U(SHAPE(2, 5, 3)));
    CHECK_OP("concat axis 1", f_concat1, U(SHAPE(2, 3, 4)), U(SHAPE(2, 1, 4)), U(SHAPE(2, 2, 4)));
    CHECK_OP("concat axis 0", f_concat0, U(SHAPE(2, 3)), U(SHAPE(4, 3)));
    CHECK_OP("matmul", f_matmul, U(SHAPE(5, 4)), U(SHAPE(4, 3)));
    CHECK_OP("matmul (..,M,K)x(K,N)", f_matmul, U(SHAPE(2, 5, 4)), U(SHAPE(4, 3)));
    CHECK_OP("matmul batched", f_matmul, U(SHAPE(3, 5, 4)), U(SHAPE(3, 4, 2)));
    CHECK_OP("linear", f_linear, U(SHAPE(2, 5, 4)), U(SHAPE(3, 4)), U(SHAPE(3)));
    CHECK_OP("linear no bias", f_linear_nobias, U(SHAPE(6, 4)), U(SHAPE(3, 4)));
    CHECK_OP("batchnorm train (B,C)", f_bn_train, U(SHAPE(6, 4)), make_input(SHAPE(4), 0.5f, 1.5f), U(SHAPE(4)));
    CHECK_OP("batchnorm train (B,N,C)", f_bn_train, U(SHAPE(3, 5, 4)), make_input(SHAPE(4), 0.5f, 1.5f), U(SHAPE(4)));
    CHECK_OP("batchnorm eval", f_bn_eval, U(SHAPE(3, 5, 4)), make_input(SHAPE(4), 0.5f, 1.5f), U(SHAPE(4)));
    CHECK_OP("tensor used twice", f_twice, U(SHAPE(3, 4)));
    CHECK_OP("chamfer", f_chamfer, separated_input(SHAPE(2, 7, 3), 0.02f), separated_input(SHAPE(2, 5, 3), 0.03f));
    CHECK_OP("kld", f_kld, U(SHAPE(4, 6)), U(SHAPE(4, 6)));
    CHECK_OP("binary_cross_entropy", f_bce, make_input(SHAPE(3, 7), 0.1f, 0.9f));
    CHECK_OP("linear_bn relu, training", f_fused_train_relu, U(SHAPE(3, 6, 5)), U(SHAPE(4, 8)), U(SHAPE(4)), U(SHAPE(3, 3)),
             make_input(SHAPE(4), 0.5f, 1.5f), U(SHAPE(4)));
    CHECK_OP("linear_bn, training", f_fused_train, U(SHAPE(3, 6, 5)), U(SHAPE(4, 8)), U(SHAPE(4)), U(SHAPE(3, 3)),
             make_input(SHAPE(4), 0.5f, 1.5f), U(SHAPE(4)));
    CHECK_OP("linear_bn relu, eval", f_fused_eval_relu, U(SHAPE(3, 6, 5)), U(SHAPE(4, 8)), U(SHAPE(4)), U(SHAPE(3, 3)),
             make_input(SHAPE(4), 0.5f, 1.5f), U(SHAPE(4)));
    CHECK_OP("linear_bn_max, training", f_fused_max_train, separated_input(SHAPE(3, 6, 2), 0.05f), U(SHAPE(4, 2)), U(SHAPE(4)),
             make_input(SHAPE(4), 0.5f, 1.5f), U(SHAPE(4)));
    CHECK_OP("linear_bn_max relu, training", f_fused_max_train_relu, separated_input(SHAPE(3, 6, 2), 0.05f), U(SHAPE(4, 2)),
             U(SHAPE(4)), make_input(SHAPE(4), 0.5f, 1.5f), U(SHAPE(4)));
    CHECK_OP("linear_bn_max, eval", f_fused_max_eval, separated_input(SHAPE(3, 6, 2), 0.05f), U(SHAPE(4, 2)), U(SHAPE(4)),
             make_input(SHAPE(4), 0.5f, 1.5f), U(SHAPE(4)));
    for (int training = 0; training < 2; training++)
        for (int relu = 0; relu < 2; relu++) {
            fused_matches_composition(training, relu, 3, 7, 5, 4);     /* through the GEMM */
            fused_matches_composition(training, relu, 3, 7, 2, 37);    /* narrow; 2 chunks of 16 columns and 5 more */
            fused_matches_composition(training, relu, 3, 300, 2, 37);  /* narrow, many row blocks, on the threads */
            fused_matches_composition(training, relu, 2, 350, 6, 50);  /* the GEMM, blocked sums on the threads */
        }

    /* bf16 multiplies: the analytic gradient is that of the rounded inputs. With inputs, loss weights (the
     * incoming gradient) and step on a grid bf16 holds exactly, the finite differences see the same
     * function as the backward multiplies (linear in each input, so the step's size does not matter).
     * On AMX tiles where the CPU has them, else the fp32 kernel on rounded inputs. */
    mc_gemm_set_precision(MC_GEMM_BF16);
    on_grid = 1;
    CHECK_OP("matmul, bf16", f_matmul, G(SHAPE(9, 8)), G(SHAPE(8, 11)));
    CHECK_OP("matmul batched, bf16", f_matmul, G(SHAPE(2, 20, 24)), G(SHAPE(2, 24, 17)));
    CHECK_OP("linear, bf16", f_linear, G(SHAPE(2, 20, 24)), G(SHAPE(17, 24)), G(SHAPE(17)));
    mc_gemm_set_precision(MC_GEMM_FP32);
    on_grid = 0;
    return test_summary("test_grad");
}
