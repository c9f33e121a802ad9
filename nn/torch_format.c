/* PyTorch's two checkpoint formats, read with the restricted unpickler (nn/pickle.h):
 *   zip (torch >= 1.6): <stem>/data.pkl, whose persistent ids name the storages <stem>/data/<key>,
 *     and <stem>/version; <stem> is whatever the first entry says.
 *   legacy (torch < 1.6): pickles of the magic number, the protocol version (1001) and the system info,
 *     the object itself, the sorted list of storage keys, and then each storage in that order as an
 *     int64 element count and its raw little-endian bytes. */
#include "nn/interop.h"
#include "nn/pickle.h"
#include "nn/zipfile.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int host_le(void) { const uint16_t one = 1; unsigned char b; memcpy(&b, &one, 1); return b == 1; }

int mc_tensor_file_kind(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot && (!strcmp(dot, ".pth") || !strcmp(dot, ".pt"))) return MC_FILE_TORCH;
    if (dot && !strcmp(dot, ".safetensors")) return MC_FILE_SAFETENSORS;
    return MC_FILE_CKPT;
}

int mc_tensors_read(const char *path, mc_ckpt *c, char *err)
{
    switch (mc_tensor_file_kind(path)) {
    case MC_FILE_TORCH: return mc_torch_read(path, c, err);
    case MC_FILE_SAFETENSORS: return mc_safetensors_read(path, c, err);
    default: return mc_ckpt_read(path, c, err);
    }
}

/* ---- from unpickled values to entries ---- */
typedef const unsigned char *(*storage_fn)(void *ctx, const mc_pk *storage, char *err);

static int all_tensors(const mc_pk *d)
{
    for (int k = 0; k + 1 < d->n; k += 2)
        if (d->items[k + 1]->type != MC_PK_TENSOR) return 0;
    return 1;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const mc_ckpt_entry *const *)a)->name, (*(const mc_ckpt_entry *const *)b)->name);
}

int mc_name_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return 0;
    return 1;
}

/* Sorting beats comparing every pair for a hostile file with thousands of names. */
int mc_ckpt_names_unique(const mc_ckpt *c, const char **dup)
{
    const mc_ckpt_entry **order = mc_malloc((size_t)(c->n + 1) * sizeof *order);
    for (int k = 0; k < c->n; k++) order[k] = &c->entries[k];
    qsort(order, (size_t)c->n, sizeof *order, by_name);
    int ok = 1;
    for (int k = 0; ok && k + 1 < c->n; k++)
        if (!strcmp(order[k]->name, order[k + 1]->name)) { ok = 0; *dup = order[k]->name; }
    free(order);
    return ok;
}

static int fail(mc_ckpt *c, char *err, const char *name, const char *fmt, const char *what)
{
    char msg[MC_ERRLEN];
    snprintf(msg, sizeof msg, fmt, what);
    mc_ckpt_free(c);
    mc_set_err(err, "%s: %s", name, msg);
    return 1;
}

static char *key_text(const mc_pk *k, char *buf, size_t n)
{
    size_t len = k->len < n - 1 ? k->len : n - 1;
    for (size_t i = 0; i < len; i++) buf[i] = k->s[i] >= 0x20 && k->s[i] < 0x7f ? (char)k->s[i] : '?';
    buf[len] = 0;
    return buf;
}

