/* Layers, parameters and optimizers. Parameters live for the whole run on the heap, each with its
 * gradient and optimizer state, registered under a dotted PyTorch-style name ("encoder.conv1.weight"). */
#ifndef MACHE_NN_H
#define MACHE_NN_H
#include "autograd/ops.h"

typedef struct mc_param {
    char      name[96];
    mc_tensor t;            /* data and grad on the heap */
    int       trainable;    /* 0 for buffers such as BatchNorm running statistics */
    int       frozen;       /* excluded from gradients and updates (transfer learning) */
    float    *m, *v;        /* optimizer state: Adam moments, or SGD momentum in m */
    int64_t   step;         /* optimizer steps taken by this parameter */
} mc_param;

typedef struct mc_params {
    mc_param **items;
    int        n, cap;
} mc_params;

/* A new zero-filled parameter (trainable = 1) or buffer (trainable = 0). The name must be unique. */
mc_tensor *mc_param_new(mc_params *ps, const char *name, int ndim, const int *shape, int trainable);
mc_param  *mc_param_find(const mc_params *ps, const char *name);
void       mc_params_free(mc_params *ps);
int64_t    mc_params_count(const mc_params *ps, int trainable_only);
void       mc_params_zero_grad(mc_params *ps);
/* Data parallel (a dist on the context): rank 0's parameters, buffers and optimizer state (moments and
 * step counts) copied to every rank, so all start the same. Nothing for one process. */
void       mc_params_broadcast(mc_params *ps);
/* Freeze (or unfreeze) every parameter whose name starts with prefix, e.g. "encoder.". Returns how many. */
int        mc_params_freeze(mc_params *ps, const char *prefix, int frozen);

/* ---- layers: their structs are in autograd/ops.h, with the ops that run them (mc_linear,
 * mc_batchnorm, mc_linear_bn, mc_linear_bn_max) ---- */
/* PyTorch's default init: W and b ~ U(-1/sqrt(in), 1/sqrt(in)). bias = 0 makes a layer without bias. */
void mc_linear_init(mc_linear_layer *l, mc_params *ps, const char *name, int in, int out, int bias, mc_rng *rng);
/* gamma 1, beta 0, running mean 0 and variance 1, momentum 0.1, eps 1e-5. */
void mc_batchnorm_init(mc_batchnorm_layer *bn, mc_params *ps, const char *name, int channels);

/* ---- optimizers: both skip buffers and frozen parameters ---- */
typedef struct mc_adam { float lr, beta1, beta2, eps, weight_decay; } mc_adam;   /* torch.optim.Adam */
typedef struct mc_sgd  { float lr, momentum, weight_decay; } mc_sgd;             /* torch.optim.SGD */

mc_adam mc_adam_default(float lr);      /* betas (0.9, 0.999), eps 1e-8, no weight decay */
void    mc_adam_step(const mc_adam *opt, mc_params *ps);
/* zero_grad + mc_backward(loss) + mc_adam_step in one pass, with the same result bit for bit: each
 * parameter is updated the moment its gradient is complete, in a buffer of the step arena that the next
 * gradient reuses, so the step never holds all the gradients at once (a third less memory for AtlasNet).
 * The parameters' own gradient buffers are left untouched. With a dist on the context (autograd.h), the
 * gradients are first summed over the ranks, in buckets started during the backward, then every rank
 * makes the same update: each rank's loss must be its share of the whole batch's (it sums to it). */
void    mc_adam_backward(const mc_adam *opt, mc_params *ps, mc_tensor *loss);
void    mc_sgd_step(const mc_sgd *opt, mc_params *ps);
/* Step schedule: base * gamma^(number of milestones <= epoch), as torch's MultiStepLR. */
float   mc_step_lr(float base, int epoch, const int *milestones, int n, float gamma);

#endif
