/* Layers and optimizers end to end: an MLP with BatchNorm learns a small regression, the step arena
 * stops growing, SGD matches its closed form, and freezing keeps weights fixed. */
#include "tests/harness.h"
#include "nn/nn.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct { mc_linear_layer fc1, fc2; mc_batchnorm_layer bn1; } mlp;

static mc_tensor *mlp_forward(const mlp *m, mc_tensor *x)
{
    mc_tensor *h = mc_relu(mc_batchnorm(mc_linear(x, &m->fc1), &m->bn1));   /* (B,32) */
    return mc_linear(h, &m->fc2);                                            /* (B,1) */
}

/* target: y = sin(2 x0) + x1 * x2 on x ~ U(-1, 1)^3 */
static void make_batch(mc_rng *rng, mc_tensor *x, mc_tensor *y)
{
    mc_rng_fill_uniform(rng, x->data, x->size, -1, 1);
    for (int b = 0; b < y->size; b++) {
        const float *p = x->data + 3 * b;
        y->data[b] = sinf(2 * p[0]) + p[1] * p[2];
    }
}

static void test_mlp_regression(void)
{
    mc_rng rng;
    mc_rng_seed(&rng, 7);
    mc_params ps = {0};
    mlp m;
    mc_linear_init(&m.fc1, &ps, "fc1", 3, 32, 1, &rng);
    mc_batchnorm_init(&m.bn1, &ps, "bn1", 32);
    mc_linear_init(&m.fc2, &ps, "fc2", 32, 1, 1, &rng);
    CHECK(mc_param_find(&ps, "bn1.running_var") && mc_param_find(&ps, "fc2.bias"), "dotted names registered");
    mc_adam opt = mc_adam_default(1e-2f);
    int B = 64;
    double first = 0, last = 0;
    size_t capacity_at_10 = 0;
    mc_set_training(1);
    for (int step = 0; step < 1000; step++) {
        mc_tensor *x = mc_new(B, 3), *y = mc_new(B, 1);
        make_batch(&rng, x, y);
        mc_tensor *loss = mc_mean(mc_square(mc_sub(mlp_forward(&m, x), y)));
        if (step == 0) first = loss->data[0];
        if (step >= 950) last += loss->data[0] / 50;
        mc_params_zero_grad(&ps);
        mc_backward(loss);
        mc_adam_step(&opt, &ps);
        mc_step_end();
        if (step == 10) capacity_at_10 = mc_arena_capacity();
    }
    CHECK(last < 0.02 && last < first / 10, "MLP regression: loss %.4f after 1000 steps (first %.4f)", last, first);
    CHECK(mc_arena_capacity() == capacity_at_10, "arena grew after warm-up: %zu -> %zu bytes",
          capacity_at_10, mc_arena_capacity());

    /* eval mode uses the running statistics: a held-out batch scores close to the training loss */
    mc_set_training(0);
    int prev = mc_set_grad_enabled(0);
    mc_tensor *x = mc_new(256, 3), *y = mc_new(256, 1);
    make_batch(&rng, x, y);
    mc_tensor *loss = mc_mean(mc_square(mc_sub(mlp_forward(&m, x), y)));
    CHECK(loss->data[0] < 0.03, "eval-mode loss %.4f", loss->data[0]);
    CHECK(mc_tape_length() == 0, "no-grad mode recorded %d tape entries", mc_tape_length());
    mc_set_grad_enabled(prev);
    mc_set_training(1);
    mc_step_end();

    /* freezing: a frozen layer keeps its weights, the others still move */
    CHECK(mc_params_freeze(&ps, "fc1.", 1) == 2, "freeze fc1 matches weight and bias");
    float w0 = m.fc1.weight->data[0], v0 = m.fc2.weight->data[0];
    x = mc_new(B, 3); y = mc_new(B, 1);
    make_batch(&rng, x, y);
    mc_params_zero_grad(&ps);
    mc_backward(mc_mean(mc_square(mc_sub(mlp_forward(&m, x), y))));
    mc_adam_step(&opt, &ps);
    mc_step_end();
    CHECK(m.fc1.weight->data[0] == w0 && m.fc2.weight->data[0] != v0, "frozen fc1 unchanged, fc2 updated");
    mc_params_free(&ps);
}

