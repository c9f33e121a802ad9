/* Each op: its backward, then its forward. mc_log(mc_sigmoid(x)) would do in the forward (with a clamp),
 * but where sigmoid rounds to 0 or 1 the log's backward is 0 * inf = NaN; PyTorch's BCE avoids it with
 * a backward of its own, which this op copies so that losses and gradients match PyTorch's. */
#include "autograd/ops_loss.h"
#include <math.h>

#define PAR_MIN 32768   /* elementwise loops shorter than this stay on one thread */

static void bce_backward(mc_node *n)
{
    mc_tensor *p = n->in[0], *t = n->in[1];
    if (!p->requires_grad) return;
    const float *g = n->out->grad, *pd = p->data, *td = t->data;
    float *gp = mc_grad(p);
    int64_t size = p->size;
    #pragma omp parallel for if (size > PAR_MIN)
    for (int64_t k = 0; k < size; k++)
        gp[k] += g[k] * (pd[k] - td[k]) / fmaxf(pd[k] * (1 - pd[k]), 1e-12f);
}

mc_tensor *mc_binary_cross_entropy(mc_tensor *p, mc_tensor *target)
{
    mc_check_shape("binary_cross_entropy", p, target, mc_same_shape(p, target), "target shape");
    if (target->requires_grad) mc_fatal("binary_cross_entropy: the target gets no gradient; pass a constant target");
    mc_tensor *out = mc_tensor_new(p->ndim, p->shape);
    const float *pd = p->data, *td = target->data;
    float *y = out->data;
    int64_t size = p->size, outside = 0;
    #pragma omp parallel for if (size > PAR_MIN) reduction(+ : outside)
    for (int64_t k = 0; k < size; k++) {
        outside += !(pd[k] >= 0 && pd[k] <= 1);     /* NaN too */
        y[k] = -(td[k] * fmaxf(logf(pd[k]), -100) + (1 - td[k]) * fmaxf(logf(1 - pd[k]), -100));
    }
    if (outside) mc_fatal("binary_cross_entropy: %lld of %lld inputs are not probabilities in [0, 1] (NaN, or a "
                          "missing sigmoid?)", (long long)outside, (long long)size);
    mc_record("binary_cross_entropy", out, (mc_tensor *[]){p, target}, 2, bce_backward);
    return out;
}