static int to_entries(const char *name, const mc_pk *root, size_t file_len, storage_fn get, void *ctx, mc_ckpt *c, char *err)
{
    char key[256];
    if (root->type != MC_PK_DICT) return fail(c, err, name, "%s", "the file holds no state_dict (its object is not a dict)");
    const mc_pk *sd = root;
    if (!all_tensors(root)) {       /* a training checkpoint: {"state_dict": {...}, "epoch": ...} */
        sd = NULL;
        for (int k = 0; k + 1 < root->n && !sd; k += 2)
            if ((mc_pk_is(root->items[k], "state_dict") || mc_pk_is(root->items[k], "model")) &&
                root->items[k + 1]->type == MC_PK_DICT && all_tensors(root->items[k + 1]))
                sd = root->items[k + 1];
        if (!sd) return fail(c, err, name, "%s", "the file holds no state_dict (a dict whose values are all tensors)");
    }
    int n = sd->n / 2;
    c->entries = mc_calloc((size_t)n + 1, sizeof *c->entries);
    int64_t total = 0;
    const int64_t cap = 2 * (int64_t)file_len + (1 << 20);    /* floats out per byte in: see below */
    for (int k = 0; k < n; k++) {
        const mc_pk *kv = sd->items[2 * k], *t = sd->items[2 * k + 1];
        if (kv->type != MC_PK_STR || kv->len == 0 || kv->len > 1000 || !mc_name_ok((const char *)kv->s, kv->len))
            return fail(c, err, name, "%s", "a state_dict key that is not a name");
        mc_ckpt_entry *e = &c->entries[k];
        e->name = mc_malloc(kv->len + 1);
        memcpy(e->name, kv->s, kv->len);
        e->name[kv->len] = 0;
        c->n = k + 1;
        if (t->ndim > MC_MAX_DIMS) {
            snprintf(key, sizeof key, "tensor '%.80s' has %d dimensions; mache holds at most %d", e->name, t->ndim, MC_MAX_DIMS);
            return fail(c, err, name, "%s", key);
        }
        e->ndim = t->ndim;
        e->size = 1;
        int64_t last = t->offset;   /* the furthest element the view reaches */
        for (int d = 0; d < t->ndim; d++) {
            if (t->shape[d] > (1 << 30) || t->stride[d] > ((int64_t)1 << 40)) return fail(c, err, name, "tensor '%.200s' is too large", e->name);
            e->shape[d] = (int)t->shape[d];
            e->size *= t->shape[d];
            if (e->size > ((int64_t)1 << 40)) return fail(c, err, name, "tensor '%.200s' is too large", e->name);
            if (t->shape[d]) last += (t->shape[d] - 1) * t->stride[d];
        }
        if (e->size && last >= t->storage->view_numel)
            return fail(c, err, name, "tensor '%.200s' reaches past the end of its storage", e->name);
        /* Views may share a storage, and a stride of 0 repeats one element: cap what a small file can ask
         * for (a real state_dict yields at most one float per 2 bytes, for float16). */
        total += e->size;
        if (total > cap) return fail(c, err, name, "%s", "the tensors ask for far more data than the file holds (a hostile file?)");
        e->integer = t->storage->dtype >= MC_I64;
    }
    float *data = mc_malloc((size_t)(total ? total : 1) * sizeof(float));
    c->file = data;
    for (int k = 0; k < n; k++) {
        const mc_pk *t = sd->items[2 * k + 1], *s = t->storage;
        mc_ckpt_entry *e = &c->entries[k];
        const unsigned char *bytes = get(ctx, s, err);
        if (!bytes) { mc_ckpt_free(c); return 1; }
        e->data = data;
        int64_t base = s->view_offset + t->offset, contiguous = 1, expect = 1;
        for (int d = t->ndim - 1; d >= 0; d--) {
            if (t->shape[d] != 1 && t->stride[d] != expect) contiguous = 0;
            expect *= t->shape[d];
        }
        if (contiguous && s->dtype == MC_F32 && host_le()) {
            memcpy(data, bytes + 4 * base, (size_t)e->size * 4);
        } else {
            int64_t idx[MC_PK_MAX_DIMS] = {0};
            for (int64_t i = 0; i < e->size; i++) {
                int64_t at = base;
                for (int d = 0; d < t->ndim; d++) at += idx[d] * t->stride[d];
                data[i] = mc_dtype_get(s->dtype, bytes, at);
                for (int d = t->ndim - 1; d >= 0 && ++idx[d] == t->shape[d]; d--) idx[d] = 0;
            }
        }
        data += e->size;
    }
    const char *dup;
    if (!mc_ckpt_names_unique(c, &dup)) return fail(c, err, name, "the name '%.200s' appears twice", dup);
    return 0;
}

/* ---- zip ---- */
typedef struct { const char *name; mc_zip *z; char stem[256]; } zip_ctx;

