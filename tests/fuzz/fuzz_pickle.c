/* libFuzzer target for the restricted unpickler: make fuzz. Unpickles one object after another, as the
 * legacy format stores them, and walks what comes out. */
#include "nn/pickle.h"
#include "tensor/tensor.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t at = 0;
    for (int k = 0; k < 8 && at < size; k++) {
        mc_pickle p;
        size_t used = 0;
        char err[MC_ERRLEN] = "";
        if (mc_pickle_load("fuzz.pkl", data + at, size - at, &used, &p, err)) {
            if (p.root || p.nodes || !err[0] || strchr(err, '\n')) abort();
            return 0;
        }
        if (!p.root || used == 0 || used > size - at) abort();
        volatile size_t sink = 0;
        for (int i = 0; i < p.n; i++) {                 /* every value well formed */
            const mc_pk *v = p.nodes[i];
            if (v->type == MC_PK_STR && v->len && (v->s < data || v->s + v->len > data + size)) abort();
            if (v->type == MC_PK_DICT && v->n % 2) abort();
            for (int j = 0; j < v->n; j++) sink += (size_t)v->items[j]->type;
            if (v->type == MC_PK_TENSOR && (!v->storage || v->storage->type != MC_PK_STORAGE || v->ndim > MC_PK_MAX_DIMS)) abort();
        }
        (void)sink;
        mc_pickle_free(&p);
        at += used;
    }
    return 0;
}
