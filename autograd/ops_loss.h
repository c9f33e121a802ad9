/* Loss ops whose composed form would be numerically unsafe: PyTorch's binary cross-entropy on
 * probabilities, whose backward stays finite where a probability rounds to exactly 0 or 1. */
#ifndef MACHE_OPS_LOSS_H
#define MACHE_OPS_LOSS_H
#include "autograd/autograd.h"

/* Elementwise -(t log p + (1 - t) log(1 - p)) for probabilities p in [0, 1] and targets t of the same
 * shape, each log clamped at -100, as torch.nn.functional.binary_cross_entropy(p, t, reduction='none');
 * the gradient is (p - t) / max(p (1 - p), 1e-12), as PyTorch's. The target gets no gradient.
 * Sum it (mc_sum) for reduction='sum'. */
mc_tensor *mc_binary_cross_entropy(mc_tensor *p, mc_tensor *target);

#endif
