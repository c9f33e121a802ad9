#include "nn/nn.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mc_tensor *mc_param_new(mc_params *ps, const char *name, int ndim, const int *shape, int trainable)
{
    if (strlen(name) >= sizeof ps->items[0]->name) mc_fatal("param: name '%s' is too long", name);
    if (mc_param_find(ps, name)) mc_fatal("param: '%s' is registered twice", name);
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 32;
        ps->items = mc_realloc(ps->items, (size_t)ps->cap * sizeof *ps->items);
    }
    mc_param *p = mc_calloc(1, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->t.ndim = ndim;
    memcpy(p->t.shape, shape, (size_t)ndim * sizeof *shape);
    p->t.size = mc_shape_size(ndim, shape);
    p->t.data = mc_calloc_large((size_t)p->t.size, sizeof(float));
    if (trainable) p->t.grad = mc_calloc((size_t)p->t.size, sizeof(float));
    p->t.requires_grad = trainable;
    p->t.name = p->name;
    p->trainable = trainable;
    ps->items[ps->n++] = p;
    return &p->t;
}

mc_param *mc_param_find(const mc_params *ps, const char *name)
{
    for (int k = 0; k < ps->n; k++)
        if (!strcmp(ps->items[k]->name, name)) return ps->items[k];
    return NULL;
}

void mc_params_free(mc_params *ps)
{
    for (int k = 0; k < ps->n; k++) {
        mc_param *p = ps->items[k];
        free(p->t.data); free(p->t.grad); free(p->m); free(p->v); free(p);
    }
    free(ps->items);
    memset(ps, 0, sizeof *ps);
}

int64_t mc_params_count(const mc_params *ps, int trainable_only)
{
    int64_t n = 0;
    for (int k = 0; k < ps->n; k++)
        if (!trainable_only || ps->items[k]->trainable) n += ps->items[k]->t.size;
    return n;
}

void mc_params_zero_grad(mc_params *ps)
{
    for (int k = 0; k < ps->n; k++)
        if (ps->items[k]->t.grad) memset(ps->items[k]->t.grad, 0, (size_t)ps->items[k]->t.size * sizeof(float));
}

void mc_params_broadcast(mc_params *ps)
{
    const mc_dist *d = mc_dist_current();
    if (!d) return;
    double *steps = mc_calloc((size_t)ps->n + 1, sizeof *steps);
    for (int k = 0; k < ps->n; k++)      /* who has moments, and the step counts: rank 0's (the others add 0) */
        if (d->rank == 0) steps[k] = ps->items[k]->m ? (double)ps->items[k]->step + 1 : 0;
    mc_dist_sum(steps, ps->n);
    for (int k = 0; k < ps->n; k++) {
        mc_param *p = ps->items[k];
        d->broadcast(p->t.data, p->t.size, d->user);
        if (steps[k] == 0) { free(p->m); free(p->v); p->m = p->v = NULL; p->step = 0; continue; }
        if (!p->m) { p->m = mc_calloc_large((size_t)p->t.size, sizeof(float)); p->v = mc_calloc_large((size_t)p->t.size, sizeof(float)); }
        d->broadcast(p->m, p->t.size, d->user);
        d->broadcast(p->v, p->t.size, d->user);
        p->step = (int64_t)steps[k] - 1;
    }
    free(steps);
}

int mc_params_freeze(mc_params *ps, const char *prefix, int frozen)
{
    int count = 0;
    for (int k = 0; k < ps->n; k++) {
        mc_param *p = ps->items[k];
        if (!p->trainable || strncmp(p->name, prefix, strlen(prefix))) continue;
        p->frozen = frozen;
        p->t.requires_grad = !frozen;   /* the tape then records nothing that only feeds frozen weights */
        count++;
    }
    return count;
}

/* ---- layers ---- */
static void param_name(char *buf, size_t n, const char *layer, const char *field)
{
    if ((size_t)snprintf(buf, n, "%s.%s", layer, field) >= n) mc_fatal("param: name '%s.%s' is too long", layer, field);
}

void mc_linear_init(mc_linear_layer *l, mc_params *ps, const char *name, int in, int out, int bias, mc_rng *rng)
{
    char buf[128];
    float bound = 1.0f / sqrtf((float)in);
    param_name(buf, sizeof buf, name, "weight");
    l->weight = mc_param_new(ps, buf, 2, (int[]){out, in}, 1);
    mc_rng_fill_uniform(rng, l->weight->data, l->weight->size, -bound, bound);
    l->bias = NULL;
    if (bias) {
        param_name(buf, sizeof buf, name, "bias");
        l->bias = mc_param_new(ps, buf, 1, (int[]){out}, 1);
        mc_rng_fill_uniform(rng, l->bias->data, out, -bound, bound);
    }
}

