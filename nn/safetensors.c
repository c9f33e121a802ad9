/* safetensors: an 8-byte little-endian header length N, N bytes of JSON
 *   {"__metadata__": {"k": "v", ...}, "name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ...}
 * (possibly padded with spaces), then the data. Validated as the format's spec requires: the tensors
 * tile the data block exactly (sorted by offset, no gap or overlap, each the size its shape and dtype
 * say), names are unique, and the header is at most 100 MB. */
#include "nn/interop.h"
#include "nn/pickle.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    const unsigned char *p, *end;
    char *err;
} json;

static int jfail(json *j, const char *what)
{
    mc_set_err(j->err, "%s: bad safetensors header: %s", j->name, what);
    return 1;
}

static void ws(json *j) { while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++; }

static int expect(json *j, char c)
{
    ws(j);
    if (j->p == j->end || *j->p != (unsigned char)c) {
        char what[32];
        snprintf(what, sizeof what, "expected '%c'", c);
        return jfail(j, what);
    }
    j->p++;
    return 0;
}

static int peek(json *j, char c) { ws(j); return j->p < j->end && *j->p == (unsigned char)c; }

static int hex4(json *j, uint32_t *v)
{
    *v = 0;
    if (j->end - j->p < 4) return 1;
    for (int k = 0; k < 4; k++) {
        unsigned char c = *j->p++;
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return 1;
        *v = *v << 4 | (uint32_t)d;
    }
    return 0;
}

/* A JSON string, unescaped to UTF-8 in a new NUL-terminated buffer (an escaped NUL is refused). */
static int string(json *j, char **out)
{
    *out = NULL;
    if (expect(j, '"')) return 1;
    mc_buf b = {0};
    for (;;) {
        if (j->p == j->end) { free(b.p); return jfail(j, "a string runs past the end"); }
        unsigned char c = *j->p++;
        if (c == '"') break;
        if (c < 0x20) { free(b.p); return jfail(j, "a control character in a string"); }
        if (c != '\\') { mc_buf_put(&b, &c, 1); continue; }
        if (j->p == j->end) { free(b.p); return jfail(j, "a string runs past the end"); }
        c = *j->p++;
        const char *simple = strchr("\"\\/bfnrt", c);
        if (c && simple) { const char map[] = "\"\\/\b\f\n\r\t"; mc_buf_put(&b, &map[simple - "\"\\/bfnrt"], 1); continue; }
        uint32_t u, lo;
        if (c != 'u' || hex4(j, &u)) { free(b.p); return jfail(j, "a bad escape in a string"); }
        if (u >= 0xd800 && u < 0xdc00) {    /* a surrogate pair */
            if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u' || (j->p += 2, hex4(j, &lo)) || lo < 0xdc00 || lo >= 0xe000) {
                free(b.p);
                return jfail(j, "a bad surrogate pair in a string");
            }
            u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
        } else if (u >= 0xdc00 && u < 0xe000) { free(b.p); return jfail(j, "a lone surrogate in a string"); }
        if (u == 0) { free(b.p); return jfail(j, "a NUL in a string"); }
        unsigned char utf[4];
        int n = u < 0x80 ? 1 : u < 0x800 ? 2 : u < 0x10000 ? 3 : 4;
        if (n == 1) utf[0] = (unsigned char)u;
        else {
            for (int k = n - 1; k > 0; k--) { utf[k] = (unsigned char)(0x80 | (u & 0x3f)); u >>= 6; }
            utf[0] = (unsigned char)((n == 2 ? 0xc0 : n == 3 ? 0xe0 : 0xf0) | u);
        }
        mc_buf_put(&b, utf, (size_t)n);
    }
    mc_buf_put(&b, "", 1);
    if (memchr(b.p, 0, b.n - 1)) { free(b.p); return jfail(j, "a NUL in a string"); }
    *out = (char *)b.p;
    return 0;
}

static int uint(json *j, uint64_t *v)
{
    ws(j);
    if (j->p == j->end || *j->p < '0' || *j->p > '9') return jfail(j, "expected a non-negative integer");
    if (*j->p == '0' && j->end - j->p > 1 && j->p[1] >= '0' && j->p[1] <= '9') return jfail(j, "a number with a leading zero");
    *v = 0;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        if (*v > ((uint64_t)1 << 50)) return jfail(j, "a number too large");
        *v = *v * 10 + (uint64_t)(*j->p++ - '0');
    }
    if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E')) return jfail(j, "expected an integer");
    return 0;
}

