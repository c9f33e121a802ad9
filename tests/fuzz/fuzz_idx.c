/* libFuzzer target for the IDX reader and the gzip inflate under it: make fuzz. A failed read must
 * leave the result empty with a one-line message; a successful one must hold exactly the bytes its
 * dimensions promise (ASan checks each is there) with an item (all dimensions but the first) that
 * fits an int, and for a raw file, exactly the file's bytes. */
#include "datasets/gzip.h"
#include "datasets/idx.h"
#include "tensor/tensor.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mc_idx idx;
    char err[MC_ERRLEN];
    err[0] = 0;
    if (mc_idx_parse("fuzz.idx", data, size, &idx, err) != 0) {
        if (idx.data || idx.ndim || idx.size || !err[0] || strchr(err, '\n')) abort();
        return 0;
    }
    if (idx.ndim < 1 || idx.ndim > 4 || !idx.data) abort();
    int64_t item = 1;                       /* the reader promises an item fits an int */
    for (int d = 1; d < idx.ndim; d++) if ((item *= idx.dims[d]) > INT_MAX) abort();
    if (idx.dims[0] * item != idx.size) abort();
    unsigned sum = 0;
    for (int64_t k = 0; k < idx.size; k++) sum += idx.data[k];
    if (!mc_is_gzip(data, size) && memcmp(idx.data, data + 4 + 4 * idx.ndim, (size_t)idx.size)) abort();
    mc_idx_free(&idx);
    return (int)(sum & 0);
}
