/* The tape and the step memory. Every op appends one entry (its output, its inputs, its backward
 * function) in creation order, and backward is one reverse loop over it. Everything a step creates comes
 * from the step arena, which mc_step_end() rewinds after the optimizer step, so memory stays flat.
 *
 * The arena, the tape and the modes (grad, training, finite checks) live in a context, mc_ctx, in the
 * spirit of ggml's. Each thread builds graphs in its current context: the default one (one thread at a
 * time) unless it has called mc_ctx_use. Two threads with a context each train two models at once. */
#ifndef MACHE_AUTOGRAD_H
#define MACHE_AUTOGRAD_H
#include "tensor/tensor.h"
#include <stdio.h>

typedef struct mc_node mc_node;
typedef void (*mc_backward_fn)(mc_node *n);

struct mc_node {
    const char  *op;
    mc_tensor   *out;
    mc_tensor  **in;        /* nin inputs, in the arena */
    int          nin;
    mc_backward_fn backward;
    void        *saved;     /* the op's own typed state (its arguments, argmax, batch statistics), in the arena */
};

/* ---- contexts ---- */
typedef struct mc_ctx mc_ctx;
/* A new context: empty arena and tape, grad on, training mode, finite checks as MACHE_CHECK_FINITE says. */
mc_ctx *mc_ctx_new(void);
void    mc_ctx_free(mc_ctx *ctx);          /* frees its arena and tape; not the default context */
/* Makes ctx the calling thread's current context (NULL: the default one) and returns the previous one. */
mc_ctx *mc_ctx_use(mc_ctx *ctx);
mc_ctx *mc_ctx_current(void);

/* ---- step memory (of the current context) ---- */
void  *mc_arena_alloc(size_t bytes);          /* 64-byte aligned, uninitialised, valid until mc_step_end */
void  *mc_arena_zalloc(size_t bytes);
size_t mc_arena_capacity(void);               /* bytes the arena holds now: flat once warmed up */
size_t mc_arena_peak(void);                   /* most bytes one step has used */

/* A new step tensor: the struct and its data in the arena, data uninitialised (zeroed for _zeros). */
mc_tensor *mc_tensor_new(int ndim, const int *shape);
mc_tensor *mc_tensor_zeros(int ndim, const int *shape);
mc_tensor *mc_tensor_from(int ndim, const int *shape, const float *data);   /* copies data */
/* mc_new(B, N, 3): a step tensor of that shape. */
#define mc_new(...) mc_tensor_new(MC_SHAPE(__VA_ARGS__))

/* Ends a step: clears the tape and rewinds the arena. Parameter tensors (heap) are untouched. Only the
 * owner of the step calls it (a training loop); library functions never do. */
void mc_step_end(void);
/* A mark, and the rewind to it: frees every tensor and tape entry made after the mark and nothing made
 * before, so a helper that needs scratch step memory takes a mark first and rewinds before it returns.
 * A mark is valid until the step ends (mc_step_end); rewinding to a stale mark stops with a message.
 * Rewind before a backward, not after: a gradient made after the mark is freed too, even one that
 * belongs to an earlier tensor. A mark taken when nothing was held (the start of a step) stays valid
 * across steps, and rewinding to it is mc_step_end. */
typedef struct mc_mark { size_t used, overflow_used; void *overflow; int tape_n; unsigned step; } mc_mark;
mc_mark mc_step_mark(void);
void    mc_step_rewind(mc_mark mark);

/* ---- the tape ---- */
/* Record an op's entry if any input needs a gradient and grad mode is on; marks out->requires_grad.
 * Returns the entry (for the op to set saved) or NULL when nothing is recorded. With finite checks on,
 * it first stops at an output holding a NaN or an inf, naming the op and its shapes. */
mc_node *mc_record(const char *op, mc_tensor *out, mc_tensor **in, int nin, mc_backward_fn backward);
/* The gradient buffer of t, zeroed on first use: from the step arena (a spare one of the same size if
 * there is one). mc_grad_release gives such a buffer back for reuse within the step (t->grad is NULL
 * after); a parameter's own heap gradient must not be released. */
float   *mc_grad(mc_tensor *t);
void     mc_grad_release(mc_tensor *t);
/* For a backward that writes a whole gradient at once (a matrix multiply's beta): the buffer, and in
 * *beta 1 if it holds a gradient to add to, or 0 if it is new: then it is not zeroed, and the caller
 * overwrites every element (saves a memset and a read of the buffer). */
float   *mc_grad_whole(mc_tensor *t, float *beta);
/* Seeds d(loss)/d(loss) = 1 (loss must have one element) and runs the tape backwards. The gradients of
 * intermediate results are released as soon as their entry has run (as in PyTorch, only leaves keep
 * theirs), so the backward holds few of them at once. */
void     mc_backward(mc_tensor *loss);
/* The same, and each leaf (a parameter, or an input marked requires_grad) is handed to ready the moment
 * its gradient is complete: after the backward of the first tape entry that read it. An optimizer can
 * update that parameter there and release its gradient (see mc_adam_backward). */
typedef void (*mc_grad_ready_fn)(mc_tensor *leaf, void *ctx);
void     mc_backward_each(mc_tensor *loss, mc_grad_ready_fn ready, void *ctx);
int      mc_tape_length(void);
/* One line per tape entry: index, op, output shape, and each input (an earlier entry, a named leaf or a
 * constant) with its shape: what to look at when a graph is not the one you meant. */
void     mc_tape_dump(FILE *f);

/* ---- modes (of the current context); each setter returns the previous setting ---- */
int  mc_set_grad_enabled(int enabled);        /* 0: no-grad mode for inference, ops record nothing */
int  mc_grad_enabled(void);
int  mc_set_training(int training);           /* 1: training (BatchNorm batch statistics), 0: eval */
int  mc_training(void);
/* 1: every op's output and every gradient is checked, and the first NaN or inf stops the program with
 * the op's name and shapes (slow: for debugging). Default: the environment's MACHE_CHECK_FINITE=1. */
int  mc_set_check_finite(int on);

/* ---- data parallelism (of the current context): hooks, so the library itself makes no MPI call ----
 * With a dist set, this process is rank `rank` of `size` training one model on disjoint slices of each
 * batch: BatchNorm sums its batch statistics over the ranks (so the ranks normalise with the statistics
 * of the whole batch), mc_adam_backward sums the gradients, and models/train.c splits batches and
 * evaluation. Every rank must run the same graph, so that the sums are called in the same order. */
typedef struct mc_dist {
    int   rank, size;
    void (*sum)(double *x, int n, void *user);            /* x summed over the ranks, in place, when it returns */
    void (*sum_start)(float *x, int64_t n, void *user);   /* starts summing x in place; x is not read or written ... */
    void (*sum_wait)(void *user);                         /* ... until this returns: every started sum is then done */
    void (*broadcast)(float *x, int64_t n, void *user);   /* rank 0's x copied into every rank's x */
    void *user;
} mc_dist;
/* Copies *dist into ctx; NULL (the default): one process. */
void mc_ctx_set_dist(mc_ctx *ctx, const mc_dist *dist);
/* The current context's dist, or NULL for one process (or a dist of size 1). */
const mc_dist *mc_dist_current(void);
/* x summed over the ranks in place (nothing for one process). */
void mc_dist_sum(double *x, int n);

/* Shape checks that stop with the op's name and both shapes. */
void mc_check_shape(const char *op, const mc_tensor *a, const mc_tensor *b, int ok, const char *what);

#endif
