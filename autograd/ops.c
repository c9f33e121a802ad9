/* Every op: the typed state its backward needs, its backward, then its forward. A backward reads
 * n->out->grad and adds into the inputs' gradients (mc_grad allocates them on first use), so a tensor
 * used twice accumulates both. */
#include "autograd/ops.h"
#include "tensor/gemm.h"
#include "tensor/nearest.h"
#include <float.h>
#include <math.h>
#include <string.h>

#define PAR_MIN 32768   /* elementwise loops shorter than this stay on one thread */

static int needs_grad(const mc_tensor *t) { return t && t->requires_grad; }

/* Saves an op's typed state in its tape entry (when one was recorded): SAVE(n, slice_state, axis, start, len). */
#define SAVE(n, type, ...) do { if (n) { type *state_ = mc_arena_alloc(sizeof(type)); *state_ = (type){__VA_ARGS__}; (n)->saved = state_; } } while (0)

/* ---------------------------------------------------------------------------------------------------
 * Broadcasting binary ops. Shapes are right-aligned into 4 dimensions; a dimension of size 1 repeats.
 */
typedef struct { int shape[4]; int64_t sa[4], sb[4]; int ndim; } broadcast;

static void broadcast_setup(const char *op, const mc_tensor *a, const mc_tensor *b, broadcast *bc)
{
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    int as[4], bs[4];
    for (int k = 0; k < 4; k++) {
        int ia = a->ndim - 4 + k, ib = b->ndim - 4 + k;
        as[k] = ia >= 0 ? a->shape[ia] : 1;
        bs[k] = ib >= 0 ? b->shape[ib] : 1;
        mc_check_shape(op, a, b, as[k] == bs[k] || as[k] == 1 || bs[k] == 1, "cannot broadcast");
        bc->shape[k] = as[k] > bs[k] ? as[k] : bs[k];
    }
    int64_t ra = 1, rb = 1;
    for (int k = 3; k >= 0; k--) {
        bc->sa[k] = as[k] == 1 ? 0 : ra;
        bc->sb[k] = bs[k] == 1 ? 0 : rb;
        ra *= as[k]; rb *= bs[k];
    }
    bc->ndim = nd;
}

static mc_tensor *broadcast_out(const broadcast *bc)
{
    return mc_tensor_new(bc->ndim, bc->shape + 4 - bc->ndim);
}

/* Walks every output element with its a and b offsets; BODY uses o, ia, ib. */
#define BROADCAST_LOOP(bc, BODY) do {                                                       \
    int64_t o = 0;                                                                          \
    for (int i0 = 0; i0 < (bc)->shape[0]; i0++)                                             \
    for (int i1 = 0; i1 < (bc)->shape[1]; i1++)                                             \
    for (int i2 = 0; i2 < (bc)->shape[2]; i2++) {                                           \
        int64_t ia = i0 * (bc)->sa[0] + i1 * (bc)->sa[1] + i2 * (bc)->sa[2];                \
        int64_t ib = i0 * (bc)->sb[0] + i1 * (bc)->sb[1] + i2 * (bc)->sb[2];                \
        for (int i3 = 0; i3 < (bc)->shape[3]; i3++, o++, ia += (bc)->sa[3], ib += (bc)->sb[3]) \
            { BODY; }                                                                       \
    }                                                                                       \
} while (0)

typedef enum { OP_ADD, OP_SUB, OP_MUL } binary_kind;
typedef struct { binary_kind kind; } binary_state;

static void binary_backward(mc_node *n)
{
    mc_tensor *a = n->in[0], *b = n->in[1];
    broadcast bc;
    broadcast_setup(n->op, a, b, &bc);
    const float *g = n->out->grad, *ad = a->data, *bd = b->data;
    if (needs_grad(a)) {
        float *ga = mc_grad(a);
        switch (((const binary_state *)n->saved)->kind) {
        case OP_ADD: case OP_SUB: BROADCAST_LOOP(&bc, ga[ia] += g[o]); break;
        case OP_MUL: BROADCAST_LOOP(&bc, ga[ia] += g[o] * bd[ib]); break;
        }
    }
    if (needs_grad(b)) {
        float *gb = mc_grad(b);
        switch (((const binary_state *)n->saved)->kind) {
        case OP_ADD: BROADCAST_LOOP(&bc, gb[ib] += g[o]); break;
        case OP_SUB: BROADCAST_LOOP(&bc, gb[ib] -= g[o]); break;
        case OP_MUL: BROADCAST_LOOP(&bc, gb[ib] += g[o] * ad[ia]); break;
        }
    }
}

static mc_tensor *binary(const char *name, binary_kind op, mc_tensor *a, mc_tensor *b)
{
    broadcast bc;
    broadcast_setup(name, a, b, &bc);
    mc_tensor *out = broadcast_out(&bc);
    float *y = out->data;
    const float *ad = a->data, *bd = b->data;
    switch (op) {
    case OP_ADD: BROADCAST_LOOP(&bc, y[o] = ad[ia] + bd[ib]); break;
    case OP_SUB: BROADCAST_LOOP(&bc, y[o] = ad[ia] - bd[ib]); break;
    case OP_MUL: BROADCAST_LOOP(&bc, y[o] = ad[ia] * bd[ib]); break;
    }
    mc_node *n = mc_record(name, out, (mc_tensor *[]){a, b}, 2, binary_backward);
    SAVE(n, binary_state, op);
    return out;
}

mc_tensor *mc_add(mc_tensor *a, mc_tensor *b) { return binary("add", OP_ADD, a, b); }
mc_tensor *mc_sub(mc_tensor *a, mc_tensor *b) { return binary("sub", OP_SUB, a, b); }
mc_tensor *mc_mul(mc_tensor *a, mc_tensor *b) { return binary("mul", OP_MUL, a, b); }

/* ---------------------------------------------------------------------------------------------------
 * Unary elementwise ops: y = f(x), dx += dy * f'(x), with f' written from whichever of x, y is cheaper.
 */
typedef enum { U_SCALE, U_SHIFT, U_RELU, U_TANH, U_SIGMOID, U_EXP, U_LOG, U_SQUARE, U_CLAMP } unary_kind;
typedef struct { unary_kind kind; float s; } unary_state;    /* s: the scale, shift or clamp bound */

static void unary_backward(mc_node *n)
{
    mc_tensor *x = n->in[0];
    if (!needs_grad(x)) return;
    const float *g = n->out->grad, *xd = x->data, *y = n->out->data;
    const unary_state *st = n->saved;
    float *gx = mc_grad(x), s = st->s;
    int64_t size = x->size;
    unary_kind kind = st->kind;
    #pragma omp parallel for if (size > PAR_MIN)
    for (int64_t k = 0; k < size; k++) {
        float d;
        switch (kind) {
        case U_SCALE:   d = s; break;
        case U_SHIFT:   d = 1; break;
        case U_RELU:    d = xd[k] > 0; break;
        case U_TANH:    d = 1 - y[k] * y[k]; break;
        case U_SIGMOID: d = y[k] * (1 - y[k]); break;
        case U_EXP:     d = y[k]; break;
        case U_LOG:     d = 1 / xd[k]; break;
        case U_SQUARE:  d = 2 * xd[k]; break;
        default:        d = xd[k] > s; break;   /* U_CLAMP */
        }
        gx[k] += g[k] * d;
    }
}

static mc_tensor *unary(const char *name, unary_kind kind, mc_tensor *x, float s)
{
    mc_tensor *out = mc_tensor_new(x->ndim, x->shape);
    const float *xd = x->data;
    float *y = out->data;
    int64_t size = x->size;
    #pragma omp parallel for if (size > PAR_MIN)
    for (int64_t k = 0; k < size; k++) {
        float v = xd[k];
        switch (kind) {
        case U_SCALE:   v = s * v; break;
        case U_SHIFT:   v = v + s; break;
        case U_RELU:    v = v > 0 ? v : 0; break;
        case U_TANH:    v = tanhf(v); break;
        case U_SIGMOID: v = 1 / (1 + expf(-v)); break;
        case U_EXP:     v = expf(v); break;
        case U_LOG:     v = logf(v); break;
        case U_SQUARE:  v = v * v; break;
        default:        v = v > s ? v : s; break;
        }
        y[k] = v;
    }
    mc_node *n = mc_record(name, out, &x, 1, unary_backward);
    SAVE(n, unary_state, kind, s);
    return out;
}

