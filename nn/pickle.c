#include "nn/pickle.h"
#include "tensor/tensor.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct { const char *name; int size; } dtypes[MC_NDTYPES] = {
    [MC_F32] = {"F32", 4}, [MC_F64] = {"F64", 8}, [MC_F16] = {"F16", 2}, [MC_BF16] = {"BF16", 2},
    [MC_I64] = {"I64", 8}, [MC_I32] = {"I32", 4}, [MC_I16] = {"I16", 2}, [MC_I8] = {"I8", 1},
    [MC_U8] = {"U8", 1}, [MC_BOOL] = {"BOOL", 1},
};
int mc_dtype_size(mc_dtype t) { return dtypes[t].size; }
const char *mc_dtype_name(mc_dtype t) { return dtypes[t].name; }

static uint64_t le_bytes(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int k = 0; k < n; k++) v |= (uint64_t)p[k] << (8 * k);
    return v;
}

static float half_to_float(uint32_t h)
{
    uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, u;
    if (exp == 0x1f) u = sign | 0x7f800000u | mant << 13;              /* inf, nan */
    else if (exp) u = sign | (exp + 112) << 23 | mant << 13;            /* normal: rebias 15 -> 127 */
    else if (!mant) u = sign;                                           /* zero */
    else {                                                              /* subnormal: normalise */
        int e = -1;
        do { e++; mant <<= 1; } while (!(mant & 0x400));
        u = sign | (uint32_t)(112 - e) << 23 | (mant & 0x3ff) << 13;
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float mc_dtype_get(mc_dtype t, const unsigned char *data, int64_t i)
{
    const unsigned char *p = data + i * dtypes[t].size;
    uint64_t v = le_bytes(p, dtypes[t].size);
    uint32_t u32 = (uint32_t)v;
    float f;
    double d;
    switch (t) {
    case MC_F32: memcpy(&f, &u32, 4); return f;
    case MC_F64: memcpy(&d, &v, 8); return (float)d;
    case MC_F16: return half_to_float(u32);
    case MC_BF16: u32 <<= 16; memcpy(&f, &u32, 4); return f;
    case MC_I64: return (float)(int64_t)v;
    case MC_I32: return (float)(int32_t)u32;
    case MC_I16: return (float)(int16_t)u32;
    case MC_I8: return (float)(int8_t)u32;
    case MC_U8: case MC_BOOL: default: return (float)u32;
    }
}

int64_t mc_float_to_int64(float v)
{
    if (!(v > -9.2233720e18f)) return v != v ? 0 : INT64_MIN;
    if (v >= 9.2233720e18f) return INT64_MAX;
    return (int64_t)v;
}

int mc_pk_is(const mc_pk *v, const char *s)
{
    return v && v->type == MC_PK_STR && v->len == strlen(s) && !memcmp(v->s, s, v->len);
}

/* ---- the machine ---- */
enum { G_ODICT = 1, G_REBUILD_V2, G_REBUILD, G_STORAGE };

typedef struct {
    const char *name;
    const unsigned char *buf;
    size_t len, at;
    mc_pickle *p;
    mc_pk **stack;  int sn, scap;
    int *marks;     int mn, mcap;
    mc_pk **memo;   size_t memo_n;
    char *err;
} vm;

static mc_pk *node(vm *m, mc_pk_type type)
{
    mc_pickle *p = m->p;
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 256;
        p->nodes = mc_realloc(p->nodes, (size_t)p->cap * sizeof *p->nodes);
    }
    mc_pk *v = mc_calloc(1, sizeof *v);
    v->type = type;
    return p->nodes[p->n++] = v;
}

static void add_item(mc_pk *c, mc_pk *v)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 4;
        c->items = mc_realloc(c->items, (size_t)c->cap * sizeof *c->items);
    }
    c->items[c->n++] = v;
}

static void push(vm *m, mc_pk *v)
{
    if (m->sn == m->scap) {
        m->scap = m->scap ? 2 * m->scap : 64;
        m->stack = mc_realloc(m->stack, (size_t)m->scap * sizeof *m->stack);
    }
    m->stack[m->sn++] = v;
}

