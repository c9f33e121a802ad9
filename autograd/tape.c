/* The step arena and the tape. */
#include "autograd/autograd.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena: one block, grown by chaining overflow blocks during a step and merged at the rewind, so
 * after the first steps a training loop allocates nothing ---- */
typedef struct block { struct block *next; size_t cap; } block;

static struct {
    char  *base;
    size_t cap, used, peak;
    block *overflow;        /* blocks taken this step beyond base */
    size_t overflow_used;
} arena;

static void *block_alloc(size_t bytes)
{
    void *p = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    if (!p) mc_fatal("out of memory: the step arena could not grow by %zu MiB", bytes >> 20);
    return p;
}

void *mc_arena_alloc(size_t bytes)
{
    bytes = (bytes + 63) & ~(size_t)63;
    if (arena.used + bytes <= arena.cap) {
        void *p = arena.base + arena.used;
        arena.used += bytes;
        if (arena.used + arena.overflow_used > arena.peak) arena.peak = arena.used + arena.overflow_used;
        return p;
    }
    /* Overflow: a block of its own, remembered so the rewind can free it and grow the base. */
    block *b = block_alloc(sizeof(block) + 64 + bytes);
    b->cap = bytes;
    b->next = arena.overflow;
    arena.overflow = b;
    arena.overflow_used += bytes;
    if (arena.used + arena.overflow_used > arena.peak) arena.peak = arena.used + arena.overflow_used;
    return (char *)b + 64;
}

void *mc_arena_zalloc(size_t bytes)
{
    void *p = mc_arena_alloc(bytes);
    memset(p, 0, bytes);
    return p;
}

static void arena_rewind(void)
{
    if (arena.overflow) {
        size_t need = arena.used + arena.overflow_used;
        while (arena.overflow) { block *n = arena.overflow->next; free(arena.overflow); arena.overflow = n; }
        free(arena.base);
        arena.cap = need + need / 4;
        arena.base = block_alloc(arena.cap);
        arena.overflow_used = 0;
    }
    arena.used = 0;
}

size_t mc_arena_capacity(void) { return arena.cap + arena.overflow_used; }
size_t mc_arena_peak(void) { return arena.peak; }

mc_tensor *mc_tensor_new(int ndim, const int *shape)
{
    if (ndim < 0 || ndim > MC_MAX_DIMS) mc_fatal("tensor: %d dimensions (at most %d)", ndim, MC_MAX_DIMS);
    mc_tensor *t = mc_arena_alloc(sizeof *t);
    memset(t, 0, sizeof *t);
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) mc_fatal("tensor: negative dimension %d", shape[i]);
        t->shape[i] = shape[i];
    }
    t->size = mc_shape_size(ndim, shape);
    t->data = mc_arena_alloc((size_t)t->size * sizeof(float));
    return t;
}

mc_tensor *mc_tensor_zeros(int ndim, const int *shape)
{
    mc_tensor *t = mc_tensor_new(ndim, shape);
    memset(t->data, 0, (size_t)t->size * sizeof(float));
    return t;
}

mc_tensor *mc_tensor_from(int ndim, const int *shape, const float *data)
{
    mc_tensor *t = mc_tensor_new(ndim, shape);
    memcpy(t->data, data, (size_t)t->size * sizeof(float));
    return t;
}

/* ---- tape ---- */
static struct {
    mc_node *nodes;
    int      n, cap;
    int      no_grad;
} tape;

int mc_set_grad_enabled(int enabled)
{
    int prev = !tape.no_grad;
    tape.no_grad = !enabled;
    return prev;
}

int mc_grad_enabled(void) { return !tape.no_grad; }

mc_node *mc_record(const char *op, mc_tensor *out, mc_tensor **in, int nin, mc_backward_fn backward)
{
    int needed = 0;
    for (int k = 0; k < nin; k++) needed |= in[k] && in[k]->requires_grad;
    if (!needed || tape.no_grad) return NULL;
    out->requires_grad = 1;
    if (tape.n == tape.cap) {
        tape.cap = tape.cap ? 2 * tape.cap : 256;
        tape.nodes = mc_realloc(tape.nodes, (size_t)tape.cap * sizeof *tape.nodes);
    }
    mc_node *n = &tape.nodes[tape.n++];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->out = out;
    out->node = tape.n;
    n->nin = nin;
    n->in = mc_arena_alloc((size_t)nin * sizeof *n->in);
    memcpy(n->in, in, (size_t)nin * sizeof *n->in);
    for (int k = 0; k < nin; k++)
        if (in[k] && in[k]->requires_grad) in[k]->pending++;
    n->backward = backward;
    return n;
}