static const unsigned char *zip_storage(void *ctx, const mc_pk *s, char *err)
{
    zip_ctx *zc = ctx;
    char entry[400], key[80];
    key_text(s, key, sizeof key);
    snprintf(entry, sizeof entry, "%s/data/%s", zc->stem, key);
    mc_zip_entry *e = mc_zip_find(zc->z, entry);
    if (!e) { mc_set_err(err, "%s: storage %s is missing (no zip entry %s)", zc->name, key, entry); return NULL; }
    const unsigned char *data = mc_zip_data(zc->name, e, err);
    if (!data) return NULL;
    if ((uint64_t)s->numel > e->size / (uint64_t)mc_dtype_size(s->dtype) ||
        e->size != (size_t)s->numel * (size_t)mc_dtype_size(s->dtype)) {
        mc_set_err(err, "%s: storage %s holds %zu bytes, not %lld elements of %s", zc->name, key, e->size,
                   (long long)s->numel, mc_dtype_name(s->dtype));
        return NULL;
    }
    return data;
}

static int parse_zip(const char *name, const unsigned char *buf, size_t len, mc_ckpt *c, char *err)
{
    mc_zip z;
    if (mc_zip_parse(name, buf, len, &z, err)) return 1;
    zip_ctx zc = {.name = name, .z = &z};
    const char *slash = z.n ? strchr(z.entries[0].name, '/') : NULL;
    size_t stem = slash ? (size_t)(slash - z.entries[0].name) : 0;
    char entry[400];
    mc_pickle p = {0};
    int r = 1;
    if (!stem || stem >= sizeof zc.stem) {
        mc_set_err(err, "%s: a zip archive but not a PyTorch checkpoint (its first entry is not <name>/...)", name);
        goto done;
    }
    memcpy(zc.stem, z.entries[0].name, stem);
    zc.stem[stem] = 0;
    /* torch.load requires the format version record; its value has been 3 since torch 1.6. */
    snprintf(entry, sizeof entry, "%s/version", zc.stem);
    mc_zip_entry *version = mc_zip_find(&z, entry);
    const unsigned char *v = version ? mc_zip_data(name, version, err) : NULL;
    if (version && !v) goto done;
    size_t digits = 0;
    while (v && digits < version->size && v[digits] >= '0' && v[digits] <= '9') digits++;
    if (!v || digits == 0 || digits > 3 || (version->size > digits && v[digits] != '\n')) {
        mc_set_err(err, "%s: a zip archive but not a PyTorch checkpoint (no readable %s record)", name, entry);
        goto done;
    }
    snprintf(entry, sizeof entry, "%s/data.pkl", zc.stem);
    mc_zip_entry *pkl = mc_zip_find(&z, entry);
    if (!pkl) { mc_set_err(err, "%s: a zip archive but not a PyTorch checkpoint (no %s)", name, entry); goto done; }
    const unsigned char *bytes = mc_zip_data(name, pkl, err);
    if (!bytes || mc_pickle_load(name, bytes, pkl->size, NULL, &p, err)) goto done;
    if (to_entries(name, p.root, len, zip_storage, &zc, c, err)) goto done;
    snprintf(entry, sizeof entry, "%s/extra/mache_config", zc.stem);
    mc_zip_entry *cfg = mc_zip_find(&z, entry);
    if (cfg) {
        const unsigned char *text = mc_zip_data(name, cfg, err);
        if (!text || memchr(text, 0, cfg->size)) { if (text) mc_set_err(err, "%s: bad %s", name, entry); mc_ckpt_free(c); goto done; }
        c->config = mc_malloc(cfg->size + 1);
        memcpy(c->config, text, cfg->size);
        c->config[cfg->size] = 0;
    }
    r = 0;
done:
    mc_pickle_free(&p);
    mc_zip_free(&z);
    return r;
}

