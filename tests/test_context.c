/* Step memory the caller owns and state you can see: marks, contexts in two threads, finite checks,
 * the tape dump, and the errors that must stop with a message. */
#include "tests/harness.h"
#include "models/train.h"
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static atlasnet tiny_model(int vae, uint64_t seed)
{
    atlas_config cfg;
    atlas_preset("tiny", vae, &cfg, NULL);
    atlasnet m;
    atlas_init(&m, &cfg, seed);
    return m;
}

static mc_tensor *held_tensor(float value)
{
    mc_tensor *t = mc_new(1000);
    for (int k = 0; k < 1000; k++) t->data[k] = value + k;
    return t;
}

static int holds(const mc_tensor *t, float value)
{
    for (int k = 0; k < 1000; k++)
        if (t->data[k] != value + k) return 0;
    return 1;
}

/* A step tensor held across the library's helpers is still there afterwards. In a fresh context the
 * first allocations overflow into blocks of their own, which a helper that ended the step would free:
 * the sanitizer build then fails this test on the read. */
static void helpers_keep_the_callers_step(void)
{
    mc_ctx *ctx = mc_ctx_new(), *prev = mc_ctx_use(ctx);
    atlasnet m = tiny_model(1, 3);
    mc_tensor *mine = held_tensor(7);
    mc_mesh mesh;
    atlas_mesh(&m, (float[8]){0}, 200, &mesh, NULL);
    CHECK(mesh.nverts > 0 && mesh.nfaces > 0, "atlas_mesh made a mesh");
    mc_mesh_free(&mesh);
    CHECK(holds(mine, 7), "a step tensor survives atlas_mesh");
    int n = 40, N = m.cfg.points, L = m.cfg.latent;
    float *clouds = malloc((size_t)n * N * 3 * sizeof(float)), *mu = malloc((size_t)n * L * sizeof(float));
    mc_rng rng;
    mc_rng_seed(&rng, 1);
    mc_rng_fill_normal(&rng, clouds, (int64_t)n * N * 3, 0, 0.3f);
    atlas_encode_clouds(&m, clouds, n, mu, NULL);      /* two batches */
    atlas_decode_latents(&m, mu, n, N, &rng, clouds);
    CHECK(holds(mine, 7), "a step tensor survives batched encode and decode");
    CHECK(mc_tape_length() == 0, "the helpers left no tape entries (%d)", mc_tape_length());
    free(clouds); free(mu);
    atlas_free(&m);
    mc_ctx_use(prev);
    mc_ctx_free(ctx);
}

static void marks_give_back_exactly_what_came_after(void)
{
    mc_ctx *ctx = mc_ctx_new(), *prev = mc_ctx_use(ctx);
    mc_tensor *w = mc_new(4, 3);
    w->requires_grad = 1;
    mc_tensor *before = mc_relu(w);
    mc_mark mark = mc_step_mark();
    for (int k = 0; k < 5; k++) mc_tanh(mc_new(1 << 16));     /* constants: overflow blocks */
    mc_tensor *after = mc_sum(mc_square(before));
    CHECK(mc_tape_length() == 3 && before->pending == 1 && w->pending == 1, "tape before the rewind");
    (void)after;
    mc_step_rewind(mark);
    CHECK(mc_tape_length() == 1, "the rewind drops the entries after the mark (%d left)", mc_tape_length());
    CHECK(before->pending == 0 && w->pending == 1, "and gives back the reads they made (%d, %d)", before->pending, w->pending);
    mc_backward(mc_sum(before));
    CHECK(w->grad != NULL, "the graph before the mark still runs backward");
    mc_step_end();
    mc_ctx_use(prev);
    mc_ctx_free(ctx);
}

/* ---- two models trained at once, each in its own context, equal to the same runs one after another ---- */
typedef struct { uint64_t seed; const mc_dataset *data; float *params; int64_t n; int use_ctx; } run;

static void *train_run(void *arg)
{
    run *r = arg;
    mc_ctx *ctx = r->use_ctx ? mc_ctx_new() : NULL, *prev = mc_ctx_use(ctx);
    atlasnet m = tiny_model(1, r->seed);
    atlas_train_opts o = atlas_train_defaults(2);
    o.batch = 4;
    o.seed = r->seed;
    o.kl_weight = 1e-3f;
    mc_adam adam = mc_adam_default(o.lr);
    atlas_epoch_stats st;
    char err[MC_ERRLEN];
    for (int e = 0; e < o.epochs; e++) atlas_train_epoch(&m, &adam, r->data, &o, e, &st, NULL, NULL, err);
    r->n = mc_params_count(&m.params, 0);
    r->params = malloc((size_t)r->n * sizeof(float));
    int64_t at = 0;
    for (int k = 0; k < m.params.n; k++) {
        const mc_tensor *t = &m.params.items[k]->t;
        memcpy(r->params + at, t->data, (size_t)t->size * sizeof(float));
        at += t->size;
    }
    atlas_free(&m);
    mc_ctx_use(prev);
    mc_ctx_free(ctx);
    return NULL;
}

