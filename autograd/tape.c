/* Contexts: the step arena, the tape, the spare gradient buffers and the modes. */
#include "autograd/autograd.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The arena is one block, grown by chaining overflow blocks during a step and merged at the step's
 * end, so after the first steps a training loop allocates nothing. */
typedef struct block { struct block *next; size_t cap; } block;

struct mc_ctx {
    struct {
        char  *base;
        size_t cap, used, peak;
        block *overflow;        /* blocks taken this step beyond base, newest first */
        size_t overflow_used;
    } arena;
    struct { mc_node *nodes; int n, cap; } tape;
    /* An intermediate's gradient is dead once its entry has run its backward, so the buffer goes to a
     * free list and the next gradient of the same size takes it: a backward through K identical patch
     * decoders holds one patch's gradients at a time, not K. */
    struct { float **bufs; size_t *bytes; int n, cap; } spare;
    mc_dist  dist;                                   /* size 0 or 1: one process */
    int      grad_enabled, training, check_finite;   /* check_finite -1: not read from the environment yet */
    unsigned step;                                   /* steps ended: marks of an earlier step are stale */
};

#define CTX_DEFAULTS {.grad_enabled = 1, .training = 1, .check_finite = -1}
static mc_ctx default_ctx = CTX_DEFAULTS;
static _Thread_local mc_ctx *current;

static mc_ctx *ctx(void)
{
    mc_ctx *c = current ? current : &default_ctx;
    if (c->check_finite < 0) {
        const char *env = getenv("MACHE_CHECK_FINITE");
        c->check_finite = env && *env && strcmp(env, "0") != 0;
    }
    return c;
}

mc_ctx *mc_ctx_new(void)
{
    mc_ctx *c = mc_calloc(1, sizeof *c);
    *c = (mc_ctx)CTX_DEFAULTS;
    return c;
}

mc_ctx *mc_ctx_use(mc_ctx *c)
{
    mc_ctx *prev = current;
    current = c;
    return prev;
}

mc_ctx *mc_ctx_current(void) { return ctx(); }

static void free_overflow(mc_ctx *c, const block *keep)
{
    while (c->arena.overflow != keep) {
        block *next = c->arena.overflow->next;
        c->arena.overflow_used -= c->arena.overflow->cap;
        free(c->arena.overflow);
        c->arena.overflow = next;
    }
}

void mc_ctx_free(mc_ctx *c)
{
    if (!c || c == &default_ctx) return;
    if (current == c) current = NULL;
    free_overflow(c, NULL);
    free(c->arena.base);
    free(c->tape.nodes);
    free(c->spare.bufs);
    free(c->spare.bytes);
    free(c);
}

/* ---- arena ---- */
static void *block_alloc(size_t bytes)
{
    void *p = bytes >= ((size_t)4 << 20) ? mc_alloc_large(bytes) : aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    if (!p) mc_fatal("out of memory: the step arena could not grow by %zu MiB", bytes >> 20);
    return p;
}

void *mc_arena_alloc(size_t bytes)
{
    mc_ctx *c = ctx();
    bytes = (bytes + 63) & ~(size_t)63;
    void *p;
    if (c->arena.used + bytes <= c->arena.cap) {
        p = c->arena.base + c->arena.used;
        c->arena.used += bytes;
    } else {    /* overflow: a block of its own, remembered so the step's end can free it and grow the base */
        block *b = block_alloc(sizeof(block) + 64 + bytes);
        b->cap = bytes;
        b->next = c->arena.overflow;
        c->arena.overflow = b;
        c->arena.overflow_used += bytes;
        p = (char *)b + 64;
    }
    if (c->arena.used + c->arena.overflow_used > c->arena.peak) c->arena.peak = c->arena.used + c->arena.overflow_used;
    return p;
}

void *mc_arena_zalloc(size_t bytes)
{
    void *p = mc_arena_alloc(bytes);
    memset(p, 0, bytes);
    return p;
}

size_t mc_arena_capacity(void) { mc_ctx *c = ctx(); return c->arena.cap + c->arena.overflow_used; }
size_t mc_arena_peak(void) { return ctx()->arena.peak; }

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

/* Drops tape entries from index `from` on, giving back the pending counts they put on their inputs. */
static void tape_truncate(mc_ctx *c, int from)
{
    for (int k = from; k < c->tape.n; k++)
        for (int i = 0; i < c->tape.nodes[k].nin; i++) {
            mc_tensor *x = c->tape.nodes[k].in[i];
            if (x && x->requires_grad && x->pending > 0) x->pending--;
        }
    c->tape.n = from;
}