mc_tensor *mc_scale(mc_tensor *x, float s)       { return unary("scale", U_SCALE, x, s); }
mc_tensor *mc_add_scalar(mc_tensor *x, float s)  { return unary("add_scalar", U_SHIFT, x, s); }
mc_tensor *mc_relu(mc_tensor *x)                 { return unary("relu", U_RELU, x, 0); }
mc_tensor *mc_tanh(mc_tensor *x)                 { return unary("tanh", U_TANH, x, 0); }
mc_tensor *mc_sigmoid(mc_tensor *x)              { return unary("sigmoid", U_SIGMOID, x, 0); }
mc_tensor *mc_exp(mc_tensor *x)                  { return unary("exp", U_EXP, x, 0); }
mc_tensor *mc_log(mc_tensor *x)                  { return unary("log", U_LOG, x, 0); }
mc_tensor *mc_square(mc_tensor *x)               { return unary("square", U_SQUARE, x, 0); }
mc_tensor *mc_clamp_min(mc_tensor *x, float lo)  { return unary("clamp_min", U_CLAMP, x, lo); }

/* ---------------------------------------------------------------------------------------------------
 * Reductions. An axis reduction views x as (outer, n, inner) with n the reduced axis.
 */
typedef struct { int axis; float factor; } reduce_state;   /* factor: 1 for a sum, 1/count for a mean */

static void sum_backward(mc_node *n)
{
    mc_tensor *x = n->in[0];
    if (!needs_grad(x)) return;
    float g = n->out->grad[0] * ((const reduce_state *)n->saved)->factor, *gx = mc_grad(x);
    for (int64_t k = 0; k < x->size; k++) gx[k] += g;
}

static mc_tensor *reduce_all(const char *name, mc_tensor *x, float factor)
{
    mc_tensor *out = mc_tensor_new(0, NULL);
    double acc = 0;
    for (int64_t k = 0; k < x->size; k++) acc += x->data[k];
    out->data[0] = (float)(acc * factor);
    mc_node *n = mc_record(name, out, &x, 1, sum_backward);
    SAVE(n, reduce_state, 0, factor);
    return out;
}

mc_tensor *mc_sum(mc_tensor *x)  { return reduce_all("sum", x, 1.0f); }
mc_tensor *mc_mean(mc_tensor *x) { return reduce_all("mean", x, 1.0f / (float)(x->size ? x->size : 1)); }

static void axis_view(const char *op, const mc_tensor *x, int axis, int64_t *outer, int *len, int64_t *inner)
{
    if (axis < 0) axis += x->ndim;
    if (axis < 0 || axis >= x->ndim) {
        char s[64];
        mc_fatal("%s: axis %d out of range for input %s", op, axis, mc_shape_str(x, s, sizeof s));
    }
    *outer = 1; *inner = 1;
    for (int k = 0; k < axis; k++) *outer *= x->shape[k];
    for (int k = axis + 1; k < x->ndim; k++) *inner *= x->shape[k];
    *len = x->shape[axis];
}

static mc_tensor *removed_axis(const mc_tensor *x, int axis)
{
    if (axis < 0) axis += x->ndim;
    int shape[MC_MAX_DIMS], nd = 0;
    for (int k = 0; k < x->ndim; k++) if (k != axis) shape[nd++] = x->shape[k];
    return mc_tensor_new(nd, shape);
}

static void sum_axis_backward(mc_node *n)
{
    mc_tensor *x = n->in[0];
    if (!needs_grad(x)) return;
    const reduce_state *st = n->saved;
    int64_t outer, inner; int len;
    axis_view(n->op, x, st->axis, &outer, &len, &inner);
    const float *g = n->out->grad;
    float *gx = mc_grad(x), f = st->factor;
    for (int64_t o = 0; o < outer; o++)
        for (int l = 0; l < len; l++)
            for (int64_t i = 0; i < inner; i++) gx[(o * len + l) * inner + i] += f * g[o * inner + i];
}

static mc_tensor *reduce_axis(const char *name, mc_tensor *x, int axis, int mean)
{
    int64_t outer, inner; int len;
    axis_view(name, x, axis, &outer, &len, &inner);
    mc_tensor *out = removed_axis(x, axis);
    float f = mean ? 1.0f / (float)(len ? len : 1) : 1.0f;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double acc = 0;
            for (int l = 0; l < len; l++) acc += x->data[(o * len + l) * inner + i];
            out->data[o * inner + i] = (float)(acc * f);
        }
    mc_node *n = mc_record(name, out, &x, 1, sum_axis_backward);
    SAVE(n, reduce_state, axis, f);
    return out;
}

mc_tensor *mc_sum_axis(mc_tensor *x, int axis)  { return reduce_axis("sum_axis", x, axis, 0); }
mc_tensor *mc_mean_axis(mc_tensor *x, int axis) { return reduce_axis("mean_axis", x, axis, 1); }

static void max_axis_backward(mc_node *n)
{
    mc_tensor *x = n->in[0];
    if (!needs_grad(x)) return;
    const int *arg = n->saved;
    const float *g = n->out->grad;
    float *gx = mc_grad(x);
    for (int64_t k = 0; k < n->out->size; k++) gx[arg[k]] += g[k];
}

mc_tensor *mc_max_axis(mc_tensor *x, int axis)
{
    int64_t outer, inner; int len;
    axis_view("max_axis", x, axis, &outer, &len, &inner);
    if (len == 0) mc_fatal("max_axis: cannot take the max over an empty axis");
    mc_tensor *out = removed_axis(x, axis);
    int *arg = mc_arena_alloc((size_t)out->size * sizeof *arg);
    /* PointNet's max over points: (B,N,C) with axis 1, so inner = C and rows stream through memory. */
    #pragma omp parallel for if (x->size > PAR_MIN)
    for (int64_t o = 0; o < outer; o++) {
        float *best = out->data + o * inner;
        int *where = arg + o * inner;
        const float *row = x->data + o * len * inner;
        for (int64_t i = 0; i < inner; i++) { best[i] = row[i]; where[i] = (int)(o * len * inner + i); }
        for (int l = 1; l < len; l++) {
            row = x->data + (o * len + l) * inner;
            for (int64_t i = 0; i < inner; i++)
                if (row[i] > best[i]) { best[i] = row[i]; where[i] = (int)((o * len + l) * inner + i); }
        }
    }
    mc_node *n = mc_record("max_axis", out, &x, 1, max_axis_backward);
    if (n) n->saved = arg;
    return out;
}

/* ---------------------------------------------------------------------------------------------------
 * Shape ops.
 */
static void copy_grad_backward(mc_node *n)   /* out and in have the same elements in the same order */
{
    mc_tensor *x = n->in[0];
    if (!needs_grad(x)) return;
    float *gx = mc_grad(x);
    const float *g = n->out->grad;
    for (int64_t k = 0; k < x->size; k++) gx[k] += g[k];
}

mc_tensor *mc_reshape(mc_tensor *x, int ndim, const int *shape)
{
    int s[MC_MAX_DIMS], infer = -1;
    int64_t known = 1;
    if (ndim < 0 || ndim > MC_MAX_DIMS) mc_fatal("reshape: %d dimensions (at most %d)", ndim, MC_MAX_DIMS);
    for (int k = 0; k < ndim; k++) {
        s[k] = shape[k];
        if (s[k] == -1 && infer < 0) infer = k;
        else known *= s[k];
    }
    if (infer >= 0 && known > 0) s[infer] = (int)(x->size / known);
    mc_tensor view = {.ndim = ndim};
    memcpy(view.shape, s, sizeof s);
    view.size = mc_shape_size(ndim, s);
    mc_check_shape("reshape", x, &view, view.size == x->size, "element count differs from requested shape");
    mc_tensor *out = mc_arena_alloc(sizeof *out);
    *out = view;
    out->data = x->data;             /* a view: tensors are never written after creation */
    mc_record("reshape", out, &x, 1, copy_grad_backward);
    return out;
}

