/* libFuzzer target for the zip reader: make fuzz. Every entry it lists is read (and its CRC checked). */
#include "nn/zipfile.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mc_zip z;
    char err[MC_ERRLEN] = "";
    if (mc_zip_parse("fuzz.zip", data, size, &z, err)) {
        if (z.entries || z.n || !err[0] || strchr(err, '\n')) abort();
        return 0;
    }
    volatile unsigned sink = 0;
    for (int k = 0; k < z.n; k++) {
        mc_zip_entry *e = &z.entries[k];
        if (!e->name[0] || e->data < data || e->data + e->size > data + size) abort();
        err[0] = 0;
        const unsigned char *bytes = mc_zip_data("fuzz.zip", e, err);
        if (!bytes && (!err[0] || strchr(err, '\n'))) abort();
        for (size_t i = 0; bytes && i < e->size; i++) sink += bytes[i];
    }
    (void)sink;
    mc_zip_free(&z);
    return 0;
}