static void test_sgd_and_schedule(void)
{
    mc_params ps = {0};
    mc_tensor *p = mc_param_new(&ps, "p", 1, (int[]){2}, 1);
    p->data[0] = 1; p->data[1] = -2;
    mc_sgd opt = {.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.01f};
    /* constant gradient g: torch's buffer is b1 = g', b_t = 0.9 b_{t-1} + g' with g' = g + wd * p */
    double ref[2] = {1, -2}, buf[2] = {0, 0};
    for (int step = 0; step < 3; step++) {
        p->grad[0] = 0.5f; p->grad[1] = -1;
        for (int k = 0; k < 2; k++) {
            double g = p->grad[k] + 0.01 * ref[k];
            buf[k] = step == 0 ? g : 0.9 * buf[k] + g;
            ref[k] -= 0.1 * buf[k];
        }
        mc_sgd_step(&opt, &ps);
    }
    CHECK(test_close(p->data[0], ref[0], 1e-5, 1e-6) && test_close(p->data[1], ref[1], 1e-5, 1e-6),
          "SGD momentum: got %.6f %.6f, expected %.6f %.6f", p->data[0], p->data[1], ref[0], ref[1]);
    int milestones[] = {100};
    CHECK(mc_step_lr(1e-3f, 99, milestones, 1, 0.1f) == 1e-3f && test_close(mc_step_lr(1e-3f, 100, milestones, 1, 0.1f), 1e-4, 1e-6, 0),
          "step schedule divides by 10 at epoch 100");
    mc_params_free(&ps);
}

static void test_linear_init(void)
{
    mc_rng rng;
    mc_rng_seed(&rng, 3);
    mc_params ps = {0};
    mc_linear_layer l;
    mc_linear_init(&l, &ps, "fc", 400, 300, 1, &rng);
    float bound = 1.0f / 20, lo = 1, hi = -1;
    double mean = 0;
    for (int64_t k = 0; k < l.weight->size; k++) {
        float w = l.weight->data[k];
        lo = w < lo ? w : lo; hi = w > hi ? w : hi; mean += w;
    }
    mean /= (double)l.weight->size;
    CHECK(lo >= -bound && hi <= bound && hi > 0.99f * bound && lo < -0.99f * bound && fabs(mean) < 1e-3,
          "linear init U(-1/sqrt(in), 1/sqrt(in)): range [%g, %g], mean %g", lo, hi, mean);
    mc_params_free(&ps);
}

static void test_rng_portable(void)
{
    mc_rng r;
    mc_rng_seed(&r, 42);
    uint64_t first = mc_rng_u64(&r);
    /* xoshiro256** seeded by splitmix64(42): a fixed value on every machine */
    CHECK(first == 0x15780b2e0c2ec716ULL, "rng first value %llx", (unsigned long long)first);
    mc_rng_seed(&r, 42);
    CHECK(mc_rng_u64(&r) == first, "the same seed gives the same sequence");
    double s = 0, s2 = 0;
    for (int k = 0; k < 100000; k++) { double x = mc_rng_normal(&r); s += x; s2 += x * x; }
    CHECK(fabs(s / 1e5) < 0.02 && fabs(s2 / 1e5 - 1) < 0.02, "normal: mean %.4f, var %.4f", s / 1e5, s2 / 1e5);
}

/* A shape mismatch is a programming error: the program stops, naming the op and both shapes. */
static void linear_mismatch(void *unused)
{
    (void)unused;
    mc_tensor *x = mc_new(32, 2500, 3), *w = mc_new(64, 128);
    mc_linear(x, &(mc_linear_layer){w, NULL});
}

static void shape_errors_name_both_shapes(void)
{
    char msg[4096];
    int died = test_dies(linear_mismatch, NULL, msg, sizeof msg);
    CHECK(died && strstr(msg, "linear") && strstr(msg, "(32,2500,3)") && strstr(msg, "(64,128)"), "shape error message: %s", msg);
}

/* mc_adam_backward must equal zero_grad + backward + adam_step bit for bit: here with a layer used twice
 * (its gradient is complete only after both uses), a frozen layer, a parameter the loss never reaches
 * (Adam still moves it from its moments, as after zero_grad) and weight decay. */
typedef struct { mc_params ps; mlp m; mc_linear_layer shared, unused; } twin_net;