/* ---- legacy ---- */
static const unsigned char LEGACY_MAGIC[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

typedef struct { const char *name; const mc_pk **keys; const unsigned char **data; int n; } legacy_ctx;

static int same_key(const mc_pk *a, const mc_pk *b) { return a->len == b->len && !memcmp(a->s, b->s, a->len); }

static const unsigned char *legacy_storage(void *ctx, const mc_pk *s, char *err)
{
    legacy_ctx *lc = ctx;
    for (int k = 0; k < lc->n; k++)
        if (same_key(lc->keys[k], s)) return lc->data[k];
    char key[80];
    mc_set_err(err, "%s: storage %s is not in the file's storage list (the file is damaged)", lc->name, key_text(s, key, sizeof key));
    return NULL;
}

static int parse_legacy(const char *name, const unsigned char *buf, size_t len, mc_ckpt *c, char *err)
{
    mc_pickle head[3] = {{0}}, obj = {0}, keys = {0};
    legacy_ctx lc = {.name = name};
    size_t at = 0, used;
    int r = 1;
    for (int k = 0; k < 3; k++) {
        if (mc_pickle_load(name, buf + at, len - at, &used, &head[k], err)) goto done;
        at += used;
    }
    const mc_pk *magic = head[0].root, *proto = head[1].root, *info = head[2].root;
    if (magic->type != MC_PK_INT || magic->len != sizeof LEGACY_MAGIC || memcmp(magic->s, LEGACY_MAGIC, sizeof LEGACY_MAGIC)) {
        mc_set_err(err, "%s: not a PyTorch checkpoint (wrong magic number)", name);
        goto done;
    }
    if (proto->type != MC_PK_INT || proto->len || proto->i != 1001) {
        mc_set_err(err, "%s: legacy PyTorch format version %lld, mache reads 1001", name, (long long)proto->i);
        goto done;
    }
    if (info->type != MC_PK_DICT) { mc_set_err(err, "%s: bad system-info record", name); goto done; }
    for (int k = 0; k + 1 < info->n; k += 2)
        if (mc_pk_is(info->items[k], "little_endian") && info->items[k + 1]->type == MC_PK_BOOL && !info->items[k + 1]->i) {
            mc_set_err(err, "%s: saved on a big-endian machine, which mache does not read", name);
            goto done;
        }
    if (mc_pickle_load(name, buf + at, len - at, &used, &obj, err)) goto done;
    at += used;
    if (mc_pickle_load(name, buf + at, len - at, &used, &keys, err)) goto done;
    at += used;
    const mc_pk *list = keys.root;
    if (list->type != MC_PK_LIST) { mc_set_err(err, "%s: bad storage-key list", name); goto done; }
    lc.keys = mc_calloc((size_t)list->n + 1, sizeof *lc.keys);
    lc.data = mc_calloc((size_t)list->n + 1, sizeof *lc.data);
    for (int k = 0; k < list->n; k++) {
        const mc_pk *key = list->items[k], *s = NULL;
        char text[80];
        if (key->type != MC_PK_STR) { mc_set_err(err, "%s: bad storage-key list", name); goto done; }
        /* The element type and count come from the storage's persistent id in the object. */
        for (int i = 0; i < obj.n && !s; i++)
            if (obj.nodes[i]->type == MC_PK_STORAGE && same_key(obj.nodes[i], key)) s = obj.nodes[i];
        if (!s) { mc_set_err(err, "%s: storage %s is listed but no tensor uses it", name, key_text(key, text, sizeof text)); goto done; }
        if (len - at < 8) { mc_set_err(err, "%s: truncated at storage %s", name, key_text(key, text, sizeof text)); goto done; }
        uint64_t count = 0;
        for (int b = 0; b < 8; b++) count |= (uint64_t)buf[at + b] << (8 * b);
        at += 8;
        uint64_t size = (uint64_t)mc_dtype_size(s->dtype);
        if (count != (uint64_t)s->numel || count > (len - at) / size) {
            mc_set_err(err, "%s: storage %s: %llu elements where %lld were announced, or past the end (truncated?)",
                       name, key_text(key, text, sizeof text), (unsigned long long)count, (long long)s->numel);
            goto done;
        }
        lc.keys[lc.n] = key;
        lc.data[lc.n++] = buf + at;
        at += count * size;
    }
    r = to_entries(name, obj.root, len, legacy_storage, &lc, c, err);
done:
    for (int k = 0; k < 3; k++) mc_pickle_free(&head[k]);
    mc_pickle_free(&obj);
    mc_pickle_free(&keys);
    free(lc.keys);
    free((void *)lc.data);
    return r;
}

int mc_torch_parse(const char *name, const unsigned char *buf, size_t len, mc_ckpt *c, char *err)
{
    memset(c, 0, sizeof *c);
    if (len >= 4 && !memcmp(buf, "PK\3\4", 4)) return parse_zip(name, buf, len, c, err);
    if (len >= 4 && buf[0] == 0x80 && buf[1] == 2 && buf[2] == 0x8a && buf[3] == 10) return parse_legacy(name, buf, len, c, err);
    if (len >= 8 && !memcmp(buf, "MACHECKP", 8)) {
        mc_set_err(err, "%s: a mache checkpoint, not a PyTorch one (name it .ckpt)", name);
        return 1;
    }
    mc_set_err(err, "%s: not a PyTorch checkpoint (neither the zip format of torch >= 1.6 nor the legacy one)%s", name,
               len == 0 ? ": the file is empty" : "");
    return 1;
}

/* A read-only mapping rather than a copy: a paper-sized checkpoint is 180 MB, and the parsers copy out
 * what they keep anyway. Falls back to reading the file (a pipe, a file system without mmap). */
const unsigned char *mc_file_map(const char *path, size_t *len, int *mapped, char *err)
{
    *mapped = 0;
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (p != MAP_FAILED) { *mapped = 1; *len = (size_t)st.st_size; return p; }
    } else if (fd >= 0) close(fd);
    return mc_file_read(path, SIZE_MAX, len, err);
}

