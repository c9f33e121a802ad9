#include "nn/checkpoint.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char MAGIC[8] = {'M', 'A', 'C', 'H', 'E', 'C', 'K', 'P'};

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 0x100000001b3ULL; }
    return h;
}

/* ---- writing: a growable byte buffer, little-endian regardless of the host ---- */
void mc_buf_put(mc_buf *b, const void *src, size_t n)
{
    if (b->n + n > b->cap) {
        while (b->n + n > b->cap) b->cap = b->cap ? 2 * b->cap : 4096;
        b->p = mc_realloc(b->p, b->cap);
    }
    if (n) memcpy(b->p + b->n, src, n);
    b->n += n;
}

void mc_buf_put_uint(mc_buf *b, uint64_t v, int width)
{
    unsigned char le[8];
    for (int k = 0; k < width; k++) le[k] = (unsigned char)(v >> (8 * k));
    mc_buf_put(b, le, (size_t)width);
}

static void put_floats(mc_buf *b, const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        mc_buf_put_uint(b, u, 4);
    }
}

typedef struct { char name[128]; const mc_tensor *t; const float *data; } item;

static int collect(const mc_params *ps, int optimizer, item *items)
{
    int n = 0;
    for (int k = 0; k < ps->n; k++) {
        const mc_param *p = ps->items[k];
        items[n] = (item){.t = &p->t, .data = p->t.data};
        snprintf(items[n++].name, sizeof items->name, "%s", p->name);
        if (!optimizer || !p->m) continue;
        const char *suffix[2] = {"exp_avg", "exp_avg_sq"};
        const float *state[2] = {p->m, p->v};
        for (int s = 0; s < 2; s++) {
            if (!state[s]) continue;
            items[n] = (item){.t = &p->t, .data = state[s]};
            snprintf(items[n++].name, sizeof items->name, "optim.%s.%s", p->name, suffix[s]);
        }
    }
    return n;
}

int mc_ckpt_save(const char *path, const char *config, const mc_params *ps, int optimizer, char *err)
{
    item *items = mc_calloc((size_t)ps->n * 3 + 1, sizeof *items);
    int n = collect(ps, optimizer, items);
    /* Each parameter's Adam step count, exact and by name, as a config line "optim.<name>.step=N", so
     * resuming restores the bias correction. */
    size_t clen = config ? strlen(config) : 0, cap = clen + 1;
    for (int k = 0; optimizer && k < ps->n; k++) cap += strlen(ps->items[k]->name) + 32;
    char *text = mc_malloc(cap);
    memcpy(text, config ? config : "", clen + 1);
    for (int k = 0; optimizer && k < ps->n; k++)
        if (ps->items[k]->m) clen += (size_t)snprintf(text + clen, cap - clen, "optim.%s.step=%lld\n", ps->items[k]->name, (long long)ps->items[k]->step);
    mc_buf b = {0};
    mc_buf_put(&b, MAGIC, 8);
    mc_buf_put_uint(&b, MC_CKPT_VERSION, 4);
    mc_buf_put_uint(&b, clen, 4);
    if (clen) mc_buf_put(&b, text, clen);
    free(text);
    mc_buf_put_uint(&b, (uint64_t)n, 4);
    int64_t offset = 0;
    for (int k = 0; k < n; k++) {
        size_t len = strlen(items[k].name);
        mc_buf_put_uint(&b, len, 2);
        mc_buf_put(&b, items[k].name, len);
        mc_buf_put_uint(&b, (uint64_t)items[k].t->ndim, 1);
        for (int d = 0; d < items[k].t->ndim; d++) mc_buf_put_uint(&b, (uint64_t)items[k].t->shape[d], 4);
        mc_buf_put_uint(&b, (uint64_t)offset, 8);
        offset += items[k].t->size;
    }
    mc_buf_put_uint(&b, (uint64_t)offset, 8);
    for (int k = 0; k < n; k++) put_floats(&b, items[k].data, items[k].t->size);
    mc_buf_put_uint(&b, fnv1a(b.p, b.n), 8);
    free(items);

    int status = mc_file_save(path, b.p, b.n, err);
    free(b.p);
    return status;
}

typedef struct { const mc_chunk *chunks; int n; } chunk_list;