/* [u, u, ...] with at most max entries. */
static int uints(json *j, uint64_t *v, int max, int *n)
{
    *n = 0;
    if (expect(j, '[')) return 1;
    if (peek(j, ']')) { j->p++; return 0; }
    for (;;) {
        if (*n == max) return jfail(j, "an array too long (a tensor of more than 4 dimensions?)");
        if (uint(j, &v[(*n)++])) return 1;
        if (peek(j, ']')) { j->p++; return 0; }
        if (expect(j, ',')) return 1;
    }
}

typedef struct { char *name; mc_dtype dtype; int ndim; uint64_t shape[MC_MAX_DIMS], begin, end; } info;

static int dtype_of(const char *s, mc_dtype *t)
{
    for (int k = 0; k < MC_NDTYPES; k++)
        if (!strcmp(s, mc_dtype_name((mc_dtype)k))) { *t = (mc_dtype)k; return 0; }
    return 1;
}

static int tensor_info(json *j, info *t)
{
    int seen[3] = {0}, n;
    if (expect(j, '{')) return 1;
    if (peek(j, '}')) return jfail(j, "a tensor without dtype, shape and data_offsets");
    for (;;) {
        char *key;
        if (string(j, &key)) return 1;
        int which = !strcmp(key, "dtype") ? 0 : !strcmp(key, "shape") ? 1 : !strcmp(key, "data_offsets") ? 2 : -1;
        free(key);
        if (which < 0) return jfail(j, "a tensor field other than dtype, shape and data_offsets");
        if (seen[which]++) return jfail(j, "a tensor field repeats");
        if (expect(j, ':')) return 1;
        if (which == 0) {
            char *s;
            if (string(j, &s)) return 1;
            int bad = dtype_of(s, &t->dtype);
            if (bad) {
                char what[160];
                snprintf(what, sizeof what, "dtype '%.40s' (mache reads F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL)", s);
                free(s);
                return jfail(j, what);
            }
            free(s);
        } else if (which == 1) {
            if (uints(j, t->shape, MC_MAX_DIMS, &t->ndim)) return 1;
        } else {
            uint64_t off[3];
            if (uints(j, off, 2, &n)) return 1;
            if (n != 2) return jfail(j, "data_offsets is not [begin, end]");
            t->begin = off[0];
            t->end = off[1];
        }
        if (peek(j, '}')) { j->p++; break; }
        if (expect(j, ',')) return 1;
    }
    if (!seen[0] || !seen[1] || !seen[2]) return jfail(j, "a tensor without dtype, shape and data_offsets");
    return 0;
}

static int metadata(json *j, char **config)
{
    if (expect(j, '{')) return 1;
    if (peek(j, '}')) { j->p++; return 0; }
    for (;;) {
        char *key, *value;
        if (string(j, &key)) return 1;
        if (expect(j, ':') || string(j, &value)) { free(key); return 1; }
        if (!strcmp(key, "mache_config")) { free(*config); *config = value; }
        else free(value);
        free(key);
        if (peek(j, '}')) { j->p++; return 0; }
        if (expect(j, ',')) return 1;
    }
}

static int by_offset(const void *a, const void *b)
{
    const info *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : x->end < y->end ? -1 : x->end > y->end;
}