void mc_step_end(void)
{
    mc_ctx *c = ctx();
    for (int k = 0; k < c->tape.n; k++)        /* parameters outlive the step: clear their counts */
        for (int i = 0; i < c->tape.nodes[k].nin; i++)
            if (c->tape.nodes[k].in[i]) c->tape.nodes[k].in[i]->pending = 0;
    c->tape.n = 0;
    c->spare.n = 0;
    if (c->arena.overflow) {
        size_t need = c->arena.used + c->arena.overflow_used;
        free_overflow(c, NULL);
        free(c->arena.base);
        c->arena.cap = need + need / 4;
        c->arena.base = block_alloc(c->arena.cap);
    }
    c->arena.used = 0;
    c->step++;
}

mc_mark mc_step_mark(void)
{
    mc_ctx *c = ctx();
    return (mc_mark){.used = c->arena.used, .overflow_used = c->arena.overflow_used, .overflow = c->arena.overflow,
                     .tape_n = c->tape.n, .step = c->step};
}

void mc_step_rewind(mc_mark mark)
{
    mc_ctx *c = ctx();
    if (mark.used == 0 && mark.tape_n == 0 && !mark.overflow) { mc_step_end(); return; }   /* the step's start */
    if (mark.step != c->step || mark.tape_n > c->tape.n || mark.used > c->arena.used)
        mc_fatal("step_rewind: the mark is from an earlier step, or from another context");
    tape_truncate(c, mark.tape_n);
    free_overflow(c, mark.overflow);
    c->arena.used = mark.used;
    /* A spare gradient buffer may lie past the mark; the ones before it are only lost until the step ends. */
    c->spare.n = 0;
}

/* ---- modes ---- */
int mc_set_grad_enabled(int enabled) { mc_ctx *c = ctx(); int prev = c->grad_enabled; c->grad_enabled = !!enabled; return prev; }
int mc_grad_enabled(void) { return ctx()->grad_enabled; }
int mc_set_training(int training) { mc_ctx *c = ctx(); int prev = c->training; c->training = !!training; return prev; }
int mc_training(void) { return ctx()->training; }
int mc_set_check_finite(int on) { mc_ctx *c = ctx(); int prev = c->check_finite; c->check_finite = !!on; return prev; }

/* ---- data parallelism ---- */
void mc_ctx_set_dist(mc_ctx *c, const mc_dist *dist) { c->dist = dist ? *dist : (mc_dist){0}; }

const mc_dist *mc_dist_current(void) { mc_ctx *c = ctx(); return c->dist.size > 1 ? &c->dist : NULL; }

void mc_dist_sum(double *x, int n)
{
    const mc_dist *d = mc_dist_current();
    if (d) d->sum(x, n, d->user);
}

/* ---- finite checks ---- */
static int64_t first_non_finite(const float *x, int64_t n)
{
    for (int64_t k = 0; k < n; k++)
        if (!isfinite(x[k])) return k;
    return -1;
}

static const char *describe(const mc_tensor *t, char *buf, size_t n)
{
    char s[64];
    mc_shape_str(t, s, sizeof s);
    if (t->name) snprintf(buf, n, "'%s' %s", t->name, s);
    else if (t->node) snprintf(buf, n, "#%d %s", t->node - 1, s);
    else snprintf(buf, n, "%s %s", t->requires_grad ? "leaf" : "constant", s);
    return buf;
}

/* where: NULL for an op's output, "backward" for a gradient its backward wrote. */
_Noreturn static void non_finite(const char *where, const char *op, const mc_tensor *t, int64_t k, float v,
                                 mc_tensor **in, int nin)
{
    char shapes[512] = "", one[128];
    for (int i = 0; i < nin; i++)
        if (in[i]) {
            size_t len = strlen(shapes);
            snprintf(shapes + len, sizeof shapes - len, "%s%s", len ? ", " : "", describe(in[i], one, sizeof one));
        }
    char s[64];
    if (where) mc_fatal("check_finite: the backward of op '%s' made %s at element %lld of the gradient of %s; inputs: %s",
                        op, isnan(v) ? "NaN" : "inf", (long long)k, describe(t, one, sizeof one), shapes);
    mc_fatal("check_finite: op '%s' made %s at element %lld of its output %s; inputs: %s", op, isnan(v) ? "NaN" : "inf",
             (long long)k, mc_shape_str(t, s, sizeof s), shapes);
}