static int write_chunks(FILE *f, void *ctx)
{
    const chunk_list *l = ctx;
    for (int k = 0; k < l->n; k++)
        if (l->chunks[k].n && fwrite(l->chunks[k].p, 1, l->chunks[k].n, f) != l->chunks[k].n) return 1;
    return 0;
}

int mc_file_save_chunks(const char *path, const mc_chunk *chunks, int n, char *err)
{
    chunk_list l = {chunks, n};
    return mc_file_write_atomic(path, write_chunks, &l, err);
}

/* ---- reading: the whole file in memory, the checksum first, then every field bounds-checked ---- */
typedef struct { const unsigned char *p; size_t n, at; } reader;

static int get_uint(reader *r, int width, uint64_t *v)
{
    if (r->n - r->at < (size_t)width) return 1;
    *v = 0;
    for (int k = 0; k < width; k++) *v |= (uint64_t)r->p[r->at + k] << (8 * k);
    r->at += (size_t)width;
    return 0;
}

void mc_ckpt_free(mc_ckpt *c)
{
    for (int k = 0; c->entries && k < c->n; k++) free(c->entries[k].name);
    free(c->entries); free(c->config); free(c->file);
    memset(c, 0, sizeof *c);
}

static int corrupt(mc_ckpt *c, char *err, const char *path, const char *what)
{
    mc_ckpt_free(c);
    mc_set_err(err, "%s: not a valid mache checkpoint: %s (the file may be truncated or damaged)", path, what);
    return 1;
}

int mc_ckpt_read(const char *path, mc_ckpt *c, char *err)
{
    memset(c, 0, sizeof *c);
    size_t size;
    unsigned char *buf = mc_file_read(path, SIZE_MAX, &size, err);
    if (!buf) return 1;
    int r = mc_ckpt_parse(path, buf, size, c, err);
    free(buf);
    return r;
}

int mc_ckpt_parse(const char *path, const unsigned char *buf, size_t size, mc_ckpt *c, char *err)
{
    memset(c, 0, sizeof *c);
    if (size == 0) return corrupt(c, err, path, "the file is empty");
    if (size < 8 || memcmp(buf, MAGIC, 8)) return corrupt(c, err, path, "wrong magic (not a .ckpt written by mache)");
    if (size < 8 + 4 + 4 + 4 + 8 + 8) return corrupt(c, err, path, "too short");
    uint64_t stored = 0;
    reader tail = {buf, size, size - 8};
    get_uint(&tail, 8, &stored);
    if (fnv1a(buf, size - 8) != stored) return corrupt(c, err, path, "checksum mismatch");

    reader r = {buf, size - 8, 8};
    uint64_t version, clen, count;
    if (get_uint(&r, 4, &version)) return corrupt(c, err, path, "no version");
    if (version != MC_CKPT_VERSION) {
        mc_ckpt_free(c);
        mc_set_err(err, "%s: checkpoint version %llu, this mache reads version %d", path,
                   (unsigned long long)version, MC_CKPT_VERSION);
        return 1;
    }
    if (get_uint(&r, 4, &clen) || clen > r.n - r.at) return corrupt(c, err, path, "config runs past the end");
    c->config = mc_malloc(clen + 1);
    memcpy(c->config, buf + r.at, clen);
    c->config[clen] = 0;
    r.at += clen;
    if (get_uint(&r, 4, &count) || count > (r.n - r.at) / 11) return corrupt(c, err, path, "bad tensor count");
    c->entries = mc_calloc(count ? count : 1, sizeof *c->entries);
    for (uint64_t k = 0; k < count; k++) {
        mc_ckpt_entry *e = &c->entries[k];
        uint64_t len, nd, dim, offset;
        if (get_uint(&r, 2, &len) || len == 0 || len > r.n - r.at) return corrupt(c, err, path, "bad tensor name");
        e->name = mc_malloc(len + 1);
        c->n = (int)k + 1;
        memcpy(e->name, buf + r.at, len);
        e->name[len] = 0;
        r.at += len;
        if (strlen(e->name) != len) return corrupt(c, err, path, "tensor name holds a NUL byte");
        if (get_uint(&r, 1, &nd) || nd > MC_MAX_DIMS) return corrupt(c, err, path, "bad number of dimensions");
        e->ndim = (int)nd;
        e->size = 1;
        for (uint64_t d = 0; d < nd; d++) {
            if (get_uint(&r, 4, &dim) || dim > (1u << 30)) return corrupt(c, err, path, "bad dimension");
            e->shape[d] = (int)dim;
            e->size *= (int64_t)dim;
            if (e->size > ((int64_t)1 << 40)) return corrupt(c, err, path, "tensor too large");
        }
        if (get_uint(&r, 8, &offset) || offset > ((uint64_t)1 << 40)) return corrupt(c, err, path, "bad offset");
        e->data = (const float *)(uintptr_t)offset;   /* resolved once the data block is found */
    }
    uint64_t total;
    if (get_uint(&r, 8, &total) || total > (r.n - r.at) / 4 || total * 4 != r.n - r.at)
        return corrupt(c, err, path, "data block has the wrong length");
    /* Data is little-endian float32; convert in place so entries can point at native floats. */
    float *data = (float *)mc_malloc(total * 4 + 4);
    for (uint64_t i = 0; i < total; i++) {
        uint32_t u = (uint32_t)buf[r.at + 4 * i] | (uint32_t)buf[r.at + 4 * i + 1] << 8 |
                     (uint32_t)buf[r.at + 4 * i + 2] << 16 | (uint32_t)buf[r.at + 4 * i + 3] << 24;
        memcpy(&data[i], &u, 4);
    }
    c->file = data;
    for (int k = 0; k < c->n; k++) {
        uint64_t offset = (uint64_t)(uintptr_t)c->entries[k].data;
        if (offset > total || (uint64_t)c->entries[k].size > total - offset)
            return corrupt(c, err, path, "tensor data runs past the end");
        c->entries[k].data = data + offset;
    }
    for (int a = 0; a < c->n; a++)
        for (int b = a + 1; b < c->n; b++)
            if (!strcmp(c->entries[a].name, c->entries[b].name)) return corrupt(c, err, path, "a tensor name repeats");
    return 0;
}