/* Swapping two axes, padded to 4 dimensions; the same walk serves forward (gather) and backward. */
static void transpose_walk(const mc_tensor *x, int a0, int a1, const float *src, float *dst, int accumulate)
{
    int off = 4 - x->ndim, s[4] = {1, 1, 1, 1};
    for (int k = 0; k < x->ndim; k++) s[k + off] = x->shape[k];
    int64_t st[4] = {(int64_t)s[1] * s[2] * s[3], (int64_t)s[2] * s[3], s[3], 1};
    int64_t t = st[a0 + off]; st[a0 + off] = st[a1 + off]; st[a1 + off] = t;   /* strides of x in out order */
    int os[4] = {s[0], s[1], s[2], s[3]};
    int u = os[a0 + off]; os[a0 + off] = os[a1 + off]; os[a1 + off] = u;
    int64_t o = 0;
    for (int i0 = 0; i0 < os[0]; i0++)
        for (int i1 = 0; i1 < os[1]; i1++)
            for (int i2 = 0; i2 < os[2]; i2++)
                for (int i3 = 0; i3 < os[3]; i3++, o++) {
                    int64_t in = i0 * st[0] + i1 * st[1] + i2 * st[2] + i3 * st[3];
                    if (accumulate) dst[in] += src[o];
                    else dst[o] = src[in];
                }
}

typedef struct { int axis0, axis1; } transpose_state;

static void transpose_backward(mc_node *n)
{
    mc_tensor *x = n->in[0];
    const transpose_state *st = n->saved;
    if (needs_grad(x)) transpose_walk(x, st->axis0, st->axis1, n->out->grad, mc_grad(x), 1);
}

mc_tensor *mc_transpose(mc_tensor *x, int axis0, int axis1)
{
    if (axis0 < 0) axis0 += x->ndim;
    if (axis1 < 0) axis1 += x->ndim;
    if (axis0 < 0 || axis1 < 0 || axis0 >= x->ndim || axis1 >= x->ndim) {
        char s[64];
        mc_fatal("transpose: axes %d,%d out of range for input %s", axis0, axis1, mc_shape_str(x, s, sizeof s));
    }
    int shape[MC_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[axis0] = x->shape[axis1]; shape[axis1] = x->shape[axis0];
    mc_tensor *out = mc_tensor_new(x->ndim, shape);
    transpose_walk(x, axis0, axis1, x->data, out->data, 0);
    mc_node *n = mc_record("transpose", out, &x, 1, transpose_backward);
    SAVE(n, transpose_state, axis0, axis1);
    return out;
}

typedef struct { int axis, start, len; } slice_state;

static void slice_backward(mc_node *n)
{
    mc_tensor *x = n->in[0];
    if (!needs_grad(x)) return;
    const slice_state *st = n->saved;
    int64_t outer, inner; int len;
    axis_view("slice", x, st->axis, &outer, &len, &inner);
    int start = st->start, count = st->len;
    float *gx = mc_grad(x);
    const float *g = n->out->grad;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < count * inner; k++) gx[(o * len + start) * inner + k] += g[o * count * inner + k];
}

mc_tensor *mc_slice(mc_tensor *x, int axis, int start, int len)
{
    int64_t outer, inner; int n_axis;
    axis_view("slice", x, axis, &outer, &n_axis, &inner);
    if (axis < 0) axis += x->ndim;
    if (start < 0 || len < 0 || start + len > n_axis) {
        char s[64];
        mc_fatal("slice: [%d, %d) out of range on axis %d of input %s", start, start + len, axis,
                 mc_shape_str(x, s, sizeof s));
    }
    int shape[MC_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[axis] = len;
    mc_tensor *out = mc_tensor_new(x->ndim, shape);
    for (int64_t o = 0; o < outer; o++)
        memcpy(out->data + o * len * inner, x->data + (o * n_axis + start) * inner, (size_t)(len * inner) * sizeof(float));
    mc_node *n = mc_record("slice", out, &x, 1, slice_backward);
    SAVE(n, slice_state, axis, start, len);
    return out;
}

typedef struct { int axis; } concat_state;

static void concat_backward(mc_node *n)
{
    int axis = ((const concat_state *)n->saved)->axis;
    int64_t outer, inner; int total;
    axis_view("concat", n->out, axis, &outer, &total, &inner);
    const float *g = n->out->grad;
    int at = 0;
    for (int k = 0; k < n->nin; k++) {
        mc_tensor *x = n->in[k];
        int len = x->shape[axis];
        if (needs_grad(x)) {
            float *gx = mc_grad(x);
            for (int64_t o = 0; o < outer; o++)
                for (int64_t e = 0; e < len * inner; e++) gx[o * len * inner + e] += g[(o * total + at) * inner + e];
        }
        at += len;
    }
}

mc_tensor *mc_concat(mc_tensor **xs, int n, int axis)
{
    if (n < 1) mc_fatal("concat: no inputs");
    mc_tensor *first = xs[0];
    if (axis < 0) axis += first->ndim;
    if (axis < 0 || axis >= first->ndim) {
        char s[64];
        mc_fatal("concat: axis %d out of range for input %s", axis, mc_shape_str(first, s, sizeof s));
    }
    int shape[MC_MAX_DIMS];
    memcpy(shape, first->shape, sizeof shape);
    shape[axis] = 0;
    for (int k = 0; k < n; k++) {
        int ok = xs[k]->ndim == first->ndim;
        for (int d = 0; ok && d < first->ndim; d++) ok = d == axis || xs[k]->shape[d] == first->shape[d];
        mc_check_shape("concat", xs[k], first, ok, "shapes differ off the concatenation axis");
        shape[axis] += xs[k]->shape[axis];
    }
    mc_tensor *out = mc_tensor_new(first->ndim, shape);
    int64_t outer, inner; int total;
    axis_view("concat", out, axis, &outer, &total, &inner);
    int at = 0;
    for (int k = 0; k < n; k++) {
        int len = xs[k]->shape[axis];
        for (int64_t o = 0; o < outer; o++)
            memcpy(out->data + (o * total + at) * inner, xs[k]->data + o * len * inner, (size_t)(len * inner) * sizeof(float));
        at += len;
    }
    mc_node *node = mc_record("concat", out, xs, n, concat_backward);
    SAVE(node, concat_state, axis);
    return out;
}

/* ---------------------------------------------------------------------------------------------------
 * Matrix products. No transpose is ever materialised: gemm reads either layout.
 */
typedef struct { int batches, M, K, N; } matmul_state;

static void matmul_backward(mc_node *n)
{
    mc_tensor *a = n->in[0], *b = n->in[1];
    const matmul_state *st = n->saved;
    int batches = st->batches, M = st->M, K = st->K, N = st->N;
    int64_t sa = (int64_t)M * K, sb = batches > 1 ? (int64_t)K * N : 0, so = (int64_t)M * N;
    const float *g = n->out->grad;
    float beta_a = 1, beta_b = 1, *ga = needs_grad(a) ? mc_grad_whole(a, &beta_a) : NULL;
    float *gb = needs_grad(b) ? mc_grad_whole(b, &beta_b) : NULL;
    for (int t = 0; t < batches; t++) {   /* a shared b (sb = 0) sums over the batches after the first */
        if (ga) mc_gemm(0, 1, M, K, N, 1, g + t * so, N, b->data + t * sb, N, beta_a, ga + t * sa, K);   /* dA = dY B^T */
        if (gb) mc_gemm(1, 0, K, N, M, 1, a->data + t * sa, K, g + t * so, N, sb || t == 0 ? beta_b : 1, gb + t * sb, N);   /* dB = A^T dY */
    }
}

mc_tensor *mc_matmul(mc_tensor *a, mc_tensor *b)
{
    int batched = b->ndim == 3;
    mc_check_shape("matmul", a, b, a->ndim >= 2 && (b->ndim == 2 || (batched && a->ndim == 3 && a->shape[0] == b->shape[0])),
                   "needs (..,M,K) x (K,N) or (B,M,K) x (B,K,N)");
    int K = a->shape[a->ndim - 1], N = b->shape[b->ndim - 1];
    mc_check_shape("matmul", a, b, b->shape[b->ndim - 2] == K, "inner dimensions differ");
    int batches = batched ? a->shape[0] : 1;
    int M = (int)(mc_rows(a) / batches);
    int shape[MC_MAX_DIMS];
    memcpy(shape, a->shape, sizeof shape);
    shape[a->ndim - 1] = N;
    mc_tensor *out = mc_tensor_new(a->ndim, shape);
    for (int t = 0; t < batches; t++)
        mc_gemm(0, 0, M, N, K, 1, a->data + (int64_t)t * M * K, K, b->data + (batched ? (int64_t)t * K * N : 0), N,
                0, out->data + (int64_t)t * M * N, N);
    mc_node *n = mc_record("matmul", out, (mc_tensor *[]){a, b}, 2, matmul_backward);
    SAVE(n, matmul_state, batches, M, K, N);
    return out;
}

static void linear_backward(mc_node *n)
{
    mc_tensor *x = n->in[0], *w = n->in[1], *bias = n->nin > 2 ? n->in[2] : NULL;
    int rows = (int)mc_rows(x), in = w->shape[1], out = w->shape[0];
    const float *g = n->out->grad;
    float beta;
    if (needs_grad(x)) { float *gx = mc_grad_whole(x, &beta); mc_gemm(0, 0, rows, in, out, 1, g, out, w->data, in, beta, gx, in); }  /* dX = dY W */
    if (needs_grad(w)) { float *gw = mc_grad_whole(w, &beta); mc_gemm(1, 0, out, in, rows, 1, g, out, x->data, in, beta, gw, in); }  /* dW = dY^T X */
    if (needs_grad(bias)) {
        float *gb = mc_grad(bias);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < out; c++) gb[c] += g[(int64_t)r * out + c];
    }
}