#define FAIL(...) do { fail(m, __VA_ARGS__); return 1; } while (0)
static void fail(vm *m, const char *fmt, const char *what)
{
    char msg[MC_ERRLEN];
    snprintf(msg, sizeof msg, fmt, what);
    mc_set_err(m->err, "%s: pickle at byte %zu: %s", m->name, m->at, msg);
}

static int need(vm *m, size_t n) { return m->len - m->at < n; }

/* The values from the last mark up, removed from the stack into container c (NULL: just dropped). */
static int pop_mark(vm *m, int *from)
{
    if (!m->mn) return 1;
    *from = m->marks[--m->mn];
    return 0;
}

static int is_int(const mc_pk *v) { return v->type == MC_PK_INT && v->len == 0; }

static int storage_global(vm *m, const char *module, const char *name, mc_pk *v)
{
    static const struct { const char *name; mc_dtype t; } storages[] = {
        {"FloatStorage", MC_F32}, {"DoubleStorage", MC_F64}, {"HalfStorage", MC_F16}, {"BFloat16Storage", MC_BF16},
        {"LongStorage", MC_I64}, {"IntStorage", MC_I32}, {"ShortStorage", MC_I16}, {"CharStorage", MC_I8},
        {"ByteStorage", MC_U8}, {"BoolStorage", MC_BOOL},
    };
    (void)m;
    if (strcmp(module, "torch")) return 0;
    for (size_t k = 0; k < sizeof storages / sizeof *storages; k++)
        if (!strcmp(name, storages[k].name)) { v->i = G_STORAGE; v->dtype = storages[k].t; return 1; }
    return 0;
}

static int op_global(vm *m)
{
    char module[128], name[128];
    char *parts[2] = {module, name};
    for (int k = 0; k < 2; k++) {
        const unsigned char *nl = memchr(m->buf + m->at, '\n', m->len - m->at);
        size_t n = nl ? (size_t)(nl - (m->buf + m->at)) : 0;
        if (!nl || n == 0 || n >= sizeof module) FAIL("%s", "bad GLOBAL name");
        memcpy(parts[k], m->buf + m->at, n);
        parts[k][n] = 0;
        for (size_t i = 0; i < n; i++)
            if (parts[k][i] < 0x20 || parts[k][i] > 0x7e) FAIL("%s", "bad GLOBAL name");
        m->at += n + 1;
    }
    mc_pk *v = node(m, MC_PK_GLOBAL);
    if (!strcmp(module, "collections") && !strcmp(name, "OrderedDict")) v->i = G_ODICT;
    else if (!strcmp(module, "torch._utils") && !strcmp(name, "_rebuild_tensor_v2")) v->i = G_REBUILD_V2;
    else if (!strcmp(module, "torch._utils") && !strcmp(name, "_rebuild_tensor")) v->i = G_REBUILD;
    else if (!storage_global(m, module, name, v)) {
        char full[300];
        snprintf(full, sizeof full, "%s.%s", module, name);
        fail(m, "uses the global '%s', which mache does not load (it reads state_dicts of tensors: "
                "save model.state_dict(), not the model)", full);
        return 1;
    }
    push(m, v);
    return 0;
}