int mc_safetensors_parse(const char *name, const unsigned char *buf, size_t len, mc_ckpt *c, char *err)
{
    memset(c, 0, sizeof *c);
    uint64_t hlen = 0;
    if (len < 8) { mc_set_err(err, "%s: not a safetensors file (shorter than its 8-byte header length)", name); return 1; }
    for (int k = 0; k < 8; k++) hlen |= (uint64_t)buf[k] << (8 * k);
    if (hlen > 100000000 || hlen > len - 8) {
        mc_set_err(err, "%s: not a safetensors file (header length %llu for a file of %zu bytes)", name, (unsigned long long)hlen, len);
        return 1;
    }
    json j = {name, buf + 8, buf + 8 + hlen, err};
    if (hlen == 0 || buf[8] != '{') { mc_set_err(err, "%s: not a safetensors file (the header is not a JSON object)", name); return 1; }
    info *t = NULL;
    int n = 0, cap = 0, r = 1;
    char *config = NULL;
    if (expect(&j, '{')) goto done;
    if (peek(&j, '}')) j.p++;
    else for (;;) {
        char *key;
        if (string(&j, &key)) goto done;
        if (expect(&j, ':')) { free(key); goto done; }
        if (!strcmp(key, "__metadata__")) {
            free(key);
            if (metadata(&j, &config)) goto done;
        } else {
            if (!key[0] || !mc_name_ok(key, strlen(key))) { free(key); jfail(&j, "a tensor name that is empty or holds a control character"); goto done; }
            if (n == cap) { cap = cap ? 2 * cap : 64; t = mc_realloc(t, (size_t)cap * sizeof *t); }
            memset(&t[n], 0, sizeof t[n]);
            t[n].name = key;
            n++;
            if (tensor_info(&j, &t[n - 1])) goto done;
        }
        if (peek(&j, '}')) { j.p++; break; }
        if (expect(&j, ',')) goto done;
    }
    ws(&j);
    if (j.p != j.end) { jfail(&j, "bytes after the JSON object"); goto done; }
    /* The tensors must tile the data block: sorted by offset, each starts where the last ended. */
    uint64_t data_len = len - 8 - hlen, at = 0, total = 0;
    if (n) qsort(t, (size_t)n, sizeof *t, by_offset);
    for (int k = 0; k < n; k++) {
        uint64_t numel = 1;
        for (int d = 0; d < t[k].ndim; d++) {
            if (t[k].shape[d] > (1u << 30)) { mc_set_err(err, "%s: tensor '%.200s' is too large", name, t[k].name); goto done; }
            numel *= t[k].shape[d];
            if (numel > ((uint64_t)1 << 40)) { mc_set_err(err, "%s: tensor '%.200s' is too large", name, t[k].name); goto done; }
        }
        if (t[k].begin != at || t[k].end < t[k].begin || t[k].end - t[k].begin != numel * (uint64_t)mc_dtype_size(t[k].dtype)) {
            mc_set_err(err, "%s: tensor '%.200s': data_offsets [%llu, %llu] do not follow on from %llu with the %llu bytes its "
                       "shape and dtype need", name, t[k].name, (unsigned long long)t[k].begin, (unsigned long long)t[k].end,
                       (unsigned long long)at, (unsigned long long)(numel * (uint64_t)mc_dtype_size(t[k].dtype)));
            goto done;
        }
        if (t[k].end > data_len) { mc_set_err(err, "%s: tensor '%.200s' runs past the end of the file (truncated?)", name, t[k].name); goto done; }
        at = t[k].end;
        total += numel;
    }
    if (at != data_len) {
        mc_set_err(err, "%s: the data block holds %llu bytes but the tensors cover %llu (truncated or padded?)", name,
                   (unsigned long long)data_len, (unsigned long long)at);
        goto done;
    }
    c->entries = mc_calloc((size_t)n + 1, sizeof *c->entries);
    float *data = c->file = mc_malloc((size_t)(total ? total : 1) * sizeof(float));
    const unsigned char *base = buf + 8 + hlen;
    for (int k = 0; k < n; k++) {
        mc_ckpt_entry *e = &c->entries[k];
        e->name = t[k].name;
        t[k].name = NULL;
        c->n = k + 1;
        e->ndim = t[k].ndim;
        e->size = 1;
        for (int d = 0; d < e->ndim; d++) { e->shape[d] = (int)t[k].shape[d]; e->size *= e->shape[d]; }
        e->integer = t[k].dtype >= MC_I64;
        e->data = data;
        for (int64_t i = 0; i < e->size; i++) data[i] = mc_dtype_get(t[k].dtype, base + t[k].begin, i);
        data += e->size;
    }
    const char *dup;
    if (!mc_ckpt_names_unique(c, &dup)) { mc_set_err(err, "%s: the name '%.200s' appears twice", name, dup); goto done; }
    c->config = config;
    config = NULL;
    r = 0;
done:
    if (r) mc_ckpt_free(c);
    for (int k = 0; k < n; k++) free(t[k].name);
    free(t);
    free(config);
    return r;
}