mc_tensor *mc_linear(mc_tensor *x, const mc_linear_layer *l)
{
    mc_tensor *weight = l->weight, *bias = l->bias;
    mc_check_shape("linear", x, weight, weight->ndim == 2 && mc_cols(x) == weight->shape[1], "does not match weight");
    if (bias) mc_check_shape("linear", bias, weight, bias->size == weight->shape[0], "bias does not match weight");
    int rows = (int)mc_rows(x), in = weight->shape[1], out_features = weight->shape[0];
    int shape[MC_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = out_features;
    mc_tensor *out = mc_tensor_new(x->ndim, shape);
    if (bias)
        for (int r = 0; r < rows; r++) memcpy(out->data + (int64_t)r * out_features, bias->data, (size_t)out_features * sizeof(float));
    mc_gemm(0, 1, rows, out_features, in, 1, x->data, in, weight->data, in, bias ? 1 : 0, out->data, out_features);
    mc_record("linear", out, (mc_tensor *[]){x, weight, bias}, bias ? 3 : 2, linear_backward);
    return out;
}

/* ---------------------------------------------------------------------------------------------------
 * Batch normalisation, channels last: statistics per column over all rows. The forward keeps only the
 * per-channel mean and 1/std; the backward recomputes x_hat, so no extra (rows, C) buffer is held.
 */
typedef struct { float *mean, *invstd; double rows; int training; } bn_saved;   /* rows: of the whole batch */

/* The per-row kernels of the normalisation passes: most of a step's work outside the matrix multiplies,
 * so each is built for every vector width (MC_CLONES). x_hat = (z - mean) / std, recomputed from z.
 *
 * The column sums (in double) go over a block of n rows 16 columns at a time, the 16 columns' sums held
 * in registers down the block: one row at a time, each row would load and store all 2C sums. Each
 * column is still summed row after row, so the sums are the same to the bit. */
#define SUM_ROWS 16     /* rows a block: as many streams, few enough for the prefetchers when z comes from memory */
#if defined(__GNUC__)   /* gcc and clang: vectors of 8 doubles, as wide as each clone's registers allow */
#define SUM_COLS 16
typedef float sum_f8 __attribute__((vector_size(32)));
typedef double sum_d8 __attribute__((vector_size(64)));
/* loads by memcpy (any alignment), as macros: a vector returned by value would change the ABI per clone */
#define SUM_F8(v, p) sum_f8 v; memcpy(&v, (p), sizeof v)
#define SUM_D8(v, p) sum_d8 v; memcpy(&v, (p), sizeof v)
#define SUM_WIDEN(v, p) SUM_F8(v##_f, p); sum_d8 v = __builtin_convertvector(v##_f, sum_d8)
#else
#define SUM_COLS 0      /* elsewhere the plain loops below do every column */
#endif

MC_CLONES static void block_sums(const float *restrict x, int n, int C, double *restrict s1, double *restrict s2)
{
    int c0 = 0;
#if SUM_COLS
    for (; c0 + SUM_COLS <= C; c0 += SUM_COLS) {
        SUM_D8(a0, s1 + c0); SUM_D8(a1, s1 + c0 + 8); SUM_D8(b0, s2 + c0); SUM_D8(b1, s2 + c0 + 8);
        for (int r = 0; r < n; r++) {
            const float *xr = x + (size_t)r * C + c0;
            SUM_WIDEN(v0, xr); SUM_WIDEN(v1, xr + 8);
            a0 += v0; a1 += v1;
            b0 += v0 * v0; b1 += v1 * v1;
        }
        memcpy(s1 + c0, &a0, sizeof a0); memcpy(s1 + c0 + 8, &a1, sizeof a1);
        memcpy(s2 + c0, &b0, sizeof b0); memcpy(s2 + c0 + 8, &b1, sizeof b1);
    }
#endif
    for (int r = 0; r < n; r++)
        for (int c = c0; c < C; c++) { double v = x[(size_t)r * C + c]; s1[c] += v; s2[c] += v * v; }
}

/* Where a ReLU after the norm let the value through: y = gamma x_hat + beta > 0, by row_normalise's very
 * operations, so the same decision. The backward recomputes it from z, which it reads anyway, instead of
 * reading the output y as well (these passes run at memory speed). */
#define RELU_PASSES(c) (gamma[c] * (z[c] - mean[c]) * invstd[c] + beta[c] > 0)

/* The sums the backward needs, sum g and sum g x_hat, a row at a time (z comes from memory here, and
 * blocking as above was measured no faster); with relu, g is taken as 0 where the ReLU cut. */
MC_CLONES static void row_grad_sums(const float *restrict g, const float *restrict z, const float *restrict mean,
                                    const float *restrict invstd, const float *restrict gamma, const float *restrict beta,
                                    int relu, int C, double *restrict s1, double *restrict s2)
{
    if (relu)
        for (int c0 = 0; c0 < C; c0 += 256) {   /* the masked g a stretch at a time: two loops that vectorise */
            float gm[256];
            int w = C - c0 < 256 ? C - c0 : 256;
            for (int j = 0, c = c0; j < w; j++, c++) gm[j] = RELU_PASSES(c) ? g[c] : 0;
            for (int j = 0, c = c0; j < w; j++, c++) {
                s1[c] += gm[j];
                s2[c] += (double)gm[j] * ((z[c] - mean[c]) * invstd[c]);
            }
        }
    else
        for (int c = 0; c < C; c++) {
            s1[c] += g[c];
            s2[c] += (double)g[c] * ((z[c] - mean[c]) * invstd[c]);
        }
}

/* dz = a (g - m1 - x_hat m2), from the sums above (a = gamma/std, m1 and m2 their means; g taken as 0
 * where a ReLU cut). */
MC_CLONES static void row_dz(float *out, const float *g, const float *restrict z, const float *restrict mean,
                             const float *restrict invstd, const float *restrict gamma, const float *restrict beta, int relu,
                             const float *restrict a, const float *restrict m1, const float *restrict m2, int C, int accumulate)
{
    if (relu)
        for (int c = 0; c < C; c++) {
            float gc = g[c];
            gc = RELU_PASSES(c) ? gc : 0;
            float d = a[c] * (gc - m1[c] - (z[c] - mean[c]) * invstd[c] * m2[c]);
            if (accumulate) out[c] += d;
            else out[c] = d;
        }
    else if (accumulate)
        for (int c = 0; c < C; c++) out[c] += a[c] * (g[c] - m1[c] - (z[c] - mean[c]) * invstd[c] * m2[c]);
    else
        for (int c = 0; c < C; c++) out[c] = a[c] * (g[c] - m1[c] - (z[c] - mean[c]) * invstd[c] * m2[c]);
}

/* y = gamma x_hat + beta, then the ReLU if asked. */
MC_CLONES static void row_normalise(float *restrict y, const float *restrict z, const float *restrict mean,
                                    const float *restrict invstd, const float *restrict gamma, const float *restrict beta,
                                    int relu, int C)
{
    for (int c = 0; c < C; c++) {
        float v = gamma[c] * (z[c] - mean[c]) * invstd[c] + beta[c];
        y[c] = relu && !(v > 0) ? 0 : v;
    }
}

/* linear_bn_max: the running maximum over the rows of one shape, and the row it came from. */
MC_CLONES static void row_max(const float *restrict z, const float *restrict mean, const float *restrict invstd,
                              const float *restrict gamma, const float *restrict beta, int relu, int C, int r,
                              float *restrict best, int *restrict where)
{
    for (int c = 0; c < C; c++) {
        float v = gamma[c] * (z[c] - mean[c]) * invstd[c] + beta[c];
        v = relu && !(v > 0) ? 0 : v;
        if (v > best[c]) { best[c] = v; where[c] = r; }
    }
}

/* Its backward: the gradient g' is gmax at each column's maximum and 0 elsewhere; dz overwrites z. */
MC_CLONES static void row_max_dz(float *restrict z, const int *restrict where, const float *restrict gmax, int r,
                                 const float *restrict mean, const float *restrict invstd, const float *restrict a,
                                 const float *restrict m1, const float *restrict m2, int C)
{
    for (int c = 0; c < C; c++) {
        float gp = where[c] == r ? gmax[c] : 0;
        z[c] = a[c] * (gp - m1[c] - (z[c] - mean[c]) * invstd[c] * m2[c]);
    }
}

/* A layer with at most 4 inputs (the template's 2 or 3 coordinates, the encoder's xyz): 2-4 multiply-adds
 * an output, so as a GEMM it is a pass that only stores z, and the statistics pass then reads it back.
 * narrow_row computes a row of z = x W^T + bias in L1 from W^T (in x C), with the GEMM kernels'
 * operations in their order (a fused multiply-add from 0, then one per input), so z is the same to the
 * bit; the sums are then taken while the block of rows is in cache. The arch=haswell clone has FMA (AVX2 alone
 * does not say so), so fmaf is an instruction there too. */
typedef struct { const float *x, *wt; int in; } narrow_input;
#define NARROW_MAX_IN 4

__attribute__((always_inline)) static inline void narrow_row_n(float *restrict z, const float *restrict x,
                                                               const float *restrict wt, const int in,
                                                               const float *restrict bias, int C)
{
    for (int c = 0; c < C; c++) {
        float acc = fmaf(x[0], wt[c], 0.0f);
        for (int p = 1; p < in; p++) acc = fmaf(x[p], wt[(size_t)p * C + c], acc);
        z[c] = acc + bias[c];
    }
}

__attribute__((target_clones("avx512f", "arch=haswell", "default")))
static void narrow_row(float *restrict z, const float *restrict x, const float *restrict wt, int in,
                       const float *restrict bias, int C)
{
    switch (in) {   /* a constant count of inputs, so the loop over columns vectorises */
    case 1: narrow_row_n(z, x, wt, 1, bias, C); break;
    case 2: narrow_row_n(z, x, wt, 2, bias, C); break;
    case 3: narrow_row_n(z, x, wt, 3, bias, C); break;
    default: narrow_row_n(z, x, wt, 4, bias, C); break;
    }
}

/* Per-column sums in double over all rows, by blocks of rows: each thread takes a run of rows (the first
 * rows % threads one row longer), sums it block by block into its own partial sums with sum_block, and
 * the partial sums are added in thread order: the same sums for any OpenMP runtime. */
typedef void (*sum_block_fn)(const void *ctx, int64_t r0, int n, double *s1, double *s2);

static void column_sums(int64_t rows, int C, sum_block_fn sum_block, const void *ctx, double *s1, double *s2)
{
    memset(s1, 0, (size_t)C * sizeof *s1);
    memset(s2, 0, (size_t)C * sizeof *s2);
    int nt = rows * C > PAR_MIN ? mc_num_threads() : 1;
    double *part = mc_arena_zalloc((size_t)nt * 2 * C * sizeof *part);   /* per-thread partial sums */
    #pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int t = mc_thread_id(), team = mc_team_size();
        int64_t q = rows / team, extra = rows % team;
        int64_t lo = t * q + (t < extra ? t : extra), hi = lo + q + (t < extra);
        double *p1 = part + (size_t)t * 2 * C, *p2 = p1 + C;
        for (int64_t r0 = lo; r0 < hi; r0 += SUM_ROWS)
            sum_block(ctx, r0, (int)(hi - r0 < SUM_ROWS ? hi - r0 : SUM_ROWS), p1, p2);
    }
    for (int t = 0; t < nt; t++)
        for (int c = 0; c < C; c++) { s1[c] += part[(size_t)t * 2 * C + c]; s2[c] += part[(size_t)t * 2 * C + C + c]; }
}

