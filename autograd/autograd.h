/* The tape: every op appends one entry (its output, its inputs, its backward function) in creation
 * order, and backward is one reverse loop over it. Everything a step creates comes from the step arena,
 * which mc_step_end() rewinds after the optimizer step, so memory stays flat over a long run. */
#ifndef MACHE_AUTOGRAD_H
#define MACHE_AUTOGRAD_H
#include "tensor/tensor.h"

typedef struct mc_node mc_node;
typedef void (*mc_backward_fn)(mc_node *n);

struct mc_node {
    const char  *op;
    mc_tensor   *out;
    mc_tensor  **in;        /* nin inputs, in the arena */
    int          nin;
    mc_backward_fn backward;
    float        f[4];      /* scalar arguments the backward needs */
    int          i[4];
    void        *saved;     /* buffers saved by the forward (argmax, batch statistics), in the arena */
};

/* ---- step memory ---- */
void  *mc_arena_alloc(size_t bytes);          /* 64-byte aligned, uninitialised, valid until mc_step_end */
void  *mc_arena_zalloc(size_t bytes);
size_t mc_arena_capacity(void);               /* bytes the arena holds now: flat once warmed up */
size_t mc_arena_peak(void);                   /* most bytes one step has used */

/* A new step tensor: the struct and its data in the arena, data uninitialised (zeroed for _zeros). */
mc_tensor *mc_tensor_new(int ndim, const int *shape);
mc_tensor *mc_tensor_zeros(int ndim, const int *shape);
mc_tensor *mc_tensor_from(int ndim, const int *shape, const float *data);   /* copies data */
/* mc_new(B, N, 3): a step tensor of that shape. */
#define mc_new(...) mc_tensor_new((int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), (int[]){__VA_ARGS__})

/* ---- the tape ---- */
/* Record an op's entry if any input needs a gradient and grad mode is on; marks out->requires_grad.
 * Returns the entry (for the op to fill f/i/saved) or NULL when nothing is recorded. */
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
/* Ends a step: clears the tape and rewinds the arena. Parameter tensors (heap) are untouched. */
void     mc_step_end(void);
int      mc_tape_length(void);

/* No-grad mode for inference: ops record nothing. Returns the previous setting. */
int  mc_set_grad_enabled(int enabled);
int  mc_grad_enabled(void);

/* The random generator step ops draw from (mc_randn, dropout-like noise); seeded by mc_seed. */
void    mc_seed(uint64_t seed);
mc_rng *mc_global_rng(void);

/* Shape checks that stop with the op's name and both shapes. */
void mc_check_shape(const char *op, const mc_tensor *a, const mc_tensor *b, int ok, const char *what);

#endif