/* ---- tape ---- */
mc_node *mc_record(const char *op, mc_tensor *out, mc_tensor **in, int nin, mc_backward_fn backward)
{
    mc_ctx *c = ctx();
    if (c->check_finite) {
        int64_t k = first_non_finite(out->data, out->size);
        if (k >= 0) non_finite(NULL, op, out, k, out->data[k], in, nin);
    }
    int needed = 0;
    for (int k = 0; k < nin; k++) needed |= in[k] && in[k]->requires_grad;
    if (!needed || !c->grad_enabled) return NULL;
    out->requires_grad = 1;
    if (c->tape.n == c->tape.cap) {
        c->tape.cap = c->tape.cap ? 2 * c->tape.cap : 256;
        c->tape.nodes = mc_realloc(c->tape.nodes, (size_t)c->tape.cap * sizeof *c->tape.nodes);
    }
    mc_node *n = &c->tape.nodes[c->tape.n++];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->out = out;
    out->node = c->tape.n;
    n->nin = nin;
    n->in = mc_arena_alloc((size_t)nin * sizeof *n->in);
    memcpy(n->in, in, (size_t)nin * sizeof *n->in);
    for (int k = 0; k < nin; k++)
        if (in[k] && in[k]->requires_grad) in[k]->pending++;
    n->backward = backward;
    return n;
}

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
    mc_ctx *c = ctx();
    size_t bytes = (size_t)t->size * sizeof(float);
    for (int k = c->spare.n - 1; k >= 0; k--)
        if (c->spare.bytes[k] == bytes) {
            t->grad = c->spare.bufs[k];
            c->spare.n--;
            c->spare.bufs[k] = c->spare.bufs[c->spare.n];
            c->spare.bytes[k] = c->spare.bytes[c->spare.n];
            return t->grad;
        }
    return t->grad = mc_arena_alloc(bytes);
}

void mc_grad_release(mc_tensor *t)
{
    if (!t->grad) return;
    mc_ctx *c = ctx();
    if (c->spare.n == c->spare.cap) {
        c->spare.cap = c->spare.cap ? 2 * c->spare.cap : 64;
        c->spare.bufs = mc_realloc(c->spare.bufs, (size_t)c->spare.cap * sizeof *c->spare.bufs);
        c->spare.bytes = mc_realloc(c->spare.bytes, (size_t)c->spare.cap * sizeof *c->spare.bytes);
    }
    c->spare.bufs[c->spare.n] = t->grad;
    c->spare.bytes[c->spare.n++] = (size_t)t->size * sizeof(float);
    t->grad = NULL;
}

void mc_backward_each(mc_tensor *loss, mc_grad_ready_fn ready, void *ready_ctx)
{
    if (loss->size != 1) {
        char s[64];
        mc_fatal("backward: the loss must have one element, got shape %s", mc_shape_str(loss, s, sizeof s));
    }
    if (!loss->requires_grad) return;     /* nothing trainable reached the loss */
    mc_ctx *c = ctx();
    mc_grad(loss)[0] += 1.0f;
    for (int k = c->tape.n - 1; k >= 0; k--) {
        mc_node *n = &c->tape.nodes[k];
        if (n->out->grad) n->backward(n);   /* an output no gradient reached has nothing to pass on */
        mc_grad_release(n->out);            /* nothing reads it again */
        for (int i = 0; i < n->nin; i++) {
            mc_tensor *x = n->in[i];
            if (!x || !x->requires_grad) continue;
            if (c->check_finite && x->grad) {
                int64_t e = first_non_finite(x->grad, x->size);
                if (e >= 0) non_finite("backward", n->op, x, e, x->grad[e], n->in, n->nin);
            }
            if (--x->pending == 0 && !x->node && ready) ready(x, ready_ctx);
        }
    }
}

void mc_backward(mc_tensor *loss) { mc_backward_each(loss, NULL, NULL); }

int mc_tape_length(void) { return ctx()->tape.n; }

void mc_tape_dump(FILE *f)
{
    mc_ctx *c = ctx();
    char one[128];
    for (int k = 0; k < c->tape.n; k++) {
        const mc_node *n = &c->tape.nodes[k];
        char s[64];
        fprintf(f, "#%-4d %-14s %-16s <-", k, n->op, mc_shape_str(n->out, s, sizeof s));
        for (int i = 0; i < n->nin; i++) fprintf(f, " %s", n->in[i] ? describe(n->in[i], one, sizeof one) : "-");
        fputc('\n', f);
    }
}

void mc_check_shape(const char *op, const mc_tensor *a, const mc_tensor *b, int ok, const char *what)
{
    if (ok) return;
    char sa[64], sb[64];
    mc_fatal("%s: %s: input %s does not match %s", op, what, mc_shape_str(a, sa, sizeof sa),
             b ? mc_shape_str(b, sb, sizeof sb) : "()");
}