/* The forward's: sums of x and x*x, with a bias row added to x first (the next one every per_bias rows),
 * and with nx, x first computed from it. */
typedef struct { float *x; const narrow_input *nx; const float *bias; int64_t per_bias; int C; } value_sums;

static void value_sum_block(const void *ctx, int64_t r0, int n, double *s1, double *s2)
{
    const value_sums *v = ctx;
    int C = v->C;
    for (int64_t r = r0; r < r0 + n; r++) {
        const float *b = v->bias ? v->bias + r / v->per_bias * C : NULL;
        if (v->nx) narrow_row(v->x + r * C, v->nx->x + r * v->nx->in, v->nx->wt, v->nx->in, b, C);
        else if (b) for (int c = 0; c < C; c++) v->x[r * C + c] += b[c];
    }
    block_sums(v->x + r0 * C, n, C, s1, s2);
}

/* The backward's: sums of the gradient g and of g x_hat (x_hat from z), g taken as 0 where a ReLU cut. */
typedef struct { const float *g, *z, *mean, *invstd, *gamma, *beta; int relu, C; } grad_sums;

static void grad_sum_block(const void *ctx, int64_t r0, int n, double *s1, double *s2)
{
    const grad_sums *v = ctx;
    for (int64_t r = r0; r < r0 + n; r++)
        row_grad_sums(v->g + r * v->C, v->z + r * v->C, v->mean, v->invstd, v->gamma, v->beta, v->relu, v->C, s1, s2);
}

/* The mean and 1/std that normalise each column: the batch's (biased variance), updating the running
 * statistics with momentum and the unbiased variance, as torch.nn.BatchNorm1d; or, in eval mode, the
 * running ones. With the batch split over ranks (mc_dist), the column sums and the row count are summed
 * over the ranks first, so every rank normalises with the whole batch's statistics. Returns the rows
 * the statistics are over. */