const mc_ckpt_entry *mc_ckpt_find(const mc_ckpt *c, const char *name)
{
    for (int k = 0; k < c->n; k++)
        if (!strcmp(c->entries[k].name, name)) return &c->entries[k];
    return NULL;
}

int mc_ckpt_filter(mc_ckpt *c, const char *prefix, int keep)
{
    size_t len = strlen(prefix);
    int kept = 0;
    for (int k = 0; k < c->n; k++) {
        const char *name = c->entries[k].name;
        int match = !strncmp(name, prefix, len) || (!strncmp(name, "optim.", 6) && !strncmp(name + 6, prefix, len));
        if (match == !!keep) c->entries[kept++] = c->entries[k];
        else free(c->entries[k].name);
    }
    return c->n = kept;
}

const char *mc_ckpt_config_get(const char *config, const char *key, char *buf, size_t n)
{
    size_t klen = strlen(key);
    for (const char *line = config; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, key, klen) || line[klen] != '=') continue;
        const char *v = line + klen + 1, *end = strchr(v, '\n');
        size_t len = end ? (size_t)(end - v) : strlen(v);
        if (len >= n) len = n - 1;
        memcpy(buf, v, len);
        buf[len] = 0;
        return buf;
    }
    return NULL;
}

/* ---- loading by name ---- */
static void shape_text(char *buf, size_t n, int ndim, const int *shape)
{
    mc_tensor t = {.ndim = ndim};
    memcpy(t.shape, shape, (size_t)ndim * sizeof *shape);
    mc_shape_str(&t, buf, n);
}

static void report_add(char ***list, int *n, const char *text)
{
    *list = mc_realloc(*list, (size_t)(*n + 1) * sizeof **list);
    size_t len = strlen(text) + 1;
    (*list)[*n] = memcpy(mc_malloc(len), text, len);
    (*n)++;
}

static int same_shape(const mc_ckpt_entry *e, const mc_tensor *t)
{
    if (e->ndim != t->ndim) return 0;
    for (int d = 0; d < e->ndim; d++) if (e->shape[d] != t->shape[d]) return 0;
    return 1;
}