void mc_batchnorm_init(mc_batchnorm_layer *bn, mc_params *ps, const char *name, int channels)
{
    char buf[128];
    param_name(buf, sizeof buf, name, "weight");
    bn->weight = mc_param_new(ps, buf, 1, &channels, 1);
    param_name(buf, sizeof buf, name, "bias");
    bn->bias = mc_param_new(ps, buf, 1, &channels, 1);
    param_name(buf, sizeof buf, name, "running_mean");
    bn->running_mean = mc_param_new(ps, buf, 1, &channels, 0);
    param_name(buf, sizeof buf, name, "running_var");
    bn->running_var = mc_param_new(ps, buf, 1, &channels, 0);
    for (int c = 0; c < channels; c++) { bn->weight->data[c] = 1; bn->running_var->data[c] = 1; }
    bn->momentum = 0.1f;
    bn->eps = 1e-5f;
}

/* ---- optimizers ---- */
static int updatable(const mc_param *p) { return p->trainable && !p->frozen && p->t.grad; }

mc_adam mc_adam_default(float lr) { return (mc_adam){lr, 0.9f, 0.999f, 1e-8f, 0}; }

/* One parameter's update, torch.optim.Adam (1.13, single-tensor path) in the same order of operations.
 * g NULL is a zero gradient. */
static void adam_update(const mc_adam *opt, mc_param *p, const float *restrict g)
{
    int64_t n = p->t.size;
    if (!p->m) { p->m = mc_calloc_large((size_t)n, sizeof(float)); p->v = mc_calloc_large((size_t)n, sizeof(float)); }
    p->step++;
    const float b1 = opt->beta1, b2 = opt->beta2, eps = opt->eps, wd = opt->weight_decay;
    const float bc1 = 1 - powf(b1, (float)p->step), bc2 = 1 - powf(b2, (float)p->step);
    const float step_size = opt->lr / bc1, bc2_sqrt = sqrtf(bc2);
    float *restrict w = p->t.data, *restrict m = p->m, *restrict v = p->v;
    #pragma omp parallel for simd if (n > 65536)
    for (int64_t i = 0; i < n; i++) {       /* one pass: vectorised (sqrt and divide are exact in SIMD too) */
        float gi = (g ? g[i] : 0) + wd * w[i];
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        w[i] -= step_size * m[i] / (sqrtf(v[i]) / bc2_sqrt + eps);
    }
}

void mc_adam_step(const mc_adam *opt, mc_params *ps)
{
    for (int k = 0; k < ps->n; k++)
        if (updatable(ps->items[k])) adam_update(opt, ps->items[k], ps->items[k]->t.grad);
}

typedef struct adam_pass {
    const mc_adam *opt;
    mc_params *ps;
    unsigned char *done;    /* per parameter: updated in this backward */
    int cursor;             /* where the last ready parameter was found */
} adam_pass;

/* A leaf's gradient is complete: if it is one of the parameters, update it and give the buffer back. */
static void adam_ready(mc_tensor *leaf, void *ctx)
{
    adam_pass *a = ctx;
    int n = a->ps->n;
    for (int step = 0; step < n; step++) {     /* parameters come ready about in reverse creation order */
        int k = ((a->cursor - step) % n + n) % n;
        mc_param *p = a->ps->items[k];
        if (&p->t != leaf) continue;
        a->cursor = k;
        if (!p->trainable || p->frozen) return;
        adam_update(a->opt, p, leaf->grad);
        a->done[k] = 1;
        mc_grad_release(leaf);
        return;
    }
}

/* Data parallel: the gradients are summed over the ranks before any update. They are packed into one
 * flat buffer in the order they come ready (about reverse creation order), cut into buckets, and each
 * bucket's sum is started the moment its last gradient is complete, so it travels while the backward
 * computes the rest (llm.c and PyTorch's DDP do the same). Every rank runs the same graph, so buckets
 * complete, and their sums start, in the same order everywhere. */
enum { BUCKET_FLOATS = 1 << 20 };       /* 4 MiB: big enough to use the network well, small enough to overlap */

typedef struct sync_pass {
    mc_params *ps;
    const mc_dist *dist;
    float *flat;            /* every trainable gradient, at offset[k] */
    int64_t *offset;        /* per parameter; -1 for one that is not updated */
    int *bucket;            /* per parameter: its bucket */
    int *left;              /* per bucket: gradients not yet packed */
    int64_t *start, *end;   /* per bucket: its range of flat */
    int nbuckets, started, cursor;
    unsigned char *packed;  /* per parameter */
} sync_pass;

/* Starts the sums of the complete buckets, in bucket order. */
static void start_buckets(sync_pass *s, int all)
{
    while (s->started < s->nbuckets && (all || s->left[s->started] == 0)) {
        int b = s->started++;
        s->dist->sum_start(s->flat + s->start[b], s->end[b] - s->start[b], s->dist->user);
    }
}