static double batch_statistics(const char *op, float *x, const narrow_input *nx, const float *bias, int64_t per_bias,
                               int64_t rows, int C, int training, float momentum, float eps, mc_tensor *running_mean,
                               mc_tensor *running_var, float *mean_out, float *invstd_out)
{
    if (!training) {
        if (nx)
            #pragma omp parallel for schedule(static) if (rows * C > PAR_MIN)
            for (int64_t r = 0; r < rows; r++)
                narrow_row(x + r * C, nx->x + r * nx->in, nx->wt, nx->in, bias + r / per_bias * C, C);
        else if (bias)
            #pragma omp parallel for schedule(static) if (rows * C > PAR_MIN)
            for (int64_t r = 0; r < rows; r++)
                for (int c = 0; c < C; c++) x[r * C + c] += bias[r / per_bias * C + c];
        for (int c = 0; c < C; c++) {
            mean_out[c] = running_mean->data[c];
            invstd_out[c] = 1.0f / sqrtf(running_var->data[c] + eps);
        }
        return (double)rows;
    }
    double *s1 = mc_arena_alloc((2 * (size_t)C + 1) * sizeof(double)), *s2 = s1 + C;   /* then the row count */
    column_sums(rows, C, value_sum_block, &(value_sums){x, nx, bias, per_bias, C}, s1, s2);
    s1[2 * C] = (double)rows;
    mc_dist_sum(s1, 2 * C + 1);
    double n = s1[2 * C];
    if (n < 2) mc_fatal("%s: training needs more than one value per channel, got %.0f rows of %d channels", op, n, C);
    for (int c = 0; c < C; c++) {
        double mean = s1[c] / n, var = s2[c] / n - mean * mean;
        if (var < 0) var = 0;
        mean_out[c] = (float)mean;
        invstd_out[c] = (float)(1.0 / sqrt(var + eps));
        running_mean->data[c] = (1 - momentum) * running_mean->data[c] + momentum * (float)mean;
        running_var->data[c] = (1 - momentum) * running_var->data[c] + momentum * (float)(var * n / (n - 1));
    }
    return n;
}

/* The means over the whole batch of the backward's column sums s1 = sum g and s2 = sum g x_hat, into m1
 * and m2 (eval mode: 0, the statistics are constants). With the batch split over ranks they are summed
 * over the ranks first; gamma's and beta's gradients take the rank's own sums, since the ranks'
 * gradients are summed later with all the others. */
static void grad_means(const double *s1, const double *s2, int C, double rows, int training, float *m1, float *m2)
{
    if (training && mc_dist_current()) {
        double *s = mc_arena_alloc(2 * (size_t)C * sizeof(double));
        memcpy(s, s1, (size_t)C * sizeof(double));
        memcpy(s + C, s2, (size_t)C * sizeof(double));
        mc_dist_sum(s, 2 * C);
        s1 = s; s2 = s + C;
    }
    for (int c = 0; c < C; c++) {
        m1[c] = training ? (float)(s1[c] / rows) : 0;
        m2[c] = training ? (float)(s2[c] / rows) : 0;
    }
}

static void batchnorm_backward(mc_node *n)
{
    mc_tensor *x = n->in[0], *gamma = n->in[1], *beta = n->in[2];
    bn_saved *sv = n->saved;
    int C = mc_cols(x);
    int64_t rows = mc_rows(x);
    float *g = n->out->grad;
    double *sum_g = mc_arena_alloc((size_t)C * sizeof(double)), *sum_gx = mc_arena_alloc((size_t)C * sizeof(double));
    column_sums(rows, C, grad_sum_block, &(grad_sums){g, x->data, sv->mean, sv->invstd, NULL, NULL, 0, C}, sum_g, sum_gx);
    if (needs_grad(gamma)) { float *gg = mc_grad(gamma); for (int c = 0; c < C; c++) gg[c] += (float)sum_gx[c]; }
    if (needs_grad(beta))  { float *gb = mc_grad(beta);  for (int c = 0; c < C; c++) gb[c] += (float)sum_g[c]; }
    if (!needs_grad(x)) return;
    float *gx = mc_grad(x), *a = mc_arena_alloc((size_t)C * sizeof(float)), *m_g = mc_arena_alloc((size_t)C * sizeof(float)),
          *m_gx = mc_arena_alloc((size_t)C * sizeof(float));
    for (int c = 0; c < C; c++) a[c] = gamma->data[c] * sv->invstd[c];
    grad_means(sum_g, sum_gx, C, sv->rows, sv->training, m_g, m_gx);
    #pragma omp parallel for schedule(static) if (rows * C > PAR_MIN)
    for (int64_t r = 0; r < rows; r++)
        row_dz(gx + r * C, g + r * C, x->data + r * C, sv->mean, sv->invstd, NULL, NULL, 0, a, m_g, m_gx, C, 1);
}

mc_tensor *mc_batchnorm(mc_tensor *x, const mc_batchnorm_layer *bn)
{
    mc_tensor *gamma = bn->weight, *beta = bn->bias, *running_mean = bn->running_mean, *running_var = bn->running_var;
    int training = mc_training();
    int C = mc_cols(x);
    int64_t rows = mc_rows(x);
    mc_check_shape("batchnorm", x, gamma, gamma->size == C && beta->size == C && running_mean->size == C &&
                   running_var->size == C, "channels (last axis) do not match the layer");
    bn_saved *sv = mc_arena_alloc(sizeof *sv);
    sv->training = training;
    sv->mean = mc_arena_alloc((size_t)C * sizeof(float));
    sv->invstd = mc_arena_alloc((size_t)C * sizeof(float));
    sv->rows = batch_statistics("batchnorm", x->data, NULL, NULL, 0, rows, C, training, bn->momentum, bn->eps, running_mean,
                                running_var, sv->mean, sv->invstd);
    mc_tensor *out = mc_tensor_new(x->ndim, x->shape);
    #pragma omp parallel for schedule(static) if (rows * C > PAR_MIN)
    for (int64_t r = 0; r < rows; r++)
        row_normalise(out->data + r * C, x->data + r * C, sv->mean, sv->invstd, gamma->data, beta->data, 0, C);
    mc_node *n = mc_record("batchnorm", out, (mc_tensor *[]){x, gamma, beta}, 3, batchnorm_backward);
    if (n) n->saved = sv;
    return out;
}

/* ---------------------------------------------------------------------------------------------------
 * Chamfer distance, fused: the forward keeps each point's nearest neighbour index, which is all the
 * backward needs (the gradient of a min flows to its argmin).
 */
typedef struct { int *idx_a, *idx_b; } chamfer_saved;

static void chamfer_backward(mc_node *n)
{
    mc_tensor *a = n->in[0], *b = n->in[1];
    chamfer_saved *sv = n->saved;
    int B = a->shape[0], N = a->shape[1], M = b->shape[1];
    float g = n->out->grad[0];
    float *ga = needs_grad(a) ? mc_grad(a) : NULL, *gb = needs_grad(b) ? mc_grad(b) : NULL;
    float fa = 2 * g / ((float)N * B), fb = 2 * g / ((float)M * B);
    #pragma omp parallel for schedule(static)
    for (int s = 0; s < B; s++) {
        const float *pa = a->data + (int64_t)s * N * 3, *pb = b->data + (int64_t)s * M * 3;
        float *da = ga ? ga + (int64_t)s * N * 3 : NULL, *db = gb ? gb + (int64_t)s * M * 3 : NULL;
        for (int i = 0; i < N; i++) {
            int j = sv->idx_a[(int64_t)s * N + i];
            for (int d = 0; d < 3; d++) {
                float diff = fa * (pa[3 * i + d] - pb[3 * j + d]);
                if (da) da[3 * i + d] += diff;
                if (db) db[3 * j + d] -= diff;
            }
        }
        for (int j = 0; j < M; j++) {
            int i = sv->idx_b[(int64_t)s * M + j];
            for (int d = 0; d < 3; d++) {
                float diff = fb * (pb[3 * j + d] - pa[3 * i + d]);
                if (db) db[3 * j + d] += diff;
                if (da) da[3 * i + d] -= diff;
            }
        }
    }
}