int mc_ckpt_load_params(const mc_ckpt *c, mc_params *ps, int strict, mc_load_report *rep, char *err)
{
    mc_load_report local = {0};
    if (!rep) rep = &local;
    memset(rep, 0, sizeof *rep);
    char line[512], s1[64], s2[64];
    for (int k = 0; k < ps->n; k++) {
        mc_param *p = ps->items[k];
        const mc_ckpt_entry *e = mc_ckpt_find(c, p->name);
        if (!e) { report_add(&rep->missing, &rep->missing_n, p->name); continue; }
        if (!same_shape(e, &p->t)) {
            shape_text(s1, sizeof s1, e->ndim, e->shape);
            mc_shape_str(&p->t, s2, sizeof s2);
            snprintf(line, sizeof line, "%s: checkpoint %s, model %s", p->name, s1, s2);
            report_add(&rep->mismatched, &rep->mismatched_n, line);
        }
    }
    for (int k = 0; k < c->n; k++)
        if (strncmp(c->entries[k].name, "optim.", 6) && !mc_param_find(ps, c->entries[k].name))
            report_add(&rep->unexpected, &rep->unexpected_n, c->entries[k].name);
    if (strict && (rep->missing_n || rep->unexpected_n || rep->mismatched_n)) {
        mc_set_err(err, "checkpoint does not match the model: %d missing, %d unexpected, %d mis-shaped%s%s "
                   "(was it saved with another config? --init-from loads partially)",
                   rep->missing_n, rep->unexpected_n, rep->mismatched_n,
                   rep->mismatched_n ? "; first: " : rep->missing_n ? "; first missing: " : rep->unexpected_n ? "; first unexpected: " : "",
                   rep->mismatched_n ? rep->mismatched[0] : rep->missing_n ? rep->missing[0] : rep->unexpected_n ? rep->unexpected[0] : "");
        if (rep == &local) mc_load_report_free(&local);
        return 1;
    }
    const mc_ckpt_entry *old_steps = mc_ckpt_find(c, "optim.step");   /* files before the steps went by name */
    for (int k = 0; k < ps->n; k++) {
        mc_param *p = ps->items[k];
        const mc_ckpt_entry *e = mc_ckpt_find(c, p->name);
        if (!e || !same_shape(e, &p->t)) continue;
        memcpy(p->t.data, e->data, (size_t)e->size * sizeof(float));
        rep->loaded++;
        char name[160];
        snprintf(name, sizeof name, "optim.%s.exp_avg", p->name);
        const mc_ckpt_entry *m = mc_ckpt_find(c, name);
        snprintf(name, sizeof name, "optim.%s.exp_avg_sq", p->name);
        const mc_ckpt_entry *v = mc_ckpt_find(c, name);
        snprintf(name, sizeof name, "optim.%s.step", p->name);
        char step[32];
        int64_t steps = -1;
        if (mc_ckpt_config_get(c->config, name, step, sizeof step)) steps = strtoll(step, NULL, 10);
        else if (old_steps && old_steps->size == ps->n) steps = (int64_t)old_steps->data[k];
        if (m && v && m->size == p->t.size && v->size == p->t.size && steps >= 0) {
            if (!p->m) { p->m = mc_alloc_large((size_t)p->t.size * sizeof(float)); p->v = mc_alloc_large((size_t)p->t.size * sizeof(float)); }
            memcpy(p->m, m->data, (size_t)m->size * sizeof(float));
            memcpy(p->v, v->data, (size_t)v->size * sizeof(float));
            p->step = steps;
        }
    }
    if (rep == &local) mc_load_report_free(&local);
    return 0;
}

void mc_load_report_print(const mc_load_report *rep, FILE *f)
{
    fprintf(f, "loaded %d tensors; %d missing, %d unexpected, %d mis-shaped\n",
            rep->loaded, rep->missing_n, rep->unexpected_n, rep->mismatched_n);
    for (int k = 0; k < rep->missing_n; k++) fprintf(f, "  missing:    %s\n", rep->missing[k]);
    for (int k = 0; k < rep->unexpected_n; k++) fprintf(f, "  unexpected: %s\n", rep->unexpected[k]);
    for (int k = 0; k < rep->mismatched_n; k++) fprintf(f, "  mis-shaped: %s\n", rep->mismatched[k]);
}

void mc_load_report_free(mc_load_report *rep)
{
    for (int k = 0; k < rep->missing_n; k++) free(rep->missing[k]);
    for (int k = 0; k < rep->unexpected_n; k++) free(rep->unexpected[k]);
    for (int k = 0; k < rep->mismatched_n; k++) free(rep->mismatched[k]);
    free(rep->missing); free(rep->unexpected); free(rep->mismatched);
    memset(rep, 0, sizeof *rep);
}
