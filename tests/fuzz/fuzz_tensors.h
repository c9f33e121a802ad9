/* What the tensor-file fuzz targets check (make fuzz): a failed read leaves the checkpoint empty with a
 * one-line message; a successful one holds well-formed entries (every value readable, which the address
 * sanitizer checks) and, written back out as safetensors and as .pth, reads back bit for bit. */
#ifndef MACHE_FUZZ_TENSORS_H
#define MACHE_FUZZ_TENSORS_H
#include "nn/interop.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check_ckpt(const mc_ckpt *c)
{
    volatile float sink = 0;
    for (int k = 0; k < c->n; k++) {
        const mc_ckpt_entry *e = &c->entries[k];
        if (!e->name || !e->name[0] || e->ndim < 0 || e->ndim > MC_MAX_DIMS) abort();
        int64_t size = 1;
        for (int d = 0; d < e->ndim; d++) { if (e->shape[d] < 0) abort(); size *= e->shape[d]; }
        if (size != e->size || (size && !e->data)) abort();
        for (int64_t i = 0; i < size; i++) sink += e->data[i];
    }
    (void)sink;
}

static int fuzz_same(const mc_ckpt *a, const mc_ckpt *b)
{
    if (a->n != b->n) return 0;
    for (int k = 0; k < a->n; k++) {
        const mc_ckpt_entry *x = &a->entries[k], *y = mc_ckpt_find(b, x->name);
        if (!y || x->ndim != y->ndim || x->size != y->size || x->integer != y->integer) return 0;
        for (int d = 0; d < x->ndim; d++) if (x->shape[d] != y->shape[d]) return 0;
        /* integers travel as int64 and back; floats bit for bit */
        if (!x->integer && x->size && memcmp(x->data, y->data, (size_t)x->size * 4)) return 0;
    }
    return 1;
}

static void fuzz_round_trip(const mc_ckpt *c)
{
    char path[64], err[MC_ERRLEN];
    const char *ext[2] = {"safetensors", "pth"};
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "/dev/shm/mache_fuzz_%d.%s", (int)getpid(), ext[k]);
        if (k ? mc_torch_save(path, c, err) : mc_safetensors_save(path, c, err)) { fprintf(stderr, "%s\n", err); abort(); }
        mc_ckpt back;
        if (mc_tensors_read(path, &back, err)) { fprintf(stderr, "round trip: %s\n", err); abort(); }
        if (!fuzz_same(c, &back)) abort();
        mc_ckpt_free(&back);
        unlink(path);
    }
}

/* r and err from a reader; the checkpoint is checked, round-tripped when asked, and freed. */
static int fuzz_result(int r, mc_ckpt *c, const char *err, int round_trip)
{
    if (r) {
        if (c->entries || c->n || c->file || c->config || !err[0] || strchr(err, '\n')) abort();
        return 0;
    }
    fuzz_check_ckpt(c);
    if (round_trip) fuzz_round_trip(c);
    mc_ckpt_free(c);
    return 0;
}

#endif