/* ---- gradient buffers: an intermediate's gradient is dead once its entry has run its backward, so
 * the buffer goes to a free list and the next gradient of the same size takes it. A backward through K
 * identical patch decoders then holds one patch's gradients at a time, not K. ---- */
static struct {
    float **bufs;
    size_t *bytes;
    int     n, cap;
} spare;

float *mc_grad(mc_tensor *t)
{
    float beta;
    float *g = mc_grad_whole(t, &beta);
    if (beta == 0) memset(g, 0, (size_t)t->size * sizeof(float));
    return g;
}

float *mc_grad_whole(mc_tensor *t, float *beta)
{
    *beta = t->grad ? 1.0f : 0.0f;
    if (t->grad) return t->grad;
    size_t bytes = (size_t)t->size * sizeof(float);
    for (int k = spare.n - 1; k >= 0; k--)
        if (spare.bytes[k] == bytes) {
            t->grad = spare.bufs[k];
            spare.n--;
            spare.bufs[k] = spare.bufs[spare.n];
            spare.bytes[k] = spare.bytes[spare.n];
            return t->grad;
        }
    return t->grad = mc_arena_alloc(bytes);
}

void mc_grad_release(mc_tensor *t)
{
    if (!t->grad) return;
    if (spare.n == spare.cap) {
        spare.cap = spare.cap ? 2 * spare.cap : 64;
        spare.bufs = mc_realloc(spare.bufs, (size_t)spare.cap * sizeof *spare.bufs);
        spare.bytes = mc_realloc(spare.bytes, (size_t)spare.cap * sizeof *spare.bytes);
    }
    spare.bufs[spare.n] = t->grad;
    spare.bytes[spare.n++] = (size_t)t->size * sizeof(float);
    t->grad = NULL;
}

void mc_backward_each(mc_tensor *loss, mc_grad_ready_fn ready, void *ctx)
{
    if (loss->size != 1) {
        char s[64];
        mc_fatal("backward: the loss must have one element, got shape %s", mc_shape_str(loss, s, sizeof s));
    }
    if (!loss->requires_grad) return;     /* nothing trainable reached the loss */
    mc_grad(loss)[0] += 1.0f;
    for (int k = tape.n - 1; k >= 0; k--) {
        mc_node *n = &tape.nodes[k];
        if (n->out->grad) n->backward(n);   /* an output no gradient reached has nothing to pass on */
        mc_grad_release(n->out);            /* nothing reads it again */
        for (int i = 0; i < n->nin; i++) {
            mc_tensor *x = n->in[i];
            if (x && x->requires_grad && --x->pending == 0 && !x->node && ready) ready(x, ctx);
        }
    }
}

void mc_backward(mc_tensor *loss) { mc_backward_each(loss, NULL, NULL); }

void mc_step_end(void)
{
    for (int k = 0; k < tape.n; k++)        /* parameters outlive the step: clear their counts */
        for (int i = 0; i < tape.nodes[k].nin; i++)
            if (tape.nodes[k].in[i]) tape.nodes[k].in[i]->pending = 0;
    tape.n = 0;
    spare.n = 0;
    arena_rewind();
}

int mc_tape_length(void) { return tape.n; }

static mc_rng global_rng = {{0x9e3779b97f4a7c15ULL, 0xbf58476d1ce4e5b9ULL, 0x94d049bb133111ebULL, 1}};
void mc_seed(uint64_t seed) { mc_rng_seed(&global_rng, seed); }
mc_rng *mc_global_rng(void) { return &global_rng; }

void mc_check_shape(const char *op, const mc_tensor *a, const mc_tensor *b, int ok, const char *what)
{
    if (ok) return;
    char sa[64], sb[64];
    mc_fatal("%s: %s: input %s does not match %s", op, what, mc_shape_str(a, sa, sizeof sa),
             b ? mc_shape_str(b, sb, sizeof sb) : "()");
}