void mc_file_unmap(const unsigned char *buf, size_t len, int mapped)
{
    if (mapped) munmap((void *)buf, len);
    else free((void *)buf);
}

static int read_mapped(const char *path, mc_ckpt *c, char *err,
                       int (*parse)(const char *, const unsigned char *, size_t, mc_ckpt *, char *))
{
    memset(c, 0, sizeof *c);
    size_t len;
    int mapped;
    const unsigned char *buf = mc_file_map(path, &len, &mapped, err);
    if (!buf) return 1;
    int r = parse(path, buf, len, c, err);
    mc_file_unmap(buf, len, mapped);
    return r;
}

int mc_torch_read(const char *path, mc_ckpt *c, char *err) { return read_mapped(path, c, err, mc_torch_parse); }
int mc_safetensors_read(const char *path, mc_ckpt *c, char *err) { return read_mapped(path, c, err, mc_safetensors_parse); }

/* ---- writing: the zip format, with a protocol-2 pickle as torch.save writes it ---- */
static void pk_str(mc_buf *b, const char *s)
{
    size_t n = strlen(s);
    mc_buf_put(b, "X", 1);
    mc_buf_put_uint(b, n, 4);
    mc_buf_put(b, s, n);
}

static void pk_int(mc_buf *b, int64_t v)
{
    if (v >= 0 && v < 256) { mc_buf_put(b, "K", 1); mc_buf_put_uint(b, (uint64_t)v, 1); }
    else if (v >= 0 && v < 65536) { mc_buf_put(b, "M", 1); mc_buf_put_uint(b, (uint64_t)v, 2); }
    else if (v >= INT32_MIN && v <= INT32_MAX) { mc_buf_put(b, "J", 1); mc_buf_put_uint(b, (uint64_t)(uint32_t)(int32_t)v, 4); }
    else { mc_buf_put(b, "\x8a\x08", 2); mc_buf_put_uint(b, (uint64_t)v, 8); }
}

static void pk_global(mc_buf *b, const char *module_and_name) { mc_buf_put(b, "c", 1); mc_buf_put(b, module_and_name, strlen(module_and_name)); }