static void twin_init(twin_net *t)
{
    mc_rng rng;
    mc_rng_seed(&rng, 11);
    memset(t, 0, sizeof *t);
    mc_linear_init(&t->m.fc1, &t->ps, "fc1", 3, 16, 1, &rng);
    mc_batchnorm_init(&t->m.bn1, &t->ps, "bn1", 16);
    mc_linear_init(&t->shared, &t->ps, "shared", 16, 16, 1, &rng);
    mc_linear_init(&t->m.fc2, &t->ps, "fc2", 16, 1, 1, &rng);
    mc_linear_init(&t->unused, &t->ps, "unused", 2, 2, 1, &rng);
    mc_params_freeze(&t->ps, "fc1.", 1);
}

static mc_tensor *twin_loss(twin_net *t, mc_rng *rng)
{
    mc_tensor *x = mc_new(32, 3), *y = mc_new(32, 1);
    make_batch(rng, x, y);
    mc_tensor *h = mc_relu(mc_batchnorm(mc_linear(x, &t->m.fc1), &t->m.bn1));
    h = mc_tanh(mc_linear(mc_relu(mc_linear(h, &t->shared)), &t->shared));   /* the same weights twice */
    return mc_mean(mc_square(mc_sub(mc_linear(h, &t->m.fc2), y)));
}

static void test_adam_backward_matches_step(void)
{
    twin_net a, b;
    twin_init(&a);
    twin_init(&b);
    mc_adam opt = {.lr = 1e-2f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.01f};
    mc_rng ra, rb;
    mc_rng_seed(&ra, 5);
    mc_rng_seed(&rb, 5);
    mc_set_training(1);
    size_t capacity_at_2 = 0;
    for (int step = 0; step < 5; step++) {
        mc_params_zero_grad(&a.ps);
        mc_backward(twin_loss(&a, &ra));
        mc_adam_step(&opt, &a.ps);
        mc_step_end();
        mc_adam_backward(&opt, &b.ps, twin_loss(&b, &rb));
        mc_step_end();
        if (step == 2) capacity_at_2 = mc_arena_capacity();
    }
    CHECK(mc_arena_capacity() == capacity_at_2, "the arena grew after warm-up with mc_adam_backward");
    int same = 1;
    for (int k = 0; k < a.ps.n; k++) {
        mc_param *pa = a.ps.items[k], *pb = b.ps.items[k];
        same &= !memcmp(pa->t.data, pb->t.data, (size_t)pa->t.size * sizeof(float)) && pa->step == pb->step;
        if (pa->m) same &= !memcmp(pa->m, pb->m, (size_t)pa->t.size * sizeof(float)) && !memcmp(pa->v, pb->v, (size_t)pa->t.size * sizeof(float));
    }
    CHECK(same, "mc_adam_backward differs from zero_grad + backward + adam_step");
    CHECK(mc_param_find(&b.ps, "unused.weight")->step == 5 &&
          mc_param_find(&b.ps, "fc1.weight")->step == 0, "shared, unused and frozen parameters stepped 5, 5 and 0 times");
    mc_params_free(&a.ps);
    mc_params_free(&b.ps);
}

/* Backward keeps the gradients of leaves and releases those of intermediates, and a released buffer
 * serves the next gradient of its size: a chain of 50 equal layers holds about one layer's gradients.
 * Runs first, since it reads the arena's high-water mark. */
static void test_backward_releases_intermediates(void)
{
    mc_rng rng;
    mc_rng_seed(&rng, 3);
    mc_tensor *x = mc_new(64, 64), *w = mc_new(64, 64);
    mc_rng_fill_uniform(&rng, x->data, x->size, -1, 1);
    mc_rng_fill_uniform(&rng, w->data, w->size, -0.1f, 0.1f);
    x->requires_grad = w->requires_grad = 1;
    mc_tensor *first = mc_matmul(x, w), *h = first;
    for (int k = 0; k < 50; k++) h = mc_tanh(mc_matmul(h, w));
    size_t forward = mc_arena_peak(), layer = 64 * 64 * sizeof(float);
    mc_backward(mc_sum(h));
    CHECK(x->grad && w->grad && !first->grad && !h->grad, "leaves keep their gradients, intermediates are released");
    CHECK(mc_arena_peak() < forward + 8 * layer, "backward through 50 layers took %zu KiB beyond the forward (a layer is %zu KiB)",
          (mc_arena_peak() - forward) >> 10, layer >> 10);
    mc_step_end();
}

int main(void)
{
    test_backward_releases_intermediates();
    shape_errors_name_both_shapes();
    test_rng_portable();
    test_linear_init();
    test_sgd_and_schedule();
    test_mlp_regression();
    test_adam_backward_matches_step();
    return test_summary("test_nn");
}