static void json_string(mc_buf *b, const char *s)
{
    mc_buf_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        char esc[8];
        if (ch == '"' || ch == '\\') { esc[0] = '\\'; esc[1] = (char)ch; mc_buf_put(b, esc, 2); }
        else if (ch < 0x20) { snprintf(esc, sizeof esc, "\\u%04x", ch); mc_buf_put(b, esc, 6); }
        else mc_buf_put(b, &ch, 1);
    }
    mc_buf_put(b, "\"", 1);
}

int mc_safetensors_save(const char *path, const mc_ckpt *c, char *err)
{
    mc_buf h = {0}, data = {0};
    char num[64];
    const char *meta = "{\"__metadata__\":{\"format\":\"pt\"", *key = ",\"mache_config\":";
    mc_buf_put(&h, meta, strlen(meta));
    if (c->config && c->config[0]) { mc_buf_put(&h, key, strlen(key)); json_string(&h, c->config); }
    mc_buf_put(&h, "}", 1);
    uint64_t at = 0;
    for (int k = 0; k < c->n; k++) {
        const mc_ckpt_entry *e = &c->entries[k];
        mc_buf_put(&h, ",", 1);
        json_string(&h, e->name);
        const char *head = e->integer ? ":{\"dtype\":\"I64\",\"shape\":[" : ":{\"dtype\":\"F32\",\"shape\":[";
        mc_buf_put(&h, head, strlen(head));
        for (int d = 0; d < e->ndim; d++) {
            int len = snprintf(num, sizeof num, "%s%d", d ? "," : "", e->shape[d]);
            mc_buf_put(&h, num, (size_t)len);
        }
        uint64_t bytes = (uint64_t)e->size * (e->integer ? 8 : 4);
        int len = snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)at, (unsigned long long)(at + bytes));
        mc_buf_put(&h, num, (size_t)len);
        at += bytes;
        if (e->integer) for (int64_t i = 0; i < e->size; i++) mc_buf_put_uint(&data, (uint64_t)mc_float_to_int64(e->data[i]), 8);
    }
    mc_buf_put(&h, "}", 1);
    while ((8 + h.n) % 8) mc_buf_put(&h, " ", 1);      /* the data starts 8-byte aligned, as the reference writer pads */
    unsigned char len8[8];
    for (int b = 0; b < 8; b++) len8[b] = (unsigned char)((uint64_t)h.n >> (8 * b));
    /* Float tensors go out straight from memory on a little-endian host; integers were converted above. */
    int n = 0, big_endian = 0;
    { const uint16_t one = 1; unsigned char b0; memcpy(&b0, &one, 1); big_endian = b0 != 1; }
    mc_chunk *chunks = mc_calloc((size_t)c->n + 2, sizeof *chunks);
    chunks[n++] = (mc_chunk){len8, 8};
    chunks[n++] = (mc_chunk){h.p, h.n};
    mc_buf swapped = {0};
    for (int k = 0; big_endian && k < c->n; k++)
        for (int64_t i = 0; !c->entries[k].integer && i < c->entries[k].size; i++) {
            uint32_t u;
            memcpy(&u, &c->entries[k].data[i], 4);
            mc_buf_put_uint(&swapped, u, 4);
        }
    size_t int_at = 0, swapped_at = 0;
    for (int k = 0; k < c->n; k++) {
        const mc_ckpt_entry *e = &c->entries[k];
        if (e->integer) { chunks[n++] = (mc_chunk){data.p + int_at, (size_t)e->size * 8}; int_at += (size_t)e->size * 8; }
        else if (!big_endian) chunks[n++] = (mc_chunk){e->data, (size_t)e->size * 4};
        else { chunks[n++] = (mc_chunk){swapped.p + swapped_at, (size_t)e->size * 4}; swapped_at += (size_t)e->size * 4; }
    }
    int r = mc_file_save_chunks(path, chunks, n, err);
    free(chunks); free(h.p); free(data.p); free(swapped.p);
    return r;
}