static void pk_ints(mc_buf *b, int n, const int64_t *v)
{
    if (n == 0) { mc_buf_put(b, ")", 1); return; }
    mc_buf_put(b, "(", 1);
    for (int k = 0; k < n; k++) pk_int(b, v[k]);
    mc_buf_put(b, "t", 1);
}

int mc_torch_save(const char *path, const mc_ckpt *c, char *err)
{
    mc_buf pkl = {0};
    mc_buf_put(&pkl, "\x80\x02", 2);
    pk_global(&pkl, "collections\nOrderedDict\n");
    mc_buf_put(&pkl, ")R", 2);
    void **owned = mc_calloc((size_t)c->n + 1, sizeof *owned);
    const void **data = mc_calloc((size_t)c->n + 1, sizeof *data);
    for (int k = 0; k < c->n; k++) {
        const mc_ckpt_entry *e = &c->entries[k];
        if (k % 1000 == 0) mc_buf_put(&pkl, "(", 1);         /* SETITEMS in batches, as pickle does */
        char key[32];
        snprintf(key, sizeof key, "%d", k);
        pk_str(&pkl, e->name);
        pk_global(&pkl, "torch._utils\n_rebuild_tensor_v2\n");
        mc_buf_put(&pkl, "((", 2);
        pk_str(&pkl, "storage");
        pk_global(&pkl, e->integer ? "torch\nLongStorage\n" : "torch\nFloatStorage\n");
        pk_str(&pkl, key);
        pk_str(&pkl, "cpu");
        pk_int(&pkl, e->size);
        mc_buf_put(&pkl, "tQ", 2);
        pk_int(&pkl, 0);
        int64_t shape[MC_MAX_DIMS], stride[MC_MAX_DIMS], step = 1;
        for (int d = e->ndim - 1; d >= 0; d--) { shape[d] = e->shape[d]; stride[d] = step; step *= e->shape[d]; }
        pk_ints(&pkl, e->ndim, shape);
        pk_ints(&pkl, e->ndim, stride);
        mc_buf_put(&pkl, "\x89", 1);                          /* requires_grad False */
        pk_global(&pkl, "collections\nOrderedDict\n");        /* no backward hooks */
        mc_buf_put(&pkl, ")RtR", 4);
        if (k % 1000 == 999 || k == c->n - 1) mc_buf_put(&pkl, "u", 1);
        /* The bytes on disk are little-endian: on such a host the floats go out as they are. */
        if (e->integer) {
            unsigned char *v = owned[k] = mc_malloc((size_t)e->size * 8 + 1);
            for (int64_t i = 0; i < e->size; i++) {
                uint64_t u = (uint64_t)mc_float_to_int64(e->data[i]);
                for (int b = 0; b < 8; b++) v[8 * i + b] = (unsigned char)(u >> (8 * b));
            }
            data[k] = v;
        } else if (!host_le()) {
            unsigned char *v = owned[k] = mc_malloc((size_t)e->size * 4 + 1);
            for (int64_t i = 0; i < e->size; i++) {
                uint32_t u;
                memcpy(&u, &e->data[i], 4);
                for (int b = 0; b < 4; b++) v[4 * i + b] = (unsigned char)(u >> (8 * b));
            }
            data[k] = v;
        } else data[k] = e->data;
    }
    mc_buf_put(&pkl, ".", 1);

    mc_zip_writer w = {0};
    mc_zip_add(&w, "archive/data.pkl", pkl.p, pkl.n);
    mc_zip_add(&w, "archive/byteorder", "little", 6);
    for (int k = 0; k < c->n; k++) {
        char entry[64];
        snprintf(entry, sizeof entry, "archive/data/%d", k);
        mc_zip_add(&w, entry, data[k], (size_t)c->entries[k].size * (c->entries[k].integer ? 8 : 4));
    }
    if (c->config && c->config[0]) mc_zip_add(&w, "archive/extra/mache_config", c->config, strlen(c->config));
    mc_zip_add(&w, "archive/version", "3\n", 2);
    int r = mc_zip_write(&w, path, err);
    for (int k = 0; k < c->n; k++) free(owned[k]);
    free(owned); free((void *)data); free(pkl.p);
    return r;
}