/* A persistent id names a storage: ('storage', torch.XStorage, key, location, numel[, view]). */
static int op_persid(vm *m)
{
    if (!m->sn) FAIL("%s", "BINPERSID on an empty stack");
    mc_pk *pid = m->stack[--m->sn];
    if (pid->type != MC_PK_TUPLE || pid->n < 5 || pid->n > 6 || !mc_pk_is(pid->items[0], "storage"))
        FAIL("%s", "a persistent id that is not a storage");
    mc_pk *type = pid->items[1], *key = pid->items[2], *numel = pid->items[4];
    if (type->type != MC_PK_GLOBAL || type->i != G_STORAGE || key->type != MC_PK_STR || key->len == 0 || key->len > 64 ||
        pid->items[3]->type != MC_PK_STR || !is_int(numel) || numel->i < 0)
        FAIL("%s", "a malformed storage id");
    mc_pk *s = node(m, MC_PK_STORAGE);
    s->s = key->s; s->len = key->len; s->dtype = type->dtype; s->numel = numel->i;
    s->view_numel = numel->i;
    if (pid->n == 6 && pid->items[5]->type != MC_PK_NONE) {     /* legacy: (view key, offset, size) */
        mc_pk *view = pid->items[5];
        if (view->type != MC_PK_TUPLE || view->n != 3 || !is_int(view->items[1]) || !is_int(view->items[2]) ||
            view->items[1]->i < 0 || view->items[2]->i < 0 || view->items[1]->i > s->numel || view->items[2]->i > s->numel - view->items[1]->i)
            FAIL("%s", "a storage view out of range");
        s->view_offset = view->items[1]->i;
        s->view_numel = view->items[2]->i;
    }
    push(m, s);
    return 0;
}

static int int_tuple(const mc_pk *t, int64_t *out)
{
    if (t->type != MC_PK_TUPLE || t->n > MC_PK_MAX_DIMS) return 1;
    for (int k = 0; k < t->n; k++) {
        if (!is_int(t->items[k]) || t->items[k]->i < 0) return 1;
        out[k] = t->items[k]->i;
    }
    return 0;
}

static int op_reduce(vm *m)
{
    if (m->sn < 2) FAIL("%s", "REDUCE on a short stack");
    mc_pk *args = m->stack[--m->sn], *f = m->stack[--m->sn];
    if (f->type != MC_PK_GLOBAL || args->type != MC_PK_TUPLE) FAIL("%s", "REDUCE of something not callable");
    if (f->i == G_ODICT) {
        mc_pk *d = node(m, MC_PK_DICT);
        if (args->n == 1 && args->items[0]->type == MC_PK_LIST) {      /* Python 2: OrderedDict([[k, v], ...]) */
            mc_pk *items = args->items[0];
            for (int k = 0; k < items->n; k++) {
                mc_pk *pair = items->items[k];
                if ((pair->type != MC_PK_LIST && pair->type != MC_PK_TUPLE) || pair->n != 2) FAIL("%s", "OrderedDict of non-pairs");
                add_item(d, pair->items[0]);
                add_item(d, pair->items[1]);
            }
        } else if (args->n != 0) FAIL("%s", "OrderedDict with unexpected arguments");
        push(m, d);
        return 0;
    }
    if (f->i == G_REBUILD_V2 || f->i == G_REBUILD) {
        /* _rebuild_tensor(storage, offset, size, stride) and _v2(..., requires_grad, hooks[, metadata]) */
        int ok = f->i == G_REBUILD ? args->n == 4 : args->n == 6 || args->n == 7;
        if (!ok || args->items[0]->type != MC_PK_STORAGE || !is_int(args->items[1]) || args->items[1]->i < 0)
            FAIL("%s", "a tensor rebuilt from unexpected arguments");
        mc_pk *t = node(m, MC_PK_TENSOR);
        t->storage = args->items[0];
        t->offset = args->items[1]->i;
        if (int_tuple(args->items[2], t->shape) || int_tuple(args->items[3], t->stride) || args->items[2]->n != args->items[3]->n)
            FAIL("%s", "a tensor with a bad shape or stride");
        t->ndim = args->items[2]->n;
        push(m, t);
        return 0;
    }
    FAIL("%s", "REDUCE of a storage type");
}