mc_tensor *mc_chamfer(mc_tensor *a, mc_tensor *b)
{
    mc_check_shape("chamfer", a, b, a->ndim == 3 && b->ndim == 3 && a->shape[2] == 3 && b->shape[2] == 3 &&
                   a->shape[0] == b->shape[0] && a->shape[1] > 0 && b->shape[1] > 0, "needs (B,N,3) and (B,M,3)");
    int B = a->shape[0], N = a->shape[1], M = b->shape[1];
    chamfer_saved *sv = mc_arena_alloc(sizeof *sv);
    sv->idx_a = mc_arena_alloc((size_t)B * N * sizeof(int));
    sv->idx_b = mc_arena_alloc((size_t)B * M * sizeof(int));
    float *dist_a = mc_arena_alloc((size_t)B * N * sizeof(float)), *dist_b = mc_arena_alloc((size_t)B * M * sizeof(float));
    double *per_shape = mc_arena_alloc((size_t)B * sizeof *per_shape);
    #pragma omp parallel for schedule(dynamic)
    for (int s = 0; s < B; s++) {
        int64_t oa = (int64_t)s * N, ob = (int64_t)s * M;
        mc_nearest(a->data + oa * 3, N, b->data + ob * 3, M, dist_a + oa, sv->idx_a + oa, dist_b + ob, sv->idx_b + ob);
        double sa = 0, sb = 0;
        for (int i = 0; i < N; i++) sa += dist_a[oa + i];
        for (int j = 0; j < M; j++) sb += dist_b[ob + j];
        per_shape[s] = sa / N + sb / M;
    }
    double total = 0;
    for (int s = 0; s < B; s++) total += per_shape[s];    /* in order: the same sum for any thread count */
    mc_tensor *out = mc_tensor_new(0, NULL);
    out->data[0] = (float)(total / B);
    mc_node *n = mc_record("chamfer", out, (mc_tensor *[]){a, b}, 2, chamfer_backward);
    if (n) n->saved = sv;
    return out;
}

/* ---------------------------------------------------------------------------------------------------
 * The sum over ranks (mc_dist). If every rank's loss depends on y = sum_r x_r, the gradient of the
 * ranks' total loss with respect to each x_r is the sum of the ranks' gradients of y: the adjoint of a
 * sum over ranks is a sum over ranks.
 */
static void sum_over_ranks(float *x, int64_t n)
{
    double *v = mc_arena_alloc((size_t)n * sizeof *v);
    for (int64_t k = 0; k < n; k++) v[k] = x[k];
    mc_dist_sum(v, (int)n);
    for (int64_t k = 0; k < n; k++) x[k] = (float)v[k];
}

static void sum_ranks_backward(mc_node *n)
{
    mc_tensor *x = n->in[0];
    int64_t size = x->size;
    float *g = mc_arena_alloc((size_t)size * sizeof(float)), *gx = mc_grad(x);
    memcpy(g, n->out->grad, (size_t)size * sizeof(float));
    sum_over_ranks(g, size);
    for (int64_t k = 0; k < size; k++) gx[k] += g[k];
}

mc_tensor *mc_sum_ranks(mc_tensor *x)
{
    mc_tensor *out = mc_tensor_from(x->ndim, x->shape, x->data);
    sum_over_ranks(out->data, out->size);
    mc_record("sum_ranks", out, &x, 1, sum_ranks_backward);
    return out;
}

/* ---------------------------------------------------------------------------------------------------
 * Random constants.
 */
mc_tensor *mc_randn(mc_rng *rng, int ndim, const int *shape)
{
    mc_tensor *t = mc_tensor_new(ndim, shape);
    mc_rng_fill_normal(rng, t->data, t->size, 0, 1);
    return t;
}

mc_tensor *mc_rand(mc_rng *rng, int ndim, const int *shape)
{
    mc_tensor *t = mc_tensor_new(ndim, shape);
    mc_rng_fill_uniform(rng, t->data, t->size, 0, 1);
    return t;
}

/* ---------------------------------------------------------------------------------------------------
 * Fused per-point layers. linear_bn: y = act(batchnorm(x W_x^T + s W_s^T + b)), act = ReLU or identity,
 * where W = [W_x | W_s] and s (S,L) is an optional per-shape input added to every point of its shape:
 * AtlasNet's decoder layer over concat(template point, latent), with the latent half done once per
 * shape. linear_bn_max: the same layer followed by the max over points (PointNet's last layer), which
 * never materialises the (B,N,C) output. Both are the same functions as the separate ops, but keep only
 * z (before the norm), and their backward makes two passes over it instead of six.
 */
typedef struct {
    mc_tensor *z;           /* (R,C) pre-normalisation; linear_bn_max turns it into dz in place */
    float *mean, *invstd;
    double rows;            /* the rows of the whole batch (over all ranks) */
    int   *argmax;          /* linear_bn_max: the row of each (shape, channel) maximum */
    int relu, training, shapes, ld;
} fused_saved;

/* z = x W_x^T + s W_s^T + b, its batch statistics (or the running ones), and the running update. */
static fused_saved *fused_forward(const char *op, mc_tensor *x, const mc_linear_layer *l, mc_tensor *s,
                                  const mc_batchnorm_layer *bn, mc_act act)
{
    mc_tensor *w = l->weight, *b = l->bias, *gamma = bn->weight, *beta = bn->bias, *rm = bn->running_mean, *rv = bn->running_var;
    int training = mc_training(), relu = act == MC_ACT_RELU;
    int in = mc_cols(x), L = s ? mc_cols(s) : 0, S = s ? s->shape[0] : 1;
    mc_check_shape(op, x, w, w->ndim == 2 && w->shape[1] == in + L, "does not match weight (columns = input + shape input)");
    int C = w->shape[0], ld = in + L;
    int64_t R = mc_rows(x);
    if (b) mc_check_shape(op, b, w, b->size == C, "bias does not match weight");
    if (s) mc_check_shape(op, x, s, s->ndim == 2 && x->ndim == 3 && x->shape[0] == S, "per-shape input must be (B,L) for input (B,N,in)");
    mc_check_shape(op, gamma, w, gamma->size == C && beta->size == C && rm->size == C && rv->size == C,
                   "batchnorm channels do not match the layer's outputs");
    fused_saved *sv = mc_arena_alloc(sizeof *sv);
    *sv = (fused_saved){.relu = relu, .training = training, .shapes = S, .ld = ld};
    sv->z = mc_tensor_new(2, (int[]){(int)R, C});
    sv->mean = mc_arena_alloc((size_t)C * sizeof(float));
    sv->invstd = mc_arena_alloc((size_t)C * sizeof(float));
    float *shape_bias = mc_arena_alloc((size_t)S * C * sizeof(float)), *z = sv->z->data;   /* (S,C): s W_s^T + b */
    for (int k = 0; k < S; k++)
        for (int c = 0; c < C; c++) shape_bias[(int64_t)k * C + c] = b ? b->data[c] : 0;
    if (s) mc_gemm(0, 1, S, C, L, 1, s->data, L, w->data + in, ld, 1, shape_bias, C);
    narrow_input nx = {x->data, NULL, in}, *narrow = in >= 1 && in <= NARROW_MAX_IN ? &nx : NULL;
    if (narrow) {   /* W_x^T, in x C */
        float *wt = mc_arena_alloc((size_t)in * C * sizeof(float));
        for (int c = 0; c < C; c++)
            for (int p = 0; p < in; p++) wt[(size_t)p * C + c] = w->data[(int64_t)c * ld + p];
        nx.wt = wt;
    } else
        mc_gemm(0, 1, (int)R, C, in, 1, x->data, in, w->data, ld, 0, z, C);
    sv->rows = batch_statistics(op, z, narrow, shape_bias, R / S, R, C, training, bn->momentum, bn->eps, rm, rv, sv->mean,
                                sv->invstd);   /* adds the bias (and computes z, for a narrow x) */
    return sv;
}

/* The batchnorm half of the backward: gamma and beta get their gradients from the column sums
 * s1 = sum g' and s2 = sum g' x_hat; returns a = gamma/std and the means m1, m2 the z gradient needs:
 * dz = a (g' - m1 - x_hat m2). */