static void two_threads_two_contexts(void)
{
    mc_dataset data;
    char err[MC_ERRLEN];
    if (mc_dataset_open(&data, "procedural:sword:10", "train", 256, 1, err)) { CHECK(0, "dataset: %s", err); return; }
    run seq[2] = {{11, &data, NULL, 0, 0}, {12, &data, NULL, 0, 0}}, par[2] = {{11, &data, NULL, 0, 1}, {12, &data, NULL, 0, 1}};
    train_run(&seq[0]);
    train_run(&seq[1]);
    pthread_t th[2];
    for (int k = 0; k < 2; k++) pthread_create(&th[k], NULL, train_run, &par[k]);
    for (int k = 0; k < 2; k++) pthread_join(th[k], NULL);
    for (int k = 0; k < 2; k++) {
        CHECK(seq[k].n == par[k].n && !memcmp(seq[k].params, par[k].params, (size_t)seq[k].n * sizeof(float)),
              "model %d trained in a thread of its own equals the sequential run", k);
        free(seq[k].params); free(par[k].params);
    }
    CHECK(memcmp(&seq[0], &seq[1], sizeof(uint64_t)) != 0, "the two runs differ in seed");
    mc_dataset_free(&data);
}

/* ---- what must stop with a message ---- */
static void log_of_negative(void *unused)
{
    (void)unused;
    mc_set_check_finite(1);
    mc_tensor *x = mc_new(2, 3);
    for (int k = 0; k < 6; k++) x->data[k] = k - 2.5f;
    mc_log(x);
}

static void inf_in_backward(void *unused)
{
    (void)unused;
    mc_set_check_finite(1);
    mc_tensor *x = mc_new(4);
    for (int k = 0; k < 4; k++) x->data[k] = (float)k;
    x->requires_grad = 1;
    /* log(0 + 1e-40) = -92 is finite, but its derivative 1e40 is not a float */
    mc_backward(mc_sum(mc_log(mc_add_scalar(x, 1e-40f))));
}

static void concat_bad_axis(void *unused)
{
    (void)unused;
    mc_tensor *a = mc_new(2, 3);
    mc_concat((mc_tensor *[]){a, a}, 2, 4);
}

static void rng_int_empty(void *unused)
{
    (void)unused;
    mc_rng r;
    mc_rng_seed(&r, 1);
    mc_rng_int(&r, 0);
}

static void stale_mark(void *unused)
{
    (void)unused;
    mc_new(8);
    mc_mark mark = mc_step_mark();
    mc_step_end();
    mc_step_rewind(mark);
}

static void errors_stop_with_a_message(void)
{
    char msg[4096];
    CHECK(test_dies(log_of_negative, NULL, msg, sizeof msg) && strstr(msg, "op 'log' made NaN") && strstr(msg, "(2,3)"),
          "check_finite names the op and its shapes: %s", msg);
    CHECK(test_dies(inf_in_backward, NULL, msg, sizeof msg) && strstr(msg, "backward of op 'log'") && strstr(msg, "inf") &&
          strstr(msg, "(4)"), "check_finite stops at the first backward that makes an inf: %s", msg);
    CHECK(test_dies(concat_bad_axis, NULL, msg, sizeof msg) && strstr(msg, "concat: axis 4"), "concat axis: %s", msg);
    CHECK(test_dies(rng_int_empty, NULL, msg, sizeof msg) && strstr(msg, "rng_int"), "rng_int(0): %s", msg);
    CHECK(test_dies(stale_mark, NULL, msg, sizeof msg) && strstr(msg, "earlier step"), "stale mark: %s", msg);
}

static void tape_dump_lists_the_graph(void)
{
    mc_tensor *w = mc_new(3, 2);
    w->requires_grad = 1;
    w->name = "fc.weight";
    mc_tensor *loss = mc_mean(mc_tanh(mc_matmul(mc_new(4, 3), w)));
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    mc_tape_dump(f);
    fclose(f);
    CHECK(strstr(text, "matmul") && strstr(text, "'fc.weight' (3,2)") && strstr(text, "constant (4,3)") &&
          strstr(text, "tanh") && strstr(text, "#0 (4,2)") && strstr(text, "mean"), "tape dump:\n%s", text);
    free(text);
    (void)loss;
    mc_step_end();
}

int main(void)
{
    helpers_keep_the_callers_step();
    marks_give_back_exactly_what_came_after();
    two_threads_two_contexts();
    errors_stop_with_a_message();
    tape_dump_lists_the_graph();
    return test_summary("test_context");
}