static int run(vm *m)
{
    for (;;) {
        if (need(m, 1)) FAIL("%s", "the pickle ends before STOP");
        unsigned char op = m->buf[m->at++];
        mc_pk *v;
        int from;
        uint64_t n;
        switch (op) {
        case 0x80:                                                  /* PROTO */
            if (need(m, 1) || m->buf[m->at] > 5) FAIL("%s", "bad protocol");
            m->at++;
            break;
        case '.':                                                   /* STOP */
            if (m->sn != 1 || m->mn) FAIL("%s", "STOP with a stack that is not one value");
            m->p->root = m->stack[0];
            return 0;
        case 'c': if (op_global(m)) return 1; break;
        case 'Q': if (op_persid(m)) return 1; break;
        case 'R': if (op_reduce(m)) return 1; break;
        case 'b':                                                   /* BUILD: the OrderedDict's _metadata */
            if (m->sn < 2 || m->stack[m->sn - 2]->type != MC_PK_DICT) FAIL("%s", "BUILD of something not a dict");
            m->sn--;
            break;
        case '(':                                                   /* MARK */
            if (m->mn == m->mcap) {
                m->mcap = m->mcap ? 2 * m->mcap : 16;
                m->marks = mc_realloc(m->marks, (size_t)m->mcap * sizeof *m->marks);
            }
            m->marks[m->mn++] = m->sn;
            break;
        case 't':                                                   /* TUPLE */
            if (pop_mark(m, &from)) FAIL("%s", "TUPLE without MARK");
            v = node(m, MC_PK_TUPLE);
            for (int k = from; k < m->sn; k++) add_item(v, m->stack[k]);
            m->sn = from;
            push(m, v);
            break;
        case ')': push(m, node(m, MC_PK_TUPLE)); break;            /* EMPTY_TUPLE */
        case 0x85: case 0x86: case 0x87: {                          /* TUPLE1, 2, 3 */
            int k = op - 0x84;
            if (m->sn - (m->mn ? m->marks[m->mn - 1] : 0) < k) FAIL("%s", "TUPLEn on a short stack");
            v = node(m, MC_PK_TUPLE);
            for (int i = m->sn - k; i < m->sn; i++) add_item(v, m->stack[i]);
            m->sn -= k;
            push(m, v);
            break;
        }
        case ']': push(m, node(m, MC_PK_LIST)); break;             /* EMPTY_LIST */
        case '}': push(m, node(m, MC_PK_DICT)); break;             /* EMPTY_DICT */
        case 'a':                                                   /* APPEND */
            if (m->sn < 2 || m->stack[m->sn - 2]->type != MC_PK_LIST) FAIL("%s", "APPEND to something not a list");
            add_item(m->stack[m->sn - 2], m->stack[m->sn - 1]);
            m->sn--;
            break;
        case 'e':                                                   /* APPENDS */
            if (pop_mark(m, &from) || from == 0 || m->stack[from - 1]->type != MC_PK_LIST) FAIL("%s", "APPENDS to something not a list");
            for (int k = from; k < m->sn; k++) add_item(m->stack[from - 1], m->stack[k]);
            m->sn = from;
            break;
        case 's':                                                   /* SETITEM */
            if (m->sn < 3 || m->stack[m->sn - 3]->type != MC_PK_DICT) FAIL("%s", "SETITEM on something not a dict");
            add_item(m->stack[m->sn - 3], m->stack[m->sn - 2]);
            add_item(m->stack[m->sn - 3], m->stack[m->sn - 1]);
            m->sn -= 2;
            break;
        case 'u':                                                   /* SETITEMS */
            if (pop_mark(m, &from) || from == 0 || m->stack[from - 1]->type != MC_PK_DICT || (m->sn - from) % 2)
                FAIL("%s", "SETITEMS on something not a dict");
            for (int k = from; k < m->sn; k++) add_item(m->stack[from - 1], m->stack[k]);
            m->sn = from;
            break;
        case 'q': case 'r': case 'h': case 'j': {                   /* BINPUT, LONG_BINPUT, BINGET, LONG_BINGET */
            int width = op == 'q' || op == 'h' ? 1 : 4;
            if (need(m, (size_t)width)) FAIL("%s", "truncated memo index");
            n = le_bytes(m->buf + m->at, width);
            m->at += (size_t)width;
            /* Memo indices count up from 0 in real pickles; one per byte of input is a generous bound. */
            if (n > m->len) FAIL("%s", "memo index out of range");
            if (op == 'q' || op == 'r') {
                if (!m->sn) FAIL("%s", "PUT on an empty stack");
                if (n >= m->memo_n) {
                    size_t grow = m->memo_n ? m->memo_n : 64;
                    while (grow <= n) grow *= 2;
                    m->memo = mc_realloc(m->memo, grow * sizeof *m->memo);
                    memset(m->memo + m->memo_n, 0, (grow - m->memo_n) * sizeof *m->memo);
                    m->memo_n = grow;
                }
                m->memo[n] = m->stack[m->sn - 1];
            } else {
                if (n >= m->memo_n || !m->memo[n]) FAIL("%s", "GET of a memo entry never PUT");
                push(m, m->memo[n]);
            }
            break;
        }
        case 'K': case 'M': case 'J': {                             /* BININT1, BININT2, BININT */
            int width = op == 'K' ? 1 : op == 'M' ? 2 : 4;
            if (need(m, (size_t)width)) FAIL("%s", "truncated integer");
            v = node(m, MC_PK_INT);
            n = le_bytes(m->buf + m->at, width);
            v->i = op == 'J' ? (int64_t)(int32_t)(uint32_t)n : (int64_t)n;
            m->at += (size_t)width;
            push(m, v);
            break;
        }
        case 0x8a:                                                  /* LONG1: n bytes, two's complement */
            if (need(m, 1) || need(m, 1 + (size_t)m->buf[m->at])) FAIL("%s", "truncated LONG1");
            v = node(m, MC_PK_INT);
            n = m->buf[m->at++];
            if (n > 8) { v->s = m->buf + m->at; v->len = n; }       /* e.g. the legacy format's magic number */
            else if (n) {
                v->i = (int64_t)le_bytes(m->buf + m->at, (int)n);
                if (n < 8 && (m->buf[m->at + n - 1] & 0x80)) v->i -= (int64_t)1 << (8 * n);
            }
            m->at += n;
            push(m, v);
            break;
        case 'G': {                                                 /* BINFLOAT: big-endian double */
            if (need(m, 8)) FAIL("%s", "truncated BINFLOAT");
            uint64_t u = 0;
            for (int k = 0; k < 8; k++) u = u << 8 | m->buf[m->at + k];
            v = node(m, MC_PK_FLOAT);
            memcpy(&v->f, &u, 8);
            m->at += 8;
            push(m, v);
            break;
        }
        case 'X': case 'T': case 'U': {                             /* BINUNICODE, BINSTRING, SHORT_BINSTRING */
            int width = op == 'U' ? 1 : 4;
            if (need(m, (size_t)width)) FAIL("%s", "truncated string length");
            n = le_bytes(m->buf + m->at, width);
            m->at += (size_t)width;
            if ((op == 'T' && n > 0x7fffffffu) || need(m, n)) FAIL("%s", "a string runs past the end");
            v = node(m, MC_PK_STR);
            v->s = m->buf + m->at;
            v->len = n;
            m->at += n;
            push(m, v);
            break;
        }
        case 'N': push(m, node(m, MC_PK_NONE)); break;
        case 0x88: case 0x89:                                       /* NEWTRUE, NEWFALSE */
            v = node(m, MC_PK_BOOL);
            v->i = op == 0x88;
            push(m, v);
            break;
        default: {
            char what[80];
            snprintf(what, sizeof what, "opcode 0x%02x, which a state_dict does not use", op);
            m->at--;
            FAIL("%s", what);
        }
        }
        /* Containers only grow by moving values off the stack, so this also bounds them. */
        if (m->sn > (1 << 24)) FAIL("%s", "stack too deep");
    }
}

int mc_pickle_load(const char *name, const unsigned char *buf, size_t len, size_t *used, mc_pickle *p, char *err)
{
    memset(p, 0, sizeof *p);
    vm m = {.name = name, .buf = buf, .len = len, .p = p, .err = err};
    int r = run(&m);
    if (used) *used = m.at;
    free(m.stack); free(m.marks); free(m.memo);
    if (r) mc_pickle_free(p);
    return r;
}

void mc_pickle_free(mc_pickle *p)
{
    for (int k = 0; k < p->n; k++) { free(p->nodes[k]->items); free(p->nodes[k]); }
    free(p->nodes);
    memset(p, 0, sizeof *p);
}