static void sync_ready(mc_tensor *leaf, void *ctx)
{
    sync_pass *s = ctx;
    int n = s->ps->n;
    for (int step = 0; step < n; step++) {
        int k = ((s->cursor - step) % n + n) % n;
        if (&s->ps->items[k]->t != leaf) continue;
        s->cursor = k;
        if (s->offset[k] < 0) return;
        memcpy(s->flat + s->offset[k], leaf->grad, (size_t)leaf->size * sizeof(float));
        mc_grad_release(leaf);
        s->packed[k] = 1;
        s->left[s->bucket[k]]--;
        start_buckets(s, 0);
        return;
    }
}

static void adam_backward_sync(const mc_adam *opt, mc_params *ps, mc_tensor *loss, const mc_dist *dist)
{
    int n = ps->n;
    sync_pass s = {.ps = ps, .dist = dist, .cursor = n - 1};
    s.offset = mc_arena_alloc((size_t)n * sizeof *s.offset);
    s.bucket = mc_arena_alloc((size_t)n * sizeof *s.bucket);
    s.packed = mc_arena_zalloc((size_t)n);
    s.left = mc_arena_zalloc((size_t)n * sizeof *s.left);
    s.start = mc_arena_alloc((size_t)n * sizeof *s.start);
    s.end = mc_arena_alloc((size_t)n * sizeof *s.end);
    int64_t total = 0;
    for (int k = n - 1; k >= 0; k--) {          /* reverse creation order: the order gradients come ready */
        mc_param *p = ps->items[k];
        s.offset[k] = -1;
        if (!p->trainable || p->frozen) continue;
        if (s.nbuckets == 0 || total - s.start[s.nbuckets - 1] >= BUCKET_FLOATS) {
            s.start[s.nbuckets] = total;
            s.nbuckets++;
        }
        s.offset[k] = total;
        s.bucket[k] = s.nbuckets - 1;
        s.left[s.nbuckets - 1]++;
        total += p->t.size;
        s.end[s.nbuckets - 1] = total;
    }
    s.flat = mc_arena_alloc((size_t)total * sizeof(float));
    float **kept = mc_arena_alloc((size_t)n * sizeof *kept);
    for (int k = 0; k < n; k++) { kept[k] = ps->items[k]->t.grad; ps->items[k]->t.grad = NULL; }
    mc_backward_each(loss, sync_ready, &s);
    for (int k = 0; k < n; k++)                 /* no gradient reached it: a zero one, as zero_grad + step */
        if (s.offset[k] >= 0 && !s.packed[k])
            memset(s.flat + s.offset[k], 0, (size_t)ps->items[k]->t.size * sizeof(float));
    start_buckets(&s, 1);
    dist->sum_wait(dist->user);
    for (int k = 0; k < n; k++) {
        if (s.offset[k] >= 0) adam_update(opt, ps->items[k], s.flat + s.offset[k]);
        ps->items[k]->t.grad = kept[k];
    }
}

void mc_adam_backward(const mc_adam *opt, mc_params *ps, mc_tensor *loss)
{
    const mc_dist *dist = mc_dist_current();
    if (dist) { adam_backward_sync(opt, ps, loss, dist); return; }
    float **kept = mc_arena_alloc((size_t)ps->n * sizeof *kept);
    adam_pass a = {opt, ps, mc_arena_zalloc((size_t)ps->n), ps->n - 1};
    for (int k = 0; k < ps->n; k++) {           /* gradients come from the step arena, one at a time */
        kept[k] = ps->items[k]->t.grad;
        ps->items[k]->t.grad = NULL;
    }
    mc_backward_each(loss, adam_ready, &a);
    for (int k = 0; k < ps->n; k++) {
        mc_param *p = ps->items[k];
        if (p->trainable && !p->frozen && !a.done[k]) adam_update(opt, p, NULL);   /* as zero_grad + step */
        p->t.grad = kept[k];
    }
}

void mc_sgd_step(const mc_sgd *opt, mc_params *ps)
{
    for (int k = 0; k < ps->n; k++) {
        mc_param *p = ps->items[k];
        if (!updatable(p)) continue;
        int64_t n = p->t.size;
        float *w = p->t.data, *g = p->t.grad;
        if (opt->momentum != 0 && !p->m) p->m = mc_calloc_large((size_t)n, sizeof(float));
        for (int64_t i = 0; i < n; i++) {
            float gi = g[i] + opt->weight_decay * w[i];
            if (opt->momentum != 0) {
                p->m[i] = p->step == 0 ? gi : opt->momentum * p->m[i] + gi;   /* torch: first buffer = grad */
                gi = p->m[i];
            }
            w[i] -= opt->lr * gi;
        }
        p->step++;
    }
}

float mc_step_lr(float base, int epoch, const int *milestones, int n, float gamma)
{
    float lr = base;
    for (int k = 0; k < n; k++)
        if (epoch >= milestones[k]) lr *= gamma;
    return lr;
}
