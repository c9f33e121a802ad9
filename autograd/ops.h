/* The ops. Each returns a new step tensor and, when a gradient is needed, records its backward on the
 * tape; in ops.c each op's backward sits right before its forward, with the typed state it saves. Shapes
 * are channels-last: a batch of point features is (B,N,C), so per-point layers are one matrix multiply
 * over B*N rows. */
#ifndef MACHE_OPS_H
#define MACHE_OPS_H
#include "autograd/autograd.h"

/* Elementwise, with broadcasting: shapes are right-aligned and each dimension must match or be 1,
 * e.g. (B,N,C) + (C) per channel, (B,N,C) * (B,N,1) per row, (B,N,C) + (B,1,C) per shape. */
mc_tensor *mc_add(mc_tensor *a, mc_tensor *b);
mc_tensor *mc_sub(mc_tensor *a, mc_tensor *b);
mc_tensor *mc_mul(mc_tensor *a, mc_tensor *b);
mc_tensor *mc_scale(mc_tensor *x, float s);          /* s * x */
mc_tensor *mc_add_scalar(mc_tensor *x, float s);     /* x + s */

mc_tensor *mc_relu(mc_tensor *x);
mc_tensor *mc_tanh(mc_tensor *x);
mc_tensor *mc_sigmoid(mc_tensor *x);
mc_tensor *mc_exp(mc_tensor *x);
mc_tensor *mc_log(mc_tensor *x);
mc_tensor *mc_square(mc_tensor *x);
mc_tensor *mc_clamp_min(mc_tensor *x, float lo);     /* max(x, lo); no gradient where clamped */

/* Reductions: to a scalar (ndim 0), or along one axis (which is removed). */
mc_tensor *mc_sum(mc_tensor *x);
mc_tensor *mc_mean(mc_tensor *x);
mc_tensor *mc_sum_axis(mc_tensor *x, int axis);
mc_tensor *mc_mean_axis(mc_tensor *x, int axis);
mc_tensor *mc_max_axis(mc_tensor *x, int axis);      /* gradient goes to the argmax */

/* Shape ops. */
mc_tensor *mc_reshape(mc_tensor *x, int ndim, const int *shape);   /* shares data; -1 infers one dim */
mc_tensor *mc_transpose(mc_tensor *x, int axis0, int axis1);
mc_tensor *mc_slice(mc_tensor *x, int axis, int start, int len);
mc_tensor *mc_concat(mc_tensor **xs, int n, int axis);
#define mc_view(x, ...) mc_reshape((x), MC_SHAPE(__VA_ARGS__))

/* The parameters of the layer ops below (nn/nn.h makes them: mc_linear_init, mc_batchnorm_init). */
typedef struct mc_linear_layer { mc_tensor *weight, *bias; } mc_linear_layer;     /* weight (out, in), bias (out) or NULL */
typedef struct mc_batchnorm_layer {
    mc_tensor *weight, *bias, *running_mean, *running_var;     /* gamma, beta, and the running statistics */
    float momentum, eps;
} mc_batchnorm_layer;
typedef enum mc_act { MC_ACT_NONE, MC_ACT_RELU } mc_act;

/* Matrix products. matmul: (M,K) x (K,N), or batched (B,M,K) x (B,K,N), or (..,M,K) x (K,N).
 * linear: y = x W^T + b with x (..., in). */
mc_tensor *mc_matmul(mc_tensor *a, mc_tensor *b);
mc_tensor *mc_linear(mc_tensor *x, const mc_linear_layer *l);

/* Batch normalisation over every axis but the last (channels-last BatchNorm1d). In training mode
 * (mc_training) the batch statistics normalise and the running statistics are updated (momentum,
 * unbiased variance); in eval mode the running statistics normalise. */
mc_tensor *mc_batchnorm(mc_tensor *x, const mc_batchnorm_layer *bn);

/* Fused per-point layers, the same functions as the separate ops with fewer passes over memory and fewer
 * tensors kept. linear_bn: act(batchnorm(x W_x^T + s W_s^T + bias)), where W = [W_x | W_s] (out, in + L)
 * and s (B,L) is an optional per-shape input for x (B,N,in): a layer over concat(point, shape code), as
 * AtlasNet's decoder sees it, with the shape half done once per shape. linear_bn_max: the layer (without
 * s) followed by the max over points: (B,N,in) -> (B,out), PointNet's last layer and pooling; the
 * (B,N,out) activations are never stored. */
mc_tensor *mc_linear_bn(mc_tensor *x, const mc_linear_layer *l, const mc_batchnorm_layer *bn, mc_tensor *shape_input, mc_act act);
mc_tensor *mc_linear_bn_max(mc_tensor *x, const mc_linear_layer *l, const mc_batchnorm_layer *bn, mc_act act);

/* Chamfer distance between point sets a (B,N,3) and b (B,M,3): mean over points of the squared
 * nearest-neighbour distance, both directions, summed, mean over the batch. A scalar. */
mc_tensor *mc_chamfer(mc_tensor *a, mc_tensor *b);

/* x summed over the ranks of the context's mc_dist (x's value for one process): every rank gets the sum.
 * Its backward sums the gradients over the ranks too, so it must run on every rank. */
mc_tensor *mc_sum_ranks(mc_tensor *x);

/* Constant random tensors drawn from rng. */
mc_tensor *mc_randn(mc_rng *rng, int ndim, const int *shape);     /* N(0, 1) */
mc_tensor *mc_rand(mc_rng *rng, int ndim, const int *shape);      /* U[0, 1) */

#endif