static void fused_bn_grads(mc_node *n, const fused_saved *sv, const double *s1, const double *s2,
                           float **a_out, float **m1_out, float **m2_out)
{
    mc_tensor *gamma = n->in[4], *beta = n->in[5];
    int C = gamma->size;
    float *a = mc_arena_alloc((size_t)C * sizeof(float)), *m1 = mc_arena_alloc((size_t)C * sizeof(float)),
          *m2 = mc_arena_alloc((size_t)C * sizeof(float));
    for (int c = 0; c < C; c++) {
        if (needs_grad(gamma)) mc_grad(gamma)[c] += (float)s2[c];
        if (needs_grad(beta)) mc_grad(beta)[c] += (float)s1[c];
        a[c] = gamma->data[c] * sv->invstd[c];
    }
    grad_means(s1, s2, C, sv->rows, sv->training, m1, m2);
    *a_out = a; *m1_out = m1; *m2_out = m2;
}

/* The linear half: dz (R,C) into the gradients of x, W = [W_x | W_s], b and the per-shape input s. */
static void fused_linear_grads(mc_node *n, const fused_saved *sv, const float *dz)
{
    mc_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2], *s = n->in[3];
    int C = w->shape[0], in = mc_cols(x), L = s ? mc_cols(s) : 0, S = sv->shapes, ld = sv->ld;
    int64_t R = mc_rows(x), per_shape = R / S;
    float beta_w = 1, beta, *gw = needs_grad(w) ? mc_grad_whole(w, &beta_w) : NULL;   /* dW_x and dW_s fill it */
    /* With batch statistics the bias cancels in the normalisation: its true gradient is exactly 0 and stays
     * so (the sum of dz would be rounding noise, which Adam turns into lr-sized steps, and which parts the
     * runs of one process and of N ranks) */
    int bias = needs_grad(b) && !sv->training;
    if (needs_grad(b) && sv->training) (void)mc_grad(b);
    if (bias || needs_grad(s) || (s && gw)) {
        float *per = mc_arena_zalloc((size_t)S * C * sizeof(float));          /* dz summed per shape */
        #pragma omp parallel for schedule(static)
        for (int k = 0; k < S; k++)
            for (int64_t r = k * per_shape; r < (k + 1) * per_shape; r++)
                for (int c = 0; c < C; c++) per[(int64_t)k * C + c] += dz[r * C + c];
        if (bias) { float *gb = mc_grad(b); for (int k = 0; k < S; k++) for (int c = 0; c < C; c++) gb[c] += per[(int64_t)k * C + c]; }
        if (s && needs_grad(s)) { float *gs = mc_grad_whole(s, &beta); mc_gemm(0, 0, S, L, C, 1, per, C, w->data + in, ld, beta, gs, L); }  /* ds = dS W_s */
        if (s && gw) mc_gemm(1, 0, C, L, S, 1, per, C, s->data, L, beta_w, gw + in, ld);                  /* dW_s = dS^T s */
    }
    if (needs_grad(x)) { float *gx = mc_grad_whole(x, &beta); mc_gemm(0, 0, (int)R, in, C, 1, dz, C, w->data, ld, beta, gx, in); }  /* dX = dZ W_x */
    if (gw) mc_gemm(1, 0, C, in, (int)R, 1, dz, C, x->data, in, beta_w, gw, ld);                            /* dW_x = dZ^T X */
}

static void linear_bn_backward(mc_node *n)
{
    fused_saved *sv = n->saved;
    int C = n->out->shape[n->out->ndim - 1];
    int64_t R = mc_rows(n->out);
    float *g = n->out->grad;            /* becomes dz in place: nothing reads this gradient after us */
    const float *z = sv->z->data, *gamma = n->in[4]->data, *beta = n->in[5]->data;
    double *s1 = mc_arena_alloc((size_t)C * sizeof(double)), *s2 = mc_arena_alloc((size_t)C * sizeof(double));
    column_sums(R, C, grad_sum_block, &(grad_sums){g, z, sv->mean, sv->invstd, gamma, beta, sv->relu, C}, s1, s2);
    float *a, *m1, *m2;
    fused_bn_grads(n, sv, s1, s2, &a, &m1, &m2);
    #pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < R; r++)
        row_dz(g + r * C, g + r * C, z + r * C, sv->mean, sv->invstd, gamma, beta, sv->relu, a, m1, m2, C, 0);
    fused_linear_grads(n, sv, g);
}

mc_tensor *mc_linear_bn(mc_tensor *x, const mc_linear_layer *l, const mc_batchnorm_layer *bn, mc_tensor *shape_input, mc_act act)
{
    fused_saved *sv = fused_forward("linear_bn", x, l, shape_input, bn, act);
    mc_tensor *gamma = bn->weight, *beta = bn->bias;
    int C = l->weight->shape[0], shape[MC_MAX_DIMS];
    int64_t R = mc_rows(x);
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = C;
    mc_tensor *out = mc_tensor_new(x->ndim, shape);
    const float *z = sv->z->data;
    #pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < R; r++)
        row_normalise(out->data + r * C, z + r * C, sv->mean, sv->invstd, gamma->data, beta->data, sv->relu, C);
    mc_node *n = mc_record("linear_bn", out, (mc_tensor *[]){x, l->weight, l->bias, shape_input, gamma, beta}, 6, linear_bn_backward);
    if (n) n->saved = sv;
    return out;
}

static void linear_bn_max_backward(mc_node *n)
{
    fused_saved *sv = n->saved;
    int B = n->out->shape[0], C = n->out->shape[1];
    int64_t R = mc_rows(n->in[0]), per_shape = R / B;
    const float *y = n->out->data;
    float *z = sv->z->data;
    /* g' is the output gradient at each (shape, channel) maximum and 0 elsewhere: its sums need one
     * visit per maximum */
    float *gmax = mc_arena_alloc((size_t)B * C * sizeof(float));
    double *s1 = mc_arena_zalloc((size_t)C * sizeof(double)), *s2 = mc_arena_zalloc((size_t)C * sizeof(double));
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++) {
            float gp = sv->relu && !(y[b * C + c] > 0) ? 0 : n->out->grad[b * C + c];
            int64_t r = sv->argmax[b * C + c];
            gmax[b * C + c] = gp;
            s1[c] += gp;
            s2[c] += (double)gp * (z[r * C + c] - sv->mean[c]) * sv->invstd[c];
        }
    float *a, *m1, *m2;
    fused_bn_grads(n, sv, s1, s2, &a, &m1, &m2);
    /* dz overwrites z: each element is read, then written */
    #pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < R; r++) {
        int64_t b = r / per_shape;
        row_max_dz(z + r * C, sv->argmax + b * C, gmax + b * C, (int)r, sv->mean, sv->invstd, a, m1, m2, C);
    }
    fused_linear_grads(n, sv, z);
}

mc_tensor *mc_linear_bn_max(mc_tensor *x, const mc_linear_layer *l, const mc_batchnorm_layer *bn, mc_act act)
{
    mc_check_shape("linear_bn_max", x, l->weight, x->ndim == 3, "needs (B,N,in)");
    fused_saved *sv = fused_forward("linear_bn_max", x, l, NULL, bn, act);
    mc_tensor *gamma = bn->weight, *beta = bn->bias;
    int B = x->shape[0], N = x->shape[1], C = l->weight->shape[0];
    mc_tensor *out = mc_tensor_new(2, (int[]){B, C});
    sv->argmax = mc_arena_alloc((size_t)B * C * sizeof(int));
    const float *z = sv->z->data;
    #pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        float *best = out->data + (int64_t)b * C;
        int *where = sv->argmax + (int64_t)b * C;
        for (int c = 0; c < C; c++) { best[c] = -FLT_MAX; where[c] = b * N; }
        for (int p = 0; p < N; p++) {
            int64_t r = (int64_t)b * N + p;
            row_max(z + r * C, sv->mean, sv->invstd, gamma->data, beta->data, sv->relu, C, (int)r, best, where);
        }
    }
    mc_node *n = mc_record("linear_bn_max", out, (mc_tensor *[]){x, l->weight, l->bias, NULL, gamma, beta}, 6, linear_bn_max_backward);
    if (n) n->saved = sv;
    return out;
}
